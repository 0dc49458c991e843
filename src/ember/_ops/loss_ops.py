"""Loss ops whose gradients torch defines by formula rather than by composition.

- ``binary_cross_entropy``: torch clamps each log at -100 and divides its gradient by
  max(x(1-x), 1e-12), so the loss and its gradients stay finite at x = 0 or 1.
- ``ctc_loss``: the log-space forward-backward (alpha-beta) recursion; its gradient
  w.r.t. log_probs comes from the same recursion.  As in torch, it has no second
  derivative: ``ctc_loss_backward`` is not differentiable.  The recursion is
  sequential over time with little work per step, so it runs on the host in float64.
"""
import numpy as np

from .._device import CPU, array_module, device_of, to_device_array
from .registry import PROMOTE, apply, defop

_EPS = 1e-12


# ---- binary_cross_entropy -----------------------------------------------------------
def _bce_fwd(x, t):
    with np.errstate(divide="ignore", invalid="ignore"):
        lx = np.maximum(np.log(x), -100)
        l1x = np.maximum(np.log(1 - x), -100)
    return (-(t * lx + (1 - t) * l1x)).astype(x.dtype, copy=False)


def _bce_bwd(ctx, g):
    from .unary import log
    x, t = ctx.saved
    gx = apply(bce_backward_op, (g, x, t)) if ctx.needs_input_grad[0] else None
    gt = g * (log(1 - x) - log(x)) if ctx.needs_input_grad[1] else None
    return gx, gt


def _bce_grad_fwd(g, x, t):
    return g * (x - t) / np.maximum(x * (1 - x), _EPS)


def _bce_grad_bwd(ctx, gg):
    # d/dx [(x - t) / (x(1-x))] = (x^2 - 2xt + t) / (x(1-x))^2, the denominator clamped
    # as in the first derivative (torch's double backward).
    from .binary import clamp
    g, x, t = ctx.saved
    denom = clamp(x * (1 - x), min=_EPS)
    ggrad = apply(bce_backward_op, (gg, x, t)) if ctx.needs_input_grad[0] else None
    gx = gg * g * (x * x - 2 * x * t + t) / (denom * denom) if ctx.needs_input_grad[1] else None
    gt = -gg * g / denom if ctx.needs_input_grad[2] else None
    return ggrad, gx, gt


bce_op = defop("binary_cross_entropy", _bce_fwd, _bce_bwd, promote=PROMOTE, save=(0, 1),
               autocast="fp32")
bce_backward_op = defop("binary_cross_entropy_backward", _bce_grad_fwd, _bce_grad_bwd,
                        promote=PROMOTE, save=(0, 1, 2))


def binary_cross_entropy(input, target):
    """Elementwise -(t log x + (1-t) log(1-x)), each log clamped at -100."""
    return apply(bce_op, (input, target))


# ---- nll_loss -----------------------------------------------------------------------
# ``weights``: each target's class weight, 0 where the target is ignored (so an ignored
# target picks class 0 harmlessly).  The reduction is part of the op, as torch's
# NllLossBackward0 is the loss's own node; its backward writes one value per target into
# zeros instead of comparing every class against the target.
def _picked(xp, x, target, cdim, weights):
    safe = xp.where(weights != 0, target, 0)
    if x.ndim == 2 and cdim == 1:
        return x[xp.arange(x.shape[0]), safe]
    return xp.take_along_axis(x, xp.expand_dims(safe, cdim), axis=cdim).squeeze(cdim)


def _nll_fwd(x, target, cdim, weights, reduction, classes):
    xp = array_module(x)
    picked = _picked(xp, x, target, cdim, weights)
    if reduction == "none":
        return (-picked * weights).astype(x.dtype, copy=False)
    total = xp.dot(picked.reshape(-1), weights.reshape(-1))
    if reduction == "mean":
        total = total / weights.sum()
    return xp.asarray(-total, dtype=x.dtype)


def _nll_bwd(ctx, g):
    (target,) = ctx.saved
    grad = apply(nll_loss_backward_op, (g, target), ctx._params)
    return grad, None


def _nll_backward_fwd(g, target, cdim, weights, reduction, classes):
    xp = array_module(g)
    if reduction == "none":
        vals = g * -weights
        vals += 0.0
    else:
        scale = -g
        if reduction == "mean":
            total = weights.sum()
            scale = scale / total if total != 0 else scale * 0  # all ignored: torch's zeros
        vals = weights * scale
    vals += 0.0     # an ignored target's 0 * -g is -0; torch's gradient holds +0 there
    shape = list(target.shape)
    shape.insert(cdim, classes)
    out = xp.zeros(shape, dtype=g.dtype)
    safe = xp.where(weights != 0, target, 0)
    if out.ndim == 2 and cdim == 1:
        out[xp.arange(shape[0]), safe] = vals
    else:
        xp.put_along_axis(out, xp.expand_dims(safe, cdim), xp.expand_dims(vals, cdim), cdim)
    return out


def _nll_backward_bwd(ctx, gg):
    # The backward is linear in g with nll's own coefficients: its adjoint is nll itself.
    (target,) = ctx.saved
    return apply(nll_loss_op, (gg, target), ctx._params), None


nll_loss_op = defop("nll_loss", _nll_fwd, _nll_bwd, save=(1,), autocast="fp32")
nll_loss_backward_op = defop("nll_loss_backward", _nll_backward_fwd, _nll_backward_bwd,
                             save=(1,), node="NllLossBackwardBackward0")


def nll_loss(input, target, cdim, weights, reduction):
    """-input[target] * weights along the class dim ``cdim``, reduced as torch's nll_loss
    (``mean``: divided by the weights' sum); ``weights`` is an array shaped as target."""
    op = nll_loss_op if input.dim() <= 2 else nll_loss_op.variant("NllLoss2DBackward0")
    return apply(op, (input, target), {"cdim": cdim, "weights": weights,
                                       "reduction": reduction, "classes": input.shape[cdim]})


# ---- ctc_loss -----------------------------------------------------------------------
def _extended(targets, target_lengths, blank):
    """Per sample, the label sequence with blanks around and between: (N, 2L+1)."""
    n = targets.shape[0]
    s = 2 * targets.shape[1] + 1
    ext = np.full((n, s), blank, dtype=np.int64)
    ext[:, 1::2] = targets
    pos = np.arange(s)
    ext[pos[None, :] > 2 * target_lengths[:, None]] = blank
    # The skip transition s-2 -> s is allowed between different labels only.
    skip = np.zeros((n, s), dtype=bool)
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    return ext, skip


def _lse(*terms):
    m = terms[0]
    for t in terms[1:]:
        m = np.maximum(m, t)
    safe = np.where(np.isfinite(m), m, 0)
    total = sum(np.exp(t - safe) for t in terms)
    with np.errstate(divide="ignore"):
        return np.log(total) + safe


def _ctc_alpha(lp, ext, skip, input_lengths):
    t_max, n, _ = lp.shape
    s = ext.shape[1]
    rows = np.arange(n)[:, None]
    emit = lp[:, rows, ext]                      # (T, N, S): log_probs of each position's label
    alpha = np.full((t_max, n, s), -np.inf)
    alpha[0, :, 0] = emit[0, :, 0]
    if s > 1:
        alpha[0, :, 1] = emit[0, :, 1]
    for t in range(1, t_max):
        prev = alpha[t - 1]
        one = np.concatenate([np.full((n, 1), -np.inf), prev[:, :-1]], 1)
        two = np.concatenate([np.full((n, 2), -np.inf), prev[:, :-2]], 1)
        two = np.where(skip, two, -np.inf)
        alpha[t] = _lse(prev, one, two) + emit[t]
    return alpha, emit


def _ctc_nll(alpha, input_lengths, target_lengths):
    rows = np.arange(alpha.shape[1])
    last = alpha[input_lengths - 1, rows]        # (N, S)
    end = last[rows, 2 * target_lengths]
    before = np.where(target_lengths > 0,
                      last[rows, np.maximum(2 * target_lengths - 1, 0)], -np.inf)
    return -_lse(end, before)


def _ctc_beta(emit, ext, skip, input_lengths, target_lengths):
    t_max, n, s = emit.shape
    rows = np.arange(n)
    beta = np.full((t_max, n, s), -np.inf)
    # skip[s + 2] allows the transition s -> s + 2.
    skip_next = np.concatenate([skip[:, 2:], np.zeros((n, 2), dtype=bool)], 1)
    for t in range(t_max - 1, -1, -1):
        if t < t_max - 1:
            nxt = beta[t + 1]
            one = np.concatenate([nxt[:, 1:], np.full((n, 1), -np.inf)], 1)
            two = np.concatenate([nxt[:, 2:], np.full((n, 2), -np.inf)], 1)
            two = np.where(skip_next, two, -np.inf)
            beta[t] = _lse(nxt, one, two) + emit[t]
        starts = input_lengths - 1 == t     # each sample's recursion starts at its last frame
        if starts.any():
            r = rows[starts]
            beta[t, r] = -np.inf
            beta[t, r, 2 * target_lengths[r]] = emit[t, r, 2 * target_lengths[r]]
            has = target_lengths[r] > 0
            rr = r[has]
            beta[t, rr, 2 * target_lengths[rr] - 1] = emit[t, rr, 2 * target_lengths[rr] - 1]
        beta[t, input_lengths - 1 < t] = -np.inf
    return beta


def _host(a, dtype):
    return np.asarray(to_device_array(a, CPU), dtype=dtype)


def _prepare(log_probs, targets, input_lengths, target_lengths, blank):
    lp = _host(log_probs, np.float64)
    il = _host(input_lengths, np.int64).reshape(-1)
    tl = _host(target_lengths, np.int64).reshape(-1)
    tg = _host(targets, np.int64)
    if tg.ndim == 1:  # concatenated targets: pad into (N, max length)
        width = int(tl.max()) if tl.size else 0
        padded = np.full((len(tl), width), blank, dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(tl)[:-1]])
        for i, (o, k) in enumerate(zip(offsets, tl)):
            padded[i, :k] = tg[o:o + k]
        tg = padded
    ext, skip = _extended(tg, tl, blank)
    return lp, il, tl, ext, skip


def _ctc_fwd(log_probs, targets, input_lengths, target_lengths, blank, zero_infinity):
    lp, il, tl, ext, skip = _prepare(log_probs, targets, input_lengths, target_lengths, blank)
    alpha, _ = _ctc_alpha(lp, ext, skip, il)
    nll = _ctc_nll(alpha, il, tl)
    if zero_infinity:
        nll = np.where(np.isinf(nll), 0.0, nll)
    return to_device_array(nll.astype(log_probs.dtype), device_of(log_probs))


def _ctc_grad_fwd(g, log_probs, targets, input_lengths, target_lengths, blank, zero_infinity):
    lp, il, tl, ext, skip = _prepare(log_probs, targets, input_lengths, target_lengths, blank)
    alpha, emit = _ctc_alpha(lp, ext, skip, il)
    nll = _ctc_nll(alpha, il, tl)
    beta = _ctc_beta(emit, ext, skip, il, tl)
    t_max, n, c = lp.shape
    ab = alpha + beta                              # (T, N, S)
    peak = ab.max(-1, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0)
    onehot = ext[:, :, None] == np.arange(c)       # (N, S, C)
    summed = np.einsum("tns,nsc->tnc", np.exp(ab - peak), onehot.astype(np.float64))
    with np.errstate(divide="ignore"):
        lcab = np.log(summed) + peak
    with np.errstate(invalid="ignore", over="ignore"):
        grad = np.exp(lp) - np.exp(lcab + nll[None, :, None] - lp)
    grad[np.arange(t_max)[:, None] >= il[None, :]] = 0
    if zero_infinity:
        grad[:, np.isinf(nll)] = 0
    grad = grad * _host(g, np.float64)[None, :, None]
    return to_device_array(grad.astype(log_probs.dtype), device_of(log_probs))


def _ctc_bwd(ctx, g):
    log_probs, targets, input_lengths, target_lengths = ctx.saved
    grad = apply(ctc_backward_op, (g, log_probs, targets, input_lengths, target_lengths),
                 {"blank": ctx.blank, "zero_infinity": ctx.zero_infinity})
    return grad, None, None, None


ctc_op = defop("ctc_loss", _ctc_fwd, _ctc_bwd, save=(0, 1, 2, 3), node="CtcLossBackward0",
               autocast="fp32")
ctc_backward_op = defop("ctc_loss_backward", _ctc_grad_fwd)


def ctc_loss_per_sample(log_probs, targets, input_lengths, target_lengths, blank,
                        zero_infinity):
    """The negative log-likelihood of each sample, (N,); log_probs is (T, N, C)."""
    return apply(ctc_op, (log_probs, targets, input_lengths, target_lengths),
                 {"blank": blank, "zero_infinity": zero_infinity})
