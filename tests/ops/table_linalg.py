"""Op-table entries: matrix products."""
import numpy as np
import torch

import ember

from .harness import OpInfo, Sample, arr

ENTRIES = [
    OpInfo("mm", ember.mm, torch.mm, lambda rng: [Sample((arr(rng, (3, 4)), arr(rng, (4, 2))))],
           atol=1e-5),
    OpInfo("dot", ember.dot, torch.dot, lambda rng: [Sample((arr(rng, (5,)), arr(rng, (5,))))]),
    OpInfo("mv", ember.mv, torch.mv, lambda rng: [Sample((arr(rng, (3, 4)), arr(rng, (4,))))]),
    OpInfo("matmul", ember.matmul, torch.matmul,
           lambda rng: [Sample((arr(rng, (2, 3, 4)), arr(rng, (2, 4, 5)))),
                        Sample((arr(rng, (2, 3, 4)), arr(rng, (4, 5)))),
                        Sample((arr(rng, (4,)), arr(rng, (2, 4, 3)))),
                        Sample((arr(rng, (2, 1, 3, 4)), arr(rng, (3, 4, 2)))),
                        Sample((arr(rng, (3, 4)), arr(rng, (4,)))),
                        Sample((arr(rng, (3, 4)), arr(rng, (4, 2)))),
                        Sample((arr(rng, (4,)), arr(rng, (4,))))],
           covers=("matmul", "dot", "mv", "mm")),
    OpInfo("matmul_cases", ember.matmul, torch.matmul,
           lambda rng: [Sample((arr(rng, (2, 3, 4)), arr(rng, (2, 4, 5)))),
                        Sample((arr(rng, (2, 3, 4)), arr(rng, (4,)))),
                        Sample((arr(rng, (4,)), arr(rng, (4, 3)))),
                        Sample((arr(rng, (3, 4)), arr(rng, (2, 4, 5))))],
           covers=("matmul",)),
    OpInfo("bmm", ember.bmm, torch.bmm,
           lambda rng: [Sample((arr(rng, (2, 3, 4)), arr(rng, (2, 4, 5))))], covers=("matmul",)),
]


def S(*args, **kwargs):
    return Sample(args, kwargs)


def _spd(rng, n):
    a = rng.standard_normal((n, n))
    return (a @ a.T + n * np.eye(n)).astype(np.float32)


def _conditioned(rng, shape):
    """A matrix with singular values in [1, 2.2], at least 0.3 apart: pinv, lstsq and the
    SVD's gradients stay accurate in float32 (a uniform random matrix can be nearly singular)."""
    m, n = shape
    k = min(m, n)
    u = np.linalg.qr(rng.standard_normal((m, k)))[0]
    v = np.linalg.qr(rng.standard_normal((n, k)))[0]
    s = 1.0 + 0.5 * np.arange(k) + rng.uniform(0.0, 0.2, k)
    return ((u * s) @ v.T).astype(np.float32)


def _triangular(rng, shape):
    """A matrix whose diagonal is at least 1 away from 0 (the other triangle is random:
    solve_triangular ignores it, and its gradient there is 0)."""
    a = rng.uniform(-1.0, 1.0, shape)
    d = rng.uniform(1.0, 2.0, shape[:-1]) * rng.choice([-1.0, 1.0], shape[:-1])
    n = shape[-1]
    a[..., np.arange(n), np.arange(n)] = d
    return a.astype(np.float32)


def _sym(rng, n):
    a = rng.standard_normal((n, n))
    return (a + a.T).astype(np.float32)


def _sym_input(fn):
    """Differentiate through a symmetric input (torch's eigh/cholesky read one triangle)."""
    return lambda a, *rest, **kw: fn((a + a.mT) * 0.5, *rest, **kw)


def _sign_fixed(fn, index):
    """Singular/eigen vectors are defined up to sign: compare squares."""
    return lambda *a: fn(*a)[index] ** 2


EL, TL = ember.linalg, torch.linalg

ENTRIES += [
    OpInfo("vdot", ember.vdot, torch.vdot, lambda rng: [S(arr(rng, (4,)), arr(rng, (4,)))],
           covers=("dot",)),
    # Only complex operands are conjugated; |vdot| is real, so both libraries differentiate it.
    OpInfo("vdot_complex", lambda a, b: ember.vdot(a, b).abs(), lambda a, b: torch.vdot(a, b).abs(),
           lambda rng: [S(arr(rng, (4,), "complex128"), arr(rng, (4,), "complex128"))],
           fd=False, gradgrad=False, covers=("dot", "conj")),
    OpInfo("outer", ember.outer, torch.outer, lambda rng: [S(arr(rng, (3,)), arr(rng, (2,)))],
           covers=("mul", "unsqueeze")),
    OpInfo("inner", ember.inner, torch.inner, lambda rng: [
        S(arr(rng, (2, 3)), arr(rng, (4, 3))), S(arr(rng, (3,)), arr(rng, (3,)))],
           covers=("mm", "permute", "view")),
    OpInfo("tensordot", ember.tensordot, torch.tensordot, lambda rng: [
        S(arr(rng, (2, 3, 4)), arr(rng, (4, 3, 2)), ([1, 2], [1, 0])),
        S(arr(rng, (2, 3)), arr(rng, (3, 2)), 1), S(arr(rng, (2, 3)), arr(rng, (2, 3)), 0)],
           covers=("mm", "permute", "view")),
    OpInfo("addmm", ember.addmm, torch.addmm, lambda rng: [
        S(arr(rng, (3, 2)), arr(rng, (3, 4)), arr(rng, (4, 2))),
        S(arr(rng, (2,)), arr(rng, (3, 4)), arr(rng, (4, 2)), beta=0.5, alpha=2.0),
        S(arr(rng, (1, 2)), arr(rng, (3, 4)), arr(rng, (4, 2)), beta=0, alpha=-1),
        Sample((arr(rng, (2,), "float16"), arr(rng, (3, 4), "float16"),
                arr(rng, (4, 2), "float16")), grad=False)],
           covers=("addmm",)),
    OpInfo("linear_addmm", ember.nn.functional.linear, torch.nn.functional.linear,
           lambda rng: [S(arr(rng, (3, 4)), arr(rng, (2, 4)), arr(rng, (2,)))],
           covers=("addmm", "t")),
    OpInfo("addmv", ember.addmv, torch.addmv, lambda rng: [
        S(arr(rng, (3,)), arr(rng, (3, 4)), arr(rng, (4,)), alpha=-1.5)], covers=("mv", "add")),
    OpInfo("addr", ember.addr, torch.addr, lambda rng: [
        S(arr(rng, (3, 2)), arr(rng, (3,)), arr(rng, (2,)), beta=2.0)], covers=("add",)),
    OpInfo("baddbmm", ember.baddbmm, torch.baddbmm, lambda rng: [
        S(arr(rng, (2, 3, 2)), arr(rng, (2, 3, 4)), arr(rng, (2, 4, 2)), beta=0.5)],
           covers=("matmul", "add")),
    OpInfo("addbmm", ember.addbmm, torch.addbmm, lambda rng: [
        S(arr(rng, (3, 2)), arr(rng, (2, 3, 4)), arr(rng, (2, 4, 2)))],
           covers=("matmul", "sum", "add")),
    OpInfo("kron", ember.kron, torch.kron, lambda rng: [
        S(arr(rng, (2, 3)), arr(rng, (2, 2))), S(arr(rng, (2,)), arr(rng, (3, 2)))],
           covers=("mul", "view")),
    OpInfo("trace", ember.trace, torch.trace, lambda rng: [S(arr(rng, (3, 4)))],
           covers=("diagonal", "sum")),
    OpInfo("cross", ember.linalg.cross, torch.linalg.cross, lambda rng: [
        S(arr(rng, (2, 3)), arr(rng, (2, 3))), S(arr(rng, (3, 2)), arr(rng, (3, 1)), dim=0)],
           covers=("select", "stack", "expand")),
    OpInfo("einsum", ember.einsum, torch.einsum, lambda rng: [
        S("ij,jk->ik", arr(rng, (2, 3)), arr(rng, (3, 2))),
        S("ii->i", arr(rng, (3, 3))), S("bij,bjk", arr(rng, (2, 2, 3)), arr(rng, (2, 3, 2))),
        S("...ij,...j->...i", arr(rng, (2, 3, 2)), arr(rng, (2,))),
        S("ijk->j", arr(rng, (2, 3, 2))), S("i,j,j->i", arr(rng, (2,)), arr(rng, (3,)),
                                           arr(rng, (3,)))],
           covers=("einsum", "diagonal", "expand", "view")),
    OpInfo("linalg_inv", EL.inv, TL.inv, lambda rng: [
        S(_spd(rng, 3)), S(np.stack([_spd(rng, 2), _spd(rng, 2)]))]),
    OpInfo("linalg_det", EL.det, TL.det, lambda rng: [S(_spd(rng, 3)), S(arr(rng, (2, 2, 2)))],
           covers=("linalg_det", "linalg_inv")),
    OpInfo("linalg_slogdet", EL.slogdet, TL.slogdet, lambda rng: [S(arr(rng, (3, 3)))],
           output_index=1, covers=("linalg_slogdet", "linalg_inv")),
    OpInfo("linalg_solve", EL.solve, TL.solve, lambda rng: [
        S(_spd(rng, 3), arr(rng, (3, 2))), S(_spd(rng, 3), arr(rng, (3,))),
        S(_spd(rng, 2), arr(rng, (3, 2)), left=False)]),
    OpInfo("linalg_solve_triangular", EL.solve_triangular, TL.solve_triangular, lambda rng: [
        S(_triangular(rng, (3, 3)), arr(rng, (3, 2)), upper=True),
        S(_triangular(rng, (3, 3)), arr(rng, (2, 3)), upper=False, left=False),
        S(_triangular(rng, (2, 1, 3, 3)), arr(rng, (2, 3, 2)), upper=False, unitriangular=True),
        S(_triangular(rng, (2, 2)), arr(rng, (3, 1, 2, 2)), upper=True, left=False,
          unitriangular=True)], covers=("linalg_solve_triangular", "triu", "tril")),
    OpInfo("linalg_cholesky", _sym_input(EL.cholesky), _sym_input(TL.cholesky), lambda rng: [
        S(_spd(rng, 3)), S(_spd(rng, 2), upper=True)],
           covers=("linalg_cholesky", "linalg_inv", "tril", "diagonal", "diag_embed")),
    OpInfo("linalg_eigh", _sym_input(EL.eigvalsh), _sym_input(TL.eigvalsh),
           lambda rng: [S(_sym(rng, 3))], covers=("linalg_eigh",)),
    OpInfo("linalg_eigh_vectors", _sign_fixed(_sym_input(EL.eigh), 1),
           _sign_fixed(_sym_input(TL.eigh), 1), lambda rng: [S(_sym(rng, 3))],
           covers=("linalg_eigh",), grad_atol=1e-3),
    OpInfo("linalg_svd", EL.svdvals, TL.svdvals, lambda rng: [
        S(_conditioned(rng, (3, 2))), S(_conditioned(rng, (2, 3)))], covers=("linalg_svd",)),
    OpInfo("linalg_svd_vectors", _sign_fixed(lambda a: EL.svd(a, full_matrices=False), 0),
           _sign_fixed(lambda a: TL.svd(a, full_matrices=False), 0),
           lambda rng: [S(_conditioned(rng, (4, 3))), S(_conditioned(rng, (3, 4)))],
           covers=("linalg_svd",), grad_atol=1e-3),
    OpInfo("linalg_pinv", EL.pinv, TL.pinv, lambda rng: [S(_conditioned(rng, (4, 3)))],
           covers=("linalg_svd",), grad_atol=1e-3),
    OpInfo("linalg_lstsq", lambda a, b: EL.lstsq(a, b).solution,
           lambda a, b: TL.lstsq(a, b).solution,
           lambda rng: [S(_conditioned(rng, (4, 3)), arr(rng, (4, 2)))],
           covers=("linalg_svd",), grad_atol=1e-3),
    OpInfo("linalg_qr", lambda a: EL.qr(a)[0], lambda a: TL.qr(a)[0],
           lambda rng: [S(arr(rng, (4, 3))), S(arr(rng, (3, 3)))],
           covers=("linalg_qr", "linalg_solve"), grad_atol=1e-3),
    OpInfo("linalg_qr_r", lambda a: EL.qr(a)[1], lambda a: TL.qr(a)[1],
           lambda rng: [S(arr(rng, (4, 3)))], covers=("linalg_qr",), grad_atol=1e-3),
    OpInfo("matrix_power", EL.matrix_power, TL.matrix_power, lambda rng: [
        S(arr(rng, (3, 3)), 3), S(_spd(rng, 2), -2), S(arr(rng, (2, 2)), 0)],
           covers=("mm", "linalg_inv")),
    OpInfo("matrix_norm", EL.matrix_norm, TL.matrix_norm, lambda rng: [
        S(arr(rng, (3, 4))), S(arr(rng, (3, 4)), "nuc"), S(arr(rng, (3, 4)), 1),
        S(arr(rng, (3, 4)), float("-inf"), keepdim=True), S(arr(rng, (2, 3, 2)), 2, (0, 2))],
           covers=("norm", "linalg_svd", "sum")),
    OpInfo("vector_norm", EL.vector_norm, TL.vector_norm, lambda rng: [
        S(arr(rng, (3, 4))), S(arr(rng, (3, 4)), 1, 1), S(arr(rng, (3, 4)), 3, (0, 1), True)],
           covers=("norm",)),
    OpInfo("linalg_norm", EL.norm, TL.norm, lambda rng: [
        S(arr(rng, (3, 4))), S(arr(rng, (3, 4)), "fro"), S(arr(rng, (4,)), float("inf")),
        S(arr(rng, (3, 4)), None, 1)], covers=("norm",)),
]

ENTRIES += [
    OpInfo("torch_linalg_spellings",
           lambda a, b: (ember.det(a), ember.inverse(a), ember.logdet(a @ a.mT),
                         ember.matrix_power(a, 2), ember.pinverse(b), ember.chain_matmul(a, a, a),
                         ember.svd(b)[0] ** 2, ember.svd(b)[1], ember.qr(b)[1] ** 2,
                         ember.cholesky(a @ a.mT + ember.eye(3, dtype=a.dtype)),
                         EL.multi_dot([a[0], a, a[:, 1]])),
           lambda a, b: (torch.det(a), torch.inverse(a), torch.logdet(a @ a.mT),
                         torch.matrix_power(a, 2), torch.pinverse(b), torch.chain_matmul(a, a, a),
                         torch.svd(b)[0] ** 2, torch.svd(b)[1], torch.qr(b)[1] ** 2,
                         torch.cholesky(a @ a.mT + torch.eye(3, dtype=a.dtype)),
                         TL.multi_dot([a[0], a, a[:, 1]])),
           lambda rng: [S(_spd(rng, 3), _conditioned(rng, (4, 3)))], grad=False,
           covers=("linalg_det", "linalg_inv", "linalg_slogdet", "linalg_svd", "linalg_qr",
                   "linalg_cholesky", "mm")),
]


def _half(lib, fn):
    """The product computed in a half dtype: torch accumulates in float32 and rounds once."""
    def f(dt, a, b):
        d = getattr(lib, dt)
        return fn(a.to(d), b.to(d))
    return f


def _abs_of(lib, fn):
    # |a @ b| is real, so both libraries differentiate the complex product the same way.
    return lambda a, b: fn(a, b).abs()


ENTRIES += [
    OpInfo("matmul_half", _half(ember, ember.matmul), _half(torch, torch.matmul),
           lambda rng: [Sample((dt, arr(rng, sa), arr(rng, sb)), name=f"{dt}{sa}@{sb}")
                        for dt in ("bfloat16", "float16")
                        for sa, sb in (((3, 4), (4, 2)), ((4,), (4,)), ((3, 4), (4,)),
                                       ((2, 3, 4), (4, 5)))],
           atol=2e-2, rtol=2e-2, grad_atol=5e-2, grad_rtol=5e-2, fd=False, gradgrad=False,
           covers=("matmul", "dot", "mv", "mm")),
    OpInfo("matmul_complex", _abs_of(ember, ember.matmul), _abs_of(torch, torch.matmul),
           lambda rng: [Sample((arr(rng, sa, "complex128"), arr(rng, sb, "complex128")))
                        for sa, sb in (((3, 4), (4, 2)), ((4,), (4,)), ((3, 4), (4,)),
                                       ((2, 3, 4), (4, 5)))],
           fd=False, gradgrad=False, covers=("matmul", "dot", "mv", "mm")),
]
