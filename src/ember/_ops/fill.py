"""Whole-tensor writes: ``fill_``, ``zero_``, ``copy_``, ``fill_diagonal_``.

Each is an op whose forward builds the new contents and whose backward says where
gradients go (nowhere for the overwritten values; to ``src``/``value`` for what was
written), applied in place by ``apply_inplace``.
"""
import numpy as np

from .._device import device_of, to_device_array
from .._tensor import Tensor
from ._declare import declare
from .inplace import apply_inplace
from .registry import apply, defop


def _zeros_for_self(ctx, g):
    return g * 0


fill_op = defop("fill", lambda a, value: np.full_like(a, value), _zeros_for_self,
                node="FillBackward2")
fill_tensor_op = defop("fill_tensor", lambda a, value: np.full_like(a, value),
                       lambda ctx, g: (g * 0 if ctx.needs_input_grad[0] else None,
                                       g.sum() if ctx.needs_input_grad[1] else None),
                       node="FillBackward3")
zero_op = defop("zero", lambda a: np.zeros_like(a), _zeros_for_self, node="ZeroBackward0")


def _copy_fwd(a, src):
    if device_of(src) != device_of(a):
        src = to_device_array(src, device_of(a))
    if src.dtype.kind == "c" and a.dtype.kind != "c":
        src = src.real
    return np.broadcast_to(src, a.shape).astype(a.dtype, copy=True)


copy_op = defop("copy", _copy_fwd,
                lambda ctx, g: (g * 0 if ctx.needs_input_grad[0] else None,
                                g if ctx.needs_input_grad[1] else None),
                node="CopyBackwards")


def _fill_diagonal_fwd(a, value, wrap):
    out = a.copy()
    if a.ndim == 2 and wrap:
        np.fill_diagonal(out, value, wrap=True)
    else:
        n = min(a.shape)
        idx = np.arange(n)
        out[(idx,) * a.ndim] = value
    return out


def _fill_diagonal_bwd(ctx, g):
    return apply(fill_diagonal_op, (g,), {"value": 0, "wrap": ctx.wrap})


fill_diagonal_op = defop("fill_diagonal", _fill_diagonal_fwd, _fill_diagonal_bwd,
                         node="FillDiagonalBackward0")


@declare(function=False)
def fill_(self, value):
    """Write ``value`` (a number or a 0-dim tensor) into every element."""
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError("fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{value.ndim} dimensions.")
        if value.device != self.device:
            value = value.to(self.device)
        return apply_inplace(fill_tensor_op, self, (value,))
    return apply_inplace(fill_op, self, (), {"value": value})


@declare(function=False)
def zero_(self):
    return apply_inplace(zero_op, self, ())


@declare(function=False)
def copy_(self, src, non_blocking=False):
    """Copy ``src`` (broadcast to self's shape, cast to self's dtype and device) into self."""
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'other' (position 1) must be Tensor, not "
                        f"{type(src).__name__}")
    return apply_inplace(copy_op, self, (src,))


@declare(function=False)
def fill_diagonal_(self, fill_value, wrap=False):
    if self.ndim < 2:
        raise RuntimeError("dimensions must larger than 1")
    if self.ndim > 2 and len(set(self.shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    return apply_inplace(fill_diagonal_op, self, (), {"value": fill_value, "wrap": wrap})


@declare(method=False)
def detach(input):
    return input.detach()


@declare(method=False)
def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """Pairwise p-norm distances between the rows of ``x1`` and ``x2`` (batched)."""
    if x1.ndim < 2 or x2.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: "
                           f"{x1.shape[-1]} X2: {x2.shape[-1]}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    # The norm op's backward is zero at zero distance, as torch's cdist gradient is.
    return (x1.unsqueeze(-2) - x2.unsqueeze(-3)).norm(p, dim=-1)
