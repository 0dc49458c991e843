"""Scaled dot-product attention as one op, as torch's CPU flash kernel records it
(ScaledDotProductFlashAttentionForCpuBackward0, with query, key and value as its inputs),
and its backward as one op.

The forward keeps no probabilities: the backward recomputes them (one QK^T product and
one softmax, small beside the four products of the backward), so the op needs nothing
saved but its inputs.  A mask is a constant (torch's flash path takes no mask gradient),
passed as a parameter.  As torch's, the backward has no derivative of its own.
"""
import math

import numpy as np

from .._device import array_module
from ._rows import host_blocks
from .registry import AUTOCAST_LOWER, apply, defop


def _swap(a):
    return array_module(a).swapaxes(a, -1, -2)


def _probs(q, k, mask, is_causal, scale):
    """softmax(q k^T * scale + masks) along the keys, in one buffer."""
    xp = array_module(q)
    s = xp.matmul(q * q.dtype.type(scale), _swap(k))
    if is_causal:
        s += xp.triu(xp.full(s.shape[-2:], -np.inf, dtype=s.dtype), 1)
    if mask is not None:
        if mask.dtype == np.bool_:    # True: may be attended to
            s += xp.where(mask, s.dtype.type(0), s.dtype.type(-np.inf))
        else:
            s += mask
    s -= s.max(axis=-1, keepdims=True)
    xp.exp(s, out=s)
    s /= s.sum(axis=-1, keepdims=True)
    return s


def _wide(*arrays):
    """Half precision computes in float32 and rounds once, as torch's kernels."""
    d = arrays[0].dtype
    if d.itemsize == 2 and d.kind in "fV":
        return d, tuple(a.astype(np.float32) for a in arrays)
    return None, arrays


def _split(arrays, mask, fn, shapes):
    """``fn(rows, outs)`` (``rows`` a slice of the leading batch dim, ``outs`` the outputs'
    slices to write, or Nones to return fresh arrays) over blocks of the batch on the
    intra-op threads: batches are independent.  One call over everything for device
    arrays, a mask (broadcast over the batch its own way) or batch dims that broadcast."""
    a0 = arrays[0]
    n = a0.shape[0] if a0.ndim >= 3 else 0
    if (mask is not None or n < 2 or not all(isinstance(a, np.ndarray) for a in arrays)
            or any(a.shape[:-2] != a0.shape[:-2] for a in arrays)):
        return fn(slice(None), (None,) * len(shapes))
    outs = [np.empty(shape, a0.dtype) for shape in shapes]
    q, k = arrays[1], arrays[2]
    work = math.prod(q.shape[1:-1]) * k.shape[-2] * (q.shape[-1] + 1)

    def block(i, j):
        fn(slice(i, j), tuple(o[i:j] for o in outs))
    host_blocks(block, n, work, *arrays)
    return outs


def _sdpa_fwd(q, k, v, mask, is_causal, scale):
    half, (q, k, v) = _wide(q, k, v)
    xp = array_module(q)

    def fn(r, outs):
        return (xp.matmul(_probs(q[r], k[r], mask, is_causal, scale), v[r], out=outs[0]),)
    (out,) = _split((q, q, k, v), mask, fn, [q.shape[:-1] + v.shape[-1:]])
    return out if half is None else out.astype(half)


def _sdpa_bwd(ctx, g):
    q, k, v = ctx.saved
    dq, dk, dv = apply(sdpa_backward_op, (g, q, k, v), ctx._params)
    need = ctx.needs_input_grad
    return dq if need[0] else None, dk if need[1] else None, dv if need[2] else None


def _sdpa_backward_fwd(g, q, k, v, mask, is_causal, scale):
    half, (g, q, k, v) = _wide(g, q, k, v)
    xp = array_module(q)

    def fn(r, outs):
        gb, qb, kb, vb = g[r], q[r], k[r], v[r]
        p = _probs(qb, kb, mask, is_causal, scale)
        dv = xp.matmul(_swap(p), gb, out=outs[2])
        # dS = P (dP - rowsum(dP P)), dP = g v^T; then dQ = dS k s and dK = dS^T q s.
        ds = xp.matmul(gb, _swap(vb))
        ds -= xp.einsum("...ij,...ij->...i", ds, p)[..., None]
        ds *= p
        ds *= ds.dtype.type(scale)
        return xp.matmul(ds, kb, out=outs[0]), xp.matmul(_swap(ds), qb, out=outs[1]), dv
    dq, dk, dv = _split((g, q, k, v), mask, fn, [q.shape, k.shape, v.shape])
    if half is not None:
        return dq.astype(half), dk.astype(half), dv.astype(half)
    return dq, dk, dv


def _sdpa_backward_bwd(ctx, gq, gk, gv):
    raise RuntimeError("derivative for aten::_scaled_dot_product_flash_attention_for_cpu_backward"
                       " is not implemented")


sdpa_op = defop("scaled_dot_product_attention", _sdpa_fwd, _sdpa_bwd, save=(0, 1, 2),
                node="ScaledDotProductFlashAttentionForCpuBackward0", autocast=AUTOCAST_LOWER)
sdpa_backward_op = defop("scaled_dot_product_attention_backward", _sdpa_backward_fwd,
                         _sdpa_backward_bwd, save=(0, 1, 2, 3), nout=3,
                         node="ScaledDotProductFlashAttentionForCpuBackwardBackward0")


def fused_attention(query, key, value, attn_mask, is_causal, scale):
    """torch's flash-kernel cases as one op, or None where torch (and Ember) compose: 4-D
    inputs of one float dtype and batch shape, value's head size the query's, and a mask
    (if any) that needs no gradient."""
    dt = query._data.dtype
    if not (query.dim() == key.dim() == value.dim() == 4 and dt.kind in "fV"
            and key._data.dtype == dt and value._data.dtype == dt
            and query.shape[:2] == key.shape[:2] == value.shape[:2]
            and value.shape[-1] == query.shape[-1] and key.shape[-2] == value.shape[-2]
            and key.shape[-1] == query.shape[-1]):
        return None
    mask = None
    if attn_mask is not None:
        if attn_mask.requires_grad or (attn_mask.dtype.name != "bool"
                                       and attn_mask._data.dtype != dt):
            return None
        mask = attn_mask._data
    return apply(sdpa_op, (query, key, value),
                 {"mask": mask, "is_causal": bool(is_causal), "scale": float(scale)})
