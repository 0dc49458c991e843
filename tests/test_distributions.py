"""ember.distributions against torch.distributions: values and parameter gradients of
log_prob/entropy/mean/variance/kl, sample shapes, rsample gradients, sampling statistics and
validation errors."""
import math

import numpy as np
import pytest
import torch
import torch.distributions as TD

import ember
import ember.distributions as ED


def pair(arr, grad=True):
    """The same float64 values as an Ember and a torch leaf tensor."""
    arr = np.asarray(arr, dtype=np.float64)
    e = ember.tensor(arr, requires_grad=grad)
    t = torch.tensor(arr, requires_grad=grad)
    return e, t


def close(e, t, atol=1e-5):
    np.testing.assert_allclose(np.asarray(e.detach().numpy(), dtype=np.float64),
                               t.detach().numpy().astype(np.float64), atol=atol, rtol=1e-5)
    assert tuple(e.shape) == tuple(t.shape)


rng = np.random.default_rng(0)
X = rng.normal(size=(3, 4))
POS = np.abs(rng.normal(size=(3, 4))) + 0.3
P01 = rng.uniform(0.1, 0.9, size=(3, 4))


def _normal(m, a, b):
    return m.Normal(a, b)


def _laplace(m, a, b):
    return m.Laplace(a, b)


def _uniform(m, a, b):
    return m.Uniform(a, a + b)


def _exponential(m, a, b):
    return m.Exponential(b)


def _bern_probs(m, a, b):
    return m.Bernoulli(probs=a)


def _bern_logits(m, a, b):
    return m.Bernoulli(logits=a)


def _cat_probs(m, a, b):
    return m.Categorical(probs=b)


def _cat_logits(m, a, b):
    return m.Categorical(logits=a)


def _onehot(m, a, b):
    return m.OneHotCategorical(logits=a)


# (name, constructor, first param values, second param values, value for log_prob)
CASES = [
    ("normal", _normal, X, POS, X * 0.7 + 0.1),
    ("laplace", _laplace, X, POS, X * 0.7 + 0.1),
    ("uniform", _uniform, X, POS, X + POS * 0.4),
    ("exponential", _exponential, X, POS, POS * 1.3),
    ("bernoulli_probs", _bern_probs, P01, POS, (X > 0).astype(float)),
    ("bernoulli_logits", _bern_logits, X, POS, (X > 0).astype(float)),
    ("categorical_probs", _cat_probs, X, POS, np.array([0, 3, 2])),
    ("categorical_logits", _cat_logits, X, POS, np.array([1, 0, 3])),
    ("onehot", _onehot, X, POS, np.eye(4)[[2, 0, 1]]),
]


def _value(name, v):
    if name.startswith("categorical"):
        return ember.tensor(v), torch.tensor(v)
    return pair(v, grad=False)


def _grads(loss_e, loss_t, params_e, params_t):
    ge = ember.autograd.grad(loss_e, params_e, allow_unused=True, retain_graph=True)
    gt = torch.autograd.grad(loss_t, params_t, allow_unused=True, retain_graph=True)
    for a, b in zip(ge, gt):
        assert (a is None) == (b is None)
        if a is not None:
            close(a, b)


@pytest.mark.parametrize("name,make,a,b,v", CASES, ids=[c[0] for c in CASES])
def test_log_prob_and_gradients(name, make, a, b, v):
    ae, at = pair(a)
    be, bt = pair(b)
    de, dt = make(ED, ae, be), make(TD, at, bt)
    assert tuple(de.batch_shape) == tuple(dt.batch_shape)
    assert tuple(de.event_shape) == tuple(dt.event_shape)
    ve, vt = _value(name, v)
    le, lt = de.log_prob(ve), dt.log_prob(vt)
    close(le, lt)
    _grads(le.sum(), lt.sum(), [ae, be], [at, bt])


@pytest.mark.parametrize("name,make,a,b,v", CASES, ids=[c[0] for c in CASES])
def test_entropy_and_gradients(name, make, a, b, v):
    ae, at = pair(a)
    be, bt = pair(b)
    de, dt = make(ED, ae, be), make(TD, at, bt)
    he, ht = de.entropy(), dt.entropy()
    close(he, ht)
    _grads(he.sum(), ht.sum(), [ae, be], [at, bt])


@pytest.mark.parametrize("name,make,a,b,v", CASES, ids=[c[0] for c in CASES])
def test_moments(name, make, a, b, v):
    ae, at = pair(a)
    be, bt = pair(b)
    de, dt = make(ED, ae, be), make(TD, at, bt)
    for attr in ("mean", "variance", "stddev"):
        e, t = getattr(de, attr), getattr(dt, attr)
        if torch.isnan(t).all():
            assert bool(ember.isnan(e).all()) and tuple(e.shape) == tuple(t.shape)
        else:
            close(e, t)
            _grads(e.sum(), t.sum(), [ae, be], [at, bt])


@pytest.mark.parametrize("name,make,a,b,v", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("sample_shape", [(), (5,), (2, 3)])
def test_sample_shapes(name, make, a, b, v, sample_shape):
    ae, at = pair(a, grad=False)
    be, bt = pair(b, grad=False)
    de, dt = make(ED, ae, be), make(TD, at, bt)
    se, st = de.sample(sample_shape), dt.sample(sample_shape)
    assert tuple(se.shape) == tuple(st.shape)
    assert se.dtype.is_floating_point == st.dtype.is_floating_point
    if dt.has_rsample:
        assert de.has_rsample
        assert tuple(de.rsample(sample_shape).shape) == tuple(dt.rsample(sample_shape).shape)
    # a draw lies in the support, so log_prob accepts it
    assert tuple(de.log_prob(se).shape) == tuple(dt.log_prob(st).shape)


@pytest.mark.parametrize("name,make,a,b,v", CASES, ids=[c[0] for c in CASES])
def test_expand(name, make, a, b, v):
    ae, at = pair(a[0], grad=False)
    be, bt = pair(b[0], grad=False)
    de = make(ED, ae, be).expand((2, 1) if "cat" in name or "onehot" in name else (2, 4))
    dt = make(TD, at, bt).expand((2, 1) if "cat" in name or "onehot" in name else (2, 4))
    assert tuple(de.batch_shape) == tuple(dt.batch_shape)
    assert tuple(de.sample((3,)).shape) == tuple(dt.sample((3,)).shape)
    close(de.entropy(), dt.entropy())


def test_scalar_parameters_give_scalar_batch_shape():
    assert tuple(ED.Normal(0., 1.).batch_shape) == ()
    assert tuple(ED.Normal(0., 1.).sample((4,)).shape) == (4,)
    assert ED.Normal(0., 1.).sample().dtype == ember.float32
    assert tuple(ED.Bernoulli(0.3).sample().shape) == ()
    assert repr(ED.Normal(ember.zeros(3), 1.)) == repr(TD.Normal(torch.zeros(3), 1.))
    assert repr(ED.Bernoulli(probs=0.3)) == repr(TD.Bernoulli(probs=0.3))


@pytest.mark.parametrize("make,deriv", [
    (lambda m, loc, scale: m.Normal(loc, scale), "normal"),
    (lambda m, loc, scale: m.Laplace(loc, scale), "laplace"),
    (lambda m, loc, scale: m.Uniform(loc, loc + scale), "uniform"),
])
def test_rsample_gradient_wrt_loc_is_one(make, deriv):
    loc = ember.tensor([0.5, -1.0], requires_grad=True)
    scale = ember.tensor([2.0, 0.5], requires_grad=True)
    x = make(ED, loc, scale).rsample((7,))
    (g_loc,) = ember.autograd.grad(x.sum(), [loc], retain_graph=True)
    np.testing.assert_allclose(g_loc.numpy(), [7.0, 7.0], rtol=1e-6)
    # d x / d scale is the standardised noise: (x - loc) / scale
    (g_scale,) = ember.autograd.grad(x.sum(), [scale])
    noise = ((x.detach() - loc.detach()) / scale.detach()).sum(0)
    np.testing.assert_allclose(g_scale.numpy(), noise.numpy(), rtol=1e-4, atol=1e-5)


def test_exponential_rsample_gradient():
    rate = ember.tensor([0.5, 3.0], requires_grad=True)
    x = ED.Exponential(rate).rsample((5,))
    (g,) = ember.autograd.grad(x.sum(), [rate])
    # x = E / rate, so dx/drate = -x / rate
    np.testing.assert_allclose(g.numpy(), (-x.detach() / rate.detach()).sum(0).numpy(),
                               rtol=1e-5)


def test_sample_has_no_gradient():
    loc = ember.tensor([0.0], requires_grad=True)
    assert not ED.Normal(loc, 1.).sample().requires_grad
    assert ED.Normal(loc, 1.).rsample().requires_grad


@pytest.mark.parametrize("make,mean,std", [
    (lambda: ED.Normal(ember.tensor([1.5, -2.0]), ember.tensor([0.5, 3.0])),
     [1.5, -2.0], [0.5, 3.0]),
    (lambda: ED.Uniform(ember.tensor([0.0, -1.0]), ember.tensor([1.0, 3.0])),
     [0.5, 1.0], [1 / 12 ** 0.5, 4 / 12 ** 0.5]),
    (lambda: ED.Exponential(ember.tensor([0.5, 4.0])), [2.0, 0.25], [2.0, 0.25]),
    (lambda: ED.Laplace(ember.tensor([1.0, 0.0]), ember.tensor([1.0, 0.2])),
     [1.0, 0.0], [2 ** 0.5, 0.2 * 2 ** 0.5]),
    (lambda: ED.Bernoulli(probs=ember.tensor([0.2, 0.9])),
     [0.2, 0.9], [0.4, 0.3]),
])
def test_sampling_statistics(make, mean, std):
    ember.manual_seed(1)
    s = make().sample((40000,)).double()
    np.testing.assert_allclose(s.mean(0).numpy(), mean, atol=0.05 * max(std))
    np.testing.assert_allclose(s.std(0).numpy(), std, rtol=0.05)


def test_categorical_frequencies():
    ember.manual_seed(2)
    probs = ember.tensor([[0.1, 0.6, 0.3], [0.5, 0.25, 0.25]])
    s = ED.Categorical(probs=probs).sample((20000,))
    assert s.dtype == ember.int64 and tuple(s.shape) == (20000, 2)
    for row in range(2):
        freq = np.bincount(s[:, row].numpy(), minlength=3) / 20000
        np.testing.assert_allclose(freq, probs[row].numpy(), atol=0.015)


def test_mvn_sampling_statistics():
    ember.manual_seed(3)
    cov = np.array([[2.0, 0.6], [0.6, 1.0]])
    d = ED.MultivariateNormal(ember.tensor([1.0, -1.0], dtype=ember.float64),
                              ember.tensor(cov))
    s = d.sample((40000,)).numpy()
    np.testing.assert_allclose(s.mean(0), [1.0, -1.0], atol=0.04)
    np.testing.assert_allclose(np.cov(s.T), cov, atol=0.06)


def _spd(n, batch=()):
    a = rng.normal(size=batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


@pytest.mark.parametrize("param", ["covariance_matrix", "scale_tril", "precision_matrix"])
@pytest.mark.parametrize("loc_shape,mat_batch", [((3,), ()), ((2, 3), ()), ((3,), (2,)),
                                                  ((4, 1, 3), (2,))])
def test_multivariate_normal(param, loc_shape, mat_batch):
    mat = _spd(3, mat_batch)
    if param == "scale_tril":
        mat = np.linalg.cholesky(mat)
    le, lt = pair(rng.normal(size=loc_shape))
    me, mt = pair(mat)
    de = ED.MultivariateNormal(le, **{param: me})
    dt = TD.MultivariateNormal(lt, **{param: mt})
    assert tuple(de.batch_shape) == tuple(dt.batch_shape)
    assert tuple(de.event_shape) == tuple(dt.event_shape)
    ve, vt = pair(rng.normal(size=(5,) + tuple(dt.batch_shape) + (3,)), grad=False)
    lpe, lpt = de.log_prob(ve), dt.log_prob(vt)
    close(lpe, lpt)
    _grads(lpe.sum(), lpt.sum(), [le, me], [lt, mt])
    he, ht = de.entropy(), dt.entropy()
    close(he, ht)
    _grads(he.sum(), ht.sum(), [me], [mt])
    close(de.mean, dt.mean)
    close(de.variance, dt.variance)
    close(de.covariance_matrix, dt.covariance_matrix)
    close(de.scale_tril, dt.scale_tril)
    for shape in [(), (4,), (2, 2)]:
        assert tuple(de.rsample(shape).shape) == tuple(dt.rsample(shape).shape)
    r = de.rsample((6,))
    (g,) = ember.autograd.grad(r.sum(), [le])
    np.testing.assert_allclose(g.numpy(), np.full(g.shape, 6.0 * r.shape[1:].numel()
                                                  / le.numel()))


def test_mvn_rsample_scale_gradient():
    L = ember.tensor([[1.0, 0.0], [0.5, 2.0]], dtype=ember.float64, requires_grad=True)
    loc = ember.zeros(2, dtype=ember.float64)
    x = ED.MultivariateNormal(loc, scale_tril=L).rsample((3,))
    (g,) = ember.autograd.grad(x.sum(), [L])
    eps = ember.linalg.solve(L.detach(), x.detach().T).T
    # x_i = sum_j L_ij eps_j, so d sum(x) / d L_ij = sum over samples of eps_j
    np.testing.assert_allclose(g.numpy(), np.tile(eps.sum(0).numpy(), (2, 1)), atol=1e-10)


def test_independent():
    le, lt = pair(X)
    se, st = pair(POS)
    de = ED.Independent(ED.Normal(le, se), 1)
    dt = TD.Independent(TD.Normal(lt, st), 1)
    assert tuple(de.batch_shape) == (3,) and tuple(de.event_shape) == (4,)
    ve, vt = pair(X * 0.3, grad=False)
    close(de.log_prob(ve), dt.log_prob(vt))
    close(de.entropy(), dt.entropy())
    _grads(de.log_prob(ve).sum(), dt.log_prob(vt).sum(), [le, se], [lt, st])
    assert tuple(de.rsample((2,)).shape) == tuple(dt.rsample((2,)).shape)
    assert tuple(de.expand((5, 3)).batch_shape) == tuple(dt.expand((5, 3)).batch_shape)
    close(ED.kl_divergence(de, ED.Independent(ED.Normal(le * 0, 1.), 1)),
          TD.kl_divergence(dt, TD.Independent(TD.Normal(lt * 0, 1.), 1)))
    with pytest.raises(ValueError):
        ED.Independent(ED.Normal(0., 1.), 1)


def _kl_pairs():
    def normal(m, a, b, c, d):
        return m.Normal(a, b), m.Normal(c, d)

    def bern(m, a, b, c, d):
        return m.Bernoulli(logits=a), m.Bernoulli(probs=m.Bernoulli(logits=c).probs)

    def cat(m, a, b, c, d):
        return m.Categorical(logits=a), m.Categorical(probs=d)

    def onehot(m, a, b, c, d):
        return m.OneHotCategorical(logits=a), m.OneHotCategorical(logits=c)
    return [normal, bern, cat, onehot]


@pytest.mark.parametrize("make", _kl_pairs(), ids=["normal", "bernoulli", "categorical",
                                                    "onehot"])
def test_kl_divergence(make):
    params = [pair(X), pair(POS), pair(X[::-1].copy() * 0.5), pair(POS[::-1].copy())]
    pe, qe = make(ED, *[p[0] for p in params])
    pt, qt = make(TD, *[p[1] for p in params])
    ke, kt = ED.kl_divergence(pe, qe), TD.kl_divergence(pt, qt)
    close(ke, kt)
    _grads(ke.sum(), kt.sum(), [p[0] for p in params], [p[1] for p in params])


def test_kl_mvn():
    l1, t1 = pair(rng.normal(size=(2, 3)))
    l2, t2 = pair(rng.normal(size=(3,)))
    c1, u1 = pair(_spd(3, (2,)))
    s2, v2 = pair(np.linalg.cholesky(_spd(3)))
    ke = ED.kl_divergence(ED.MultivariateNormal(l1, c1), ED.MultivariateNormal(l2, scale_tril=s2))
    kt = TD.kl_divergence(TD.MultivariateNormal(t1, u1), TD.MultivariateNormal(t2, scale_tril=v2))
    close(ke, kt)
    _grads(ke.sum(), kt.sum(), [l1, l2, c1, s2], [t1, t2, u1, v2])


def test_kl_zero_probabilities():
    pe = ED.Categorical(probs=ember.tensor([0.5, 0.5, 0.0]))
    qe = ED.Categorical(probs=ember.tensor([0.5, 0.0, 0.5]))
    pt = TD.Categorical(probs=torch.tensor([0.5, 0.5, 0.0]))
    qt = TD.Categorical(probs=torch.tensor([0.5, 0.0, 0.5]))
    assert math.isinf(ED.kl_divergence(pe, qe).item())
    close(ED.kl_divergence(qe, qe), TD.kl_divergence(qt, qt))
    close(ED.kl_divergence(pe, pe), TD.kl_divergence(pt, pt))


def test_kl_not_implemented():
    with pytest.raises(NotImplementedError):
        ED.kl_divergence(ED.Bernoulli(0.5), ED.Normal(0., 1.))


def _error(fn, m):
    with pytest.raises(Exception) as info:
        fn(m)
    return type(info.value), str(info.value)


@pytest.mark.parametrize("fn", [
    lambda m: m.distributions.Normal(0., -1.),
    lambda m: m.distributions.Normal(m.tensor([0.]), m.tensor([-1.])),
    lambda m: m.distributions.Normal(0., 1.).log_prob([1.]),
    lambda m: m.distributions.Normal(m.zeros(3), 1.).log_prob(m.zeros(2)),
    lambda m: m.distributions.Laplace(0., 0.),
    lambda m: m.distributions.Exponential(-1.),
    lambda m: m.distributions.Uniform(1., 0.),
    lambda m: m.distributions.Uniform(0., 1.).log_prob(m.tensor(2.)),
    lambda m: m.distributions.Bernoulli(probs=m.tensor(1.5)),
    lambda m: m.distributions.Bernoulli(),
    lambda m: m.distributions.Bernoulli(probs=0.5, logits=0.),
    lambda m: m.distributions.Bernoulli(probs=0.5).log_prob(m.tensor(0.5)),
    lambda m: m.distributions.Categorical(probs=m.tensor([-1., 2.])),
    lambda m: m.distributions.Categorical(probs=m.tensor(1.)),
    lambda m: m.distributions.Categorical(logits=m.zeros(3)).log_prob(m.tensor(3)),
    lambda m: m.distributions.MultivariateNormal(m.zeros(2)),
    lambda m: m.distributions.MultivariateNormal(m.zeros(2), m.tensor([[1., 2.], [2., 1.]])),
    lambda m: m.distributions.MultivariateNormal(m.zeros(2), scale_tril=m.ones(2, 2)),
], ids=lambda f: "")
def test_validation_errors_match_torch(fn):
    assert _error(fn, ember) == _error(fn, torch)


def test_validation_can_be_turned_off():
    d = ED.Normal(0., -1., validate_args=False)
    assert math.isnan(d.log_prob(ember.tensor(0.)).item())
    assert tuple(ED.Uniform(0., 1., validate_args=False).log_prob(ember.tensor(2.)).shape) == ()
