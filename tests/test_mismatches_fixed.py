"""Behaviours once found to differ from torch 2.13, each compared with torch."""
import numpy as np
import pytest
import torch

import ember
from tests._compare import same, same_error


def _complex(lib, dtype="complex64"):
    return lib.tensor([[1 + 2j, 3 - 1j, 0.5j], [2 + 0j, -1 + 1j, 1 - 1j]],
                      dtype=getattr(lib, dtype))


# ---- sorting and scans refuse complex inputs as torch ------------------------------------
@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize("call", [
    lambda L, c: L.sort(c), lambda L, c: L.sort(c, descending=True, stable=True),
    lambda L, c: L.argsort(c), lambda L, c: L.msort(c), lambda L, c: c.sort(0),
    lambda L, c: L.topk(c, 1), lambda L, c: L.median(c), lambda L, c: L.median(c, 1),
    lambda L, c: L.nanmedian(c), lambda L, c: L.nanmedian(c, 0), lambda L, c: L.kthvalue(c, 1),
    lambda L, c: L.mode(c), lambda L, c: L.unique(c), lambda L, c: L.unique(c, sorted=False),
    lambda L, c: L.unique(c, dim=0), lambda L, c: L.unique_consecutive(c),
    lambda L, c: L.unique_consecutive(c, dim=1), lambda L, c: L.cummax(c, 0),
    lambda L, c: L.cummin(c, 1), lambda L, c: c.cummax(1),
])
def test_selection_of_complex_raises_as_torch(call, dtype):
    same_error(lambda L: call(L, _complex(L, dtype)))


def test_zero_dim_complex_selection_works_as_torch():
    for call in (lambda L, c: L.kthvalue(c, 1), lambda L, c: L.cummax(c, 0),
                 lambda L, c: L.mode(c)):
        same(lambda L: call(L, L.tensor(1 + 2j)))
    same_error(lambda L: L.sort(L.tensor(1 + 2j)))


def test_complex_logcumsumexp_matches_torch():
    def run(L):
        x = L.tensor([[1 + 2j, 3 - 1j, -2 + 0.3j], [0.5j, 2, 1000 + 1j]], dtype=L.complex128,
                     requires_grad=True)
        y = L.logcumsumexp(x, 1)
        y.abs().sum().backward()
        wide = L.logcumsumexp(L.tensor([1 + 2j, -1000 + 3j, 1000 + 1j, float("-inf")]), 0)
        return y.detach(), x.grad, wide, type(y.grad_fn).__name__
    t, e = run(torch), run(ember)
    for a, b in zip(t[:3], e[:3]):
        np.testing.assert_allclose(np.array(b.tolist()), np.array(a.tolist()), rtol=1e-6,
                                   atol=1e-9)
        assert str(a.dtype) == str(b.dtype)
    assert t[3] == e[3]
    same(lambda L: L.logcumsumexp(_complex(L), 0).dtype)


# ---- einsum keeps half precision --------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_einsum_half_precision_keeps_dtype(dtype):
    def run(L):
        a = L.tensor(np.linspace(-2, 2, 24).reshape(2, 3, 4).tolist(), dtype=getattr(L, dtype),
                     requires_grad=True)
        b = L.tensor(np.linspace(1, 3, 20).reshape(4, 5).tolist(), dtype=getattr(L, dtype))
        y = L.einsum("bij,jk->bik", a, b)
        y.sum().backward()
        return y, a.grad
    t, e = run(torch), run(ember)
    for x, y in zip(t, e):
        assert str(x.dtype) == str(y.dtype)
        np.testing.assert_allclose(np.array(y.float().tolist()), np.array(x.float().tolist()),
                                   rtol=1e-2)
    same(lambda L: L.einsum("ij,jk", L.ones(2, 3, dtype=L.bfloat16), L.ones(3, 2, dtype=L.bfloat16)))


# ---- arange/range refuse complex dtypes and complex bounds ----------------------------------------
@pytest.mark.parametrize("call", [
    lambda L: L.arange(5, dtype=L.complex64), lambda L: L.arange(0, 5, 1, dtype=L.complex128),
    lambda L: L.arange(5, 0, dtype=L.complex64), lambda L: L.arange(1j),
    lambda L: L.arange(0, 5, 1 + 1j), lambda L: L.arange(1j, dtype=L.complex64),
    lambda L: L.arange(L.tensor(1j)),
])
def test_arange_complex_raises_as_torch(call):
    same_error(call)


def test_arange_real_complex_bound_as_torch():
    same(lambda L: L.arange(1 + 0j))
    same(lambda L: L.arange(0, 3 + 0j, 0.5))


@pytest.mark.filterwarnings("ignore:torch.range is deprecated")
def test_range_complex_raises_as_torch():
    same_error(lambda L: L.range(0, 3, dtype=L.complex64))
    same_error(lambda L: L.range(0, 1j))


# ---- unary special functions pick their SciPy module from the array ----------------------------
def test_unary_special_functions_choose_module_per_array(monkeypatch):
    from ember import _device
    from ember._ops import unary
    seen = []

    def recording_sp(a):
        seen.append(type(a))
        return _device.special_module(a)
    monkeypatch.setattr(unary, "special_module", recording_sp)
    x = ember.tensor([0.5, 1.5, 2.5])
    for fn in (ember.erf, ember.erfc, ember.erfinv, ember.lgamma, ember.digamma,
               lambda t: ember.polygamma(2, t)):
        fn(x * 0.5)
    assert seen and all(t is np.ndarray for t in seen), seen
    same(lambda L: (L.lgamma(L.tensor([0.5, 2.5])), L.polygamma(2, L.tensor([0.5, 2.5])),
                    L.erfinv(L.tensor([0.25, -0.5]))))


# ---- MultiheadAttention(batch_first=True) keeps the packed self-attention projection -------------
@pytest.mark.parametrize("batch_first, shape", [(True, (2, 5, 8)), (False, (5, 2, 8)),
                                                (True, (5, 8))])
def test_mha_self_attention_uses_one_packed_projection(monkeypatch, batch_first, shape):
    from ember.nn._functional import attention
    weights_seen = []
    real_linear = attention.linear

    def recording_linear(x, w, b=None):
        weights_seen.append(tuple(w.shape))
        return real_linear(x, w, b)
    monkeypatch.setattr(attention, "linear", recording_linear)
    torch.manual_seed(0)
    tm = torch.nn.MultiheadAttention(8, 2, batch_first=batch_first)
    em = ember.nn.MultiheadAttention(8, 2, batch_first=batch_first)
    em.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    t_out, t_w = tm(*(torch.tensor(x),) * 3)
    xe = ember.tensor(x)
    e_out, e_w = em(xe, xe, xe)
    assert (24, 8) in weights_seen and (8, 8) not in weights_seen[:1], weights_seen
    np.testing.assert_allclose(e_out.detach().numpy(), t_out.detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(e_w.detach().numpy(), t_w.detach().numpy(), atol=1e-5)
    # Distinct key/value still project separately and agree with torch.
    y = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    t_out2, _ = tm(torch.tensor(x), torch.tensor(y), torch.tensor(y))
    e_out2, _ = em(xe, ember.tensor(y), ember.tensor(y))
    np.testing.assert_allclose(e_out2.detach().numpy(), t_out2.detach().numpy(), atol=1e-5)


# ---- scatter: reduce names and the index-size message ------------------------------------------
def _z(L, *shape):
    return L.zeros(*shape, dtype=L.long)


@pytest.mark.parametrize("call", [
    lambda L: L.zeros(3, 5).scatter(0, _z(L, 1, 9), L.ones(1, 4)),
    lambda L: L.zeros(3, 5).scatter(0, _z(L, 1, 6), L.ones(1, 7)),
    lambda L: L.zeros(3, 5).scatter(1, _z(L, 4, 2), L.ones(5, 7)),
    lambda L: L.zeros(3, 5).scatter(0, _z(L, 1, 6), 1.0),
    lambda L: L.zeros(3, 5).scatter_(0, _z(L, 1, 2), L.ones(1, 1)),
    lambda L: L.zeros(3, 5).scatter_add(0, _z(L, 2, 2), L.ones(1, 5)),
    lambda L: L.zeros(3, 5).scatter_reduce(0, _z(L, 1, 9), L.ones(1, 4), "sum"),
    lambda L: L.zeros(3, 5).scatter_reduce_(0, _z(L, 1, 6), L.ones(1, 4), "amax"),
    lambda L: L.zeros(2, 3, 4).scatter(2, _z(L, 2, 3, 5), L.ones(2, 2, 5)),
    lambda L: L.zeros(3, 5).gather(0, _z(L, 1, 6)),
    lambda L: L.zeros(3, 5).scatter_reduce(0, _z(L, 1, 2), L.ones(1, 2), "add"),
])
def test_scatter_size_and_reduce_errors_as_torch(call):
    same_error(call)


@pytest.mark.parametrize("reduce", ["max", "min"])
def test_scatter_reduce_accepts_max_min_forward_only_as_torch(reduce):
    def run(L):
        a = L.tensor([1., 5, 2], requires_grad=True)
        s = L.tensor([3., 4], requires_grad=True)
        y = a.scatter_reduce(0, L.tensor([0, 1]), s, reduce)
        z = L.zeros(3).scatter_reduce_(0, L.tensor([0, 2]), L.tensor([-1., 2]), reduce,
                                       include_self=False)
        try:
            L.autograd.grad(y.sum(), (a, s))
            err = None
        except RuntimeError as e:
            err = str(e)
        return y.detach(), z, type(y.grad_fn).__name__, err
    t = same(run)
    assert t[1][1][3] is not None


# ---- addcmul/addcdiv are one op each: one rounding in half precision ----------------------------
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_addcmul_addcdiv_half_round_once_as_torch(dtype):
    def run(L):
        x = L.tensor([1.1, 2.3, 3.7, -0.4], dtype=getattr(L, dtype))
        return (L.addcmul(x, x, x, value=0.3), L.addcdiv(x, x, x + 1, value=0.3),
                x.clone().addcmul_(x, x, value=-1.7))
    same(run)


def test_addcmul_integer_value_as_torch():
    same(lambda L: L.addcmul(L.tensor([1, 2, 3]), L.tensor([1, 2, 3]), L.tensor([4, 5, 6]),
                             value=0.5))
    same(lambda L: L.addcmul(L.tensor([1, 2, 3]), L.tensor([1., 2, 3]), L.tensor([4, 5, 6]),
                             value=0.5))


# ---- half precision with out-of-range Python scalars ---------------------------------------------
@pytest.mark.parametrize("dtype, big", [("float16", 70000.0), ("float16", 65505.0),
                                        ("float16", -70000), ("bfloat16", 1e39)])
@pytest.mark.parametrize("call", [
    lambda L, h, v: L.pow(h, v), lambda L, h, v: L.clamp(h, min=-abs(v)),
    lambda L, h, v: L.clamp(h, max=v), lambda L, h, v: L.clamp_min(h, v),
    lambda L, h, v: L.sub(h, h, alpha=v), lambda L, h, v: h.add(h, alpha=v),
])
def test_half_scalar_overflow_raises_as_torch(call, dtype, big):
    same_error(lambda L: call(L, L.ones(3, dtype=getattr(L, dtype)), big))


@pytest.mark.parametrize("dtype, big", [("float16", 70000.0), ("float16", 65519.0),
                                        ("float16", 70000), ("bfloat16", 1e39),
                                        ("float16", float("inf"))])
@pytest.mark.parametrize("call", [
    lambda L, h, v: h + v, lambda L, h, v: h - v, lambda L, h, v: h * v, lambda L, h, v: h / v,
    lambda L, h, v: v - h, lambda L, h, v: v / h, lambda L, h, v: L.fmod(h, v),
    lambda L, h, v: h.clone().add_(v), lambda L, h, v: L.clamp(h, max=v) if v in
    (float("inf"), 65504.0) else h, lambda L, h, v: L.add(h, h, alpha=65504.0),
])
def test_half_scalar_overflow_gives_inf_where_torch_does(call, dtype, big):
    same(lambda L: call(L, L.tensor([1.0, -2.0, 0.5], dtype=getattr(L, dtype)), big))


@pytest.mark.parametrize("args", [((), ()), ([], [])])
def test_roll_without_shifts_raises_like_torch(args):
    msgs = []
    for lib in (torch, ember):
        with pytest.raises(RuntimeError) as e:
            lib.roll(lib.ones(3), *args)
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]
