"""Random factories and generators.

Shapes, dtypes, ranges, errors and reproducibility are compared with torch, and the
distributions are checked statistically on large samples; that the numbers themselves
are torch's is tested in test_random_streams.py.
"""
import numpy as np
import pytest
import torch

import ember
from _compare import same, same_error

N = 200_000


def arr(t):
    return np.asarray(t.detach().tolist())


@pytest.fixture(autouse=True)
def _restore_default_rng():
    state = ember.get_rng_state()
    yield
    ember.set_rng_state(state)


# ---- shapes, dtypes, errors vs torch ---------------------------------------------------
@pytest.mark.parametrize("expr", [
    lambda m: m.rand(2, 3).shape,
    lambda m: m.rand((2, 3)).shape,
    lambda m: m.rand([4]).shape,
    lambda m: m.rand(m.Size([2, 1])).shape,
    lambda m: m.rand(()).shape,
    lambda m: m.rand(0, 3).shape,
    lambda m: m.rand(2).dtype,
    lambda m: m.rand(2, dtype=m.float64).dtype,
    lambda m: m.rand(2, dtype=m.float16).dtype,
    lambda m: m.rand(2, dtype=m.bfloat16).dtype,
    lambda m: m.rand(2, dtype=m.complex64).dtype,
    lambda m: m.rand(2, requires_grad=True).requires_grad,
    lambda m: m.randn(2, 3).shape,
    lambda m: m.randn(2, 3, dtype=m.float16).dtype,
    lambda m: m.randn(2, dtype=m.complex128).dtype,
    lambda m: m.randn(m.Size([2])).shape,
    lambda m: m.randint(10, (3,)).dtype,
    lambda m: m.randint(3, 10, (3,)).shape,
    lambda m: m.randint(3, 10, [2, 2]).shape,
    lambda m: m.randint(3, 10, (3,), dtype=m.int32).dtype,
    lambda m: m.randint(10, size=(2,)).shape,
    lambda m: m.randint(low=2, high=10, size=(2,)).shape,
    lambda m: m.randint(3, 10, (3,), dtype=m.float32).dtype,
    lambda m: m.randint(0, 2, (3,), dtype=m.bool).dtype,
    lambda m: m.randint(2 ** 40, (2,)).dtype,
    lambda m: m.randperm(5).dtype,
    lambda m: m.randperm(0),
    lambda m: m.randperm(4, dtype=m.float32).dtype,
    lambda m: m.normal(0., 1., (2, 3)).shape,
    lambda m: m.normal(0., 1., size=(2,)).dtype,
    lambda m: m.normal(2., 3., (2,), dtype=m.float64).dtype,
    lambda m: m.normal(m.zeros(3), 1.).shape,
    lambda m: m.normal(0., m.ones(3)).shape,
    lambda m: m.normal(m.zeros(3), m.ones(3)).shape,
    lambda m: m.normal(m.zeros(3, 1), m.ones(4)).shape,
    lambda m: m.normal(m.zeros(3, dtype=m.float64), 1.).dtype,
    lambda m: m.normal(1., m.ones(3, dtype=m.float64)).dtype,
    lambda m: m.normal(m.zeros(3, requires_grad=True), 1.).requires_grad,
    lambda m: m.bernoulli(m.full((3,), 0.5)).dtype,
    lambda m: m.bernoulli(m.full((3,), 0.5, dtype=m.float64)).dtype,
    lambda m: m.bernoulli(m.ones(3)),
    lambda m: m.bernoulli(m.zeros(3)),
    lambda m: m.bernoulli(m.ones(3), 0.0),
    lambda m: m.bernoulli(m.zeros(2, 2), 1.0),
    lambda m: m.rand_like(m.ones(2, dtype=m.float64)).dtype,
    lambda m: m.randn_like(m.ones(2, 3)).shape,
    lambda m: m.randint_like(m.ones(2), 5).dtype,
    lambda m: m.randint_like(m.ones(2, dtype=m.int32), 3, 5).dtype,
    lambda m: m.empty(3).uniform_(2, 3).dtype,
    lambda m: m.empty(3, dtype=m.float64).normal_().dtype,
    lambda m: m.empty(3).random_(0, 5).dtype,
    lambda m: m.empty(3, dtype=m.int64).random_(5).dtype,
    lambda m: m.empty(3).bernoulli_(0.5).dtype,
    lambda m: m.empty(3).exponential_().dtype,
    lambda m: m.empty(3).geometric_(0.5).dtype,
    lambda m: m.empty(3).log_normal_().dtype,
    lambda m: m.empty(3).cauchy_().dtype,
])
def test_shapes_and_dtypes(expr):
    same(expr)


@pytest.mark.parametrize("expr,cls", [
    (lambda m: m.rand(2, dtype=m.int64), NotImplementedError),
    (lambda m: m.randn(2, dtype=m.int32), NotImplementedError),
    (lambda m: m.rand(-1), RuntimeError),
    (lambda m: m.randn(2, -1), RuntimeError),
    (lambda m: m.rand(2.5), TypeError),
    (lambda m: m.randint(5, 5, (3,)), RuntimeError),
    (lambda m: m.randint(5, 2, (3,)), RuntimeError),
    (lambda m: m.randint(10, (2,), requires_grad=True), RuntimeError),
    (lambda m: m.randperm(-1), RuntimeError),
    (lambda m: m.normal(0., -1., (2,)), RuntimeError),
    (lambda m: m.normal(0., -0.5, (2,)), RuntimeError),
    (lambda m: m.normal(m.zeros(3), -1.), RuntimeError),
    (lambda m: m.normal(m.zeros(2), m.tensor([-1., 1.])), RuntimeError),
    (lambda m: m.normal(m.zeros(3, dtype=m.int64), 1.), NotImplementedError),
    (lambda m: m.bernoulli(m.full((3,), 2.)), RuntimeError),
    (lambda m: m.bernoulli(m.ones(3, dtype=m.int64)), NotImplementedError),
    (lambda m: m.manual_seed(2 ** 64), ValueError),
    (lambda m: m.set_rng_state(m.zeros(3)), TypeError),
    (lambda m: m.rand_like(m.ones(2, dtype=m.int64)), NotImplementedError),
    (lambda m: m.empty(3).uniform_(3, 2), RuntimeError),
    (lambda m: m.empty(3, dtype=m.int64).uniform_(), NotImplementedError),
    (lambda m: m.empty(3).exponential_(-1.), RuntimeError),
    (lambda m: m.ones(3, requires_grad=True).uniform_(), RuntimeError),
    (lambda m: m.ones(3, requires_grad=True).normal_(), RuntimeError),
])
def test_errors(expr, cls):
    same_error(expr, cls)


def test_wrong_size_state_is_refused():
    with pytest.raises(RuntimeError, match="CPUGeneratorImplState"):
        ember.set_rng_state(ember.zeros(3, dtype=ember.uint8))


# ---- ranges ------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
def test_rand_in_unit_interval(dtype):
    a = arr(ember.rand(N, dtype=getattr(ember, dtype)))
    assert a.min() >= 0 and a.max() < 1


def test_randint_range_and_coverage():
    a = arr(ember.randint(-3, 4, (N,)))
    assert a.min() == -3 and a.max() == 3
    counts = np.bincount(a + 3)
    assert np.all(np.abs(counts / N - 1 / 7) < 0.01)
    b = arr(ember.randint(5, (1000,)))
    assert b.min() >= 0 and b.max() <= 4


def test_randperm_is_a_permutation():
    for n in (1, 10, 1000):
        assert sorted(arr(ember.randperm(n)).tolist()) == list(range(n))


def test_uniform_and_random_ranges():
    a = arr(ember.empty(N).uniform_(-2, 5))
    assert a.min() >= -2 and a.max() < 5
    assert abs(a.mean() - 1.5) < 0.05
    r = arr(ember.empty(N, dtype=ember.int64).random_(3, 9))
    assert r.min() == 3 and r.max() == 8
    u8 = arr(ember.empty(N, dtype=ember.uint8).random_())
    assert u8.min() == 0 and u8.max() == 255
    f = arr(ember.empty(N).random_())
    assert f.min() >= 0 and f.max() <= 2 ** 24 and np.all(f == np.round(f))


# ---- distributions -------------------------------------------------------------------------
def test_rand_distribution():
    a = arr(ember.rand(N, dtype=ember.float64))
    assert abs(a.mean() - 0.5) < 0.01 and abs(a.std() - 12 ** -0.5) < 0.01


def test_randn_distribution():
    a = arr(ember.randn(N))
    assert abs(a.mean()) < 0.01 and abs(a.std() - 1) < 0.01
    assert abs(np.mean(np.abs(a) < 1) - 0.6827) < 0.01


def test_complex_randn_parts_have_variance_half():
    c = ember.randn(N, dtype=ember.complex64).tolist()
    re = np.array([z.real for z in c])
    im = np.array([z.imag for z in c])
    assert abs(re.var() - 0.5) < 0.02 and abs(im.var() - 0.5) < 0.02
    tc = torch.randn(N, dtype=torch.complex64)
    assert abs(tc.real.var().item() - re.var()) < 0.02


def test_normal_distributions():
    a = arr(ember.normal(2.0, 3.0, (N,)))
    assert abs(a.mean() - 2) < 0.05 and abs(a.std() - 3) < 0.05
    mean = ember.tensor([[-5.0], [5.0]])
    std = ember.tensor([0.5, 2.0])
    m = arr(ember.normal(mean.expand(2, N), 1.0))
    assert abs(m[0].mean() + 5) < 0.02 and abs(m[1].mean() - 5) < 0.02
    s = arr(ember.normal(0.0, std.reshape(2, 1).expand(2, N)))
    assert abs(s[0].std() - 0.5) < 0.02 and abs(s[1].std() - 2) < 0.05


def test_normal_is_differentiable_in_mean_and_std():
    mean = ember.zeros(5, requires_grad=True)
    std = ember.ones(5, requires_grad=True)
    out = ember.normal(mean, std)
    out.sum().backward()
    assert mean.grad.tolist() == [1.0] * 5
    z = (out - mean).detach()
    np.testing.assert_allclose(arr(std.grad), arr(z), rtol=1e-6)


def test_bernoulli_distribution():
    p = ember.full((N,), 0.3)
    a = arr(ember.bernoulli(p))
    assert set(np.unique(a)) <= {0.0, 1.0} and abs(a.mean() - 0.3) < 0.01
    probs = ember.tensor([0.1, 0.9]).repeat(N // 2)
    b = arr(ember.bernoulli(probs)).reshape(-1, 2)
    assert abs(b[:, 0].mean() - 0.1) < 0.01 and abs(b[:, 1].mean() - 0.9) < 0.01
    c = arr(ember.empty(N).bernoulli_(0.25))
    assert abs(c.mean() - 0.25) < 0.01


def test_other_samplers():
    e = arr(ember.empty(N, dtype=ember.float64).exponential_(2.0))
    assert e.min() >= 0 and abs(e.mean() - 0.5) < 0.01
    g = arr(ember.empty(N).geometric_(0.25))
    assert g.min() >= 1 and abs(g.mean() - 4) < 0.1
    ln = arr(ember.empty(N, dtype=ember.float64).log_normal_(0.0, 0.5))
    assert ln.min() > 0 and abs(np.log(ln).std() - 0.5) < 0.01
    c = arr(ember.empty(N, dtype=ember.float64).cauchy_(1.0, 2.0))
    assert abs(np.median(c) - 1.0) < 0.05
    assert abs(np.median(np.abs(c - 1.0)) - 2.0) < 0.05


def test_in_place_samplers_write_in_place_and_bump_version():
    t = ember.zeros(4)
    base = t.data_ptr()
    v = t._version
    assert t.uniform_() is t and t.data_ptr() == base and t._version == v + 1
    view = t[1:3]
    view.normal_()
    assert t._version == v + 2
    with ember.no_grad():
        w = ember.zeros(3, requires_grad=True)
        w.uniform_(-1, 1)
    assert w.requires_grad and w.is_leaf and arr(w).min() >= -1


# ---- seeding and generators -----------------------------------------------------------
def test_manual_seed_reproduces():
    ember.manual_seed(123)
    a = [ember.rand(5), ember.randn(5), ember.randint(0, 100, (5,)), ember.randperm(5),
         ember.normal(0., 1., (5,)), ember.bernoulli(ember.full((5,), 0.5))]
    ember.manual_seed(123)
    b = [ember.rand(5), ember.randn(5), ember.randint(0, 100, (5,)), ember.randperm(5),
         ember.normal(0., 1., (5,)), ember.bernoulli(ember.full((5,), 0.5))]
    for x, y in zip(a, b):
        assert x.tolist() == y.tolist()
    ember.manual_seed(124)
    assert ember.rand(5).tolist() != a[0].tolist()


def test_manual_seed_returns_default_generator():
    g = ember.manual_seed(7)
    assert g is ember.default_generator and isinstance(g, ember.Generator)
    assert type(torch.manual_seed(7)).__name__ == type(g).__name__
    assert ember.initial_seed() == 7 == torch.initial_seed()
    same(lambda m: m.manual_seed(-1).initial_seed())
    same(lambda m: m.manual_seed(2 ** 64 - 1).initial_seed())


def test_seed_and_initial_seed():
    s = ember.seed()
    assert isinstance(s, int) and ember.initial_seed() == s
    a = ember.rand(3)
    ember.manual_seed(s)
    assert ember.rand(3).tolist() == a.tolist()


def test_rng_state_round_trip():
    ember.manual_seed(0)
    ember.rand(3)
    state = ember.get_rng_state()
    assert state.dtype is ember.uint8 and state.dim() == 1
    a = ember.randn(10)
    ember.rand(7)
    ember.set_rng_state(state)
    assert ember.randn(10).tolist() == a.tolist()
    # the state is a copy: drawing does not change a saved state
    assert ember.get_rng_state().tolist() != state.tolist()


def test_generator_streams_are_independent():
    g1 = ember.Generator().manual_seed(42)
    g2 = ember.Generator()
    g2.manual_seed(42)
    assert g1.initial_seed() == 42
    ember.manual_seed(0)
    before = ember.get_rng_state()
    x = ember.rand(5, generator=g1)
    assert ember.get_rng_state().tolist() == before.tolist()  # default untouched
    assert ember.rand(5, generator=g2).tolist() == x.tolist()


@pytest.mark.parametrize("draw", [
    lambda g: ember.rand(4, generator=g),
    lambda g: ember.randn(4, generator=g),
    lambda g: ember.randint(0, 1000, (4,), generator=g),
    lambda g: ember.randint(1000, (4,), generator=g),
    lambda g: ember.randperm(10, generator=g),
    lambda g: ember.normal(0., 1., (4,), generator=g),
    lambda g: ember.normal(ember.zeros(4), 1., generator=g),
    lambda g: ember.bernoulli(ember.full((8,), 0.5), generator=g),
    lambda g: ember.multinomial(ember.ones(10), 4, generator=g),
    lambda g: ember.empty(4).uniform_(generator=g),
    lambda g: ember.empty(4).normal_(generator=g),
    lambda g: ember.empty(4).random_(0, 1000, generator=g),
    lambda g: ember.empty(4).exponential_(generator=g),
])
def test_generator_argument_honoured(draw):
    g = ember.Generator().manual_seed(99)
    state = g.get_state()
    a = draw(g).tolist()
    b = draw(g).tolist()
    g.set_state(state)
    assert draw(g).tolist() == a
    g.manual_seed(99)
    assert draw(g).tolist() == a and draw(g).tolist() == b
    ember.manual_seed(99)  # the default generator with the same seed gives the same stream
    assert draw(None).tolist() == a


def test_generator_state_round_trip_mid_stream():
    g = ember.Generator().manual_seed(5)
    ember.rand(3, generator=g)
    st = g.get_state()
    a = ember.randn(6, generator=g).tolist()
    h = ember.Generator()
    h.set_state(st)
    assert ember.randn(6, generator=h).tolist() == a
    assert h.initial_seed() == 5
    same(lambda m: m.Generator().device)
    same(lambda m: m.Generator().manual_seed(5).initial_seed())
    k = ember.Generator()
    assert k.set_state(st) is k   # torch returns the generator itself
