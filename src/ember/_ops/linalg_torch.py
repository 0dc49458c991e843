"""The ``torch.*`` spellings of linear algebra (torch.det, torch.svd, ...), on ember.linalg.

A few differ from their linalg counterparts: torch.svd returns V (not Vh) and takes
``some``; torch.qr takes ``some``; torch.pinverse takes ``rcond``.
"""
import collections

from . import decomp as L


def det(input):
    return L.det(input)


def inverse(input, *, out=None):
    return L.inv(input)


def logdet(input):
    sign, logabs = L.slogdet(input)
    return logabs + sign.log()


def slogdet(input, *, out=None):
    return L.slogdet(input)


def matrix_power(input, n):
    return L.matrix_power(input, n)


def pinverse(input, rcond=1e-15):
    return L.pinv(input, rtol=rcond)


SvdResult = collections.namedtuple("svd", ["U", "S", "V"])


def svd(input, some=True, compute_uv=True, *, out=None):
    U, S, Vh = L.svd(input, full_matrices=not some)
    if not compute_uv:
        # torch returns zero-filled U and V then (S still differentiable).
        return SvdResult(U.detach() * 0, S, Vh.mH.detach() * 0)
    return SvdResult(U, S, Vh.mH)


def qr(input, some=True, *, out=None):
    return L.qr(input, "reduced" if some else "complete")


def cholesky(input, upper=False, *, out=None):
    return L.cholesky(input, upper=upper)


def chain_matmul(*matrices, out=None):
    return L.multi_dot(matrices)


__all__ = ["det", "inverse", "logdet", "slogdet", "matrix_power", "pinverse", "svd", "qr",
           "cholesky", "chain_matmul"]
METHODS = {name: globals()[name] for name in __all__ if name != "chain_matmul"}
