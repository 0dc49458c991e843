"""ember.save / ember.load: objects holding tensors, in a pickle-based file.

The file is a short magic header followed by one pickle.  Each tensor is pickled as its
dtype name, shape, raw bytes (host copy), ``requires_grad``, device and class; a view is
pickled as a reference to its base plus its offset and strides, so tensors that share
memory when saved share it again when loaded, as with torch.save.

``load`` defaults to ``weights_only=True`` as torch 2.6+ does: only tensors, plain
containers, numbers, strings and allowlisted globals are unpickled, never arbitrary code.
"""
import contextlib
import os
import pickle

import numpy as np

from . import _dtype as D
from ._device import data_ptr, device as _device
from ._tensor import Tensor, _host, _make, _new

__all__ = ["save", "load", "add_safe_globals", "get_safe_globals", "clear_safe_globals",
           "safe_globals"]

_MAGIC = b"EMBER-PICKLE\x01\n"
DEFAULT_PROTOCOL = 2


def _dtype_by_name():
    return {v.name: v for v in vars(D).values() if isinstance(v, D.dtype)}


# ---- saving ---------------------------------------------------------------------------
def _rebuild_tensor(dtype_name, shape, raw, requires_grad, device_str, cls, attrs):
    """Recreate a tensor saved by ``save``; ``load`` moves it per ``map_location``."""
    dt = _dtype_by_name()[dtype_name]
    arr = np.frombuffer(bytearray(raw), dtype=dt.np).reshape(shape)
    t = _make(arr)
    t = _Loading.current().place(t, device_str)
    return _finish(t, requires_grad, cls, attrs)


def _rebuild_view(base, offset, shape, strides, requires_grad, cls, attrs):
    """A view of an already-loaded contiguous ``base`` (memory stays shared)."""
    from ._device import array_module
    data = base._data
    xp = array_module(data)
    start = data.reshape(-1)[offset // data.itemsize:]
    t = _make(xp.lib.stride_tricks.as_strided(start, shape=shape, strides=strides))
    t._base = base
    t._vc = base._vc
    return _finish(t, requires_grad, cls, attrs)


def _finish(t, requires_grad, cls, attrs):
    if cls is not None and cls is not Tensor:
        sub = _new(cls)
        sub.__dict__.update(t.__dict__)
        t = sub
    t._requires_grad = requires_grad
    if attrs:
        t.__dict__.update(attrs)
    return t


def _public_attrs(t):
    """Attributes a Tensor subclass instance carries (e.g. Buffer.persistent)."""
    return {k: v for k, v in t.__dict__.items() if not k.startswith("_")} or None


class _TensorPickling:
    """Mixed into the Pickler of the ``pickle_module`` given to ``save`` (as torch uses
    ``pickle_module.Pickler``): tensors are reduced to ``_rebuild_tensor``/``_rebuild_view``."""

    def reducer_override(self, obj):
        if not isinstance(obj, Tensor):
            return NotImplemented
        cls = None if type(obj) is Tensor else type(obj)
        attrs = _public_attrs(obj)
        base = obj._base
        # A view is saved as (base, offset, strides) when the base is a plain contiguous
        # array of the same dtype: then the reloaded view aliases the reloaded base.
        if base is not None and base._base is None and type(base._data) is type(obj._data) \
                and base._data.flags.c_contiguous and base._data.dtype == obj._data.dtype \
                and _shares_memory(base._data, obj._data):
            offset = data_ptr(obj._data) - data_ptr(base._data)
            if offset >= 0 and offset % obj._data.itemsize == 0:
                return (_rebuild_view, (base, offset, tuple(obj._data.shape),
                                        tuple(obj._data.strides), obj._requires_grad, cls,
                                        attrs))
        arr = np.ascontiguousarray(_host(obj._data))
        return (_rebuild_tensor, (obj.dtype.name, tuple(obj._data.shape), arr.tobytes(),
                                  obj._requires_grad, str(obj.device), cls, attrs))


def _shares_memory(a, b):
    if isinstance(a, np.ndarray):
        return np.shares_memory(a, b)
    return a.data.mem == b.data.mem


@contextlib.contextmanager
def _open(f, mode):
    if isinstance(f, (str, os.PathLike)):
        with open(f, mode) as fh:
            yield fh
    else:
        yield f


def save(obj, f, pickle_module=pickle, pickle_protocol=DEFAULT_PROTOCOL,
         _use_new_zipfile_serialization=True, _disable_byteorder_record=False):
    """Save ``obj`` (tensors, state_dicts, containers, modules...) to a path or a file.

    >>> buf = io.BytesIO(); ember.save({'w': ember.ones(2)}, buf); buf.seek(0)
    >>> ember.load(buf)
    {'w': tensor([1., 1.])}
    """
    with _open(f, "wb") as fh:
        fh.write(_MAGIC)
        pickler = type("_Pickler", (_TensorPickling, pickle_module.Pickler), {})
        pickler(fh, protocol=pickle_protocol).dump(obj)


# ---- loading --------------------------------------------------------------------------
# Protocol 2 names the builtins module "__builtin__" (Python 2's name).
_SAFE_BUILTINS = {(m, n) for m in ("builtins", "__builtin__")
                  for n in ("set", "frozenset", "complex", "slice", "range", "bytearray", "bytes")}
_SAFE = {("collections", "OrderedDict"), ("collections", "defaultdict"),
         ("_codecs", "encode"), ("ember.serialization", "_rebuild_tensor"),
         ("ember.serialization", "_rebuild_view"), ("ember._tensor", "Size"),
         ("ember._tensor", "Tensor"), ("ember._device", "device")} | _SAFE_BUILTINS
_user_safe_globals = []


def add_safe_globals(safe_globals):
    """Allow these classes/functions when loading with ``weights_only=True``."""
    _user_safe_globals.extend(safe_globals)


def get_safe_globals():
    return list(_user_safe_globals)


def clear_safe_globals():
    _user_safe_globals.clear()


@contextlib.contextmanager
def safe_globals(safe_globals):
    n = len(_user_safe_globals)
    _user_safe_globals.extend(safe_globals)
    try:
        yield
    finally:
        del _user_safe_globals[n:]


def _weights_only_error(module, name):
    return pickle.UnpicklingError(
        "Weights only load failed. This file can still be loaded, to do so you have two "
        "options, do those steps only if you trust the source of the checkpoint. \n\t(1) "
        "Re-running `ember.load` with `weights_only` set to `False` will likely succeed, but "
        "it can result in arbitrary code execution. Do it only if you got the file from a "
        "trusted source.\n\t(2) Alternatively, to load with `weights_only=True` please check "
        "the recommended steps in the following error message.\n\tWeightsUnpickler error: "
        f"Unsupported global: GLOBAL {module}.{name} was not an allowed global by default. "
        f"Please use `ember.serialization.add_safe_globals([{name}])` or the "
        f"`ember.serialization.safe_globals([{name}])` context manager to allowlist this "
        "global if you trust this class/function.")


class _CheckedUnpickling:
    """Mixed into the Unpickler of ``load``'s ``pickle_module``: the ``weights_only``
    allowlist."""

    def __init__(self, fh, weights_only, **kwargs):
        super().__init__(fh, **kwargs)
        self._weights_only = weights_only

    def find_class(self, module, name):
        if not self._weights_only:
            return super().find_class(module, name)
        if (module, name) in _SAFE:
            return super().find_class(module, name)
        if module == "ember._dtype":
            obj = super().find_class(module, name)
            if isinstance(obj, D.dtype):
                return obj
        for g in _user_safe_globals:
            if getattr(g, "__module__", None) == module and \
                    getattr(g, "__qualname__", getattr(g, "__name__", None)) == name:
                return g
        if module.startswith("ember."):
            obj = super().find_class(module, name)
            if isinstance(obj, type) and issubclass(obj, Tensor):
                return obj   # nn.Parameter, nn.Buffer
        raise _weights_only_error(module, name)


class _Loading:
    """The map_location of the load in progress (tensors are placed as they are rebuilt)."""
    _stack = []

    def __init__(self, map_location):
        self.map_location = map_location

    @classmethod
    def current(cls):
        return cls._stack[-1] if cls._stack else _Loading(None)

    def place(self, t, device_str):
        loc = self.map_location
        if loc is None:
            target = device_str
        elif callable(loc) and not isinstance(loc, (str, _device)):
            out = loc(t, device_str)
            return t if out is None else out
        elif isinstance(loc, dict):
            target = loc.get(device_str, device_str)
        else:
            target = str(loc)
        if _device(target).type == "cpu":
            return t
        return t.to(target)


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None,
         **pickle_load_args):
    """Load an object saved by ``save`` from a path or a file.

    ``map_location`` (a device, a string, a ``{saved: target}`` dict or a callable
    ``(tensor, saved_location)``) says where tensors go; ``weights_only`` (default True)
    refuses anything but tensors, containers and allowlisted globals.
    """
    if weights_only is None:
        weights_only = pickle_module is None
    if weights_only and pickle_module is not None:
        raise RuntimeError("Can not safely load weights when explicit pickle_module is "
                           "specified")
    if isinstance(map_location, str) or isinstance(map_location, _device):
        _device(map_location)   # validate early, with the device's own error
    with _open(f, "rb") as fh:
        magic = fh.read(len(_MAGIC))
        if magic != _MAGIC:
            raise RuntimeError("Invalid magic number; corrupt file? (not a file written by "
                               "ember.save)")
        _Loading._stack.append(_Loading(map_location))
        try:
            pickle_load_args.setdefault("encoding", "utf-8")
            unpickler = type("_Unpickler", (_CheckedUnpickling,
                                            (pickle_module or pickle).Unpickler), {})
            return unpickler(fh, weights_only, **pickle_load_args).load()
        finally:
            _Loading._stack.pop()

