"""Normalization functions, composites of registry ops (so every derivative works)."""
import numpy as np

from ..._ops import batch_norm as _bn
from ..._ops import norm_ops
from ..._ops.unary import sqrt
from ...autograd import grad_mode


def _moments(x, dims):
    mean = x.mean(dims, keepdim=True)
    centered = x - mean
    var = (centered * centered).mean(dims, keepdim=True)
    return mean, centered, var


def _channel_shape(x):
    return (1, -1) + (1,) * (x.dim() - 2)


def _update_running(running, value, momentum, unbiased_scale=1.0):
    """running = (1 - momentum) * running + momentum * unbiased_scale * value (an array
    or a tensor), in place."""
    value = getattr(value, "_data", value)
    with grad_mode.no_grad():
        new = running._data * (1 - momentum) + value.reshape(running._data.shape) * \
            (momentum * unbiased_scale)
        running._data[...] = new.astype(running._data.dtype, copy=False)
        running._vc[0] += 1


def _normalize_with(input, running_mean, running_var, eps):
    """``input`` normalised per channel by given (running) statistics."""
    shape = _channel_shape(input)
    return (input - running_mean.reshape(shape)) / sqrt(running_var.reshape(shape) + eps)


def _channel_affine(y, input, weight, bias):
    """``y * weight + bias`` with per-channel (dim 1) weight and bias, either may be None."""
    if weight is not None:
        y = y * weight.reshape(_channel_shape(input))
    if bias is not None:
        y = y + bias.reshape(_channel_shape(input))
    return y


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """One fused op each way (``_ops.batch_norm``); the statistics are computed here on
    raw arrays and enter the op as constants."""
    n = input.numel() // input.shape[1] if input.dim() > 1 else input.numel()
    if training:
        if n <= 1:
            raise ValueError("Expected more than 1 value per channel when training, got input "
                             f"size {input.shape}")
        mean, var, invstd = _bn.stats(input, eps)
        if running_mean is not None:
            _update_running(running_mean, mean, momentum)
        if running_var is not None:
            _update_running(running_var, var, momentum, n / (n - 1))
    else:
        mean = running_mean.detach()
        with grad_mode.no_grad():
            invstd = (running_var.detach() + eps).rsqrt()
    return _bn.batch_norm(input, weight, bias, mean, invstd, training, eps)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    dims = tuple(range(2, input.dim()))
    if use_input_stats:
        mean, centered, var = _moments(input, dims)
        n = int(np.prod(input.shape[2:]))
        if running_mean is not None:
            _update_running(running_mean, mean.detach().mean(0), momentum)
        if running_var is not None:
            _update_running(running_var, var.detach().mean(0), momentum, n / max(n - 1, 1))
        y = centered / sqrt(var + eps)
    else:
        y = _normalize_with(input, running_mean, running_var, eps)
    return _channel_affine(y, input, weight, bias)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    k = len(normalized_shape)
    if tuple(input.shape[input.dim() - k:]) != tuple(normalized_shape):
        raise RuntimeError(f"Given normalized_shape={list(normalized_shape)}, expected input with "
                           f"shape [*, {', '.join(str(s) for s in normalized_shape)}], but got "
                           f"input of size{list(input.shape)}")
    if input._data.dtype.kind in "fV" and all(
            p is None or p._data.dtype == input._data.dtype for p in (weight, bias)):
        return norm_ops.native_layer_norm(input, k, weight, bias, eps)
    return norm_ops.layer_norm_composite(input, k, weight, bias, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    n, c = input.shape[0], input.shape[1]
    if c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, "
                           f"but got input of shape {input.shape} and num_groups={num_groups}")
    x = input.reshape((n, num_groups, -1))
    _, centered, var = _moments(x, (2,))
    y = (centered / sqrt(var + eps)).reshape(tuple(input.shape))
    return _channel_affine(y, input, weight, bias)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    k = len(normalized_shape)
    if eps is None:
        eps = float(np.finfo(input._data.dtype).eps) if input._data.dtype.kind == "f" else 1e-6
    dims = tuple(range(input.dim() - k, input.dim()))
    y = input / sqrt((input * input).mean(dims, keepdim=True) + eps)
    if weight is not None:
        y = y * weight
    return y


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    from ..._ops import nn_ops
    from .conv import avg_pool2d
    sq = (input * input).unsqueeze(1)
    n, c = input.shape[:2]
    sq = sq.reshape((n, 1, c, -1))
    sq = nn_ops.pad(sq, [0, 0, size // 2, (size - 1) // 2])
    div = avg_pool2d(sq, (size, 1), stride=1).reshape(tuple(input.shape))
    return input / (div * alpha + k) ** beta


__all__ = ["batch_norm", "instance_norm", "layer_norm", "group_norm", "rms_norm",
           "local_response_norm"]
