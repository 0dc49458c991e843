"""Learning-rate sequences equal torch's over many steps; state_dicts round trip."""
import warnings

import numpy as np
import pytest
import torch

import ember


def _optimizer(lib, kind="sgd"):
    a = lib.zeros(2, requires_grad=True)
    b = lib.zeros(3, requires_grad=True)
    groups = [{"params": [a]}, {"params": [b], "lr": 0.05}]
    if kind == "adam":
        return lib.optim.Adam(groups, lr=0.1)
    return lib.optim.SGD(groups, lr=0.1, momentum=0.9)


class _Halving:
    """A callable object: LambdaLR saves its __dict__ in state_dict."""

    def __init__(self):
        self.base = 0.5

    def __call__(self, epoch):
        return self.base ** (epoch // 7)


def _make(lib, name, kind):
    L = lib.optim.lr_scheduler
    opt = _optimizer(lib, kind)
    if name == "LambdaLR":
        return opt, L.LambdaLR(opt, [lambda e: 0.95 ** e, _Halving()])
    if name == "MultiplicativeLR":
        return opt, L.MultiplicativeLR(opt, lambda e: 0.97)
    if name == "StepLR":
        return opt, L.StepLR(opt, step_size=7, gamma=0.5)
    if name == "MultiStepLR":
        return opt, L.MultiStepLR(opt, milestones=[5, 12, 12, 30], gamma=0.3)
    if name == "ConstantLR":
        return opt, L.ConstantLR(opt, factor=0.25, total_iters=9)
    if name == "LinearLR":
        return opt, L.LinearLR(opt, start_factor=0.1, end_factor=0.9, total_iters=17)
    if name == "ExponentialLR":
        return opt, L.ExponentialLR(opt, gamma=0.93)
    if name == "CosineAnnealingLR":
        return opt, L.CosineAnnealingLR(opt, T_max=13, eta_min=0.001)
    if name == "CosineAnnealingWarmRestarts":
        return opt, L.CosineAnnealingWarmRestarts(opt, T_0=5, T_mult=2, eta_min=0.002)
    if name == "CyclicLR":
        return opt, L.CyclicLR(opt, base_lr=[0.01, 0.02], max_lr=0.2, step_size_up=6,
                               step_size_down=4, mode="triangular2")
    if name == "CyclicLR-exp":
        return opt, L.CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=5,
                               mode="exp_range", gamma=0.97)
    if name == "OneCycleLR":
        return opt, L.OneCycleLR(opt, max_lr=[0.5, 0.3], total_steps=61)
    if name == "OneCycleLR-3":
        return opt, L.OneCycleLR(opt, max_lr=0.5, epochs=6, steps_per_epoch=10,
                                 anneal_strategy="linear", three_phase=True, pct_start=0.25)
    if name == "PolynomialLR":
        return opt, L.PolynomialLR(opt, total_iters=23, power=1.7)
    if name == "SequentialLR":
        s1 = L.LinearLR(opt, start_factor=0.2, total_iters=5)
        s2 = L.ExponentialLR(opt, gamma=0.9)
        s3 = L.CosineAnnealingLR(opt, T_max=10)
        return opt, L.SequentialLR(opt, [s1, s2, s3], milestones=[5, 20])
    if name == "ChainedScheduler":
        s1 = L.ConstantLR(opt, factor=0.5, total_iters=4)
        s2 = L.ExponentialLR(opt, gamma=0.95)
        s3 = L.StepLR(opt, step_size=6, gamma=0.7)
        return opt, L.ChainedScheduler([s1, s2, s3])
    raise AssertionError(name)


NAMES = ["LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR", "LinearLR",
         "ExponentialLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts", "CyclicLR",
         "CyclicLR-exp", "OneCycleLR", "OneCycleLR-3", "PolynomialLR", "SequentialLR",
         "ChainedScheduler"]


def _run(lib, name, kind, steps):
    opt, sched = _make(lib, name, kind)
    lrs, moms = [sched.get_last_lr()], []
    for _ in range(steps):
        opt.step()
        sched.step()
        lrs.append(list(sched.get_last_lr()))
        moms.append([g["betas"][0] if "betas" in g else g["momentum"]
                     for g in opt.param_groups])
    return np.array(lrs, dtype=float), np.array(moms, dtype=float), opt, sched


@pytest.mark.parametrize("kind", ["sgd", "adam"])
@pytest.mark.parametrize("name", NAMES)
def test_lr_sequence_matches_torch(name, kind):
    steps = 60
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lrs, moms, opt, _ = _run(ember, name, kind, steps)
        tlrs, tmoms, topt, _ = _run(torch, name, kind, steps)
    np.testing.assert_allclose(lrs, tlrs, rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(moms, tmoms, rtol=1e-13, atol=1e-16)
    assert [g["lr"] for g in opt.param_groups] == pytest.approx(
        [g["lr"] for g in topt.param_groups], rel=1e-13)


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_resumes_the_sequence(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        opt, sched = _make(ember, name, "sgd")
        topt, tsched = _make(torch, name, "sgd")
        for _ in range(17):
            for o, s in ((opt, sched), (topt, tsched)):
                o.step()
                s.step()
        sd, tsd = sched.state_dict(), tsched.state_dict()
        for key in ("base_lrs", "last_epoch", "_last_lr"):
            if key in tsd:
                assert sd[key] == pytest.approx(tsd[key], rel=1e-13)
        # A new scheduler on a new optimizer, given both state dicts, continues identically.
        opt2, sched2 = _make(ember, name, "sgd")
        opt2.load_state_dict(opt.state_dict())
        sched2.load_state_dict(sched.state_dict())
        for _ in range(20):
            for o, s in ((opt, sched), (opt2, sched2), (topt, tsched)):
                o.step()
                s.step()
            assert sched2.get_last_lr() == sched.get_last_lr()
            assert [g["lr"] for g in opt2.param_groups] == [g["lr"] for g in opt.param_groups]
            assert sched2.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-13)


@pytest.mark.parametrize("kwargs", [
    dict(),
    dict(mode="max", factor=0.5, patience=2, threshold=0.05, threshold_mode="abs", cooldown=3),
    dict(patience=1, min_lr=[0.02, 0.01], eps=1e-3),
    dict(mode="min", patience=0, threshold_mode="rel", threshold=0.1, cooldown=1, factor=0.3),
])
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    metrics = [5, 4, 4.1, 4.2, 3.9, 3.95, 3.96, 3.97, 3.98, 4, 2, 2, 2.01, 2.02, 2.5, 1.9, 1.9,
               1.9, 1.9, 1.9, 1.9, 1.9, 1.9, 1.9, 1.9, 1.9, 1.9, 1.9, 1.9, 1.8] * 2
    out = []
    for lib in (ember, torch):
        opt = _optimizer(lib)
        sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
        seq = []
        for m in metrics:
            opt.step()
            sched.step(m)
            seq.append(sched.get_last_lr())
        out.append((seq, sched.state_dict()))
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-13)
    sd, tsd = out[0][1], out[1][1]
    for key in ("best", "num_bad_epochs", "cooldown_counter", "last_epoch", "min_lrs", "mode"):
        assert sd[key] == tsd[key]


def test_step_with_epoch_uses_the_closed_form_like_torch():
    for name in ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "PolynomialLR",
                 "LinearLR", "ConstantLR", "CosineAnnealingWarmRestarts"]:
        seqs = []
        for lib in (ember, torch):
            opt, sched = _make(lib, name, "sgd")
            seq = []
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for epoch in [3, 10, 11, 4, 25, 40]:
                    sched.step(epoch)
                    seq.append(sched.get_last_lr())
            seqs.append(seq)
        np.testing.assert_allclose(seqs[0], seqs[1], rtol=1e-13, err_msg=name)


def _scheduler_error(lib, make):
    with pytest.raises(Exception) as err:
        make(lib, lib.optim.lr_scheduler)
    return type(err.value).__name__, str(err.value)


def _stepped_one_cycle_past_its_end(lib, L):
    opt = _optimizer(lib)
    sched = L.OneCycleLR(opt, max_lr=0.1, total_steps=3)
    for _ in range(3):
        opt.step()
        sched.step()
    sched.step()


@pytest.mark.parametrize("make", [
    lambda lib, L: L.ConstantLR(_optimizer(lib), factor=2.0),
    lambda lib, L: L.ReduceLROnPlateau(_optimizer(lib), factor=1.0),
    lambda lib, L: L.OneCycleLR(_optimizer(lib), max_lr=[0.1, 0.2, 0.3], total_steps=10),
    _stepped_one_cycle_past_its_end,
    lambda lib, L: L.CyclicLR(lib.optim.Adagrad([lib.zeros(2, requires_grad=True)]), 0.01, 0.1),
    lambda lib, L: L.StepLR(_optimizer(lib), 3, last_epoch=4),
], ids=["ConstantLR-factor", "Plateau-factor", "OneCycle-max_lr",
        "OneCycle-past-end", "CyclicLR-no-momentum", "StepLR-no-initial_lr"])
def test_errors_match_torch(make):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert _scheduler_error(ember, make) == _scheduler_error(torch, make)


def test_warns_when_the_scheduler_steps_before_the_optimizer_like_torch():
    for lib in (ember, torch):
        opt = _optimizer(lib)
        sched = lib.optim.lr_scheduler.StepLR(opt, 2)
        with pytest.warns(UserWarning, match=r"Detected call of `lr_scheduler.step\(\)` before "
                                             r"`optimizer.step\(\)`"):
            sched.step()
        opt = _optimizer(lib)
        sched = lib.optim.lr_scheduler.StepLR(opt, 2)
        opt.step()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            sched.step()
