"""In-place ops (``x.add_(y)``, ``x[i] = v``, ``F.relu(x, inplace=True)``, ...): the one
implementation.

Every in-place write goes through the same phases: torch's refusals (inference tensors,
leaves and views of leaves that require grad, outputs of multi-output views); the
result computed out of place (by a registry op, ``apply_inplace``, or by any function
of Ember ops, ``apply_inplace_fn``), from a copy of the old value where the backward
needs it; torch's shape, castability and overlap checks; the write into the tensor's
array and its version bump (so saved-tensor checks see the write); the rebase of its
autograd history onto the new node.

Writing through a view changes its base too.  As torch does (CopySlices), the base's
history becomes "the old base with the view's region replaced by op(view)", and the
view's history becomes a fresh strided view (AsStridedBackward0) of the new base.  The
region is described by the flat positions of the view's elements in its base, found
from the two arrays' strides and offsets, so every view op is covered by one rule.
"""
import weakref

import numpy as np

from .. import _dtype as D
from .._device import array_module, data_ptr
from .._tensor import _make
from ..autograd.saved import save_result
from .registry import _EMPTY, _record, _state, apply, defop
from ._xp import ufunc_at


def _address(a):
    """Each element's memory offset, in items, from ``a``'s first element (host array)."""
    item = a.itemsize
    addr = np.zeros(a.shape, dtype=np.int64)
    for d, (n, s) in enumerate(zip(a.shape, a.strides)):
        shape = [1] * a.ndim
        shape[d] = n
        addr = addr + (np.arange(n, dtype=np.int64) * (s // item)).reshape(shape)
    return addr


def view_positions(view, base):
    """Flat (C-order) positions in ``base``'s array of each element of ``view``'s array."""
    v, b = view._data, base._data
    if v.itemsize != b.itemsize:
        raise RuntimeError("Ember cannot differentiate an in-place write through a view with a "
                           "different element size than its base")
    addr = _address(v) + (data_ptr(v) - data_ptr(b)) // v.itemsize
    if b.flags.c_contiguous:
        return addr
    base_addr = _address(b).reshape(-1)
    order = np.argsort(base_addr, kind="stable")
    return order[np.searchsorted(base_addr[order], addr)]


def _positions(pos, like):
    xp = array_module(like)
    return pos if xp is np else xp.asarray(pos)


def _copy_slices_fwd(base, src, pos):
    out = base.copy()
    out.reshape(-1)[_positions(pos, out).reshape(-1)] = src.reshape(-1)
    return out


def _copy_slices_bwd(ctx, g):
    need = ctx.needs_input_grad
    g_base = g_src = None
    if need[0]:
        g_base = apply(copy_slices_op, (g, apply(as_strided_op, (g,), {"pos": ctx.pos}) * 0),
                       {"pos": ctx.pos})
    if need[1]:
        g_src = apply(as_strided_op, (g,), {"pos": ctx.pos})
    return g_base, g_src


def _as_strided_fwd(base, pos):
    return base.reshape(-1)[_positions(pos, base)]


def _as_strided_bwd(ctx, g):
    z = _make(array_module(g._data).zeros(ctx._input_meta[0][0], dtype=g._data.dtype))
    return apply(as_strided_scatter_op, (z, g), {"pos": ctx.pos})


def _as_strided_scatter_fwd(base, src, pos):
    # Overlapping positions (an expanded view) accumulate, as the gradient of a gather must.
    out = base.copy()
    flat = out.reshape(-1)
    idx = _positions(pos, out).reshape(-1)
    ufunc_at("add", flat, idx, src.reshape(-1))
    return out


def _as_strided_scatter_bwd(ctx, g):
    need = ctx.needs_input_grad
    return (g if need[0] else None,
            apply(as_strided_op, (g,), {"pos": ctx.pos}) if need[1] else None)


copy_slices_op = defop("copy_slices", _copy_slices_fwd, _copy_slices_bwd, node="CopySlices")
# torch's CopySlices is no generated node: its name() is the C++ class's.
copy_slices_op.node_cls.name = lambda self: "torch::autograd::CopySlices"
as_strided_op = defop("as_strided", _as_strided_fwd, _as_strided_bwd)
as_strided_scatter_op = defop("as_strided_scatter", _as_strided_scatter_fwd,
                              _as_strided_scatter_bwd)


class _ViewList(list):
    """Weak references to a base's views (see ``apply_view``).  A copied or unpickled
    tensor has no views yet, so copies start empty."""

    limit = 32

    def __deepcopy__(self, memo):
        return _ViewList()

    def __copy__(self):
        return _ViewList()

    def __reduce__(self):
        return (_ViewList, ())


def apply_view(op, inputs, params=_EMPTY):
    """``apply`` for a view op: the view is also remembered (weakly) by its base, so that an
    in-place write through any alias can refresh the history of every live view."""
    out = apply(op, inputs, params)
    if _state.enabled:
        outs = out if type(out) is tuple else (out,)
        base = outs[0]._base if outs else None  # unbind of an empty dim has no outputs
        if base is not None:
            views = base.__dict__.get("_views")
            if views is None:
                views = base._views = _ViewList()
            elif len(views) > views.limit:
                # Drop dead views; the limit doubles with the live ones (amortised O(1)).
                views[:] = [r for r in views if r() is not None]
                views.limit = max(32, 2 * len(views))
            views.extend(weakref.ref(o) for o in outs)
    return out


_INFERENCE_MSG = ("Inplace update to inference tensor outside InferenceMode is not allowed.You "
                  "can make a clone to get a normal tensor before doing inplace update.See "
                  "https://github.com/pytorch/rfcs/pull/17 for more details.")
_LEAF_MSG = "a leaf Variable that requires grad is being used in an in-place operation."
_VIEW_OF_LEAF_MSG = ("a view of a leaf Variable that requires grad is being used in an in-place "
                     "operation.")


def check_inplace(self, grad_on):
    """torch's refusals of any in-place change to ``self``, before anything is computed."""
    if "_inference" in self.__dict__ and not _state.inference:
        raise RuntimeError(_INFERENCE_MSG)
    if grad_on and self._requires_grad:
        base = self._base
        if base is not None and base._requires_grad and base._grad_fn is None:
            raise RuntimeError(_VIEW_OF_LEAF_MSG)
        if self._grad_fn is None and (base is None or not base._requires_grad):
            raise RuntimeError(_LEAF_MSG)
        if base is not None:
            _check_view_writable(self)


def _check_view_writable(self):
    fn = self._grad_fn
    op = getattr(fn, "op", None)
    if op is not None and op.view and op.nout > 1:
        name = type(fn).__name__.replace("Backward0", "").replace("Backward1", "")
        raise RuntimeError(
            f"Output {self._output_nr} of {name} is a view and is being modified inplace. This "
            "view is the output of a function that returns multiple views. Such functions do "
            "not allow the output views to be modified inplace. You should replace the inplace "
            "operation by an out-of-place one.")


def _alias(t, data):
    """A tensor on ``data`` that stands in the graph where ``t`` stands now."""
    a = _make(data)
    a._grad_fn, a._output_nr, a._requires_grad = t._grad_fn, t._output_nr, t._requires_grad
    a._accumulator = t._accumulator
    return a


def _set_history(t, node, output_nr=0):
    t._grad_fn = node
    t._output_nr = output_nr
    t._requires_grad = True


def _write(self, out, grad_on):
    """Check torch's rules for writing ``out`` (computed out of place) into ``self``, write
    it, bump the version and rebase the history.  Returns the node self's history now
    continues through (None if out has none)."""
    if out._data.shape != self._data.shape:
        raise RuntimeError(f"output with shape {list(self._data.shape)} doesn't match the "
                           f"broadcast shape {list(out._data.shape)}")
    sd, od = self.dtype, out.dtype
    if sd is not od and not D.can_cast(od, sd):
        raise RuntimeError(f"result type {od._legacy} can't be cast to the desired output "
                           f"type {sd._legacy}")
    if not self._data.flags.writeable:
        raise RuntimeError("unsupported operation: more than one element of the written-to "
                           "tensor refers to a single memory location. Please clone() the "
                           "tensor before performing the operation.")
    base = self._base
    node = out._grad_fn
    rebase_view = (grad_on and base is not None and node is not None
                   and self._data.dtype.kind in "fcV")
    # The positions before the write: computing them can refuse the view.
    pos = view_positions(self, base) if rebase_view else None
    self._data[...] = out._data
    self._vc[0] += 1
    if node is None:
        return None
    _continue_history(self, out, pos)
    return node


def _continue_history(self, out, pos):
    """``self`` now holds ``out``'s values: its history continues through ``out``'s node;
    through a view (``pos``: its positions in the base), the base's too, as CopySlices."""
    base = self._base
    if pos is not None:
        _rebase_view(self, base, out, pos)
        _refresh_views(base, self)
    else:
        _set_history(self, out._grad_fn, out._output_nr)
        if base is None and "_views" in self.__dict__:
            _refresh_views(self, None)


def rebase_history(self, node, output_nr=0):
    """``self`` was written in place by ``node`` (a custom Function that marked it dirty):
    the same history rebase as every in-place op, CopySlices for a view included."""
    out = _make(self._data)
    _set_history(out, node, output_nr)
    rebase_view = self._base is not None and self._data.dtype.kind in "fcV"
    _continue_history(self, out, view_positions(self, self._base) if rebase_view else None)


def apply_inplace(op, self, others, params=_EMPTY):
    """``self.op_(*others)``: compute out of place, write into self, rebase its history."""
    grad_on = _state.enabled
    if grad_on and self._requires_grad or "_inference" in self.__dict__:
        check_inplace(self, grad_on)
    src = self
    if grad_on and op.save and 0 in op.save and self._requires_grad:
        src = _alias(self, self._data.copy())  # the backward needs self's old value
    out = apply(op, (src,) + tuple(others), params)
    node = _write(self, out, grad_on)
    if node is not None and op.save_result:
        save_result(node, self)  # self, so that later writes to self are caught at backward
    return self


def apply_inplace_fn(self, fn, node_name=None, saves_result=False, backward_error=None):
    """``self`` becomes ``fn(self)``, ``fn`` being any function of Ember ops (a composite
    such as leaky_relu): the same checks, write and history rebase as ``apply_inplace``.

    The resulting grad_fn stands for torch's in-place kernel: ``node_name`` is its name;
    with ``saves_result`` it holds the written tensor as torch's does, so a later write
    to it raises at backward; ``backward_error`` is a message its backward raises (torch
    refuses some in-place backwards, e.g. leaky_relu_'s with a negative slope)."""
    grad_on = _state.enabled
    check_inplace(self, grad_on)
    src = self
    if grad_on and self._requires_grad:
        # fn's nodes may have saved their input: give them a copy that the write keeps.
        src = _alias(self, self._data.copy())
    out = fn(src)
    node = out._grad_fn
    if node_name is not None and node is not None and node is not src._grad_fn:
        node.__class__ = _kernel_node(type(node), node_name, saves_result, backward_error)
    else:
        saves_result = False
    node = _write(self, out, grad_on)
    if saves_result and node is not None:
        save_result(node, self)
    return self


_KERNEL_NODES = {}


def _kernel_node(cls, name, saves_result, backward_error):
    """A subclass of node class ``cls`` named ``name``, its backward preceded by torch's
    in-place kernel's checks."""
    key = (cls, name, saves_result, backward_error)
    sub = _KERNEL_NODES.get(key)
    if sub is None:
        body = {"__slots__": ()}
        if saves_result or backward_error:
            def apply(node, grads):
                if saves_result:
                    _ = node.result  # raises if the written tensor was modified since
                if backward_error:
                    raise RuntimeError(backward_error)
                return cls.apply(node, grads)
            body["apply"] = apply
        sub = _KERNEL_NODES[key] = type(name, (cls,), body)
    return sub


def _rebase_view(view, base, out, pos):
    """The base becomes CopySlices(old base, op(view)); the view a strided view of it."""
    params = {"pos": pos}
    base_node = _record(copy_slices_op, (_alias(base, base._data), out), params)
    _set_history(base, base_node)
    _set_history(view, _record(as_strided_op, (base,), params))


def _refresh_views(base, skip):
    """Point every other live view of ``base`` at its new history (torch regenerates them)."""
    for ref in base.__dict__.get("_views", ()):
        other = ref()
        if (other is not None and other is not skip and other._base is base
                and other._data.dtype.kind in "fcV"
                and other._data.itemsize == base._data.itemsize):
            _set_history(other, _record(as_strided_op, (base,),
                                        {"pos": view_positions(other, base)}))
