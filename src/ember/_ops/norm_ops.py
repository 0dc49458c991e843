"""LayerNorm as torch's fused pair: ``native_layer_norm`` (NativeLayerNormBackward0) whose
backward is one ``native_layer_norm_backward`` op (NativeLayerNormBackwardBackward0).

Both kernels work on the input seen as (rows, D), D the normalized size, in float32 for
float32 (and float16/bfloat16, rounded once at the end), with the statistics of the
two-pass form (mean, then the mean of the centred squares), so a large mean does not
cancel the variance away.  The backward recomputes mean and rstd from the input instead
of saving them (one op with torch's three inputs keeps torch's graph); that costs two
reductions and one pass.  Higher derivatives differentiate the composite formula
(``_replay.vjp_of_vjp``).
"""
import numpy as np

from .._device import array_module
from ._replay import vjp_of_vjp
from ._rows import host_blocks
from .registry import apply, defop

_F32 = np.dtype(np.float32)


def _rows(a, d, wide):
    """``a`` as (rows, D), in float32 when half precision (``wide``)."""
    a2 = a.reshape(-1, d)
    return a2.astype(_F32) if wide else a2


def _wide(dtype):
    return dtype.itemsize == 2 and dtype.kind in "fV"


def _normalize_into(xb, out, eps):
    """``(x - mean) * rstd`` of the rows ``xb`` written into ``out``; returns rstd (rows, 1)."""
    xp = array_module(xb)
    d = xb.shape[1]
    xp.subtract(xb, xb.mean(axis=1, keepdims=True), out=out)
    var = xp.einsum("ij,ij->i", out, out)[:, None]
    var /= d
    var += eps
    rstd = xp.sqrt(var, out=var)
    xp.reciprocal(rstd, out=rstd)
    out *= rstd
    return rstd


# Elements per block of rows in the backward: its passes over a block then run from cache
# (over the whole array they run from memory, and a temporary of its size costs fresh
# pages).  Measured on 2048 x 1024: 8.1 ms against 10.8 unblocked; the forward, with
# fewer passes and no temporary, is fastest unblocked (3.9 ms against 4.8).
_BLOCK = 65536


def _blocks(xp, rows, d, block=_BLOCK):
    step = rows if xp is not np else max(1, min(rows, block // max(d, 1)))  # GPU: one block
    return [(i, min(i + step, rows)) for i in range(0, rows, step)], step


def _flat(p, wide):
    if p is None:
        return None
    p = p.reshape(-1)
    return p.astype(_F32) if wide else p


def _ln_fwd(x, w, b, k, eps):
    xp = array_module(x)
    d = int(np.prod(x.shape[x.ndim - k:]))
    wide = _wide(x.dtype)
    x2 = _rows(x, d, wide)
    w, b = _flat(w, wide), _flat(b, wide)
    y = xp.empty(x2.shape, x2.dtype)

    def rows(i, j):
        yb = y[i:j]
        _normalize_into(x2[i:j], yb, eps)
        if w is not None:
            yb *= w
        if b is not None:
            yb += b
    host_blocks(rows, x2.shape[0], d, x2)
    return _owned(y, x.shape, x.dtype)


def _ln_bwd(ctx, g):
    x, w = ctx.saved
    need = ctx.needs_input_grad
    gx, gw, gb = apply(layer_norm_backward_op, (g, x, w),
                       {"k": ctx.k, "eps": ctx.eps, "mask": (need[0], need[1], need[2])})
    return (gx if need[0] else None, gw if need[1] else None, gb if need[2] else None)


def _ln_backward_fwd(g, x, w, k, eps, mask):
    xp = array_module(x)
    shape = x.shape
    d = int(np.prod(shape[x.ndim - k:]))
    pshape = shape[x.ndim - k:]
    wide = _wide(x.dtype)
    g2, x2 = _rows(g, d, wide), _rows(x, d, wide)
    w = _flat(w, wide)
    rows = x2.shape[0]
    gx = xp.empty(x2.shape, x2.dtype) if mask[0] else xp.zeros(shape, x2.dtype)
    partial = {}    # a block's first row -> its (gw, gb) sums, added in row order below

    def run(start, stop):
        ranges, step = _blocks(xp, stop - start, d)
        xhat = xp.empty((step, d), x2.dtype)
        gw = xp.zeros(d, x2.dtype)
        gb = xp.zeros(d, x2.dtype)
        for i, j in ranges:
            i, j = i + start, j + start
            gbk, xh = g2[i:j], xhat[:j - i]
            rstd = _normalize_into(x2[i:j], xh, eps)
            if mask[1]:
                gw += xp.einsum("ij,ij->j", gbk, xh)
            if mask[2]:
                gb += gbk.sum(axis=0)
            if mask[0]:
                # gx = rstd (a - mean(a) - xhat mean(a xhat)), a = g w: per-row scalars
                # first, then passes that reuse xhat's buffer.
                a = gx[i:j]
                if w is not None:
                    xp.multiply(gbk, w, out=a)
                else:
                    a[...] = gbk
                mean_a = a.mean(axis=1, keepdims=True)
                mean_ax = xp.einsum("ij,ij->i", a, xh)[:, None]
                mean_ax /= d
                xh *= mean_ax
                xh += mean_a
                a -= xh
                a *= rstd
        partial[start] = gw, gb
    host_blocks(run, rows, d, x2, g2)
    sums = [partial[k] for k in sorted(partial)]
    gw, gb = sums[0]
    for pw, pb in sums[1:]:
        gw += pw
        gb += pb
    return _owned(gx, shape, x.dtype), _owned(gw, pshape, x.dtype), _owned(gb, pshape, x.dtype)


def _owned(a, shape, dtype):
    """``a`` in ``shape`` and ``dtype``, reshaped only when it must be: a reshaped array is
    a view, and the engine copies a view before it becomes a leaf's ``.grad``."""
    if a.shape != shape:
        a = a.reshape(shape)
    return a.astype(dtype, copy=False)


def _ln_backward_bwd(ctx, ggx, ggw, ggb):
    from .._creation import zeros
    g, x, w = ctx.saved
    k, eps, mask = ctx.k, ctx.eps, ctx.mask
    # A zero bias stands in for the real one (not saved: it takes no part in the
    # gradients' values) so that the replay has a gb to pair with ggb.
    b = zeros(tuple(x.shape[x.dim() - k:]), dtype=x.dtype) if mask[2] else None
    cots = (ggx if mask[0] else None, ggw if mask[1] else None, ggb if mask[2] else None)

    def fn(x, w, b):
        return layer_norm_composite(x, k, w, b, eps)
    return vjp_of_vjp(fn, g, (x, w, b), cots, ctx.needs_input_grad + (False,))[:3]


native_layer_norm_op = defop("native_layer_norm", _ln_fwd, _ln_bwd, save=(0, 1))
layer_norm_backward_op = defop("native_layer_norm_backward", _ln_backward_fwd,
                               _ln_backward_bwd, save=(0, 1, 2), nout=3,
                               node="NativeLayerNormBackwardBackward0")


def layer_norm_composite(x, k, w, b, eps):
    """LayerNorm in Ember ops (each step differentiable): what the double backward replays."""
    from .unary import rsqrt
    dims = tuple(range(x.dim() - k, x.dim()))
    centered = x - x.mean(dims, keepdim=True)
    y = centered * rsqrt((centered * centered).mean(dims, keepdim=True) + eps)
    if w is not None:
        y = y * w
    if b is not None:
        y = y + b
    return y


def native_layer_norm(input, k, weight, bias, eps):
    """LayerNorm over the last ``k`` dims as one op (NativeLayerNormBackward0)."""
    return apply(native_layer_norm_op, (input, weight, bias), {"k": k, "eps": eps})
