"""Attention against torch, values and grads: scaled_dot_product_attention's masks
and scale (its bool masks mean "may attend", the opposite of MultiheadAttention's),
and MultiheadAttention's self-attention, which projects with one packed GEMM."""
import numpy as np
import pytest
import torch

import ember

from .helpers import sync, to_numpy

RNG = np.random.default_rng(0)
_ALLOWED = RNG.random((5, 5)) > 0.5
np.fill_diagonal(_ALLOWED, True)


@pytest.mark.parametrize("kwargs", [
    {}, {"is_causal": True}, {"scale": 0.3}, {"attn_mask": _ALLOWED},
    {"attn_mask": RNG.standard_normal((5, 5)).astype(np.float32)},
], ids=["plain", "causal", "scale", "bool_mask", "float_mask"])
def test_sdpa_matches_torch(kwargs):
    q, k, v = (RNG.standard_normal((2, 3, 5, 4)).astype(np.float32) for _ in range(3))
    tk = {n: torch.tensor(a) if isinstance(a, np.ndarray) else a for n, a in kwargs.items()}
    ek = {n: ember.tensor(a) if isinstance(a, np.ndarray) else a for n, a in kwargs.items()}
    t_in = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    e_in = [ember.tensor(a, requires_grad=True) for a in (q, k, v)]
    ty = torch.nn.functional.scaled_dot_product_attention(*t_in, **tk)
    ey = ember.nn.functional.scaled_dot_product_attention(*e_in, **ek)
    np.testing.assert_allclose(to_numpy(ey), to_numpy(ty), atol=1e-5)
    g = RNG.standard_normal(tuple(ty.shape)).astype(np.float32)
    ty.backward(torch.tensor(g))
    ey.backward(ember.tensor(g))
    for e, t in zip(e_in, t_in):
        np.testing.assert_allclose(to_numpy(e.grad), to_numpy(t.grad), atol=1e-5)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("self_attention", [True, False])
def test_multihead_attention_projections_match_torch(batch_first, self_attention):
    tm = torch.nn.MultiheadAttention(16, 4, batch_first=batch_first)
    em = sync(ember.nn.MultiheadAttention(16, 4, batch_first=batch_first), tm)
    arrays = [RNG.standard_normal((5, 3, 16)).astype(np.float32) for _ in range(3)]
    if self_attention:
        arrays = arrays[:1] * 3
    t_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    e_in = [ember.tensor(a, requires_grad=True) for a in arrays]
    if self_attention:   # the same tensor object as query, key and value
        t_in, e_in = t_in[:1] * 3, e_in[:1] * 3
    t_out, t_w = tm(*t_in)
    e_out, e_w = em(*e_in)
    np.testing.assert_allclose(to_numpy(e_out), to_numpy(t_out), atol=1e-5)
    np.testing.assert_allclose(to_numpy(e_w), to_numpy(t_w), atol=1e-5)
    (t_out.sum() + t_w.pow(2).sum()).backward()
    (e_out.sum() + e_w.pow(2).sum()).backward()
    for e, t in zip(e_in, t_in):
        np.testing.assert_allclose(to_numpy(e.grad), to_numpy(t.grad), atol=1e-4)
    for name in ("in_proj_weight", "in_proj_bias"):
        np.testing.assert_allclose(to_numpy(getattr(em, name).grad),
                                   to_numpy(getattr(tm, name).grad), atol=1e-4)
