"""Tensor factories: tensor/as_tensor/from_numpy, zeros/ones/full/empty (+ _like),
arange/linspace/logspace/eye, and the legacy constructors (Tensor(...), FloatTensor...)."""
import builtins
import itertools
import math
import warnings

import numpy as np

from . import _dtype as D
from ._device import as_device, device_scope, factory_device, module_for, to_device_array
from .autograd import grad_mode
from ._tensor import Size, Tensor, _host, _make, mark_pinned
from ._ops._common import with_out

__all__ = ["tensor", "as_tensor", "asarray", "from_numpy", "zeros", "ones", "full", "empty",
           "zeros_like", "ones_like", "full_like", "empty_like", "arange", "range",
           "linspace", "logspace", "eye", "scalar_tensor", "FloatTensor", "DoubleTensor",
           "HalfTensor", "BFloat16Tensor", "LongTensor", "IntTensor", "ShortTensor", "CharTensor",
           "ByteTensor", "BoolTensor"]


def requires_grad_leaf(t):
    """requires_grad=True given to a factory (torch words this error differently)."""
    if t._data.dtype.kind not in "fcV":
        raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                           "gradients")
    t._requires_grad = True
    return t


def _leaf(arr, requires_grad):
    """Every factory's last step: a new leaf (an inference tensor inside inference_mode)."""
    t = _make(arr)
    if requires_grad:
        requires_grad_leaf(t)
    if grad_mode._state.inference:
        t._inference = True
    return t


def _finish(arr, dtype, device, requires_grad):
    dev = factory_device(device)
    if dev is not None:
        arr = to_device_array(arr, dev)
    return _leaf(arr, requires_grad)


def _made_on(dev, make):
    """``make(xp)`` with ``dev``'s array module, allocating on ``dev`` (CuPy allocates on
    its current device)."""
    with device_scope(dev):
        return make(module_for(dev))


def _pinned_if(t, pin_memory):
    """``pin_memory=True`` of a factory: a host tensor marked pinned (see Tensor.pin_memory)."""
    if pin_memory:
        from .cuda import is_available
        if not is_available():
            raise RuntimeError("pin_memory=True requires a CUDA or other accelerator backend; "
                               "no pinned memory allocator is available on this system.")
        mark_pinned(t)
    return t


_PY_SCALAR_DTYPE = {builtins.bool: "bool", builtins.int: "int64", builtins.float: "float",
                    builtins.complex: "complex"}


def _is_seq(x):
    return isinstance(x, (list, tuple, builtins.range)) or \
        (isinstance(x, np.ndarray) and x.ndim > 0)


def _leaf_dtype(x):
    """The dtype torch infers for one element of the data given to ``tensor``."""
    t = type(x)
    name = _PY_SCALAR_DTYPE.get(t)
    if name is not None:
        if name == "float":
            return D.get_default_dtype()
        if name == "complex":
            return D.default_complex_dtype()
        return D.bool if name == "bool" else D.int64
    if isinstance(x, Tensor):
        return x.dtype
    if isinstance(x, (np.generic, np.ndarray)):
        return D.from_numpy_dtype(x.dtype)
    if isinstance(x, (builtins.str, bytes)):
        raise TypeError(f"new(): invalid data type '{t.__name__}'")
    raise RuntimeError(f"Could not infer dtype of {t.__name__}")


class _Scan:
    """One walk over nested data: torch's shape checks, inferred dtype, tensors found."""

    def __init__(self, data):
        self.shape = []
        x = data
        while _is_seq(x):
            if isinstance(x, np.ndarray):
                self.shape.extend(x.shape)
                break
            self.shape.append(len(x))
            if not len(x):
                break
            x = x[0]
        self.dtype = None
        self.has_tensor = False
        self.nested_leaf = None   # a sequence where a number belongs
        self._walk(data, 0)

    def _add(self, d):
        self.dtype = d if self.dtype is None else D.promote_types(self.dtype, d)

    def _walk(self, x, dim):
        shape = self.shape
        if isinstance(x, np.ndarray) and x.ndim:
            if tuple(x.shape) != tuple(shape[dim:]):
                raise ValueError(f"expected sequence of length {shape[dim]} at dim {dim} "
                                 f"(got {x.shape[0]})")
            self._add(_leaf_dtype(x))
            return
        if dim == len(shape) - 1:
            if len(x) != shape[dim]:
                raise ValueError(f"expected sequence of length {shape[dim]} at dim {dim} "
                                 f"(got {len(x)})")
            types = set(map(type, x))
            if types <= _PY_SCALARS:   # the common case, without a Python-level loop
                for t in types:
                    self._add(_leaf_dtype(t()))
                return
            for item in x:
                self._leaf(item)
            return
        if dim == len(shape) - 2 and set(map(type, x)) <= _LISTS and \
                set(map(len, x)) == {shape[-1]}:
            # rows of plain Python numbers, checked without a Python-level loop
            types = set(map(type, itertools.chain.from_iterable(x)))
            if types <= _PY_SCALARS:
                for t in types:
                    self._add(_leaf_dtype(t()))
                return
        for item in x:
            if not _is_seq(item):
                raise TypeError("not a sequence")
            if len(item) != shape[dim + 1] and not isinstance(item, np.ndarray):
                raise ValueError(f"expected sequence of length {shape[dim + 1]} at dim "
                                 f"{dim + 1} (got {len(item)})")
            self._walk(item, dim + 1)

    def _leaf(self, item):
        if _is_seq(item):
            self.nested_leaf = item
            return
        if isinstance(item, Tensor):
            self.has_tensor = True
            if item._data.size != 1:
                if item._data.dtype.kind in "biu":
                    raise TypeError("only integer tensors of a single element can be "
                                    "converted to an index")
                raise ValueError("only one element tensors can be converted to Python scalars")
        self._add(_leaf_dtype(item))


_PY_SCALARS = {builtins.bool, builtins.int, builtins.float, builtins.complex}
_LISTS = {list, tuple}


def _to_array(data, npd):
    try:
        return np.array(data, dtype=npd)
    except OverflowError:
        name = D.NP_TO_DTYPE[npd].name
        if name == "int64":
            raise ValueError("Overflow when unpacking long long") from None
        raise RuntimeError(f"value cannot be converted to type {name} without overflow") \
            from None


def _flatten_tensors(data):
    """Lists that hold (one-element) tensors: replace them with their values."""
    if isinstance(data, Tensor):
        return _host(data._data).reshape(())
    if isinstance(data, (list, tuple)):
        return [_flatten_tensors(x) for x in data]
    return data


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """Copy ``data`` (nested lists, scalars, arrays, tensors) into a new leaf tensor.

    The dtype is inferred as torch does: Python floats take the default dtype, ints
    int64, and NumPy arrays/scalars and tensors keep theirs, promoted together.
    """
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use "
                      "sourceTensor.detach().clone() or sourceTensor.detach().clone()."
                      "requires_grad_(True), rather than torch.tensor(sourceTensor).",
                      UserWarning, stacklevel=2)
        with device_scope(data.device):
            arr = data._data.copy()
            if dtype is not None:
                arr = arr.astype(dtype.np)
        # torch keeps the source's device unless told otherwise
        return _pinned_if(_finish(arr, dtype, device if device is not None else data.device,
                                  requires_grad), pin_memory)
    if _is_seq(data) and not isinstance(data, np.ndarray):
        scan = _Scan(data)
        inferred = scan.dtype or D.get_default_dtype()
        if scan.nested_leaf is not None:
            if (dtype or inferred).category == D._INT:
                raise TypeError(f"'{type(scan.nested_leaf).__name__}' object cannot be "
                                "interpreted as an integer")
            raise TypeError(f"must be real number, not {type(scan.nested_leaf).__name__}")
        if scan.has_tensor:
            data = _flatten_tensors(data)
        if isinstance(data, builtins.range):
            data = list(data)
        npd = (dtype or inferred).np
        arr = _to_array(data, npd)
    else:
        if hasattr(data, "__cuda_array_interface__") and hasattr(data, "get"):
            data = data.get()
        elif not isinstance(data, (np.ndarray, np.generic)) and type(data) not in _PY_SCALARS \
                and hasattr(data, "__array__"):
            data = np.asarray(data)
        inferred = _leaf_dtype(data)
        arr = _to_array(data, (dtype or inferred).np)
    return _pinned_if(_finish(arr, dtype, device, requires_grad), pin_memory)


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
    """torch.asarray: shares memory unless ``copy=True`` or a conversion needs a copy;
    ``copy=False`` makes a needed copy an error."""
    if copy is False and dtype is not None and isinstance(obj, (Tensor, np.ndarray)):
        src = obj.dtype if isinstance(obj, Tensor) else D.from_numpy_dtype(obj.dtype)
        if src is not dtype:
            raise ValueError(f"can't alias tensor with dtype '{src._legacy}' into dtype "
                             f"'{dtype._legacy}'.")
    if copy:
        t = tensor(obj, dtype=dtype, device=device) if not isinstance(obj, Tensor) else \
            obj.clone().detach().to(dtype or obj.dtype)
    else:
        t = as_tensor(obj, dtype=dtype, device=device)
    if requires_grad:
        requires_grad_leaf(t)
    return t


def from_numpy(ndarray):
    """A tensor that shares memory with ``ndarray``."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    D.from_numpy_dtype(ndarray.dtype)
    if not ndarray.flags.writeable:
        warnings.warn("The given NumPy array is not writable, and PyTorch does not support "
                      "non-writable tensors. This means writing to this tensor will result in "
                      "undefined behavior. You may want to copy the array to protect its data or "
                      "make it writable before converting it to a tensor. This type of warning "
                      "will be suppressed for the rest of this program.", UserWarning,
                      stacklevel=2)
    if any(s < 0 for s in ndarray.strides):
        raise ValueError("At least one stride in the given numpy array is negative, and tensors "
                         "with negative strides are not currently supported. (You can probably "
                         "work around this by making a copy of your array  with array.copy().) ")
    return _make(ndarray)


def _size(size, name):
    """torch's size argument: varargs ints, or one tuple/list/Size; torch's errors."""
    if not size:
        raise TypeError(f'{name}() missing 1 required positional arguments: "size"')
    if len(size) == 1 and not isinstance(size[0], (int, np.integer)):
        one = size[0]
        if isinstance(one, (list, tuple)):
            size = tuple(one)
        elif isinstance(one, Tensor) and one._data.dtype.kind in "iu" and one._data.ndim == 0:
            size = (one.__index__(),)
        else:
            raise TypeError(f"{name}(): argument 'size' (position 1) must be tuple of ints, "
                            f"not {type(one).__name__}")
    out = []
    for s in size:
        if isinstance(s, Tensor) and s._data.dtype.kind in "iu" and s._data.ndim == 0:
            s = s.__index__()
        if not isinstance(s, (int, np.integer)) or isinstance(s, builtins.bool):
            raise TypeError(f"{name}(): argument 'size' failed to unpack the object at pos "
                            f"{len(out) + 1} with error \"type must be tuple of ints,but got "
                            f"{type(s).__name__}\"")
        out.append(int(s))
    for s in out:
        if s < 0:
            if name == "zeros":
                raise RuntimeError("zeros: Dimension size must be non-negative.")
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {out}")
    return tuple(out)


# torch's C++ names for the types a fill value must fit
_FILL_NAMES = {"uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int",
               "int64": "int64_t", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
               "float32": "float", "float64": "double"}


def _check_fill(value, d):
    """The fill value as stored in dtype ``d``; torch refuses one that does not fit."""
    if d.category == D._INT:
        info = np.iinfo(d.np)
        lo, hi = builtins.int(info.min), builtins.int(info.max)
    elif d.category == D._FLOAT and d is not D.float64:
        info = D.finfo(d)
        lo, hi = info.min, info.max
    else:
        return value
    if isinstance(value, complex):
        return value
    if isinstance(value, (float, np.floating)) and not np.isfinite(value):
        if d.category == D._FLOAT:
            return value
    elif lo <= value <= hi:
        return value
    elif d is D.uint8 and -255 <= value < 0:  # torch wraps negative bytes, as C does
        return int(value) % 256
    raise RuntimeError(f"value cannot be converted to type {_FILL_NAMES[d.name]} without "
                       "overflow")


def _factory(fill):
    def make(*args, size=None, out=None, dtype=None, layout=None, device=None,
             requires_grad=False, pin_memory=False, memory_format=None):
        shape = _size(args if size is None else (size,), make.__name__)
        d = dtype or D.get_default_dtype()
        dev = factory_device(device)
        if dev is None:   # the hot case, without a device scope
            arr = fill(np, shape, d.np)
        else:
            arr = _made_on(dev, lambda xp: fill(xp, shape, d.np))
        return _pinned_if(_leaf(arr, requires_grad), pin_memory)
    return make


zeros = _factory(lambda xp, s, d: xp.zeros(s, dtype=d))
ones = _factory(lambda xp, s, d: xp.ones(s, dtype=d))
# Uninitialised memory would make results depend on garbage; zeros cost the same here.
empty = _factory(lambda xp, s, d: xp.zeros(s, dtype=d))
zeros.__name__, ones.__name__, empty.__name__ = "zeros", "ones", "empty"


@with_out
def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False):
    if not isinstance(size, (list, tuple)):
        raise TypeError(f"full(): argument 'size' (position 1) must be tuple of ints, not "
                        f"{type(size).__name__}")
    shape = _size((tuple(size),), "full")
    if isinstance(fill_value, Tensor):  # a tensor fill value counts as a Python number
        fill_value = fill_value.item()
    if dtype is None:
        dtype = D.scalar_dtype(fill_value)
    fill_value = _check_fill(fill_value, dtype)
    arr = _made_on(factory_device(device), lambda xp: xp.full(shape, fill_value, dtype=dtype.np))
    return _pinned_if(_leaf(arr, requires_grad), pin_memory)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    return full((), s, dtype=dtype or D.get_default_dtype(), device=device,
                requires_grad=requires_grad)


def _like(fill_name):
    def make(input, *, dtype=None, layout=None, device=None, requires_grad=False,
             pin_memory=False, memory_format=None):
        d = dtype or input.dtype
        dev = as_device(device) or input.device
        fill = "ones" if fill_name == "ones" else "zeros"   # empty_like gives zeros too
        arr = _made_on(dev, lambda xp: getattr(xp, fill)(input._data.shape, dtype=d.np))
        return _pinned_if(_leaf(arr, requires_grad), pin_memory)
    make.__name__ = fill_name + "_like"
    return make


zeros_like = _like("zeros")
ones_like = _like("ones")
empty_like = _like("empty")


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              pin_memory=False, memory_format=None):
    d = dtype or input.dtype
    dev = as_device(device) or input.device
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    fill_value = _check_fill(fill_value, d)
    arr = _made_on(dev, lambda xp: xp.full(input._data.shape, fill_value, dtype=d.np))
    return _pinned_if(_leaf(arr, requires_grad), pin_memory)


def _num(x):
    return x.item() if isinstance(x, Tensor) else x


def _range_bound(x):
    """A bound of arange/range as a real number (torch converts it to double)."""
    x = _num(x)
    if isinstance(x, (complex, np.complexfloating)):
        if x.imag != 0:
            raise RuntimeError("value cannot be converted to type double without overflow")
        return x.real
    return x


def _check_range_dtype(dtype, kernel):
    if dtype is not None and dtype.is_complex:
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{dtype._legacy}'")


@with_out
def arange(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad=False):
    """arange(end) / arange(start, end, step): int64 for integer arguments, else default float."""
    if end is None:
        start, end = 0, start
    _check_range_dtype(dtype, "arange_cpu")
    start, end, step = _range_bound(start), _range_bound(end), _range_bound(step)
    if dtype is None:
        if all(isinstance(v, (int, np.integer)) for v in (start, end, step)):
            dtype = D.int64
        else:
            dtype = D.get_default_dtype()
    if dtype.category <= D._INT:  # torch computes integral ranges in integers
        if step != 0 and builtins.int(step) == 0:
            raise ValueError("step must be nonzero")
        start, end, step = (builtins.int(v) for v in (start, end, step))
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if not (math.isfinite(start) and math.isfinite(end)):
        raise RuntimeError(f"unsupported range: {_fmt(start)} -> {_fmt(end)}")
    if (end - start) / step < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    n = math.ceil((end - start) / step)
    # computed in float64 then cast, so float32 steps accumulate no error (as torch)
    arr = _made_on(factory_device(device), lambda xp: (
        (start + step * xp.arange(n, dtype=np.float64)).astype(dtype.np)
        if dtype.category >= D._FLOAT else xp.arange(start, end, step, dtype=dtype.np)))
    return _leaf(arr, requires_grad)


def _fmt(v):
    return repr(v) if isinstance(v, builtins.float) and not math.isfinite(v) else str(v)


def range(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    warnings.warn("torch.range is deprecated and will be removed in a future release because its "
                  "behavior is inconsistent with Python's range builtin. Instead, use torch.arange, "
                  "which produces values in [start, end).", UserWarning, stacklevel=2)
    if end is None:
        start, end = 0, start
    _check_range_dtype(dtype, "range_cpu")
    start, end, step = _range_bound(start), _range_bound(end), _range_bound(step)
    n = int(math.floor((end - start) / step)) + 1
    d = dtype or D.get_default_dtype()
    return _finish((start + step * np.arange(n, dtype=np.float64)).astype(d.np), d, device,
                   requires_grad)


@with_out
def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False, pin_memory=False):
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    start, end = _num(start), _num(end)
    if dtype is None:
        dtype = D.default_complex_dtype() if isinstance(start, complex) or \
            isinstance(end, complex) else D.get_default_dtype()
    arr = np.linspace(start, end, steps,
                      dtype=np.complex128 if dtype.category == D._COMPLEX else np.float64)
    if dtype.category <= D._INT:
        arr = np.trunc(arr)
    return _pinned_if(_finish(arr.astype(dtype.np), dtype, device, requires_grad), pin_memory)


@with_out
def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False, pin_memory=False):
    d = dtype or D.get_default_dtype()
    arr = np.power(float(base), np.linspace(_num(start), _num(end), steps, dtype=np.float64))
    return _pinned_if(_finish(arr.astype(d.np), d, device, requires_grad), pin_memory)


@with_out
def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    if n < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    if m is not None and m < 0:
        raise RuntimeError(f"m must be greater or equal to 0, got {m}")
    d = dtype or D.get_default_dtype()
    arr = _made_on(factory_device(device), lambda xp: xp.eye(n, m, dtype=d.np))
    return _leaf(arr, requires_grad)


# ---- legacy constructors ------------------------------------------------------------
def legacy_new(cls, dtype, args, kwargs, generic=True):
    """``Tensor(...)`` / ``FloatTensor(...)``: from data, from sizes, or empty."""
    device = kwargs.pop("device", None)
    if kwargs:
        raise TypeError(f"new() received an invalid combination of arguments - got unexpected "
                        f"keyword arguments {', '.join(kwargs)}")
    if not args:
        return _legacy_cast(cls, empty(0, dtype=dtype, device=device))
    if len(args) == 1 and isinstance(args[0], Tensor):
        src = args[0]
        # ember.Tensor(t) aliases t whatever its dtype; FloatTensor(t) insists on float32
        if src.dtype is not dtype and not generic:
            raise TypeError(f"expected {dtype._legacy} (got {src.dtype._legacy})")
        return _legacy_cast(cls, src.detach())
    if all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in args):
        return _legacy_cast(cls, empty(*args, dtype=dtype, device=device))
    if len(args) == 1 and isinstance(args[0], Size):
        return _legacy_cast(cls, empty(tuple(args[0]), dtype=dtype, device=device))
    if len(args) == 1:
        data = args[0]
        if isinstance(data, (int, float, bool, complex)):
            raise TypeError(f"new(): data must be a sequence (got {type(data).__name__})")
        return _legacy_cast(cls, tensor(data, dtype=dtype, device=device))
    raise TypeError("new() received an invalid combination of arguments")


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
        return legacy_new(Tensor, cls._ember_dtype, args, kwargs, generic=False)


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
