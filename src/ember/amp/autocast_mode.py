"""ember.autocast: torch's automatic mixed precision regions.

While a region is active on a thread, ``ember._ops.registry.apply`` hands each op's
inputs to ``_cast``: ops on the lower-precision list get their float32 tensors cast to
the region's dtype, ops on the float32 list get their float16/bfloat16 tensors cast to
float32.  Casts go through ``Tensor.to`` so gradients flow back in the original dtype.
Each op declares its list (torch's CPU lists, restricted to ops Ember has as primitives)
with ``defop(..., autocast="lower"|"fp32")``; composites torch autocasts as one op use
``registry.autocast_entry`` with the same two names.
"""
import functools
import warnings

from .. import _dtype as D
from .._tensor import Tensor
from .._ops import registry as _registry

_DEFAULT_DTYPE = {"cpu": D.bfloat16, "cuda": D.float16}
_KNOWN_DEVICES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip",
                  "ve", "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia",
                  "privateuseone")


class _State:
    """Per-thread autocast settings: enabled flag and dtype per device type."""

    def __init__(self):
        self.enabled = {"cpu": False, "cuda": False}
        self.dtype = dict(_DEFAULT_DTYPE)
        self.cache_enabled = True


_states = {}


def _state():
    import threading
    key = threading.get_ident()
    st = _states.get(key)
    if st is None:
        st = _states[key] = _State()
    return st


def _cast(op, inputs):
    # op: the registry op being applied (its autocast category: op.autocast), or the category
    # itself (registry.AUTOCAST_LOWER/AUTOCAST_FP32) for an autocast_entry function.
    kind = op if type(op) is str else op.autocast
    if kind is None:
        return inputs
    lower = kind == _registry.AUTOCAST_LOWER
    st = _state()
    out = []
    for x in inputs:
        if isinstance(x, Tensor):
            dev = x.device.type
            if st.enabled.get(dev):
                dt = x.dtype
                if lower and dt == D.float32:
                    x = x.to(st.dtype[dev])
                elif not lower and dt in (D.float16, D.bfloat16):
                    x = x.to(D.float32)
        out.append(x)
    return tuple(out) if isinstance(inputs, tuple) else out


def _sync_hook(st):
    _registry._autocast.cast = _cast if any(st.enabled.values()) else None


def _check_device(device_type):
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if device_type not in _KNOWN_DEVICES:
        raise RuntimeError(f"Expected one of {', '.join(_KNOWN_DEVICES)} device type at start "
                           f"of device string: {device_type}")


def is_autocast_enabled(device_type=None):
    # torch's no-argument form is the legacy CUDA query.
    if device_type is None:
        device_type = "cuda"
    _check_device(device_type)
    return _state().enabled.get(device_type, False)


def get_autocast_dtype(device_type):
    _check_device(device_type)
    return _state().dtype.get(device_type, D.bfloat16)


def is_autocast_cache_enabled():
    return _state().cache_enabled


def set_autocast_cache_enabled(enabled):
    _state().cache_enabled = bool(enabled)


def clear_autocast_cache():
    # Ember keeps no cast cache; present so scripts that call it run.
    return None


class autocast:
    """Context manager and decorator enabling mixed precision for ``device_type``."""

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        _check_device(device_type)
        self.device = device_type
        self.fast_dtype = _DEFAULT_DTYPE.get(device_type, D.bfloat16) if dtype is None \
            else dtype
        self._enabled = bool(enabled)
        self._cache_enabled = is_autocast_cache_enabled() if cache_enabled is None \
            else bool(cache_enabled)
        if not self._enabled:
            return
        if device_type == "cuda":
            from .. import cuda
            if not cuda.is_available():
                warnings.warn("CUDA is not available or torch_xla is imported. Disabling "
                              "autocast.", stacklevel=2)
                self._enabled = False
            elif self.fast_dtype == D.bfloat16 and not cuda.is_bf16_supported():
                raise RuntimeError("Current CUDA Device does not support bfloat16. Please "
                                   "switch dtype to float16.")
        elif device_type == "cpu":
            if self.fast_dtype not in (D.bfloat16, D.float16):
                warnings.warn("In CPU autocast, but the target dtype is not supported. "
                              "Disabling autocast.\nCPU Autocast only supports dtypes of "
                              "torch.bfloat16, torch.float16 currently.", stacklevel=2)
                self._enabled = False
        else:
            warnings.warn(f"User specified an unsupported autocast device_type "
                          f"'{device_type}'", stacklevel=2)
            self._enabled = False

    def __enter__(self):
        st = _state()
        dev = self.device
        self._prev = (st.enabled.get(dev, False), st.dtype.get(dev), st.cache_enabled)
        st.enabled[dev] = self._enabled
        st.dtype[dev] = self.fast_dtype
        st.cache_enabled = self._cache_enabled
        _sync_hook(st)
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        st = _state()
        dev = self.device
        st.enabled[dev], st.dtype[dev], st.cache_enabled = self._prev
        _sync_hook(st)
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapped(*args, **kwargs):
            with self._clone():
                return func(*args, **kwargs)
        return wrapped

    def _clone(self):
        # Each call of a decorated function gets its own region, so recursion and
        # threads do not share the saved previous state.
        new = object.__new__(type(self))
        new.__dict__.update({k: v for k, v in self.__dict__.items() if k != "_prev"})
        return new
