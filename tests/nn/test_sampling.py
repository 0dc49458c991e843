"""interpolate (every mode), Upsample, grid_sample and affine_grid against torch:
values, gradients w.r.t. every differentiable input, errors and warnings."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn as nn
import ember.nn.functional as F

RNG = np.random.default_rng(7)


def _both(arrays, grad=True):
    t = [torch.tensor(a, requires_grad=grad) for a in arrays]
    e = [ember.tensor(a).requires_grad_(grad) for a in arrays]
    return t, e


def _check(t_fn, e_fn, arrays, atol=1e-6, grad_atol=1e-6):
    """Same inputs through both: outputs, then gradients of a random weighting."""
    t_in, e_in = _both(arrays)
    t_out, e_out = t_fn(*t_in), e_fn(*e_in)
    assert tuple(e_out.shape) == tuple(t_out.shape)
    assert str(e_out.dtype) == str(t_out.dtype)
    np.testing.assert_allclose(e_out.detach().numpy(), t_out.detach().numpy(), atol=atol)
    v = RNG.standard_normal(tuple(t_out.shape)).astype(arrays[0].dtype)
    (t_out * torch.tensor(v)).sum().backward()
    (e_out * ember.tensor(v)).sum().backward()
    for ti, ei in zip(t_in, e_in):
        np.testing.assert_allclose(ei.grad.numpy(), ti.grad.numpy(), atol=grad_atol)


MODES = [("nearest", 1), ("nearest", 2), ("nearest", 3), ("nearest-exact", 1),
         ("nearest-exact", 2), ("linear", 1), ("bilinear", 2), ("bicubic", 2),
         ("trilinear", 3), ("area", 1), ("area", 2), ("area", 3)]
GEOMETRY = [dict(size=(7, 3, 9)), dict(scale_factor=1.7), dict(scale_factor=0.6),
            dict(scale_factor=1.7, recompute_scale_factor=True), dict(scale_factor=2),
            dict(scale_factor=(0.5, 2.5, 1.5))]


@pytest.mark.parametrize("mode,d", MODES)
def test_interpolate_every_mode(mode, d):
    x = RNG.standard_normal((2, 3) + (5, 6, 4)[:d])
    corners = [None] if mode.startswith("nearest") or mode == "area" else [None, True, False]
    for ac in corners:
        for geo in GEOMETRY:
            kw = dict(geo)
            if "size" in kw:
                kw["size"] = kw["size"][:d]
            if isinstance(kw.get("scale_factor"), tuple):
                kw["scale_factor"] = kw["scale_factor"][:d]
            _check(lambda t: TF.interpolate(t, mode=mode, align_corners=ac, **kw),
                   lambda e: F.interpolate(e, mode=mode, align_corners=ac, **kw), [x])


def test_bicubic_float32_and_borders():
    # Upsampling a small image reaches taps beyond both borders (clamped by torch).
    x = RNG.standard_normal((1, 2, 3, 4)).astype(np.float32)
    for ac in (True, False):
        _check(lambda t: TF.interpolate(t, size=(8, 11), mode="bicubic", align_corners=ac),
               lambda e: F.interpolate(e, size=(8, 11), mode="bicubic", align_corners=ac), [x],
               atol=1e-5, grad_atol=1e-5)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_interpolate_antialias(mode):
    # Shrinking (a stretched filter over many inputs), growing, mixed, and to 1x1.
    x = RNG.standard_normal((2, 2, 9, 7))
    for ac in (False, True):
        for kw in [dict(size=(3, 2)), dict(size=(13, 4)), dict(scale_factor=0.4),
                   dict(scale_factor=(0.3, 1.6)),
                   dict(scale_factor=0.45, recompute_scale_factor=True), dict(size=(1, 1))]:
            _check(lambda t: TF.interpolate(t, mode=mode, antialias=True, align_corners=ac, **kw),
                   lambda e: F.interpolate(e, mode=mode, antialias=True, align_corners=ac, **kw),
                   [x], atol=1e-10, grad_atol=1e-10)


def test_interpolate_mode_and_dimension_errors():
    cases = [((1, 1, 4), "bilinear", "Got 3D input, but bilinear mode needs 4D input"),
             ((1, 1, 4, 4), "linear", "Got 4D input, but linear mode needs 3D input"),
             ((1, 1, 4, 4), "trilinear", "Got 4D input, but trilinear mode needs 5D input"),
             ((1, 1, 4, 4, 4), "bicubic", r"Only 3D, 4D and 5D input Tensors supported \(got 5D\)"
                                          r" for the modes: .* \(got bicubic\)"),
             ((1, 1, 4, 4), "foo", r"Only 3D, 4D and 5D input Tensors supported \(got 4D\) "
                                   r"for the modes: .* \(got foo\)"),
             ((1, 4), "nearest", r"Only 3D, 4D and 5D input Tensors supported \(got 2D\)")]
    for shape, mode, msg in cases:
        with pytest.raises(NotImplementedError, match=msg):
            F.interpolate(ember.zeros(shape), scale_factor=2, mode=mode)
        with pytest.raises(NotImplementedError, match=msg):
            TF.interpolate(torch.zeros(shape), scale_factor=2, mode=mode)
    with pytest.raises(ValueError, match="Anti-alias option is restricted to bilinear, bicubic"):
        F.interpolate(ember.zeros(1, 1, 4, 4), size=2, mode="nearest", antialias=True)


@pytest.mark.parametrize("mode", ["nearest", "bilinear", "bicubic"])
def test_upsample_module(mode):
    x = RNG.standard_normal((2, 2, 4, 5)).astype(np.float32)
    ac = None if mode == "nearest" else True
    t_m = torch.nn.Upsample(scale_factor=1.5, mode=mode, align_corners=ac)
    e_m = nn.Upsample(scale_factor=1.5, mode=mode, align_corners=ac)
    assert repr(e_m) == repr(t_m)
    _check(t_m, e_m, [x], atol=1e-5, grad_atol=1e-5)


def test_deprecated_upsample_functions():
    x = RNG.standard_normal((1, 1, 3, 3))
    for name, kw in [("upsample", dict(scale_factor=2, mode="bicubic", align_corners=False)),
                     ("upsample_nearest", dict(size=5)), ("upsample_bilinear", dict(size=5))]:
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            e = getattr(F, name)(ember.tensor(x), **kw)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = getattr(TF, name)(torch.tensor(x), **kw)
        np.testing.assert_allclose(e.numpy(), t.numpy(), atol=1e-12)
        assert [str(w.message) for w in rec] == [f"`nn.functional.{name}` is deprecated. Use "
                                                 "`nn.functional.interpolate` instead."]


GRID_CASES = [(d, mode, pad, ac)
              for d in (2, 3) for mode in ("bilinear", "nearest", "bicubic")
              for pad in ("zeros", "border", "reflection") for ac in (True, False)
              if not (d == 3 and mode == "bicubic")]


@pytest.mark.parametrize("d,mode,pad,ac", GRID_CASES)
def test_grid_sample(d, mode, pad, ac):
    x = RNG.standard_normal((2, 3) + (4, 5, 6)[:d])
    # Beyond [-1, 1] so that every padding rule and reflection's several flips are used.
    g = RNG.uniform(-2.6, 2.6, (2,) + (3, 4, 2)[:d] + (d,))
    _check(lambda a, b: TF.grid_sample(a, b, mode=mode, padding_mode=pad, align_corners=ac),
           lambda a, b: F.grid_sample(a, b, mode=mode, padding_mode=pad, align_corners=ac),
           [x, g], atol=1e-10, grad_atol=1e-9)


def test_grid_sample_single_pixel_and_float32():
    # A size-1 axis: reflection has nothing to reflect over, every coordinate maps to 0.
    x = RNG.standard_normal((1, 2, 1, 4)).astype(np.float32)
    g = RNG.uniform(-1.5, 1.5, (1, 3, 3, 2)).astype(np.float32)
    for pad in ("zeros", "border", "reflection"):
        for ac in (True, False):
            _check(lambda a, b: TF.grid_sample(a, b, padding_mode=pad, align_corners=ac),
                   lambda a, b: F.grid_sample(a, b, padding_mode=pad, align_corners=ac),
                   [x, g], atol=1e-5, grad_atol=1e-4)


def test_grid_sample_double_backward():
    x = ember.tensor(RNG.standard_normal((1, 1, 3, 3))).requires_grad_(True)
    g = ember.tensor(RNG.uniform(-1, 1, (1, 2, 2, 2))).requires_grad_(True)
    tx, tg = torch.tensor(x.detach().numpy(), requires_grad=True), \
        torch.tensor(g.detach().numpy(), requires_grad=True)
    for lib, a, b in ((ember, x, g), (torch, tx, tg)):
        fn = F if lib is ember else TF
        y = fn.grid_sample(a, b, align_corners=False)
        ga, gb = lib.autograd.grad((y * y).sum(), (a, b), create_graph=True)
        (ga.sum() + (gb * gb).sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(g.grad.numpy(), tg.grad.numpy(), atol=1e-10)


def test_grid_sample_errors_and_warning():
    x, g = ember.zeros(1, 1, 3, 3), ember.zeros(1, 2, 2, 2)
    with pytest.raises(ValueError, match="expected mode to be 'bilinear', 'nearest' or"):
        F.grid_sample(x, g, mode="foo", align_corners=False)
    with pytest.raises(ValueError, match="expected padding_mode to be 'zeros', 'border'"):
        F.grid_sample(x, g, padding_mode="foo", align_corners=False)
    with pytest.raises(RuntimeError, match=r"expected grid to have size 2 in last dimension, "
                                           r"but got grid with sizes \[1, 2, 2, 1\]"):
        F.grid_sample(x, ember.zeros(1, 2, 2, 1), align_corners=False)
    with pytest.raises(RuntimeError, match="same batch size"):
        F.grid_sample(x, ember.zeros(2, 2, 2, 2), align_corners=False)
    with pytest.raises(RuntimeError, match="bicubic interpolation only supports 4D input"):
        F.grid_sample(ember.zeros(1, 1, 2, 2, 2), ember.zeros(1, 1, 1, 1, 3), mode="bicubic",
                      align_corners=False)
    with pytest.raises(RuntimeError, match="expected scalar type Float but found Double"):
        F.grid_sample(x, g.double(), align_corners=False)
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        F.grid_sample(x, g)


@pytest.mark.parametrize("size", [(2, 3, 4, 5), (2, 1, 3, 4, 5), (2, 1, 1, 4), (2, 1, 1, 1, 3)])
def test_affine_grid(size, recwarn):
    theta = RNG.standard_normal((2,) + ((2, 3) if len(size) == 4 else (3, 4)))
    for ac in (True, False):
        _check(lambda t: TF.affine_grid(t, size, align_corners=ac),
               lambda e: F.affine_grid(e, size, align_corners=ac), [theta],
               atol=1e-12, grad_atol=1e-12)


def test_affine_grid_then_grid_sample_float32():
    theta = RNG.standard_normal((2, 2, 3)).astype(np.float32) * 0.5
    x = RNG.standard_normal((2, 3, 5, 4)).astype(np.float32)
    _check(lambda th, a: TF.grid_sample(a, TF.affine_grid(th, (2, 3, 6, 7), align_corners=False),
                                        align_corners=False),
           lambda th, a: F.grid_sample(a, F.affine_grid(th, (2, 3, 6, 7), align_corners=False),
                                       align_corners=False),
           [theta, x], atol=1e-5, grad_atol=1e-4)


def test_affine_grid_errors_and_warnings():
    th = ember.zeros(1, 2, 3)
    cases = [(lambda: F.affine_grid(th, (1, 1, 3, 3, 3), align_corners=False), ValueError,
              r"Expected a batch of 3D affine matrices of shape Nx3x4 for size \(1, 1, 3, 3, 3\)"
              r"\. Got torch\.Size\(\[1, 2, 3\]\)\."),
             (lambda: F.affine_grid(ember.zeros(1, 3, 4), (1, 1, 3, 3), align_corners=False),
              ValueError, "Expected a batch of 2D affine matrices of shape Nx2x3"),
             (lambda: F.affine_grid(th.int(), (1, 1, 3, 3), align_corners=False), ValueError,
              "Expected theta to have floating point type, but got torch.int32"),
             (lambda: F.affine_grid(th, (1, 1, 3), align_corners=False), NotImplementedError,
              r"affine_grid only supports 4D and 5D sizes.*Got size \(1, 1, 3\)\."),
             (lambda: F.affine_grid(th, (1, 1, 0, 2), align_corners=False), ValueError,
              r"Expected non-zero, positive output size. Got \(1, 1, 0, 2\)"),
             (lambda: F.affine_grid(th, (3, 1, 2, 2), align_corners=False), RuntimeError,
              r"batch2 tensor to be: \[3, 3\] but got: \[1, 3\]")]
    for fn, cls, msg in cases:
        with pytest.raises(cls, match=msg):
            fn()
    with pytest.warns(UserWarning, match="unit-size grids"):
        F.affine_grid(th, (1, 1, 1, 3), align_corners=True)
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        F.affine_grid(th, (1, 1, 2, 3))
