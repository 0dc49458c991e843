"""``grad_fn._saved_<name>`` and ``grad_fn._raw_saved_<name>``: what a node saved, under
torch's names (derivatives.yaml's argument names).

Looked up only when an attribute read on a node misses (``OpNode.__getattr__``), so
recording a node pays nothing for it.  The defaults cover most ops: the saved inputs
are ``self``, ``other``; a saved result is ``result``; params go by their keyword names
(``dim``, ``keepdim``, ``alpha``...); ``self_sym_sizes`` is the first input's shape.
The tables below hold the exceptions.
"""
import numpy as np

from .. import _dtype as D
from .._tensor import Tensor, _make
from ..autograd.grad_mode import _state
from ..autograd.saved import SavedTensor, unpack, unpack_result

# Saved inputs' names where they are not (self, other).
_INPUT_NAMES = {"mm": ("self", "mat2"), "bmm": ("self", "mat2"),
                "addmm": ("self", "mat1", "mat2"), "pow": ("self", "exponent"),
                "clamp": ("self", "min", "max"), "where": ("condition", "self", "other"),
                "addcmul": ("self", "tensor1", "tensor2"),
                "addcdiv": ("self", "tensor1", "tensor2"),
                "lerp": ("self", "end", "weight"), "index_select": ("self", "index")}
# torch saves an input only when the gradient it serves is needed: name -> input index.
_SAVED_FOR = {"mul": {"self": 1, "other": 0}, "div": {"self": 1}}
# Params torch keeps though Ember's call omitted them (their defaults).
_DEFAULTS = {"add": {"alpha": 1}, "sub": {"alpha": 1}}
# Params that are Ember's own bookkeeping, not torch's saved values.
_HIDDEN = frozenset({"dtype", "sizes", "pos", "input_pos", "storage"})
# Tensor arguments torch receives a Python number for as a 0-dim "wrapped number" tensor.
_WRAPPED = frozenset({"other"})
_WRAPPED_DTYPE = {bool: D.bool, int: D.int64, float: D.float64, complex: D.complex128}


def _input_names(op):
    names = _INPUT_NAMES.get(op.name)
    if names is None:
        names = ("self", "other") + tuple(f"input{i}" for i in range(2, len(op.save)))
    return {names[i]: k for k, i in enumerate(op.save) if i < len(names)}


def _wrap(name, value):
    if name in _WRAPPED and type(value) in _WRAPPED_DTYPE:
        return _make(np.asarray(value, dtype=_WRAPPED_DTYPE[type(value)].np))
    return value


def saved_attribute(node, attr):
    """The value of ``node.<attr>`` for ``attr`` = ``_saved_<name>`` or ``_raw_saved_<name>``."""
    raw = attr.startswith("_raw_saved_")
    name = attr[len("_raw_saved_" if raw else "_saved_"):]
    op = node.op
    if name == "result" and op.save_result:
        return _RawSaved(node, None) if raw else unpack_result(node)
    slots = _input_names(op)
    if name in slots:
        need = _SAVED_FOR.get(op.name, {}).get(name)
        if need is not None and not node.needs_input_grad[need]:
            return _RawSaved(node, False) if raw else None
        if raw:
            return _RawSaved(node, slots[name])
        return _wrap(name, unpack(node, node._saved, node._versions)[slots[name]])
    if not raw:
        params = node._params
        if name in params and name not in _HIDDEN and params[name] is not None:
            value = params[name]
            return _make(value) if isinstance(value, np.ndarray) else value
        default = _DEFAULTS.get(op.name, {})
        if name in default:
            return default[name]
        arg, _, what = name.rpartition("_sym_")
        if what in ("sizes", "strides", "numel"):
            return _geometry(node, slots, arg, what, attr)
    raise AttributeError(f"'{type(node).__name__}' object has no attribute '{attr}'")


def _geometry(node, slots, arg, what, attr):
    """``<arg>_sym_sizes`` / ``_sym_strides`` / ``_sym_numel``: of the saved input ``arg``,
    or of input 0 (``self``) from its recorded shape when it is not saved."""
    if arg in slots:
        t = unpack(node, node._saved, node._versions)[slots[arg]]
        if isinstance(t, Tensor):
            return tuple(t.shape) if what == "sizes" else \
                t.stride() if what == "strides" else t.numel()
    meta = node._input_meta[0] if arg == "self" and node._input_meta else None
    if meta is not None and what != "strides":
        return tuple(meta[0]) if what == "sizes" else int(np.prod(meta[0], dtype=np.int64))
    raise AttributeError(f"'{type(node).__name__}' object has no attribute '{attr}'")


class _RawSaved:
    """torch's ``torch._C._autograd.SavedTensor`` for one value a node saved: an input slot
    (index), the node's result (None), or nothing (False: not saved)."""

    __slots__ = ("node", "slot")

    def __init__(self, node, slot):
        self.node, self.slot = node, slot

    def register_hooks(self, pack_hook, unpack_hook):
        """Pack the saved tensor now; unpack it through ``unpack_hook`` whenever needed."""
        if not (callable(pack_hook) and callable(unpack_hook)):
            raise TypeError("register_hooks(): incompatible function arguments. The following "
                            "argument types are supported:\n    1. (self: torch._C._autograd."
                            "SavedTensor, arg0: collections.abc.Callable, arg1: collections.abc."
                            "Callable) -> None")
        node, slot = self.node, self.slot
        if slot is False:
            raise RuntimeError("Calling register_hooks on a saved tensor with value None is "
                               "forbidden")
        if (node._result if slot is None else node._saved) is None:
            raise RuntimeError("Calling register_hooks on a saved tensor after it has been "
                               "freed. Saved intermediate values of the graph are freed when "
                               "you call .backward() or autograd.grad(). Specify "
                               "retain_graph=True if you need to backward through the graph a "
                               "second time or if you need to access saved variables after "
                               "calling backward.")
        hooks = [(pack_hook, unpack_hook)]
        if slot is None:
            if node._result_vc is None and node._result.unpack_hook is not None:
                _already_set()
            node._result = _hooked(unpack_result(node), node, hooks)
            node._result_vc = None
            return
        saved = list(node._saved)
        if node._versions is not None:  # the plain form: give each value its own record
            for i, (t, v) in enumerate(zip(saved, node._versions)):
                if isinstance(t, Tensor):
                    saved[i] = SavedTensor(t, node)
                    saved[i].version = v
        elif type(saved[slot]) is SavedTensor and saved[slot].unpack_hook is not None:
            _already_set()
        t = unpack(node, (saved[slot],), None)[0]
        if not isinstance(t, Tensor):
            raise RuntimeError("Calling register_hooks on a saved tensor with value None is "
                               "forbidden")
        saved[slot] = _hooked(t, node, hooks)
        node._saved, node._versions = tuple(saved), None


def _hooked(t, node, hooks):
    prev = _state.saved_hooks  # SavedTensor leaves the hooks it was given as the active ones
    try:
        return SavedTensor(t, node, hooks)
    finally:
        _state.saved_hooks = prev


def _already_set():
    raise RuntimeError("Calling register_hooks on a saved tensor whose hooks have already been "
                       "set. Hint: only one pair of hooks is allowed at a time.")

