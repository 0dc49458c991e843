"""Scans along a dim: cumsum, cumprod, cummax/cummin, logcumsumexp.

Backwards are written in Ember ops (cumsum of the reversed gradient, and so on), so
they are differentiable again.
"""
import numpy as np

from .._device import array_module
from .._tensor import _make, _wrap_dim
from ._declare import declare
from .inplace import apply_inplace
from .pointwise import where
from .registry import apply, defop
from .sorting import _no_complex, _returns, scatter_add_along_dim
from .unary import _not_implemented, exp
from ._xp import accumulate


def _scan_dtype(a, dtype):
    if dtype is None and a.dtype.kind in "biu":
        return np.int64  # torch accumulates integers (and bools) in int64
    return dtype


def _reverse_cumsum(g, dim):
    """sum_{i >= k} g_i along dim, from one cumsum (no flip needed)."""
    return g.sum(dim, keepdim=True) - cumsum(g, dim) + g


# ---- cumsum -------------------------------------------------------------------------
def _cumsum_fwd(a, dim, dtype=None):
    if a.ndim == 0:
        return a.astype(_scan_dtype(a, dtype) or a.dtype)
    return np.cumsum(a, axis=dim, dtype=_scan_dtype(a, dtype))


cumsum_op = defop("cumsum", _cumsum_fwd,
                  lambda ctx, g: _reverse_cumsum(g, ctx.dim) if g.ndim else g)


def _cumsum_(self, dim, *, dtype=None):
    return apply_inplace(cumsum_op, self, (), {"dim": _wrap_dim(dim, self.ndim)})


@declare(inplace=_cumsum_, out=True)
def cumsum(input, dim, *, dtype=None):
    """Running sums along dim (integers accumulate in int64)."""
    params = {"dim": _wrap_dim(dim, input.ndim)}
    if dtype is not None:
        params["dtype"] = dtype.np
    return apply(cumsum_op, (input,), params)


# ---- cumprod -------------------------------------------------------------------------
def _cumprod_fwd(a, dim, dtype=None):
    if a.ndim == 0:
        return a.astype(_scan_dtype(a, dtype) or a.dtype)
    with np.errstate(all="ignore"):  # overflow to inf is silent in torch
        return np.cumprod(a, axis=dim, dtype=_scan_dtype(a, dtype))


def _cumprod_bwd(ctx, g):
    x, = ctx.saved
    dim = ctx.dim
    if x.ndim == 0:
        return g
    if not (x._data == 0).any():
        return _reverse_cumsum(g * ctx.result, dim) / x
    # With zeros, result / x is 0/0.  grad_k = sum_{i >= k} g_i prod_{j <= i, j != k} x_j:
    # a cumprod of x with x_k replaced by 1, for every k (n x n per slice).
    n = x.shape[dim]
    xp = array_module(x._data)
    eye = _make(xp.eye(n, dtype=bool))
    after = _make(xp.triu(xp.ones((n, n), dtype=bool)))     # [k, i]: i >= k
    xt = x.transpose(dim, -1).unsqueeze(-2)                  # (..., 1, n)
    without_k = where(eye, 1.0, xt)                          # (..., k, n)
    partial = cumprod(without_k, -1)                         # (..., k, i)
    gt = g.transpose(dim, -1).unsqueeze(-2)                  # (..., 1, i)
    grad = (where(after, gt * partial, 0.0)).sum(-1)         # (..., k)
    return grad.transpose(dim, -1)


cumprod_op = defop("cumprod", _cumprod_fwd, _cumprod_bwd, save=(0,), save_result=True)


def _cumprod_(self, dim, *, dtype=None):
    return apply_inplace(cumprod_op, self, (), {"dim": _wrap_dim(dim, self.ndim)})


@declare(inplace=_cumprod_, out=True)
def cumprod(input, dim, *, dtype=None):
    """Running products along dim (integers accumulate in int64)."""
    params = {"dim": _wrap_dim(dim, input.ndim)}
    if dtype is not None:
        params["dtype"] = dtype.np
    return apply(cumprod_op, (input,), params)


# ---- cummax / cummin -------------------------------------------------------------------
def _cumextreme_fwd(a, dim, largest):
    if a.ndim == 0 or a.size == 0:
        return a.copy(), array_module(a).zeros(a.shape, dtype=np.int64)
    values = accumulate("maximum" if largest else "minimum", a, dim)
    # The index of the running extreme: the latest position that equals it (ties move the
    # index forward, as torch); a NaN holds it from then on.
    hit = a == values
    if a.dtype.kind in "fV":
        hit |= np.isnan(a) & ~np.isnan(np.roll(values, 1, axis=dim))
        first = [slice(None)] * a.ndim
        first[dim] = 0
        hit[tuple(first)] = True
    shape = [1] * a.ndim
    shape[dim] = a.shape[dim]
    pos = np.where(hit, array_module(a).arange(a.shape[dim]).reshape(shape), 0)
    return values, accumulate("maximum", pos, dim).astype(np.int64)


def _cumextreme_bwd(ctx, g, g_indices=None):
    shape = ctx._input_meta[0][0]
    if not shape:
        return g
    return scatter_add_along_dim(g, ctx.saved_outputs[1], ctx.dim, shape)


cummax_op = defop("cummax", lambda a, dim: _cumextreme_fwd(a, dim, True), _cumextreme_bwd,
                  nout=2, node="CummaxBackward0")
cummin_op = defop("cummin", lambda a, dim: _cumextreme_fwd(a, dim, False), _cumextreme_bwd,
                  nout=2, node="CumminBackward0")


def _cumextreme(op, input, dim, name):
    _no_complex(input, f"{name}_cpu", skip_0dim=True)
    values, indices = apply(op, (input,), {"dim": _wrap_dim(dim, input.ndim)})
    if values._grad_fn is not None:
        values._grad_fn.saved_outputs = (None, indices)
    return _returns(name)(values, indices)


@declare(out=True)
def cummax(input, dim):
    return _cumextreme(cummax_op, input, dim, "cummax")


@declare(out=True)
def cummin(input, dim):
    return _cumextreme(cummin_op, input, dim, "cummin")


# ---- logcumsumexp -------------------------------------------------------------------------
def _logcumsumexp_fwd(a, dim):
    if a.dtype.kind not in "fcV":
        _not_implemented("logcumsumexp_out", a)
    if a.ndim == 0:
        return a.copy()
    if a.dtype.kind == "c":
        return _complex_logcumsumexp(a, dim)
    return accumulate("logaddexp", a, dim)


def _complex_logaddexp(xp, a, b):
    # log(e^a + e^b) = hi + log1p(e^(lo - hi)), hi the operand of larger real part, so the
    # exponential cannot overflow; like torch, the imaginary part is not wrapped to (-pi, pi].
    a_hi = a.real >= b.real
    hi = xp.where(a_hi, a, b)
    lo = xp.where(a_hi, b, a)
    with np.errstate(all="ignore"):
        out = hi + xp.log1p(xp.exp(lo - hi))
    # An infinite real part (both -inf, or +inf) makes lo - hi undefined; the larger wins.
    return xp.where(xp.isinf(hi.real), hi, out)


def _complex_logcumsumexp(a, dim):
    # NumPy has no complex logaddexp ufunc: accumulate step by step along dim.
    xp = array_module(a)
    x = xp.moveaxis(a, dim, 0)
    out = xp.empty_like(x)
    out[0] = x[0]
    for k in range(1, x.shape[0]):
        out[k] = _complex_logaddexp(xp, out[k - 1], x[k])
    return xp.moveaxis(out, 0, dim)


def _logcumsumexp_bwd(ctx, g):
    x, = ctx.saved
    dim = ctx.dim
    if x.ndim == 0:
        return g
    # grad_k = sum_{i >= k} g_i exp(x_k - r_i).  For i >= k, x_k <= r_i, so every term is
    # at most |g_i|: no overflow.  Terms with i < k are masked to exp(-inf) = 0 before exp.
    n = x.shape[dim]
    xp = array_module(x._data)
    after = _make(xp.triu(xp.ones((n, n), dtype=bool)))      # [k, i]: i >= k
    xk = x.transpose(dim, -1).unsqueeze(-1)                   # (..., k, 1)
    ri = ctx.result.transpose(dim, -1).unsqueeze(-2)          # (..., 1, i)
    gi = g.transpose(dim, -1).unsqueeze(-2)
    # For complex inputs the derivative is holomorphic; torch's gradient multiplies by its
    # conjugate.
    terms = exp(where(after, xk - ri, float("-inf")))
    if terms.is_complex():
        terms = terms.conj()
    terms = terms * gi
    return terms.sum(-1).transpose(dim, -1)


logcumsumexp_op = defop("logcumsumexp", _logcumsumexp_fwd, _logcumsumexp_bwd, save=(0,),
                        save_result=True)


@declare(out=True)
def logcumsumexp(input, dim):
    """log(cumsum(exp(input))) along dim, without overflow."""
    return apply(logcumsumexp_op, (input,), {"dim": _wrap_dim(dim, input.ndim)})

