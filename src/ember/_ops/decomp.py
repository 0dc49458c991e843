"""ember.linalg: inverses, determinants, solvers and decompositions.

Forwards call numpy.linalg (batched over leading dims); backward formulas are written
in Ember ops, so they differentiate again.  The formulas are the standard ones for
these factorizations (as torch uses): they assume distinct eigen/singular values and
invertible matrices where the maths needs them.
"""
import collections

import numpy as np

from .._device import array_module
from .._tensor import _make
from ._common import with_out
from .registry import apply, defop


def _check_float(A, name):
    if A.dtype.category < 2:
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got "
                           f"{A.dtype._legacy}")


def _check_precision(A, kernel=None, message=None):
    """torch's decompositions have no float16/bfloat16 kernels: NotImplementedError naming
    the kernel, or (``message``) the RuntimeError of the functions that check first."""
    if A.dtype.is_floating_point and A.element_size() == 2:
        if kernel is not None:
            raise NotImplementedError(f'"{kernel}" not implemented for \'{A.dtype._legacy}\'')
        raise RuntimeError(message)


_FLOAT_DOUBLE_ONLY = "This function doesn't handle types other than float and double"


class LinAlgError(RuntimeError):
    """A matrix the factorization cannot handle (singular, not positive-definite)."""


# torch's class prints as _LinAlgError (its C name); so does Ember's.
LinAlgError.__name__ = LinAlgError.__qualname__ = "_LinAlgError"


def _check_square(A, name, arg="A"):
    if A.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor {arg} must have at least 2 dimensions.")
    _check_float(A, name)
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{name}: {arg} must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")


def _la(a):
    return array_module(a).linalg


def _host(a):
    """A host copy of ``a``, for the error paths that find a failing pivot element by element."""
    return a.get() if hasattr(a, "get") else np.array(a)


def _zero_pivot(a):
    """1-based index of the first zero pivot of LU with partial pivoting (LAPACK's info)."""
    m = _host(a).astype(np.float64 if a.dtype.kind != "c" else np.complex128).reshape(
        -1, a.shape[-2], a.shape[-1])
    for b, mat in enumerate(m):
        mat = mat.copy()
        n = mat.shape[0]
        for k in range(n):
            p = k + int(np.argmax(np.abs(mat[k:, k])))
            if mat[p, k] == 0:
                return b, k + 1
            mat[[k, p]] = mat[[p, k]]
            mat[k + 1:] -= np.outer(mat[k + 1:, k] / mat[k, k], mat[k])
    return 0, n


def _singular_error(name, a):
    b, k = _zero_pivot(a)
    batch = f"(Batch element {b}): " if a.ndim > 2 else ""
    return LinAlgError(f"{name}: {batch}The diagonal element {k} is zero, the "
                        f"{'inversion' if name == 'linalg.inv' else 'solve'} could not be "
                        "completed because the input matrix is singular.")


def _eye_like(A):
    n = A.shape[-1]
    return _make(array_module(A._data).eye(n, dtype=A._data.dtype))


# ---- inv / det / slogdet -----------------------------------------------------------------
def _inv_fwd(a):
    try:
        return _la(a).inv(a)
    except np.linalg.LinAlgError:
        raise _singular_error("linalg.inv", a) from None


def _inv_bwd(ctx, g):
    r = ctx.result.mH
    return -(r @ g @ r)


inv_op = defop("linalg_inv", _inv_fwd, _inv_bwd, save_result=True, node="LinalgInvExBackward0",
               autocast="fp32")


@with_out
def inv(A, *, out=None):
    _check_square(A, "linalg.inv")
    _check_precision(A, message=f"linalg.inv: Low precision dtypes not supported. Got "
                                f"{A.dtype._legacy}")
    return apply(inv_op, (A,))


def _det_bwd(ctx, g):
    A, = ctx.saved
    return (g * ctx.result).unsqueeze(-1).unsqueeze(-1) * inv(A).mH


det_op = defop("linalg_det", lambda a: array_module(a).asarray(_la(a).det(a)), _det_bwd, save=(0,),
               save_result=True, node="LinalgDetBackward0", autocast="fp32")


@with_out
def det(A, *, out=None):
    _check_square(A, "linalg.det")
    _check_precision(A, "lu_cpu")
    return apply(det_op, (A,))


def _slogdet_fwd(a):
    sign, logabs = _la(a).slogdet(a)
    return array_module(a).asarray(sign), array_module(a).asarray(logabs)


def _slogdet_bwd(ctx, g_sign, g_logabs):
    A, = ctx.saved
    return g_logabs.unsqueeze(-1).unsqueeze(-1) * inv(A).mH


slogdet_op = defop("linalg_slogdet", _slogdet_fwd, _slogdet_bwd, nout=2, save=(0,),
                   node="LinalgSlogdetBackward0", autocast="fp32")
SlogdetResult = collections.namedtuple("slogdet", ["sign", "logabsdet"])


@with_out
def slogdet(A, *, out=None):
    _check_square(A, "linalg.slogdet")
    _check_precision(A, message=f"linalg.slogdet: Low precision dtypes not supported. Got "
                                f"{A.dtype._legacy}")
    return SlogdetResult(*apply(slogdet_op, (A,)))


# ---- solve ---------------------------------------------------------------------------------
def _solve_fwd(a, b):
    try:
        return _la(a).solve(a, b)
    except np.linalg.LinAlgError:
        raise _singular_error("linalg.solve", a) from None


def _solve_bwd(ctx, g):
    A, = ctx.saved
    need = ctx.needs_input_grad
    gB = _solve_mat(A.mH, g)
    gA = -(gB @ ctx.result.mH) if need[0] else None
    return gA, (gB if need[1] else None)


solve_op = defop("linalg_solve", _solve_fwd, _solve_bwd, save=(0,), save_result=True,
                 node="LinalgSolveExBackward0", autocast="fp32")


def _solve_mat(A, B):
    return apply(solve_op, (A, B))


@with_out
def solve(A, B, *, left=True, out=None):
    _check_square(A, "linalg.solve")
    _check_precision(A, "lu_cpu")
    if A.dtype is not B.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found "
                           f"A of type {A.dtype._legacy} and B of type {B.dtype._legacy} instead")
    if not left:
        return solve(A.mT, B.mT).mT
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    Bm = B.unsqueeze(-1) if vector else B
    if Bm.shape[-2] != A.shape[-1]:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation AX = B"
                           f" ({A.shape[-2]}x{A.shape[-1]} and {Bm.shape[-2]}x{Bm.shape[-1]})")
    X = _solve_mat(A, Bm)
    return X.squeeze(-1) if vector else X


# ---- solve_triangular ---------------------------------------------------------------------
def _trisolve_fwd(a, b, upper, left, unitriangular):
    xp = array_module(a)
    b = b.astype(a.dtype)
    if not left:  # X A = B is A^T X^T = B^T, the other triangle
        a, b, upper = xp.swapaxes(a, -1, -2), xp.swapaxes(b, -1, -2), not upper
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = xp.broadcast_to(a, batch + a.shape[-2:])
    x = xp.array(xp.broadcast_to(b, batch + b.shape[-2:]))
    n = a.shape[-1]
    # Substitution row by row, vectorized over the batch and B's columns; like torch's trsm
    # it never checks for a zero diagonal (a singular A gives inf/nan, not an error).
    for i in (range(n - 1, -1, -1) if upper else range(n)):
        done = slice(i + 1, n) if upper else slice(0, i)
        if i != (n - 1 if upper else 0):
            x[..., i, :] -= (a[..., i:i + 1, done] @ x[..., done, :])[..., 0, :]
        if not unitriangular:
            x[..., i, :] /= a[..., i, i, None]
    return xp.swapaxes(x, -1, -2) if not left else x


def _trisolve_bwd(ctx, g):
    A, = ctx.saved
    upper, left, unit = ctx.upper, ctx.left, ctx.unitriangular
    need = ctx.needs_input_grad
    gB = apply(trisolve_op, (A.mH, g), {"upper": not upper, "left": left, "unitriangular": unit})
    gA = None
    if need[0]:
        X = ctx.result.mH
        gA = -(gB @ X) if left else -(X @ gB)
        gA = gA.triu(int(unit)) if upper else gA.tril(-int(unit))
    return gA, (gB if need[1] else None)


trisolve_op = defop("linalg_solve_triangular", _trisolve_fwd, _trisolve_bwd, promote=None,
                    save=(0,), save_result=True, autocast="fp32")


def solve_triangular(input, B, *, upper, left=True, unitriangular=False, out=None):
    # torch documents the first argument as A, but its keyword is input (the schema's self).
    A = input
    name = "linalg.solve_triangular"
    if A.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")
    if B.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor B must have at least 2 dimensions.")
    if (B.shape[-2] if left else B.shape[-1]) != A.shape[-1]:
        eq = "AX = B" if left else "XA = B"
        raise RuntimeError(f"{name}: Incompatible shapes of A and B for the equation {eq} "
                           f"({A.shape[-2]}x{A.shape[-1]} and {B.shape[-2]}x{B.shape[-1]})")
    batches = [_make(np.broadcast_to(np.empty((), np.int8), tuple(t.shape[:-2]))) for t in (B, A)]
    try:
        np.broadcast_shapes(*(t._data.shape for t in batches))
    except ValueError:
        from .registry import broadcast_error
        raise RuntimeError(broadcast_error(batches)) from None
    if A.dtype.category < 2 or A.dtype.itemsize < (8 if A.dtype.is_complex else 4):
        raise NotImplementedError(f"\"triangular_solve_cpu\" not implemented for "
                                  f"'{A.dtype._legacy}'")
    X = apply(trisolve_op, (A, B), {"upper": bool(upper), "left": bool(left),
                                    "unitriangular": bool(unitriangular)})
    if out is not None:
        from ._common import _out
        if out.dtype is not X.dtype and not (X.requires_grad or out.requires_grad):
            raise RuntimeError(f"expected scalar type {X.dtype._legacy} but found "
                               f"{out.dtype._legacy}")
        return _out(X, out, "linalg_solve_triangular")
    return X


# ---- cholesky --------------------------------------------------------------------------------
def _cholesky_fwd(a):
    try:
        return _la(a).cholesky(a)
    except np.linalg.LinAlgError:
        m = _host(a).reshape(-1, a.shape[-2], a.shape[-1])
        for b, mat in enumerate(m):
            for k in range(1, mat.shape[0] + 1):
                try:
                    np.linalg.cholesky(mat[:k, :k])
                except np.linalg.LinAlgError:
                    batch = f"(Batch element {b}): " if a.ndim > 2 else ""
                    raise LinAlgError(
                        f"linalg.cholesky: {batch}The factorization could not be completed because "
                        f"the input is not positive-definite (the leading minor of order {k} is "
                        "not positive-definite).") from None
        raise


def _phi(x):
    """Lower triangle with the diagonal halved."""
    return x.tril(-1) + x.diagonal(0, -2, -1).diag_embed() * 0.5


def _cholesky_bwd(ctx, g):
    L = ctx.result
    Linv = inv(L)
    S = Linv.mH @ _phi(L.mH @ g) @ Linv
    return (S + S.mH) * 0.5


cholesky_op = defop("linalg_cholesky", _cholesky_fwd, _cholesky_bwd, save_result=True,
                    node="LinalgCholeskyExBackward0", autocast="fp32")


@with_out
def cholesky(input, *, upper=False, out=None):
    # torch.linalg's keyword is input here and below (its docs say A; its parser rejects A=).
    A = input
    _check_square(A, "linalg.cholesky")
    _check_precision(A, "cholesky_cpu")
    L = apply(cholesky_op, (A,))
    return L.mH if upper else L


# ---- eigh / eigvalsh ------------------------------------------------------------------------
def _eigh_fwd(a, UPLO):
    w, v = _la(a).eigh(a, UPLO=UPLO)
    return w, v


def _eigh_bwd(ctx, gL, gV):
    L, V = ctx.saved_outputs
    Vh = V.mH
    inner = gL.diag_embed()
    if gV._data.any():
        E = L.unsqueeze(-2) - L.unsqueeze(-1)          # E[i, j] = L[j] - L[i]
        off = 1 - _eye_like(V)
        F = off / (E + (1 - off))
        VhgV = Vh @ gV
        # Only the skew part of V^H gV moves the eigenvectors (their norm is fixed).
        inner = inner + F * (VhgV - VhgV.mH) * 0.5
    return V @ inner @ Vh


eigh_op = defop("linalg_eigh", _eigh_fwd, _eigh_bwd, nout=2, node="LinalgEighBackward0",
                autocast="fp32")
EighResult = collections.namedtuple("eigh", ["eigenvalues", "eigenvectors"])


def _with_outputs(outs):
    node = outs[0]._grad_fn
    if node is not None:
        # The backward needs the decomposition itself; keep detached copies on the node.
        node.__dict__["saved_outputs"] = tuple(_detached_like(o, node, i)
                                               for i, o in enumerate(outs))
    return outs


def _detached_like(o, node, i):
    t = _make(o._data.copy())
    t._grad_fn, t._output_nr, t._requires_grad = node, i, True
    return t


@with_out
def eigh(input, UPLO="L", *, out=None):
    A = input
    _check_square(A, "linalg.eigh")
    _check_precision(A, "linalg_eigh_cpu")
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return EighResult(*_with_outputs(apply(eigh_op, (A,), {"UPLO": UPLO})))


@with_out
def eigvalsh(input, UPLO="L", *, out=None):
    return eigh(input, UPLO).eigenvalues


# ---- svd / svdvals / pinv ----------------------------------------------------------------
def _svd_fwd(a, full_matrices):
    u, s, vh = _la(a).svd(a, full_matrices=full_matrices)
    return u, s.astype(a.real.dtype, copy=False), vh


def _svd_bwd(ctx, gU, gS, gVh):
    U, S, Vh = ctx.saved_outputs
    m, n = U.shape[-2], Vh.shape[-1]
    k = S.shape[-1]
    if ctx.full_matrices and (m != k or n != k):
        U, Vh = U[..., :k], Vh[..., :k, :]
        gU, gVh = gU[..., :k], gVh[..., :k, :]
    if not gU._data.any() and not gVh._data.any():
        return (U * gS.unsqueeze(-2)) @ Vh
    V, gV = Vh.mH, gVh.mH
    UhgU = U.mH @ gU
    VhgV = Vh @ gV
    S2 = S * S
    E = S2.unsqueeze(-2) - S2.unsqueeze(-1)               # E[i, j] = S[j]^2 - S[i]^2
    eye = _eye_like(UhgU)
    E = E + eye
    inner = ((UhgU - UhgU.mH) / E) * S.unsqueeze(-2) + S.unsqueeze(-1) * ((VhgV - VhgV.mH) / E)
    inner = inner * (1 - eye) + gS.diag_embed()
    gA = U @ inner @ Vh
    if m > k:
        gA = gA + ((gU - U @ UhgU) / S.unsqueeze(-2)) @ Vh
    if n > k:
        gA = gA + U @ ((gV - V @ VhgV) / S.unsqueeze(-2)).mH
    return gA


svd_op = defop("linalg_svd", _svd_fwd, _svd_bwd, nout=3, node="LinalgSvdBackward0", autocast="fp32")
SvdResult = collections.namedtuple("svd", ["U", "S", "Vh"])


@with_out
def svd(A, full_matrices=True, *, driver=None, out=None):
    _check_float(A, "linalg.svd")
    _check_precision(A, "linalg_svd_cpu")
    if A.ndim < 2:
        raise RuntimeError("linalg.svd: The input tensor A must have at least 2 dimensions.")
    return SvdResult(*_with_outputs(apply(svd_op, (A,), {"full_matrices": bool(full_matrices)})))


@with_out
def svdvals(A, *, driver=None, out=None):
    return svd(A, full_matrices=False).S


@with_out
def pinv(input, *, atol=None, rtol=None, hermitian=False, out=None):
    A = input
    _check_precision(A, message=f"linalg.pinv({A.dtype._legacy}{{{list(A.shape)}}}): expected a "
                                "tensor with 2 or more dimensions of float, double, cfloat or "
                                "cdouble types")
    U, S, Vh = svd(A, full_matrices=False)
    smax = S.amax(-1, keepdim=True) if S.shape[-1] else S
    tol = _tolerance(A, smax, atol, rtol)
    keep = (S > tol).to(S.dtype)
    s_inv = keep / (S + (1 - keep))
    return (Vh.mH * s_inv.unsqueeze(-2)) @ U.mH


def _tolerance(A, smax, atol, rtol):
    if rtol is None:
        eps = float(np.finfo(A._data.dtype).eps)
        rtol = eps * max(A.shape[-2], A.shape[-1]) if atol is None or atol == 0 else 0.0
    tol = smax.detach() * rtol
    if atol is not None:
        tol = tol.clamp(min=atol) if hasattr(tol, "clamp") else tol * 0 + max(atol, 0)
    return tol


@with_out
def matrix_rank(input, *, atol=None, rtol=None, hermitian=False, out=None):
    A = input
    _check_precision(A, message=_FLOAT_DOUBLE_ONLY)
    S = svdvals(A.detach())
    smax = S.amax(-1, keepdim=True)
    return (S > _tolerance(A, smax, atol, rtol)).sum(-1)


def lstsq(input, b, rcond=None, *, driver=None):
    A, B = input, b
    _check_precision(A, message=_FLOAT_DOUBLE_ONLY)
    vector = B.ndim == A.ndim - 1
    Bm = B.unsqueeze(-1) if vector else B
    X = pinv(A) @ Bm
    empty = _make(array_module(A._data).zeros((0,), dtype=A._data.real.dtype))
    rank = matrix_rank(A)
    return LstsqResult(X.squeeze(-1) if vector else X, empty, rank, empty)


LstsqResult = collections.namedtuple("lstsq", ["solution", "residuals", "rank",
                                               "singular_values"])


# ---- qr ---------------------------------------------------------------------------------------
def _qr_fwd(a, mode):
    if mode == "r":
        r = _la(a).qr(a, mode="r")
        return array_module(a).zeros((0,), a.dtype), r
    return _la(a).qr(a, mode=mode)


def _copyltu(M):
    return M.tril(-1) + M.tril(-1).mH + M.diagonal(0, -2, -1).diag_embed()


def _qr_bwd(ctx, gQ, gR):
    Q, R = ctx.saved_outputs
    m, n = Q.shape[-2], R.shape[-1]
    if ctx.mode == "r" or m < n:
        raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when "
                           "mode='r'. Please use linalg.qr(A, mode='reduced') if you are going "
                           "to differentiate through linalg.qr." if ctx.mode == "r" else
                           "The QR decomposition is not differentiable when mode='complete' and "
                           "nrows > ncols.")
    M = R @ gR.mH - gQ.mH @ Q
    b = gQ + Q @ _copyltu(M)
    return _solve_mat(R, b.mH).mH   # b @ R^{-H}


qr_op = defop("linalg_qr", _qr_fwd, _qr_bwd, nout=2, node="LinalgQrBackward0", autocast="fp32")
QRResult = collections.namedtuple("qr", ["Q", "R"])


@with_out
def qr(A, mode="reduced", *, out=None):
    _check_float(A, "linalg.qr")
    _check_precision(A, "geqrf_cpu")
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    return QRResult(*_with_outputs(apply(qr_op, (A,), {"mode": mode})))


# ---- matrix_power / norms -------------------------------------------------------------------
def matrix_power(input, n):
    A = input
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but they "
                           f"are {A.shape[-2] if A.ndim > 1 else 1} by {A.shape[-1]} matrices")
    if n == 0:
        # The identity, still attached to A's graph (with a zero gradient) as torch's is.
        from .scatter import masked_fill
        everywhere = _make(array_module(A._data).ones(A._data.shape, dtype=bool))
        return masked_fill(A, everywhere, 0) + _eye_like(A)
    if n < 0:
        A, n = inv(A), -n
    result = None
    base = A
    while n:
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if n:
            base = base @ base
    return result


@with_out
def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    from .reduction import norm as _norm
    if dtype is not None:
        x = x.to(dtype)
    _check_float(x, "linalg.vector_norm")
    if ord == 0:
        n = (x != 0).to(x.dtype)
        return n.sum(dim, keepdim=keepdim) if dim is not None else n.sum()
    return _norm(x, float(ord), dim, keepdim)


@with_out
def matrix_norm(input, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    A = input
    if dtype is not None:
        A = A.to(dtype)
    _check_float(A, "linalg.matrix_norm")
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                           "dimensions.")
    d0, d1 = (d % A.ndim for d in dim)
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        S = svdvals(A.movedim((d0, d1), (-2, -1)))
        r = S.sum(-1) if ord == "nuc" else S.amax(-1) if ord == 2 else S.amin(-1)
        if keepdim:
            for d in sorted((d0, d1)):
                r = r.unsqueeze(d)
        return r
    if ord in (1, -1, float("inf"), float("-inf")):
        summed, other = (d0, d1) if ord in (1, -1) else (d1, d0)
        s = A.abs().sum(summed, keepdim=True)
        r = s.amax(other, keepdim=True) if ord > 0 else s.amin(other, keepdim=True)
        return r if keepdim else r.squeeze((d0, d1))
    raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")


@with_out
def norm(input, ord=None, dim=None, keepdim=False, *, dtype=None, out=None):
    A = input
    if isinstance(dim, int):
        dim = (dim,)
    if ord is None:
        if dim is None:
            return vector_norm(A, 2, None, keepdim, dtype=dtype)
        return vector_norm(A, 2, dim, keepdim, dtype=dtype) if len(dim) == 1 else \
            matrix_norm(A, "fro", dim, keepdim, dtype=dtype)
    if dim is None:
        if A.ndim == 2:
            return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
        if A.ndim == 1:
            return vector_norm(A, ord, None, keepdim, dtype=dtype)
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be "
                           f"1D or 2D. Got {A.ndim}D.")
    if len(dim) == 2:
        return matrix_norm(A, ord, dim, keepdim, dtype=dtype)
    return vector_norm(A, ord, dim, keepdim, dtype=dtype)


@with_out
def cross(input, other, *, dim=-1, out=None):
    from .linalg import linalg_cross
    return linalg_cross(input, other, dim=dim)


@with_out
def _vecdot(x, y, *, dim=-1, out=None):
    return (x.conj() * y).sum(dim)


vecdot = _vecdot

@with_out
def multi_dot(tensors, *, out=None):
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    first, last = tensors[0], tensors[-1]
    mats = [first.unsqueeze(0) if first.ndim == 1 else first] + tensors[1:-1] + \
        [last.unsqueeze(1) if last.ndim == 1 else last]
    result = mats[0]
    for m in mats[1:]:
        result = result.mm(m)
    if last.ndim == 1:
        result = result.squeeze(1)
    if first.ndim == 1:
        result = result.squeeze(0)
    return result


LINALG = ["LinAlgError", "multi_dot", "inv", "det", "slogdet", "solve", "solve_triangular", "cholesky", "eigh", "eigvalsh", "svd", "svdvals",
          "pinv", "matrix_rank", "lstsq", "qr", "matrix_power", "vector_norm", "matrix_norm",
          "norm", "cross", "vecdot"]
