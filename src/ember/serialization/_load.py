"""Unpickling torch checkpoints into Ember objects.

torch's global names (``torch._utils._rebuild_tensor_v2``, ``torch.FloatStorage``,
``torch.Size`` ...) resolve to the Ember functions and classes below.  With
``weights_only`` only those names, the few builtins torch allows and the user's
``add_safe_globals`` resolve at all: the unpickler cannot reach any other callable, so
a hostile pickle can build nothing but tensors, containers and allowlisted objects.
"""
import collections
import importlib
import math
import pickle
import struct
from _compat_pickle import IMPORT_MAPPING, NAME_MAPPING

from .. import _dtype as D
from .._device import array_module, device as _device, device_scope, to_device_array
from .._tensor import Size, Tensor, _make, _new

UNSAFE_MESSAGE = (
    "In PyTorch 2.6, we changed the default value of the `weights_only` argument in "
    "`torch.load` from `False` to `True`. Re-running `torch.load` with `weights_only` set "
    "to `False` will likely succeed, but it can result in arbitrary code execution. Do it "
    "only if you got the file from a trusted source.")
DOCS_MESSAGE = (
    "\n\nCheck the documentation of torch.load to learn more about types accepted by "
    "default with weights_only https://pytorch.org/docs/stable/generated/torch.load.html.")
_BLOCKED_MODULES = ("sys", "os", "posix", "nt")


# ---- storages -------------------------------------------------------------------------
class StorageType:
    """What ``torch.FloatStorage`` & co. unpickle to: a name for a dtype."""

    def __init__(self, dtype):
        self.dtype = dtype

    def __repr__(self):
        return f"StorageType(dtype={self.dtype})"


_STORAGE_TYPES = {d._legacy + "Storage": StorageType(d) for d in vars(D).values()
                  if isinstance(d, D.dtype)}
_STORAGE_TYPES["UntypedStorage"] = StorageType(D.uint8)


class Storage:
    """A loaded storage: a 1-D array of its dtype on its device.  ``map_location``
    callables receive one (on the CPU) and return it or another from ``.to``/``.cuda``."""

    def __init__(self, array, dtype, device):
        self.array = array
        self.dtype = dtype
        self.device = device
        self._tensors = []     # tensors built on it (they share its memory)
        self._base = None      # a tensor of the whole storage, once two tensors use it

    def nbytes(self):
        return self.array.nbytes

    def size(self):
        return self.array.size

    __len__ = size

    def to(self, device):
        dev = _device(device)
        if dev == self.device:
            return self
        return Storage(to_device_array(self.array, dev), self.dtype, dev)

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda" if device is None else _device("cuda", device)
                       if isinstance(device, int) else device)

    def __repr__(self):
        return f"Storage(dtype={self.dtype}, device={self.device}, size={self.size()})"

    def __setstate__(self, state):   # a pickle's BUILD must not retarget a storage
        raise pickle.UnpicklingError("Can only build Tensor, Parameter, OrderedDict or types "
                                     f"allowlisted via `add_safe_globals`, but got {type(self)}")

    def view(self, offset, size, stride):
        """A tensor over this storage: ``size``/``stride``/``offset`` in elements."""
        n = len(self.array)
        if any(type(v) is not int or v < 0 for v in (offset, *size, *stride)) or \
                len(size) != len(stride):
            raise CorruptRecord(f"invalid tensor geometry: offset {offset}, size "
                                f"{tuple(size)}, stride {tuple(stride)}")
        numel = math.prod(size)
        if numel and offset + sum((a - 1) * s for a, s in zip(size, stride)) >= n:
            raise CorruptRecord(f"a tensor of size {tuple(size)} reaches past the end of "
                                f"its storage of {n} elements: the file is corrupted")
        arr = self.array
        xp = array_module(arr)
        k = arr.itemsize
        # the storage's device current while viewing it: the CPU stand-in for CuPy places
        # views on the current device, where CuPy keeps them on their base's
        with device_scope(self.device):
            if numel == 0:
                data = arr[:0].reshape(size)
            elif tuple(stride) == _contiguous_strides(size):
                data = arr[offset:offset + numel].reshape(size)
            else:
                data = xp.lib.stride_tricks.as_strided(arr[offset:], shape=tuple(size),
                                                       strides=tuple(s * k for s in stride))
        t = _make(data)
        self._tensors.append(t)
        # Tensors over one storage share memory; as in Ember any two tensors that do,
        # they become views of one base tensor (sharing its version counter).
        if len(self._tensors) == 2:
            self._base = _make(arr)
            for u in self._tensors:
                u._base, u._vc = self._base, self._base._vc
        elif self._base is not None:
            t._base, t._vc = self._base, self._base._vc
        return t


def _contiguous_strides(size):
    out, step = [], 1
    for n in reversed(size):
        out.append(step)
        step *= max(n, 1)
    return tuple(reversed(out))


class CorruptRecord(Exception):
    """A record that cannot be what torch wrote; ``load`` reports it naming the file."""


# ---- the functions torch's pickles call -----------------------------------------------
def _set_requires_grad(t, requires_grad):
    if requires_grad:
        t.requires_grad_(True)
    return t


def rebuild_tensor(storage, storage_offset, size, stride):
    return storage.view(storage_offset, size, stride)


def rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                      metadata=None):
    return _set_requires_grad(storage.view(storage_offset, size, stride), requires_grad)


def rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                      dtype, metadata=None):
    t = storage.view(storage_offset, size, stride)
    if dtype is not storage.dtype:
        t = _make(t._data.view(dtype.np))
    return _set_requires_grad(t, requires_grad)


def rebuild_parameter(data, requires_grad, backward_hooks):
    from ..nn.parameter import Parameter
    return Parameter(data, requires_grad)


def rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    p = rebuild_parameter(data, requires_grad, backward_hooks)
    _set_state(p, state)
    return p


def rebuild_from_type_v2(func, new_type, args, state):
    t = func(*args)
    if new_type is not Tensor and type(t) is not new_type:
        sub = _new(new_type)
        sub.__dict__.update(t.__dict__)
        t = sub
    _set_state(t, state)
    return t


def _set_state(obj, state):
    if not state:
        return
    setstate = getattr(type(obj), "__setstate__", None)
    if setstate is not None and setstate is not object.__dict__.get("__setstate__"):
        obj.__setstate__(state)
    elif isinstance(state, tuple):
        for part in state:
            if part:
                obj.__dict__.update(part)
    else:
        obj.__dict__.update(state)


def rebuild_device_tensor_from_cpu_tensor(data, dtype, device, requires_grad):
    return _set_requires_grad(data.to(device=device, dtype=dtype), requires_grad)


def _unsupported(kind):
    def rebuild(*args, **kwargs):
        raise RuntimeError(f"ember.load: {kind} tensors are not supported by Ember")
    return rebuild


def get_layout(name):
    if name != "torch.strided":
        raise RuntimeError(f"ember.load: layout {name} is not supported by Ember")
    return name


def _torch_names():
    """torch's weights-only allowlist, by name, with Ember's objects behind the names."""
    from ..nn.parameter import Parameter
    names = {
        "collections.OrderedDict": collections.OrderedDict,
        "collections.Counter": collections.Counter,
        "torch.nn.parameter.Parameter": Parameter,
        "torch.serialization._get_layout": get_layout,
        "torch.Size": Size,
        "torch.Tensor": Tensor,
        "torch.device": _device,
        "_codecs.encode": __import__("_codecs").encode,
        "builtins.bytearray": bytearray,
        "builtins.set": set,
        "builtins.complex": complex,
        "torch._utils._rebuild_tensor": rebuild_tensor,
        "torch._utils._rebuild_tensor_v2": rebuild_tensor_v2,
        "torch._utils._rebuild_tensor_v3": rebuild_tensor_v3,
        "torch._utils._rebuild_parameter": rebuild_parameter,
        "torch._utils._rebuild_parameter_with_state": rebuild_parameter_with_state,
        "torch._utils._rebuild_device_tensor_from_cpu_tensor":
            rebuild_device_tensor_from_cpu_tensor,
        "torch._tensor._rebuild_from_type_v2": rebuild_from_type_v2,
    }
    for kind, fn in (("quantized", "_rebuild_qtensor"), ("sparse", "_rebuild_sparse_tensor"),
                     ("meta", "_rebuild_meta_tensor_no_storage"),
                     ("nested", "_rebuild_nested_tensor"),
                     ("wrapper subclass", "_rebuild_wrapper_subclass"),
                     ("NumPy-backed device", "_rebuild_device_tensor_from_numpy")):
        names[f"torch._utils.{fn}"] = _unsupported(kind)
    for d in vars(D).values():
        if isinstance(d, D.dtype):
            names[f"torch.{d.name}"] = d
            names[f"torch.{d._legacy}Tensor"] = Tensor
    for name, st in _STORAGE_TYPES.items():
        names[f"torch.{name}"] = st
    names["torch.storage.UntypedStorage"] = _STORAGE_TYPES["UntypedStorage"]
    return names


_TORCH_NAMES = None


def torch_names():
    global _TORCH_NAMES
    if _TORCH_NAMES is None:
        _TORCH_NAMES = _torch_names()
    return _TORCH_NAMES


# ---- the allowlist the user extends ---------------------------------------------------
_user_safe_globals = set()


def _user_names():
    out = {}
    for g in _user_safe_globals:
        if isinstance(g, tuple):
            if len(g) != 2:
                raise ValueError("Expected tuple of length 2 (global, str of callable full "
                                 f"path), but got tuple of length: {len(g)}")
            if type(g[1]) is not str:
                raise TypeError("Expected second item in tuple to be str of callable full "
                                f"path, but got: {type(g[1])}")
            out[g[1]] = g[0]
        else:
            out[f"{g.__module__}.{g.__qualname__}"] = g
    return out


# ---- unpicklers -----------------------------------------------------------------------
def _python3_name(module, name):
    if (module, name) in NAME_MAPPING:
        return NAME_MAPPING[(module, name)]
    return IMPORT_MAPPING.get(module, module), name


class _PersistentStorages:
    """``persistent_load`` for storages: ``storage_for(storage_type, key, location,
    numel, view_metadata)`` is given by the loader."""

    def persistent_load(self, pid):
        if type(pid) is not tuple or not pid:
            raise pickle.UnpicklingError(f"persistent_load id must be tuple or int, but got "
                                         f"{type(pid)}")
        kind = pid[0].decode("ascii") if isinstance(pid[0], bytes) else pid[0]
        if kind != "storage" or len(pid) not in (5, 6):
            raise pickle.UnpicklingError(f"Only persistent_load of storage is allowed, but "
                                         f"got {kind!r}")
        stype, key, location = pid[1], pid[2], pid[3]
        if isinstance(location, bytes):
            location = location.decode("ascii")
        if not isinstance(stype, StorageType) or type(pid[4]) is not int or pid[4] < 0:
            raise pickle.UnpicklingError(f"invalid storage id {pid!r}")
        return self.storage_for(stype.dtype, str(key), location, pid[4],
                                pid[5] if len(pid) == 6 else None)


class WeightsOnlyMixin(_PersistentStorages):
    """find_class limited to torch's allowlist and the user's safe globals, and torch's
    limits on what the other opcodes may touch: only allowlisted callables are called or
    instantiated, BUILD only sets the state of tensors, OrderedDicts and allowlisted
    types, items only go into lists and dicts.  (Mixed into the pure-Python unpickler,
    whose opcodes can be overridden one by one.)"""

    class _Dispatch(dict):
        def __missing__(self, opcode):
            raise pickle.UnpicklingError(f"Unsupported operand {opcode}")

    dispatch = _Dispatch(pickle._Unpickler.dispatch)

    def load(self):
        # Malformed data fails inside the pure-Python opcodes with whatever error the
        # bytes provoke; like torch's unpickler, report it as an UnpicklingError.
        try:
            return pickle._Unpickler.load(self)
        except (ValueError, KeyError, IndexError, TypeError, AttributeError,
                struct.error) as e:
            raise pickle.UnpicklingError(f"{type(e).__name__}: {e}") from None

    def find_class(self, module, name):
        module, name = _python3_name(module, name)
        full = f"{module}.{name}"
        if module in _BLOCKED_MODULES:
            raise pickle.UnpicklingError(f"Trying to load unsupported GLOBAL {full} whose "
                                         f"module {module} is blocked.")
        names = torch_names()
        if full in names:
            return names[full]
        user = _user_names()
        if full in user:
            return user[full]
        shown = full[len("builtins."):] if full.startswith("builtins.") else full
        raise pickle.UnpicklingError(
            f"Unsupported global: GLOBAL {shown} was not an allowed global by default. "
            f"Please use `torch.serialization.add_safe_globals([{shown}])` or the "
            f"`torch.serialization.safe_globals([{shown}])` context manager to allowlist "
            "this global if you trust this class/function.")

    def _allowed(self, obj):
        return any(obj is v for v in torch_names().values()) or \
            any(obj is v for v in _user_names().values())

    def _check(self, opcode, target):
        """Refuse ``opcode`` on ``target`` where torch's weights-only unpickler does."""
        if opcode in (pickle.REDUCE, pickle.NEWOBJ):
            if not self._allowed(target):
                raise pickle.UnpicklingError(
                    f"Trying to call reduce for unrecognized function {target}"
                    if opcode == pickle.REDUCE else
                    "Can only create new object for nn.Parameter or classes allowlisted via "
                    f"`add_safe_globals` but got {target}")
        elif opcode == pickle.BUILD:
            if not (type(target) in (collections.OrderedDict, collections.Counter) or
                    isinstance(target, Tensor) or self._allowed(type(target))):
                raise pickle.UnpicklingError(
                    "Can only build Tensor, Parameter, OrderedDict or types allowlisted via "
                    f"`add_safe_globals`, but got {type(target)}")
        elif opcode in (pickle.APPEND, pickle.APPENDS):
            if type(target) is not list:
                what = "append to" if opcode == pickle.APPEND else "extend"
                raise pickle.UnpicklingError(f"Can only {what} lists, but got {type(target)}")
        elif type(target) not in (dict, collections.OrderedDict, collections.Counter):
            name = "SETITEM" if opcode == pickle.SETITEM else "SETITEMS"
            raise pickle.UnpicklingError(f"Can only {name} for dict, collections.OrderedDict, "
                                         f"collections.Counter, but got {type(target)}")

    def _guarded(opcode, target, load):
        def guarded(self):
            self._check(opcode, target(self))
            load(self)
        return guarded

    for _op, _target, _load in (
            (pickle.REDUCE, lambda u: u.stack[-2], pickle._Unpickler.load_reduce),
            (pickle.NEWOBJ, lambda u: u.stack[-2], pickle._Unpickler.load_newobj),
            (pickle.BUILD, lambda u: u.stack[-2], pickle._Unpickler.load_build),
            (pickle.APPEND, lambda u: u.stack[-2], pickle._Unpickler.load_append),
            (pickle.APPENDS, lambda u: u.metastack[-1][-1], pickle._Unpickler.load_appends),
            (pickle.SETITEM, lambda u: u.stack[-3], pickle._Unpickler.load_setitem),
            (pickle.SETITEMS, lambda u: u.metastack[-1][-1], pickle._Unpickler.load_setitems)):
        dispatch[_op[0]] = _guarded(_op, _target, _load)
    for _op in (pickle.NEWOBJ_EX, pickle.OBJ, pickle.INST, pickle.ADDITEMS):
        del dispatch[_op[0]]     # forms torch's weights-only unpickler refuses too
    del _op, _target, _load, _guarded


class FullMixin(_PersistentStorages):
    """find_class for trusted files: torch's names map to Ember's (``torch.nn...`` to
    ``ember.nn...`` where Ember has the same module), everything else is imported."""

    def find_class(self, module, name):
        module, name = _python3_name(module, name)
        full = f"{module}.{name}"
        names = torch_names()
        if full in names:
            return names[full]
        if module == "torch" or module.startswith("torch."):
            try:
                obj = importlib.import_module("ember" + module[len("torch"):])
                for part in name.split("."):
                    obj = getattr(obj, part)
                return obj
            except (ImportError, AttributeError):
                raise pickle.UnpicklingError(f"ember.load: {full} has no Ember "
                                             "counterpart") from None
        return super().find_class(module, name)


def unwrap_error(e):
    """torch's weights-only error message around the unpickler's ``e``."""
    message = str(e)
    if "was not an allowed global by default." in message:
        return (
            "Weights only load failed. This file can still be loaded, to do so you have two "
            "options, \033[1mdo those steps only if you trust the source of the "
            f"checkpoint\033[0m. \n\t(1) {UNSAFE_MESSAGE}\n\t(2) Alternatively, to load with "
            "`weights_only=True` please check the recommended steps in the following error "
            "message.\n\tWeightsUnpickler error: " + message + DOCS_MESSAGE)
    out = f"Weights only load failed. {UNSAFE_MESSAGE}\n"
    if "is blocked" not in message:
        out += ("Please file an issue with the following so that we can make "
                "`weights_only=True` compatible with your use case: WeightsUnpickler error: ")
    return out + "\n\n" + message + DOCS_MESSAGE


class _Anything:
    """Whatever a global is during the legacy format's first pass, which only collects
    the storages' dtypes: it accepts every operation and runs nothing."""

    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        return _Anything()

    def __setstate__(self, state):
        pass

    def append(self, item):
        pass

    def extend(self, items):
        pass

    def __setitem__(self, key, value):
        pass


class ScanMixin(_PersistentStorages):
    def find_class(self, module, name):
        module, name = _python3_name(module, name)
        if module == "torch" and name in _STORAGE_TYPES:
            return _STORAGE_TYPES[name]
        return _Anything


def unpickler(pickle_module, mixin, storage_for, fh, **kwargs):
    if mixin is WeightsOnlyMixin:
        base = pickle._Unpickler
    else:
        base = pickle.Unpickler if pickle_module is None else pickle_module.Unpickler
    cls = type("_EmberTorchUnpickler", (mixin, base), {"storage_for": staticmethod(storage_for)})
    return cls(fh, **kwargs)

