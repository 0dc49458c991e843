"""Lazy modules and uninitialized parameters against torch: reprs before and after the first
call, inferred shapes, class switching, state dicts, outputs with copied weights, errors."""
import copy

import numpy as np
import pytest
import torch

import ember
from ember import nn


CASES = [
    # (name, ctor args, ctor kwargs, input shape)
    ("LazyLinear", (3,), {}, (2, 5)),
    ("LazyLinear", (4,), {"bias": False}, (2, 3, 6)),
    ("LazyConv1d", (4, 3), {"padding": 1}, (2, 3, 7)),
    ("LazyConv2d", (4, 3), {"stride": 2}, (2, 3, 7, 7)),
    ("LazyConv2d", (4, 3), {"bias": False, "groups": 2}, (2, 6, 5, 5)),
    ("LazyConv2d", (4, 3), {}, (3, 5, 5)),  # unbatched
    ("LazyConv3d", (2, 2), {}, (1, 3, 4, 4, 4)),
    ("LazyConvTranspose1d", (4, 3), {}, (2, 3, 5)),
    ("LazyConvTranspose2d", (4, 3), {"stride": 2, "output_padding": 1}, (2, 3, 4, 4)),
    ("LazyBatchNorm1d", (), {}, (4, 3)),
    ("LazyBatchNorm2d", (), {}, (4, 3, 2, 2)),
    ("LazyBatchNorm2d", (), {"affine": False}, (4, 3, 2, 2)),
    ("LazyBatchNorm3d", (), {"track_running_stats": False}, (2, 3, 2, 2, 2)),
    ("LazyInstanceNorm1d", (), {}, (2, 3, 5)),
    ("LazyInstanceNorm2d", (), {"affine": True}, (2, 3, 4, 4)),
]


@pytest.mark.parametrize("name,args,kwargs,shape", CASES)
def test_lazy_module_matches_torch(name, args, kwargs, shape):
    em = getattr(nn, name)(*args, **kwargs)
    tm = getattr(torch.nn, name)(*args, **kwargs)
    assert repr(em) == repr(tm)
    assert em.has_uninitialized_params()
    assert list(em.state_dict()) == list(tm.state_dict())
    assert [repr(v) for v in em.state_dict().values()] == \
        [repr(v) for v in tm.state_dict().values()]

    xn = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    eout = em(ember.tensor(xn))
    tout = tm(torch.tensor(xn))
    assert type(em).__name__ == type(tm).__name__ == name[4:]
    assert type(em) is getattr(nn, name[4:])
    assert repr(em) == repr(tm)
    assert not any(nn.parameter.is_lazy(t) for t in em.state_dict(keep_vars=True).values())
    for (kn, ev), (tn, tv) in zip(em.state_dict().items(), tm.state_dict().items()):
        assert kn == tn and tuple(ev.shape) == tuple(tv.shape) and str(ev.dtype) == str(tv.dtype)
    for p in em.parameters():
        assert type(p) is nn.Parameter and p.requires_grad

    # Same weights -> same outputs, and the module keeps working as the regular class.
    em.load_state_dict({k: ember.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    xn2 = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    np.testing.assert_allclose(em(ember.tensor(xn2)).detach().numpy(),
                               tm(torch.tensor(xn2)).detach().numpy(), rtol=1e-4, atol=1e-5)
    assert tuple(eout.shape) == tuple(tout.shape)


def test_materialized_params_are_trainable_and_initialised():
    ember.manual_seed(0)
    m = nn.LazyLinear(3)
    y = m(ember.randn(4, 7))
    y.sum().backward()
    assert m.weight.grad.shape == (3, 7)
    bound = 1 / np.sqrt(7)
    w = m.weight.detach().numpy()
    assert np.all(np.abs(w) <= bound) and w.std() > 0
    np.testing.assert_allclose(m.bias.grad.numpy(), np.full(3, 4.0))
    # A second call does not re-infer.
    with pytest.raises(RuntimeError):
        m(ember.randn(4, 5))


def test_uninitialized_parameter_and_buffer():
    p = nn.UninitializedParameter()
    tp = torch.nn.UninitializedParameter()
    assert repr(p) == repr(tp) == "<UninitializedParameter>"
    assert p.requires_grad is tp.requires_grad is True
    assert isinstance(p, nn.Parameter) and isinstance(p, ember.Tensor)
    b = nn.UninitializedBuffer()
    assert repr(b) == repr(torch.nn.UninitializedBuffer())
    assert not b.requires_grad
    assert nn.parameter.is_lazy(p) and nn.parameter.is_lazy(b)
    assert not nn.parameter.is_lazy(nn.Parameter(ember.zeros(2)))
    assert str(nn.UninitializedParameter(dtype=ember.float64).dtype) == \
        str(torch.nn.UninitializedParameter(dtype=torch.float64).dtype)

    p.materialize((2, 3))
    tp.materialize((2, 3))
    assert type(p) is nn.Parameter and type(tp) is torch.nn.Parameter
    assert tuple(p.shape) == tuple(tp.shape) == (2, 3) and p.requires_grad
    b.materialize(4)
    assert type(b) is ember.Tensor and tuple(b.shape) == (4,)


def test_errors_match_torch():
    ew, tw = nn.LazyLinear(3).weight, torch.nn.LazyLinear(3).weight
    with pytest.raises(RuntimeError) as te:
        _ = tw.shape
    with pytest.raises(RuntimeError) as ee:
        _ = ew.shape
    assert str(ee.value) == str(te.value)
    with pytest.raises(ValueError) as te:
        tw + 1
    with pytest.raises(ValueError) as ee:
        ew + 1
    assert str(ee.value).startswith("Attempted to use an uninitialized parameter in ")
    assert str(ee.value).split(". ", 1)[1] == str(te.value).split(". ", 1)[1]

    with pytest.raises(RuntimeError) as te:
        torch.nn.LazyConv2d(4, 3)(torch.randn(2, 2))
    with pytest.raises(RuntimeError) as ee:
        nn.LazyConv2d(4, 3)(ember.randn(2, 2))
    assert str(ee.value) == str(te.value)


def test_load_state_dict_materialises_without_switching_class():
    em, tm = nn.LazyLinear(3), torch.nn.LazyLinear(3)
    sd = torch.nn.Linear(5, 3).state_dict()
    tm.load_state_dict(sd)
    em.load_state_dict({k: ember.tensor(v.numpy()) for k, v in sd.items()})
    assert type(em).__name__ == type(tm).__name__ == "LazyLinear"
    assert tuple(em.weight.shape) == tuple(tm.weight.shape) == (3, 5)
    np.testing.assert_array_equal(em.weight.detach().numpy(), sd["weight"].numpy())
    x = np.ones((2, 5), np.float32)
    np.testing.assert_allclose(em(ember.tensor(x)).detach().numpy(),
                               tm(torch.tensor(x)).detach().numpy(), rtol=1e-5)


def test_deepcopy_of_lazy_module_stays_lazy():
    m = copy.deepcopy(nn.LazyLinear(2))
    assert repr(m) == repr(copy.deepcopy(torch.nn.LazyLinear(2)))
    assert m.has_uninitialized_params()
    m(ember.randn(1, 4))
    assert type(m) is nn.Linear and tuple(m.weight.shape) == (2, 4)


def test_lazy_in_sequential():
    ember.manual_seed(0)
    model = nn.Sequential(nn.LazyConv2d(4, 3), nn.LazyBatchNorm2d(), nn.ReLU(), nn.Flatten(),
                          nn.LazyLinear(5))
    out = model(ember.randn(2, 3, 6, 6))
    assert tuple(out.shape) == (2, 5)
    assert [type(m).__name__ for m in model] == ["Conv2d", "BatchNorm2d", "ReLU", "Flatten",
                                                 "Linear"]
    assert tuple(model[4].weight.shape) == (5, 64)
    assert sum(p.numel() for p in model.parameters()) == 4 * 27 + 4 + 8 + 5 * 64 + 5


def test_dtype_conversion_before_first_forward_matches_torch():
    import torch as _torch
    import ember as _ember
    seen = {}
    for lib in (_torch, _ember):
        m = lib.nn.LazyLinear(3).double()
        y = m(lib.ones(2, 4, dtype=lib.float64))
        b = lib.nn.LazyBatchNorm2d().to(lib.float64)
        z = b(lib.ones(2, 3, 2, 2, dtype=lib.float64))
        seen[lib] = (str(y.dtype), str(m.weight.dtype), type(m).__name__, str(z.dtype),
                     str(b.running_mean.dtype), tuple(m.weight.shape))
    assert seen[_ember] == seen[_torch]
