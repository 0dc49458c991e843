"""Activation functions.  Composites of registry ops, except the numerically
delicate ones (softmax, log_softmax, softplus, gelu) which are ops of their own."""
from ... import _ops as ops
from ..._ops import nn_ops
from ..._ops.pointwise import where
from ..._ops.unary import exp, relu as _relu, sigmoid as _sigmoid, tanh as _tanh
from ...autograd import grad_mode


def _inplace_result(input, out):
    """F.xxx(..., inplace=True): write the result into ``input`` (torch's in-place form)."""
    with grad_mode.no_grad():
        input._data[...] = out._data
    input._vc[0] += 1
    if out._grad_fn is not None:
        input._grad_fn = out._grad_fn
        input._output_nr = out._output_nr
        input._requires_grad = True
    return input


def _maybe_inplace(input, out, inplace):
    if not inplace:
        return out
    if input._requires_grad and input._grad_fn is None and grad_mode.is_grad_enabled():
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")
    return _inplace_result(input, out)


def relu(input, inplace=False):
    return _maybe_inplace(input, _relu(input), inplace)


def relu_(input):
    return relu(input, inplace=True)


def _neg_part(x):
    # exp() of a clamped argument, so the branch where() discards cannot overflow
    # (an inf there would turn into a NaN gradient).
    return where(x < 0, x, 0.0)


def threshold(input, threshold, value, inplace=False):
    return _maybe_inplace(input, where(input > threshold, input, value), inplace)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    out = where(input <= min_val, min_val, where(input >= max_val, max_val, input))
    return _maybe_inplace(input, out, inplace)


def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    return _maybe_inplace(input, where(input > 0, input, input * negative_slope), inplace)


def prelu(input, weight):
    w = weight
    if input.dim() >= 2 and weight.numel() > 1:
        w = weight.reshape((1, -1) + (1,) * (input.dim() - 2))
    return where(input > 0, input, input * w)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    if training:
        from ..._random import rand_like
        slope = rand_like(input) * (upper - lower) + lower
    else:
        slope = (lower + upper) / 2
    return _maybe_inplace(input, where(input >= 0, input, input * slope), inplace)


def elu(input, alpha=1.0, inplace=False):
    return _maybe_inplace(input, where(input > 0, input, (exp(_neg_part(input)) - 1) * alpha),
                          inplace)


def celu(input, alpha=1.0, inplace=False):
    return _maybe_inplace(
        input, where(input > 0, input, (exp(_neg_part(input) / alpha) - 1) * alpha), inplace)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input, inplace=False):
    out = where(input > 0, input, (exp(_neg_part(input)) - 1) * _SELU_ALPHA) * _SELU_SCALE
    return _maybe_inplace(input, out, inplace)


def gelu(input, approximate="none"):
    return nn_ops.gelu(input, approximate)


def silu(input, inplace=False):
    return _maybe_inplace(input, input * _sigmoid(input), inplace)


def mish(input, inplace=False):
    return _maybe_inplace(input, input * _tanh(nn_ops.softplus(input)), inplace)


def sigmoid(input):
    return _sigmoid(input)


def tanh(input):
    return _tanh(input)


def hardsigmoid(input, inplace=False):
    out = where(input <= -3, 0.0, where(input >= 3, 1.0, input / 6 + 0.5))
    return _maybe_inplace(input, out, inplace)


def hardswish(input, inplace=False):
    out = where(input <= -3, 0.0, where(input >= 3, input, input * (input + 3) / 6))
    return _maybe_inplace(input, out, inplace)


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


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    norm = ops.norm(input, p, dim, keepdim=True)
    return input / where(norm > eps, norm, eps)


__all__ = ["relu", "relu_", "threshold", "hardtanh", "relu6", "leaky_relu", "prelu", "rrelu",
           "elu", "celu", "selu", "gelu", "silu", "mish", "sigmoid", "tanh", "hardsigmoid",
           "hardswish", "hardshrink", "softshrink", "tanhshrink", "softsign", "softplus",
           "logsigmoid", "softmax", "log_softmax", "softmin", "glu", "normalize"]
