"""Gradient clipping: by total norm or by value, in place, recording nothing."""
import math
import warnings

import numpy as np

from ..._device import array_module, device_scope
from ..._tensor import Tensor, _make


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def _norm_of(a, norm_type):
    xp = array_module(a)
    a = xp.abs(a.astype(np.float64) if a.dtype.kind == "f" and a.itemsize < 4 else a)
    if math.isinf(norm_type):
        return a.max() if norm_type > 0 else a.min()
    if norm_type == 0:
        return (a != 0).sum().astype(a.dtype)
    return (a ** norm_type).sum() ** (1.0 / norm_type)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The norm of the per-tensor norms (that is, the norm of all elements together)."""
    if isinstance(tensors, Tensor):
        tensors = [tensors]
    tensors = [t for t in tensors if t is not None]
    norm_type = float(norm_type)
    if not tensors:
        from ..._creation import tensor
        return tensor(0.0)
    norms = []
    for t in tensors:
        with device_scope(t.device):    # CuPy computes on the current device
            norms.append(_norm_of(t._data, norm_type))
    xp = array_module(tensors[0]._data)
    with device_scope(tensors[0].device):   # the norms meet on the first one's device
        total = _norm_of(xp.stack([xp.asarray(n) for n in norms]), norm_type)
        total = xp.asarray(total).astype(tensors[0]._data.dtype)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` "
                           "is non-finite, so it cannot be clipped. To disable this error and "
                           "scale the gradients by the non-finite norm anyway, set "
                           "`error_if_nonfinite=False`")
    return _make(total)


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    grads = _grads(parameters)
    if not grads:
        return
    coef = float(max_norm) / (float(total_norm.item()) + 1e-6)
    coef = min(coef, 1.0)
    for g in grads:
        with device_scope(g.device):
            g._data *= g._data.dtype.type(coef)   # a scalar: host or device arrays alike
        g._vc[0] += 1


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale all gradients together so their total norm is at most ``max_norm``.

    Returns the total norm before clipping.
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    parameters = list(parameters)
    grads = _grads(parameters)
    total = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total, foreach)
    return total


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value, foreach=None):
    clip_value = float(clip_value)
    for g in _grads(parameters):
        xp = array_module(g._data)
        xp.clip(g._data, -clip_value, clip_value, out=g._data)
        g._vc[0] += 1
