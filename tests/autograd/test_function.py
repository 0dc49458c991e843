"""Custom autograd.Function, compared with torch.autograd.Function."""
import gc
import weakref

import pytest
import torch

import ember
from tests.autograd.test_hooks import assert_same


def make_functions(T):
    class Exp(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            r = x.exp()
            ctx.save_for_backward(r)
            return r

        @staticmethod
        def backward(ctx, g):
            (r,) = ctx.saved_tensors
            return g * r

    class ScaleShift(T.autograd.Function):
        """Non-tensor inputs, needs_input_grad, two outputs."""
        @staticmethod
        def forward(ctx, x, scale, y, name):
            ctx.scale = scale
            ctx.flags = ctx.needs_input_grad
            return x * scale, y + x

        @staticmethod
        def backward(ctx, ga, gb):
            gx = ga * ctx.scale + gb
            gy = gb if ctx.needs_input_grad[2] else None
            return gx, None, gy, None

    class SetupCtxMul(T.autograd.Function):
        @staticmethod
        def forward(x, y):
            return x * y

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, y = inputs
            ctx.save_for_backward(x, y)

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            return g * y, g * x

    class InplaceDouble(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2

    class SortIdx(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            vals = x * 1
            idx = T.arange(x.shape[0])
            ctx.mark_non_differentiable(idx)
            return vals, idx

        @staticmethod
        def backward(ctx, g, gidx):
            return g

    class NoMaterialize(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 1, x * 2

        @staticmethod
        def backward(ctx, ga, gb):
            ctx.seen = (ga is None, gb is None)
            out = T.zeros_like(ga if ga is not None else gb)
            if ga is not None:
                out = out + ga
            if gb is not None:
                out = out + 2 * gb
            return out

    class Materialize(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1, x * 2

        @staticmethod
        def backward(ctx, ga, gb):
            ctx.seen = (ga is None, gb is None, float(gb.abs().sum()))
            return ga + 2 * gb

    class OnceDiff(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 2

        @staticmethod
        @T.autograd.function.once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    class WrongCount(T.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x + y

        @staticmethod
        def backward(ctx, g):
            return g

    class WrongShape(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return T.ones(5)

    return dict(Exp=Exp, ScaleShift=ScaleShift, SetupCtxMul=SetupCtxMul,
                InplaceDouble=InplaceDouble, SortIdx=SortIdx, NoMaterialize=NoMaterialize,
                Materialize=Materialize, OnceDiff=OnceDiff, WrongCount=WrongCount,
                WrongShape=WrongShape)


def test_basic_function_and_grad_fn_name():
    def run(T):
        F = make_functions(T)
        x = T.tensor([0.5, 1.0], requires_grad=True)
        y = F["Exp"].apply(x)
        y.sum().backward()
        return [y, x.grad, type(y.grad_fn).__name__, y.grad_fn.name(),
                type(y.grad_fn.next_functions[0][0]).__name__]
    assert_same(run)


def test_non_tensor_args_multiple_outputs_needs_input_grad():
    def run(T):
        F = make_functions(T)
        x = T.tensor([1.0, 2.0], requires_grad=True)
        y = T.tensor([3.0, 4.0])
        a, b = F["ScaleShift"].apply(x, 3.0, y, "n")
        node = a.grad_fn
        (a * 2 + b).sum().backward()
        return [a, b, x.grad, list(node.needs_input_grad), list(node.flags),
                a.grad_fn is b.grad_fn, b.output_nr,
                len(node.next_functions)]
    assert_same(run)


def test_setup_context_style():
    def run(T):
        F = make_functions(T)
        x = T.tensor([1.0, 2.0], requires_grad=True)
        y = T.tensor([3.0, 5.0], requires_grad=True)
        F["SetupCtxMul"].apply(x, y).sum().backward()
        return [x.grad, y.grad]
    assert_same(run)


def test_mark_dirty():
    def run(T):
        F = make_functions(T)
        x = T.tensor([1.0, 2.0], requires_grad=True)
        y = x * 1
        z = F["InplaceDouble"].apply(y)
        out = [z is y, y._version, type(z.grad_fn).__name__]
        z.sum().backward()
        return out + [x.grad, z]
    assert_same(run)


def test_mark_dirty_on_leaf_errors_like_torch():
    for T in (torch, ember):
        F = make_functions(T)
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
            F["InplaceDouble"].apply(T.ones(2, requires_grad=True))


def test_mark_non_differentiable():
    def run(T):
        F = make_functions(T)
        x = T.tensor([1.0, 2.0], requires_grad=True)
        v, i = F["SortIdx"].apply(x)
        v.sum().backward()
        return [v.requires_grad, i.requires_grad, x.grad]
    assert_same(run)


def test_set_materialize_grads():
    def run(T):
        F = make_functions(T)
        x = T.tensor([1.0, 2.0], requires_grad=True)
        a, b = F["NoMaterialize"].apply(x)
        node = a.grad_fn
        b.sum().backward()
        x2 = T.tensor([1.0, 2.0], requires_grad=True)
        a2, b2 = F["Materialize"].apply(x2)
        node2 = a2.grad_fn
        a2.sum().backward()
        return [list(node.seen), x.grad, list(node2.seen), x2.grad]
    assert_same(run)


def test_once_differentiable():
    def run(T):
        F = make_functions(T)
        x = T.tensor([1.0, 3.0], requires_grad=True)
        y = F["OnceDiff"].apply(x)
        (g,) = T.autograd.grad(y.sum(), x, create_graph=True)
        v = T.ones(2, requires_grad=True)
        (g2,) = T.autograd.grad(F["OnceDiff"].apply(x), x, v, create_graph=True)
        return [g, g.requires_grad, g2, g2.requires_grad, type(g2.grad_fn).__name__]
    assert_same(run)
    for T in (torch, ember):
        F = make_functions(T)
        x = T.tensor([1.0, 3.0], requires_grad=True)
        v = T.ones(2, requires_grad=True)
        (g,) = T.autograd.grad(F["OnceDiff"].apply(x), x, v, create_graph=True)
        with pytest.raises(RuntimeError, match="trying to differentiate twice a function that "
                                               "was marked with @once_differentiable"):
            g.sum().backward()


def test_wrong_gradient_count_and_shape_errors():
    for name in ("WrongCount", "WrongShape"):
        msgs = []
        for T in (torch, ember):
            F = make_functions(T)
            x = T.ones(3, requires_grad=True)
            with pytest.raises(RuntimeError) as e:
                out = F[name].apply(x, T.ones(3)) if name == "WrongCount" else F[name].apply(x)
                out.sum().backward()
            msgs.append(str(e.value))
        assert msgs[1] == msgs[0]


def test_function_without_grad_inputs_records_nothing():
    def run(T):
        F = make_functions(T)
        y = F["Exp"].apply(T.tensor([0.0, 1.0]))
        with T.no_grad():
            z = F["Exp"].apply(T.tensor([0.0], requires_grad=True))
        return [y.requires_grad, y.grad_fn is None, z.requires_grad]
    assert_same(run)


def test_input_returned_unchanged_becomes_new_output():
    def run(T):
        class Ident(T.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x

            @staticmethod
            def backward(ctx, g):
                return g * 3
        x = T.tensor([1.0, 2.0], requires_grad=True)
        y = Ident.apply(x)
        y.sum().backward()
        return [y is x, x.grad, type(y.grad_fn).__name__]
    assert_same(run)


def test_saved_tensors_freed_after_backward_and_second_backward_error():
    for T in (torch, ember):
        F = make_functions(T)
        x = T.ones(3, requires_grad=True)
        y = F["Exp"].apply(x)
        s = y.sum()
        s.backward()
        with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
            s.backward()


def test_ctx_released_with_graph():
    F = make_functions(ember)
    x = ember.ones(3, requires_grad=True)
    y = F["Exp"].apply(x)
    ref = weakref.ref(y.grad_fn)
    del y
    gc.collect()
    assert ref() is None


def test_function_saved_tensors_hooks():
    def run(T):
        F = make_functions(T)
        x = T.tensor([0.0, 1.0], requires_grad=True)
        n = []
        with T.autograd.graph.saved_tensors_hooks(lambda t: (n.append(1), t * 2)[1], lambda p: p):
            y = F["Exp"].apply(x)
        y.sum().backward()
        return [x.grad, len(n)]
    assert_same(run)


def test_non_tensor_outputs_and_node_hooks_on_function_nodes():
    def run(T):
        class WithInfo(T.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2, 7, "label"

            @staticmethod
            def backward(ctx, g, g_int, g_str):
                return g * 2
        x = T.tensor([1.0, 2.0], requires_grad=True)
        y, n, s = WithInfo.apply(x)
        seen = []
        y.grad_fn.register_hook(lambda gin, gout: seen.append(gin[0].clone()))
        y.grad_fn.register_prehook(lambda gout: (gout[0] + 1,) + tuple(gout[1:]))
        y.sum().backward()
        return [y, n, s, x.grad, seen[0]]
    assert_same(run)


def test_node_hook_returning_wrong_count_errors_like_torch():
    msgs = []
    for T in (torch, ember):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        y = x * x
        y.grad_fn.register_hook(lambda gin, gout: (gin[0],) * 3)
        with pytest.raises(RuntimeError) as e:
            y.sum().backward()
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]


def test_mark_dirty_on_a_view_rebases_the_base_like_torch():
    # A Function writing a view in place goes through the one in-place mechanism: the base's
    # history becomes CopySlices, the view's AsStrided, and the gradient skips the
    # overwritten region's old values.
    def run(T):
        a = T.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
        b = a * 1
        out = make_functions(T)["InplaceDouble"].apply(b[1:3])
        names = [type(out.grad_fn).__name__, b.grad_fn.name().rpartition("::")[2]]
        (b * T.tensor([1.0, 10.0, 100.0, 1000.0])).sum().backward()
        return [b, a.grad, names, b._version]
    assert_same(run)


def test_mark_dirty_on_a_view_of_a_leaf_errors_like_torch():
    def run(T):
        leaf = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
        with pytest.raises(RuntimeError) as err:
            make_functions(T)["InplaceDouble"].apply(leaf[:2])
        return str(err.value)
    assert_same(run)
