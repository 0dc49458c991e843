"""Reductions: sum, mean, prod, std/var, max/min, amax/amin, logsumexp, all/any, norm.

Gradients of reductions expand ``grad`` back over the reduced dims; ``_unreduce``
is that one shared step.
"""
import builtins
import warnings
from collections import namedtuple

import numbers

import numpy as np

from .._device import array_module
from .._tensor import Tensor, _make, _wrap_dim
from ._common import _conj, dtype_name
from ._declare import declare
from .registry import FLOAT, apply, defop

_max = builtins.max


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


def _half(a):
    """float16/bfloat16 reduce in float32 and round once at the end, as torch (NumPy would
    accumulate in the half dtype: a sum of 10000 bfloat16 ones would stop at 256)."""
    return a.dtype.itemsize == 2 and a.dtype.kind in "fV"


def _in_float32(fwd):
    def f(a, *args, **kw):
        if not _half(a) or kw.get("dtype") is not None:
            return fwd(a, *args, **kw)
        return array_module(a).asarray(fwd(a.astype(np.float32), *args, **kw)).astype(a.dtype)
    return f


# ---- sum / mean -------------------------------------------------------------------
def _sum_fwd(a, dim=None, keepdim=False, dtype=None):
    if dtype is None and a.dtype.kind in "biu":
        dtype = np.int64  # torch sums integers (and bools) in int64
    if dtype is None and _half(a):
        return a.sum(axis=_axis(dim, a.ndim), keepdims=keepdim, dtype=np.float32).astype(a.dtype)
    return a.sum(axis=_axis(dim, a.ndim), keepdims=keepdim, dtype=dtype)


def _sum_bwd(ctx, g):
    shape = ctx._input_meta[0][0]
    return _unreduce(g, shape, ctx.dim, ctx.keepdim)


def _mean_fwd(a, dim=None, keepdim=False, dtype=None):
    if dtype is None and a.dtype.kind in "biu":
        name = dtype_name(a)
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
mean_op = defop("mean", _in_float32(_mean_fwd), _mean_bwd)
# torch's overloads with a dim (or keepdim) record SumBackward1/MeanBackward1.


def _reduce_args(input, dim, keepdim, dtype):
    # An empty dim list reduces over every dim, as torch.
    return {"dim": _dims_or_all(input, dim),
            "keepdim": keepdim, "dtype": dtype.np if dtype is not None else None}


@declare(out=True)
def sum(input, dim=None, keepdim=False, *, dtype=None):
    """sum(input, dim=None, keepdim=False, *, dtype=None) -> Tensor"""
    if dim is None and keepdim is False:
        if dtype is None:
            return apply(sum_op, (input,), _FULL)
        return apply(sum_op, (input,), _reduce_args(input, dim, keepdim, dtype))
    return apply(sum_op.variant("SumBackward1"), (input,), _reduce_args(input, dim, keepdim, dtype))


_FULL = {"dim": None, "keepdim": False, "dtype": None}


@declare(out=True)
def mean(input, dim=None, keepdim=False, *, dtype=None):
    """mean(input, dim=None, keepdim=False, *, dtype=None) -> Tensor"""
    if dim is None and keepdim is False:
        if dtype is None:
            return apply(mean_op, (input,), _FULL)
        return apply(mean_op, (input,), _reduce_args(input, dim, keepdim, dtype))
    return apply(mean_op.variant("MeanBackward1"), (input,),
                 _reduce_args(input, dim, keepdim, dtype))


# ---- max / min --------------------------------------------------------------------
_return_types = {}


def _named(name, fields=("values", "indices")):
    """A ``torch.return_types.<name>`` namedtuple, printed as torch prints it."""
    if name not in _return_types:
        cls = namedtuple(name, fields)
        cls.__module__ = "torch.return_types"
        cls.__repr__ = lambda self: (f"torch.return_types.{name}(\n" + ",\n".join(
            f"{f}={v!r}" for f, v in zip(self._fields, self)) + ")")
        _return_types[name] = cls
    return _return_types[name]


def _check_nonempty(a, name, dim=None):
    if a.size == 0:
        if dim is None:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() "
                               "== 0. Specify the reduction dim with the 'dim' argument.")
        if a.shape[dim] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {dim} to have non-zero size.")


def _full_extreme_fwd(a, largest):
    if a.dtype.kind == "c":
        raise NotImplementedError(f"\"{'max' if largest else 'min'}_all\" not implemented for "
                                  f"'{dtype_name(a)}'")
    _check_nonempty(a, "max" if largest else "min")
    return a.max() if largest else a.min()


def _full_extreme_bwd(ctx, g):
    # torch spreads the gradient evenly over all elements equal to the extreme.
    x, = ctx.saved
    mask = x == ctx.result
    return mask * (g / mask.sum())


def _dim_extreme_fwd(a, dim, keepdim, largest, name=None):
    if a.dtype.kind == "c":
        name = name or ("max" if largest else "min")
        raise RuntimeError(f"{name}(): does not support complex input")
    _check_nonempty(a, "max" if largest else "min", dim)
    if a.ndim == 0:
        return a.copy(), array_module(a).zeros((), dtype=np.int64)
    idx = a.argmax(axis=dim) if largest else a.argmin(axis=dim)
    if a.dtype.kind in "fV":
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


def _extreme(op_full, op_dim, binary, name, input, dim, keepdim):
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


@declare(out=True)
def max(input, dim=None, keepdim=False):
    """max(input) -> Tensor; max(input, dim, keepdim=False) -> (values, indices); max(a, b)."""
    from .pointwise import maximum
    return _extreme(max_full_op, max_dim_op, maximum, "max", input, dim, keepdim)


@declare(out=True)
def min(input, dim=None, keepdim=False):
    from .pointwise import minimum
    return _extreme(min_full_op, min_dim_op, minimum, "min", input, dim, keepdim)


def _arg_fwd(a, dim, keepdim, largest):
    if a.dtype.kind == "c":
        raise RuntimeError(f"{'argmax' if largest else 'argmin'}(): does not support complex "
                           "input")
    if a.size == 0:
        raise RuntimeError(f"{'argmax' if largest else 'argmin'}(): Expected reduction dim to be "
                           "specified for input.numel() == 0.")
    if dim is None:
        r = a.argmax() if largest else a.argmin()
        r = array_module(a).asarray(r, dtype=np.int64)
        return r.reshape((1,) * a.ndim) if keepdim else r
    return _dim_extreme_fwd(a, dim, keepdim, largest, "argmax" if largest else "argmin")[1]


argmax_op = defop("argmax", lambda a, dim, keepdim: _arg_fwd(a, dim, keepdim, True))
argmin_op = defop("argmin", lambda a, dim, keepdim: _arg_fwd(a, dim, keepdim, False))


@declare
def argmax(input, dim=None, keepdim=False):
    d = None if dim is None else _wrap_dim(dim, input.ndim)
    return apply(argmax_op, (input,), {"dim": d, "keepdim": keepdim})


@declare
def argmin(input, dim=None, keepdim=False):
    d = None if dim is None else _wrap_dim(dim, input.ndim)
    return apply(argmin_op, (input,), {"dim": d, "keepdim": keepdim})


# ---- norm ---------------------------------------------------------------------------
def _norm_fwd(a, p, dim, keepdim):
    if a.dtype.kind not in "fcV":
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {dtype_name(a)}")
    ax = _axis(dim, a.ndim)
    xp = array_module(a)
    x = xp.abs(a)
    real = x.dtype
    if p == 2:
        r = xp.sqrt((x * x).sum(axis=ax, keepdims=keepdim))
    elif p == float("inf"):
        r = x.max(axis=ax, keepdims=keepdim) if x.size else xp.zeros(())
    elif p == float("-inf"):
        r = x.min(axis=ax, keepdims=keepdim)
    elif p == 0:
        r = (x != 0).sum(axis=ax, keepdims=keepdim)
    elif p == 1:
        r = x.sum(axis=ax, keepdims=keepdim)
    else:
        r = (x ** p).sum(axis=ax, keepdims=keepdim) ** (1.0 / p)
    return xp.asarray(r).astype(real, copy=False)


def _norm_bwd(ctx, g):
    x, = ctx.saved
    p, dims, keepdim = ctx.p, ctx.dim, ctx.keepdim
    shape = ctx._input_meta[0][0]
    r = _unreduce(ctx.result, shape, dims, keepdim)
    g = _unreduce(g, shape, dims, keepdim)
    from .pointwise import where
    if x.is_complex():
        from .unary import sgn as sign  # z / |z|: the gradient of |z| in torch's convention
    else:
        from .unary import sign
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
    zero = r == 0
    if p < 1:  # |x|^(p-1) is inf at x == 0, where torch's gradient is 0
        zero = zero | (x == 0)
    return where(zero, 0.0, g * sign(x) * ax ** (p - 1) / r ** (p - 1))


norm_op = defop("norm", _in_float32(_norm_fwd), _norm_bwd, save=(0,), save_result=True,
                node="LinalgVectorNormBackward0")


@declare(out=True)
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


@declare
def dist(input, other, p=2):
    """dist(input, other, p=2) -> Tensor: the p-norm of the broadcast ``input - other``."""
    from .._tensor import Tensor
    if not isinstance(other, Tensor):
        raise TypeError(f"dist(): argument 'other' (position 2) must be Tensor, not "
                        f"{type(other).__name__}")
    if isinstance(p, Tensor) and p.numel() == 1:
        p = p.item()
    if not isinstance(p, numbers.Number) or isinstance(p, complex):
        raise TypeError(f"dist(): argument 'p' (position 3) must be Number, not "
                        f"{type(p).__name__}")
    diff = input - other
    if diff.dtype.category < 2:
        raise RuntimeError("norm(): input dtype should be either floating point or complex. "
                           f"Got {diff.dtype._legacy} instead.")
    p = float(p)
    if diff.numel() == 0 and (p < 0 or p == float("inf")):
        raise RuntimeError(f"linalg.vector_norm cannot compute the {p:g} norm on an empty tensor "
                           "because the operation does not have an identity")
    return apply(norm_op, (diff,), {"p": p, "dim": None, "keepdim": False})


# ---- prod ---------------------------------------------------------------------------
def _prod_fwd(a, dim=None, keepdim=False, dtype=None):
    if dtype is None and a.dtype.kind in "biu":
        dtype = np.int64  # torch multiplies integers (and bools) in int64
    with np.errstate(all="ignore"):  # overflow to inf is silent in torch
        return a.prod(axis=_axis(dim, a.ndim), keepdims=keepdim, dtype=dtype)


def _prod_bwd(ctx, g):
    from .pointwise import where
    x, = ctx.saved
    shape = ctx._input_meta[0][0]
    dims, keepdim = ctx.dim, ctx.keepdim
    r = _unreduce(ctx.result, shape, dims, keepdim)
    g = _unreduce(g, shape, dims, keepdim)
    if not (x._data == 0).any():
        return g * _conj(r / x)
    # With zeros, result / x is 0/0.  The gradient is the product of the other elements:
    # row k of an n x n matrix holding x with x_k replaced by 1 (differentiable to any order).
    from .._device import array_module
    xp = array_module(x._data)
    if dims is None:
        flat = x.reshape(-1)
        n = flat.shape[0]
        eye = _make(xp.eye(n, dtype=bool))
        others = prod(where(eye, 1.0, flat.unsqueeze(0)), 1)
        return g * _conj(others.reshape(shape))
    d = dims[0]
    n = shape[d]
    eye = _make(xp.eye(n, dtype=bool))
    xt = x.transpose(d, -1).unsqueeze(-2)                   # (..., 1, n)
    others = prod(where(eye, 1.0, xt), -1).transpose(d, -1)  # (..., n) back in place
    return g * _conj(others)


# Not widened: torch's half-precision prod rounds every partial product to the dtype.
prod_op = defop("prod", _prod_fwd, _prod_bwd, save=(0,), save_result=True, autocast="fp32")


@declare(out=True)
def prod(input, dim=None, keepdim=False, *, dtype=None):
    """prod(input, *, dtype=None) or prod(input, dim, keepdim=False, *, dtype=None)."""
    if dim is None:
        return apply(prod_op, (input,), {"dim": None, "keepdim": False,
                                         "dtype": dtype.np if dtype is not None else None})
    return apply(prod_op, (input,), _reduce_args(input, _wrap_dim(dim, input.ndim), keepdim,
                                                 dtype))


# ---- nansum / nanmean ------------------------------------------------------------------
def _nansum_fwd(a, dim=None, keepdim=False, dtype=None):
    if a.dtype.kind == "c":
        raise RuntimeError("nansum on CPU does not support complex inputs")
    if dtype is None and a.dtype.kind in "biu":
        dtype = np.int64
    if a.dtype.kind in "fcV":
        a = np.where(np.isnan(a), 0, a).astype(a.dtype, copy=False)
    return a.sum(axis=_axis(dim, a.ndim), keepdims=keepdim, dtype=dtype)


def _nansum_bwd(ctx, g):
    from .pointwise import where
    from .unary import isnan
    x, = ctx.saved
    shape = ctx._input_meta[0][0]
    return where(isnan(x), 0.0, _unreduce(g, shape, ctx.dim, ctx.keepdim))


nansum_op = defop("nansum", _in_float32(_nansum_fwd), _nansum_bwd, save=(0,))


@declare(out=True)
def nansum(input, dim=None, keepdim=False, *, dtype=None):
    return apply(nansum_op, (input,), _reduce_args(input, dim, keepdim, dtype))


@declare(out=True)
def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """The mean of the non-NaN elements: nansum / their count."""
    from .unary import isnan
    if dtype is None and not (input.is_floating_point() or input.is_complex()):
        raise RuntimeError("nanmean(): expected input to have floating point or complex dtype "
                           f"but got {input.dtype._legacy}")
    count = sum(~isnan(input), dim, keepdim)
    return nansum(input, dim, keepdim, dtype=dtype) / count


# ---- amax / amin: ties share the gradient evenly -----------------------------------------
def _amax_fwd(a, dim, keepdim, largest):
    if a.dtype.kind == "c":
        raise NotImplementedError(f"\"{'max' if largest else 'min'}_values_cpu\" not implemented "
                                  f"for '{dtype_name(a)}'")
    name = "amax" if largest else "amin"
    if a.size == 0 and (dim is None or builtins.any(a.shape[d] == 0 for d in dim)):
        raise (RuntimeError if dim is None else IndexError)(
            f"{name}(): Expected reduction dim to be specified for input.numel() == 0. Specify "
            "the reduction dim with the 'dim' argument." if dim is None else
            f"{name}(): Expected reduction dim {dim[0]} to have non-zero size.")
    ax = _axis(dim, a.ndim)
    return a.max(axis=ax, keepdims=keepdim) if largest else a.min(axis=ax, keepdims=keepdim)


def _amax_bwd(ctx, g):
    x, = ctx.saved
    shape = ctx._input_meta[0][0]
    dims = ctx.dim
    r = _unreduce(ctx.result, shape, dims, ctx.keepdim)
    mask = x == r
    count = mask.sum(dims, keepdim=True) if dims is not None else mask.sum()
    return _unreduce(g, shape, dims, ctx.keepdim) * mask / count


amax_op = defop("amax", lambda a, dim, keepdim: _amax_fwd(a, dim, keepdim, True), _amax_bwd,
                save=(0,), save_result=True)
amin_op = defop("amin", lambda a, dim, keepdim: _amax_fwd(a, dim, keepdim, False), _amax_bwd,
                save=(0,), save_result=True)


def _dims_or_all(input, dim):
    if dim is None or (not isinstance(dim, (int, np.integer)) and len(dim) == 0):
        return None
    return normalize_dims(dim, input.ndim)


@declare(out=True)
def amax(input, dim=(), keepdim=False):
    return apply(amax_op, (input,), {"dim": _dims_or_all(input, dim), "keepdim": keepdim})


@declare(out=True)
def amin(input, dim=(), keepdim=False):
    return apply(amin_op, (input,), {"dim": _dims_or_all(input, dim), "keepdim": keepdim})


@declare
def aminmax(input, *, dim=None, keepdim=False):
    if input.is_complex():
        raise NotImplementedError(f"\"aminmax_cpu\" not implemented for '{input.dtype._legacy}'")
    d = () if dim is None else dim
    return _named("aminmax", ("min", "max"))(amin(input, d, keepdim), amax(input, d, keepdim))


# ---- logsumexp ------------------------------------------------------------------------------
def _logsumexp_fwd(a, dim, keepdim):
    ax = _axis(dim, a.ndim)
    if a.size == 0:
        return np.log(np.exp(a).sum(axis=ax, keepdims=keepdim))
    # Shift by the max so exp never overflows; an infinite max is not shifted (inf - inf).
    m = a.max(axis=ax, keepdims=True)
    m = np.where(np.isfinite(m), m, 0).astype(a.dtype, copy=False)
    with np.errstate(divide="ignore"):
        r = np.log(np.exp(a - m).sum(axis=ax, keepdims=True)) + m
    return r if keepdim else (r.reshape(()) if ax is None else r.squeeze(ax))


def _logsumexp_bwd(ctx, g):
    from .unary import exp
    x, = ctx.saved
    shape = ctx._input_meta[0][0]
    r = _unreduce(ctx.result, shape, ctx.dim, ctx.keepdim)
    return _unreduce(g, shape, ctx.dim, ctx.keepdim) * _conj(exp(x - r))


# Not widened for half dtypes: torch rounds its steps (max, log of the sum) to the dtype.
logsumexp_op = defop("logsumexp", _logsumexp_fwd, _logsumexp_bwd, promote=FLOAT, save=(0,),
                     save_result=True)


@declare(out=True)
def logsumexp(input, dim, keepdim=False):
    """log(sum(exp(input), dim)), computed without overflow."""
    return apply(logsumexp_op, (input,), {"dim": _dims_or_all(input, dim), "keepdim": keepdim})


# ---- all / any / count_nonzero ---------------------------------------------------------------
def _logical_reduce(a, dim, keepdim, fn):
    r = fn(a, axis=_axis(dim, a.ndim), keepdims=keepdim)
    # torch keeps uint8 for uint8 input; every other dtype gives bool.
    return r.astype(np.uint8) if a.dtype == np.uint8 else r


all_op = defop("all", lambda a, dim, keepdim: _logical_reduce(a, dim, keepdim, np.all))
any_op = defop("any", lambda a, dim, keepdim: _logical_reduce(a, dim, keepdim, np.any))
count_nonzero_op = defop("count_nonzero", lambda a, dim: array_module(a).asarray(
    array_module(a).count_nonzero(a, axis=_axis(dim, a.ndim)), dtype=np.int64))


@declare(out=True)
def all(input, dim=None, keepdim=False):
    return apply(all_op, (input,), {"dim": _dims_or_all(input, dim), "keepdim": keepdim})


@declare(out=True)
def any(input, dim=None, keepdim=False):
    return apply(any_op, (input,), {"dim": _dims_or_all(input, dim), "keepdim": keepdim})


@declare
def count_nonzero(input, dim=None):
    return apply(count_nonzero_op, (input,), {"dim": _dims_or_all(input, dim)})


# ---- var / std ---------------------------------------------------------------------------------
def _var_fwd(a, dim, correction, keepdim, take_sqrt):
    if a.dtype.kind not in "fcV":
        raise RuntimeError("std and var only support floating point and complex dtypes")
    ax = _axis(dim, a.ndim)
    n = a.size if ax is None else int(np.prod([a.shape[d] for d in ax]))
    if n - correction <= 0:
        warnings.warn("var(): degrees of freedom is <= 0. Correction should be strictly less "
                      "than the reduction factor (input numel divided by output numel).",
                      UserWarning, stacklevel=4)
    xp = array_module(a)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = xp.var(a, axis=ax, ddof=correction, keepdims=keepdim)
        r = xp.sqrt(r) if take_sqrt else r
    return xp.asarray(r).astype(a.real.dtype, copy=False)


def _var_bwd_from(ctx, g, x):
    shape = ctx._input_meta[0][0]
    dims = ctx.dim
    n = 1
    for d in (dims if dims is not None else range(len(shape))):
        n *= shape[d]
    centered = x - (x.mean(dims, keepdim=True) if dims is not None else x.mean())
    dof = n - ctx.correction
    # No degrees of freedom: var is inf/nan and so is its gradient (torch's as well).
    scale = 2.0 / dof if dof > 0 else float("inf")
    return _unreduce(g, shape, dims, ctx.keepdim) * centered * scale


def _var_bwd(ctx, g):
    return _var_bwd_from(ctx, g, ctx.saved[0])


def _std_bwd(ctx, g):
    from .pointwise import where
    r = ctx.result
    # torch's convention: zero gradient where the deviation is zero (instead of 0/0).
    return _var_bwd_from(ctx, where(r == 0, 0.0, g / (2 * r)), ctx.saved[0])


var_op = defop("var", _in_float32(lambda a, dim, correction, keepdim:
                                  _var_fwd(a, dim, correction, keepdim, False)),
               _var_bwd, save=(0,))
std_op = defop("std", _in_float32(lambda a, dim, correction, keepdim:
                                  _var_fwd(a, dim, correction, keepdim, True)),
               _std_bwd, save=(0,), save_result=True)


def _var_params(input, dim, unbiased, keepdim, correction):
    # The legacy forms: var(input, unbiased) and var(input, dim, unbiased, keepdim).
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError("var() received an invalid combination of arguments - got both "
                        "unbiased and correction")
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    return {"dim": _dims_or_all(input, dim), "correction": correction, "keepdim": keepdim}


@declare(out=True)
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """var(input, dim=None, *, correction=1, keepdim=False); also the unbiased= forms."""
    return apply(var_op, (input,), _var_params(input, dim, unbiased, keepdim, correction))


@declare(out=True)
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return apply(std_op, (input,), _var_params(input, dim, unbiased, keepdim, correction))


@declare
def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    p = _var_params(input, dim, unbiased, keepdim, correction)
    return apply(var_op, (input,), p), mean(input, p["dim"], keepdim)


@declare
def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    p = _var_params(input, dim, unbiased, keepdim, correction)
    return apply(std_op, (input,), p), mean(input, p["dim"], keepdim)
