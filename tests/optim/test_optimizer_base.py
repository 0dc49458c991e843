"""The Optimizer base: groups, defaults, zero_grad, closures, errors (as torch)."""
import numpy as np
import pytest
import torch

import ember
import ember.optim as optim


def _params(lib):
    return lib.ones(2, 3, requires_grad=True), lib.ones(3, requires_grad=True)


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none):
    out = []
    for lib in (ember, torch):
        a, b = _params(lib)
        opt = lib.optim.SGD([a, b], lr=0.1)
        (a.sum() * 2 + b.sum()).backward()
        opt.zero_grad(set_to_none=set_to_none)
        out.append([None if p.grad is None else p.grad.numpy().tolist() for p in (a, b)])
    assert out[0] == out[1]


def test_add_param_group_defaults_and_state_dict_structure():
    results = []
    for lib in (ember, torch):
        a, b = _params(lib)
        opt = lib.optim.Adam([a], lr=0.01, betas=(0.8, 0.9))
        opt.add_param_group({"params": b, "lr": 0.5, "weight_decay": 0.1})
        results.append([{k: v for k, v in g.items() if k != "params"}
                        for g in opt.state_dict()["param_groups"]])
        results.append([g["params"] for g in opt.state_dict()["param_groups"]])
    assert results[0] == results[2]
    assert results[1] == results[3] == [[0], [1]]


def test_step_runs_closure_with_grad_and_returns_its_loss():
    a, b = _params(ember)
    opt = optim.SGD([a, b], lr=0.1)

    def closure():
        opt.zero_grad()
        assert ember.is_grad_enabled()
        loss = (a * a).sum() + b.sum()
        loss.backward()
        return loss
    with ember.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 9.0
    np.testing.assert_allclose(a.detach().numpy(), np.full((2, 3), 0.8), rtol=1e-6)
    np.testing.assert_allclose(b.detach().numpy(), np.full(3, 0.9), rtol=1e-6)


def test_step_bumps_the_version_and_keeps_params_leaves():
    a, _ = _params(ember)
    opt = optim.SGD([a], lr=0.1)
    a.sum().backward()
    v = a._version
    opt.step()
    assert a._version == v + 1
    assert a.is_leaf and a.requires_grad and a.grad_fn is None


def test_named_parameters_are_accepted():
    a, b = _params(ember)
    ta, tb = _params(torch)
    opt = optim.SGD([("a", a), ("b", b)], lr=0.1)
    topt = torch.optim.SGD([("a", ta), ("b", tb)], lr=0.1)
    assert opt.param_groups[0]["param_names"] == topt.param_groups[0]["param_names"]
    assert opt.state_dict()["param_groups"] == topt.state_dict()["param_groups"]


@pytest.mark.parametrize("make,exc,msg", [
    (lambda lib, p: lib.optim.SGD([], lr=0.1), ValueError, "optimizer got an empty parameter list"),
    (lambda lib, p: lib.optim.SGD(p[0], lr=0.1), TypeError, "params argument given"),
    (lambda lib, p: lib.optim.SGD([{"params": {p[0]}}], lr=0.1), TypeError,
     "ordered collections"),
    (lambda lib, p: lib.optim.SGD([p[0], p[0] * 2], lr=0.1), ValueError,
     "can't optimize a non-leaf Tensor"),
    (lambda lib, p: lib.optim.SGD([{"params": [p[0]]}, {"params": [p[0]]}], lr=0.1),
     ValueError, "some parameters appear in more than one parameter group"),
    (lambda lib, p: lib.optim.SGD(p, lr=-1), ValueError, "Invalid learning rate: -1"),
    (lambda lib, p: lib.optim.SGD(p, lr=0.1, nesterov=True), ValueError,
     "Nesterov momentum requires a momentum and zero dampening"),
    (lambda lib, p: lib.optim.Adam(p, betas=(1.0, 0.9)), ValueError,
     "Invalid beta parameter at index 0: 1.0"),
    (lambda lib, p: lib.optim.Adam(p, eps=-1.0), ValueError, "Invalid epsilon value: -1.0"),
    (lambda lib, p: lib.optim.RMSprop(p, weight_decay=-0.5), ValueError,
     "Invalid weight_decay value: -0.5"),
])
def test_errors_match_torch(make, exc, msg):
    for lib in (ember, torch):
        with pytest.raises(exc, match=msg):
            make(lib, list(_params(lib)))


def test_load_state_dict_checks_group_sizes():
    a, b = _params(ember)
    opt = optim.Adam([a, b])
    other = optim.Adam([a])
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        other.load_state_dict(opt.state_dict())
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.Adam([{"params": [a]}, {"params": [b]}]).load_state_dict(opt.state_dict())


def test_optimizer_repr_lists_group_options():
    a, _ = _params(ember)
    text = repr(optim.SGD([a], lr=0.1, momentum=0.9))
    assert text.startswith("SGD (\nParameter Group 0\n")
    assert "    lr: 0.1\n" in text and "    momentum: 0.9\n" in text


def test_step_state_follows_the_default_dtype_like_torch():
    dtypes = []
    for lib in (ember, torch):
        old = lib.get_default_dtype()
        lib.set_default_dtype(lib.float64)
        try:
            p = lib.zeros(2, requires_grad=True)
            opt = lib.optim.Adam([p])
            p.sum().backward()
            opt.step()
            dtypes.append(str(opt.state[p]["step"].dtype))
        finally:
            lib.set_default_dtype(old)
    assert dtypes == ["torch.float64", "torch.float64"]
