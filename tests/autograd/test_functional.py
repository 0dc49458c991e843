"""autograd.functional against torch.autograd.functional: values, nesting, errors."""
import numpy as np
import pytest
import torch
import torch.autograd.functional as TF

import ember
from ember.autograd import functional as AF
from tests.autograd.test_func import E, T, assert_same

rng = np.random.default_rng(1)
X = rng.standard_normal(3)
Y = rng.standard_normal((2, 3))
V3 = rng.standard_normal(3)
V23 = rng.standard_normal((2, 3))


def run_both(fn, m_fn, inputs, *extra, **kw):
    """Run ``fn`` from both modules on the same (numpy) inputs; compare."""
    def conv(x, make):
        if isinstance(x, tuple):
            return tuple(conv(a, make) for a in x)
        return make(x) if isinstance(x, np.ndarray) else x
    er = getattr(AF, fn)(lambda *a: m_fn(ember, *a), conv(inputs, E),
                         *[conv(x, E) for x in extra], **kw)
    tr = getattr(TF, fn)(lambda *a: m_fn(torch, *a), conv(inputs, T),
                         *[conv(x, T) for x in extra], **kw)
    assert_same(er, tr)
    return er, tr


def f_vec(m, x):
    return m.sin(x) * x


def f_two_in_two_out(m, x, y):
    return (m.matmul(y, x), (x * x).sum() + y.sum())


def f_scalar(m, x):
    return (m.exp(x) * x.sum()).sum()


def f_scalar2(m, x, y):
    return (m.tanh(m.matmul(y, x)) * x.sum()).sum()


@pytest.mark.parametrize("create_graph", [False, True])
def test_jacobian_structures(create_graph):
    run_both("jacobian", f_vec, X, create_graph=create_graph)
    run_both("jacobian", f_two_in_two_out, (X, Y), create_graph=create_graph)
    run_both("jacobian", lambda m, x: (m.sin(x), x.sum()), X)            # tensor in, tuple out
    run_both("jacobian", lambda m, x, y: m.matmul(y, x), (X, Y))          # tuple in, tensor out
    run_both("jacobian", lambda m, x: m.exp(x), (X,))                     # 1-tuple in
    run_both("jacobian", f_vec, X, vectorize=True)
    run_both("jacobian", f_two_in_two_out, (X, Y), vectorize=True, strategy="forward-mode")


def test_jacobian_of_independent_output_is_zero_and_strict_errors():
    run_both("jacobian", lambda m, x, y: x * 2, (X, Y))
    with pytest.raises(RuntimeError, match="Output 0 of the user-provided function is independent "
                       "of input 1. This is not allowed in strict mode."):
        AF.jacobian(lambda x, y: x * 2, (E(X), E(Y)), strict=True)
    with pytest.raises(RuntimeError, match="Output 0 of the user-provided function does not "
                       "require gradients"):
        AF.jacobian(lambda x: x.detach(), E(X), strict=True)


def test_create_graph_controls_requires_grad():
    for mod, make in ((AF, E), (TF, T)):
        x = make(X)
        assert not mod.jacobian(lambda a: a * a, x).requires_grad
        assert mod.jacobian(lambda a: a * a, x, create_graph=True).requires_grad
        xr = make(X).requires_grad_()
        j = mod.jacobian(lambda a: a * a * a, xr, create_graph=True)
        j.sum().backward()
        if mod is AF:
            eg = xr.grad.numpy()
        else:
            np.testing.assert_allclose(eg, xr.grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize("create_graph", [False, True])
def test_hessian(create_graph):
    run_both("hessian", f_scalar, X, create_graph=create_graph)
    run_both("hessian", f_scalar2, (X, Y), create_graph=create_graph)
    run_both("hessian", f_scalar, X, vectorize=True, outer_jacobian_strategy="forward-mode")
    run_both("hessian", f_scalar2, (X, Y), vectorize=True, outer_jacobian_strategy="forward-mode")
    run_both("hessian", lambda m, x: x.sum(), X, vectorize=True,
             outer_jacobian_strategy="forward-mode")


@pytest.mark.parametrize("create_graph", [False, True])
def test_vjp_jvp_hvp_vhp(create_graph):
    kw = {"create_graph": create_graph}
    run_both("vjp", f_vec, X, V3, **kw)
    run_both("vjp", f_two_in_two_out, (X, Y), (rng.standard_normal(2), np.array(0.7)), **kw)
    run_both("vjp", f_scalar, X, **kw)                       # v=None for a scalar output
    run_both("jvp", f_vec, X, V3, **kw)
    run_both("jvp", f_two_in_two_out, (X, Y), (V3, V23), **kw)
    run_both("jvp", lambda m, x: x.sum() * 3, np.array(2.0), **kw)  # v=None for a 1-element input
    run_both("hvp", f_scalar, X, V3, **kw)
    run_both("hvp", f_scalar2, (X, Y), (V3, V23), **kw)
    run_both("vhp", f_scalar, X, V3, **kw)
    run_both("vhp", f_scalar2, (X, Y), (V3, V23), **kw)


def _same_error(call_e, call_t):
    with pytest.raises(Exception) as t_err:
        call_t()
    with pytest.raises(type(t_err.value)) as e_err:
        call_e()
    assert str(e_err.value) == str(t_err.value)


ERRORS = [
    ("vjp_v_none", lambda M, mk: M.vjp(lambda a: a * 2, mk(X))),
    ("vjp_bad_size", lambda M, mk: M.vjp(lambda a: a * 2, mk(X), mk(V23))),
    ("jvp_bad_size", lambda M, mk: M.jvp(lambda a: a * 2, mk(X), mk(V23))),
    ("jvp_bad_len", lambda M, mk: M.jvp(lambda a, b: a * 2, (mk(X), mk(X)), (mk(X),))),
    ("jvp_v_none", lambda M, mk: M.jvp(lambda a: a * 2, mk(X))),
    ("hvp_not_scalar", lambda M, mk: M.hvp(lambda a: a * 2, mk(X), mk(X))),
    ("hessian_not_scalar", lambda M, mk: M.hessian(lambda a: a * 2, mk(X))),
    ("jacobian_int_out", lambda M, mk: M.jacobian(lambda a: 3, mk(X))),
    ("jacobian_int_in", lambda M, mk: M.jacobian(lambda a: a, 3)),
    ("jacobian_nested_in", lambda M, mk: M.jacobian(lambda a, b: a, (mk(X), (mk(X),)))),
    ("vjp_list_out", lambda M, mk: M.vjp(lambda a: [a], mk(X), mk(X))),
    ("jvp_list_v", lambda M, mk: M.jvp(lambda a: a, mk(X), [mk(X)])),
    ("vjp_strict_const", lambda M, mk: M.vjp(lambda a: a.detach() * 0 + 1, mk(X), mk(X),
                                             strict=True)),
    ("vjp_strict_unused", lambda M, mk: M.vjp(lambda a, b: a * 2, (mk(X), mk(X)), mk(X),
                                              strict=True)),
    ("vjp_strict_linear_cg", lambda M, mk: M.vjp(lambda a: a * 2, mk(X), mk(X), strict=True,
                                                 create_graph=True)),
    ("jvp_strict_unused", lambda M, mk: M.jvp(lambda a, b: a * 2, (mk(X), mk(X)),
                                              (mk(X), mk(X)), strict=True)),
    ("hessian_strict_linear", lambda M, mk: M.hessian(lambda a: (a * 2).sum(), mk(X),
                                                      strict=True)),
    ("vhp_strict_unused", lambda M, mk: M.vhp(lambda a, b: (a * a).sum(), (mk(X), mk(X)),
                                              (mk(X), mk(X)), strict=True)),
    ("hvp_strict_linear", lambda M, mk: M.hvp(lambda a: (a * 2).sum(), mk(X), mk(X),
                                              strict=True)),
    ("jacobian_bad_strategy", lambda M, mk: M.jacobian(lambda a: a, mk(X), strategy="x")),
    ("jacobian_forward_no_vectorize", lambda M, mk: M.jacobian(lambda a: a, mk(X),
                                                               strategy="forward-mode")),
    ("jacobian_forward_create_graph", lambda M, mk: M.jacobian(
        lambda a: a, mk(X), vectorize=True, strategy="forward-mode", create_graph=True)),
    ("jacobian_forward_strict", lambda M, mk: M.jacobian(
        lambda a: a, mk(X), vectorize=True, strategy="forward-mode", strict=True)),
    ("jacobian_vectorize_strict", lambda M, mk: M.jacobian(lambda a: a, mk(X), vectorize=True,
                                                           strict=True)),
]


@pytest.mark.parametrize("name,call", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_match_torch(name, call):
    _same_error(lambda: call(AF, E), lambda: call(TF, T))


def test_inputs_are_not_modified_and_outputs_detached():
    x = E(X)
    out, g = AF.vjp(lambda a: a * a, x, E(V3))
    assert not out.requires_grad and not g.requires_grad and not x.requires_grad
    out, g = AF.vjp(lambda a: a * a, x, E(V3), create_graph=True)
    assert out.requires_grad and g.requires_grad
