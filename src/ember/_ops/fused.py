"""``addmm`` as one op (torch's AddmmBackward0): ``beta * input + alpha * (mat1 @ mat2)``.
It is also what ``F.linear`` records for a matrix input with a bias, as torch's does, so a
Linear layer's grad_fn, its next_functions and the deprecated module backward hooks (which
see that one node's gradients) read as torch's."""
import numpy as np

from .linalg import _blas_ready, _check_mm
from .registry import AUTOCAST_LOWER, defop


def _addmm_fwd(bias, m1, m2, beta, alpha):
    _check_mm(m1, m2)
    dtype = m1.dtype
    half = dtype.itemsize == 2 and dtype.kind in "fV"
    if half:  # accumulate in float32 and round once, as torch
        bias, m1, m2 = (x.astype(np.float32) for x in (bias, m1, m2))
    out = np.matmul(_blas_ready(m1), _blas_ready(m2))
    if alpha != 1:
        out = out * alpha
    # The product is a fresh array: the bias goes into it in place (no second buffer).
    if beta != 0:  # torch ignores input when beta == 0 (its NaNs do not propagate)
        scaled = bias if beta == 1 else bias * beta
        if np.broadcast_shapes(scaled.shape, out.shape) != out.shape:
            raise RuntimeError(
                f"The expanded size of the tensor ({out.shape[-1]}) must match the existing size "
                f"({scaled.shape[-1]}) at non-singleton dimension {out.ndim - 1}.  Target sizes: "
                f"{list(out.shape)}.  Tensor sizes: {list(scaled.shape)}")
        if scaled.dtype == out.dtype:
            out += scaled
        else:
            out = out + scaled
    return out.astype(dtype) if half or out.dtype != dtype else out


def _addmm_bwd(ctx, g):
    m1, m2 = ctx.saved
    need = ctx.needs_input_grad
    # Complex scales enter the gradients conjugated (torch's maybe_multiply(grad, s.conj())).
    beta, alpha = ctx.beta.conjugate(), ctx.alpha.conjugate()
    g_bias = None
    if need[0]:
        # A vector bias (Linear's) gets its sum over rows here, a fresh array, rather than
        # through sum_to_size's keepdim-and-reshape view, which the engine would copy.
        g_bias = g.sum(0) if len(ctx._input_meta[0][0]) == 1 and g.dim() == 2 else g
        if beta != 1:
            g_bias = g_bias * beta
    g_m1 = g.mm(m2.mH) if need[1] else None
    g_m2 = None
    if need[2]:
        # A column-major mat2 (Linear's weight.t()) gets its gradient in that layout, as
        # torch's mm_mat2_backward does: (g^H @ m1)^H, so that after TBackward0 the
        # weight's gradient is a row-major array the engine can keep without a copy.
        g_m2 = g.mH.mm(m1).mH if _column_major(m2) else m1.mH.mm(g)
    if alpha != 1:
        g_m1 = None if g_m1 is None else g_m1 * alpha
        g_m2 = None if g_m2 is None else g_m2 * alpha
    return g_bias, g_m1, g_m2


def _column_major(t):
    a = t._data
    return a.ndim == 2 and a.shape[0] > 1 and a.shape[1] > 1 and a.flags.f_contiguous


addmm_op = defop("addmm", _addmm_fwd, _addmm_bwd, save=(1, 2), autocast=AUTOCAST_LOWER)


def fused_addmm_ok(input, mat1, mat2):
    """Whether the one-op path applies: matrices of one dtype and a bias of it that
    broadcasts (other cases keep addmm's composite path and its promotion)."""
    d = mat1._data.dtype
    return (mat1.ndim == 2 and mat2.ndim == 2 and input.ndim <= 2
            and input._data.dtype == d and mat2._data.dtype == d)
