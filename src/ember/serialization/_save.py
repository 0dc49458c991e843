"""Pickling Ember objects into torch's checkpoint pickle, without importing torch.

A torch checkpoint names torch's own functions and classes (``torch._utils
._rebuild_tensor_v2``, ``torch.FloatStorage``, ``torch.float32`` ...) as pickle GLOBALs.
Python's picklers only write a GLOBAL for an object they can import back, so these
names are written by hand: ``TorchName`` stand-ins, which the pure-Python pickler's
dispatch table (the C pickler has none to extend) turns into GLOBAL opcodes.  Storages
go out of band as persistent ids, as torch's writer does.
"""
import collections
import pickle

import numpy as np

from .. import _dtype as D
from .._device import data_ptr
from .._tensor import Size, Tensor, _host


class TorchName:
    """Stands for the global ``module.name`` in a pickle."""

    __slots__ = ("module", "name")
    _cache = {}

    def __new__(cls, module, name):
        key = (module, name)
        if key not in cls._cache:
            obj = object.__new__(cls)
            obj.module, obj.name = module, name
            cls._cache[key] = obj
        return cls._cache[key]

    def __call__(self, *args):   # pickle's save_reduce insists on a callable
        raise TypeError(f"{self.module}.{self.name} is a name in a torch pickle")


REBUILD_TENSOR = TorchName("torch._utils", "_rebuild_tensor_v2")
REBUILD_PARAMETER = TorchName("torch._utils", "_rebuild_parameter")
REBUILD_PARAMETER_WITH_STATE = TorchName("torch._utils", "_rebuild_parameter_with_state")
REBUILD_FROM_TYPE = TorchName("torch._tensor", "_rebuild_from_type_v2")


def storage_type(dtype):
    return TorchName("torch", dtype._legacy + "Storage")


def _save_torch_name(pickler, obj):
    pickler.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode("utf-8"))
    pickler.memoize(obj)


def _save_dtype(pickler, obj):
    pickler.save(TorchName("torch", obj.name))


class _StorageRef:
    """One storage (a contiguous memory block) seen while pickling."""

    __slots__ = ("key", "array", "dtype", "location")

    def __init__(self, key, array, dtype, location):
        self.key, self.array, self.dtype, self.location = key, array, dtype, location

    @property
    def numel(self):
        return self.array.nbytes // self.dtype.itemsize

    def payload(self):
        """The storage's bytes, in memory order, little-endian, on the host."""
        a = _host(self.array)
        if not a.dtype.isnative and a.dtype.byteorder == ">":
            a = a.astype(a.dtype.newbyteorder("<"))
        return np.ascontiguousarray(a.reshape(-1, order="A")).view(np.uint8)


class _Plain:
    """A Parameter's data, pickled as a plain tensor inside ``_rebuild_parameter``."""

    __slots__ = ("tensor",)

    def __init__(self, tensor):
        self.tensor = tensor


def _root(array):
    """The array owning the memory that ``array`` views, found through the ``base`` chain
    (which may pass through non-array holders, such as ``as_strided``'s)."""
    root, obj = array, array.base
    while obj is not None:
        if isinstance(obj, (np.ndarray, type(array))):
            root = obj
        obj = getattr(obj, "base", None)
    return root


def _strides(t, strides):
    """Strides in elements; an empty tensor's, which NumPy may leave as zeros, as torch
    gives them (contiguous)."""
    if t._data.size == 0:
        return t.stride()
    return tuple(s // t.dtype.itemsize for s in strides)


def _is_block(array):
    return array.flags.c_contiguous or array.flags.f_contiguous


class StorageTable:
    """Storages in the order torch numbers them: by first appearance while pickling."""

    def __init__(self):
        self.refs = {}     # id(root array) -> _StorageRef (which keeps the array alive)
        self.order = []

    def locate(self, t):
        """(storage, offset, strides) of tensor ``t``, in elements of its dtype."""
        data = t._data
        dtype = t.dtype
        k = dtype.itemsize
        root = _root(data)
        if _is_block(root) and root.nbytes % k == 0:
            offset = data_ptr(data) - data_ptr(root)
            strides = data.strides
            end = offset + (sum((n - 1) * s for n, s in zip(data.shape, strides)) + k
                            if data.size else 0)
            if offset >= 0 and offset % k == 0 and end <= root.nbytes and \
                    all(s >= 0 and s % k == 0 for s in strides):
                return self._ref(root, dtype, t), offset // k, _strides(t, strides)
        # Not a plain strided view of one memory block (negative strides, say): the
        # tensor gets a contiguous copy as its own storage.
        copy = data.copy()
        return self._ref(copy, dtype, t), 0, _strides(t, copy.strides)

    def _ref(self, array, dtype, t):
        key = id(array)
        ref = self.refs.get(key)
        if ref is None:
            ref = _StorageRef(str(len(self.order)), array, dtype, str(t.device))
            self.refs[key] = ref
            self.order.append(ref)
        elif ref.dtype is not dtype:
            raise RuntimeError("Cannot save multiple tensors or storages that view the same "
                               "data as different types")
        return ref


def _public_state(t):
    return {k: v for k, v in t.__dict__.items() if not k.startswith("_")}


class TorchPicklerMixin:
    """Mixed into a pure-Python ``Pickler``: tensors, dtypes, devices and Size are
    written as torch writes them; storages become persistent ids (``legacy`` gives the
    6-element ids of the pre-zip format)."""

    def __init__(self, *args, legacy=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.storages = StorageTable()
        self.legacy = legacy

    def persistent_id(self, obj):
        if type(obj) is not _StorageRef:
            return None
        pid = ("storage", storage_type(obj.dtype), obj.key, obj.location, obj.numel)
        return pid + (None,) if self.legacy else pid

    def reducer_override(self, obj):
        if isinstance(obj, _Plain):
            return self._tensor_args(obj.tensor, False)
        if isinstance(obj, Tensor):
            if "_uninit_dtype" in obj.__dict__:   # a lazy module's placeholder
                return NotImplemented
            from ..nn.parameter import Buffer, Parameter
            cls = type(obj)
            state = _public_state(obj)
            if cls is Parameter:
                args = (_Plain(obj), obj._requires_grad, collections.OrderedDict())
                if state:
                    return (REBUILD_PARAMETER_WITH_STATE, args + (state,))
                return (REBUILD_PARAMETER, args)
            # A Buffer is a plain tensor once registered, as torch's nn.Buffer.
            if (cls is Tensor and not state) or cls is Buffer:
                return self._tensor_args(obj, obj._requires_grad)
            func, args = self._tensor_args(obj, obj._requires_grad)
            return (REBUILD_FROM_TYPE, (func, TorchName("torch", "Tensor") if cls is Tensor
                                        else cls, args, state))
        if type(obj) is Size:
            return (TorchName("torch", "Size"), (tuple(obj),))
        from .._device import device
        if type(obj) is device:
            return (TorchName("torch", "device"),
                    (obj.type,) if obj.index is None else (obj.type, obj.index))
        return NotImplemented

    def _tensor_args(self, t, requires_grad):
        ref, offset, strides = self.storages.locate(t)
        return (REBUILD_TENSOR, (ref, offset, tuple(t._data.shape), strides, requires_grad,
                                 collections.OrderedDict()))


def pickler_class(pickle_module):
    """A Pickler class built on ``pickle_module.Pickler``, which must be a pure-Python
    pickler (``pickle._Pickler`` or a subclass, as dill's is): only its dispatch table can
    be taught to write torch's names.  For ``pickle`` itself that is ``pickle._Pickler``."""
    base = pickle._Pickler if pickle_module is pickle else pickle_module.Pickler
    if not isinstance(getattr(base, "dispatch", None), dict):
        raise TypeError(f"ember.save needs a pure-Python Pickler (a subclass of "
                        f"pickle._Pickler) to write torch's global names without torch; "
                        f"{base.__module__}.{base.__qualname__} is not one")
    dispatch = {**base.dispatch, TorchName: _save_torch_name, D.dtype: _save_dtype}
    return type("_EmberTorchPickler", (TorchPicklerMixin, base), {"dispatch": dispatch})
