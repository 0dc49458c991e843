"""ember.utils.checkpoint against torch.utils.checkpoint: same outputs and gradients as the
plain computation and as torch, both variants, with dropout, kwargs and sequential."""
import warnings

import numpy as np
import pytest
import torch

import ember
import ember.utils.checkpoint as ecp
import torch.utils.checkpoint as tcp
from ember import nn as enn


def _pair(seed=0):
    """An ember MLP with dropout and a torch copy with the same weights."""
    ember.manual_seed(seed)
    em = enn.Sequential(enn.Linear(4, 8), enn.Tanh(), enn.Linear(8, 8), enn.ReLU(),
                        enn.Linear(8, 3))
    tm = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 8),
                             torch.nn.ReLU(), torch.nn.Linear(8, 3)).double()
    with torch.no_grad():
        for pe, pt in zip(em.parameters(), tm.parameters()):
            pt.copy_(torch.from_numpy(pe.detach().numpy().astype(np.float64)))
    return em.double(), tm


def _grads(module, x):
    return [p.grad.numpy().copy() for p in module.parameters()] + [x.grad.numpy().copy()]


@pytest.mark.parametrize("reentrant", [True, False])
def test_gradients_match_plain_and_torch(reentrant):
    em, tm = _pair()
    xn = np.random.default_rng(0).standard_normal((5, 4))
    ex = ember.tensor(xn, requires_grad=True)
    tx = torch.tensor(xn, requires_grad=True)

    out = ecp.checkpoint(em, ex, use_reentrant=reentrant)
    (out ** 2).sum().backward()
    ckpt = _grads(em, ex)

    em.zero_grad()
    ex.grad = None
    (em(ex) ** 2).sum().backward()
    plain = _grads(em, ex)

    tout = tcp.checkpoint(tm, tx, use_reentrant=reentrant)
    (tout ** 2).sum().backward()
    ref = _grads(tm, tx)

    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-12)
    for a, b, c in zip(ckpt, plain, ref):
        np.testing.assert_allclose(a, b, rtol=1e-12)
        np.testing.assert_allclose(a, c, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reentrant", [True, False])
def test_dropout_mask_repeats_in_recomputation(reentrant):
    # Compared with Ember's own plain run: the dropout mask comes from Ember's generator,
    # whose stream is not torch's, so torch cannot produce the same mask.
    ember.manual_seed(0)
    lin = enn.Linear(6, 6).double()
    drop = enn.Dropout(0.5)

    def f(x):
        return drop(lin(x)).tanh()

    x = ember.randn(4, 6, dtype=ember.float64, requires_grad=True)
    ember.manual_seed(3)
    y = ecp.checkpoint(f, x, use_reentrant=reentrant)
    ember.randn(10)  # RNG moves on between forward and backward
    y.sum().backward()
    g_ckpt = x.grad.numpy().copy()
    w_ckpt = lin.weight.grad.numpy().copy()

    x.grad = None
    lin.zero_grad()
    ember.manual_seed(3)
    y2 = f(x)
    y2.sum().backward()
    np.testing.assert_array_equal(y.detach().numpy(), y2.detach().numpy())
    np.testing.assert_allclose(g_ckpt, x.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(w_ckpt, lin.weight.grad.numpy(), rtol=1e-12)


def test_non_reentrant_autograd_grad_kwargs_and_no_saved_activations():
    w = ember.randn(3, 3, dtype=ember.float64, requires_grad=True)
    x = ember.randn(2, 3, dtype=ember.float64, requires_grad=True)

    def f(a, *, scale):
        return (a @ w).sin() * scale

    y = ecp.checkpoint(f, x, use_reentrant=False, scale=2.5)
    gx, gw = ember.autograd.grad(y.sum(), (x, w))
    tw = torch.tensor(w.detach().numpy(), requires_grad=True)
    tx = torch.tensor(x.detach().numpy(), requires_grad=True)
    ty = ((tx @ tw).sin() * 2.5)
    tgx, tgw = torch.autograd.grad(ty.sum(), (tx, tw))
    np.testing.assert_allclose(gx.numpy(), tgx.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gw.numpy(), tgw.numpy(), rtol=1e-12)


def test_reentrant_forward_keeps_no_graph_inside():
    calls = []

    def f(x):
        calls.append(ember.is_grad_enabled())
        return x.exp()

    x = ember.randn(3, requires_grad=True)
    y = ecp.checkpoint(f, x, use_reentrant=True)
    assert type(y.grad_fn).__name__ == "CheckpointFunctionBackward"
    y.sum().backward()
    assert calls == [False, True]
    np.testing.assert_allclose(x.grad.numpy(), x.detach().exp().numpy(), rtol=1e-6)


def test_retain_graph_backward_twice_recomputes():
    xn = np.random.default_rng(2).standard_normal(4)
    grads = []
    for lib, cp in ((torch, tcp), (ember, ecp)):
        x = lib.tensor(xn, requires_grad=True)
        y = cp.checkpoint(lambda a: a.sin().exp(), x, use_reentrant=False)
        y.sum().backward(retain_graph=True)
        first = x.grad.clone()
        y.sum().backward()
        grads.append([first.numpy(), x.grad.numpy()])
    for e, t in zip(grads[1], grads[0]):
        np.testing.assert_allclose(e, t, rtol=1e-12)


def test_warnings_match_torch():
    x = ember.randn(3, requires_grad=True)
    tx = torch.randn(3, requires_grad=True)
    for call, tcall in [(lambda: ecp.checkpoint(ember.sin, x), lambda: tcp.checkpoint(torch.sin, tx)),
                        (lambda: ecp.checkpoint(ember.sin, ember.randn(3), use_reentrant=True),
                         lambda: tcp.checkpoint(torch.sin, torch.randn(3), use_reentrant=True)),
                        (lambda: ecp.checkpoint_sequential([ember.sin], 1, x),
                         lambda: tcp.checkpoint_sequential([torch.sin], 1, tx))]:
        with warnings.catch_warnings(record=True) as ew:
            warnings.simplefilter("always")
            call()
        with warnings.catch_warnings(record=True) as tw:
            warnings.simplefilter("always")
            tcall()
        assert [str(w.message) for w in ew] == [str(w.message) for w in tw]
        assert [w.category for w in ew] == [w.category for w in tw]


def test_errors_match_torch():
    x = ember.randn(3, requires_grad=True)
    tx = torch.randn(3, requires_grad=True)
    cases = [
        (dict(use_reentrant=True, foo=1), ValueError),
        (dict(use_reentrant=False, determinism_check="x"), ValueError),
    ]
    for kw, exc in cases:
        with pytest.raises(exc) as te:
            tcp.checkpoint(torch.sin, tx, **kw)
        with pytest.raises(exc) as ee:
            ecp.checkpoint(ember.sin, x, **kw)
        assert str(ee.value) == str(te.value)


@pytest.mark.parametrize("reentrant", [True, False])
def test_checkpoint_sequential_matches_torch(reentrant):
    em, tm = _pair(1)
    xn = np.random.default_rng(1).standard_normal((2, 4))
    ex = ember.tensor(xn, requires_grad=True)
    tx = torch.tensor(xn, requires_grad=True)
    out = ecp.checkpoint_sequential(em, 3, ex, use_reentrant=reentrant)
    out.sum().backward()
    tout = tcp.checkpoint_sequential(tm, 3, tx, use_reentrant=reentrant)
    tout.sum().backward()
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-12)
    for a, b in zip(_grads(em, ex), _grads(tm, tx)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_determinism_check_raises_on_shape_change():
    state = {"n": 3}

    def f(x):
        state["n"] -= 1
        return (x[: state["n"]] ** 2).sum()

    x = ember.randn(4, requires_grad=True)
    y = ecp.checkpoint(f, x, use_reentrant=False)
    with pytest.raises(ecp.CheckpointError):
        y.backward()
