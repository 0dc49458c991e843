"""Each optimizer's parameter trajectory equals torch's on the same loss and start."""
import copy

import numpy as np
import pytest
import torch

import ember
import ember.optim as optim

START_A = np.random.default_rng(0).standard_normal((3, 4))
START_B = np.random.default_rng(1).standard_normal(4)
TARGET = np.random.default_rng(2).standard_normal((3, 4))
WEIGHT = np.random.default_rng(3).uniform(0.5, 2.0, (3, 4))


def _loss(lib, a, b, sign):
    """A smooth non-quadratic loss coupling both parameters (same formula in both libs)."""
    t = lib.tensor(TARGET, dtype=a.dtype)
    w = lib.tensor(WEIGHT, dtype=a.dtype)
    value = ((a - t) ** 2 * w).sum() + 0.5 * ((b * b - 1) ** 2).sum() \
        + 0.1 * (a.sum(0) * b).sum()
    return value * sign


def _trajectory(lib, name, kwargs, dtype, steps, groups=False, closure_steps=False):
    a = lib.tensor(START_A, dtype=dtype, requires_grad=True)
    b = lib.tensor(START_B, dtype=dtype, requires_grad=True)
    params = [{"params": [a]}, {"params": [b], "lr": 0.02}] if groups else [a, b]
    opt = getattr(lib.optim, name)(params, **kwargs)
    sign = -1.0 if kwargs.get("maximize") else 1.0
    out = []

    def closure():
        opt.zero_grad()
        loss = _loss(lib, a, b, sign)
        loss.backward()
        return loss

    for _ in range(steps):
        if closure_steps:
            opt.step(closure)
        else:
            closure()
            opt.step()
        out.append(np.concatenate([a.detach().numpy().ravel(), b.detach().numpy().ravel()]))
    return np.array(out), opt


CASES = [
    ("SGD", dict(lr=0.01)),
    ("SGD", dict(lr=0.01, momentum=0.9)),
    ("SGD", dict(lr=0.01, momentum=0.9, dampening=0.3, weight_decay=0.1)),
    ("SGD", dict(lr=0.01, momentum=0.9, nesterov=True, weight_decay=0.05)),
    ("SGD", dict(lr=0.01, momentum=0.5, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, amsgrad=True, maximize=True, weight_decay=0.01)),
    ("Adam", dict(lr=0.01, decoupled_weight_decay=True, weight_decay=0.1)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, amsgrad=True, weight_decay=0.2)),
    ("AdamW", dict(lr=0.01, maximize=True)),
    ("Adamax", dict(lr=0.01)),
    ("Adamax", dict(lr=0.02, weight_decay=0.1, maximize=True)),
    ("NAdam", dict(lr=0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, momentum_decay=0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict(lr=0.01)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True, alpha=0.9, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.5)),
    ("Adagrad", dict(lr=0.1, maximize=True, eps=1e-6)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, weight_decay=0.1)),
    ("Adadelta", dict(lr=0.5, maximize=True, eps=1e-4)),
]


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_trajectory_float64(name, kwargs):
    mine, _ = _trajectory(ember, name, kwargs, ember.float64, 50)
    ref, _ = _trajectory(torch, name, kwargs, torch.float64, 50)
    np.testing.assert_allclose(mine, ref, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name,kwargs", CASES[::3], ids=[n for n, _ in CASES[::3]])
def test_trajectory_float32_with_groups(name, kwargs):
    mine, _ = _trajectory(ember, name, kwargs, ember.float32, 50, groups=True)
    ref, _ = _trajectory(torch, name, kwargs, torch.float32, 50, groups=True)
    assert mine.dtype == np.float32
    np.testing.assert_allclose(mine, ref, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("kwargs", [
    dict(lr=1, max_iter=5),
    dict(lr=0.5, max_iter=4, history_size=3),
    dict(lr=1, max_iter=5, line_search_fn="strong_wolfe"),
    dict(lr=1, max_iter=20, history_size=5, line_search_fn="strong_wolfe"),
])
def test_lbfgs_trajectory(kwargs):
    mine, opt = _trajectory(ember, "LBFGS", kwargs, ember.float64, 10, closure_steps=True)
    ref, topt = _trajectory(torch, "LBFGS", kwargs, torch.float64, 10, closure_steps=True)
    np.testing.assert_allclose(mine, ref, rtol=1e-8, atol=1e-10)
    mine_state = next(iter(opt.state.values()))
    ref_state = next(iter(topt.state.values()))
    assert mine_state["func_evals"] == ref_state["func_evals"]
    assert mine_state["n_iter"] == ref_state["n_iter"]


def test_lbfgs_rejects_unknown_line_search_and_groups():
    a = ember.zeros(2, requires_grad=True)
    b = ember.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="parameter groups"):
        optim.LBFGS([{"params": [a]}, {"params": [b]}])
    opt = optim.LBFGS([a], line_search_fn="backtracking")

    def closure():
        opt.zero_grad()
        loss = ((a - 1) ** 2).sum()
        loss.backward()
        return loss
    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        opt.step(closure)


@pytest.mark.parametrize("name,kwargs", CASES[::2], ids=[n for n, _ in CASES[::2]])
def test_state_dict_matches_torch_and_round_trips(name, kwargs):
    mine, opt = _trajectory(ember, name, kwargs, ember.float64, 7, groups=True)
    ref, topt = _trajectory(torch, name, kwargs, torch.float64, 7, groups=True)
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert sd["param_groups"] == tsd["param_groups"]
    assert sd["state"].keys() == tsd["state"].keys()
    for i in tsd["state"]:
        assert list(sd["state"][i]) == list(tsd["state"][i])
        for key, tv in tsd["state"][i].items():
            v = sd["state"][i][key]
            assert isinstance(v, ember.Tensor)
            assert str(v.dtype) == str(tv.dtype)
            np.testing.assert_allclose(v.numpy(), tv.numpy(), rtol=1e-10, atol=1e-12)

    # A fresh optimizer loaded from the state dict continues exactly as the original.
    a = ember.tensor(mine[-1][:12].reshape(3, 4), requires_grad=True, dtype=ember.float64)
    b = ember.tensor(mine[-1][12:], requires_grad=True, dtype=ember.float64)
    fresh = getattr(optim, name)([{"params": [a]}, {"params": [b]}], **kwargs)
    # A copy, as a checkpoint gives: loading shares state tensors (as torch), and opt keeps
    # stepping its own below.
    fresh.load_state_dict(copy.deepcopy(sd))
    assert fresh.param_groups[1]["lr"] == 0.02
    (pa, pb) = [g["params"][0] for g in opt.param_groups]
    sign = -1.0 if kwargs.get("maximize") else 1.0
    for o, x, y in ((opt, pa, pb), (fresh, a, b)):
        for _ in range(5):
            o.zero_grad()
            _loss(ember, x, y, sign).backward()
            o.step()
    # Not bit-exact for NAdam: loading casts the float32 'mu_product' to the parameter's
    # dtype, exactly as torch does.
    np.testing.assert_allclose(a.detach().numpy(), pa.detach().numpy(), rtol=1e-9)
    np.testing.assert_allclose(b.detach().numpy(), pb.detach().numpy(), rtol=1e-9)
    (ta, tb) = [g["params"][0] for g in topt.param_groups]
    for _ in range(5):
        topt.zero_grad()
        _loss(torch, ta, tb, sign).backward()
        topt.step()
    np.testing.assert_allclose(a.detach().numpy(), ta.detach().numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(b.detach().numpy(), tb.detach().numpy(), rtol=1e-9, atol=1e-12)
    tp = [torch.zeros(3, 4, dtype=torch.float64), torch.zeros(4, dtype=torch.float64)]
    tfresh = getattr(torch.optim, name)([{"params": [tp[0]]}, {"params": [tp[1]]}], **kwargs)
    tfresh.load_state_dict(tsd)
    for p, q in zip((a, b), tp):
        assert {k: str(v.dtype) for k, v in fresh.state[p].items()} == \
            {k: str(v.dtype) for k, v in tfresh.state[q].items()}


def test_load_state_dict_shares_state_tensors_like_torch():
    # torch casts loaded state with .to(), which returns the same tensor when the dtype
    # matches: steps after loading update the caller's state_dict too; groups are copied.
    def run(lib):
        p = lib.nn.Parameter(lib.tensor([1.0, 2.0]))
        opt = lib.optim.Adam([p], lr=0.1)
        p.grad = lib.tensor([0.5, -1.0])
        opt.step()
        sd = opt.state_dict()
        q = lib.nn.Parameter(lib.tensor([1.0, 2.0]))
        opt2 = lib.optim.Adam([q], lr=0.1)
        opt2.load_state_dict(sd)
        q.grad = lib.tensor([0.5, -1.0])
        opt2.step()
        return (sd["state"][0]["exp_avg"].tolist(), opt2.state[q]["exp_avg"] is sd["state"][0]["exp_avg"],
                sd["param_groups"][0] is opt2.param_groups[0], q.tolist())
    assert run(ember) == run(torch)


def _three_params(lib, dtype):
    rng = np.random.default_rng(7)
    return [lib.tensor(rng.standard_normal(shape), dtype=dtype, requires_grad=True)
            for shape in ((5, 3), (7,), (2, 2, 2))]


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_foreach_and_for_loop_agree_bit_for_bit(name, kwargs):
    # One update call per group and one per parameter run the same arithmetic; parameters
    # of different sizes share the step's scratch arrays.
    def run(foreach):
        params = _three_params(ember, ember.float32)
        opt = getattr(optim, name)([{"params": params[:2]}, {"params": params[2:], "lr": 0.05}],
                                   **kwargs, foreach=foreach)
        for i in range(6):
            opt.zero_grad()
            loss = sum(((p - 0.3) ** 2 * (1.0 + k)).sum() + (p ** 3).sum() * 0.1
                       for k, p in enumerate(params))
            loss.backward()
            if i == 3:
                params[1].grad = None  # a parameter without a gradient is skipped
            opt.step()
        return [p.detach().numpy() for p in params], opt.state_dict()

    ref, ref_sd = run(None)
    for foreach in (True, False):
        got, sd = run(foreach)
        for a, b in zip(got, ref):
            assert np.array_equal(a, b)
        for i, state in ref_sd["state"].items():
            for key, value in state.items():
                assert np.array_equal(sd["state"][i][key].numpy(), value.numpy())
        assert [g["foreach"] for g in sd["param_groups"]] == [foreach, foreach]


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adagrad"])
def test_fused_argument_checks_as_torch(name):
    def outcome(lib, **kwargs):
        p = lib.zeros(2, requires_grad=True)
        try:
            getattr(lib.optim, name)([p], lr=0.1, **kwargs)
        except RuntimeError as e:
            return str(e)
        return None
    for kwargs in (dict(fused=True, foreach=True), dict(fused=True, differentiable=True)):
        assert outcome(ember, **kwargs) == outcome(torch, **kwargs) is not None


def test_step_bumps_versions_and_keeps_grads():
    # The update writes into the parameters (autograd sees the in-place change) and
    # never into their gradients.
    p = ember.tensor([1.0, -2.0, 3.0], requires_grad=True)
    saved = p * 2
    opt = optim.Adam([p], lr=0.1, weight_decay=0.1, maximize=True)
    p.grad = ember.tensor([0.5, 0.5, -1.0])
    before = p._vc[0]
    opt.step()
    assert p._vc[0] == before + 1
    assert p.grad.tolist() == [0.5, 0.5, -1.0]
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        (saved * p).sum().backward()


def test_zero_grad():
    p, q = ember.ones(2, requires_grad=True), ember.ones(3, requires_grad=True)
    opt = optim.SGD([p, q], lr=0.1)
    p.grad = ember.ones(2)
    opt.zero_grad(set_to_none=False)
    assert p.grad.tolist() == [0.0, 0.0] and q.grad is None
    opt.zero_grad()
    assert p.grad is None and q.grad is None
