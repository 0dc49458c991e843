"""Devices, and the array module (``xp``) behind each one.

Every op's forward is written once against an array module: NumPy for ``cpu``,
CuPy for ``cuda``.  Op code asks the array for its module (``array_module``)
instead of branching on the device, so adding CuPy needs no change to any op.
"""
import contextlib
import os
import re

import numpy as np

_cupy = None
_cupyx = None


def _load_cupy():
    global _cupy
    if _cupy is None:
        if os.environ.get("EMBER_CUDA_STANDIN", "0") not in ("", "0"):
            from . import _standin
            _cupy = _standin.cupy()
            return _cupy
        try:
            import cupy
        except ImportError as e:  # no GPU stack: torch's CPU build says this
            # (the ImportError chained below names what is missing: the 'cupy' package,
            # e.g. pip install 'ember[cuda]')
            raise AssertionError("Torch not compiled with CUDA enabled") from e
        _cupy = cupy
    return _cupy


def load_cupyx():
    """``cupyx`` (scatter_add, scipy.special) of the array module behind ``cuda``."""
    global _cupyx
    if _cupyx is None:
        if getattr(_load_cupy(), "_ember_standin", False):
            from . import _standin
            _cupyx = _standin.cupyx()
        else:
            import cupyx
            import cupyx.scipy.special  # noqa: F401  (a submodule cupyx does not import)
            _cupyx = cupyx
    return _cupyx


def load_nccl():
    """``cupy.cuda.nccl`` (a submodule CuPy does not import by itself), or the stand-in's."""
    cp = _load_cupy()
    if getattr(cp, "_ember_standin", False):
        return cp.cuda.nccl
    from cupy.cuda import nccl
    return nccl


def special_module(array):
    """scipy.special for host arrays (and scalars), cupyx.scipy.special for device arrays."""
    if isinstance(array, (np.ndarray, np.generic, int, float, complex)):
        import scipy.special
        return scipy.special
    return load_cupyx().scipy.special


def use_standin(on=True):
    """Back ``cuda`` with the CPU stand-in (``ember._standin``), or undo that; for tests."""
    global _cupy, _cupyx
    if on:
        from . import _standin
        _cupy, _cupyx = _standin.cupy(), _standin.cupyx()
    else:
        _cupy = _cupyx = None


# Every device type torch names; Ember allocates only on cpu and cuda, but any of them
# can be named (torch.device("mps") is a valid object even where there is no such chip).
_DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip",
                 "ve", "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia",
                 "privateuseone")
_DEVICE_STRING = re.compile(r"([a-zA-Z_]+)(?::([1-9]\d*|0))?")


class device:
    """``device('cpu')``, ``device('cuda:1')``, ``device('cuda', 0)``."""

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            self.type, self.index = type.type, type.index
            return
        if isinstance(type, int) and not isinstance(type, bool):  # device(0) is cuda:0
            if not cuda_is_available():
                raise RuntimeError("Cannot access accelerator device when none is available.")
            type, index = "cuda", type
        if not isinstance(type, str):
            raise TypeError(f"device() received an invalid combination of arguments - got "
                            f"({_builtin_type(type).__name__})")
        if index is not None and (not isinstance(index, int) or isinstance(index, bool)):
            raise TypeError(f"device(): argument 'index' (position 2) must be int, not "
                            f"{_builtin_type(index).__name__}")
        if not type:
            raise RuntimeError("Device string must not be empty")
        match = _DEVICE_STRING.fullmatch(type)
        if match is None:
            raise RuntimeError(f"Invalid device string: '{type}'")
        name, idx = match.groups()
        if name not in _DEVICE_TYPES:
            raise RuntimeError(f"Expected one of {', '.join(_DEVICE_TYPES)} device type at "
                               f"start of device string: {name}")
        if idx is not None:
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index "
                                   f"was passed explicitly: {type}")
            index = int(idx)
        if index is not None and index < 0:
            raise RuntimeError("Device index must not be negative")
        self.type, self.index = name, index

    def __eq__(self, other):
        # torch compares devices with devices only: device('cpu') == 'cpu' is False
        return isinstance(other, device) and self.type == other.type and \
            self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __reduce__(self):
        return (device, (self.type, self.index))


_builtin_type = type


CPU = device("cpu")

# torch.set_default_device: the device factories use when given none (None: the CPU).
_default_device = [None]


def set_default_device(device):
    """Make factory functions (zeros, randn, tensor, ...) create tensors on ``device``."""
    _default_device[0] = None if device is None else as_device(device)


def get_default_device():
    d = _default_device[0] or CPU
    if d.type == "cuda" and d.index is None:  # torch names the current device's index
        from . import cuda
        d = device("cuda", cuda.current_device())
    return d


def factory_device(d):
    """A factory's ``device=`` argument, the default device when it is None."""
    return _default_device[0] if d is None else as_device(d)


def as_device(d):
    if d is None or isinstance(d, device):
        return d
    return device(d)


def array_module(array):
    """NumPy for host arrays, CuPy for device arrays."""
    if isinstance(array, np.ndarray):
        return np
    return _load_cupy().get_array_module(array)


def is_array(x):
    """Whether ``x`` is a host or device array (not a Python or NumPy scalar)."""
    return isinstance(x, np.ndarray) or (_cupy is not None and isinstance(x, _cupy.ndarray))


def on_array_device(array, fn, args, kwargs):
    """``fn(*args, **kwargs)`` with ``array``'s device current, so that what it allocates
    lives there (CuPy allocates on the current device; torch puts results on the inputs')."""
    dev = array.device
    if dev.id == _cupy.cuda.runtime.getDevice():
        return fn(*args, **kwargs)
    with dev:
        return fn(*args, **kwargs)


def data_ptr(array):
    """The address of ``array``'s first element (NumPy or CuPy)."""
    if isinstance(array, np.ndarray):
        return array.__array_interface__["data"][0]
    return array.data.ptr


def module_for(dev):
    """The array module that holds tensors on ``dev``."""
    if dev is None or dev.type == "cpu":
        return np
    if dev.type == "cuda":
        return _load_cupy()
    raise RuntimeError(f"Ember cannot allocate arrays on device '{dev}'")


_HOST_SCOPE = contextlib.nullcontext()


def device_scope(dev):
    """A context in which ``dev`` is CuPy's current device, so that CuPy allocates there
    (``cuda`` with no index: the current device); nothing to switch for the CPU."""
    if dev is None or dev.type != "cuda":
        return _HOST_SCOPE
    return _load_cupy().cuda.Device(dev.index)


def resolve(dev):
    """``dev`` with the current CUDA device's index filled in for a bare ``cuda``, as torch
    places tensors (``to('cuda')``, ``cuda()``, ``map_location='cuda'``)."""
    if dev is not None and dev.type == "cuda" and dev.index is None:
        from . import cuda
        return device("cuda", cuda.current_device())
    return dev


def device_of(array):
    if isinstance(array, np.ndarray):
        return CPU
    return device("cuda", array.device.id)


def to_device_array(array, dev):
    """Copy ``array`` onto ``dev`` (a no-op when it already lives there)."""
    if dev.type == "cpu":
        if isinstance(array, np.ndarray):
            return array
        return array.get()
    cp = _load_cupy()
    with cp.cuda.Device(dev.index):
        return cp.asarray(array)


def cuda_is_available():
    try:
        cp = _load_cupy()
        return cp.cuda.runtime.getDeviceCount() > 0
    except Exception:  # no driver, no device, or no cupy: all mean "not available"
        return False


def cuda_device_count():
    try:
        return _load_cupy().cuda.runtime.getDeviceCount()
    except Exception:
        return 0
