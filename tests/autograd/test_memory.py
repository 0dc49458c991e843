"""The graph and its saved tensors are freed by reference counting alone: when the last
output goes away, after backward, with no reference cycles; a training loop stays flat."""
import gc
import weakref

import numpy as np
import pytest

import ember
from tests.autograd.test_function import make_functions


@pytest.fixture
def no_gc():
    """Reference cycles would survive inside this fixture: only refcounting frees."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _live_tensors(collect=True):
    if collect:
        gc.collect()
    return sum(1 for o in gc.get_objects() if type(o) is ember.Tensor)


def test_graph_freed_when_last_output_goes(no_gc):
    x = ember.ones(3, requires_grad=True)
    h = x * 2
    y = (h.exp() * h).sum()
    refs = [weakref.ref(h), weakref.ref(y.grad_fn), weakref.ref(h.grad_fn)]
    del h
    assert all(r() is not None for r in refs)   # y's graph holds them
    del y
    assert all(r() is None for r in refs)


def test_saved_tensors_freed_after_backward(no_gc):
    x = ember.ones(3, requires_grad=True)
    h = x * 2
    ref = weakref.ref(h)
    y = (h * h).sum()
    del h
    assert ref() is not None
    y.backward()
    assert ref() is None
    assert y.grad_fn is not None  # the node itself lives on with y


def test_no_cycles_leaf_accumulator_and_grad(no_gc):
    x = ember.ones(3, requires_grad=True)
    (x * x).sum().backward()
    rx, rg = weakref.ref(x), weakref.ref(x.grad)
    del x
    assert rx() is None and rg() is None


def test_no_cycles_with_create_graph_grad(no_gc):
    x = ember.ones(3, requires_grad=True)
    y = (x ** 3).sum()
    (g,) = ember.autograd.grad(y, x, create_graph=True)
    refs = [weakref.ref(t) for t in (x, y, g)] + [weakref.ref(g.grad_fn)]
    del x, y, g
    assert all(r() is None for r in refs)


def test_no_cycles_retain_grad_and_non_leaf_hooks(no_gc):
    x = ember.ones(3, requires_grad=True)
    h = x * 2
    h.retain_grad()
    h.register_hook(lambda g: g * 2)
    (h * h).sum().backward()
    refs = [weakref.ref(h), weakref.ref(h.grad), weakref.ref(h.grad_fn)]
    del h
    assert all(r() is None for r in refs)


def test_no_cycles_custom_function_saving_its_output(no_gc):
    Exp = make_functions(ember)["Exp"]
    x = ember.tensor([0.0, 1.0], requires_grad=True)
    y = Exp.apply(x)
    refs = [weakref.ref(y), weakref.ref(y.grad_fn)]
    y.sum().backward(retain_graph=True)
    np.testing.assert_allclose(x.grad.numpy(), np.exp([0.0, 1.0]), rtol=1e-6)
    del y
    assert all(r() is None for r in refs)


def test_no_cycles_saved_tensors_hooks(no_gc):
    x = ember.ones(3, requires_grad=True)
    with ember.autograd.graph.saved_tensors_hooks(lambda t: t.detach().clone(), lambda p: p):
        y = (x.exp() * x).sum()
    ref = weakref.ref(y.grad_fn)
    y.backward()
    del y
    assert ref() is None


def test_training_loop_holds_flat_memory():
    ember.manual_seed(0)
    w = ember.randn(8, 4, requires_grad=True)
    b = ember.zeros(4, requires_grad=True)
    data = ember.randn(16, 8)
    target = ember.randn(16, 4)

    def step():
        loss = ((data @ w + b - target) ** 2).mean()
        loss.backward()
        with ember.no_grad():
            w.sub_(0.01 * w.grad)
            b.sub_(0.01 * b.grad)
        w.grad = None
        b.grad = None
        return loss

    for _ in range(100):
        step()
    before = _live_tensors()
    gc.disable()
    try:
        first = step().item()
        for _ in range(10_000):
            last = step()
    finally:
        gc.enable()
    del last
    after = _live_tensors(collect=False)  # garbage left in cycles would be counted
    assert after <= before + 2, (before, after)
    assert step().item() < first  # it did train
