"""nn.init distributions (statistically: bounds, mean, std), layer defaults, and nn.utils."""
import math

import numpy as np
import pytest
import torch

import ember
import ember.nn as nn
from ember.nn import init

from .helpers import close


def data(t):
    return np.asarray(t.detach()._data, dtype=np.float64)


def test_calculate_gain_matches_torch():
    for nl, p in [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None),
                  ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None)]:
        assert init.calculate_gain(nl, p) == torch.nn.init.calculate_gain(nl, p)
    with pytest.raises(ValueError, match="Unsupported nonlinearity foo"):
        init.calculate_gain("foo")


def test_uniform_normal_constant():
    t = ember.empty(200, 100)
    init.uniform_(t, -0.5, 1.5)
    d = data(t)
    assert d.min() >= -0.5 and d.max() < 1.5 and abs(d.mean() - 0.5) < 0.02
    init.normal_(t, 2.0, 0.5)
    d = data(t)
    assert abs(d.mean() - 2.0) < 0.01 and abs(d.std() - 0.5) < 0.01
    init.constant_(t, 0.3)
    assert np.allclose(data(t), 0.3)
    init.zeros_(t)
    assert not data(t).any()
    init.ones_(t)
    assert (data(t) == 1).all()
    e = ember.empty(3, 4)
    init.eye_(e)
    assert (data(e) == np.eye(3, 4)).all()


def test_init_respects_generator_and_no_grad():
    # Ember's generator stream is NumPy's, not torch's: reproducibility is checked on Ember.
    p = nn.Parameter(ember.empty(5, 5))
    g1, g2 = ember.Generator().manual_seed(3), ember.Generator().manual_seed(3)
    a = data(init.normal_(p, generator=g1)).copy()
    b = data(init.normal_(p, generator=g2))
    assert (a == b).all()
    assert p.grad_fn is None and p.requires_grad


def test_dirac_matches_torch():
    for shape, groups in [((4, 4, 3), 1), ((6, 3, 3, 3), 2), ((2, 2, 3, 3, 3), 1)]:
        e, t = ember.empty(*shape), torch.empty(*shape)
        init.dirac_(e, groups)
        torch.nn.init.dirac_(t, groups)
        assert (data(e) == t.numpy()).all()


@pytest.mark.parametrize("shape", [(300, 200), (64, 32, 3, 3)])
def test_xavier_and_kaiming_bounds_and_std(shape):
    t = ember.empty(*shape)
    fan_in = shape[1] * int(np.prod(shape[2:]))
    fan_out = shape[0] * int(np.prod(shape[2:]))
    init.xavier_uniform_(t, gain=2.0)
    bound = 2.0 * math.sqrt(6.0 / (fan_in + fan_out))
    d = data(t)
    assert np.abs(d).max() <= bound and np.abs(d).max() > 0.95 * bound
    init.xavier_normal_(t)
    assert abs(data(t).std() - math.sqrt(2.0 / (fan_in + fan_out))) < 0.05 * data(t).std()
    init.kaiming_uniform_(t, a=0, mode="fan_out", nonlinearity="relu")
    bound = math.sqrt(2.0) * math.sqrt(3.0 / fan_out)
    assert np.abs(data(t)).max() <= bound and np.abs(data(t)).max() > 0.95 * bound
    init.kaiming_normal_(t, nonlinearity="leaky_relu", a=0.1)
    std = math.sqrt(2.0 / (1 + 0.01)) / math.sqrt(fan_in)
    assert abs(data(t).std() - std) < 0.05 * std


def test_trunc_normal_and_orthogonal():
    t = ember.empty(100, 100)
    init.trunc_normal_(t, mean=0.5, std=1.0, a=-0.5, b=1.0)
    d = data(t)
    assert d.min() >= -0.5 and d.max() <= 1.0
    # mean of N(0.5, 1) truncated to [-0.5, 1]
    ref = torch.empty(100, 100)
    torch.nn.init.trunc_normal_(ref, mean=0.5, std=1.0, a=-0.5, b=1.0)
    assert abs(d.mean() - ref.mean().item()) < 0.03
    for shape in [(4, 6), (6, 4), (3, 2, 2)]:
        q = ember.empty(*shape)
        init.orthogonal_(q, gain=2.0)
        m = data(q).reshape(shape[0], -1)
        if m.shape[0] <= m.shape[1]:
            assert np.allclose(m @ m.T, 4 * np.eye(m.shape[0]), atol=1e-5)
        else:
            assert np.allclose(m.T @ m, 4 * np.eye(m.shape[1]), atol=1e-5)
    with pytest.raises(ValueError, match="Fan in and fan out can not be computed"):
        init.xavier_uniform_(ember.empty(3))


def test_layer_default_init_distributions():
    lin = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w = data(lin.weight)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound
    assert np.abs(data(lin.bias)).max() <= bound
    conv = nn.Conv2d(8, 16, 3)
    bound = 1 / math.sqrt(8 * 9)
    assert np.abs(data(conv.weight)).max() <= bound and np.abs(data(conv.bias)).max() <= bound
    emb = nn.Embedding(500, 40, padding_idx=3)
    e = data(emb.weight)
    assert abs(e.std() - 1) < 0.05 and not e[3].any()
    bn = nn.BatchNorm1d(5)
    assert (data(bn.weight) == 1).all() and not data(bn.bias).any()
    rnn = nn.LSTM(10, 20)
    assert all(np.abs(data(p)).max() <= 1 / math.sqrt(20) for p in rnn.parameters())
    mha = nn.MultiheadAttention(8, 2)
    assert not data(mha.in_proj_bias).any() and not data(mha.out_proj.bias).any()


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf"), "inf"])
def test_clip_grad_norm_matches_torch(norm_type):
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(s).astype(np.float32) for s in [(3, 4), (5,), (2, 2, 2)]]
    ep = [nn.Parameter(ember.zeros(g.shape)) for g in grads]
    tp = [torch.nn.Parameter(torch.zeros(g.shape)) for g in grads]
    for e, t, g in zip(ep, tp, grads):
        e.grad = ember.tensor(g.copy())
        t.grad = torch.from_numpy(g.copy())
    en = nn.utils.clip_grad_norm_(ep, 1.5, norm_type=norm_type)
    tn = torch.nn.utils.clip_grad_norm_(tp, 1.5, norm_type=norm_type)
    close(en, tn)
    for e, t in zip(ep, tp):
        close(e.grad, t.grad)


def test_clip_grad_errors_value_and_vectors():
    p = nn.Parameter(ember.zeros(3))
    p.grad = ember.tensor([1.0, float("inf"), 0.0])
    with pytest.raises(RuntimeError, match="The total norm of order 2.0 for gradients"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    p.grad = ember.tensor([-3.0, 0.5, 2.0])
    nn.utils.clip_grad_value_(p, 1.0)
    assert (data(p.grad) == [-1.0, 0.5, 1.0]).all()
    assert nn.utils.clip_grad_norm_([nn.Parameter(ember.zeros(2))], 1.0).item() == 0.0
    m = nn.Linear(3, 2)
    vec = nn.utils.parameters_to_vector(m.parameters())
    assert tuple(vec.shape) == (8,)
    expected = np.concatenate([data(m.weight).ravel(), data(m.bias)]).astype(np.float32)
    assert np.array_equal(data(vec), expected)
    nn.utils.vector_to_parameters(ember.arange(8.0), m.parameters())
    assert (data(m.weight).ravel() == np.arange(6)).all() and (data(m.bias) == [6, 7]).all()


def test_initialisers_bump_the_version_as_torch():
    # Every write torch's initialisers make is an in-place op, seen by autograd's
    # saved-tensor checks; sparse_ writes once per column, Embedding zeroes padding_idx.
    def versions(lib):
        w = lib.empty(4, 3)
        lib.nn.init.sparse_(w, 0.5)
        return [w._version, lib.nn.Embedding(4, 3, padding_idx=0).weight._version,
                lib.nn.EmbeddingBag(4, 3, padding_idx=1).weight._version]
    assert versions(ember) == versions(torch)
