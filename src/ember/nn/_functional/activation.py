"""Activation functions.  Composites of registry ops, except the numerically
delicate ones (softmax, log_softmax, softplus, gelu) which are ops of their own.

``inplace=True`` and the ``xxx_`` forms write through the one in-place mechanism
(``_ops.inplace``), so views, leaves and version counters behave as torch's; the grad_fn
takes the name of torch's in-place kernel.  The composites follow torch's kernels'
branch conditions, so NaN, 0 and the boundaries get torch's values and gradients.
"""
import warnings

from ... import _creation, _ops as ops
from ..._ops import nn_ops
from ..._ops._common import with_out
from ..._ops.inplace import apply_inplace_fn
from ..._ops.pointwise import where
from ..._ops.unary import relu as _relu, sigmoid as _sigmoid, tanh as _tanh


def _activation(input, inplace, fn, node, **kernel):
    """``fn(input)``; with ``inplace``, written into ``input``, its grad_fn named ``node``
    and behaving as torch's in-place kernel's (``kernel``: see ``apply_inplace_fn``)."""
    return apply_inplace_fn(input, fn, node, **kernel) if inplace else fn(input)


def _floating(input, kernel):
    """torch's kernels for these activations exist for floating dtypes only."""
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"{kernel}_{input.device.type}\" not implemented for "
                                  f"'{input.dtype._legacy}'")


# torch's in-place kernels that save their result cannot differentiate a negative slope.
_LEAKY_NEGATIVE = (
    "In-place leakyReLu backward calculation is triggered with a negative slope which is not "
    "supported. This is caused by calling in-place forward function with a negative slope, "
    "please call out-of-place version instead. File an issue at "
    "https://github.com/pytorch/pytorch if you do require supporting in-place leakRelu "
    "backward calculation with negative slope")
_ELU_NEGATIVE = (
    "In-place elu backward calculation is triggered with a negative slope which is not "
    "supported. This is caused by calling in-place forward function with a negative slope, "
    "please call out-of-place version instead.")


def relu(input, inplace=False):
    return input.relu_() if inplace else _relu(input)


def relu_(input):
    return input.relu_()


def _threshold(input, threshold, value, inplace):
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        threshold, value = int(threshold), int(value)  # torch's kernel casts them to the dtype
    return _activation(input, inplace, lambda x: where(x <= threshold, value, x),
                       "ThresholdBackward1")


def threshold(input, threshold, value, inplace=False):
    return _threshold(input, threshold, value, inplace)


def threshold_(input, threshold, value):
    return _threshold(input, threshold, value, True)


def _hardtanh(input, min_val, max_val, inplace):
    def fn(x):
        out = where(x <= min_val, min_val, where(x >= max_val, max_val, x))
        return out if out.dtype == x.dtype else out.to(x.dtype)  # integers stay integers
    return _activation(input, inplace, fn, "HardtanhBackward0")


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _hardtanh(input, min_val, max_val, inplace)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return _hardtanh(input, min_val, max_val, True)


def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    _floating(input, "leaky_relu")
    return _activation(input, inplace, lambda x: where(x > 0, x, x * negative_slope),
                       "LeakyReluBackward1", saves_result=True,
                       backward_error=_LEAKY_NEGATIVE if negative_slope < 0 else None)


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, True)


def prelu(input, weight):
    w = weight
    if input.dim() >= 2 and weight.numel() > 1:
        w = weight.reshape((1, -1) + (1,) * (input.dim() - 2))
    return where(input > 0, input, input * w)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    return _rrelu(input, lower, upper, training, inplace, None)


def _rrelu(input, lower, upper, training, inplace, generator):
    _floating(input, "rrelu_with_noise_out" if training else "leaky_relu")
    if training:
        from ..._random import rand_like
        noise = rand_like(input, generator=generator) * (upper - lower) + lower
        error = None

        def fn(x):
            return where(x <= 0, x * noise, x)
    else:
        slope = (lower + upper) / 2
        error = _LEAKY_NEGATIVE if slope < 0 else None

        def fn(x):
            return where(x > 0, x, x * slope)
    return _activation(input, inplace, fn, "RreluWithNoiseBackward1", saves_result=True,
                       backward_error=error)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):
    return _rrelu(input, lower, upper, training, True, generator)


def _elu(x, alpha, scale=1.0, input_scale=1.0):
    _floating(x, "elu")
    # expm1 of an argument clamped at 0, so the branch where() discards cannot overflow
    # (an inf there would turn into a NaN gradient); "<= 0" keeps x's gradient at 0.
    neg = ops.expm1(where(x <= 0, x, 0.0) * input_scale) * (alpha * scale)
    return where(x <= 0, neg, x * scale if scale != 1 else x)


def _elu_kernel(alpha):
    return {"saves_result": True, "backward_error": _ELU_NEGATIVE if alpha < 0 else None}


def elu(input, alpha=1.0, inplace=False):
    return _activation(input, inplace, lambda x: _elu(x, alpha), "EluBackward1",
                       **_elu_kernel(alpha))


def elu_(input, alpha=1.0, scale=1.0, input_scale=1.0):
    return apply_inplace_fn(input, lambda x: _elu(x, alpha, scale, input_scale), "EluBackward1",
                            **_elu_kernel(alpha))


def celu(input, alpha=1.0, inplace=False):
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    return _activation(input, inplace, lambda x: _elu(x, alpha, 1.0, 1.0 / alpha),
                       "CeluBackward1", **_elu_kernel(alpha))


def celu_(input, alpha=1.0):
    return celu(input, alpha, True)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input, inplace=False):
    return _activation(input, inplace, lambda x: _elu(x, _SELU_ALPHA, _SELU_SCALE),
                       "EluBackward1", saves_result=True)


def selu_(input):
    return selu(input, True)


def gelu(input, approximate="none"):
    return nn_ops.gelu(input, approximate)


def silu(input, inplace=False):
    _floating(input, "silu")
    return _activation(input, inplace, lambda x: x * _sigmoid(x), "SiluBackward0")


def mish(input, inplace=False):
    _floating(input, "mish")
    return _activation(input, inplace, lambda x: x * _tanh(nn_ops.softplus(x)), "MishBackward0")


def sigmoid(input):
    return _sigmoid(input)


def tanh(input):
    return _tanh(input)


def _hardsigmoid(x):
    # torch's gradient is 0 outside (-3, 3), at a NaN too, while the NaN passes through.
    return where(x <= -3, 0.0, where(x < 3, x / 6 + 0.5, where(x >= 3, 1.0, x.detach())))


def hardsigmoid(input, inplace=False):
    _floating(input, "hardsigmoid")
    return _activation(input, inplace, _hardsigmoid, "HardsigmoidBackward0")


def _hardswish(x):
    # The middle branch sees x only where it is taken, so a NaN's gradient is torch's 1.
    mid = where(x < 3, x, 0.0)
    return where(x <= -3, 0.0, where(x < 3, mid * (mid + 3) / 6, x))


def hardswish(input, inplace=False):
    _floating(input, "hardswish")
    return _activation(input, inplace, _hardswish, "HardswishBackward0")


def hardshrink(input, lambd=0.5):
    return where((input > lambd) | (input < -lambd), input, 0.0)


def softshrink(input, lambd=0.5):
    return where(input > lambd, input - lambd, where(input < -lambd, input + lambd, 0.0))


def tanhshrink(input):
    return input - _tanh(input)


def softsign(input):
    return input / (ops.abs(input) + 1)


def softplus(input, beta=1.0, threshold=20.0):
    return nn_ops.softplus(input, beta, threshold)


def logsigmoid(input):
    return -nn_ops.softplus(-input)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    return nn_ops.softmax(input, dim, dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    return nn_ops.log_softmax(input, dim, dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    return nn_ops.softmax(-input if dtype is None else -input.to(dtype), dim)


def glu(input, dim=-1):
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    n = input.shape[dim]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension "
                           f"{dim % input.dim()} is size {n}")
    a = input.narrow(dim, 0, n // 2)
    b = input.narrow(dim, n // 2, n // 2)
    return a * _sigmoid(b)


@with_out
def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    norm = ops.norm(input, p, dim, keepdim=True)
    return input / where(norm > eps, norm, eps)


def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1):
    """Samples from the Gumbel-softmax distribution; ``hard``: one-hot values with the soft
    sample's gradient (straight-through), as torch's."""
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    gumbels = -_creation.empty_like(logits).exponential_().log()  # ~Gumbel(0, 1)
    y_soft = ((logits + gumbels) / tau).softmax(dim)
    if not hard:
        return y_soft
    index = y_soft.max(dim, keepdim=True)[1]
    y_hard = _creation.zeros_like(logits).scatter_(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft


__all__ = ["relu", "relu_", "threshold", "threshold_", "hardtanh", "hardtanh_", "relu6",
           "leaky_relu", "leaky_relu_", "prelu", "rrelu", "rrelu_", "elu", "elu_", "celu",
           "celu_", "selu", "selu_", "gelu", "silu", "mish", "sigmoid", "tanh", "hardsigmoid",
           "hardswish", "hardshrink", "softshrink", "tanhshrink", "softsign", "softplus",
           "logsigmoid", "softmax", "log_softmax", "softmin", "glu", "normalize", "gumbel_softmax"]
