"""ember.amp against torch.amp on CPU: autocast dtypes and GradScaler arithmetic."""
import warnings

import numpy as np
import pytest
import torch

import ember


def E(t):
    return ember.tensor(t.detach().numpy()) if t.dtype != torch.bfloat16 else \
        ember.tensor(t.float().numpy()).to(ember.bfloat16)


def ename(dt):
    return str(dt)


OPS = [
    ("matmul", lambda L, a, b: a @ b),
    ("mm", lambda L, a, b: L.mm(a, b)),
    ("bmm", lambda L, a, b: L.bmm(a[None], b[None])),
    ("linear_nobias", lambda L, a, b: L.nn.functional.linear(a, b)),
    ("einsum", lambda L, a, b: L.einsum("ij,jk->ik", a, b)),
    ("mv", lambda L, a, b: L.mv(a, b[0])),
    ("dot", lambda L, a, b: L.dot(a[0], b[0])),
]
# Ops of one input dtype: float32 list, pointwise, and mixed-dtype promotion.
ONE = [
    ("add", lambda L, a, b: a + b),
    ("exp", lambda L, a, b: L.exp(b)),
    ("softmax", lambda L, a, b: L.softmax(b, -1)),
    ("log_softmax", lambda L, a, b: L.nn.functional.log_softmax(b, -1)),
    ("prod", lambda L, a, b: L.prod(b)),
    ("nll_loss", lambda L, a, b: L.nn.functional.nll_loss(b, L.tensor([0, 1, 2, 3]))),
    ("cross_entropy", lambda L, a, b: L.nn.functional.cross_entropy(b, L.tensor([0, 1, 2, 3]))),
    ("bce", lambda L, a, b: L.nn.functional.binary_cross_entropy(L.sigmoid(b), L.sigmoid(b))),
    ("bce_logits", lambda L, a, b: L.nn.functional.binary_cross_entropy_with_logits(b, L.sigmoid(b))),
    ("cat", lambda L, a, b: L.cat([a, b])),
]


CASES = ([(n, f, "float32") for n, f in OPS] +
         [(n, f, d) for n, f in ONE for d in ("float32", "bfloat16", "float16")])


@pytest.mark.parametrize("name,fn,bdtype", CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
@pytest.mark.parametrize("inside", [True, False])
def test_op_dtypes_match_torch(name, fn, bdtype, inside):
    g = torch.Generator().manual_seed(0)
    a = torch.randn(4, 4, generator=g)
    b = torch.randn(4, 4, generator=g).to(getattr(torch, bdtype))
    ea, eb = E(a), ember.tensor(b.float().numpy()).to(getattr(ember, bdtype))
    if inside:
        with torch.autocast("cpu"):
            want = fn(torch, a, b)
        with ember.autocast("cpu"):
            got = fn(ember, ea, eb)
    else:
        want, got = fn(torch, a, b), fn(ember, ea, eb)
    assert str(got.dtype) == str(want.dtype)
    np.testing.assert_allclose(got.float().numpy(), want.float().numpy(), rtol=3e-2, atol=3e-2)


def test_conv_dtypes_match_torch():
    x = torch.randn(1, 2, 6, 6)
    w = torch.randn(3, 2, 3, 3)
    bias = torch.randn(3)
    for f in ("conv2d", "conv_transpose2d"):
        ww = w if f == "conv2d" else w.transpose(0, 1).contiguous()
        with torch.autocast("cpu"):
            want = getattr(torch.nn.functional, f)(x, ww, bias)
        with ember.autocast("cpu"):
            got = getattr(ember.nn.functional, f)(E(x), E(ww), E(bias))
        assert str(got.dtype) == str(want.dtype) == "torch.bfloat16"
        np.testing.assert_allclose(got.float().numpy(), want.float().numpy(), rtol=5e-2, atol=5e-2)
    x1, w1 = torch.randn(1, 2, 7), torch.randn(3, 2, 3)
    for tdt, edt, tol in ((torch.bfloat16, ember.bfloat16, 5e-2), (torch.float16, ember.float16,
                                                                   5e-3)):
        with torch.autocast("cpu", dtype=tdt):
            want = torch.nn.functional.conv1d(x1, w1)
        with ember.autocast("cpu", dtype=edt):
            got = ember.nn.functional.conv1d(E(x1), E(w1))
        assert str(got.dtype) == str(want.dtype) == str(tdt)
        np.testing.assert_allclose(got.float().numpy(), want.float().numpy(), rtol=tol, atol=tol)


def _models():
    torch.manual_seed(0)
    # One lower-precision layer: Ember's matmul still rejects a bfloat16 input against a
    # float32 weight before dispatch, so conv -> linear chains are not covered yet.
    tm = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(2 * 6 * 6, 3, bias=False),
                             torch.nn.ReLU())
    em = ember.nn.Sequential(ember.nn.Flatten(), ember.nn.Linear(2 * 6 * 6, 3, bias=False),
                             ember.nn.ReLU())
    em.load_state_dict({k: E(v) for k, v in tm.state_dict().items()})
    return tm, em


def test_model_forward_backward_dtypes():
    tm, em = _models()
    x = torch.randn(5, 2, 6, 6)
    y = torch.tensor([0, 1, 2, 0, 1])
    with torch.autocast("cpu"):
        tout = tm(x)
        tloss = torch.nn.functional.cross_entropy(tout, y)
    with ember.autocast("cpu"):
        eout = em(E(x))
        eloss = ember.nn.functional.cross_entropy(eout, E(y))
    assert str(eout.dtype) == str(tout.dtype) == "torch.bfloat16"
    assert str(eloss.dtype) == str(tloss.dtype) == "torch.float32"
    np.testing.assert_allclose(eloss.item(), tloss.item(), rtol=3e-2)
    tloss.backward()
    eloss.backward()
    for (n, tp), ep in zip(tm.named_parameters(), em.parameters()):
        assert str(ep.grad.dtype) == str(tp.grad.dtype) == "torch.float32", n
        np.testing.assert_allclose(ep.grad.numpy(), tp.grad.numpy(), rtol=0.1, atol=0.05)


def test_state_queries_nested_and_disabled():
    assert not ember.is_autocast_enabled("cpu")
    assert ember.get_autocast_dtype("cpu") == ember.bfloat16
    assert ember.get_autocast_dtype("cuda") == ember.float16
    x = ember.randn(3, 3)
    with ember.autocast("cpu"):
        assert ember.is_autocast_enabled("cpu") and not ember.is_autocast_enabled()
        with ember.autocast("cpu", enabled=False):
            assert not ember.is_autocast_enabled("cpu")
            assert (x @ x).dtype == ember.float32
        with ember.autocast("cpu", dtype=ember.float16):
            assert ember.get_autocast_dtype("cpu") == ember.float16
            assert (x @ x).dtype == ember.float16
        assert ember.get_autocast_dtype("cpu") == ember.bfloat16
        assert (x @ x).dtype == ember.bfloat16
    assert not ember.is_autocast_enabled("cpu")
    assert (x @ x).dtype == ember.float32
    assert ember.amp.autocast is ember.autocast


def test_exception_restores_state():
    with pytest.raises(ValueError):
        with ember.autocast("cpu"):
            raise ValueError
    assert not ember.is_autocast_enabled("cpu")
    assert (ember.ones(2, 2) @ ember.ones(2, 2)).dtype == ember.float32


def test_decorator_form():
    @ember.autocast("cpu")
    def f(a):
        assert ember.is_autocast_enabled("cpu")
        return a @ a

    assert f(ember.ones(2, 2)).dtype == ember.bfloat16
    assert not ember.is_autocast_enabled("cpu")


def test_unsupported_dtype_and_device_warn_like_torch():
    for lib in (torch, ember):
        with pytest.warns(UserWarning, match="CPU Autocast only supports"):
            with lib.autocast("cpu", dtype=lib.float32):
                assert not lib.is_autocast_enabled("cpu")
        with pytest.warns(UserWarning, match="CUDA is not available"):
            with lib.autocast("cuda"):
                assert not lib.is_autocast_enabled("cuda")
        with pytest.raises(RuntimeError, match="Expected one of cpu, cuda"):
            lib.autocast("xyz")


def test_deprecated_aliases():
    for lib in (torch, ember):
        with pytest.warns(FutureWarning, match=r"`torch.cpu.amp.autocast\(args...\)` is deprecated"):
            ctx = lib.cpu.amp.autocast()
        with ctx:
            assert lib.is_autocast_enabled("cpu")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            with pytest.warns(FutureWarning, match=r"`torch.cuda.amp.autocast\(args...\)` is "
                                                   r"deprecated. Please use `torch.amp.autocast\('cuda'"):
                lib.cuda.amp.autocast()


def test_gradscaler_cuda_default_disabled_without_cuda():
    for lib in (torch, ember):
        with pytest.warns(UserWarning, match="GradScaler is enabled, but CUDA is not available.  "
                                             "Disabling."):
            s = lib.amp.GradScaler()
        assert not s.is_enabled()
        assert s.get_scale() == 1.0 and s.state_dict() == {}
        out = lib.ones(2)
        assert s.scale(out) is out


def _train(lib, scaler_kw, inject, steps=6):
    lib.manual_seed(0)
    model = lib.nn.Linear(3, 2)
    with (torch.no_grad() if lib is torch else ember.no_grad()):
        model.weight.copy_(lib.tensor([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]]))
        model.bias.copy_(lib.tensor([0.01, -0.02]))
    opt = lib.optim.SGD(model.parameters(), lr=0.1)
    scaler = lib.amp.GradScaler("cpu", **scaler_kw)
    x = lib.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]])
    log = []
    for i in range(steps):
        opt.zero_grad()
        loss = (model(x) ** 2).mean()
        scaled = scaler.scale(loss)
        log.append(scaled.item())
        scaled.backward()
        if i in inject:
            model.weight.grad[0, 0] = float(inject[i])
        scaler.step(opt)
        scaler.update()
        log.append(scaler.get_scale())
        log.append(dict(scaler.state_dict()))
    return log, model.weight.detach().numpy().copy(), model.bias.detach().numpy().copy()


@pytest.mark.parametrize("kw,inject", [
    ({}, {}),
    ({"init_scale": 1024.0, "growth_interval": 2}, {}),
    ({"init_scale": 8.0, "growth_interval": 2, "growth_factor": 4.0, "backoff_factor": 0.25},
     {1: "inf", 3: "nan"}),
    ({"growth_interval": 1}, {0: "inf", 1: "-inf", 4: "inf"}),
])
def test_gradscaler_training_matches_torch(kw, inject):
    tlog, tw, tb = _train(torch, kw, inject)
    elog, ew, eb = _train(ember, kw, inject)
    assert len(tlog) == len(elog)
    for t, e in zip(tlog, elog):
        if isinstance(t, dict):
            assert t == e
        else:
            assert e == pytest.approx(t, rel=1e-6)
    np.testing.assert_allclose(ew, tw, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(eb, tb, rtol=1e-6, atol=1e-7)


def test_inf_skips_step_and_backs_off():
    log, w, b = _train(ember, {"init_scale": 16.0}, {0: "inf"}, steps=1)
    tlog, tw, tb = _train(torch, {"init_scale": 16.0}, {0: "inf"}, steps=1)
    assert log == tlog and log[1] == 8.0 and log[2]["_growth_tracker"] == 0
    np.testing.assert_array_equal(w, tw)
    np.testing.assert_array_equal(b, tb)
    np.testing.assert_array_equal(w, np.array([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]], np.float32))


def test_unscale_then_step_and_errors_match_torch():
    for lib in (torch, ember):
        p = lib.nn.Parameter(lib.ones(2))
        opt = lib.optim.SGD([p], lr=1.0)
        s = lib.amp.GradScaler("cpu", init_scale=4.0)
        with pytest.raises(AssertionError, match="Attempted step but _scale is None"):
            s.step(opt)
        s.scale((p * 3).sum()).backward()
        s.unscale_(opt)
        assert p.grad.tolist() == [3.0, 3.0]
        with pytest.raises(RuntimeError, match="unscale_\\(\\) has already been called"):
            s.unscale_(opt)
        s.step(opt)
        assert p.tolist() == [-2.0, -2.0]
        with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
            s.step(opt)
        with pytest.raises(RuntimeError, match="unscale_\\(\\) is being called after step"):
            s.unscale_(opt)
        s.update()
        s.update(2.0)
        assert s.get_scale() == 2.0
        with pytest.raises(RuntimeError, match="Closure use is not currently supported"):
            s.step(opt, closure=lambda: 0)


def test_state_dict_roundtrip_matches_torch():
    kw = dict(init_scale=256.0, growth_factor=3.0, backoff_factor=0.25, growth_interval=7)
    ts, es = torch.amp.GradScaler("cpu", **kw), ember.amp.GradScaler("cpu", **kw)
    assert ts.state_dict() == es.state_dict()
    src = {"scale": 32.0, "growth_factor": 2.0, "backoff_factor": 0.5, "growth_interval": 3,
           "_growth_tracker": 2}
    ts.load_state_dict(src)
    es.load_state_dict(src)
    assert ts.state_dict() == es.state_dict()
    assert ts.get_scale() == es.get_scale() == 32.0
    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match="The source state dict is empty"):
            lib.amp.GradScaler("cpu").load_state_dict({})


def test_disabled_scaler_passes_through():
    p = ember.nn.Parameter(ember.ones(2))
    opt = ember.optim.SGD([p], lr=1.0)
    s = ember.amp.GradScaler("cpu", enabled=False)
    loss = (p * 2).sum()
    assert s.scale(loss) is loss
    loss.backward()
    s.unscale_(opt)
    s.step(opt)
    s.update()
    assert p.tolist() == [-1.0, -1.0]
    assert s.get_scale() == 1.0 and s.state_dict() == {} and not s.is_enabled()


COMPOSITES = [
    ("linear+bias", lambda m, F, x, w, b, y: F.linear(x, w, b)),
    ("linear chain", lambda m, F, x, w, b, y: F.linear(F.linear(x, w, b).relu(), w.t()[:3])),
    ("addmm", lambda m, F, x, w, b, y: m.addmm(b, x, w.t())),
    ("baddbmm", lambda m, F, x, w, b, y: m.baddbmm(b.expand(2, 2, 4), x.expand(2, 2, 3),
                                                    w.t().expand(2, 3, 4))),
    ("mse_loss", lambda m, F, x, w, b, y: F.mse_loss(F.linear(x, w, b), y)),
    ("l1_loss", lambda m, F, x, w, b, y: F.l1_loss(F.linear(x, w, b), y)),
    ("smooth_l1_loss", lambda m, F, x, w, b, y: F.smooth_l1_loss(F.linear(x, w, b), y)),
    ("huber_loss", lambda m, F, x, w, b, y: F.huber_loss(F.linear(x, w, b), y)),
    ("kl_div", lambda m, F, x, w, b, y: F.kl_div(F.linear(x, w, b).log_softmax(1),
                                                y.softmax(1), reduction="batchmean")),
    ("cross_entropy", lambda m, F, x, w, b, y: F.cross_entropy(F.linear(x, w, b),
                                                              m.tensor([0, 3]))),
]


@pytest.mark.parametrize("name,fn", COMPOSITES, ids=[n for n, _ in COMPOSITES])
def test_composite_ops_autocast_like_torch(name, fn):
    """Functions torch autocasts as one op (linear with bias, addmm, the losses) give
    torch's dtypes, values close at bfloat16 precision, and float32 parameter grads."""
    rng = np.random.default_rng(0)
    data = [rng.standard_normal(s).astype(np.float32) for s in [(2, 3), (4, 3), (4,), (2, 4)]]
    results = {}
    for lib in (torch, ember):
        F = lib.nn.functional
        x, w, b, y = (lib.tensor(a) for a in data)
        w.requires_grad_(True)
        b.requires_grad_(True)
        with lib.autocast("cpu"):
            out = fn(lib, F, x, w, b, y)
        out.float().sum().backward()
        results[lib] = (str(out.dtype), out.detach().float().numpy(), str(w.grad.dtype),
                        w.grad.numpy(), str(b.grad.dtype))
    t, e = results[torch], results[ember]
    assert e[0] == t[0] and e[2] == t[2] == "torch.float32" and e[4] == t[4]
    np.testing.assert_allclose(e[1], t[1], rtol=3e-2, atol=3e-2)
    np.testing.assert_allclose(e[3], t[3], rtol=5e-2, atol=5e-2)
