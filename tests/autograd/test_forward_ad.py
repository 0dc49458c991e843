"""autograd.forward_ad (dual tensors) against torch.autograd.forward_ad."""
import numpy as np
import pytest
import torch
import torch.autograd.forward_ad as tfw

import ember
from ember.autograd import forward_ad as efw

rng = np.random.default_rng(2)
A = rng.standard_normal((2, 3))
TA = rng.standard_normal((2, 3))
M = rng.standard_normal((3, 4))
TM = rng.standard_normal((3, 4))

OPS = [
    # pointwise
    ("sin_mul", lambda m, x: m.sin(x) * x),
    ("exp_tanh_div", lambda m, x: m.exp(x) / (m.tanh(x) + 2)),
    ("pow_sqrt_abs", lambda m, x: m.sqrt(x.abs() + 1) ** 3),
    ("sigmoid_relu", lambda m, x: m.sigmoid(x) + m.relu(x)),
    ("maximum_where", lambda m, x: m.where(x > 0, x * 2, m.maximum(x, x * x))),
    # reductions
    ("sum", lambda m, x: x.sum()),
    ("sum_dim_keepdim", lambda m, x: x.sum(1, keepdim=True)),
    ("mean_dim", lambda m, x: x.mean(0)),
    ("max_dim", lambda m, x: x.max(1)[0]),
    ("norm", lambda m, x: x.norm()),
    # shape
    ("transpose_reshape", lambda m, x: x.t().reshape(6)),
    ("unsqueeze_expand", lambda m, x: x.unsqueeze(0).expand(2, 2, 3) * 1.5),
    ("permute_flatten", lambda m, x: x.reshape(1, 2, 3).permute(2, 0, 1).flatten()),
    # indexing
    ("slice", lambda m, x: x[:, 1:]),
    ("select_int", lambda m, x: x[1]),
    ("advanced", lambda m, x: x[[0, 1, 1], [2, 0, 2]]),
    ("bool_mask", lambda m, x: x[x > 0]),
]


def _forward(mod, fw, fn, primal, tangent):
    with fw.dual_level():
        dual = fw.make_dual(primal, tangent)
        out = fn(mod, dual)
        p, t = fw.unpack_dual(out)
        return p.detach().numpy(), None if t is None else t.detach().numpy()


@pytest.mark.parametrize("name,fn", OPS, ids=[o[0] for o in OPS])
def test_tangents_match_torch(name, fn):
    ep, et = _forward(ember, efw, fn, ember.tensor(A), ember.tensor(TA))
    tp, tt = _forward(torch, tfw, fn, torch.tensor(A), torch.tensor(TA))
    np.testing.assert_allclose(ep, tp, rtol=1e-12, atol=1e-12)
    assert et.shape == tt.shape
    np.testing.assert_allclose(et, tt, rtol=1e-10, atol=1e-12)


def test_matmul_with_two_duals():
    def run(mod, fw):
        with fw.dual_level():
            x = fw.make_dual(mod.tensor(A), mod.tensor(TA))
            w = fw.make_dual(mod.tensor(M), mod.tensor(TM))
            out = mod.tanh(mod.matmul(x, w)).sum(0)
            return fw.unpack_dual(out).tangent.numpy()
    np.testing.assert_allclose(run(ember, efw), run(torch, tfw), rtol=1e-10)


def test_unpack_of_dual_and_of_plain_tensor():
    x = ember.tensor(A)
    t = ember.tensor(TA)
    with efw.dual_level() as level:
        assert level == 0
        d = efw.make_dual(x, t)
        u = efw.unpack_dual(d)
        assert isinstance(u, efw.UnpackedDualTensor) and u._fields == ("primal", "tangent")
        assert u.tangent is t
        np.testing.assert_array_equal(u.primal.numpy(), A)
        assert efw.unpack_dual(x).tangent is None
        assert efw.unpack_dual(ember.tensor(M) * 2).tangent is None   # no dual involved
        assert efw.unpack_dual(d.argmax()).tangent is None            # integer result
        assert efw.unpack_dual(d > 0).tangent is None
        const = d * 0 + ember.tensor(A)            # depends on d with a zero derivative
        np.testing.assert_array_equal(efw.unpack_dual(const).tangent.numpy(), np.zeros((2, 3)))
        assert not efw.unpack_dual(d * 2).primal.requires_grad
    assert efw.unpack_dual(d * 2).tangent is None   # the level is gone


def test_primal_that_requires_grad_keeps_its_graph():
    x = ember.tensor(A).requires_grad_()
    with efw.dual_level():
        d = efw.make_dual(x, ember.tensor(TA))
        p, t = efw.unpack_dual((d * d).sum())
        p.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * A)
    np.testing.assert_allclose(t.numpy(), (2 * A * TA).sum())


def test_tangent_that_requires_grad_is_differentiable():
    # reverse-over-forward: d/dv of the jvp of sin at x in direction v is cos(x)
    v = ember.tensor(TA).requires_grad_()
    with efw.dual_level():
        t = efw.unpack_dual(ember.sin(efw.make_dual(ember.tensor(A), v))).tangent
    t.sum().backward()
    np.testing.assert_allclose(v.grad.numpy(), np.cos(A), rtol=1e-12)


ERRORS = [
    ("no_level", lambda mod, fw: fw.make_dual(mod.tensor(A), mod.tensor(TA)), False),
    ("size", lambda mod, fw: fw.make_dual(mod.tensor(A), mod.tensor(M)), True),
    ("int_primal", lambda mod, fw: fw.make_dual(mod.tensor([1, 2]), mod.tensor([1.0, 2.0])), True),
    ("nested", lambda mod, fw: fw.dual_level().__enter__(), True),
]


@pytest.mark.parametrize("name,call,in_level", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_match_torch(name, call, in_level):
    def run(mod, fw):
        if not in_level:
            return call(mod, fw)
        with fw.dual_level():
            return call(mod, fw)
    with pytest.raises(Exception) as t_err:
        run(torch, tfw)
    with pytest.raises(type(t_err.value)) as e_err:
        run(ember, efw)
    assert str(e_err.value) == str(t_err.value)
