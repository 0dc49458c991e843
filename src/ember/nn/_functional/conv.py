"""Convolution, pooling, resampling and patch functions."""
import math

import numpy as np

from ..._device import array_module
from ..._ops import conv as _conv
from ..._ops import nn_ops
from ..._ops import pool as _pool
from ..._ops.conv import _tuple
from ..._tensor import _make


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv.convolution(input, weight, bias, stride, padding, dilation, groups, 1)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv.convolution(input, weight, bias, stride, padding, dilation, groups, 2)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv.convolution(input, weight, bias, stride, padding, dilation, groups, 3)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    return _conv.conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                                dilation, 1)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    return _conv.conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                                dilation, 2)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    return _conv.conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                                dilation, 3)


# ---- pooling ----------------------------------------------------------------------
def _pool_out(size, k, s, p, d, ceil_mode):
    eff = d * (k - 1) + 1
    num = size + 2 * p - eff
    out = (-(-num // s) if ceil_mode else num // s) + 1
    # The last window must start inside the input or its left padding.
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _batched(input, d, name):
    if input.dim() not in (d + 1, d + 2):
        raise RuntimeError(f"non-empty {d + 1}D or {d + 2}D (batch mode) tensor expected for "
                           "input")
    return (input.unsqueeze(0), True) if input.dim() == d + 1 else (input, False)


def _pool_geometry(input, d, kernel_size, stride, padding, dilation, ceil_mode):
    k = _tuple(kernel_size, d)
    s = _tuple(stride if stride is not None and stride != [] and stride != () else kernel_size, d)
    p = _tuple(padding, d)
    dl = _tuple(dilation, d)
    for i in range(d):
        if p[i] > k[i] // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={p[i]}, kernel_size={k[i]} and dilation={dl[i]}")
    out = tuple(_pool_out(input.shape[2 + i], k[i], s[i], p[i], dl[i], ceil_mode)
                for i in range(d))
    if any(o <= 0 for o in out):
        raise RuntimeError(f"Given input size: ({'x'.join(str(v) for v in input.shape[1:])}). "
                           f"Calculated output size: ({input.shape[1]}x"
                           f"{'x'.join(str(o) for o in out)}). Output size is too small")
    return k, s, p, dl, out


def _max_pool(d, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    x, unbatched = _batched(input, d, f"max_pool{d}d")
    k, s, p, dl, out = _pool_geometry(x, d, kernel_size, stride, padding, dilation, ceil_mode)
    if not return_indices and _pool.tiles(x, k, s, p, dl, out):
        y = _pool.max_pool_tiles(x, k)
        return y.squeeze(0) if unbatched else y
    idx = _make(nn_ops.max_pool_indices(x._data, k, s, p, dl, out))
    # Windows that cannot overlap pick distinct inputs, which speeds up the backward.
    disjoint = all(s[i] >= dl[i] * (k[i] - 1) + 1 for i in range(d))
    y = nn_ops.spatial_gather(x, idx, disjoint, f"MaxPool{max(d, 2)}DWithIndicesBackward0")
    if unbatched:
        y, idx = y.squeeze(0), idx.squeeze(0)
    return (y, idx) if return_indices else y


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    return _max_pool(1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    return _max_pool(2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    return _max_pool(3, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def _max_unpool(d, input, indices, kernel_size, stride, padding, output_size):
    x, unbatched = _batched(input, d, f"max_unpool{d}d")
    idx = indices.unsqueeze(0) if unbatched else indices
    k = _tuple(kernel_size, d)
    s = _tuple(stride if stride is not None else kernel_size, d)
    p = _tuple(padding, d)
    spatial = tuple((x.shape[2 + i] - 1) * s[i] - 2 * p[i] + k[i] for i in range(d))
    if output_size is not None:
        from .pooling_extra import _unpool_size
        spatial = _unpool_size(output_size, spatial, s)
    # Overlapping windows can name one position twice; torch writes it once (no sum).
    y = nn_ops.spatial_scatter(x, idx, spatial, unique=True)
    return y.squeeze(0) if unbatched else y


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool(1, input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool(2, input, indices, kernel_size, stride, padding, output_size)


def _avg_pool(d, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    """Window sums by a ones-kernel convolution, divided by torch's divisor."""
    from ..._creation import ones
    x, unbatched = _batched(input, d, f"avg_pool{d}d")
    k, s, p, dl, out = _pool_geometry(x, d, kernel_size, stride, padding, 1, ceil_mode)
    if _pool.tiles(x, k, s, p, dl, out):
        y = _tile_mean(x, k, out)
        if divisor_override:
            y = y * (_prod(k) / divisor_override)
        return y.squeeze(0) if unbatched else y
    n, c = x.shape[:2]
    extra = [max(0, (out[i] - 1) * s[i] + k[i] - (x.shape[2 + i] + 2 * p[i])) for i in range(d)]
    pads = []
    for i in reversed(range(d)):
        pads += [p[i], p[i] + extra[i]]
    xp_ = nn_ops.pad(x.reshape((n * c, 1) + tuple(x.shape[2:])), pads)
    kernel = ones((1, 1) + k, dtype=x.dtype, device=x.device)
    sums = _conv.convolution(xp_, kernel, None, s, 0, 1, 1, d)
    if divisor_override:
        y = sums / divisor_override
    else:
        xpm = array_module(x._data)
        # Which padded positions count towards the divisor.
        mask = xpm.zeros(tuple(x.shape[2 + i] + 2 * p[i] + extra[i] for i in range(d)),
                         dtype=x._data.dtype)
        region = tuple(slice(0, x.shape[2 + i] + 2 * p[i]) if count_include_pad
                       else slice(p[i], p[i] + x.shape[2 + i]) for i in range(d))
        mask[region] = 1
        counts = _conv._conv_fwd(mask.reshape((1, 1) + mask.shape), kernel._data, None, s,
                                 (0,) * d, (1,) * d, 1)
        y = sums / _make(counts)
    y = y.reshape((n, c) + tuple(out))
    return y.squeeze(0) if unbatched else y


def _prod(shape):
    p = 1
    for v in shape:
        p *= v
    return p


def _tile_mean(x, k, out):
    """Means of windows that tile x (kernel == stride): a reshape and one mean."""
    d = len(k)
    crop = x[(slice(None), slice(None)) + tuple(slice(0, out[i] * k[i]) for i in range(d))]
    shape = tuple(x.shape[:2])
    for i in range(d):
        shape += (out[i], k[i])
    return crop.reshape(shape).mean(tuple(3 + 2 * i for i in range(d)))


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    return _avg_pool(1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    return _avg_pool(2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    return _avg_pool(3, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def _adaptive_bounds(size, out):
    starts = [(i * size) // out for i in range(out)]
    ends = [-(-((i + 1) * size) // out) for i in range(out)]
    return starts, ends


def _averaging_matrix(size, out, like):
    m = np.zeros((out, size), dtype=like._data.dtype)
    for i, (a, b) in enumerate(zip(*_adaptive_bounds(size, out))):
        m[i, a:b] = 1.0 / (b - a)
    return _make(array_module(like._data).asarray(m))


def _out_size(output_size, input, d):
    sizes = _tuple(output_size, d) if not isinstance(output_size, (tuple, list)) else \
        tuple(output_size)
    return tuple(input.shape[-d + i] if sizes[i] is None else sizes[i] for i in range(d))


def _adaptive_avg(d, input, output_size):
    x, unbatched = _batched(input, d, f"adaptive_avg_pool{d}d")
    out = _out_size(output_size, x, d)
    if all(o == 1 for o in out):
        # torch records a mean here too (MeanBackward1).
        y = x.mean(tuple(range(2, 2 + d)), keepdim=True)
        return y.squeeze(0) if unbatched else y
    if all(x.shape[2 + i] % out[i] == 0 for i in range(d)):
        y = _tile_mean(x, tuple(x.shape[2 + i] // out[i] for i in range(d)), out)
        return y.squeeze(0) if unbatched else y
    # Separable: one averaging matrix per spatial dim, applied by matmul.
    y = x
    for i in range(d):
        ax = 2 + i
        m = _averaging_matrix(x.shape[ax], out[i], x)
        y = (y.transpose(ax, -1) @ m.t()).transpose(ax, -1)
    return y.squeeze(0) if unbatched else y


def adaptive_avg_pool1d(input, output_size):
    return _adaptive_avg(1, input, output_size)


def adaptive_avg_pool2d(input, output_size):
    return _adaptive_avg(2, input, output_size)


def adaptive_avg_pool3d(input, output_size):
    return _adaptive_avg(3, input, output_size)


def _adaptive_max(d, input, output_size, return_indices):
    x, unbatched = _batched(input, d, f"adaptive_max_pool{d}d")
    out = _out_size(output_size, x, d)
    xpm = array_module(x._data)
    a = x._data
    idx = xpm.zeros(a.shape[:2] + out, dtype=np.int64)
    bounds = [_adaptive_bounds(a.shape[2 + i], out[i]) for i in range(d)]
    # One loop step per output cell (few of them); each step is vectorized over N and C.
    for cell in np.ndindex(*out):
        lo = [bounds[i][0][cell[i]] for i in range(d)]
        hi = [bounds[i][1][cell[i]] for i in range(d)]
        win = a[(slice(None), slice(None)) + tuple(slice(lo[i], hi[i]) for i in range(d))]
        local = win.reshape(a.shape[:2] + (-1,)).argmax(-1)
        coords = np.unravel_index(local, tuple(hi[i] - lo[i] for i in range(d))) \
            if xpm is np else xpm.unravel_index(local, tuple(hi[i] - lo[i] for i in range(d)))
        glob = tuple(coords[i] + lo[i] for i in range(d))
        idx[(slice(None), slice(None)) + cell] = xpm.ravel_multi_index(glob, a.shape[2:])
    ti = _make(idx)
    y = nn_ops.spatial_gather(x, ti, node=f"AdaptiveMaxPool{max(d, 2)}DBackward0")
    if unbatched:
        y, ti = y.squeeze(0), ti.squeeze(0)
    return (y, ti) if return_indices else y


def adaptive_max_pool1d(input, output_size, return_indices=False):
    return _adaptive_max(1, input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    return _adaptive_max(2, input, output_size, return_indices)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    from ..._ops.unary import relu, sign
    k = _tuple(kernel_size, 2)
    out = avg_pool2d(input ** norm_type, k, stride, 0, ceil_mode)
    return (sign(out) * relu(out.abs())) ** (1.0 / norm_type) * (k[0] * k[1]) ** (1.0 / norm_type)


# ---- resampling and patches ---------------------------------------------------------
def pixel_shuffle(input, upscale_factor):
    r = upscale_factor
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible "
                           f"by the square of upscale_factor, but input.size(-3)={c} is not "
                           f"divisible by {r * r}")
    n = len(lead)
    x = input.reshape(tuple(lead) + (c // (r * r), r, r, h, w))
    x = x.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return x.reshape(tuple(lead) + (c // (r * r), h * r, w * r))


def pixel_unshuffle(input, downscale_factor):
    r = downscale_factor
    *lead, c, h, w = input.shape
    n = len(lead)
    x = input.reshape(tuple(lead) + (c, h // r, r, w // r, r))
    x = x.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return x.reshape(tuple(lead) + (c * r * r, h // r, w // r))


def _identity_patch_weight(c, k, like):
    from ..._creation import eye
    ck = c * int(np.prod(k))
    return eye(ck, dtype=like.dtype, device=like.device).reshape((ck, c) + tuple(k))


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """im2col: (N, C, H, W) -> (N, C*kh*kw, L), as a convolution with an identity kernel."""
    if input.dim() != 4:
        raise NotImplementedError("Input Error: Only 4D input Tensors are supported (got "
                                  f"{input.dim()}D)")
    k = _tuple(kernel_size, 2)
    w = _identity_patch_weight(input.shape[1], k, input)
    y = conv2d(input, w, None, stride, padding, dilation)
    return y.reshape((y.shape[0], y.shape[1], -1))


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """col2im, the adjoint of unfold: overlapping patches are summed."""
    k = _tuple(kernel_size, 2)
    out = _tuple(output_size, 2)
    s, p, dl = _tuple(stride, 2), _tuple(padding, 2), _tuple(dilation, 2)
    c = input.shape[1] // (k[0] * k[1])
    blocks = tuple((out[i] + 2 * p[i] - dl[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(2))
    w = _identity_patch_weight(c, k, input)
    g = input.reshape((input.shape[0], input.shape[1]) + blocks)
    # The output padding that makes the transposed convolution's output exactly ``out``.
    extra = tuple(out[i] - ((blocks[i] - 1) * s[i] - 2 * p[i] + dl[i] * (k[i] - 1) + 1)
                  for i in range(2))
    return conv_transpose2d(g, w, None, s, p, extra, 1, dl)


def _source_index(out, size, scale, mode, align_corners):
    dst = np.arange(out, dtype=np.float64)
    if mode == "nearest":
        return np.minimum(np.floor(dst * scale).astype(np.int64), size - 1)
    if mode == "nearest-exact":
        return np.minimum(np.floor((dst + 0.5) * scale).astype(np.int64), size - 1)
    if align_corners:
        src = dst * ((size - 1) / (out - 1)) if out > 1 else dst * 0
    else:
        src = np.maximum((dst + 0.5) * scale - 0.5, 0)
    i0 = np.minimum(np.floor(src).astype(np.int64), size - 1)
    i1 = np.minimum(i0 + 1, size - 1)
    return i0, i1, src - i0


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """nearest, nearest-exact, linear, bilinear, trilinear: separable, one axis at a time."""
    d = input.dim() - 2
    if mode in ("nearest", "nearest-exact", "area") and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        out = _tuple(size, d)
        scales = [input.shape[2 + i] / out[i] for i in range(d)]
    elif scale_factor is not None:
        sf = scale_factor if isinstance(scale_factor, (tuple, list)) else [scale_factor] * d
        out = tuple(int(math.floor(input.shape[2 + i] * sf[i])) for i in range(d))
        scales = [input.shape[2 + i] / out[i] if recompute_scale_factor else 1.0 / sf[i]
                  for i in range(d)]
    else:
        raise ValueError("either size or scale_factor should be defined")
    if mode == "area":
        return _adaptive_avg(d, input, out)
    xpm = array_module(input._data)
    y = input
    for i in range(d):
        ax = 2 + i
        size_i = input.shape[ax]
        if mode in ("nearest", "nearest-exact"):
            idx = _source_index(out[i], size_i, scales[i], mode, align_corners)
            y = nn_ops.index_gather(y, ax, xpm.asarray(idx))
        elif mode in ("linear", "bilinear", "trilinear"):
            i0, i1, lam = _source_index(out[i], size_i, scales[i], mode, bool(align_corners))
            shape = [1] * y.dim()
            shape[ax] = out[i]
            lam = _make(xpm.asarray(lam.astype(input._data.dtype)).reshape(shape))
            y = nn_ops.index_gather(y, ax, xpm.asarray(i0)) * (1 - lam) + \
                nn_ops.index_gather(y, ax, xpm.asarray(i1)) * lam
        else:
            raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported "
                                      f"(got {input.dim()}D) for the modes: nearest | linear | "
                                      f"bilinear | bicubic | trilinear | area | nearest-exact "
                                      f"(got {mode})")
    return y


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    return interpolate(input, size, scale_factor, mode, align_corners)


__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "max_pool1d", "max_pool2d", "max_pool3d", "max_unpool1d",
           "max_unpool2d", "avg_pool1d", "avg_pool2d", "avg_pool3d", "adaptive_avg_pool1d",
           "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d",
           "adaptive_max_pool2d", "lp_pool2d", "pixel_shuffle", "pixel_unshuffle", "unfold",
           "fold", "interpolate", "upsample"]
