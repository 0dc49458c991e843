"""Batch normalization as one op forward and one fused op backward (torch's
native_batch_norm and its backward), instead of a dozen elementwise ops each way.

The per-channel statistics come in as constant inputs (``mean``, ``invstd``): the
batch's own in training, the running ones in evaluation.  In training they are
functions of ``x``, which the backward formula accounts for:

    gx = w * invstd * (gy - mean(gy) - xhat * mean(gy * xhat)),   xhat = (x - mean) * invstd

Per-channel sums reduce the contiguous spatial axis first (NumPy's pairwise sum), then
the batch axis.  Half-precision inputs compute in float32 and round once, as torch.

Every pass is per channel, so large host inputs run as blocks of channels on the
intra-op threads (``_parallel``): each block reduces and writes only its own channels,
in the same order as one pass over all of them would, so the results are identical.
"""
import numpy as np

from .._device import array_module
from .._parallel import for_blocks
from .conv import blocks_on
from .registry import apply, defop


def _over_channels(x, fn):
    """``fn(channels)`` for slices of x's channels covering them all: concurrent blocks
    for host arrays (NumPy releases the GIL), one call for other array modules."""
    if array_module(x) is not np or not blocks_on():
        fn(slice(None))
        return
    for_blocks(lambda a, b: fn(slice(a, b)), x.shape[1], x.size // max(1, x.shape[1]))


def _channel_shape(x):
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def channel_sum(a):
    """Per-channel (axis 1) sums of an (N, C, *spatial) array."""
    a = a.reshape(a.shape[0], a.shape[1], -1)
    return a.sum(axis=2).sum(axis=0)


def channel_dot(a, b):
    """Per-channel sums of a * b, without the product's temporary where the array module
    has ``vecdot`` (NumPy 2: one dot per (sample, channel) row)."""
    xp = array_module(a)
    vecdot = getattr(xp, "vecdot", None)
    if vecdot is None:
        return channel_sum(a * b)
    shape = (a.shape[0], a.shape[1], -1)
    return vecdot(a.reshape(shape), b.reshape(shape)).sum(axis=0)


def _wide(*arrays):
    """float32 copies of half-precision arrays (None passes)."""
    return [a if a is None or a.dtype.itemsize != 2 else a.astype(np.float32) for a in arrays]


def batch_stats(x, eps):
    """The batch's per-channel mean, biased variance and 1 / sqrt(var + eps); one
    temporary the size of x (the centred values)."""
    (a,) = _wide(x)
    m = a.size // a.shape[1]
    parts = {}

    def block(c):
        part = a[:, c]
        mean = channel_sum(part) / m
        centred = part - mean.reshape(_channel_shape(part))
        parts[c.start] = (mean, channel_dot(centred, centred) / m)
    _over_channels(a, block)
    xp = array_module(a)
    blocks = [parts[k] for k in sorted(parts, key=lambda k: k or 0)]
    mean, var = (xp.concatenate([p[i] for p in blocks]) if len(blocks) > 1 else blocks[0][i]
                 for i in (0, 1))
    invstd = 1 / xp.sqrt(var + eps)
    return mean, var, invstd


def _scale(w, invstd):
    return invstd if w is None else w * invstd


def _bn_fwd(x, w, b, mean, invstd, training, eps):
    dtype = x.dtype
    x, w, b, mean, invstd = _wide(x, w, b, mean, invstd)
    xp = array_module(x)
    shape = _channel_shape(x)
    scale = _scale(w, invstd).reshape(shape)
    shift = (-mean.reshape(shape) * scale if b is None
             else b.reshape(shape) - mean.reshape(shape) * scale)
    y = xp.empty(x.shape, dtype=np.result_type(x.dtype, scale.dtype))

    def block(c):
        xp.multiply(x[:, c], scale[:, c], out=y[:, c])
        y[:, c] += shift[:, c]
    _over_channels(x, block)
    return y.astype(dtype, copy=False)


def _bn_bwd(ctx, gy):
    x, w, mean, invstd = ctx.saved
    need = ctx.needs_input_grad
    gx, gw, gb = apply(bn_backward_op, (gy, x, w, mean, invstd),
                       {"training": ctx.training, "eps": ctx.eps})
    return (gx if need[0] else None, gw if need[1] else None, gb if need[2] else None,
            None, None)


def _bn_backward_fwd(gy, x, w, mean, invstd, training, eps):
    dtype = x.dtype
    gy, x, w, mean, invstd = _wide(gy, x, w, mean, invstd)
    xp = array_module(x)
    shape = (1, -1) + (1,) * (x.ndim - 2)   # a block's channels
    m = x.size // x.shape[1]
    scale = _scale(w, invstd)
    gx = xp.empty(x.shape, dtype=np.result_type(gy.dtype, scale.dtype))
    parts = {}

    def block(c):
        g, sc = gy[:, c], scale[c]
        sum_gy = channel_sum(g)
        centred = x[:, c] - mean[c].reshape(shape)
        # sum(gy * (x - mean)), from the centred values: sum(gy * x) - mean * sum(gy)
        # would cancel catastrophically where |mean| >> std.
        dot = channel_dot(g, centred)
        out = gx[:, c]
        xp.multiply(g, sc.reshape(shape), out=out)
        if training:
            inv = invstd[c]
            centred *= (sc * inv * inv * dot / m).reshape(shape)
            out -= centred
            out -= (sc * sum_gy / m).reshape(shape)
        parts[c.start] = (sum_gy, dot)
    _over_channels(x, block)
    blocks = [parts[k] for k in sorted(parts, key=lambda k: k or 0)]
    sum_gy, dot = (xp.concatenate([p[i] for p in blocks]) if len(blocks) > 1 else blocks[0][i]
                   for i in (0, 1))
    gw = dot * invstd
    return gx.astype(dtype, copy=False), gw.astype(dtype, copy=False), \
        sum_gy.astype(dtype, copy=False)


def _bn_backward_bwd(ctx, ggx, ggw, ggb):
    """Second derivatives: the vector-Jacobian product of the backward formula, written
    in Ember ops (so it is differentiable again) and differentiated by the engine."""
    from ..autograd import grad as _grad
    from ..autograd import grad_mode
    gy, x, w, mean, invstd = ctx.saved
    need = ctx.needs_input_grad
    create = grad_mode.is_grad_enabled()
    if not any(need[:3]):
        return None, None, None, None, None
    with grad_mode.enable_grad():
        # Fresh aliases: asked for the gradient of gy itself, the engine would also run
        # gy's history (which may lead back to x) and count that path into x's gradient.
        gy, x, w = (t.view(t.shape) if n else t for t, n in zip((gy, x, w), need[:3]))
        wanted = [t for t, n in zip((gy, x, w), need[:3]) if n]
        outs = _composite(gy, x, w, mean, invstd, ctx.training, ctx.eps)
    pairs = [(o, g) for o, g in zip(outs, (ggx, ggw, ggb)) if g is not None and o.requires_grad]
    if not pairs:
        return None, None, None, None, None
    got = iter(_grad([o for o, _ in pairs], wanted, [g for _, g in pairs],
                     retain_graph=True, create_graph=create, allow_unused=True,
                     materialize_grads=True))
    res = [next(got) if n else None for n in need[:3]]
    return res[0], res[1], res[2], None, None


def _composite(gy, x, w, mean, invstd, training, eps):
    from .reduction import mean as _mean
    from .reduction import sum as _sum
    from .unary import rsqrt
    dims = (0,) + tuple(range(2, x.dim()))
    shape = (1, -1) + (1,) * (x.dim() - 2)
    if training:
        mu = _mean(x, dims, keepdim=True)
        centred = x - mu
        inv = rsqrt(_mean(centred * centred, dims, keepdim=True) + eps)
    else:
        centred = x - mean.reshape(shape)
        inv = invstd.reshape(shape)
    xhat = centred * inv
    scale = inv if w is None else inv * w.reshape(shape)
    gxhat = gy
    if training:
        gxhat = gy - _mean(gy, dims, keepdim=True) - xhat * _mean(gy * xhat, dims, keepdim=True)
    return gxhat * scale, _sum(gy * xhat, dims), _sum(gy, dims)


# No promotion: as torch, a half-precision input keeps its dtype with float32 weights and
# statistics (the forwards compute in float32 either way).
bn_op = defop("native_batch_norm", _bn_fwd, _bn_bwd, save=(0, 1, 3, 4),
              node="NativeBatchNormBackward0")
bn_backward_op = defop("native_batch_norm_backward", _bn_backward_fwd, _bn_backward_bwd,
                       save=(0, 1, 2, 3, 4), nout=3,
                       node="NativeBatchNormBackwardBackward0")


# The batch's statistics as an op of their own (no gradient: they enter the normalisation
# as constants, and its backward accounts for them), so that whoever watches the op
# stream (ember.compile, the profiler) sees them computed from the input each call.
stats_op = defop("native_batch_norm_stats", batch_stats, nout=3)


def stats(x, eps):
    """The batch's per-channel ``(mean, biased var, invstd)`` as tensors."""
    return apply(stats_op, (x,), {"eps": eps})


def batch_norm(x, weight, bias, mean, invstd, training, eps):
    """``(x - mean) * invstd * weight + bias`` per channel; ``mean``/``invstd`` are
    constant tensors (the batch's statistics when ``training``)."""
    return apply(bn_op, (x, weight, bias, mean, invstd), {"training": training, "eps": eps})
