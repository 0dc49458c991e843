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


_UNINIT_USE_MSG = (
    "Attempted to use an uninitialized parameter in {}. This error happens when you are using "
    "a `LazyModule` or explicitly manipulating `torch.nn.parameter.UninitializedParameter` "
    "objects. When using LazyModules Call `forward` with a dummy batch to initialize the "
    "parameters before calling torch functions")

_UNINIT_SHAPE_MSG = (
    "Can't access the shape of an uninitialized parameter or buffer. This error usually happens "
    "in `load_state_dict` when trying to load an uninitialized parameter into an initialized "
    "one. Call `forward` to initialize the parameters before accessing their attributes.")


class UninitializedTensorMixin:
    """A placeholder whose shape is not known yet: it has no array until ``materialize``,
    which turns the object itself into ``cls_to_become`` (so modules keep the same object)."""

    cls_to_become = None

    @property
    def _data(self):
        # Every op reads ``_data``; reaching here means the placeholder was used as a tensor.
        import sys
        caller = sys._getframe(1).f_code.co_name
        raise ValueError(_UNINIT_USE_MSG.format(caller))

    @property
    def shape(self):
        raise RuntimeError(_UNINIT_SHAPE_MSG)

    def size(self, dim=None):
        raise RuntimeError(_UNINIT_SHAPE_MSG)

    @property
    def dtype(self):
        return self.__dict__["_uninit_dtype"]

    @property
    def device(self):
        return self.__dict__["_uninit_device"]

    @property
    def is_leaf(self):
        return True

    def _init_placeholder(self, requires_grad, device, dtype):
        from .. import _dtype as D
        from .._device import as_device as make_device
        self.__dict__["_uninit_dtype"] = dtype if dtype is not None else D.get_default_dtype()
        self.__dict__["_uninit_device"] = make_device(device if device is not None else "cpu")
        self._vc = [0]
        self._requires_grad = requires_grad

    def materialize(self, shape, device=None, dtype=None):
        """Give the placeholder an (uninitialized) array of ``shape`` and make it a plain
        Parameter/Tensor in place."""
        d = self.__dict__
        t = _creation.empty(shape, device=device if device is not None else d["_uninit_device"],
                            dtype=dtype if dtype is not None else d["_uninit_dtype"])
        del d["_uninit_dtype"], d["_uninit_device"]
        self.__class__ = self.cls_to_become
        self._data = t._data
        self._vc = [0]

    def __repr__(self):
        return f"<{type(self).__name__}>"

    def __deepcopy__(self, memo):
        d = self.__dict__
        return type(self)(self._requires_grad, d["_uninit_device"], d["_uninit_dtype"])

    def __reduce_ex__(self, proto):
        d = self.__dict__
        return (type(self), (self._requires_grad, d["_uninit_device"], d["_uninit_dtype"]))


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A Parameter whose shape a lazy module infers on its first forward."""

    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        p = _new(cls)
        p._init_placeholder(requires_grad, device, dtype)
        return p

    def __init__(self, requires_grad=True, device=None, dtype=None):
        pass


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer whose shape a lazy module infers on its first forward."""

    cls_to_become = Tensor

    def __new__(cls, requires_grad=False, device=None, dtype=None, persistent=True):
        b = _new(cls)
        b._init_placeholder(requires_grad, device, dtype)
        b.persistent = persistent
        return b

    def __init__(self, requires_grad=False, device=None, dtype=None, persistent=True):
        pass


def is_lazy(param):
    return isinstance(param, UninitializedTensorMixin)
