"""Parameter initialization, in place and without recording gradients.

Values come from ember's random functions, drawn in torch's order (so ``manual_seed``
and ``generator=`` give torch's initial weights), and are written straight into the
tensor's array.
"""
import math
import warnings

import numpy as np

from .. import _dtype, _random
from .._device import array_module
from ..autograd import grad_mode


def _write(tensor, values):
    """Store ``values`` (an ember tensor or array) into ``tensor`` in place."""
    data = values._data if hasattr(values, "_data") else values
    dst = tensor._data
    if hasattr(data, "astype"):
        data = data.astype(dst.dtype, copy=False)
    if isinstance(data, np.ndarray) and not isinstance(dst, np.ndarray):
        # Draws and fixed patterns are made on the host; a device tensor gets a copy.
        data = array_module(dst).asarray(data)
    with grad_mode.no_grad():
        dst[...] = data
    tensor._vc[0] += 1
    return tensor


def calculate_gain(nonlinearity, param=None):
    linear_fns = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                  "conv_transpose3d"]
    if nonlinearity in linear_fns or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, (int, float)):
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    g = _random._gen(generator)
    return _write(tensor, _random._uniform_shaped(g, tuple(tensor.shape), tensor.dtype, a, b))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    g = _random._gen(generator)
    return _write(tensor, _random._normal(g, tuple(tensor.shape), tensor.dtype, mean, std,
                                          contiguous=tensor.is_contiguous()))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Normal(mean, std) truncated to [a, b] by rejection, as torch 2.13 samples it: when
    the interval holds more than 30% of the mass, redraw normals outside it; otherwise
    draw uniforms on [a, b] and accept each with the normal density's ratio to its peak.
    The draws come in torch's order, so a seeded call gives torch's values."""
    def cdf(x):
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The "
                      "distribution of values may be incorrect.", stacklevel=2)
    g = _random._gen(generator)
    shape, d = tuple(tensor.shape), tensor.dtype
    contiguous = tensor.is_contiguous()

    def normals():
        return _random._normal(g, shape, d, mean, std, contiguous=contiguous)

    def uniforms(lo=0.0, hi=1.0):
        return _random._uniform_shaped(g, shape, d, lo, hi)

    if cdf((b - mean) / std) - cdf((a - mean) / std) > 0.3:
        lo, hi = np.asarray(a, d.np), np.asarray(b, d.np)  # the bounds in the tensor's dtype
        result = normals()
        while True:
            outside = (result < lo) | (result > hi)
            if not outside.any():
                break
            result = np.where(outside, normals(), result)
        return _write(tensor, result)
    ct = np.float64 if d is _dtype.float64 else np.float32
    log_peak = -0.5 * ((max(a, min(mean, b)) - mean) / std) ** 2

    def log_ratio(x):
        return ((x - ct(mean)) / ct(std)) ** 2 * ct(-0.5) - ct(log_peak)

    result = uniforms(a, b)
    pending = np.log(uniforms()) > log_ratio(result)
    while pending.any():
        candidates = uniforms(a, b)
        result = np.where(pending, candidates, result)
        pending = np.where(pending, np.log(uniforms()) > log_ratio(candidates), pending)
    return _write(tensor, result)


def constant_(tensor, val):
    with grad_mode.no_grad():
        tensor._data[...] = val
    tensor._vc[0] += 1
    return tensor


def ones_(tensor):
    return constant_(tensor, 1.0)


def zeros_(tensor):
    return constant_(tensor, 0.0)


def eye_(tensor):
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _write(tensor, np.eye(*tensor.shape))


def dirac_(tensor, groups=1):
    d = tensor.dim()
    if d not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    sizes = tensor.shape
    if sizes[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    out_per_group = sizes[0] // groups
    min_dim = min(out_per_group, sizes[1])
    w = np.zeros(tuple(sizes))
    for g in range(groups):
        for i in range(min_dim):
            w[(g * out_per_group + i, i) + tuple(s // 2 for s in sizes[2:])] = 1
    return _write(tensor, w)


def _calculate_fan_in_and_fan_out(tensor):
    if tensor.dim() < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 "
                         "dimensions")
    receptive = 1
    for s in tensor.shape[2:]:
        receptive *= s
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def xavier_uniform_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    a = math.sqrt(3.0) * gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    bound = math.sqrt(3.0) * calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    return normal_(tensor, 0, calculate_gain(nonlinearity, a) / math.sqrt(fan), generator)


def orthogonal_(tensor, gain=1, generator=None):
    if tensor.dim() < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = np.asarray(_random.randn((rows, cols), generator=generator,
                                    dtype=tensor.dtype)._data, dtype=np.float64)
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _write(tensor, (q * gain).reshape(tuple(tensor.shape)))


def sparse_(tensor, sparsity, std=0.01, generator=None):
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tensor.shape
    num_zeros = int(math.ceil(sparsity * rows))
    normal_(tensor, 0, std, generator)
    with grad_mode.no_grad():
        for c in range(cols):
            perm = _random.randperm(rows, generator=generator)
            tensor[perm[:num_zeros], c] = 0  # an in-place write: bumps the version, as torch
    return tensor


def _deprecated(new):
    def old(*args, **kwargs):
        warnings.warn(f"`nn.init.{new.__name__[:-1]}` is now deprecated in favor of "
                      f"`nn.init.{new.__name__}`.", FutureWarning, stacklevel=2)
        return new(*args, **kwargs)
    old.__name__ = new.__name__[:-1]
    return old


uniform = _deprecated(uniform_)
normal = _deprecated(normal_)
constant = _deprecated(constant_)
xavier_uniform = _deprecated(xavier_uniform_)
xavier_normal = _deprecated(xavier_normal_)
kaiming_uniform = _deprecated(kaiming_uniform_)
kaiming_normal = _deprecated(kaiming_normal_)
orthogonal = _deprecated(orthogonal_)
