"""Resampling by coordinates: bicubic interpolate, grid_sample and affine_grid.

grid_sample is a composition of differentiable ops: integer tap positions are
computed without a graph, the interpolation weights are Ember functions of the grid,
and the taps are read with ``gather``.  Gradients w.r.t. input (gather's scatter-add)
and grid (through the weights) then come out exactly as torch's, double backward
included.
"""
import itertools
import math
import warnings

import numpy as np

from ... import _creation, _ops as ops
from ..._device import array_module
from ..._ops import nn_ops
from ..._ops.conv import _tuple
from ..._tensor import _make
from . import conv as _conv

# torch's bicubic kernel (Keys' cubic convolution with A = -0.75).
_A = -0.75


def _cubic_weights(t):
    """The four tap weights at offsets -1, 0, 1, 2 for fractional position t (any op type)."""
    def near(x):   # |x| <= 1
        return ((_A + 2) * x - (_A + 3)) * x * x + 1

    def far(x):    # 1 < |x| < 2
        return ((_A * x - 5 * _A) * x + 8 * _A) * x - 4 * _A
    return far(t + 1), near(t), near(1 - t), far(2 - t)


def _bicubic(input, out, scales, align_corners):
    """Separable bicubic: each axis reads four clamped neighbours per output position."""
    xpm = array_module(input._data)
    y = input
    for i, n_out in enumerate(out):
        ax = 2 + i
        size = input.shape[ax]
        dst = np.arange(n_out, dtype=np.float64)
        if align_corners:
            src = dst * ((size - 1) / (n_out - 1)) if n_out > 1 else dst * 0
        else:
            # Unlike linear, cubic source positions are not clamped at 0 (torch).
            src = (dst + 0.5) * scales[i] - 0.5
        base = np.floor(src)
        weights = _cubic_weights(src - base)
        acc = None
        shape = [1] * y.dim()
        shape[ax] = n_out
        for k in range(4):
            idx = np.clip(base.astype(np.int64) - 1 + k, 0, size - 1)
            w = _make(xpm.asarray(weights[k].astype(input._data.dtype)).reshape(shape))
            term = nn_ops.index_gather(y, ax, xpm.asarray(idx)) * w
            acc = term if acc is None else acc + term
        y = acc
    return y


def _output_geometry(input, size, scale_factor, recompute_scale_factor):
    d = input.dim() - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        out = _tuple(size, d)
        return out, [input.shape[2 + i] / out[i] for i in range(d)]
    if scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    sf = scale_factor if isinstance(scale_factor, (tuple, list)) else [scale_factor] * d
    out = tuple(int(math.floor(input.shape[2 + i] * sf[i])) for i in range(d))
    return out, [input.shape[2 + i] / out[i] if recompute_scale_factor else 1.0 / sf[i]
                 for i in range(d)]


def _aa_filter(mode):
    if mode == "bilinear":
        return 2, lambda x: np.maximum(1 - np.abs(x), 0)
    a = -0.5   # torch's antialiased bicubic uses Keys' a = -0.5, not -0.75

    def cubic(x):
        x = np.abs(x)
        near = ((a + 2) * x - (a + 3)) * x * x + 1
        far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
        return np.where(x < 1, near, np.where(x < 2, far, 0))
    return 4, cubic


def _antialias_matrix(size, n_out, scale, mode):
    """Row i: normalised filter weights over the inputs under output i.  When shrinking,
    the filter is stretched by the scale so every input contributes (no aliasing)."""
    taps, fn = _aa_filter(mode)
    support = taps / 2 * scale if scale >= 1 else taps / 2
    inv = 1 / scale if scale >= 1 else 1.0
    m = np.zeros((n_out, size))
    for i in range(n_out):
        center = scale * (i + 0.5)
        lo = max(int(center - support + 0.5), 0)
        hi = min(int(center + support + 0.5), size)
        w = fn((np.arange(lo, hi) - center + 0.5) * inv)
        total = w.sum()
        m[i, lo:hi] = w / total if total != 0 else w
    return m


def _antialiased(input, out, scales, mode, align_corners):
    xpm = array_module(input._data)
    y = input
    for i, n_out in enumerate(out):
        ax = 2 + i
        size = input.shape[ax]
        if align_corners:
            scale = (size - 1) / (n_out - 1) if n_out > 1 else 0.0
        else:
            scale = scales[i]
        m = _make(xpm.asarray(_antialias_matrix(size, n_out, scale, mode).astype(
            input._data.dtype)))
        y = (y.transpose(ax, -1) @ m.t()).transpose(ax, -1)
    return y


_NEEDS_DIM = {"linear": 3, "bilinear": 4, "trilinear": 5}


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """torch.nn.functional.interpolate; bicubic and antialias here, the rest in ``conv``."""
    known = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "area", "nearest-exact")
    # torch names a non-4-D bicubic input by its generic message.
    if input.dim() not in (3, 4, 5) or mode not in known or \
            (mode == "bicubic" and input.dim() != 4):
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported "
                                  f"(got {input.dim()}D) for the modes: nearest | linear | "
                                  f"bilinear | bicubic | trilinear | lanczos | area | "
                                  f"nearest-exact (got {mode})")
    if mode in _NEEDS_DIM and input.dim() != _NEEDS_DIM[mode]:
        raise NotImplementedError(f"Got {input.dim()}D input, but {mode} mode needs "
                                  f"{_NEEDS_DIM[mode]}D input")
    if antialias and (mode not in ("bilinear", "bicubic") or input.dim() != 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos "
                         "modes and requires a 4-D tensor as input")
    if mode != "bicubic" and not antialias:
        return _conv.interpolate(input, size, scale_factor, mode, align_corners,
                                 recompute_scale_factor, antialias)
    out, scales = _output_geometry(input, size, scale_factor, recompute_scale_factor)
    if antialias:
        return _antialiased(input, out, scales, mode, bool(align_corners))
    return _bicubic(input, out, scales, bool(align_corners))


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    warnings.warn("`nn.functional.upsample` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", UserWarning, stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", UserWarning, stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", UserWarning, stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ---- grid_sample / affine_grid ------------------------------------------------------
_ALIGN_WARNING = ("Default grid_sample and affine_grid behavior has changed to "
                  "align_corners=False since 1.3.0. Please specify align_corners=True if the "
                  "old behavior is desired. See the documentation of grid_sample for details.")


def _unnormalize(coord, size, align_corners):
    """[-1, 1] grid coordinates to pixel positions."""
    if align_corners:
        return (coord + 1) * ((size - 1) / 2)
    return ((coord + 1) * size - 1) / 2


def _clip(coord, size):
    # torch treats the borders themselves as clipped: no gradient there.
    hi = size - 1
    inside = (coord > 0) & (coord < hi)
    return ops.where(inside, coord, ops.clamp(coord.detach(), 0, hi))


def _reflect(coord, twice_low, twice_high):
    """Reflect into [twice_low/2, twice_high/2]; the slope is +-1 as torch's."""
    if twice_low == twice_high:
        return coord * 0
    low = twice_low / 2
    span = (twice_high - twice_low) / 2
    a = (coord - low).abs()
    extra = ops.fmod(a, span)
    flips = ops.floor(a.detach() / span)
    even = ops.fmod(flips, 2) == 0
    return ops.where(even, extra + low, (span - extra) + low)


def _apply_padding(coord, size, padding_mode, align_corners):
    if padding_mode == "border":
        return _clip(coord, size)
    if padding_mode == "reflection":
        if align_corners:
            coord = _reflect(coord, 0, 2 * (size - 1))
        else:
            coord = _reflect(coord, -1, 2 * size - 1)
        return _clip(coord, size)
    return coord


class _Taps:
    """Reads input[n, c, *position] for integer positions of shape (N, *out); taps
    outside the input read 0 (the zero padding that every mode applies last)."""

    def __init__(self, input):
        self.input = input
        self.n, self.c = input.shape[0], input.shape[1]
        self.spatial = tuple(input.shape[2:])
        self.flat = input.reshape((self.n, self.c, -1))
        self.xp = array_module(input._data)

    def read(self, positions):
        xp = self.xp
        valid = None
        linear = None
        for pos, size in zip(positions, self.spatial):
            ok = (pos >= 0) & (pos < size)
            valid = ok if valid is None else valid & ok
            p = xp.clip(pos, 0, size - 1)
            linear = p if linear is None else linear * size + p
        out_shape = linear.shape[1:]
        index = xp.broadcast_to(linear.reshape((self.n, 1, -1)),
                                (self.n, self.c, int(np.prod(out_shape, dtype=np.int64))))
        vals = ops.gather(self.flat, 2, _make(xp.ascontiguousarray(index)))
        vals = vals.reshape((self.n, self.c) + out_shape)
        if not valid.all():
            mask = _make(valid.astype(self.input._data.dtype).reshape((self.n, 1) + out_shape))
            vals = vals * mask
        return vals


def _as_int(t):
    return t._data.astype(np.int64)


def _sample_linear(taps, coords):
    """(bi/tri)linear: 2**d corners, weights the products of (1 - t) and t."""
    floors = [ops.floor(c.detach()) for c in coords]
    fracs = [c - f for c, f in zip(coords, floors)]
    base = [_as_int(f) for f in floors]
    out = None
    for corner in itertools.product((0, 1), repeat=len(coords)):
        w = None
        for bit, t in zip(corner, fracs):
            wi = t if bit else 1 - t
            w = wi if w is None else w * wi
        vals = taps.read([b + bit for b, bit in zip(base, corner)])
        term = vals * w.unsqueeze(1)
        out = term if out is None else out + term
    return out


def _sample_nearest(taps, coords):
    # torch rounds half to even (nearbyint), as NumPy's round does.  The grid gets a
    # zero gradient (not None), as torch's.
    vals = taps.read([_as_int(ops.round(c.detach())) for c in coords])
    zero = sum(coords) * 0
    return vals + zero.unsqueeze(1)


def _sample_bicubic(taps, raw, padding_mode, align_corners):
    """4x4 taps around floor(position); each tap coordinate is padded on its own."""
    floors = [ops.floor(c.detach()) for c in raw]
    weights = [_cubic_weights(c - f) for c, f in zip(raw, floors)]
    out = None
    for ky, kx in itertools.product(range(4), repeat=2):
        positions = []
        for axis, k in zip(range(2), (ky, kx)):
            size = taps.spatial[axis]
            tap = floors[axis] - 1 + k
            padded = _apply_padding(tap, size, padding_mode, align_corners)
            positions.append(_as_int(padded))
        vals = taps.read(positions)
        term = vals * (weights[0][ky] * weights[1][kx]).unsqueeze(1)
        out = term if out is None else out + term
    return out


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """torch.nn.functional.grid_sample: 4-D (bilinear/nearest/bicubic) and 5-D input."""
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError("nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, UserWarning, stacklevel=2)
        align_corners = False
    d = input.dim() - 2
    if input.dim() not in (4, 5) or grid.dim() != input.dim():
        raise RuntimeError(f"grid_sampler(): expected 4D or 5D input and grid with same number "
                           f"of dimensions, but got input with sizes {list(input.shape)} and "
                           f"grid with sizes {list(grid.shape)}")
    if grid.shape[0] != input.shape[0]:
        raise RuntimeError("grid_sampler(): expected grid and input to have same batch size, "
                           f"but got input with sizes {list(input.shape)} and grid with sizes "
                           f"{list(grid.shape)}")
    if grid.shape[-1] != d:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {d} in last dimension, "
                           f"but got grid with sizes {list(grid.shape)}")
    if mode == "bicubic" and d != 2:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    if input.dtype != grid.dtype:
        raise RuntimeError(f"expected scalar type {_scalar_name(input.dtype)} but found "
                           f"{_scalar_name(grid.dtype)}")
    taps = _Taps(input)
    # grid[..., 0] indexes the last spatial dim (x = width), grid[..., 1] the one before.
    raw = [_unnormalize(grid[..., d - 1 - i], taps.spatial[i], align_corners)
           for i in range(d)]
    if mode == "bicubic":
        return _sample_bicubic(taps, raw, padding_mode, align_corners)
    coords = [_apply_padding(c, taps.spatial[i], padding_mode, align_corners)
              for i, c in enumerate(raw)]
    if mode == "nearest":
        return _sample_nearest(taps, coords)
    return _sample_linear(taps, coords)


def _scalar_name(dtype):
    from ... import _dtype as D
    names = {D.float32: "Float", D.float64: "Double", D.float16: "Half",
             D.bfloat16: "BFloat16"}
    return names.get(dtype, str(dtype).replace("torch.", ""))


def _base_coords(n, align_corners, like):
    """torch's linspace(-1, 1, n), shrunk by (n-1)/n without align_corners; 0 for n = 1."""
    if n <= 1:
        return _creation.zeros((1,), dtype=like.dtype, device=like.device)
    coords = _creation.linspace(-1.0, 1.0, n, dtype=like.dtype, device=like.device)
    return coords if align_corners else coords * ((n - 1) / n)


def affine_grid(theta, size, align_corners=None):
    """torch.nn.functional.affine_grid: [x, y(, z), 1] @ theta^T at every output pixel."""
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, UserWarning, stacklevel=2)
        align_corners = False
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    size = tuple(size)
    if len(size) == 4:
        if theta.dim() != 3 or tuple(theta.shape[-2:]) != (2, 3):
            raise ValueError("Expected a batch of 2D affine matrices of shape Nx2x3 for size "
                             f"{size}. Got {_torch_size(theta.shape)}.")
        spatial = size[2:]
    elif len(size) == 5:
        if theta.dim() != 3 or tuple(theta.shape[-2:]) != (3, 4):
            raise ValueError("Expected a batch of 3D affine matrices of shape Nx3x4 for size "
                             f"{size}. Got {_torch_size(theta.shape)}.")
        spatial = size[2:]
    else:
        raise NotImplementedError("affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {size}.")
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    d = len(spatial)
    if theta.shape[0] != size[0]:
        # torch's error comes from its batched matmul of the base grid with theta^T.
        raise RuntimeError("Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{size[0]}, {d + 1}] but got: [{theta.shape[0]}, {d + 1}].")
    if align_corners and min(spatial) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids "
                      "when align_corners=True. This is not an intended use case of affine_grid. "
                      "See the documentation of affine_grid for details.", UserWarning,
                      stacklevel=2)
    d = len(spatial)
    axes = [_base_coords(s, align_corners, theta) for s in spatial]
    # Columns x, y(, z), 1 where x runs along the last spatial dim.
    cols = []
    for k in range(d):
        dim = d - 1 - k
        shape = [1] * d
        shape[dim] = spatial[dim]
        cols.append(axes[dim].reshape(shape).expand(spatial))
    cols.append(_creation.ones(spatial, dtype=theta.dtype, device=theta.device))
    base = ops.stack(cols, -1).reshape((1, -1, d + 1))
    grid = ops.matmul(base, theta.transpose(1, 2))
    return grid.reshape((size[0],) + tuple(spatial) + (d,))


def _torch_size(shape):
    return f"torch.Size([{', '.join(str(s) for s in shape)}])"


__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "grid_sample",
           "affine_grid"]
