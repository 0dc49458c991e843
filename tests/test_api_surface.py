"""The curated most-used API (tools/common_api.txt): every name exists, and the names
that no other test file exercises directly are compared with torch here."""
import os

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
CURATED = os.path.join(HERE, "..", "tools", "common_api.txt")


def _curated():
    with open(CURATED) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                yield line.rpartition(".")


NAMESPACES = {"torch": ember, "Tensor": ember.Tensor, "nn.functional": F,
              "linalg": ember.linalg}


def test_every_curated_name_exists():
    missing = [f"{ns}.{name}" for ns, _, name in _curated()
               if not hasattr(NAMESPACES[ns], name)]
    assert not missing


def _pair(shape=(2, 3, 4, 4), seed=0, low=-2.0, high=2.0):
    x = np.random.default_rng(seed).uniform(low, high, shape).astype(np.float32)
    return ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)


def _check(e_fn, t_fn, shape=(2, 3, 4, 4), atol=1e-5):
    e, t = _pair(shape)
    eo, to = e_fn(e), t_fn(t)
    np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), atol=atol, rtol=1e-5)
    assert tuple(eo.shape) == tuple(to.shape) and str(eo.dtype) == str(to.dtype)
    if to.requires_grad:
        w = np.random.default_rng(1).standard_normal(tuple(to.shape)).astype(np.float32)
        (eo * ember.tensor(w)).sum().backward()
        (to * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), atol=1e-4, rtol=1e-4)


FUNCTIONAL = [
    ("relu6", lambda m, x: m.relu6(x * 4)),
    ("elu", lambda m, x: m.elu(x, alpha=0.7)),
    ("silu", lambda m, x: m.silu(x)),
    ("mish", lambda m, x: m.mish(x)),
    ("hardtanh", lambda m, x: m.hardtanh(x, -0.5, 1.2)),
    ("softmin", lambda m, x: m.softmin(x, dim=1)),
    ("avg_pool1d", lambda m, x: m.avg_pool1d(x.flatten(2), 3, 2)),
    ("avg_pool2d", lambda m, x: m.avg_pool2d(x, 2)),
    ("adaptive_avg_pool2d", lambda m, x: m.adaptive_avg_pool2d(x, (3, 2))),
    ("adaptive_max_pool2d", lambda m, x: m.adaptive_max_pool2d(x, 2)),
    ("batch_norm", lambda m, x: m.batch_norm(x, None, None, training=True)),
    ("layer_norm", lambda m, x: m.layer_norm(x, (4, 4))),
    ("group_norm", lambda m, x: m.group_norm(x, 3)),
    ("instance_norm", lambda m, x: m.instance_norm(x)),
    ("dropout2d_eval", lambda m, x: m.dropout2d(x, 0.5, training=False)),
    ("fold", lambda m, x: m.fold(x.reshape(2, 12, 4), (3, 3), 2)),
    ("pixel_shuffle", lambda m, x: m.pixel_shuffle(x.reshape(2, 12, 2, 2), 2)),
]


@pytest.mark.parametrize("name,fn", FUNCTIONAL, ids=[n for n, _ in FUNCTIONAL])
def test_functional_names_match_torch(name, fn):
    _check(lambda x: fn(F, x), lambda x: fn(TF, x))


TENSOR = [
    ("true_divide", lambda m, x: m.true_divide(x, 3)),
    ("view_as", lambda m, x: x.view_as(x.reshape(6, 16)) * 1),
    ("expand_as", lambda m, x: x[:, :1].expand_as(x) * 1),
    ("div_", lambda m, x: (x * 1).div_(3)),
    ("masked_fill_", lambda m, x: (x * 1).masked_fill_(x > 0, 0.5)),
    ("index_add_", lambda m, x: (x * 1).index_add_(1, m.tensor([0, 2]), x[:, :2] * 2)),
]


@pytest.mark.parametrize("name,fn", TENSOR, ids=[n for n, _ in TENSOR])
def test_tensor_names_match_torch(name, fn):
    _check(lambda x: fn(ember, x), lambda x: fn(torch, x))


def test_is_tensor_detach_and_matrix_rank():
    for lib in (torch, ember):
        x = lib.ones(2, requires_grad=True)
        assert lib.is_tensor(x) and not lib.is_tensor([1.0]) and not lib.is_tensor(1.0)
        y = x * 2
        y.detach_()
        assert not y.requires_grad and y.grad_fn is None and y.is_leaf
    a = np.random.default_rng(0).standard_normal((4, 3)) @ np.random.default_rng(1).standard_normal((3, 5))
    for A in (a, a[:2], np.eye(4)):
        assert ember.linalg.matrix_rank(ember.tensor(A)).item() == \
            torch.linalg.matrix_rank(torch.tensor(A)).item()
