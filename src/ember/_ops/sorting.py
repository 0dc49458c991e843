"""Sorting and selection: sort/argsort/msort, topk, kthvalue, median/nanmedian, mode,
unique, bincount, histc.

Ops that select elements return (values, indices); their gradient puts ``grad`` back
at the selected indices with the scatter op below, whose own gradient is the matching
gather, so second derivatives work.  Orderings are stable, with NaN sorting as the
largest value, as torch's CPU kernels.
"""
import numpy as np

from .. import _dtype as D
from .._device import array_module
from .._tensor import _make, _wrap_dim
from ._declare import declare
from .reduction import _named as _returns
from .registry import apply, defop
from ._xp import accumulate, ufunc_at

# ---- gather / scatter-add along a dim: the gradient pair of every selection -------------
def _grid(xp, shape, dim, index):
    """Index arrays addressing ``index``'s positions, with ``index`` along ``dim``."""
    out = []
    for d, n in enumerate(shape):
        if d == dim:
            out.append(index)
        else:
            out.append(xp.arange(n).reshape([n if i == d else 1 for i in range(len(shape))]))
    return tuple(out)


def _gather_fwd(a, index, dim):
    return array_module(a).take_along_axis(a, index, axis=dim)


def _scatter_add_fwd(src, index, dim, size):
    xp = array_module(src)
    out = xp.zeros(size, dtype=src.dtype)
    ufunc_at("add", out, _grid(xp, index.shape, dim, index), src)
    return out


gather_along_dim_op = defop(
    "gather_along_dim", _gather_fwd,
    lambda ctx, g: scatter_add_along_dim(g, ctx.saved[0], ctx.dim, ctx._input_meta[0][0]),
    save=(1,), node="GatherBackward0")
scatter_add_along_dim_op = defop(
    "scatter_add_along_dim", _scatter_add_fwd,
    lambda ctx, g: gather_along_dim(g, ctx.saved[0], ctx.dim),
    save=(1,), node="ScatterAddBackward0")


def gather_along_dim(input, index, dim):
    """``input`` at ``index`` along ``dim`` (index has input's rank); differentiable."""
    return apply(gather_along_dim_op, (input, index), {"dim": dim})


def scatter_add_along_dim(src, index, dim, size):
    """Zeros of ``size`` with ``src`` added at ``index`` along ``dim``; differentiable."""
    return apply(scatter_add_along_dim_op, (src, index), {"dim": dim, "size": tuple(size)})


def _selection_bwd(ctx, g, g_indices=None):
    """Gradient of (values, indices) = select(input): grad goes to the selected positions."""
    shape = ctx._input_meta[0][0]
    indices = ctx.saved_outputs[1]
    dim = ctx.dim
    if not shape:
        return g
    if not ctx._params.get("keepdim", True):
        g = g.unsqueeze(dim)
        indices = indices.unsqueeze(dim)
    return scatter_add_along_dim(g, indices, dim, shape)


def _no_complex(input, kernel, skip_0dim=False):
    """torch's NotImplementedError for selection kernels that have no complex version."""
    if input.dtype.is_complex and not (skip_0dim and input.ndim == 0):
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{input.dtype._legacy}'")


def _no_complex_sort(input, name):
    if input.dtype.is_complex:
        raise RuntimeError(f" {name} does not support complex dtypes on CPU")


def _with_indices(op, input, params, name):
    values, indices = apply(op, (input,), params)
    if values._grad_fn is not None:
        values._grad_fn.saved_outputs = (None, indices)
    return _returns(name)(values, indices)


# ---- the stable sort underneath everything --------------------------------------------------
def _argsort(a, dim, descending):
    """Stable argsort along dim; NaN is the largest value (first when descending)."""
    xp = array_module(a)
    if a.dtype.kind == "V":
        a = a.astype(np.float32)  # bfloat16: exact in float32, where NaN sorts last
    if not descending:
        return xp.argsort(a, axis=dim, kind="stable")
    # Sort the reversed array ascending, then reverse: equal elements keep their order.
    n = a.shape[dim]
    rev = xp.flip(a, axis=dim)
    return (n - 1) - xp.flip(xp.argsort(rev, axis=dim, kind="stable"), axis=dim)


def _sort_fwd(a, dim, descending):
    if a.ndim == 0:
        return a.copy(), array_module(a).zeros((), dtype=np.int64)
    idx = _argsort(a, dim, descending)
    return np.take_along_axis(a, idx, axis=dim), idx.astype(np.int64, copy=False)


sort_op = defop("sort", _sort_fwd, _selection_bwd, nout=2, node="SortBackward0")


@declare(out=True)
def sort(input, dim=-1, descending=False, stable=False):
    """sort(input, dim=-1, descending=False, stable=False) -> (values, indices)."""
    _no_complex_sort(input, "Sort")
    dim = _wrap_dim(dim, input.ndim)
    return _with_indices(sort_op, input, {"dim": dim, "descending": descending}, "sort")


@declare
def argsort(input, dim=-1, descending=False, stable=False):
    return sort(input, dim, descending, stable).indices


@declare(out=True)
def msort(input):
    return sort(input, 0).values


def _topk_fwd(a, k, dim, largest):
    n = a.shape[dim] if a.ndim else 1
    if k < 0 or k > n:
        raise RuntimeError("selected index k out of range")
    if a.ndim == 0:
        return a.copy(), array_module(a).zeros((), dtype=np.int64)
    idx = _argsort(a, dim, largest)
    idx = idx.take(array_module(a).arange(k), axis=dim)
    return np.take_along_axis(a, idx, axis=dim), idx.astype(np.int64, copy=False)


topk_op = defop("topk", _topk_fwd, _selection_bwd, nout=2, node="TopkBackward0")


@declare(out=True)
def topk(input, k, dim=-1, largest=True, sorted=True):
    """The k largest (or smallest) elements along dim, in order, with their indices."""
    _no_complex_sort(input, "topk")
    dim = _wrap_dim(dim, input.ndim)
    return _with_indices(topk_op, input, {"k": int(k), "dim": dim, "largest": largest}, "topk")


# ---- kthvalue, median, nanmedian, mode ---------------------------------------------------------
def _pick_sorted(a, dim, keepdim, position):
    """Values/indices at ``position(nan_count, n)`` of the stable ascending order."""
    if a.ndim == 0:
        return a.copy(), array_module(a).zeros((), dtype=np.int64)
    idx = _argsort(a, dim, False)
    n = a.shape[dim]
    xp = array_module(a)
    nans = xp.isnan(a).sum(axis=dim, keepdims=True) if a.dtype.kind in "fV" else \
        xp.zeros([1 if d == dim else s for d, s in enumerate(a.shape)], dtype=np.int64)
    pos = xp.asarray(position(nans, n), dtype=np.int64)
    i = np.take_along_axis(idx, pos, axis=dim)
    v = np.take_along_axis(a, i, axis=dim)
    if not keepdim:
        v, i = v.squeeze(dim), i.squeeze(dim)
    return v, i.astype(np.int64, copy=False)


def _kthvalue_fwd(a, k, dim, keepdim):
    n = a.shape[dim] if a.ndim else 1
    if k < 1 or k > n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {dim}")
    return _pick_sorted(a, dim, keepdim, lambda nans, n: nans * 0 + (k - 1))


def _median_position(nans, n):
    # Any NaN makes the median NaN: the first NaN, which sorts right after the numbers.
    return np.where(nans > 0, n - nans, (n - 1) // 2)


def _nanmedian_position(nans, n):
    m = n - nans
    return np.where(m > 0, (m - 1) // 2, 0)


def _check_dim_nonempty(a, dim, name):
    if a.ndim and a.shape[dim] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {dim} to have non-zero size.")


def _median_dim_fwd(a, dim, keepdim, ignore_nan):
    _check_dim_nonempty(a, dim, "nanmedian" if ignore_nan else "median")
    return _pick_sorted(a, dim, keepdim, _nanmedian_position if ignore_nan else _median_position)


def _median_all_index(a, ignore_nan):
    flat = a.reshape(-1)
    return int(_pick_sorted(flat, 0, False, _nanmedian_position if ignore_nan
                            else _median_position)[1])


def _median_all_fwd(a, ignore_nan):
    if a.size == 0:
        return array_module(a).asarray(np.nan, dtype=a.dtype)
    return a.reshape(-1)[_median_all_index(a, ignore_nan)]


def _median_all_bwd(ctx, g):
    # torch shares the gradient of a global median evenly among the elements equal to it.
    x, = ctx.saved
    mask = x == ctx.result
    return g * mask / mask.sum()


kthvalue_op = defop("kthvalue", _kthvalue_fwd, _selection_bwd, nout=2, node="KthvalueBackward0")
median_op = defop("median", lambda a, ignore_nan: _median_all_fwd(a, ignore_nan), _median_all_bwd,
                  save=(0,), save_result=True, node="MedianBackward0")
median_dim_op = defop("median_dim", _median_dim_fwd, _selection_bwd, nout=2,
                      node="MedianBackward1")


@declare(out=True)
def kthvalue(input, k, dim=-1, keepdim=False):
    """The k-th smallest element along dim (k counts from 1), with its index."""
    _no_complex(input, "kthvalue_cpu", skip_0dim=True)
    dim = _wrap_dim(dim, input.ndim)
    return _with_indices(kthvalue_op, input, {"k": int(k), "dim": dim, "keepdim": keepdim},
                         "kthvalue")


@declare(out=True)
def median(input, dim=None, keepdim=False):
    """median(input) -> the lower median; median(input, dim) -> (values, indices)."""
    if dim is None:
        if input.numel():
            _no_complex(input, "median_cpu")
        return apply(median_op, (input,), {"ignore_nan": False})
    _no_complex(input, "median_out")
    dim = _wrap_dim(dim, input.ndim)
    return _with_indices(median_dim_op, input,
                         {"dim": dim, "keepdim": keepdim, "ignore_nan": False}, "median")


@declare(out=True)
def nanmedian(input, dim=None, keepdim=False):
    """median ignoring NaN (NaN only where a slice is all NaN)."""
    if dim is None:
        if input.numel():
            _no_complex(input, "median_cpu")
        return apply(median_op.variant("NanmedianBackward0"), (input,), {"ignore_nan": True})
    _no_complex(input, "median_out")
    dim = _wrap_dim(dim, input.ndim)
    return _with_indices(median_dim_op.variant("NanmedianBackward1"), input,
                         {"dim": dim, "keepdim": keepdim, "ignore_nan": True}, "nanmedian")


def _mode_fwd(a, dim, keepdim):
    _check_dim_nonempty(a, dim, "mode")
    if a.ndim == 0:
        return a.copy(), array_module(a).zeros((), dtype=np.int64)
    # Runs of equal values in the stable sorted order: the longest run wins, the smallest
    # value among equally long runs, and its index is the value's last occurrence.
    x = np.moveaxis(a, dim, -1)
    idx = _argsort(x, -1, False)
    s = np.take_along_axis(x, idx, axis=-1)
    n = s.shape[-1]
    xp = array_module(a)
    pos = xp.arange(n)
    change = s[..., 1:] != s[..., :-1]
    edge = xp.ones(s.shape[:-1] + (1,), dtype=bool)
    starts = xp.concatenate([edge, change], axis=-1)
    ends = xp.concatenate([change, edge], axis=-1)
    start_pos = accumulate("maximum", xp.where(starts, pos, 0), -1)
    length = np.where(ends, pos - start_pos + 1, 0)
    best = length.argmax(axis=-1)[..., None]
    v = np.take_along_axis(s, best, axis=-1)
    i = np.take_along_axis(idx, best, axis=-1)
    v, i = np.moveaxis(v, -1, dim), np.moveaxis(i, -1, dim)
    if not keepdim:
        v, i = v.squeeze(dim), i.squeeze(dim)
    return v, i.astype(np.int64, copy=False)


mode_op = defop("mode", _mode_fwd, _selection_bwd, nout=2, node="ModeBackward0")


@declare(out=True)
def mode(input, dim=-1, keepdim=False):
    """The most frequent value along dim (the smallest if several), with its index."""
    _no_complex(input, "mode_cpu", skip_0dim=True)
    dim = _wrap_dim(dim, input.ndim)
    return _with_indices(mode_op, input, {"dim": dim, "keepdim": keepdim}, "mode")


# ---- unique, bincount, histc: counting, no gradient ---------------------------------------------
@declare
def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """Distinct elements (always sorted, as torch's CPU kernel), optional inverse/counts."""
    _no_complex(input, "unique" if dim is None else "unique_dim")
    a = input._data
    xp = array_module(a)
    if dim is None:
        values, inverse, counts = xp.unique(a.reshape(-1), return_inverse=True,
                                            return_counts=True)
        inverse = inverse.reshape(a.shape)
    else:
        d = _wrap_dim(dim, a.ndim)
        values, inverse, counts = xp.unique(a, return_inverse=True, return_counts=True, axis=d)
        inverse = inverse.reshape(-1)
    out = [_make(values)]
    if return_inverse:
        out.append(_make(inverse.astype(np.int64)))
    if return_counts:
        out.append(_make(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


@declare
def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Collapse runs of equal consecutive elements (or slices along ``dim``)."""
    _no_complex(input, "unique" if dim is None else "unique_dim")
    a = input._data
    xp = array_module(a)
    if dim is None:
        flat = a.reshape(-1)
        change = flat[1:] != flat[:-1]
        d, shape = 0, a.shape
    else:
        d = _wrap_dim(dim, a.ndim)
        flat = xp.moveaxis(a, d, 0).reshape(a.shape[d], -1)
        change = (flat[1:] != flat[:-1]).any(axis=1)
        shape = (a.shape[d],)
    starts = xp.concatenate([xp.ones(min(flat.shape[0], 1), dtype=bool), change])
    run = xp.cumsum(starts) - 1
    first = xp.nonzero(starts)[0]
    if dim is None:
        values = flat[first]
    else:
        values = xp.take(a, first, axis=d)
    out = [_make(values)]
    if return_inverse:
        out.append(_make(run.reshape(shape).astype(np.int64)))
    if return_counts:
        ends = xp.concatenate([first[1:], xp.asarray([flat.shape[0]])])
        out.append(_make((ends - first).astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


@declare
def bincount(input, weights=None, minlength=0):
    """Counts of each non-negative integer in a 1-d tensor (weighted sums with weights)."""
    a = input._data
    if a.dtype.kind not in "biu":
        raise NotImplementedError(f"\"bincount_cpu\" not implemented for '{input.dtype._legacy}'")
    if a.ndim != 1 or (a.size and a.min() < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    xp = array_module(a)
    if weights is None:
        return _make(xp.bincount(a, minlength=minlength).astype(np.int64))
    if tuple(weights.shape) != tuple(input.shape):
        raise RuntimeError("weights should be 1-d and have the same length as input")
    # torch keeps float32 weights' dtype and computes every other weights dtype in double.
    out_dtype = weights._data.dtype if weights.dtype in (D.float32, D.float64) else np.float64
    return _make(xp.bincount(a, weights=weights._data, minlength=minlength).astype(out_dtype))


@declare(out=True)
def histc(input, bins=100, min=0, max=0):
    """Histogram of ``bins`` equal bins over [min, max] (the data's range if min == max)."""
    a = input._data
    if a.dtype.kind not in "fV":
        raise NotImplementedError(f"\"histogram_cpu\" not implemented for '{input.dtype._legacy}'")
    if bins <= 0:
        raise RuntimeError("torch.histc: bins must be > 0")
    lo, hi = float(min), float(max)
    if lo > hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    xp = array_module(a)
    if lo == hi and a.size:
        lo, hi = float(a.min()), float(a.max())
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise RuntimeError(f"torch.histc: range of [{lo}, {hi}] is not finite")
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    data = a[~xp.isnan(a)].astype(np.float64)
    counts, _ = xp.histogram(data, bins=int(bins), range=(lo, hi))
    return _make(counts.astype(a.dtype))
