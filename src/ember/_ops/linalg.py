"""Matrix products.  ``matmul`` picks torch's primitive (dot, mv, mm, bmm-style) by rank."""
import numpy as np

from .. import _dtype as D
from .._tensor import Tensor
from .registry import PROMOTE, apply, defop


def _check_same_dtype(a, b, name):
    if a.dtype != b.dtype:
        da, db = D.NP_TO_DTYPE[a.dtype], D.NP_TO_DTYPE[b.dtype]
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {da.name} != "
                           f"{db.name}" if name == "mm" else
                           f"expected scalar type {da._legacy} but found {db._legacy}")


def _mm_fwd(a, b):
    _check_same_dtype(a, b, "mm")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} "
                           f"and {b.shape[0]}x{b.shape[1]})")
    return a @ b


def _mm_bwd(ctx, g):
    a, b = ctx.saved
    need = ctx.needs_input_grad
    return (g.mm(b.mH) if need[0] else None,
            a.mH.mm(g) if need[1] else None)


def _dot_fwd(a, b):
    _check_same_dtype(a, b, "dot")
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src "
                           f"[{b.shape[0]}] to have the same number of elements, but got "
                           f"{a.shape[0]} and {b.shape[0]} elements respectively")
    return np.asarray(np.dot(a, b))


def _dot_bwd(ctx, g):
    a, b = ctx.saved
    need = ctx.needs_input_grad
    return (g * b.conj() if need[0] else None, g * a.conj() if need[1] else None)


def _mv_fwd(a, b):
    _check_same_dtype(a, b, "mv")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({a.shape[0]}), mat ({a.shape[0]}x"
                           f"{a.shape[1]}), vec ({b.shape[0]})")
    return a @ b


def _mv_bwd(ctx, g):
    a, b = ctx.saved
    need = ctx.needs_input_grad
    return (g.unsqueeze(1) * b.conj() if need[0] else None,
            a.mH.mv(g) if need[1] else None)


def _bmm_like_fwd(a, b):
    """The general batched case (broadcasting batch dims, 1-D operands promoted)."""
    ka = a.shape[-1]
    kb = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if ka != kb:
        sa = "x".join(map(str, a.shape[-2:] if a.ndim > 1 else (1,) + a.shape))
        sb = "x".join(map(str, b.shape[-2:] if b.ndim > 1 else b.shape + (1,)))
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{_batch(a)}, {ka}] but got: [{_batch(b)}, {kb}]." if a.ndim == 3
                           and b.ndim == 3 else
                           f"mat1 and mat2 shapes cannot be multiplied ({sa} and {sb})")
    try:
        return np.matmul(a, b)
    except ValueError:
        raise RuntimeError(f"The size of tensor a ({a.shape[0]}) must match the size of tensor b "
                           f"({b.shape[0]}) at non-singleton dimension 0") from None


def _batch(a):
    return a.shape[0]


def _matmul_bwd(ctx, g):
    a, b = ctx.saved
    need = ctx.needs_input_grad
    a2 = a.unsqueeze(0) if a.ndim == 1 else a
    b2 = b.unsqueeze(-1) if b.ndim == 1 else b
    g2 = g
    if a.ndim == 1:
        g2 = g2.unsqueeze(-2)
    if b.ndim == 1:
        g2 = g2.unsqueeze(-1)
    ga = gb = None
    if need[0]:
        ga = g2.matmul(b2.mH)
        if a.ndim == 1:
            ga = ga.squeeze(-2)
    if need[1]:
        gb = a2.mH.matmul(g2)
        if b.ndim == 1:
            gb = gb.squeeze(-1)
    return ga, gb


mm_op = defop("mm", _mm_fwd, _mm_bwd, save=(0, 1))
dot_op = defop("dot", _dot_fwd, _dot_bwd, save=(0, 1))
mv_op = defop("mv", _mv_fwd, _mv_bwd, save=(0, 1))
bmm_op = defop("matmul", _bmm_like_fwd, _matmul_bwd, promote=PROMOTE, save=(0, 1),
               node="BmmBackward0")


def _need_tensors(name, a, b):
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        bad = b if isinstance(a, Tensor) else a
        raise TypeError(f"{name}(): argument '{'other' if isinstance(a, Tensor) else 'input'}' "
                        f"(position {2 if isinstance(a, Tensor) else 1}) must be Tensor, not "
                        f"{type(bad).__name__}")


def matmul(input, other, *, out=None):
    """matmul(input, other): dot / mv / mm / batched, by the operands' ranks (as torch)."""
    _need_tensors("matmul", input, other)
    da, db = input.ndim, other.ndim
    if da == 0 or db == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {da}D "
                           f"and {db}D")
    if input.dtype is not other.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{input.dtype.name} != {other.dtype.name}")
    if da == 1 and db == 1:
        return apply(dot_op, (input, other))
    if da == 2 and db == 1:
        return apply(mv_op, (input, other))
    if da == 2 and db == 2:
        return apply(mm_op, (input, other))
    return apply(bmm_op, (input, other))


def mm(input, mat2, *, out=None):
    _need_tensors("mm", input, mat2)
    if input.ndim != 2:
        raise RuntimeError(f"self must be a matrix")
    if mat2.ndim != 2:
        raise RuntimeError(f"mat2 must be a matrix")
    return apply(mm_op, (input, mat2))


def dot(input, other, *, out=None):
    _need_tensors("dot", input, other)
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    return apply(dot_op, (input, other))


def mv(input, vec, *, out=None):
    _need_tensors("mv", input, vec)
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input.ndim}, {input.ndim}, "
                           f"{vec.ndim}")
    return apply(mv_op, (input, vec))


def bmm(input, mat2, *, out=None):
    _need_tensors("bmm", input, mat2)
    if input.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if input.shape[0] != mat2.shape[0] or input.shape[2] != mat2.shape[1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{input.shape[0]}, {input.shape[2]}] but got: [{mat2.shape[0]}, "
                           f"{mat2.shape[1]}].")
    return apply(bmm_op, (input, mat2))


__all__ = ["matmul", "mm", "dot", "mv", "bmm"]
METHODS = {name: globals()[name] for name in __all__}
METHODS["__matmul__"] = matmul
METHODS["__rmatmul__"] = lambda self, other: matmul(other, self)
