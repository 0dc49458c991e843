"""Losses against torch: every reduction mode, values and input gradients."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn as nn
import ember.nn.functional as F

from .helpers import close, to_ember

RNG = np.random.default_rng(1)
REDUCTIONS = ["none", "mean", "sum"]


def rand(*shape, low=-2, high=2):
    return torch.from_numpy(RNG.uniform(low, high, shape).astype(np.float32))


def compare(name, t_inputs, grad_mask, kwargs, atol=1e-5):
    """Run F.<name> and torch's on the same inputs; compare values and gradients."""
    t_in = [x.clone().requires_grad_(g) if isinstance(x, torch.Tensor) else x
            for x, g in zip(t_inputs, grad_mask)]
    e_in = [to_ember(x, g) if isinstance(x, torch.Tensor) else x
            for x, g in zip(t_inputs, grad_mask)]
    e_kwargs = {k: to_ember(v) if isinstance(v, torch.Tensor) else v for k, v in kwargs.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_out = getattr(TF, name)(*t_in, **kwargs)
        e_out = getattr(F, name)(*e_in, **e_kwargs)
    close(e_out, t_out, atol=atol)
    v = torch.from_numpy(RNG.standard_normal(tuple(t_out.shape)).astype(np.float32))
    (t_out * v).sum().backward()
    (e_out * to_ember(v)).sum().backward()
    for e, t in zip(e_in, t_in):
        if isinstance(t, torch.Tensor) and t.requires_grad:
            close(e.grad, t.grad, atol=atol * 10, rtol=1e-3)


def targets(*shape, classes):
    return torch.from_numpy(RNG.integers(0, classes, shape))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses(reduction):
    x, y = rand(3, 4), rand(3, 4)
    compare("mse_loss", [x, y], [True, True], {"reduction": reduction})
    compare("l1_loss", [x, y], [True, True], {"reduction": reduction})
    compare("smooth_l1_loss", [x, y], [True, True], {"reduction": reduction, "beta": 0.5})
    compare("smooth_l1_loss", [x, y], [True, False], {"reduction": reduction, "beta": 0.0})
    compare("huber_loss", [x, y], [True, True], {"reduction": reduction, "delta": 0.7})
    compare("soft_margin_loss", [x, torch.sign(y)], [True, False], {"reduction": reduction})


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_and_nll(reduction):
    x = rand(5, 4)
    t = targets(5, classes=4)
    w = rand(4, low=0.2, high=1.5)
    compare("cross_entropy", [x, t], [True, False], {"reduction": reduction})
    compare("cross_entropy", [x, t], [True, False], {"reduction": reduction, "weight": w})
    t_ign = t.clone()
    t_ign[1] = -100
    compare("cross_entropy", [x, t_ign], [True, False], {"reduction": reduction, "weight": w})
    t3 = t.clone()
    t3[2] = 3
    compare("cross_entropy", [x, t3], [True, False], {"reduction": reduction,
                                                      "ignore_index": 3})
    compare("cross_entropy", [x, t], [True, False], {"reduction": reduction,
                                                     "label_smoothing": 0.2})
    compare("cross_entropy", [x, t_ign], [True, False], {"reduction": reduction, "weight": w,
                                                         "label_smoothing": 0.3})
    probs = torch.softmax(rand(5, 4), 1)
    compare("cross_entropy", [x, probs], [True, True], {"reduction": reduction})
    compare("cross_entropy", [x, probs], [True, False], {"reduction": reduction, "weight": w,
                                                         "label_smoothing": 0.1})
    # K-dimensional: (N, C, d1, d2)
    xk, tk = rand(2, 3, 4, 2), targets(2, 4, 2, classes=3)
    compare("cross_entropy", [xk, tk], [True, False], {"reduction": reduction})
    compare("nll_loss", [torch.log_softmax(x, 1), t], [True, False], {"reduction": reduction,
                                                                      "weight": w})
    compare("nll_loss", [torch.log_softmax(xk, 1), tk], [True, False], {"reduction": reduction})
    # unbatched input (C,) with a 0-d target
    compare("cross_entropy", [rand(4), torch.tensor(2)], [True, False], {"reduction": reduction})


def test_cross_entropy_stays_finite_for_huge_logits():
    x = torch.tensor([[1000.0, -1000.0, 0.0], [-5e4, 5e4, 1.0]])
    t = torch.tensor([1, 0])
    compare("cross_entropy", [x, t], [True, False], {})
    e = F.cross_entropy(to_ember(x), to_ember(t))
    assert np.isfinite(e.item())


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_losses(reduction):
    p = rand(3, 4, low=0.05, high=0.95)
    y = rand(3, 4, low=0, high=1)
    w = rand(3, 4, low=0.5, high=1.5)
    compare("binary_cross_entropy", [p, y], [True, True], {"reduction": reduction})
    compare("binary_cross_entropy", [p, y], [True, False], {"reduction": reduction, "weight": w})
    logits = rand(3, 4, low=-5, high=5)
    compare("binary_cross_entropy_with_logits", [logits, y], [True, True],
            {"reduction": reduction})
    compare("binary_cross_entropy_with_logits", [logits, y], [True, False],
            {"reduction": reduction, "weight": w, "pos_weight": rand(4, low=0.5, high=3)})
    compare("multilabel_soft_margin_loss", [logits, (y > 0.5).float()], [True, False],
            {"reduction": reduction})


def test_bce_edge_values_and_huge_logits():
    p = torch.tensor([0.0, 1.0, 0.5])
    y = torch.tensor([1.0, 0.0, 1.0])
    close(F.binary_cross_entropy(to_ember(p), to_ember(y)), TF.binary_cross_entropy(p, y))
    logits = torch.tensor([200.0, -200.0, 90.0, -90.0])
    yl = torch.tensor([0.0, 1.0, 1.0, 0.0])
    compare("binary_cross_entropy_with_logits", [logits, yl], [True, False], {}, atol=1e-4)
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(ember.tensor([1.5]), ember.tensor([1.0]))


@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
def test_kl_div(reduction):
    inp = torch.log_softmax(rand(3, 5), 1)
    tgt = torch.softmax(rand(3, 5), 1)
    compare("kl_div", [inp, tgt], [True, True], {"reduction": reduction})
    compare("kl_div", [inp, torch.log(tgt)], [True, True], {"reduction": reduction,
                                                           "log_target": True})


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_other_losses(reduction):
    a, b = rand(4, 3), rand(4, 3)
    sign = torch.tensor([1.0, -1.0, 1.0, -1.0])
    compare("margin_ranking_loss", [a[:, 0], b[:, 0], sign], [True, True, False],
            {"reduction": reduction, "margin": 0.2})
    compare("hinge_embedding_loss", [a, torch.sign(b)], [True, False],
            {"reduction": reduction, "margin": 0.5})
    compare("cosine_embedding_loss", [a, b, sign], [True, True, False],
            {"reduction": reduction, "margin": 0.1})
    compare("poisson_nll_loss", [a, rand(4, 3, low=0, high=3)], [True, False],
            {"reduction": reduction})
    compare("poisson_nll_loss", [rand(4, 3, low=0.1, high=2), rand(4, 3, low=0, high=3)],
            [True, False], {"reduction": reduction, "log_input": False, "full": True})
    compare("gaussian_nll_loss", [a, b, rand(4, 3, low=0.1, high=1)], [True, True, True],
            {"reduction": reduction})
    compare("triplet_margin_loss", [a, b, rand(4, 3)], [True, True, True],
            {"reduction": reduction})
    cls = targets(4, classes=3)
    compare("multi_margin_loss", [a, cls], [True, False], {"reduction": reduction})
    compare("multi_margin_loss", [a, cls], [True, False],
            {"reduction": reduction, "p": 2, "margin": 0.5, "weight": rand(3, low=0.2, high=1)})


def test_loss_modules_and_reprs():
    pairs = [("MSELoss", {}), ("L1Loss", {}), ("CrossEntropyLoss", {"label_smoothing": 0.1}),
             ("NLLLoss", {}), ("BCELoss", {}), ("BCEWithLogitsLoss", {}),
             ("KLDivLoss", {"reduction": "batchmean"}), ("SmoothL1Loss", {"beta": 0.5}),
             ("HuberLoss", {"delta": 2.0})]
    for name, kw in pairs:
        e, t = getattr(nn, name)(**kw), getattr(torch.nn, name)(**kw)
        assert repr(e) == repr(t)
        assert list(e.state_dict()) == list(t.state_dict())
    w = rand(3, low=0.1, high=1)
    e, t = nn.CrossEntropyLoss(weight=to_ember(w)), torch.nn.CrossEntropyLoss(weight=w)
    assert list(e.state_dict()) == list(t.state_dict()) == ["weight"]
    x, y = rand(4, 3), targets(4, classes=3)
    close(e(to_ember(x), to_ember(y)), t(x, y))


def test_legacy_reduction_args_and_errors():
    x, y = rand(3), rand(3)
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        out = F.mse_loss(to_ember(x), to_ember(y), size_average=False)
    close(out, TF.mse_loss(x, y, reduction="sum"))
    with pytest.raises(ValueError, match="bad is not a valid value for reduction"):
        F.mse_loss(to_ember(x), to_ember(y), reduction="bad")
    with pytest.warns(UserWarning, match="Using a target size"):
        F.mse_loss(to_ember(rand(3, 1)), to_ember(rand(3)))
    with pytest.raises(IndexError, match="Target 7 is out of bounds."):
        F.cross_entropy(ember.zeros(2, 3), ember.tensor([0, 7]))
    with pytest.raises(ValueError) as te:
        TF.binary_cross_entropy_with_logits(torch.zeros(2), torch.zeros(3))
    with pytest.raises(ValueError) as ee:
        F.binary_cross_entropy_with_logits(ember.zeros(2), ember.zeros(3))
    assert str(ee.value) == str(te.value)



def test_bce_with_logits_pos_weight_cannot_require_grad():
    with pytest.raises(RuntimeError, match="not differentiable with respect to argument "
                                           "'pos_weight'"):
        F.binary_cross_entropy_with_logits(ember.zeros(2), ember.zeros(2),
                                           pos_weight=ember.ones(2, requires_grad=True))
