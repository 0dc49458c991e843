"""Saved tensors (autograd.saved): version checks, saved outputs, saved-tensor hooks, the
freed error, and calling grad_fn nodes directly; compared with torch."""
import pytest
import torch

import ember

from tests._compare import same, same_error


def test_modified_saved_output_error():
    """A saved output is named as an output of its node (test_engine covers saved inputs)."""
    def f(T):
        x = T.randn(3, requires_grad=True)
        y = x.tanh()  # tanh saves its result
        y.add_(1)
        y.sum().backward()
    same_error(f, RuntimeError)


def _exp_function(T):
    class Exp(T.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            out = a.exp()
            ctx.save_for_backward(out, a)
            return out

        @staticmethod
        def backward(ctx, g):
            out, a = ctx.saved_tensors
            return g * out
    return Exp


def test_function_modified_saved_output_error():
    def f(T):
        x = T.randn(3, requires_grad=True)
        o = _exp_function(T).apply(x)
        o.mul_(2)
        o.sum().backward()
    same_error(f, RuntimeError)


def test_function_saved_output_double_backward():
    def f(T):
        x = T.tensor([0.5, -1.0, 2.0], requires_grad=True)
        o = _exp_function(T).apply(x)
        g, = T.autograd.grad(o.sum(), x, create_graph=True)
        g2, = T.autograd.grad(g.sum(), x)
        return _rounded(g), _rounded(g2), o.grad_fn.saved_tensors[0].grad_fn is o.grad_fn
    same(f)


def test_freed_error():
    def registry(T):
        x = T.randn(3, requires_grad=True)
        y = x.exp()
        y.sum().backward()
        y.sum().backward()

    def function(T):
        x = T.randn(3, requires_grad=True)
        o = _exp_function(T).apply(x)
        o.sum().backward()
        _ = o.grad_fn.saved_tensors

    def hooked(T):
        x = T.randn(3, requires_grad=True)
        with T.autograd.graph.saved_tensors_hooks(lambda t: t, lambda p: p):
            y = x * x
        y.sum().backward()
        y.sum().backward()
    for case in (registry, function, hooked):
        same_error(case, RuntimeError)


def test_unpack_hook_must_return_a_tensor():
    def f(T):
        x = T.randn(3, requires_grad=True)
        with T.autograd.graph.saved_tensors_hooks(lambda t: t, lambda p: 3):
            y = x * x
        y.sum().backward()
    same_error(f, TypeError)


@pytest.mark.parametrize("op", ["mul", "exp", "function", "nonleaf"])
def test_hooked_saved_tensors_keep_their_graph(op):
    """The pack hook detaches a copy; the unpacked tensor still has the saved tensor's place
    in the graph (torch's), so double backward goes through it."""
    def f(T):
        x = T.tensor([0.5, -1.0, 2.0], requires_grad=True)
        with T.autograd.graph.saved_tensors_hooks(lambda t: t.detach().clone(), lambda p: p):
            if op == "mul":
                y = x * x * x
            elif op == "exp":
                y = x.exp()
            elif op == "nonleaf":
                h = x.sin()
                y = h * h
            else:
                y = _exp_function(T).apply(x)
        g, = T.autograd.grad(y.sum(), x, create_graph=True)
        g2, = T.autograd.grad(g.sum(), x)
        return g.requires_grad, _rounded(g), _rounded(g2)
    same(f)


def _rounded(t):
    return [round(v, 4) for v in t.tolist()]


def test_hooked_result_unpacks_with_its_node():
    def f(T):
        x = T.randn(3, requires_grad=True)
        with T.autograd.graph.saved_tensors_hooks(lambda t: t, lambda p: p):
            y = x.exp()
        r = y.grad_fn._saved_result if T.__name__ == "torch" else y.grad_fn.result
        return r is y, r.grad_fn is y.grad_fn, r.requires_grad
    same(f)


def test_accumulate_grad_called_directly():
    def f(T):
        x = T.ones(3, requires_grad=True)
        acc = (x * 2).grad_fn.next_functions[0][0]
        g = T.full((3,), 5.0)
        out = [acc(g), x.grad.clone()]
        g.add_(1)  # .grad must not alias the gradient passed in
        out += [x.grad.clone(), acc(T.ones(3)), x.grad, acc(None), x.grad]
        return out
    same(f)


def test_accumulate_grad_call_with_grad_mode():
    def f(T):
        x = T.ones(3, requires_grad=True)
        w = T.ones(3, requires_grad=True)
        acc = (x * 2).grad_fn.next_functions[0][0]
        acc(w * 3)
        first = (x.grad, x.grad.requires_grad)
        acc(w * 3)
        return first, x.grad, x.grad.requires_grad
    same(f)


def test_accumulate_grad_call_arity():
    def f(T):
        x = T.ones(3, requires_grad=True)
        acc = (x * 2).grad_fn.next_functions[0][0]
        acc(T.ones(3), T.ones(3))
    same_error(f, TypeError)


def test_node_called_directly():
    def f(T):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        y = x * T.tensor([3.0, 4.0])
        e = x.exp().grad_fn(T.ones(2))
        return y.grad_fn(T.ones(2)), e.requires_grad, _rounded(e)
    same(f)


def test_einsum_saves_its_operands_through_saved_tensor_hooks():
    # einsum takes any number of operands; they are saved as every op's inputs are: through
    # the hooks (torch packs its bmm's reshaped operands, Ember the operands themselves),
    # and version-checked with torch's error after an in-place write.
    a = ember.randn(2, 3, requires_grad=True)
    b = ember.randn(3, 4, requires_grad=True)
    packed = []
    with ember.autograd.graph.saved_tensors_hooks(lambda t: packed.append(t) or t, lambda t: t):
        ember.einsum("ij,jk->ik", a, b)
    assert len(packed) == 2 and packed[0] is a and packed[1] is b

    def modified(T):
        a = T.ones(2, 3, requires_grad=True)
        c = T.ones(3, 4, requires_grad=True) * 1
        z = T.einsum("ij,jk->ik", a, c)
        c.mul_(2)
        with pytest.raises(RuntimeError) as err:
            z.sum().backward()
        return type(err.value), str(err.value).split(": [")[0]  # torch names its bmm operand
    assert modified(ember) == modified(torch)
