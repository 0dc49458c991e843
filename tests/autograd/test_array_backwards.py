"""Backwards that compute on arrays outside create_graph (tanh, sigmoid, relu, mul by a
Python float) give the same bits as their Ember-op form, which create_graph runs."""
import numpy as np
import pytest

import ember
from ember._ops import registry

FNS = {
    "tanh": lambda x: x.tanh(),
    "sigmoid": lambda x: ember.sigmoid(x),
    "relu": lambda x: ember.relu(x),
    "mul_float": lambda x: x * 1.01,
    "rmul_float": lambda x: 0.3 * x,
}


@pytest.mark.parametrize("name", sorted(FNS))
@pytest.mark.parametrize("shape", [(), (5,), (2, 3)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_array_backward_matches_op_form(name, shape, dtype):
    rng = np.random.default_rng(0)
    x = ember.tensor(rng.standard_normal(shape).astype(dtype) * 3, requires_grad=True)
    v = ember.tensor(rng.standard_normal(shape).astype(dtype))
    fast, = ember.autograd.grad(FNS[name](x), x, v)
    graph, = ember.autograd.grad(FNS[name](x), x, v, create_graph=True)
    assert type(fast._data) is np.ndarray and fast.shape == x.shape and fast.dtype == x.dtype
    assert np.array_equal(fast._data, graph._data)
    assert fast.grad_fn is None


def test_hooks_see_the_backward_ops():
    # With an around hook installed (profiler, ember.compile), backwards run in Ember ops.
    seen = []

    def hook(op, inputs, params, run):
        seen.append(op.name)
        return run(op, inputs, params)
    x = ember.ones(3, requires_grad=True)
    y = x.tanh()
    restore = registry.push_around(hook)
    try:
        y.sum().backward()
    finally:
        restore()
    assert "mul" in seen and "rsub" in seen
