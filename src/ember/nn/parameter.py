"""Parameter and Buffer: tensors that a Module registers when they are assigned to it."""
from .._tensor import Tensor, _host, _new
from .. import _creation


class Parameter(Tensor):
    """A Tensor that is a module's parameter: ``requires_grad`` defaults to True.

    It shares its array (storage) with the tensor it was made from, as torch's does.
    """

    _is_param = True

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = _creation.empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter(): argument 'data' must be Tensor, not {type(data).__name__}")
        p = _new(cls)
        p._data = data._data
        p._vc = data._vc
        p.requires_grad_(requires_grad)
        return p

    def __init__(self, data=None, requires_grad=True):
        pass

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, proto):
        return (_rebuild_parameter, (_host(self._data), self._requires_grad, self.device))


def _rebuild_parameter(data, requires_grad, dev):
    from .._tensor import _rebuild
    return Parameter(_rebuild(data, False, dev), requires_grad)


class Buffer(Tensor):
    """``nn.Buffer(t, persistent=True)``: marks a tensor to be registered as a buffer."""

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            data = _creation.empty(0)
        b = _new(cls)
        b._data = data._data
        b._vc = data._vc
        b._requires_grad = data._requires_grad
        b.persistent = persistent
        return b

    def __init__(self, data=None, *, persistent=True):
        pass


def is_lazy(param):
    return False
