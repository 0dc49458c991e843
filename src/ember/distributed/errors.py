"""torch.distributed's exception classes (all RuntimeErrors, as torch's)."""


class DistError(RuntimeError):
    """Raised when an error occurs in the distributed library."""


class DistBackendError(DistError):
    """Raised when a backend error occurs: a failed or timed-out collective."""


class DistNetworkError(DistError):
    """Raised when a network error occurs."""


class DistStoreError(DistError):
    """Raised when an error occurs in the distributed store."""
