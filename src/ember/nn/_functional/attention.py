"""Scaled dot-product attention and the multi-head attention forward."""
import math

import numpy as np

from ..._device import array_module
from ..._ops import attention_ops, nn_ops
from ..._tensor import _make
from .misc import dropout, linear


def _additive_mask(mask, like):
    """Bool masks (True = masked out) become -inf additive masks; float masks stay."""
    if mask is None:
        return None
    if mask.dtype.name == "bool":
        return neg_inf_where(mask, like.dtype)
    return mask


def neg_inf_where(mask, dtype):
    """-inf where ``mask`` is True, 0 elsewhere (a constant: bool masks carry no grad)."""
    from ... import _creation
    out = _creation.zeros(tuple(mask.shape), dtype=dtype, device=mask.device)._data
    out[mask._data] = -np.inf
    return _make(out)


def _causal_mask(L, S, like):
    xp = array_module(like._data)
    return _make(xp.triu(xp.full((L, S), -np.inf, dtype=like._data.dtype), 1))


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    L, S = query.shape[-2], key.shape[-2]
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    if dropout_p == 0:
        out = attention_ops.fused_attention(query, key, value, attn_mask, is_causal, scale)
        if out is not None:
            return out
    # Scaling the query rather than the scores: L x E numbers instead of L x S.
    scores = (query * scale) @ key.transpose(-2, -1)
    if is_causal:
        scores = scores + _causal_mask(L, S, query)
    if attn_mask is not None:
        # Unlike MultiheadAttention's, sdpa's bool masks mark what may be attended to.
        mask = neg_inf_where(attn_mask.logical_not(), query.dtype) \
            if attn_mask.dtype.name == "bool" else attn_mask
        scores = scores + mask
    weights = nn_ops.softmax(scores, -1)
    if dropout_p > 0:
        weights = dropout(weights, dropout_p, True)
    return weights @ value


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight,
                                 out_proj_bias, training=True, key_padding_mask=None,
                                 need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False):
    """Inputs are (L, N, E) sequence-first; returns (output, weights or None)."""
    from ..._ops import join
    from ... import _creation
    tgt_len, bsz, embed_dim = query.shape
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got "
                             f"{embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        b_q = b_k = b_v = None
        if in_proj_bias is not None:
            b_q, b_k, b_v = in_proj_bias.chunk(3)
        q = linear(query, q_proj_weight, b_q)
        k = linear(key, k_proj_weight, b_k)
        v = linear(value, v_proj_weight, b_v)
    elif query is key and key is value:
        # Self-attention: one GEMM with the packed weight instead of three.
        q, k, v = linear(query, in_proj_weight, in_proj_bias).chunk(3, -1)
    else:
        w_q, w_k, w_v = in_proj_weight.chunk(3)
        b_q, b_k, b_v = in_proj_bias.chunk(3) if in_proj_bias is not None else (None,) * 3
        q = linear(query, w_q, b_q)
        k = linear(key, w_k, b_k)
        v = linear(value, w_v, b_v)
    if is_causal and attn_mask is None:
        attn_mask = _causal_mask(tgt_len, key.shape[0], query)
    attn_mask = _additive_mask(attn_mask, q)
    if attn_mask is not None and attn_mask.dim() == 2:
        attn_mask = attn_mask.unsqueeze(0)
    if bias_k is not None and bias_v is not None:
        k = join.cat([k, bias_k.expand(1, bsz, embed_dim)], 0)
        v = join.cat([v, bias_v.expand(1, bsz, embed_dim)], 0)
        if attn_mask is not None:
            attn_mask = nn_ops.pad(attn_mask, [0, 1])
        if key_padding_mask is not None:
            key_padding_mask = nn_ops.pad(key_padding_mask, [0, 1])
    # (L, N, E) -> (N * heads, L, head_dim)
    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = k.reshape(k.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    v = v.reshape(v.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    if add_zero_attn:
        zeros = _creation.zeros((bsz * num_heads, 1, head_dim), dtype=q.dtype, device=q.device)
        k = join.cat([k, zeros], 1)
        v = join.cat([v, zeros], 1)
        if attn_mask is not None:
            attn_mask = nn_ops.pad(attn_mask, [0, 1])
        if key_padding_mask is not None:
            key_padding_mask = nn_ops.pad(key_padding_mask, [0, 1])
    src_len = k.shape[1]
    scores = (q * (1.0 / math.sqrt(head_dim))) @ k.transpose(-2, -1)
    if attn_mask is not None:
        scores = scores + attn_mask
    if key_padding_mask is not None:
        kpm = _additive_mask(key_padding_mask, q).reshape(bsz, 1, 1, src_len)
        scores = (scores.reshape(bsz, num_heads, tgt_len, src_len) + kpm).reshape(
            bsz * num_heads, tgt_len, src_len)
    weights = nn_ops.softmax(scores, -1)
    if dropout_p > 0.0 and training:
        weights = dropout(weights, dropout_p, True)
    out = (weights @ v).transpose(0, 1).reshape(tgt_len, bsz, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias)
    if not need_weights:
        return out, None
    weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
    if average_attn_weights:
        weights = weights.mean(1)
    return out, weights


__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]
