"""Pooling beyond ``conv``'s: 3-D adaptive max and unpooling, Lp pooling in 1-D and 3-D,
and fractional max pooling (Graham, 2014) in 2-D and 3-D."""
import numpy as np

from ..._device import array_module
from ..._ops import nn_ops
from ..._ops.conv import _tuple
from ..._ops.unary import relu, sign
from ..._tensor import _make
from . import conv as _conv


def adaptive_max_pool3d(input, output_size, return_indices=False):
    return _conv._adaptive_max(3, input, output_size, return_indices)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    x, unbatched = _conv._batched(input, 3, "max_unpool3d")
    idx = indices.unsqueeze(0) if unbatched else indices
    k = _tuple(kernel_size, 3)
    s = _tuple(stride if stride is not None else kernel_size, 3)
    p = _tuple(padding, 3)
    default = tuple((x.shape[2 + i] - 1) * s[i] - 2 * p[i] + k[i] for i in range(3))
    spatial = default if output_size is None else _unpool_size(output_size, default, s)
    # torch assigns (never sums) values that overlapping windows send to one index;
    # the scatter's assignment mode does that, and its backward is a plain gather.
    y = nn_ops.spatial_scatter(x, idx, spatial, unique=True)
    return y.squeeze(0) if unbatched else y


def _unpool_size(output_size, default, stride):
    """An explicit output size, checked as torch does: within a stride of the default."""
    size = tuple(output_size)
    d = len(default)
    if len(size) == d + 2:
        size = size[2:]
    if len(size) != d:
        raise ValueError(f"output_size should be a sequence containing {d} or {d + 2} elements, "
                         f"but it has a length of '{len(size)}'")
    for i in range(d):
        low, high = default[i] - stride[i], default[i] + stride[i]
        if not low < size[i] < high:
            raise ValueError(f'invalid output_size "{tuple(output_size)}" (dim {i} must be '
                             f"between {low} and {high})")
    return size


def _lp_pool(d, input, norm_type, kernel_size, stride, ceil_mode):
    k = _tuple(kernel_size, d)
    pool = (_conv.avg_pool1d, _conv.avg_pool2d, _conv.avg_pool3d)[d - 1]
    out = pool(input ** norm_type, kernel_size, stride if stride is not None else k, 0,
               ceil_mode)
    # avg * window size = the window's sum of |x|^p; sign/relu as torch, which keeps
    # the root real when an odd p gives a negative sum.
    return (sign(out) * relu(out.abs()) * int(np.prod(k))) ** (1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(3, input, norm_type, kernel_size, stride, ceil_mode)


# ---- fractional max pooling ---------------------------------------------------------
def _intervals(samples, size, out, pool):
    """Window starts per (N, C) plane: pseudo-random steps of mean (size-pool)/(out-1),
    the last window ending at the input's end (torch's generate_intervals)."""
    starts = np.empty(samples.shape + (out,), dtype=np.int64)
    if out > 1:
        alpha = (size - pool) / (out - 1)
        i = np.arange(out - 1)
        u = samples[..., None].astype(np.float64)
        starts[..., :-1] = (np.trunc((i + u) * alpha) - np.trunc(u * alpha)).astype(np.int64)
    starts[..., -1] = size - pool
    return starts


def _fractional_max(d, input, kernel_size, output_size, output_ratio, return_indices,
                    _random_samples):
    name = f"fractional_max_pool{d}d"
    if output_size is None and output_ratio is None:
        raise ValueError(f"{name} requires specifying either an output_size or an output_ratio")
    x = input.unsqueeze(0) if input.dim() == d + 1 else input
    if x.dim() != d + 2:
        raise RuntimeError(f"{name}(): Expected {d + 1}D or {d + 2}D tensor, but got: "
                           f"{list(input.shape)}")
    k = _tuple(kernel_size, d)
    spatial = tuple(x.shape[2:])
    if output_size is None:
        ratio = tuple(output_ratio) if isinstance(output_ratio, (tuple, list)) \
            else (output_ratio,) * d
        out = tuple(int(spatial[i] * ratio[i]) for i in range(d))
    else:
        out = _tuple(output_size, d)
    names = ("height", "width") if d == 2 else ("time", "height", "width")
    for i in range(d):
        if out[i] + k[i] - 1 > spatial[i]:
            raise RuntimeError(f"{name}(): pool {names[i]} {k[i]} too large relative to input "
                               f"{names[i]} {spatial[i]}")
    n, c = x.shape[0], x.shape[1]
    if _random_samples is None:
        from ..._random import rand
        _random_samples = rand(n, c, d, dtype=input.dtype, device=input.device)
    if _random_samples.dim() != 3:
        raise RuntimeError(f"Expect _random_samples to have 3 dimensions, got "
                           f"{_random_samples.dim()}")
    if _random_samples.shape[2] != d:
        raise RuntimeError(f"Expect _random_samples.size(2) equals to {d}; got "
                           f"{_random_samples.shape[2]}.")
    samples = np.asarray(_random_samples.detach().cpu()._data)[:n]
    # torch's sample order: (w, h) in 2-D but (t, h, w) in 3-D.
    order = (1, 0) if d == 2 else (0, 1, 2)
    xpm = array_module(x._data)
    a = x._data
    # Candidate positions of every window: per dim (N, C, out_i, k_i), broadcast together
    # to (N, C, *out, *k), then the flat index of each window's first maximum.
    linear = None
    for i in range(d):
        starts = _intervals(samples[:, :, order[i]], spatial[i], out[i], k[i])
        pos = starts[..., None] + np.arange(k[i])
        shape = [n, c] + [1] * (2 * d)
        shape[2 + i] = out[i]
        shape[2 + d + i] = k[i]
        pos = pos.reshape(shape)
        linear = pos if linear is None else linear * spatial[i] + pos
    linear = np.broadcast_to(linear, (n, c) + out + k).reshape((n, c) + out + (-1,))
    linear = xpm.asarray(np.ascontiguousarray(linear))
    flat = a.reshape(n, c, -1)
    vals = xpm.take_along_axis(flat, linear.reshape(n, c, -1), axis=2).reshape(linear.shape)
    # argmax keeps the first maximum and the first NaN, as torch's scan does.
    best = vals.argmax(-1)
    idx = xpm.take_along_axis(linear, best[..., None], axis=-1)[..., 0]
    ti = _make(idx)
    y = nn_ops.spatial_gather(x, ti, node=f"FractionalMaxPool{d}DBackward0")
    if input.dim() == d + 1:
        y, ti = y.squeeze(0), ti.squeeze(0)
    return (y, ti) if return_indices else y


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    return _fractional_max(2, input, kernel_size, output_size, output_ratio, return_indices,
                           _random_samples)


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    return _fractional_max(3, input, kernel_size, output_size, output_ratio, return_indices,
                           _random_samples)


__all__ = ["adaptive_max_pool3d", "max_unpool3d", "lp_pool1d", "lp_pool3d",
           "fractional_max_pool2d", "fractional_max_pool3d"]
