"""Every op in the registry, checked against torch by one harness (see harness.py)."""
import os
import zlib

import numpy as np
import pytest
import torch

import ember
from ember._ops.registry import REGISTRY

from .harness import (OpTrace, assert_close, build, cotangent, grad_leaves, numerical_grads,
                      pick, to_numpy)
from .table import OP_TABLE

# The samples must not depend on PYTHONHASHSEED (hash() of a str is randomised per process):
# a failure has to reproduce. EMBER_OPTABLE_SEED re-runs the whole table on other samples.
BASE_SEED = int(os.environ.get("EMBER_OPTABLE_SEED", "0"))


def sample_rng(name):
    return np.random.default_rng([BASE_SEED, zlib.crc32(name.encode())])


CASES = [(info, i, s) for info in OP_TABLE
         for i, s in enumerate(info.samples(sample_rng(info.name)))]
IDS = [f"{info.name}-{i}-{s!r}"[:90] for info, i, s in CASES]
GRAD_CASES = [(info, i, s) for info, i, s in CASES if info.grad and s.grad]
GRAD_IDS = [f"{info.name}-{i}" for info, i, s in GRAD_CASES]


def test_every_registered_op_has_a_table_entry():
    # test_covers_are_reached makes each entry's covers true, so this means every
    # registered op is reached by some entry's samples.
    covered = {c for info in OP_TABLE for c in info.covers}
    missing = sorted(set(REGISTRY) - covered)
    assert not missing, f"ops without an op-table entry: {missing}"
    unknown = sorted(covered - set(REGISTRY))
    assert not unknown, f"table entries naming no registered op: {unknown}"


def _trace_gradients(info, sample, idx, create_graph, trace):
    args, kwargs = build(ember, sample, True)
    leaves = grad_leaves(args) + grad_leaves(list(kwargs.values()))
    out = pick(info.ember_fn(*args, **kwargs), info.output_index)
    trace.add_graph(out)
    v = cotangent(np.random.default_rng([BASE_SEED, idx]), out)
    grads = ember.autograd.grad(_weighted(out, v, ember), leaves, create_graph=create_graph,
                                allow_unused=True)
    grads = [g for g in grads if g is not None and g.requires_grad]
    if grads:
        trace.add_graph(*grads)
        ember.autograd.grad(sum(g.sum() for g in grads), leaves, allow_unused=True)


@pytest.mark.parametrize("info", OP_TABLE, ids=[info.name for info in OP_TABLE])
def test_covers_are_reached(info):
    """An entry's covers are the registry ops its samples run, forward or backward, as
    the other tests run them (values; gradients; float64 second derivatives)."""
    with OpTrace() as trace:
        for idx, sample in enumerate(info.samples(sample_rng(info.name))):
            args, kwargs = build(ember, sample, False)
            info.ember_fn(*args, **kwargs)
            if info.grad and sample.grad:
                _trace_gradients(info, sample, idx, False, trace)
                if info.gradgrad:
                    _trace_gradients(info, _float64(sample), idx, True, trace)
    unreached = sorted(set(info.covers) - trace.ops)
    assert not unreached, f"{info.name} covers {unreached}, which its samples never run"


@pytest.mark.parametrize("info,idx,sample", CASES, ids=IDS)
def test_values_match_torch(info, idx, sample):
    e_args, e_kwargs = build(ember, sample, False)
    t_args, t_kwargs = build(torch, sample, False)
    expected = info.torch_fn(*t_args, **t_kwargs)
    got = info.ember_fn(*e_args, **e_kwargs)
    assert_close(got, expected, info.atol, info.rtol, info.name)


def _weighted(out, v, lib):
    return (out * lib.from_numpy(v)).sum() if lib is torch else (out * ember.from_numpy(v)).sum()


@pytest.mark.parametrize("info,idx,sample", GRAD_CASES, ids=GRAD_IDS)
def test_gradients_match_torch(info, idx, sample):
    rng = np.random.default_rng([BASE_SEED, idx])
    t_args, t_kwargs = build(torch, sample, True)
    t_out = pick(info.torch_fn(*t_args, **t_kwargs), info.output_index)
    t_leaves = grad_leaves(t_args) + grad_leaves(list(t_kwargs.values()))
    if not t_out.requires_grad:
        pytest.fail(f"{info.name}: torch output does not require grad; mark the sample grad=False")
    v = cotangent(rng, t_out)
    t_grads = torch.autograd.grad(_weighted(t_out, v, torch), t_leaves, allow_unused=True)

    e_args, e_kwargs = build(ember, sample, True)
    e_out = pick(info.ember_fn(*e_args, **e_kwargs), info.output_index)
    e_leaves = grad_leaves(e_args) + grad_leaves(list(e_kwargs.values()))
    assert e_out.requires_grad
    e_grads = ember.autograd.grad(_weighted(e_out, v, ember), e_leaves, allow_unused=True)
    for k, (eg, tg) in enumerate(zip(e_grads, t_grads)):
        if tg is None:
            assert eg is None or np.all(to_numpy(eg) == 0), f"grad {k}: torch has none"
            continue
        assert eg is not None, f"grad {k}: Ember produced none"
        assert_close(eg, tg, info.grad_atol, info.grad_rtol, f"{info.name} grad {k}")


def _float64(sample):
    def cast(a):
        if isinstance(a, np.ndarray) and a.dtype.kind == "f":
            return a.astype(np.float64)
        if isinstance(a, np.ndarray) and a.dtype.kind == "c":
            return a.astype(np.complex128)
        if isinstance(a, (list, tuple)) and a and any(isinstance(e, np.ndarray) for e in a):
            return type(a)(cast(e) for e in a)
        return a
    return type(sample)(tuple(cast(a) for a in sample.args),
                        {k: cast(v) for k, v in sample.kwargs.items()}, sample.grad, sample.name)


FD_CASES = [(info, i, s) for info, i, s in GRAD_CASES if info.fd]


@pytest.mark.parametrize("info,idx,sample", FD_CASES, ids=[f"{c[0].name}-{c[1]}" for c in FD_CASES])
def test_gradients_match_finite_differences(info, idx, sample):
    sample = _float64(sample)
    rng = np.random.default_rng([BASE_SEED, idx])
    args, kwargs = build(ember, sample, True)
    leaves = grad_leaves(args) + grad_leaves(list(kwargs.values()))
    out = pick(info.ember_fn(*args, **kwargs), info.output_index)
    v = cotangent(rng, out)
    analytic = ember.autograd.grad((out * ember.from_numpy(v)).sum(), leaves, allow_unused=True)
    with ember.no_grad():
        numeric = numerical_grads(lambda *a, **k: pick(info.ember_fn(*a, **k), info.output_index),
                                  args, kwargs, leaves, v)
    for k, (a, n) in enumerate(zip(analytic, numeric)):
        a = np.zeros_like(n) if a is None else to_numpy(a)
        np.testing.assert_allclose(a, n, atol=1e-5, rtol=1e-4, err_msg=f"{info.name} leaf {k}")


GG_CASES = [(info, i, s) for info, i, s in GRAD_CASES if info.gradgrad]


@pytest.mark.parametrize("info,idx,sample", GG_CASES, ids=[f"{c[0].name}-{c[1]}" for c in GG_CASES])
def test_second_derivatives_match_torch(info, idx, sample):
    sample = _float64(sample)

    def second(lib, fn):
        args, kwargs = build(lib, sample, True)
        leaves = grad_leaves(args) + grad_leaves(list(kwargs.values()))
        out = pick(fn(*args, **kwargs), info.output_index)
        v = cotangent(np.random.default_rng([BASE_SEED, idx]), out)
        grads = lib.autograd.grad(_weighted(out, v, lib), leaves, create_graph=True,
                                  allow_unused=True)
        total = 0
        for g in grads:
            if g is not None and g.requires_grad:
                w = np.random.default_rng([BASE_SEED, 7]).standard_normal(tuple(g.shape))
                total = total + (g * lib.from_numpy(w)).sum()
        if isinstance(total, int):
            return None
        return lib.autograd.grad(total, leaves, allow_unused=True)

    t2 = second(torch, info.torch_fn)
    e2 = second(ember, info.ember_fn)
    # A gradient that does not depend on the inputs has second derivative zero, whether
    # the library records that as "no graph" (None) or as explicit zeros.
    if t2 is None or e2 is None:
        for name, res in (("torch", t2), ("Ember", e2)):
            if res is not None:
                assert all(g is None or np.allclose(to_numpy(g), 0) for g in res), \
                    f"{info.name}: {name} has a nonzero second derivative, the other none"
        return
    for k, (eg, tg) in enumerate(zip(e2, t2)):
        if tg is None:
            assert eg is None or np.allclose(to_numpy(eg), 0), f"{info.name} 2nd grad {k}"
            continue
        assert eg is not None, f"{info.name}: no second derivative for leaf {k}"
        np.testing.assert_allclose(to_numpy(eg), to_numpy(tg), atol=1e-6, rtol=1e-5,
                                   err_msg=f"{info.name} 2nd grad {k}")


# ---- the same samples on the cuda device (fixture ``cuda_device``: tests/conftest.py) ---------
def _assert_on(device, out, what):
    if isinstance(out, (tuple, list)):
        for o in out:
            _assert_on(device, o, what)
    elif isinstance(out, ember.Tensor):
        assert out.device == device, f"{what}: result on {out.device}, inputs on {device}"


@pytest.mark.parametrize("info,idx,sample", CASES, ids=IDS)
def test_values_on_cuda(cuda_device, info, idx, sample):
    t_args, t_kwargs = build(torch, sample, False)
    expected = info.torch_fn(*t_args, **t_kwargs)
    e_args, e_kwargs = build(ember, sample, False, cuda_device)
    got = info.ember_fn(*e_args, **e_kwargs)
    _assert_on(cuda_device, got, info.name)
    assert_close(got, expected, info.atol, info.rtol, info.name)


@pytest.mark.parametrize("info,idx,sample", GRAD_CASES, ids=GRAD_IDS)
def test_gradients_on_cuda(cuda_device, info, idx, sample):
    rng = np.random.default_rng([BASE_SEED, idx])
    t_args, t_kwargs = build(torch, sample, True)
    t_out = pick(info.torch_fn(*t_args, **t_kwargs), info.output_index)
    t_leaves = grad_leaves(t_args) + grad_leaves(list(t_kwargs.values()))
    v = cotangent(rng, t_out)
    t_grads = torch.autograd.grad(_weighted(t_out, v, torch), t_leaves, allow_unused=True)

    e_args, e_kwargs = build(ember, sample, True, cuda_device)
    e_out = pick(info.ember_fn(*e_args, **e_kwargs), info.output_index)
    e_leaves = grad_leaves(e_args) + grad_leaves(list(e_kwargs.values()))
    weight = ember.tensor(v, device=cuda_device)
    e_grads = ember.autograd.grad((e_out * weight).sum(), e_leaves, allow_unused=True)
    for k, (eg, tg) in enumerate(zip(e_grads, t_grads)):
        if tg is None:
            assert eg is None or np.all(to_numpy(eg) == 0), f"grad {k}: torch has none"
            continue
        assert eg is not None, f"grad {k}: Ember produced none"
        _assert_on(cuda_device, eg, f"{info.name} grad {k}")
        assert_close(eg, tg, info.grad_atol, info.grad_rtol, f"{info.name} grad {k}")
