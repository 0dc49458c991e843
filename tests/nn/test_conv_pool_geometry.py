"""Convolution and max pooling against torch over many geometries: the im2col
layout, the grouped GEMMs, the col2im accumulation and the max-pool offset search
each have cases (stride, padding, dilation, groups, ceil_mode, ties, NaN) that the
op table samples only sparsely."""
import itertools

import numpy as np
import pytest
import torch

import ember

from .helpers import to_numpy

F, TF = ember.nn.functional, torch.nn.functional


def _pair(a, requires_grad=True):
    return (ember.tensor(a, requires_grad=requires_grad),
            torch.tensor(a, requires_grad=requires_grad))


def _close(e, t, tol):
    assert tuple(e.shape) == tuple(t.shape)
    np.testing.assert_allclose(to_numpy(e), to_numpy(t), rtol=tol, atol=tol, equal_nan=True)


def _max_pool_cases():
    for d in (1, 2, 3):
        for k, s, p, dl, ceil in itertools.product((2, 3), (1, 2, 3), (0, 1), (1, 2),
                                                   (False, True)):
            if p <= k // 2:
                yield d, k, s, p, dl, ceil


@pytest.mark.parametrize("d", [1, 2, 3])
def test_max_pool_values_indices_grads(d):
    rng = np.random.default_rng(d)
    shape = (2, 3) + ((9,) * d if d < 3 else (7, 6, 5))
    # Rounded values make ties (torch takes the first); one NaN must propagate.
    a = np.round(rng.standard_normal(shape), 1).astype(np.float32)
    a[0, 0].flat[3] = np.nan
    checked = 0
    for _, k, s, p, dl, ceil in [c for c in _max_pool_cases() if c[0] == d]:
        ex, tx = _pair(a)
        try:
            ty, ti = getattr(TF, f"max_pool{d}d")(tx, k, s, p, dl, ceil, True)
        except RuntimeError:
            with pytest.raises(RuntimeError):
                getattr(F, f"max_pool{d}d")(ex, k, s, p, dl, ceil, True)
            continue
        ey, ei = getattr(F, f"max_pool{d}d")(ex, k, s, p, dl, ceil, True)
        _close(ey, ty, 0)
        np.testing.assert_array_equal(to_numpy(ei), ti.numpy())
        g = rng.standard_normal(tuple(ty.shape)).astype(np.float32)
        ty.backward(torch.tensor(g))
        ey.backward(ember.tensor(g))
        _close(ex.grad, tx.grad, 1e-6)
        checked += 1
    assert checked > 20


@pytest.mark.parametrize("d", [1, 2, 3])
def test_conv_and_transpose_match_torch(d):
    rng = np.random.default_rng(10 + d)
    spatial = (8,) * d if d < 3 else (6, 5, 7)
    for k, s, p, dl, groups in itertools.product((1, 3), (1, 2), (0, 2), (1, 2), (1, 2)):
        x = rng.standard_normal((2, 4) + spatial).astype(np.float32)
        w = rng.standard_normal((6, 4 // groups) + (k,) * d).astype(np.float32)
        b = rng.standard_normal(6).astype(np.float32)
        e_in, t_in = zip(*(_pair(v) for v in (x, w, b)))
        ty = getattr(TF, f"conv{d}d")(*t_in, s, p, dl, groups)
        ey = getattr(F, f"conv{d}d")(*e_in, s, p, dl, groups)
        _close(ey, ty, 1e-4)
        g = rng.standard_normal(tuple(ty.shape)).astype(np.float32)
        ty.backward(torch.tensor(g))
        ey.backward(ember.tensor(g))
        for e, t in zip(e_in, t_in):
            _close(e.grad, t.grad, 1e-3)
        # output_padding below max(stride, dilation): the result has positions no
        # input position reaches, which the gradients must leave out.
        wt = rng.standard_normal((4, 6 // groups) + (k,) * d).astype(np.float32)
        for op in range(max(s, dl)):
            e_in, t_in = zip(*(_pair(v) for v in (x, wt)))
            ty = getattr(TF, f"conv_transpose{d}d")(*t_in, None, s, p, op, groups, dl)
            ey = getattr(F, f"conv_transpose{d}d")(*e_in, None, s, p, op, groups, dl)
            _close(ey, ty, 1e-4)
            g = rng.standard_normal(tuple(ty.shape)).astype(np.float32)
            ty.backward(torch.tensor(g))
            ey.backward(ember.tensor(g))
            for e, t in zip(e_in, t_in):
                _close(e.grad, t.grad, 1e-3)


def _double_grads(lib, fn, arrays):
    ts = [lib.tensor(a, requires_grad=True) for a in arrays]
    y = fn(lib, ts)
    gs = lib.autograd.grad((y * y).sum(), ts, create_graph=True)
    gg = lib.autograd.grad(sum((g * g).sum() for g in gs), ts)
    return list(gs) + list(gg)


@pytest.mark.parametrize("fn,shapes", [
    (lambda L, t: L.nn.functional.conv_transpose1d(t[0], t[1], None, 1, 0, 1, 1, 2),
     [(2, 4, 8), (4, 3, 1)]),
    (lambda L, t: L.nn.functional.conv_transpose2d(t[0], t[1], None, 2, 1, 1, 2, 1),
     [(2, 4, 5, 5), (4, 3, 3, 3)]),
    (lambda L, t: L.nn.functional.conv2d(t[0], t[1], None, 2, 1, 1, 2),
     [(2, 4, 7, 7), (6, 2, 3, 3)]),
    (lambda L, t: L.nn.functional.max_pool2d(t[0], 3, 2, 1) * t[1],
     [(2, 3, 7, 7), (1, 3, 4, 4)]),
])
def test_double_backward_matches_torch(fn, shapes):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in shapes]
    for e, t in zip(_double_grads(ember, fn, arrays), _double_grads(torch, fn, arrays)):
        _close(e, t, 1e-8)
