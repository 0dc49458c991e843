"""AdaptiveMaxPool3d, MaxUnpool3d, LPPool1d/3d and FractionalMaxPool2d/3d against torch:
values, indices and gradients; fractional pooling with fixed samples and statistically."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn as nn
import ember.nn.functional as F

RNG = np.random.default_rng(11)


def _check(t_fn, e_fn, x, atol=1e-6):
    """Outputs (and indices, for tuples) equal; input gradients of a random weighting."""
    t_in = torch.tensor(x, requires_grad=True)
    e_in = ember.tensor(x).requires_grad_(True)
    t_out, e_out = t_fn(t_in), e_fn(e_in)
    if isinstance(t_out, tuple):
        np.testing.assert_array_equal(e_out[1].numpy(), t_out[1].numpy())
        assert str(e_out[1].dtype) == str(t_out[1].dtype)
        t_out, e_out = t_out[0], e_out[0]
    assert tuple(e_out.shape) == tuple(t_out.shape)
    assert str(e_out.dtype) == str(t_out.dtype)
    np.testing.assert_allclose(e_out.detach().numpy(), t_out.detach().numpy(), atol=atol)
    v = RNG.standard_normal(tuple(t_out.shape)).astype(x.dtype)
    (t_out * torch.tensor(v)).sum().backward()
    (e_out * ember.tensor(v)).sum().backward()
    np.testing.assert_allclose(e_in.grad.numpy(), t_in.grad.numpy(), atol=atol * 10)


@pytest.mark.parametrize("output_size", [2, (3, 2, 4), (None, 1, 3), (5, 6, 7)])
def test_adaptive_max_pool3d(output_size):
    x = RNG.standard_normal((2, 3, 5, 6, 7))
    for ri in (False, True):
        _check(lambda t: TF.adaptive_max_pool3d(t, output_size, ri),
               lambda e: F.adaptive_max_pool3d(e, output_size, ri), x)
    _check(torch.nn.AdaptiveMaxPool3d(output_size, True), nn.AdaptiveMaxPool3d(output_size, True),
           x[0])
    assert repr(nn.AdaptiveMaxPool3d(output_size)) == repr(torch.nn.AdaptiveMaxPool3d(output_size))


@pytest.mark.parametrize("kernel,stride,padding,spatial,bigger", [
    (2, None, 0, (6, 8, 4), (7, 9, 5)), (3, 2, 1, (7, 9, 5), (8, 10, 6)),
    ((2, 3, 2), (1, 2, 2), 0, (7, 9, 6), (7, 10, 7))])
def test_max_unpool3d(kernel, stride, padding, spatial, bigger):
    # Shapes where the default output size is the pooled input's own size.
    x = RNG.standard_normal((2, 2) + spatial)
    t_y, t_i = TF.max_pool3d(torch.tensor(x), kernel, stride, padding, return_indices=True)
    e_idx = ember.tensor(t_i.numpy())

    def t_fn(t):
        return TF.max_unpool3d(t, t_i, kernel, stride, padding)

    def e_fn(e):
        return F.max_unpool3d(e, e_idx, kernel, stride, padding)
    _check(t_fn, e_fn, t_y.numpy())
    size = (2, 2) + bigger  # an explicit output size other than the default
    _check(lambda t: torch.nn.MaxUnpool3d(kernel, stride, padding)(t, t_i, size),
           lambda e: nn.MaxUnpool3d(kernel, stride, padding)(e, e_idx, size), t_y.numpy())
    assert repr(nn.MaxUnpool3d(kernel, stride, padding)) == \
        repr(torch.nn.MaxUnpool3d(kernel, stride, padding))
    with pytest.raises(ValueError, match=r"invalid output_size \"\(30, 30, 30\)\" \(dim 0 must "
                                         r"be between \d+ and \d+\)"):
        F.max_unpool3d(ember.tensor(t_y.numpy()), e_idx, kernel, stride, padding, (30, 30, 30))
    with pytest.raises(ValueError, match="output_size should be a sequence containing 3 or 5 "
                                         "elements, but it has a length of '2'"):
        F.max_unpool3d(ember.tensor(t_y.numpy()), e_idx, kernel, stride, padding, (3, 3))


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.0, 1.5])
def test_lp_pool1d_3d(norm_type):
    x1 = RNG.uniform(0.1, 2, (2, 3, 11))
    x3 = RNG.uniform(0.1, 2, (2, 2, 5, 6, 7))
    for kernel, stride, ceil in [(3, None, False), (2, 3, True), (4, 2, False)]:
        _check(lambda t: TF.lp_pool1d(t, norm_type, kernel, stride, ceil),
               lambda e: F.lp_pool1d(e, norm_type, kernel, stride, ceil), x1)
        _check(torch.nn.LPPool1d(norm_type, kernel, stride, ceil),
               nn.LPPool1d(norm_type, kernel, stride, ceil), x1[0])
    for kernel, stride, ceil in [(2, None, False), ((2, 3, 2), (1, 2, 3), True)]:
        _check(lambda t: TF.lp_pool3d(t, norm_type, kernel, stride, ceil),
               lambda e: F.lp_pool3d(e, norm_type, kernel, stride, ceil), x3)
        _check(torch.nn.LPPool3d(norm_type, kernel, stride, ceil),
               nn.LPPool3d(norm_type, kernel, stride, ceil), x3)
    assert repr(nn.LPPool3d(norm_type, 3, 2)) == repr(torch.nn.LPPool3d(norm_type, 3, 2))


def test_lp_pool_odd_power_negative_inputs():
    # A negative window sum with p = 3: torch's sign * relu(|.|) keeps the result finite.
    x = RNG.standard_normal((1, 2, 9))
    _check(lambda t: TF.lp_pool1d(t, 3, 3), lambda e: F.lp_pool1d(e, 3, 3), x)


FRACTIONAL_2D = [dict(kernel_size=2, output_size=(3, 4)), dict(kernel_size=3, output_size=4),
                 dict(kernel_size=(2, 3), output_ratio=(0.5, 0.7)),
                 dict(kernel_size=(1, 2), output_size=(7, 1)),
                 dict(kernel_size=1, output_size=(7, 9))]


@pytest.mark.parametrize("kw", FRACTIONAL_2D)
def test_fractional_max_pool2d_fixed_samples(kw):
    x = RNG.standard_normal((2, 3, 7, 9))
    samples = RNG.random((2, 3, 2))
    for ri in (False, True):
        _check(lambda t: TF.fractional_max_pool2d(t, return_indices=ri,
                                                  _random_samples=torch.tensor(samples), **kw),
               lambda e: F.fractional_max_pool2d(e, return_indices=ri,
                                                 _random_samples=ember.tensor(samples), **kw), x)
    # Unbatched input, module with the samples as a buffer.
    one = samples[:1]
    t_m = torch.nn.FractionalMaxPool2d(return_indices=True, _random_samples=torch.tensor(one),
                                       **kw)
    e_m = nn.FractionalMaxPool2d(return_indices=True, _random_samples=ember.tensor(one), **kw)
    _check(t_m, e_m, x[0])


@pytest.mark.parametrize("kw", [dict(kernel_size=2, output_size=(3, 3, 3)),
                                dict(kernel_size=(1, 2, 3), output_ratio=0.5)])
def test_fractional_max_pool3d_fixed_samples(kw):
    x = RNG.standard_normal((2, 2, 6, 7, 9))
    samples = RNG.random((2, 2, 3))
    _check(lambda t: TF.fractional_max_pool3d(t, return_indices=True,
                                              _random_samples=torch.tensor(samples), **kw),
           lambda e: F.fractional_max_pool3d(e, return_indices=True,
                                             _random_samples=ember.tensor(samples), **kw), x)
    t_m = torch.nn.FractionalMaxPool3d(_random_samples=torch.tensor(samples), **kw)
    e_m = nn.FractionalMaxPool3d(_random_samples=ember.tensor(samples), **kw)
    _check(t_m, e_m, x)


def test_fractional_max_pool2d_random_regions():
    # Without fixed samples.  On an increasing input each window's max is its last cell,
    # which reveals the window starts: they begin at 0, end at size - k, and step by
    # floor or ceil of (size - k) / (out - 1); different planes draw different steps.
    h, w, oh, ow, k = 25, 31, 10, 12, 3
    x = ember.arange(4 * 8 * h * w, dtype=ember.float64).reshape(4, 8, h, w)
    y, idx = F.fractional_max_pool2d(x, k, output_size=(oh, ow), return_indices=True)
    assert tuple(y.shape) == (4, 8, oh, ow) and str(idx.dtype) == "torch.int64"
    local = idx.numpy()
    np.testing.assert_array_equal(y.numpy(), x.numpy().reshape(4, 8, -1)[
        np.arange(4)[:, None, None, None], np.arange(8)[None, :, None, None], local])
    row_starts = local[..., :, 0] // w - (k - 1)
    col_starts = local[..., 0, :] % w - (k - 1)
    for starts, size, n_out in ((row_starts, h, oh), (col_starts, w, ow)):
        alpha = (size - k) / (n_out - 1)
        assert (starts[..., 0] == 0).all() and (starts[..., -1] == size - k).all()
        steps = np.diff(starts[..., :-1], axis=-1)
        assert np.isin(steps, [np.floor(alpha), np.ceil(alpha)]).all()
        assert len({s.tobytes() for s in starts.reshape(-1, n_out)}) > 1
    # Every row of outputs shares its row window: the same start across columns.
    assert (local // w == (local // w)[..., :, :1]).all()


def test_fractional_max_pool_errors():
    x = ember.zeros(1, 1, 7, 9)
    with pytest.raises(ValueError, match="requires specifying either an output_size or an "
                                         "output_ratio"):
        F.fractional_max_pool2d(x, 2)
    with pytest.raises(RuntimeError, match="pool height 3 too large relative to input height 7"):
        F.fractional_max_pool2d(x, 3, output_size=(6, 4))
    with pytest.raises(RuntimeError, match="Expect _random_samples to have 3 dimensions, got 2"):
        F.fractional_max_pool2d(x, 2, output_size=3, _random_samples=ember.rand(1, 2))
    with pytest.raises(RuntimeError, match=r"Expect _random_samples.size\(2\) equals to 2; "
                                           r"got 3\."):
        F.fractional_max_pool2d(x, 2, output_size=3, _random_samples=ember.rand(1, 1, 3))
    with pytest.raises(ValueError, match=r"output_ratio must be between 0 and 1 \(got 1.5\)"):
        nn.FractionalMaxPool2d(2, output_ratio=1.5)
    with pytest.raises(ValueError, match="FractionalMaxPool2d requires specifying either"):
        nn.FractionalMaxPool2d(2)
    with pytest.raises(ValueError, match="only one of output_size and output_ratio"):
        nn.FractionalMaxPool2d(2, output_size=2, output_ratio=0.5)
    assert repr(nn.FractionalMaxPool3d(2, output_size=3)) == "FractionalMaxPool3d()"
