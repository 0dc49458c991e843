"""Tensor and Node hooks, retain_grad, saved-tensor hooks; compared with torch."""
import numpy as np
import pytest
import torch

import ember


def both(fn):
    """Run ``fn(T)`` with T = torch and T = ember; return both results as NumPy."""
    def conv(x):
        if isinstance(x, (list, tuple)):
            return [conv(v) for v in x]
        if x is None or isinstance(x, (int, float, str, bool)):
            return x
        return np.asarray(x.detach())
    return conv(fn(torch)), conv(fn(ember))


def assert_same(fn):
    t, e = both(fn)
    _cmp(t, e)


def _cmp(t, e):
    if isinstance(t, list):
        assert isinstance(e, list) and len(t) == len(e)
        for a, b in zip(t, e):
            _cmp(a, b)
    elif isinstance(t, np.ndarray):
        np.testing.assert_allclose(e, t, rtol=1e-5, atol=1e-6)
    else:
        assert t == e


def test_hook_on_leaf_replaces_grad():
    def run(T):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        seen = []
        x.register_hook(lambda g: seen.append(g.clone()) or g * 10)
        (x * x).sum().backward()
        return [x.grad, seen[0]]
    assert_same(run)


def test_hook_on_non_leaf_replaces_grad_flowing_on():
    def run(T):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        seen = []
        y.register_hook(lambda g: seen.append(g.clone()))
        y.register_hook(lambda g: g + 1)
        (y * y).sum().backward()
        return [x.grad, seen[0]]
    assert_same(run)


def test_hook_handle_remove():
    def run(T):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        h = x.register_hook(lambda g: g * 0)
        h.remove()
        y = x * 2
        h2 = y.register_hook(lambda g: g * 100)
        h2.remove()
        y.sum().backward()
        return x.grad
    assert_same(run)


def test_hook_on_tensor_without_grad_errors():
    for T in (torch, ember):
        with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't "
                                               "require gradient"):
            T.ones(2).register_hook(lambda g: g)


def test_retain_grad():
    def run(T):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        y.retain_grad()
        z = y * y
        z.retain_grad()
        z.sum().backward(retain_graph=True)
        z2 = (y * 2).sum()
        z2.backward()   # retained grads accumulate
        return [y.grad, z.grad, x.grad, y.retains_grad, x.retains_grad]
    assert_same(run)


def test_retain_grad_with_hooks_sees_hooked_grad():
    def run(T):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        y.retain_grad()
        y.register_hook(lambda g: g * 2)
        y.sum().backward()
        return [y.grad, x.grad]
    assert_same(run)


def test_post_accumulate_grad_hook():
    def run(T):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        seen = []
        h = x.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.clone()))
        (x * 2).sum().backward()
        (x * 3).sum().backward()
        h.remove()
        (x * 4).sum().backward()
        return [seen, x.grad]
    assert_same(run)
    y = ember.ones(2, requires_grad=True) * 2
    ty = torch.ones(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError) as te:
        ty.register_post_accumulate_grad_hook(lambda t: None)
    with pytest.raises(RuntimeError) as ee:
        y.register_post_accumulate_grad_hook(lambda t: None)
    assert str(ee.value) == str(te.value)


def test_node_hooks():
    def run(T):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        z = y.exp()
        seen = []
        z.grad_fn.register_prehook(lambda gout: (gout[0] * 2,))
        h = z.grad_fn.register_hook(lambda gin, gout: seen.append((gin[0].clone(),
                                                                  gout[0].clone())))
        y.grad_fn.register_hook(lambda gin, gout: (gin[0] + 1, ) + tuple(gin[1:]))
        z.sum().backward(retain_graph=True)
        h.remove()
        x.grad = None
        z.sum().backward()
        return [x.grad, seen[0][0], seen[0][1], len(seen)]
    assert_same(run)


def test_accumulate_grad_node_hooks():
    def run(T):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        acc = y.grad_fn.next_functions[0][0]
        acc.register_prehook(lambda g: (g[0] * 5,))
        y.sum().backward()
        return x.grad
    assert_same(run)


def test_saved_tensors_hooks_pack_unpack():
    def run(T):
        calls = []

        def pack(t):
            calls.append("pack")
            return t.detach().clone() * 1   # saved as a copy: later in-place writes are harmless

        def unpack(p):
            calls.append("unpack")
            return p
        x = T.tensor([1.0, 2.0], requires_grad=True)
        with T.autograd.graph.saved_tensors_hooks(pack, unpack):
            y = x * x
        z = y.sum()
        z.backward()
        return [x.grad, calls.count("pack") > 0, calls.count("unpack") == calls.count("pack")]
    assert_same(run)


def test_saved_tensors_hooks_transform_values():
    def run(T):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        with T.autograd.graph.saved_tensors_hooks(lambda t: t * 0 + 7, lambda p: p):
            y = x * x
        y.sum().backward()
        return x.grad
    assert_same(run)


def test_accumulate_grad_post_hook_and_node_names():
    def run(T):
        out = []
        x = T.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        acc = y.grad_fn.next_functions[0][0]
        acc.register_hook(lambda gin, gout: out.append([len(gin), gout[0].clone()]))
        x.register_hook(lambda g: out.append(g.clone()))
        y.sum().backward()
        return out + [acc.name(), type(acc).__name__, y.grad_fn.name(),
                      isinstance(y.grad_fn, T.autograd.graph.Node),
                      isinstance(acc, T.autograd.graph.Node)]
    assert_same(run)
