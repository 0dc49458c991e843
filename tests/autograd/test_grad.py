"""autograd.grad and autograd.backward semantics, compared with torch."""
import numpy as np
import pytest
import torch

import ember
from tests.autograd.test_hooks import assert_same


def test_grad_basic_and_does_not_touch_dot_grad():
    def run(T):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        y = T.tensor([3.0, 4.0], requires_grad=True)
        z = (x * y + x.exp()).sum()
        gx, gy = T.autograd.grad(z, (x, y))
        return [gx, gy, x.grad is None, y.grad is None]
    assert_same(run)


def test_grad_single_tensor_input_returns_tuple():
    for T in (torch, ember):
        x = T.tensor([1.0], requires_grad=True)
        r = T.autograd.grad((x * 2).sum(), x)
        assert isinstance(r, tuple) and len(r) == 1 and r[0].tolist() == [2.0]


def test_grad_allow_unused_and_materialize():
    def run(T):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        u = T.tensor([5.0], requires_grad=True)
        z = (x * 2).sum()
        a = T.autograd.grad(z, (x, u), allow_unused=True, retain_graph=True)
        b = T.autograd.grad(z, (x, u), materialize_grads=True)
        return [a[0], a[1] is None, b[0], b[1]]
    assert_same(run)
    for T in (torch, ember):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        u = T.tensor([5.0], requires_grad=True)
        with pytest.raises(RuntimeError, match=r"^The differentiated Tensor at index 1 appears to "
                                               "not have been used in the graph. Set "
                                               r"allow_unused=True if this is the desired "
                                               r"behavior.$"):
            T.autograd.grad((x * 2).sum(), (x, u))


def test_grad_retain_graph_defaults_to_create_graph():
    for T in (torch, ember):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        z = (x.exp() * x).sum()
        (g,) = T.autograd.grad(z, x, create_graph=True)
        T.autograd.grad(z, x)                      # graph was retained
        with pytest.raises(RuntimeError, match="Trying to backward through the graph a second"):
            T.autograd.grad(z, x)


def test_grad_create_graph_higher_order():
    def run(T):
        x = T.tensor([0.5, 1.5], requires_grad=True)
        y = (x ** 3 + x.sin()).sum()
        (g1,) = T.autograd.grad(y, x, create_graph=True)
        (g2,) = T.autograd.grad(g1.sum(), x, create_graph=True)
        (g3,) = T.autograd.grad(g2.sum(), x)
        return [g1, g2, g3]
    assert_same(run)


def test_grad_with_grad_outputs_and_non_leaf_inputs():
    def run(T):
        x = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
        h = x * 2
        y = h.exp()
        v = T.tensor([1.0, 0.5, -1.0])
        gh, gx = T.autograd.grad(y, (h, x), grad_outputs=v)
        return [gh, gx]
    assert_same(run)


def test_grad_multiple_outputs():
    def run(T):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        a = (x * 3).sum()
        b = (x * x).sum()
        return list(T.autograd.grad([a, b], x))
    assert_same(run)


def test_grad_errors():
    for T in (torch, ember):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="One of the differentiated Tensors does not "
                                               "require grad"):
            T.autograd.grad((x * 2).sum(), T.ones(2))
        with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar "
                                               "outputs"):
            T.autograd.grad(x * 2, x)


def test_autograd_backward_function():
    def run(T):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        a = x * 3
        b = x.exp()
        T.autograd.backward([a, b], [T.ones(2), T.tensor([1.0, 2.0])])
        return x.grad
    assert_same(run)


def test_backward_create_graph_makes_grad_out_of_place():
    def run(T):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        (x ** 2).sum().backward(create_graph=True)
        g1 = x.grad
        (x ** 3).sum().backward(create_graph=True)
        g2 = x.grad
        return [g1, g2, g1 is g2, g2.requires_grad, type(g2.grad_fn).__name__]
    assert_same(run)


def test_backward_accumulates_in_place_without_create_graph():
    for T in (torch, ember):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        (x * 2).sum().backward()
        g = x.grad
        (x * 3).sum().backward()
        assert x.grad is g
        np.testing.assert_allclose(np.asarray(g), [5, 5])


def test_shared_subgraph_gradients_sum():
    def run(T):
        x = T.tensor([1.0, -2.0], requires_grad=True)
        h = x.exp()
        y = (h * h + h.sin() + h).sum()
        y.backward()
        return x.grad
    assert_same(run)


def test_backward_through_multi_output_node_with_one_output_used():
    def run(T):
        x = T.tensor([[1.0, 5.0], [3.0, 2.0]], requires_grad=True)
        vals, idx = x.max(1)
        (vals * 2).sum().backward()
        return x.grad
    assert_same(run)


ERROR_CASES = [
    "T.autograd.backward([(x * 2).sum(), (x * 3).sum()], [T.tensor(1.0)])",
    "T.autograd.grad([(x * 2).sum(), (x * 3).sum()], x, [T.tensor(1.0)])",
    "T.autograd.grad((x * 2).sum(), [])",
    "T.autograd.grad((x * 2).sum(), x, grad_outputs=T.ones(2))",
    "T.autograd.grad((x * 2).sum(), x, allow_unused=False, materialize_grads=True)",
    "T.autograd.grad(x.sum(), x, is_grads_batched=True)",
    "T.autograd.backward((x * 2).sum(), inputs=T.ones(3))",
    "(x * 2).sum().backward(T.ones(2))",
    "T.ones(3).retain_grad()",
]


@pytest.mark.parametrize("expr", ERROR_CASES)
def test_errors_match_torch(expr):
    errs = []
    for T in (torch, ember):
        x = T.ones(3, requires_grad=True)  # noqa: F841  (used by expr)
        with pytest.raises(Exception) as e:
            eval(expr)
        errs.append((type(e.value), str(e.value)))
    assert errs[1] == errs[0]


def test_grad_is_grads_batched():
    def run(T):
        x = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
        u = T.ones(2, requires_grad=True)
        y = x * x
        gx, gu = T.autograd.grad(y, (x, u), T.eye(3), is_grads_batched=True, allow_unused=True)
        (jac,) = T.autograd.grad(x.exp() * x, x, T.eye(3) * 2, is_grads_batched=True)
        return [gx, gu is None, jac]
    assert_same(run)
