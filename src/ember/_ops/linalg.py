"""Matrix products.  ``matmul`` picks torch's primitive (dot, mv, mm, bmm-style) by rank."""
import numpy as np

from .. import _dtype as D
from .._device import array_module
from .._tensor import Tensor
from ._common import _out, with_out
from ._declare import declare
from .registry import AUTOCAST_LOWER, PROMOTE, _autocast, apply, autocast_entry, defop


def _cpp_name(d):
    from .binary import _CPP_NAMES
    return _CPP_NAMES[d.name]


def _product(fn, a, b):
    """``fn(a, b)`` for a matrix product; half precision accumulates in float32 and rounds
    once, as torch (NumPy would return float32 for bfloat16, and has no BLAS for either)."""
    if a.dtype.itemsize == 2 and a.dtype.kind in "fV":
        return array_module(a).asarray(fn(a.astype(np.float32), b.astype(np.float32))) \
            .astype(a.dtype)
    return fn(_blas_ready(a), _blas_ready(b))


def _blas_ready(a):
    # A broadcast operand (stride 0, e.g. the expanded gradient of a sum) sends NumPy's
    # matmul down a slow non-BLAS path; one contiguous copy costs far less.
    if a.ndim >= 2 and 0 in a.strides and a.size > 1:
        return array_module(a).ascontiguousarray(a)
    return a


def _check_same_dtype(a, b, name):
    if a.dtype != b.dtype:
        da, db = D.NP_TO_DTYPE[a.dtype], D.NP_TO_DTYPE[b.dtype]
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {_cpp_name(da)} "
                           f"!= {_cpp_name(db)}" if name == "mm" else
                           f"expected scalar type {da._legacy} but found {db._legacy}")


def _check_mm(a, b):
    """torch's checks of two matrices for a product (mm, addmm)."""
    _check_same_dtype(a, b, "mm")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} "
                           f"and {b.shape[0]}x{b.shape[1]})")


def _mm_fwd(a, b):
    _check_mm(a, b)
    return _product(np.matmul, a, b)


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
    return array_module(a).asarray(_product(np.dot, a, b))


def _dot_bwd(ctx, g):
    a, b = ctx.saved
    need = ctx.needs_input_grad
    return (g * b.conj() if need[0] else None, g * a.conj() if need[1] else None)


def _mv_fwd(a, b):
    _check_same_dtype(a, b, "mv")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({a.shape[0]}), mat ({a.shape[0]}x"
                           f"{a.shape[1]}), vec ({b.shape[0]})")
    return _product(np.matmul, a, b)


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
        return _product(np.matmul, a, b)
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


mm_op = defop("mm", _mm_fwd, _mm_bwd, save=(0, 1), autocast="lower")
dot_op = defop("dot", _dot_fwd, _dot_bwd, save=(0, 1))
mv_op = defop("mv", _mv_fwd, _mv_bwd, save=(0, 1))
bmm_op = defop("matmul", _bmm_like_fwd, _matmul_bwd, promote=PROMOTE, save=(0, 1),
               node="BmmBackward0", autocast="lower")
# torch.matmul reaches its batched cases through views and copies, so its grad_fn is the last
# of those: each case applies bmm_op recording torch's node name for it.


def _need_tensors(name, a, b):
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        bad = b if isinstance(a, Tensor) else a
        raise TypeError(f"{name}(): argument '{'other' if isinstance(a, Tensor) else 'input'}' "
                        f"(position {2 if isinstance(a, Tensor) else 1}) must be Tensor, not "
                        f"{type(bad).__name__}")


@declare(operator="matmul")
def matmul(input, other, *, out=None):
    """matmul(input, other): dot / mv / mm / batched, by the operands' ranks (as torch)."""
    # Hot (`a @ b`, every Linear): out= is written here rather than by declare's wrapper.
    result = _matmul(input, other)
    return result if out is None else _out(result, out, "matmul")


def _matmul(input, other):
    _need_tensors("matmul", input, other)
    da, db = input.ndim, other.ndim
    if da == 0 or db == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {da}D "
                           f"and {db}D")
    if input.dtype is not other.dtype and _autocast.cast is None:  # autocast casts both
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{_cpp_name(input.dtype)} != {_cpp_name(other.dtype)}")
    if da == 1 and db == 1:
        return apply(dot_op, (input, other))
    if da == 2 and db == 1:
        return apply(mv_op, (input, other))
    if da == 2 and db == 2:
        return apply(mm_op, (input, other))
    if da == 1 and db == 2:
        return apply(bmm_op.variant("SqueezeBackward4"), (input, other))
    if da == 2 and input.requires_grad:
        # torch computes matrix @ batch as the transposed product made contiguous (a clone).
        return apply(bmm_op.variant("CloneBackward0"), (input, other))
    return apply(bmm_op.variant("UnsafeViewBackward0"), (input, other))


@declare
def mm(input, mat2, *, out=None):
    _need_tensors("mm", input, mat2)
    if input.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    return _out(apply(mm_op, (input, mat2)), out, "mm")


@declare(out=True)
def dot(input, tensor, *, out=None):
    _need_tensors("dot", input, tensor)
    if input.ndim != 1 or tensor.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {tensor.ndim}D tensors")
    return apply(dot_op, (input, tensor))


@declare(out=True)
def mv(input, vec, *, out=None):
    _need_tensors("mv", input, vec)
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input.ndim}, {input.ndim}, "
                           f"{vec.ndim}")
    return apply(mv_op, (input, vec))


@declare
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
    return _out(apply(bmm_op, (input, mat2)), out, "bmm")


# ---- composites of the primitives above (their graphs are the primitives') ---------------
@declare(out=True)
def vdot(input, other, *, out=None):
    _need_tensors("vdot", input, other)
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    return dot(input.conj(), other)


@declare(aliases=("ger",), out=True)
def outer(input, vec2, *, out=None):
    _need_tensors("outer", input, vec2)
    if input.ndim != 1 or vec2.ndim != 1:
        raise RuntimeError(f"outer: Expected 1-D argument self, but got {input.ndim}-D"
                           if input.ndim != 1 else
                           f"outer: Expected 1-D argument vec2, but got {vec2.ndim}-D")
    return input.unsqueeze(1) * vec2.unsqueeze(0)


ger = outer


@declare(out=True)
def inner(input, other, *, out=None):
    if not isinstance(input, Tensor) or not isinstance(other, Tensor) or \
            input.ndim == 0 or other.ndim == 0:
        return input * other
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got "
                           f"shapes {list(input.shape)} and {list(other.shape)}")
    return tensordot(input, other, ([-1], [-1]))


@declare(out=True)
def tensordot(a, b, dims=2, out=None):
    """Contract ``dims`` of a with dims of b: a permute/reshape into one mm."""
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, (int, np.integer)):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        da = list(range(-dims, 0))
        db = list(range(dims))
    else:
        da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
    if len(da) != len(db):
        raise RuntimeError("both dimension lists should have same length")
    for x, y in zip(da, db):
        if a.shape[x] != b.shape[y]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{a.shape[x]} in dim {x} and second has size {b.shape[y]} in dim "
                               f"{y}")
    da = [d % a.ndim for d in da]
    db = [d % b.ndim for d in db]
    free_a = [d for d in range(a.ndim) if d not in da]
    free_b = [d for d in range(b.ndim) if d not in db]
    k = int(np.prod([a.shape[d] for d in da]))
    m = int(np.prod([a.shape[d] for d in free_a]))
    n = int(np.prod([b.shape[d] for d in free_b]))
    am = a.permute(free_a + da).reshape(m, k)
    bm = b.permute(db + free_b).reshape(k, n)
    shape = [a.shape[d] for d in free_a] + [b.shape[d] for d in free_b]
    return mm(am, bm).reshape(shape)


@declare
@autocast_entry(AUTOCAST_LOWER)
def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    # Hot (every Linear with a bias): out= is written here, not by declare's wrapper.
    from .fused import addmm_op, fused_addmm_ok
    if isinstance(input, Tensor) and fused_addmm_ok(input, mat1, mat2):
        result = apply(addmm_op, (input, mat1, mat2), {"beta": beta, "alpha": alpha})
    else:
        result = _scaled_sum(input, mm(mat1, mat2), beta, alpha)
    return result if out is None else _out(result, out, "addmm")


@declare(out=True)
def addmv(input, mat, vec, *, beta=1, alpha=1, out=None):
    return _scaled_sum(input, mv(mat, vec), beta, alpha)


@declare(out=True)
def addr(input, vec1, vec2, *, beta=1, alpha=1, out=None):
    return _scaled_sum(input, outer(vec1, vec2), beta, alpha)


@declare
@autocast_entry(AUTOCAST_LOWER)
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    return _out(_scaled_sum(input, bmm(batch1, batch2), beta, alpha), out, "baddbmm")


@declare(out=True)
@autocast_entry(AUTOCAST_LOWER)
def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    return _scaled_sum(input, bmm(batch1, batch2).sum(0), beta, alpha)


def _scaled_sum(input, prod, beta, alpha):
    # torch ignores input entirely when beta == 0 (NaNs in it do not propagate).
    prod = prod if alpha == 1 else prod * alpha
    if beta == 0:
        np.broadcast_shapes(tuple(input.shape), tuple(prod.shape))
        return prod
    out = prod + (input if beta == 1 else input * beta)
    if tuple(out.shape) != tuple(prod.shape):
        raise RuntimeError(f"The expanded size of the tensor ({prod.shape[-1]}) must match the "
                           f"existing size ({input.shape[-1]}) at non-singleton dimension "
                           f"{out.ndim - 1}.  Target sizes: {list(prod.shape)}.  Tensor sizes: "
                           f"{list(input.shape)}")
    return out


@declare(out=True)
def kron(input, other, *, out=None):
    _need_tensors("kron", input, other)
    nd = max(input.ndim, other.ndim)
    a = input.reshape((1,) * (nd - input.ndim) + tuple(input.shape))
    b = other.reshape((1,) * (nd - other.ndim) + tuple(other.shape))
    ia, ib = [], []
    for d in range(nd):
        ia += [a.shape[d], 1]
        ib += [1, b.shape[d]]
    prod = a.reshape(ia) * b.reshape(ib)
    return prod.reshape([a.shape[d] * b.shape[d] for d in range(nd)])


@declare
def trace(input):
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    return input.diagonal().sum()


@declare(out=True)
def cross(input, other, dim=None, *, out=None):
    if input.ndim != other.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    if dim is None:
        import warnings
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\n"
                      "Please either pass the dim explicitly or simply use torch.linalg.cross.\n"
                      "The default value of dim will change to agree with that of "
                      "linalg.cross in a future release.", UserWarning, stacklevel=2)
        shape = np.broadcast_shapes(tuple(input.shape), tuple(other.shape))
        dim = next((i for i, s in enumerate(shape) if s == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    return linalg_cross(input, other, dim=dim)


@with_out
def linalg_cross(input, other, *, dim=-1, out=None):
    from .join import broadcast_tensors, stack
    a, b = broadcast_tensors(input, other)
    d = dim % a.ndim if a.ndim else 0
    if a.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{input.shape[d] if d < input.ndim else 1} and "
                           f"{other.shape[d] if d < other.ndim else 1}")
    a0, a1, a2 = (a.select(d, i) for i in range(3))
    b0, b1, b2 = (b.select(d, i) for i in range(3))
    return stack((a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0), d)
