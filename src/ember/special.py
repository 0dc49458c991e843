"""``ember.special``: torch.special's functions (torch's names; the ops live in ``_ops``)."""
from ._ops.binary import xlogy
from ._ops.nn_ops import log_softmax, softmax
from ._ops.unary import sigmoid as expit
from ._ops.reduction import logsumexp
from ._ops.special import (bessel_j0, bessel_j1, entr, erfcx, gammainc, gammaincc, i0, i0e, i1,
                           i1e, log_ndtr, multigammaln, ndtr, ndtri, sinc, xlog1py, zeta)
from ._ops.unary import (digamma, erf, erfc, erfinv, exp2, expm1, lgamma as gammaln, log1p, logit,
                         polygamma, round)

psi = digamma

__all__ = ["bessel_j0", "bessel_j1", "digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "exp2",
           "expit", "expm1", "gammainc", "gammaincc", "gammaln", "i0", "i0e", "i1", "i1e",
           "log1p", "log_ndtr", "log_softmax", "logit", "logsumexp", "multigammaln", "ndtr",
           "ndtri", "polygamma", "psi", "round", "sinc", "softmax", "xlog1py", "xlogy", "zeta"]
