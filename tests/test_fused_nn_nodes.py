"""The fused nn ops record torch's graph: node names, their inputs, and the nodes of their
backward ops under create_graph (values and derivatives are the op table's business)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as F


def _pair(shape, seed=0):
    a = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def _names(fn):
    return [type(f).__name__ if f is not None else None for f, _ in fn.next_functions]


def _labels(n, classes, shape=None):
    t = np.random.default_rng(1).integers(0, classes, size=shape or (n,))
    return ember.tensor(t), torch.tensor(t)


CASES = {
    "layer_norm": lambda lib, F_, x: F_.layer_norm(x, (8,), x.new_ones(8).requires_grad_(),
                                                   x.new_zeros(8).requires_grad_()),
    "layer_norm_plain": lambda lib, F_, x: F_.layer_norm(x, (8,)),
    "gelu": lambda lib, F_, x: F_.gelu(x),
    "gelu_tanh": lambda lib, F_, x: F_.gelu(x, approximate="tanh"),
    "softmax": lambda lib, F_, x: F_.softmax(x, -1),
    "log_softmax": lambda lib, F_, x: F_.log_softmax(x, 0),
    "sdpa_causal": lambda lib, F_, x: F_.scaled_dot_product_attention(
        x.reshape(1, 2, 4, 4), x.reshape(1, 2, 4, 4), x.reshape(1, 2, 4, 4), is_causal=True),
    "dropout": lambda lib, F_, x: F_.dropout(x, 0.5),
}


@pytest.mark.parametrize("name", list(CASES))
def test_forward_node_and_its_inputs_as_torch(name):
    ex, tx = _pair((4, 8))
    ey, ty = CASES[name](ember, F, ex), CASES[name](torch, TF, tx)
    assert type(ey.grad_fn).__name__ == type(ty.grad_fn).__name__
    assert _names(ey.grad_fn) == _names(ty.grad_fn)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", [(6, 5), (2, 5, 3)])
def test_cross_entropy_nodes_as_torch(reduction, shape):
    ex, tx = _pair(shape)
    el, tl = _labels(shape[0], shape[1], (shape[0],) + shape[2:])
    ey = F.cross_entropy(ex, el, reduction=reduction)
    ty = TF.cross_entropy(tx, tl, reduction=reduction)
    if len(shape) == 2 or reduction != "none":   # torch views 3-D 'none' losses back
        assert type(ey.grad_fn).__name__ == type(ty.grad_fn).__name__
    assert "LogSoftmaxBackward0" in _names(ey.grad_fn) or \
        _names(ey.grad_fn.next_functions[0][0]) == ["LogSoftmaxBackward0"]


@pytest.mark.parametrize("name,expected", [
    ("layer_norm", "NativeLayerNormBackwardBackward0"), ("gelu", "GeluBackwardBackward0"),
    ("softmax", "SoftmaxBackwardDataBackward0"), ("log_softmax", "LogSoftmaxBackwardDataBackward0")])
def test_backward_ops_record_torch_double_backward_nodes(name, expected):
    ex, tx = _pair((4, 8))
    ey, ty = CASES[name](ember, F, ex), CASES[name](torch, TF, tx)
    (eg,) = ember.autograd.grad((ey * ey).sum(), ex, create_graph=True)
    (tg,) = torch.autograd.grad((ty * ty).sum(), tx, create_graph=True)
    assert type(eg.grad_fn).__name__ == type(tg.grad_fn).__name__ == expected


def test_nll_double_backward_node_as_torch():
    ex, tx = _pair((4, 3))
    el, tl = _labels(4, 3)
    (eg,) = ember.autograd.grad(F.nll_loss(ex, el) ** 2, ex, create_graph=True)
    (tg,) = torch.autograd.grad(TF.nll_loss(tx, tl) ** 2, tx, create_graph=True)
    assert type(eg.grad_fn).__name__ == type(tg.grad_fn).__name__ == "NllLossBackwardBackward0"


def test_flash_attention_has_no_double_backward_as_torch():
    msg = "derivative for aten::_scaled_dot_product_flash_attention_for_cpu_backward"
    for lib, F_ in ((ember, F), (torch, TF)):
        q = lib.randn(1, 2, 3, 4, requires_grad=True)
        (g,) = lib.autograd.grad(F_.scaled_dot_product_attention(q, q, q).sum(), q,
                                 create_graph=True)
        with pytest.raises(RuntimeError, match=msg):
            lib.autograd.grad(g.sum(), q)


def test_layer_norm_double_backward_through_a_dependent_gradient():
    # The loss's gradient depends on the input: the replayed second derivative must not
    # differentiate that dependence again (torch's values, float64).
    x = np.random.default_rng(3).standard_normal((3, 6))
    w = np.random.default_rng(4).standard_normal(6)
    out = []
    for lib, F_ in ((ember, F), (torch, TF)):
        X, W = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        y = F_.layer_norm(X, (6,), W)
        gx, gw = lib.autograd.grad((y * y * y).sum(), (X, W), create_graph=True)
        out.append([t.detach().numpy() for t in lib.autograd.grad(
            (gx * gx).sum() + (gw * gw * gw).sum(), (X, W))])
    for a, b in zip(*out):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)


def test_flash_attention_runs_in_the_autocast_dtype_as_torch():
    dtypes = []
    for lib, F_ in ((ember, F), (torch, TF)):
        q = lib.randn(1, 2, 3, 4, requires_grad=True)
        with lib.autocast("cpu", dtype=lib.bfloat16):
            y = F_.scaled_dot_product_attention(q, q, q, attn_mask=lib.randn(3, 3))
        dtypes.append((str(y.dtype), type(y.grad_fn).__name__))
    assert dtypes[0] == dtypes[1] == ("torch.bfloat16",
                                      "ScaledDotProductFlashAttentionForCpuBackward0")
