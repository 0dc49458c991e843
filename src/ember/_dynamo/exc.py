"""torch._dynamo.exc: the errors ember.compile raises."""
from .._runtime import InvalidBackend  # noqa: F401  (torch's name for it lives here too)


class TorchDynamoException(RuntimeError):
    pass


class Unsupported(TorchDynamoException):
    """Something a compiled function did cannot be captured (``fullgraph=True``)."""
