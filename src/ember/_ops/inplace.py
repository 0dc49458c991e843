"""In-place ops (``x.add_(y)``, ``x[i] = v``, ...): one shared implementation.

An in-place op is computed out of place by the op's own registry entry, then written
into the tensor's array; the tensor's version counter is bumped (so saved-tensor
checks see the write) and its autograd history is rebased onto the new node.

Writing through a view changes its base too.  As torch does (CopySlices), the base's
history becomes "the old base with the view's region replaced by op(view)", and the
view's history becomes a fresh strided view (AsStridedBackward0) of the new base.  The
region is described by the flat positions of the view's elements in its base, found
from the two arrays' strides and offsets, so every view op is covered by one rule.
"""
import weakref

import numpy as np

from .. import _dtype as D
from .._device import array_module
from .._device import data_ptr
from .._tensor import _make
from .registry import _EMPTY, _record, _state, apply, defop


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
    xp = array_module(out)
    flat = out.reshape(-1)
    idx = _positions(pos, out).reshape(-1)
    if xp is np:
        np.add.at(flat, idx, src.reshape(-1))
    else:
        xp.add.at(flat, idx, src.reshape(-1))
    return out


def _as_strided_scatter_bwd(ctx, g):
    need = ctx.needs_input_grad
    return (g if need[0] else None,
            apply(as_strided_op, (g,), {"pos": ctx.pos}) if need[1] else None)


copy_slices_op = defop("copy_slices", _copy_slices_fwd, _copy_slices_bwd, node="CopySlices")
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
        base = outs[0]._base
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


def apply_inplace(op, self, others, params=_EMPTY):
    """``self.op_(*others)``: compute out of place, write into self, rebase its history."""
    base = self._base
    grad_on = _state.enabled
    if "_inference" in self.__dict__ and not _state.inference:
        raise RuntimeError("Inplace update to inference tensor outside InferenceMode is not "
                           "allowed.You can make a clone to get a normal tensor before doing "
                           "inplace update.See https://github.com/pytorch/rfcs/pull/17 for more "
                           "details.")
    if grad_on and self._requires_grad:
        if base is not None and base._requires_grad and base._grad_fn is None:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                               "in-place operation.")
        if self._grad_fn is None and (base is None or not base._requires_grad):
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                               "operation.")
        if base is not None:
            _check_view_writable(self)
    src = self
    if grad_on and op.save and 0 in op.save and self._requires_grad:
        # The backward needs self's value from before the write: snapshot it.
        src = _make(self._data.copy())
        src._grad_fn, src._output_nr, src._requires_grad = \
            self._grad_fn, self._output_nr, self._requires_grad
        src._accumulator = self._accumulator
    out = apply(op, (src,) + tuple(others), params)
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
    rebase_view = (grad_on and base is not None and out._grad_fn is not None
                   and self._data.dtype.kind in "fcV")
    if rebase_view:
        pos = view_positions(self, base)
    self._data[...] = out._data
    self._vc[0] += 1
    node = out._grad_fn
    if node is None:
        return self
    if rebase_view:
        _rebase_view(self, base, out, pos)
        _refresh_views(base, self)
    else:
        self._grad_fn = node
        self._output_nr = out._output_nr
        self._requires_grad = True
        if base is None and "_views" in self.__dict__:
            _refresh_views(self, None)
    if op.save_result:
        node._result = self._data
        node._result_vc = self._vc
        node._result_version = self._vc[0]
    return self


def _rebase_view(view, base, out, pos):
    """The base becomes CopySlices(old base, op(view)); the view a strided view of it."""
    params = {"pos": pos}
    old = _make(base._data)
    old._grad_fn, old._output_nr, old._requires_grad = \
        base._grad_fn, base._output_nr, base._requires_grad
    old._accumulator = base._accumulator
    base_node = _record(copy_slices_op, (old, out), params)
    base._grad_fn = base_node
    base._output_nr = 0
    base._requires_grad = True
    view._grad_fn = _record(as_strided_op, (base,), params)
    view._output_nr = 0
    view._requires_grad = True


def _refresh_views(base, skip):
    """Point every other live view of ``base`` at its new history (torch regenerates them)."""
    for ref in base.__dict__.get("_views", ()):
        other = ref()
        if (other is not None and other is not skip and other._base is base
                and other._data.dtype.kind in "fcV"
                and other._data.itemsize == base._data.itemsize):
            other._grad_fn = _record(as_strided_op, (base,),
                                     {"pos": view_positions(other, base)})
            other._output_nr = 0
            other._requires_grad = True
