"""Tensor factories: tensor/as_tensor/from_numpy, zeros/ones/full/empty (+ _like),
arange/linspace/logspace/eye, and the legacy constructors (Tensor(...), FloatTensor...)."""
import builtins
import math
import warnings

import numpy as np

from . import _dtype as D
from ._device import CPU, as_device, device_of, module_for, to_device_array
from ._tensor import Tensor, _make

__all__ = ["tensor", "as_tensor", "asarray", "from_numpy", "zeros", "ones", "full", "empty",
           "zeros_like", "ones_like", "full_like", "empty_like", "arange", "range",
           "linspace", "logspace", "eye", "scalar_tensor", "FloatTensor", "DoubleTensor",
           "HalfTensor", "BFloat16Tensor", "LongTensor", "IntTensor", "ShortTensor", "CharTensor",
           "ByteTensor", "BoolTensor"]


def _finish(arr, dtype, device, requires_grad):
    dev = as_device(device)
    if dev is not None and dev.type != "cpu":
        arr = to_device_array(arr, dev)
    t = _make(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _infer_np_dtype(data):
    """torch's inference for Python data: floats take the default dtype."""
    arr = np.asarray(data)
    kind = arr.dtype.kind
    if kind == "f" and not _has_np_float(data):
        return arr, D.get_default_dtype().np
    if kind == "c":
        return arr, D.default_complex_dtype().np
    if kind in "iu" and not isinstance(data, np.ndarray):
        return arr, np.dtype(np.int64)
    if kind in "OUS":
        raise TypeError(f"new(): invalid data type '{arr.dtype.name if kind != 'O' else 'object'}'")
    return arr, arr.dtype


def _has_np_float(data):
    return isinstance(data, (np.ndarray, np.floating))


def _flatten_tensors(data):
    """Lists that hold tensors: replace them with their values."""
    if isinstance(data, Tensor):
        return data._data if isinstance(data._data, np.ndarray) else data._data.get()
    if isinstance(data, (list, tuple)):
        return [_flatten_tensors(x) for x in data]
    return data


def _check_ragged(data, dim=0):
    if isinstance(data, (list, tuple)) and data and isinstance(data[0], (list, tuple)):
        n = len(data[0])
        for x in data:
            if not isinstance(x, (list, tuple)):
                raise TypeError(f"not a sequence")
            if len(x) != n:
                raise ValueError(f"expected sequence of length {n} at dim {dim + 1} (got {len(x)})")
        for x in data:
            _check_ragged(x, dim + 1)


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """Copy ``data`` (nested lists, scalars, arrays, tensors) into a new leaf tensor."""
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use "
                      "sourceTensor.clone().detach() or sourceTensor.clone().detach()."
                      "requires_grad_(True), rather than torch.tensor(sourceTensor).",
                      UserWarning, stacklevel=2)
        arr = data._data.copy()
        if dtype is not None:
            arr = arr.astype(dtype.np)
        dev = as_device(device)
        t = _make(arr if dev is None else to_device_array(arr, dev))
        if requires_grad:
            t.requires_grad_(True)
        return t
    if isinstance(data, (list, tuple)):
        _check_ragged(data)
        data = _flatten_tensors(data)
    elif not isinstance(data, (np.ndarray, np.generic, int, float, complex, bool)):
        if hasattr(data, "__array__") or hasattr(data, "__cuda_array_interface__"):
            data = np.asarray(data.get() if hasattr(data, "get") else data)
        else:
            raise TypeError(f"Could not infer dtype of {type(data).__name__}")
    if isinstance(data, np.ndarray) and data.dtype.kind in "OUS":
        raise TypeError(f"can't convert np.ndarray of type numpy.{data.dtype.name}. The only "
                        "supported types are: float64, float32, float16, complex64, complex128, "
                        "int64, int32, int16, int8, uint8, and bool.")
    arr, npd = _infer_np_dtype(data)
    if dtype is not None:
        npd = dtype.np
    arr = np.array(arr, dtype=npd, copy=True)
    return _finish(arr, dtype, device, requires_grad)


def as_tensor(data, dtype=None, device=None):
    """Share memory with ``data`` when it already has the right dtype and device."""
    if isinstance(data, Tensor):
        out = data
        if dtype is not None:
            out = out.to(dtype)
        if device is not None:
            out = out.to(device)
        return out
    if isinstance(data, np.ndarray) and (dtype is None or data.dtype == dtype.np) and \
            (device is None or as_device(device).type == "cpu"):
        return from_numpy(data)
    return tensor(data, dtype=dtype, device=device)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False):
    if copy:
        t = tensor(obj, dtype=dtype, device=device) if not isinstance(obj, Tensor) else \
            obj.clone().detach().to(dtype or obj.dtype)
    else:
        t = as_tensor(obj, dtype=dtype, device=device)
    if requires_grad:
        t.requires_grad_(True)
    return t


def from_numpy(ndarray):
    """A tensor that shares memory with ``ndarray``."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    D.from_numpy_dtype(ndarray.dtype)
    return _make(ndarray)


def _size(size):
    if len(size) == 1 and isinstance(size[0], (list, tuple)):
        size = tuple(size[0])
    out = []
    for s in size:
        if isinstance(s, Tensor):
            s = s.__index__()
        if not isinstance(s, (int, np.integer)):
            raise TypeError(f"{'empty'}(): argument 'size' must be tuple of ints, but found "
                            f"element of type {type(s).__name__} at pos {len(out)}")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: "
                               f"{list(size)}")
        out.append(int(s))
    return tuple(out)


def _factory(fill):
    def make(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
             pin_memory=False, memory_format=None):
        shape = _size(size)
        d = dtype or D.get_default_dtype()
        xp = module_for(as_device(device))
        arr = fill(xp, shape, d.np)
        t = _make(arr)
        if requires_grad:
            t.requires_grad_(True)
        return t
    return make


zeros = _factory(lambda xp, s, d: xp.zeros(s, dtype=d))
ones = _factory(lambda xp, s, d: xp.ones(s, dtype=d))
# Uninitialised memory would make results depend on garbage; zeros cost the same here.
empty = _factory(lambda xp, s, d: xp.zeros(s, dtype=d))
zeros.__name__, ones.__name__, empty.__name__ = "zeros", "ones", "empty"


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False):
    if dtype is None:
        dtype = D.scalar_dtype(fill_value) if not isinstance(fill_value, Tensor) else \
            fill_value.dtype
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    xp = module_for(as_device(device))
    t = _make(xp.full(_size((size,) if isinstance(size, int) else tuple(size)), fill_value,
                      dtype=dtype.np))
    if requires_grad:
        t.requires_grad_(True)
    return t


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    return full((), s, dtype=dtype or D.get_default_dtype(), device=device,
                requires_grad=requires_grad)


def _like(fill_name):
    def make(input, *, dtype=None, layout=None, device=None, requires_grad=False,
             memory_format=None):
        d = dtype or input.dtype
        dev = as_device(device) or input.device
        xp = module_for(dev)
        arr = xp.zeros(input._data.shape, dtype=d.np) if fill_name != "ones" else \
            xp.ones(input._data.shape, dtype=d.np)
        t = _make(arr)
        if requires_grad:
            t.requires_grad_(True)
        return t
    make.__name__ = fill_name + "_like"
    return make


zeros_like = _like("zeros")
ones_like = _like("ones")
empty_like = _like("empty")


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    d = dtype or input.dtype
    dev = as_device(device) or input.device
    t = _make(module_for(dev).full(input._data.shape, fill_value, dtype=d.np))
    if requires_grad:
        t.requires_grad_(True)
    return t


def _num(x):
    return x.item() if isinstance(x, Tensor) else x


def arange(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad=False):
    """arange(end) / arange(start, end, step): int64 for integer arguments, else default float."""
    if end is None:
        start, end = 0, start
    start, end, step = _num(start), _num(end), _num(step)
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) / step < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    if dtype is None:
        if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
               for v in (start, end, step)):
            dtype = D.int64
        else:
            dtype = D.get_default_dtype()
    n = math.ceil((end - start) / step)
    xp = module_for(as_device(device))
    # computed in float64 then cast, so float32 steps accumulate no error (as torch)
    arr = (start + step * xp.arange(n, dtype=np.float64)).astype(dtype.np) \
        if dtype.category >= 2 else xp.arange(start, end, step, dtype=dtype.np)
    t = _make(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def range(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    warnings.warn("torch.range is deprecated and will be removed in a future release because its "
                  "behavior is inconsistent with Python's range builtin. Instead, use torch.arange, "
                  "which produces values in [start, end).", UserWarning, stacklevel=2)
    if end is None:
        start, end = 0, start
    n = int(math.floor((end - start) / step)) + 1
    d = dtype or D.get_default_dtype()
    return _finish(module_for(as_device(device)).asarray(
        start + step * np.arange(n, dtype=np.float64)).astype(d.np), d, None, requires_grad)


def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False):
    if steps < 0:
        raise RuntimeError("linspace(): number of steps must be non-negative")
    d = dtype or D.get_default_dtype()
    start, end = _num(start), _num(end)
    arr = np.linspace(start, end, steps, dtype=np.float64 if d.category < 3 else np.complex128)
    if d.category == D._INT:
        arr = np.trunc(arr)
    return _finish(arr.astype(d.np), d, device, requires_grad)


def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False):
    d = dtype or D.get_default_dtype()
    arr = np.power(float(base), np.linspace(_num(start), _num(end), steps, dtype=np.float64))
    return _finish(arr.astype(d.np), d, device, requires_grad)


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    if n < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    if m is not None and m < 0:
        raise RuntimeError(f"m must be greater or equal to 0, got {m}")
    d = dtype or D.get_default_dtype()
    t = _make(module_for(as_device(device)).eye(n, m, dtype=d.np))
    if requires_grad:
        t.requires_grad_(True)
    return t


# ---- legacy constructors ------------------------------------------------------------
def legacy_new(cls, dtype, args, kwargs):
    """``Tensor(...)`` / ``FloatTensor(...)``: from data, from sizes, or empty."""
    device = kwargs.pop("device", None)
    if kwargs:
        raise TypeError(f"new() received an invalid combination of arguments - got unexpected "
                        f"keyword arguments {', '.join(kwargs)}")
    if not args:
        return _legacy_cast(cls, zeros(0, dtype=dtype, device=device))
    if len(args) == 1 and isinstance(args[0], Tensor):
        src = args[0]
        if src.dtype is not dtype:
            raise TypeError(f"expected {dtype._legacy} (got {src.dtype._legacy})")
        return _legacy_cast(cls, src.detach())
    if all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in args):
        return _legacy_cast(cls, zeros(*args, dtype=dtype, device=device))
    if len(args) == 1 and isinstance(args[0], tuple(_SIZE_TYPES())):
        return _legacy_cast(cls, zeros(tuple(args[0]), dtype=dtype, device=device))
    if len(args) == 1:
        data = args[0]
        if isinstance(data, (int, float, bool, complex)):
            raise TypeError(f"new(): data must be a sequence (got {type(data).__name__})")
        return _legacy_cast(cls, tensor(data, dtype=dtype, device=device))
    raise TypeError("new() received an invalid combination of arguments")


def _SIZE_TYPES():
    from ._tensor import Size
    return (Size,)


def _legacy_cast(cls, t):
    if cls is Tensor or not isinstance(cls, type) or not issubclass(cls, Tensor):
        return t
    out = object.__new__(cls)
    out.__dict__.update(t.__dict__)
    return out


class _LegacyTensorMeta(type):
    def __instancecheck__(cls, other):
        return isinstance(other, Tensor) and other.dtype is cls._ember_dtype and \
            other.device.type == "cpu"

    def __call__(cls, *args, **kwargs):
        return legacy_new(Tensor, cls._ember_dtype, args, kwargs)


def _legacy_type(name, dt):
    return _LegacyTensorMeta(name, (), {"_ember_dtype": dt, "__module__": "torch",
                                        "dtype": dt, "is_cuda": False})


FloatTensor = _legacy_type("FloatTensor", D.float32)
DoubleTensor = _legacy_type("DoubleTensor", D.float64)
HalfTensor = _legacy_type("HalfTensor", D.float16)
BFloat16Tensor = _legacy_type("BFloat16Tensor", D.bfloat16)
LongTensor = _legacy_type("LongTensor", D.int64)
IntTensor = _legacy_type("IntTensor", D.int32)
ShortTensor = _legacy_type("ShortTensor", D.int16)
CharTensor = _legacy_type("CharTensor", D.int8)
ByteTensor = _legacy_type("ByteTensor", D.uint8)
BoolTensor = _legacy_type("BoolTensor", D.bool)

_LEGACY_NAMES = {f"torch.{c.__name__}": c._ember_dtype for c in (
    FloatTensor, DoubleTensor, HalfTensor, BFloat16Tensor, LongTensor, IntTensor, ShortTensor,
    CharTensor, ByteTensor, BoolTensor)}


def legacy_type_from_name(name):
    try:
        return _LEGACY_NAMES[name]
    except KeyError:
        raise ValueError(f"invalid type: '{name}'") from None
