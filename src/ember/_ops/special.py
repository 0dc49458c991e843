"""torch.special's functions that are not also top-level torch ops.

Forwards come from SciPy's special functions (CuPy's ``cupyx.scipy.special`` for
device arrays); backwards are written in Ember ops.  Where torch defines no
derivative (zeta, Bessel J, incomplete gamma), the op is not differentiable here either.
"""
import math

import numpy as np

from .._device import array_module, special_module
from ._common import _out, op_function
from ._declare import declare
from .pointwise import where
from .registry import FLOAT, PROMOTE_FLOAT, apply, defop

_SQRT_2PI = math.sqrt(2 * math.pi)
_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


def _keep(fn):
    """Run a SciPy function and return the input's (float) dtype, as torch does."""
    def fwd(a, *rest):
        return array_module(a).asarray(fn(special_module(a), a, *rest)).astype(a.dtype, copy=False)
    return fwd


def _x(ctx):
    return ctx.saved[0]


i0_op = defop("i0", _keep(lambda s, a: s.i0(a)), lambda ctx, g: g * i1(_x(ctx)),
              promote=FLOAT, save=(0,))
i0e_op = defop("i0e", _keep(lambda s, a: s.i0e(a)),
               lambda ctx, g: g * (i1e(_x(ctx)) - _x(ctx).sign() * ctx.result),
               promote=FLOAT, save=(0,), save_result=True)


def _i1_bwd(ctx, g):
    x = _x(ctx)
    # i1'(x) = i0(x) - i1(x)/x, whose limit at 0 is 1/2
    safe = where(x == 0, 1.0, x)
    return g * where(x == 0, 0.5, i0(x) - ctx.result / safe)


def _i1e_bwd(ctx, g):
    x = _x(ctx)
    safe = where(x == 0, 1.0, x)
    return g * where(x == 0, 0.5, i0e(x) - ctx.result * (x.sign() + 1 / safe))


i1_op = defop("i1", _keep(lambda s, a: s.i1(a)), _i1_bwd, promote=FLOAT, save=(0,),
              save_result=True)
i1e_op = defop("i1e", _keep(lambda s, a: s.i1e(a)), _i1e_bwd, promote=FLOAT, save=(0,),
               save_result=True)


def _sinc_fwd(a):
    return np.sinc(a).astype(a.dtype, copy=False)


def _sinc_bwd(ctx, g):
    x = _x(ctx)
    px = x * math.pi
    safe = where(x == 0, 1.0, px)
    return g * where(x == 0, 0.0, (px.cos() * px - px.sin()) / (safe * x))


sinc_op = defop("sinc", _sinc_fwd, _sinc_bwd, promote=FLOAT, save=(0,))


def _entr_fwd(a):
    with np.errstate(all="ignore"):
        out = np.where(a > 0, -a * np.log(np.where(a > 0, a, 1)), np.where(a == 0, 0, -np.inf))
    return np.where(np.isnan(a), a, out).astype(a.dtype, copy=False)


entr_op = defop("entr", _entr_fwd, lambda ctx, g: g * -(_x(ctx).log() + 1), promote=FLOAT,
                save=(0,))
erfcx_op = defop("erfcx", _keep(lambda s, a: s.erfcx(a)),
                 lambda ctx, g: g * (2 * _x(ctx) * ctx.result - _TWO_OVER_SQRT_PI),
                 promote=FLOAT, save=(0,), save_result=True)


def _pdf(x):
    return (x * x * -0.5).exp() / _SQRT_2PI


ndtr_op = defop("ndtr", _keep(lambda s, a: s.ndtr(a)), lambda ctx, g: g * _pdf(_x(ctx)),
                promote=FLOAT, save=(0,))
ndtri_op = defop("ndtri", _keep(lambda s, a: s.ndtri(a)),
                 lambda ctx, g: g * _SQRT_2PI * (ctx.result * ctx.result * 0.5).exp(),
                 promote=FLOAT, save_result=True)
log_ndtr_op = defop("log_ndtr", _keep(lambda s, a: s.log_ndtr(a)),
                    lambda ctx, g: g * (_x(ctx) * _x(ctx) * -0.5 - ctx.result).exp()
                    / _SQRT_2PI, promote=FLOAT, save=(0,), save_result=True)

def _igamma_bwd(sign, name):
    """d/dx of the regularized incomplete gamma: the Gamma(a) density at x (torch defines no
    derivative with respect to a)."""
    def bwd(ctx, g):
        a, x = ctx.saved
        if ctx.needs_input_grad[0]:
            raise NotImplementedError(f"the derivative for '{name}: input' is not implemented.")
        density = ((a - 1) * x.log() - x - a.lgamma()).exp()
        return None, g * density * sign
    return bwd


gammainc_op = defop("gammainc", _keep(lambda s, a, x: s.gammainc(a, x)), _igamma_bwd(1, "igamma"),
                    promote=PROMOTE_FLOAT, save=(0, 1), node="IgammaBackward0")
gammaincc_op = defop("gammaincc", _keep(lambda s, a, x: s.gammaincc(a, x)),
                     _igamma_bwd(-1, "igammac"), promote=PROMOTE_FLOAT, save=(0, 1),
                     node="IgammacBackward0")


# torch defines no derivatives for these
zeta_op = defop("zeta", _keep(lambda s, x, q: s.zeta(x, q)), promote=PROMOTE_FLOAT)
bessel_j0_op = defop("bessel_j0", _keep(lambda s, a: s.j0(a)), promote=FLOAT)
bessel_j1_op = defop("bessel_j1", _keep(lambda s, a: s.j1(a)), promote=FLOAT)



def _binary_fn(op, name, tensors_only=False):
    def f(input, other, *, out=None):
        if tensors_only:
            from .._tensor import Tensor
            for pos, (arg, value) in enumerate((("input", input), ("other", other)), 1):
                if not isinstance(value, Tensor):
                    raise TypeError(f"special_{name}(): argument '{arg}' (position {pos}) must be "
                                    f"Tensor, not {type(value).__name__}")
        return _out(apply(op, (input, other)), out)
    f.__name__ = f.__qualname__ = name
    return f


# i0 and sinc are torch.* functions and Tensor methods too; the rest only torch.special's.
i0 = declare(op_function(i0_op, "i0"))
i0e = op_function(i0e_op, "i0e")
i1 = op_function(i1_op, "i1")
i1e = op_function(i1e_op, "i1e")
sinc = declare(op_function(sinc_op, "sinc"))
entr = op_function(entr_op, "entr")
erfcx = op_function(erfcx_op, "erfcx")
ndtr = op_function(ndtr_op, "ndtr")
ndtri = op_function(ndtri_op, "ndtri")
log_ndtr = op_function(log_ndtr_op, "log_ndtr")
bessel_j0 = op_function(bessel_j0_op, "bessel_j0")
bessel_j1 = op_function(bessel_j1_op, "bessel_j1")
zeta = _binary_fn(zeta_op, "zeta")
gammainc = _binary_fn(gammainc_op, "gammainc", tensors_only=True)
gammaincc = _binary_fn(gammaincc_op, "gammaincc", tensors_only=True)


def xlog1py(input, other, *, out=None):
    """input * log1p(other), defined as 0 where input == 0 (as torch)."""
    from .._tensor import Tensor
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError("xlog1py() expects at least one tensor argument")
    res = input * (other.log1p() if isinstance(other, Tensor) else math.log1p(other))
    return _out(where(input == 0, 0.0, res) if isinstance(input, Tensor) else res, out)


def multigammaln(input, p, *, out=None):
    """log of the multivariate gamma function of dimension p (sum of shifted lgammas)."""
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    res = input.lgamma() * 0 + p * (p - 1) / 4 * math.log(math.pi)
    for j in range(p):
        res = res + (input - j / 2).lgamma()
    return _out(res, out)


SPECIAL = ["i0", "i0e", "i1", "i1e", "sinc", "entr", "erfcx", "ndtr", "ndtri", "log_ndtr",
           "bessel_j0", "bessel_j1", "zeta", "gammainc", "gammaincc", "xlog1py", "multigammaln"]
