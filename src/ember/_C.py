"""The few names of torch._C that Python libraries use directly."""
from ._ops.decomp import LinAlgError as _LinAlgError
from ._random import Generator


def _get_tracing_state():
    """Ember never traces (torch.jit.trace runs eagerly)."""
    return None


__all__ = ["_LinAlgError", "Generator", "_get_tracing_state"]
