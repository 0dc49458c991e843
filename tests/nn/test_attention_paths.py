"""scaled_dot_product_attention's masks and scale against torch, values and grads.
sdpa's bool masks mean "may attend" (True), the opposite of MultiheadAttention's."""
import numpy as np
import pytest
import torch

import ember

from .helpers import to_numpy

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
