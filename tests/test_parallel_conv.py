"""Convolution, BatchNorm and max pooling on inputs large enough for ``_parallel`` to
split: the blocked kernels give bit-for-bit the serial results (and torch's, within
float32 tolerance)."""
import numpy as np
import pytest
import torch

import ember
import ember.nn.functional as F
from ember import _parallel
from ember._ops import conv


def _run(threads, fn, arrays):
    before = _parallel.threads()
    _parallel.set_threads(threads)
    try:
        inputs = [ember.tensor(a, requires_grad=True) for a in arrays]
        out = fn(F, *inputs)
        out.backward(ember.tensor(np.cos(np.arange(out.numel(), dtype=np.float32))
                                  .reshape(out.shape)))
        return [out.detach().numpy()] + [t.grad.numpy() for t in inputs]
    finally:
        _parallel.set_threads(before)


def _torch(fn, arrays):
    inputs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = fn(torch.nn.functional, *inputs)
    out.backward(torch.tensor(np.cos(np.arange(out.numel(), dtype=np.float32))
                              .reshape(out.shape)))
    return [out.detach().numpy()] + [t.grad.numpy() for t in inputs]


CASES = {
    # 3x3, padding 1: im2col, padding, the input gradient as a convolution
    "conv_same": (lambda f, x, w, b: f.conv2d(x, w, b, padding=1),
                  [(8, 16, 40, 40), (16, 16, 3, 3), (16,)]),
    # more output than input channels and stride 2: col2im accumulation
    "conv_col2im": (lambda f, x, w: f.conv2d(x, w, stride=2, padding=1),
                    [(8, 8, 48, 48), (24, 8, 3, 3)]),
    "conv_transpose": (lambda f, x, w: f.conv_transpose2d(x, w, stride=2),
                       [(8, 16, 24, 24), (16, 8, 3, 3)]),
    "batch_norm": (lambda f, x, w, b: f.batch_norm(x, None, None, w, b, training=True),
                   [(8, 24, 40, 40), (24,), (24,)]),
    "max_pool": (lambda f, x: f.max_pool2d(x, 2), [(16, 16, 64, 64)]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_blocked_matches_serial_and_torch(name, monkeypatch):
    monkeypatch.setitem(conv.BLOCKS, "on", True)   # whatever OpenBLAS's settings
    fn, shapes = CASES[name]
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    if name == "max_pool":
        arrays[0][0, 0, :2, :2] = 1.0     # a tie: the first offset takes the gradient
        arrays[0][1, 2, 4, 6] = np.nan
    assert any(np.prod(s) * 9 >= 2 * _parallel.MIN_WORK for s in shapes)
    serial = _run(1, fn, arrays)
    blocked = _run(3, fn, arrays)
    for s, b in zip(serial, blocked):
        np.testing.assert_array_equal(s, b)
    for e, t in zip(blocked, _torch(fn, arrays)):
        # float32 sums over ~10^4 products, in another order than torch's
        np.testing.assert_allclose(e, t, rtol=1e-3, atol=1e-5 * max(1.0, np.abs(t).max()))
