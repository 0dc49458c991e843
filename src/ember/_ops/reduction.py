"""Reductions: sum, mean, max/min, norm.

Gradients of reductions expand ``grad`` back over the reduced dims; ``_unreduce``
is that one shared step.
"""
import builtins
from collections import namedtuple

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor, _wrap_dim
from .registry import SAME, apply, defop

_max = builtins.max
_min = builtins.min


def normalize_dims(dim, ndim):
    """None -> None; int or sequence -> sorted tuple of non-negative dims (torch's checks)."""
    if dim is None:
        return None
    if isinstance(dim, (int, np.integer)):
        return (_wrap_dim(dim, ndim),)
    dims = tuple(_wrap_dim(d, ndim) for d in dim)
    if len(set(dims)) != len(dims):
        dup = next(d for d in dims if dims.count(d) > 1)
        raise RuntimeError(f"dim {dup} appears multiple times in the list of dims")
    return dims


def _axis(dims, ndim):
    if dims is None:
        return None
    if ndim == 0:
        return None
    return dims


def _unreduce(g, shape, dims, keepdim):
    """Broadcast a reduced gradient back to the input's shape (a view, no copy)."""
    if not keepdim and shape:
        for d in (sorted(dims) if dims is not None else range(len(shape))):
            g = g.unsqueeze(d)
    return g.expand(shape)


# ---- sum / mean -------------------------------------------------------------------
def _sum_fwd(a, dim=None, keepdim=False, dtype=None):
    if dtype is None and a.dtype.kind in "biu":
        dtype = np.int64  # torch sums integers (and bools) in int64
    return a.sum(axis=_axis(dim, a.ndim), keepdims=keepdim, dtype=dtype)


def _sum_bwd(ctx, g):
    shape = ctx._input_meta[0][0]
    return _unreduce(g, shape, ctx.dim, ctx.keepdim)


def _mean_fwd(a, dim=None, keepdim=False, dtype=None):
    if dtype is None and a.dtype.kind in "biu":
        name = D.NP_TO_DTYPE[a.dtype]._legacy
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: {name}")
    return a.mean(axis=_axis(dim, a.ndim), keepdims=keepdim, dtype=dtype)


def _mean_bwd(ctx, g):
    shape = ctx._input_meta[0][0]
    dims = ctx.dim
    n = 1
    for d in (dims if dims is not None else range(len(shape))):
        n *= shape[d]
    return _unreduce(g / n, shape, dims, ctx.keepdim)


sum_op = defop("sum", _sum_fwd, _sum_bwd)
mean_op = defop("mean", _mean_fwd, _mean_bwd)


def _reduce_args(input, dim, keepdim, dtype):
    return {"dim": normalize_dims(dim, input.ndim) if dim is not None and dim != () else None,
            "keepdim": keepdim, "dtype": dtype.np if dtype is not None else None}


def sum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """sum(input, dim=None, keepdim=False, *, dtype=None) -> Tensor"""
    if dim is None and keepdim is False and dtype is None:
        return apply(sum_op, (input,), _FULL)
    return apply(sum_op, (input,), _reduce_args(input, dim, keepdim, dtype))


_FULL = {"dim": None, "keepdim": False, "dtype": None}


def mean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """mean(input, dim=None, keepdim=False, *, dtype=None) -> Tensor"""
    if dim is None and keepdim is False and dtype is None:
        return apply(mean_op, (input,), _FULL)
    return apply(mean_op, (input,), _reduce_args(input, dim, keepdim, dtype))


# ---- max / min --------------------------------------------------------------------
_values_indices = {}


def _named(name):
    if name not in _values_indices:
        cls = namedtuple(name, ["values", "indices"])
        cls.__module__ = "torch.return_types"
        _values_indices[name] = cls
    return _values_indices[name]


def _check_nonempty(a, name, dim=None):
    if a.size == 0:
        if dim is None:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() "
                               "== 0. Specify the reduction dim with the 'dim' argument.")
        if a.shape[dim] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {dim} to have non-zero size.")


def _full_extreme_fwd(a, largest):
    _check_nonempty(a, "max" if largest else "min")
    if a.dtype.kind == "c":
        raise RuntimeError(f"{'max' if largest else 'min'}(): does not support complex input")
    return a.max() if largest else a.min()


def _full_extreme_bwd(ctx, g):
    # torch spreads the gradient evenly over all elements equal to the extreme.
    x, = ctx.saved
    mask = x == ctx.result
    return mask * (g / mask.sum())


def _dim_extreme_fwd(a, dim, keepdim, largest):
    _check_nonempty(a, "max" if largest else "min", dim)
    if a.ndim == 0:
        return a.copy(), np.zeros((), dtype=np.int64)
    idx = a.argmax(axis=dim) if largest else a.argmin(axis=dim)
    if a.dtype.kind == "f":
        # NaN propagates in torch: the first NaN wins.
        nan = np.isnan(a)
        if nan.any():
            has = nan.any(axis=dim)
            idx = np.where(has, nan.argmax(axis=dim), idx)
    idx = np.expand_dims(idx, dim)
    values = np.take_along_axis(a, idx, axis=dim)
    if not keepdim:
        values = values.squeeze(dim)
        idx = idx.squeeze(dim)
    return values, idx.astype(np.int64)


def _dim_extreme_bwd(ctx, g, g_idx):
    shape = ctx._input_meta[0][0]
    _, indices = ctx.saved_outputs
    return _scatter_to(g, indices, shape, ctx.dim, ctx.keepdim)


def _scatter_to(g, indices, shape, dim, keepdim):
    """Place g at ``indices`` along ``dim`` (zeros elsewhere), differentiably in g."""
    from .._device import array_module
    from .._tensor import _make
    if not shape:
        return g
    if not keepdim:
        g = g.unsqueeze(dim)
        indices = indices.unsqueeze(dim)
    xp = array_module(indices._data)
    pos = xp.arange(shape[dim]).reshape([shape[dim] if i == dim else 1 for i in range(len(shape))])
    return g * (_make(pos) == indices)


max_full_op = defop("max", lambda a: _full_extreme_fwd(a, True), _full_extreme_bwd, save=(0,),
                    save_result=True, node="MaxBackward1")
min_full_op = defop("min", lambda a: _full_extreme_fwd(a, False), _full_extreme_bwd, save=(0,),
                    save_result=True, node="MinBackward1")
max_dim_op = defop("max_dim", lambda a, dim, keepdim: _dim_extreme_fwd(a, dim, keepdim, True),
                   _dim_extreme_bwd, nout=2, node="MaxBackward0")
min_dim_op = defop("min_dim", lambda a, dim, keepdim: _dim_extreme_fwd(a, dim, keepdim, False),
                   _dim_extreme_bwd, nout=2, node="MinBackward0")


def _extreme(op_full, op_dim, binary, name, input, dim, keepdim, out):
    if isinstance(dim, Tensor):
        return binary(input, dim)
    if dim is None:
        if keepdim:
            raise TypeError(f"{name}() received an invalid combination of arguments - got "
                            "(keepdim=bool)")
        return apply(op_full, (input,))
    d = _wrap_dim(dim, input.ndim)
    values, indices = apply(op_dim, (input,), {"dim": d, "keepdim": keepdim})
    node = values._grad_fn
    if node is not None:
        node.saved_outputs = (None, indices)
    return _named(name)(values, indices)


def max(input, dim=None, keepdim=False, *, out=None):
    """max(input) -> Tensor; max(input, dim, keepdim=False) -> (values, indices); max(a, b)."""
    from .pointwise import maximum
    return _extreme(max_full_op, max_dim_op, maximum, "max", input, dim, keepdim, out)


def min(input, dim=None, keepdim=False, *, out=None):
    from .pointwise import minimum
    return _extreme(min_full_op, min_dim_op, minimum, "min", input, dim, keepdim, out)


def _arg_fwd(a, dim, keepdim, largest):
    if a.size == 0:
        raise RuntimeError(f"{'argmax' if largest else 'argmin'}(): Expected reduction dim to be "
                           "specified for input.numel() == 0.")
    if dim is None:
        r = a.argmax() if largest else a.argmin()
        r = np.asarray(r, dtype=np.int64)
        return r.reshape((1,) * a.ndim) if keepdim else r
    return _dim_extreme_fwd(a, dim, keepdim, largest)[1]


argmax_op = defop("argmax", lambda a, dim, keepdim: _arg_fwd(a, dim, keepdim, True))
argmin_op = defop("argmin", lambda a, dim, keepdim: _arg_fwd(a, dim, keepdim, False))


def argmax(input, dim=None, keepdim=False):
    d = None if dim is None else _wrap_dim(dim, input.ndim)
    return apply(argmax_op, (input,), {"dim": d, "keepdim": keepdim})


def argmin(input, dim=None, keepdim=False):
    d = None if dim is None else _wrap_dim(dim, input.ndim)
    return apply(argmin_op, (input,), {"dim": d, "keepdim": keepdim})


# ---- norm ---------------------------------------------------------------------------
def _norm_fwd(a, p, dim, keepdim):
    if a.dtype.kind not in "fc":
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {D.NP_TO_DTYPE[a.dtype]._legacy}")
    ax = _axis(dim, a.ndim)
    x = np.abs(a)
    real = x.dtype
    if p == 2:
        r = np.sqrt((x * x).sum(axis=ax, keepdims=keepdim))
    elif p == float("inf"):
        r = x.max(axis=ax, keepdims=keepdim) if x.size else np.zeros(())
    elif p == float("-inf"):
        r = x.min(axis=ax, keepdims=keepdim)
    elif p == 0:
        r = (x != 0).sum(axis=ax, keepdims=keepdim)
    elif p == 1:
        r = x.sum(axis=ax, keepdims=keepdim)
    else:
        r = (x ** p).sum(axis=ax, keepdims=keepdim) ** (1.0 / p)
    return np.asarray(r).astype(real, copy=False)


def _norm_bwd(ctx, g):
    x, = ctx.saved
    p, dims, keepdim = ctx.p, ctx.dim, ctx.keepdim
    shape = ctx._input_meta[0][0]
    r = _unreduce(ctx.result, shape, dims, keepdim)
    g = _unreduce(g, shape, dims, keepdim)
    from .pointwise import where, sign
    if p == 0:
        return g * 0 * x
    if p == 1:
        return g * sign(x)
    if p == 2:
        # zero where the norm is zero, as torch (instead of 0/0)
        return where(r == 0, 0.0, g * x / r)
    if p in (float("inf"), float("-inf")):
        mask = x.abs() == r
        return g * sign(x) * mask / mask.sum(dims, keepdim=True) if dims is not None \
            else g * sign(x) * mask / mask.sum()
    ax = x.abs()
    return where(r == 0, 0.0, g * sign(x) * ax ** (p - 1) / r ** (p - 1))


norm_op = defop("norm", _norm_fwd, _norm_bwd, save=(0,), save_result=True,
                node="LinalgVectorNormBackward0")


def norm(input, p="fro", dim=None, keepdim=False, dtype=None, out=None):
    """norm(input, p='fro', dim=None, keepdim=False): vector norms ('fro' is the 2-norm)."""
    if p == "fro" or p is None:
        p = 2
    if p == "nuc":
        raise RuntimeError("norm(): nuclear norm is provided by ember.linalg.matrix_norm")
    if isinstance(dim, (int, np.integer)):
        dim = (dim,)
    dims = normalize_dims(dim, input.ndim) if dim is not None else None
    r = apply(norm_op, (input,), {"p": float(p), "dim": dims, "keepdim": keepdim})
    return r.to(dtype) if dtype is not None else r


__all__ = ["sum", "mean", "max", "min", "argmax", "argmin", "norm"]
METHODS = {name: globals()[name] for name in __all__}
