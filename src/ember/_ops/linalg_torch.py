"""The ``torch.*`` spellings of linear algebra (torch.det, torch.svd, ...), on ember.linalg.

A few differ from their linalg counterparts: torch.svd returns V (not Vh) and takes
``some``; torch.qr takes ``some``; torch.pinverse takes ``rcond``.
"""
import collections

from ._declare import declare
from . import decomp as L


@declare
def det(input):
    return L.det(input)


@declare(out=True)
def inverse(input, *, out=None):
    return L.inv(input)


@declare
def logdet(input):
    sign, logabs = L.slogdet(input)
    return logabs + sign.log()


@declare(out=True)
def slogdet(input, *, out=None):
    return L.slogdet(input)


@declare
def matrix_power(input, n):
    return L.matrix_power(input, n)


@declare
def pinverse(input, rcond=1e-15):
    return L.pinv(input, rtol=rcond)


SvdResult = collections.namedtuple("svd", ["U", "S", "V"])


@declare(out=True)
def svd(input, some=True, compute_uv=True, *, out=None):
    U, S, Vh = L.svd(input, full_matrices=not some)
    if not compute_uv:
        # torch returns zero-filled U and V then (S still differentiable).
        return SvdResult(U.detach() * 0, S, Vh.mH.detach() * 0)
    return SvdResult(U, S, Vh.mH)


@declare(out=True)
def qr(input, some=True, *, out=None):
    return L.qr(input, "reduced" if some else "complete")


@declare(out=True)
def cholesky(input, upper=False, *, out=None):
    return L.cholesky(input, upper=upper)


@declare(method=False, out=True)
def chain_matmul(*matrices, out=None):
    return L.multi_dot(matrices)
