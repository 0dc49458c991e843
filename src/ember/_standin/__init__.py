"""A CPU-backed stand-in for CuPy: ``cuda`` tensors without a GPU.

With ``EMBER_CUDA_STANDIN=1`` (or ``ember._standin.activate()``) Ember's ``cuda`` device
is backed by this module instead of CuPy.  Its arrays hold NumPy arrays but behave as CuPy's
do where that matters for device code:

- they are not ``numpy.ndarray`` and refuse implicit conversion (``np.asarray`` raises
  CuPy's TypeError), so a host/device mix-up in op code fails here as it would on a GPU;
- functions and ufuncs refuse NumPy array arguments; NumPy functions called on them
  dispatch to the stand-in (``__array_function__``/``__array_ufunc__``) only where CuPy has
  a function of that name (the names of a real CuPy install, ``_names.py``);
- reductions and scalar indexing give 0-dim arrays, not NumPy scalars;
- each array remembers its device (two devices by default), memory is counted in a pool,
  and streams, events and device contexts exist.

It runs no GPU kernels (``RawKernel``, ``ElementwiseKernel`` and ``fuse`` are absent), so
code that needs them must keep a generic path.  What it cannot show: speed, and numerical
differences of GPU libraries (cuBLAS, cuFFT); the real-GPU script checks those.
"""
import os
import time
import types
import weakref

import numpy as np

from . import _nccl
from ._names import KEYWORDS, NAMES, NDARRAY

_CUPY_ONLY = frozenset({"get", "set", "device", "data", "scatter_add", "scatter_max",
                        "scatter_min"})
_state = {"device": 0, "count": int(os.environ.get("EMBER_CUDA_STANDIN_DEVICES", "2")),
          "allocator": None}


def _unsupported(x):
    return TypeError(f"Unsupported type {type(x)}")


def _unwrap(x):
    """Stand-in arrays to their NumPy arrays, recursively; host arrays are refused."""
    t = type(x)
    if t is ndarray:
        return x._a
    if t is np.ndarray:
        raise _unsupported(x)
    if t is list or t is tuple:
        return t(_unwrap(v) for v in x)
    return x


def _wrap(x):
    t = type(x)
    if t is np.ndarray:
        return ndarray(x)
    if isinstance(x, np.generic):
        return ndarray(np.asarray(x))
    if isinstance(x, tuple):
        vals = [_wrap(v) for v in x]
        return t(*vals) if hasattr(x, "_fields") else t(vals)
    if t is list:
        return [_wrap(v) for v in x]
    return x


def _call(fn, args, kwargs):
    out = kwargs.get("out")
    result = fn(*_unwrap(args), **{k: _unwrap(v) for k, v in kwargs.items()})
    if type(out) is ndarray and result is out._a:
        return out
    return _wrap(result)


def _function(fn, keywords=None, name=None):
    """``fn`` on stand-in arrays; ``keywords``: the only keyword arguments CuPy's takes."""
    def call(*args, **kwargs):
        if keywords is not None:
            for k in kwargs:
                if k not in keywords:
                    raise TypeError(f"{name}() got an unexpected keyword argument '{k}'")
        return _call(fn, args, kwargs)
    call.__name__ = call.__qualname__ = getattr(fn, "__name__", "function")
    call.__doc__ = getattr(fn, "__doc__", None)
    return call


class ufunc:
    """A NumPy ufunc that takes and gives stand-in arrays."""

    def __init__(self, uf):
        self._uf = uf
        self.__name__ = uf.__name__
        self.nin, self.nout, self.nargs = uf.nin, uf.nout, uf.nargs

    def __call__(self, *args, **kwargs):
        return _call(self._uf, args, kwargs)

    def __getattr__(self, method):
        if method not in ("reduce", "accumulate", "reduceat", "outer", "at"):
            raise AttributeError(method)
        fn = _function(getattr(self._uf, method))
        if method == "outer":
            return fn
        if self.__name__ not in _UFUNC_METHODS[method]:
            def refuse(*args, **kwargs):
                raise NotImplementedError(f"`cupy_{self.__name__}.{method}` is not supported yet")
            return refuse
        if method != "at":
            return fn

        def at(a, indices, b=None):
            allowed = _AT_DTYPES[self.__name__]
            if a.dtype.name not in allowed:
                raise TypeError(f"cupy.{self.__name__}.at only supports "
                                f"{', '.join(sorted(allowed))} as data type")
            return fn(a, indices, b)
        return at

    def __repr__(self):
        return f"<ufunc '{self.__name__}'>"


# What CuPy's ufunc methods support (cupy/_core/_kernel.pyx and _routines_indexing.pyx):
# reduce and accumulate only for add and multiply, reduceat only for add, and ``at``
# (a scatter kernel with atomics) only for these ufuncs, each for these dtypes.
_INTS = {"int32", "int64", "uint32", "uint64"}
_AT_DTYPES = {"add": _INTS | {"float16", "float32", "float64"},
              "subtract": {"int32", "uint32"},
              "maximum": _INTS | {"float32", "float64"}, "minimum": _INTS | {"float32", "float64"},
              "bitwise_and": _INTS, "bitwise_or": _INTS, "bitwise_xor": _INTS}
_UFUNC_METHODS = {"reduce": {"add", "multiply"}, "accumulate": {"add", "multiply"},
                  "reduceat": {"add"}, "at": set(_AT_DTYPES)}


# ---- devices, memory, streams ---------------------------------------------------------------
class _Pool:
    """CuPy's default pool: one pool per device, each call answering for the current one."""

    def __init__(self):
        self._used = {}
        self._total = {}

    def malloc(self, size):
        dev = _state["device"]
        self._used[dev] = self._used.get(dev, 0) + size
        self._total[dev] = max(self._total.get(dev, 0), self._used[dev])
        return size

    def _free(self, size, dev):
        self._used[dev] -= size

    def used_bytes(self):
        return self._used.get(_state["device"], 0)

    def total_bytes(self):
        return self._total.get(_state["device"], 0)

    def free_bytes(self):
        return self.total_bytes() - self.used_bytes()

    def free_all_blocks(self, stream=None):
        dev = _state["device"]
        self._total[dev] = self._used.get(dev, 0)

    def n_free_blocks(self):
        return 0


_pool = _Pool()
_pinned_pool = _Pool()


def _account(a):
    """Count a newly owned buffer in the current device's pool until NumPy frees it."""
    if a.flags.owndata and a.nbytes:
        (_state["allocator"] or _pool.malloc)(a.nbytes)
        weakref.finalize(a, _pool._free, a.nbytes, _state["device"])


class Device:
    def __init__(self, device=None):
        self.id = _state["device"] if device is None else int(device)
        if not 0 <= self.id < _state["count"]:
            raise RuntimeError(f"CUDARuntimeError: cudaErrorInvalidDevice: invalid device "
                               f"ordinal {self.id}")
        self._prev = []

    def __enter__(self):
        self._prev.append(_state["device"])
        _state["device"] = self.id
        return self

    def __exit__(self, *exc):
        _state["device"] = self._prev.pop()

    def use(self):
        _state["device"] = self.id

    def synchronize(self):
        pass

    @property
    def compute_capability(self):
        return "80"

    @property
    def mem_info(self):
        return (80 * 2**30 - _pool.used_bytes(), 80 * 2**30)

    def __eq__(self, other):
        return isinstance(other, Device) and other.id == self.id

    def __hash__(self):
        return hash(self.id)

    def __repr__(self):
        return f"<CUDA Device {self.id}>"


class _Runtime:
    class CUDARuntimeError(RuntimeError):
        pass

    @staticmethod
    def getDeviceCount():
        return _state["count"]

    @staticmethod
    def getDevice():
        return _state["device"]

    @staticmethod
    def setDevice(i):
        Device(i).use()

    @staticmethod
    def deviceSynchronize():
        _nccl.complete(_nccl.inflight(), wait=True)

    @staticmethod
    def runtimeGetVersion():
        return 12080

    @staticmethod
    def driverGetVersion():
        return 12080

    @staticmethod
    def memGetInfo():
        return Device().mem_info

    @staticmethod
    def getDeviceProperties(i):
        Device(i)
        return {"name": f"Ember CUDA stand-in {i} (CPU)".encode(), "major": 8, "minor": 0,
                "totalGlobalMem": 80 * 2**30, "multiProcessorCount": 2, "integrated": 0,
                "isMultiGpuBoard": 0, "uuid": bytes(16), "l2CacheSize": 0,
                "pciBusID": i, "pciDeviceID": 0, "pciDomainID": 0}


class Event:
    _ptrs = iter(range(1, 1 << 62))

    def __init__(self, block=False, disable_timing=False, interprocess=False):
        self.disable_timing = disable_timing
        self.ptr = next(Event._ptrs)
        self._t = None
        self._after = []    # the NCCL stand-in's sends/receives posted before the record

    def record(self, stream=None):
        self._t = time.perf_counter()
        self._after = _nccl.inflight()

    def synchronize(self):
        _nccl.complete(self._after, wait=True)

    @property
    def done(self):
        return _nccl.complete(self._after, wait=False)


class Stream:
    _ptrs = iter(range(1, 1 << 62))

    def __init__(self, null=False, non_blocking=False, ptds=False, priority=0):
        self.ptr = 0 if null else next(Stream._ptrs)
        self.device_id = _state["device"]
        self._prev = []

    def __enter__(self):
        self._prev.append(_current_stream[0])
        _current_stream[0] = self
        return self

    def __exit__(self, *exc):
        _current_stream[0] = self._prev.pop()

    def use(self):
        _current_stream[0] = self
        return self

    def synchronize(self):
        _nccl.complete(_nccl.inflight(), wait=True)

    def record(self, event=None):
        event = event or Event()
        event.record(self)
        return event

    def wait_event(self, event):
        pass

    @property
    def done(self):
        return True

    def __eq__(self, other):
        return isinstance(other, Stream) and other.ptr == self.ptr

    def __hash__(self):
        return hash(self.ptr)


Stream.null = Stream(null=True)
_current_stream = [Stream.null]


def _get_elapsed_time(start, end):
    if start._t is None or end._t is None:
        raise RuntimeError("CUDARuntimeError: cudaErrorInvalidResourceHandle: an event was "
                           "not recorded")
    return (end._t - start._t) * 1000.0


def _set_allocator(allocator=None):
    _state["allocator"] = allocator


cuda = types.SimpleNamespace(
    Device=Device, Event=Event, Stream=Stream, runtime=_Runtime,
    get_current_stream=lambda device=None: _current_stream[0],
    get_elapsed_time=_get_elapsed_time, set_allocator=_set_allocator,
    get_device_id=lambda: _state["device"], is_available=lambda: _state["count"] > 0,
    MemoryPool=_Pool, memory=types.SimpleNamespace(MemoryPool=_Pool), nccl=_nccl,
)


class _MemoryPointer:
    __slots__ = ("ptr", "device_id")

    def __init__(self, ptr, device_id):
        self.ptr, self.device_id = ptr, device_id


# ---- the array ----------------------------------------------------------------------------
class ndarray:
    """A device array: a NumPy array and the index of the device it lives on."""

    __slots__ = ("_a", "_dev", "__weakref__")
    __array_priority__ = 100

    def __init__(self, a, device=None):
        _account(a)
        self._a = a
        self._dev = _state["device"] if device is None else device

    # what CuPy refuses
    def __array__(self, dtype=None, copy=None):
        raise TypeError("Implicit conversion to a NumPy array is not allowed. Please use "
                        "`.get()` to construct a NumPy array explicitly.")

    def __array_ufunc__(self, uf, method, *inputs, **kwargs):
        if uf.__name__ not in NAMES["cupy"] and uf.__name__ not in NAMES["cupyx.scipy.special"]:
            return NotImplemented
        if method == "__call__":
            return _call(uf, inputs, kwargs)
        # ufunc methods as CuPy's ufunc has them (see _UFUNC_METHODS)
        return getattr(ufunc(uf), method)(*inputs, **kwargs)

    def __array_function__(self, func, types_, args, kwargs):
        where = func.__module__.replace("numpy", "cupy", 1) if func.__module__ else "cupy"
        if where not in NAMES or func.__name__ not in NAMES[where]:
            return NotImplemented
        return _call(func, args, kwargs)

    # CuPy's own
    def get(self, stream=None, order="C", out=None, blocking=True):
        if out is not None:
            out[...] = self._a
            return out
        return np.array(self._a, order=order, copy=True)

    def set(self, arr, stream=None):
        if not isinstance(arr, np.ndarray):
            raise TypeError(f"Only numpy.ndarray can be set to cupy.ndarray. Got {type(arr)}")
        if arr.shape != self.shape or arr.dtype != self.dtype:
            raise ValueError("Shape or dtype mismatch")
        self._a[...] = arr

    @property
    def device(self):
        return Device(self._dev)

    @property
    def data(self):
        return _MemoryPointer(self._a.__array_interface__["data"][0], self._dev)

    def scatter_add(self, slices, value):
        np.add.at(self._a, _unwrap(slices), _unwrap(value))

    def scatter_max(self, slices, value):
        np.maximum.at(self._a, _unwrap(slices), _unwrap(value))

    def scatter_min(self, slices, value):
        np.minimum.at(self._a, _unwrap(slices), _unwrap(value))

    # NumPy's attributes and methods, where CuPy has them
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    strides = property(lambda self: self._a.strides)
    itemsize = property(lambda self: self._a.itemsize)
    nbytes = property(lambda self: self._a.nbytes)
    flags = property(lambda self: self._a.flags)
    base = property(lambda self: None if self._a.base is None else _base(self))
    T = property(lambda self: ndarray(self._a.T, self._dev))
    mT = property(lambda self: ndarray(np.swapaxes(self._a, -1, -2), self._dev))
    real = property(lambda self: ndarray(self._a.real, self._dev))
    imag = property(lambda self: ndarray(self._a.imag, self._dev))

    def __getattr__(self, name):
        if name not in NDARRAY or name.startswith("_"):
            raise AttributeError(f"'cupy.ndarray' object has no attribute '{name}'")
        method = _function(getattr(self._a, name), KEYWORDS.get("ndarray." + name), name)

        def call(*args, **kwargs):
            return self._result(method(*args, **kwargs))
        return call

    def _result(self, r):
        # a view stays on its base's device; anything computed lands on the current one
        if type(r) is ndarray and not r._a.flags.owndata:
            r._dev = self._dev
        return r

    def __getitem__(self, key):
        return self._result(_wrap(self._a[_unwrap_index(key)]))

    def __setitem__(self, key, value):
        self._a[_unwrap_index(key)] = _unwrap(value)

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(len(self)))

    def __bool__(self):
        return bool(self._a)

    def __float__(self):
        return float(self._a)

    def __int__(self):
        return int(self._a)

    def __complex__(self):
        return complex(self._a)

    def __repr__(self):
        return repr(self._a)

    def __str__(self):
        return str(self._a)

    def __copy__(self):
        return ndarray(self._a.copy(), self._dev)

    def __deepcopy__(self, memo):
        return self.__copy__()

    def __reduce__(self):
        return (_rebuild, (self._a.copy(), self._dev))

    __hash__ = None


def _rebuild(a, dev):
    return ndarray(a, dev)


def _base(arr):
    return ndarray(arr._a.base, arr._dev) if isinstance(arr._a.base, np.ndarray) else None


def _unwrap_index(key):
    # index arrays may be host or device arrays (CuPy copies host index arrays over)
    if type(key) is tuple:
        return tuple(k._a if type(k) is ndarray else k for k in key)
    return key._a if type(key) is ndarray else key


def _binary(name, reflected=False, inplace=False):
    uf = getattr(np, name)
    if inplace:
        def op(self, other):
            return uf(self, other, out=self)
    elif reflected:
        def op(self, other):
            return uf(other, self)
    else:
        def op(self, other):
            return uf(self, other)
    return op


for _dunder, _uf in (("add", "add"), ("sub", "subtract"), ("mul", "multiply"),
                     ("truediv", "true_divide"), ("floordiv", "floor_divide"),
                     ("mod", "remainder"), ("pow", "power"), ("matmul", "matmul"),
                     ("and", "bitwise_and"), ("or", "bitwise_or"), ("xor", "bitwise_xor"),
                     ("lshift", "left_shift"), ("rshift", "right_shift")):
    setattr(ndarray, f"__{_dunder}__", _binary(_uf))
    setattr(ndarray, f"__r{_dunder}__", _binary(_uf, reflected=True))
    if _dunder != "matmul":
        setattr(ndarray, f"__i{_dunder}__", _binary(_uf, inplace=True))
for _dunder, _uf in (("eq", "equal"), ("ne", "not_equal"), ("lt", "less"),
                     ("le", "less_equal"), ("gt", "greater"), ("ge", "greater_equal")):
    setattr(ndarray, f"__{_dunder}__", _binary(_uf))
for _dunder, _uf in (("neg", "negative"), ("pos", "positive"), ("abs", "absolute"),
                     ("invert", "invert")):
    setattr(ndarray, f"__{_dunder}__", (lambda u: lambda self: u(self))(getattr(np, _uf)))
ndarray.__divmod__ = lambda self, other: (self // other, self % other)


# ---- the module's functions ---------------------------------------------------------------
def asarray(a, dtype=None, order=None, *, blocking=False):
    if type(a) is ndarray:
        if a._dev != _state["device"]:
            return ndarray(np.array(a._a, dtype=dtype, order=order or "K"))
        if dtype is None or np.dtype(dtype) == a.dtype:
            return a
        return ndarray(a._a.astype(dtype, order=order or "K"))
    return ndarray(np.array(a, dtype=dtype, order=order or "K", copy=True))


def array(obj, dtype=None, copy=True, order="K", subok=False, ndmin=0, *, blocking=False):
    if type(obj) is ndarray:
        obj = obj._a
    return ndarray(np.array(obj, dtype=dtype, copy=True, order=order, ndmin=ndmin))


def asnumpy(a, stream=None, order="C", out=None, *, blocking=True):
    if type(a) is ndarray:
        return a.get(order=order, out=out)
    return np.asarray(a, order=order)


def get_array_module(*args):
    return _module if any(type(a) is ndarray for a in args) else np


def _as_strided(x, shape=None, strides=None):
    if type(x) is not ndarray:
        raise _unsupported(x)
    return ndarray(np.lib.stride_tricks.as_strided(x._a, shape, strides), x._dev)


def _namespace(name, source, extra=None):
    mod = types.ModuleType(name, f"Stand-in for {name}")
    for attr in NAMES[name]:
        if not hasattr(source, attr):
            continue
        val = getattr(source, attr)
        if isinstance(val, np.ufunc):
            val = ufunc(val)
        elif callable(val) and not isinstance(val, type):
            val = _function(val, KEYWORDS.get(f"{name}.{attr}"), attr)
        setattr(mod, attr, val)
    for attr, val in (extra or {}).items():
        setattr(mod, attr, val)
    return mod


def _cupyx():
    import scipy.special
    special = _namespace("cupyx.scipy.special", scipy.special)

    def scatter_add(a, slices, value):
        a.scatter_add(slices, value)

    def scatter_max(a, slices, value):
        a.scatter_max(slices, value)

    def scatter_min(a, slices, value):
        a.scatter_min(slices, value)
    return _namespace("cupyx", types.SimpleNamespace(), {
        "scatter_add": scatter_add, "scatter_max": scatter_max, "scatter_min": scatter_min,
        "scipy": types.SimpleNamespace(special=special)})


_module = _namespace("cupy", np, {
    "ndarray": ndarray, "asarray": asarray, "array": array, "asnumpy": asnumpy,
    "get_array_module": get_array_module, "cuda": cuda,
    "lib": types.SimpleNamespace(stride_tricks=types.SimpleNamespace(as_strided=_as_strided)),
    "linalg": _namespace("cupy.linalg", np.linalg),
    "fft": _namespace("cupy.fft", np.fft),
    "random": _namespace("cupy.random", np.random),
    "get_default_memory_pool": lambda: _pool,
    "get_default_pinned_memory_pool": lambda: _pinned_pool,
    "__version__": "stand-in", "_ember_standin": True,
})
_cupyx_module = None


def cupy():
    """The stand-in ``cupy`` module."""
    return _module


def cupyx():
    """The stand-in ``cupyx`` module (``scatter_add``, ``scipy.special``)."""
    global _cupyx_module
    if _cupyx_module is None:
        _cupyx_module = _cupyx()
    return _cupyx_module
