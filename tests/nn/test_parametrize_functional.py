"""Parametrizations (weight_norm, spectral_norm, custom) and functional-only API vs torch."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.nn.utils import parametrize, parametrizations

from .helpers import check_module, close, to_ember

RNG = np.random.default_rng(5)


def rand(*shape):
    return torch.from_numpy(RNG.standard_normal(shape).astype(np.float32))


def test_weight_norm_matches_torch():
    for dim in (0, 1, None):
        e = parametrizations.weight_norm(nn.Linear(3, 4), dim=dim)
        t = torch.nn.utils.parametrizations.weight_norm(torch.nn.Linear(3, 4), dim=dim)
        assert repr(e) == repr(t)
        assert list(e.state_dict()) == list(t.state_dict())
        check_module(e, t, rand(2, 3))
    assert type(e).__name__ == "ParametrizedLinear" and isinstance(e, nn.Linear)
    assert parametrize.is_parametrized(e) and parametrize.is_parametrized(e, "weight")
    assert not parametrize.is_parametrized(e, "bias")
    import copy
    c = copy.deepcopy(e)
    assert type(c) is type(e) and c.parametrizations.weight.original1 is not \
        e.parametrizations.weight.original1
    close(c(ember.ones(1, 3)), t(torch.ones(1, 3)).detach())


def test_spectral_norm_matches_torch():
    for make_e, make_t in [(lambda: nn.Linear(5, 4), lambda: torch.nn.Linear(5, 4)),
                           (lambda: nn.ConvTranspose2d(2, 3, 2),
                            lambda: torch.nn.ConvTranspose2d(2, 3, 2))]:
        e = parametrizations.spectral_norm(make_e())
        t = torch.nn.utils.parametrizations.spectral_norm(make_t())
        assert repr(e) == repr(t)
        assert list(e.state_dict()) == list(t.state_dict())
        x = rand(2, 5) if isinstance(e, nn.Linear) else rand(1, 2, 3, 3)
        check_module(e, t, x)
        close(e.parametrizations.weight[0]._u, t.parametrizations.weight[0]._u)
        e.eval(), t.eval()
        close(e(to_ember(x)), t(x))


def test_custom_parametrization_and_removal():
    def symmetric(lib):
        class Symmetric(lib.nn.Module):
            def forward(self, x):
                return x.triu() + x.triu(1).transpose(0, 1)
        return Symmetric()

    t = torch.nn.Linear(3, 3)
    m = nn.Linear(3, 3)
    m.load_state_dict({k: to_ember(v) for k, v in t.state_dict().items()})
    torch.nn.utils.parametrize.register_parametrization(t, "weight", symmetric(torch))
    parametrize.register_parametrization(m, "weight", symmetric(ember))
    close(m.weight, t.weight)
    x = rand(2, 3)
    out = m(to_ember(x))
    close(out, t(x))
    out.sum().backward()
    t(x).sum().backward()
    close(m.parametrizations.weight.original.grad, t.parametrizations.weight.original.grad)
    parametrize.remove_parametrizations(m, "weight")
    torch.nn.utils.parametrize.remove_parametrizations(t, "weight")
    assert type(m) is nn.Linear and isinstance(m.weight, nn.Parameter)
    close(m.weight, t.weight)
    with pytest.raises(ValueError) as te:
        torch.nn.utils.parametrize.register_parametrization(t, "nothing", symmetric(torch))
    with pytest.raises(ValueError) as ee:
        parametrize.register_parametrization(m, "nothing", symmetric(ember))
    assert str(ee.value) == str(te.value)


def test_functional_misc_matches_torch():
    x = rand(2, 3, 4)
    close(F.normalize(to_ember(x), dim=-1), TF.normalize(x, dim=-1))
    close(F.one_hot(ember.tensor([0, 2, 1])), TF.one_hot(torch.tensor([0, 2, 1])))
    close(F.one_hot(ember.tensor([0, 2]), 5), TF.one_hot(torch.tensor([0, 2]), 5))
    close(F.glu(to_ember(x), 2), TF.glu(x, 2))
    for mode, kw in [("nearest", {}), ("bilinear", {"align_corners": False}),
                     ("bilinear", {"align_corners": True}), ("nearest-exact", {})]:
        img = rand(1, 2, 3, 5)
        close(F.interpolate(to_ember(img), size=(4, 7), mode=mode, **kw),
              TF.interpolate(img, size=(4, 7), mode=mode, **kw))
    seq = rand(1, 2, 5)
    close(F.interpolate(to_ember(seq), scale_factor=2.0, mode="linear"),
          TF.interpolate(seq, scale_factor=2.0, mode="linear"))
    close(F.softmax(to_ember(x), dim=1, dtype=ember.float64), TF.softmax(x, 1, dtype=torch.float64))
    close(F.log_softmax(to_ember(x), 0), TF.log_softmax(x, 0))
    close(F.softplus(to_ember(x) * 50, beta=0.5, threshold=10),
          TF.softplus(x * 50, beta=0.5, threshold=10))
    close(F.logsigmoid(to_ember(x) * 100), TF.logsigmoid(x * 100))
    close(F.pad(to_ember(x), (1, 1), mode="circular"), TF.pad(x, (1, 1), mode="circular"))
    close(F.pairwise_distance(to_ember(x[0]), to_ember(x[1])), TF.pairwise_distance(x[0], x[1]))
    close(F.cosine_similarity(to_ember(x[0]), to_ember(x[1])),
          TF.cosine_similarity(x[0], x[1]))


def test_relu_inplace_and_errors():
    x = ember.tensor([-1.0, 2.0])
    y = F.relu(x, inplace=True)
    assert y is x and (x._data == [0.0, 2.0]).all()
    leaf = ember.tensor([1.0, -1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        F.relu(leaf, inplace=True)
    a = leaf * 1
    F.relu_(a)
    a.sum().backward()
    assert (leaf.grad._data == [1.0, 0.0]).all()
    with pytest.raises(RuntimeError, match="Padding length must be divisible by 2"):
        F.pad(ember.ones(2), (1,))


def test_local_response_norm_and_lp_pool_match_torch():
    x = rand(2, 5, 3, 3)
    e, t = nn.LocalResponseNorm(3), torch.nn.LocalResponseNorm(3)
    check_module(e, t, x)
    close(F.lp_pool2d(to_ember(x.abs() + 0.1), 2.0, 2), TF.lp_pool2d(x.abs() + 0.1, 2.0, 2))


def test_functional_call_swaps_and_restores():
    from ember.nn.utils.stateless import functional_call
    m = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    t = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    w = rand(2, 3)
    x = rand(4, 3)
    ew = to_ember(w, True)
    out = functional_call(m, {"0.weight": ew}, (to_ember(x),))
    tw = w.clone().requires_grad_(True)
    ref = torch.func.functional_call(t, {"0.weight": tw, "0.bias": t[0].bias.detach() * 0 +
                                         torch.from_numpy(m[0].bias._data.copy())}, (x,))
    close(out, ref)
    out.sum().backward()
    ref.sum().backward()
    close(ew.grad, tw.grad)
    assert m[0].weight.grad is None
    assert isinstance(m[0].weight, nn.Parameter) and m[0].weight is not ew
    with pytest.raises(RuntimeError, match="Missing key"):
        functional_call(m, {"0.weight": ew}, (to_ember(x),), strict=True)


def test_legacy_weight_norm_matches_torch():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e = nn.utils.weight_norm(nn.Linear(3, 4))
        t = torch.nn.utils.weight_norm(torch.nn.Linear(3, 4))
    assert list(e.state_dict()) == list(t.state_dict())
    check_module(e, t, rand(2, 3))
    nn.utils.remove_weight_norm(e)
    torch.nn.utils.remove_weight_norm(t)
    assert list(e.state_dict()) == list(t.state_dict())
    close(e.weight, t.weight.detach())
