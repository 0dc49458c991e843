"""Elementwise math of one tensor: exponentials and logs, roots, trigonometric and
hyperbolic functions, sigmoid and relu, special functions, rounding, sign, complex parts,
and the float-classification predicates.

Forwards run on raw arrays (special functions through ``scipy.special``, or
``cupyx.scipy.special`` for device arrays, chosen per array by ``special._sp`` and imported
lazily so that importing Ember does not pay for SciPy); backwards are written in Ember
ops, so every derivative here is itself differentiable.
"""
import math

import numpy as np

from .._device import array_module, special_module
from .._parallel import MIN_WORK
from .._tensor import Tensor
from ..autograd.saved import result_array
from ._common import _conj, _out, dtype_name, in_float32, real_only
from ._declare import declare, declare_op, inplace_method
from ._rows import host_blocks
from .inplace import apply_view
from .pointwise import abs, where
from .registry import FLOAT, apply, array_result, defop, plain_backward


_LN2 = math.log(2.0)
_LN10 = math.log(10.0)


def _not_implemented(kernel, a, suffix="_cpu"):
    """torch's error for a kernel that has no implementation for the input's dtype."""
    raise NotImplementedError(f"\"{kernel}{suffix}\" not implemented for '{dtype_name(a)}'")


def _float_op(name, fwd, bwd, *, save=(0,), save_result=False):
    """An op whose integral/bool inputs compute in the default float dtype (as torch)."""
    return defop(name, fwd, bwd, promote=FLOAT, save=save, save_result=save_result)


def _result_op(name, fwd, bwd):
    return _float_op(name, fwd, bwd, save=(), save_result=True)


def _times(deriv):
    """Backward ``g * conj(f'(x))``: torch's convention, which is ``g * f'(x)`` for reals."""
    return lambda ctx, g: g * _conj(deriv(ctx))


def _times_result(deriv, deriv_of_array):
    """``_times(deriv)`` for an op whose derivative is a function of its result: outside
    ``create_graph`` a real float32/float64 gradient is computed as one NumPy expression,
    ``g * deriv_of_array(result)`` (torch's fused tanh_backward & co.), instead of three
    dispatched ops; the same operations in the same order, so the same bits."""
    slow = _times(deriv)

    def backward(ctx, g):
        if plain_backward():
            r = result_array(ctx)
            gd = g._data
            dt = gd.dtype
            if dt is r.dtype and dt.kind == "f" and dt.itemsize >= 4:
                return array_result(gd * deriv_of_array(r))
        return slow(ctx, g)
    return backward


def _over(denominator):
    return lambda ctx, g: g / _conj(denominator(ctx))


def _x(ctx):
    return ctx.saved[0]


# ---- exponentials and logarithms ----------------------------------------------------
exp_op = _result_op("exp", np.exp, _times(lambda ctx: ctx.result))
log_op = _float_op("log", np.log, _over(_x))
exp2_op = _result_op("exp2", np.exp2, _times(lambda ctx: ctx.result * _LN2))
expm1_op = _result_op("expm1", np.expm1, _times(lambda ctx: ctx.result + 1))
log2_op = _float_op("log2", np.log2, _over(lambda ctx: _x(ctx) * _LN2))
log10_op = _float_op("log10", np.log10, _over(lambda ctx: _x(ctx) * _LN10))
log1p_op = _float_op("log1p", np.log1p, _over(lambda ctx: _x(ctx) + 1))

# ---- trigonometric and hyperbolic ---------------------------------------------------
sin_op = _float_op("sin", np.sin, _times(lambda ctx: cos(_x(ctx))))
cos_op = _float_op("cos", np.cos, lambda ctx, g: -g * _conj(sin(_x(ctx))))
tanh_op = _result_op("tanh", np.tanh, _times_result(lambda ctx: 1 - ctx.result * ctx.result,
                                                    lambda r: 1 - r * r))
tan_op = _result_op("tan", np.tan, _times(lambda ctx: 1 + ctx.result * ctx.result))
asin_op = _float_op("asin", np.arcsin, _over(lambda ctx: sqrt(1 - _x(ctx) * _x(ctx))))
acos_op = _float_op("acos", np.arccos, _over(lambda ctx: -sqrt(1 - _x(ctx) * _x(ctx))))
atan_op = _float_op("atan", np.arctan, _over(lambda ctx: 1 + _x(ctx) * _x(ctx)))
sinh_op = _float_op("sinh", np.sinh, _times(lambda ctx: cosh(_x(ctx))))
cosh_op = _float_op("cosh", np.cosh, _times(lambda ctx: sinh(_x(ctx))))
asinh_op = _float_op("asinh", np.arcsinh, _over(lambda ctx: sqrt(_x(ctx) * _x(ctx) + 1)))
# sqrt(x - 1) * sqrt(x + 1), not sqrt(x * x - 1): the same for reals, torch's branch for complex.
acosh_op = _float_op("acosh", np.arccosh,
                     _over(lambda ctx: sqrt(_x(ctx) - 1) * sqrt(_x(ctx) + 1)))
atanh_op = _float_op("atanh", np.arctanh, _over(lambda ctx: 1 - _x(ctx) * _x(ctx)))
deg2rad_op = _float_op("deg2rad", real_only(
    np.deg2rad, message="deg2rad is not supported for complex tensors.", error=RuntimeError),
    lambda ctx, g: g * (math.pi / 180), save=())
rad2deg_op = _float_op("rad2deg", real_only(
    np.rad2deg, message="rad2deg is not supported for complex tensors.", error=RuntimeError),
    lambda ctx, g: g * (180 / math.pi), save=())


# ---- special functions ----------------------------------------------------------------
def _same_dtype(fn, kernel):
    """Wrap a SciPy function so its result keeps the input's float dtype (torch has no
    complex kernel for these)."""
    def fwd(a):
        return array_module(a).asarray(fn(special_module(a))(a)).astype(a.dtype, copy=False)
    return real_only(fwd, kernel, suffix="_vml_cpu")


_2_SQRTPI = 2 / math.sqrt(math.pi)

erf_op = _float_op("erf", _same_dtype(lambda s: s.erf, "erf"),
                   lambda ctx, g: g * _2_SQRTPI * exp(-ctx.saved[0] * ctx.saved[0]))
erfc_op = _float_op("erfc", _same_dtype(lambda s: s.erfc, "erfc"),
                    lambda ctx, g: g * -_2_SQRTPI * exp(-ctx.saved[0] * ctx.saved[0]))
erfinv_op = _result_op("erfinv", _same_dtype(lambda s: s.erfinv, "erfinv"),
                       lambda ctx, g: g * (math.sqrt(math.pi) / 2) * exp(ctx.result * ctx.result))
def _lgamma_fwd(a):
    r = array_module(a).asarray(special_module(a).gammaln(a)).astype(a.dtype, copy=False)
    # log|Gamma(-inf)| is +inf in torch (SciPy gives -inf).
    return np.where(a == -np.inf, np.inf, r).astype(a.dtype, copy=False)


lgamma_op = _float_op("lgamma", real_only(_lgamma_fwd, "lgamma", suffix="_vml_cpu"),
                      lambda ctx, g: g * digamma(ctx.saved[0]))


def _digamma_fwd(a):
    # torch defines digamma(0) as -inf (SciPy gives nan for the pole at 0).
    r = array_module(a).asarray(special_module(a).psi(a)).astype(a.dtype, copy=False)
    return np.where(a == 0, -np.inf, r).astype(a.dtype, copy=False)


def _polygamma_fwd(a, n):
    if a.dtype.kind == "c":
        kernel = ("digamma", "trigamma")[n] if n in (0, 1) else "polygamma"
        _not_implemented(kernel, a, suffix="")
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    if n == 0:
        return _digamma_fwd(a)
    return array_module(a).asarray(special_module(a).polygamma(n, a)).astype(a.dtype, copy=False)


digamma_op = _float_op("digamma", real_only(_digamma_fwd, "digamma", suffix=""), lambda ctx, g: g * polygamma(1, ctx.saved[0]))
polygamma_op = _float_op("polygamma", _polygamma_fwd,
                         lambda ctx, g: g * polygamma(ctx.n + 1, ctx.saved[0]))


# ---- sigmoid and relu ------------------------------------------------------------------
@in_float32
def _sigmoid_fwd(a):
    if a.dtype.kind == "c":
        return 1 / (1 + np.exp(-a))
    # exp(-|a|) never overflows, so both branches stay finite for large |a|.
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype, copy=False)


def _relu_fwd(a):
    if a.dtype == np.bool_:
        raise RuntimeError('"clamp_min_cpu" not implemented for \'Bool\'')
    zero = a.dtype.type(0)
    if not (isinstance(a, np.ndarray) and a.flags.c_contiguous and a.size >= 2 * MIN_WORK):
        return np.maximum(a, zero)
    flat, out = a.reshape(-1), np.empty(a.shape, a.dtype)
    dst = out.reshape(-1)

    def block(i, j):
        np.maximum(flat[i:j], zero, out=dst[i:j])
    host_blocks(block, flat.size, 1)
    return out


def _relu_grad(g, r):
    """g * ~(r <= 0) (a NaN result passes its gradient) with the mask made in blocks on
    the intra-op threads, for large contiguous arrays of one shape; None otherwise."""
    if not (isinstance(g, np.ndarray) and isinstance(r, np.ndarray) and g.shape == r.shape
            and g.flags.c_contiguous and r.flags.c_contiguous and g.size >= 2 * MIN_WORK):
        return None
    gf, rf = g.reshape(-1), r.reshape(-1)
    out = np.empty(g.shape, g.dtype)
    dst = out.reshape(-1)

    def block(i, j):
        keep = np.less_equal(rf[i:j], 0)
        np.logical_not(keep, out=keep)
        np.multiply(gf[i:j], keep, out=dst[i:j])
    host_blocks(block, gf.size, 1)
    return out


sigmoid_op = _result_op("sigmoid", _sigmoid_fwd,
                        _times_result(lambda ctx: ctx.result * (1 - ctx.result),
                                      lambda r: r * (1 - r)))
def _relu_bwd(ctx, g):
    # torch: a NaN passes its gradient.  Outside create_graph, one NumPy expression (the
    # same operations as the Ember ops below, so the same bits).
    if plain_backward():
        gd = g._data
        if gd.dtype.kind == "f" and gd.dtype.itemsize >= 4:
            r = result_array(ctx)
            out = _relu_grad(gd, r)
            return array_result(gd * ~(r <= 0) if out is None else out)
    return g * ~(ctx.result <= 0)


relu_op = defop("relu", real_only(_relu_fwd, message="clamp is not supported for complex types"),
                _relu_bwd, save_result=True)


# ---- powers and roots -----------------------------------------------------------------
sqrt_op = _result_op("sqrt", np.sqrt, _over(lambda ctx: 2 * ctx.result))
def _square_fwd(a):
    if a.dtype == np.bool_:
        a = a.astype(np.int64)  # torch squares bools as int64 (square is pow(x, 2))
    return a * a


square_op = defop("square", _square_fwd, _times(lambda ctx: 2 * _x(ctx)), save=(0,),
                  node="PowBackward0")
rsqrt_op = _result_op("rsqrt", in_float32(lambda a: 1 / np.sqrt(a)),
                      _times(lambda ctx: -0.5 * ctx.result * ctx.result * ctx.result))
reciprocal_op = _result_op("reciprocal", lambda a: np.reciprocal(a),
                           _times(lambda ctx: -ctx.result * ctx.result))


# ---- rounding ---------------------------------------------------------------------------
def _rounding(name, ufunc):
    def fwd(a):
        if a.dtype.kind in "biu":
            return a.copy()  # integers are already whole: torch returns a copy
        if a.dtype.kind == "c":
            raise NotImplementedError(f"{name} is not supported for complex inputs")
        return ufunc(a)
    return defop(name, fwd, lambda ctx, g: g * 0, node=name.capitalize() + "Backward0")


floor_op = _rounding("floor", np.floor)
ceil_op = _rounding("ceil", np.ceil)
trunc_op = _rounding("trunc", np.trunc)


def _round_fwd(a, decimals=0):
    if a.dtype.kind == "c":
        _not_implemented("round" if decimals else "round_vml", a)
    if a.dtype.kind in "biu":
        if decimals:
            _not_implemented("round", a)
        return a.copy()
    # np.round rounds half to even, as torch does, and scales by 10**decimals as torch.
    return np.round(a, decimals)


def _frac_fwd(a):
    if a.dtype.kind in "biuc":
        _not_implemented("frac", a)
    return a - np.trunc(a)


round_op = defop("round", _round_fwd, lambda ctx, g: g * 0)
frac_op = defop("frac", _frac_fwd, lambda ctx, g: g)


# ---- sign-like, logit, nan_to_num ---------------------------------------------------------
def _sign_fwd(a):
    if a.dtype == np.bool_:
        return a.copy()
    if a.dtype.kind in "fV":
        # torch's sign is (0 < x) - (x < 0): NaN gives 0, not NaN.
        return ((a > 0).astype(a.dtype) - (a < 0).astype(a.dtype))
    return np.sign(a)


sign_op = defop("sign", real_only(
    _sign_fwd, message="Unlike NumPy, torch.sign is not intended to support complex numbers. "
    "Please use torch.sgn instead."), lambda ctx, g: g * 0)


def _sgn_fwd(a):
    if a.dtype.kind == "c":
        m = np.abs(a)
        return np.where(m == 0, 0, a / np.where(m == 0, 1, m)).astype(a.dtype, copy=False)
    return _sign_fwd(a)


def _sgn_bwd(ctx, g):
    x, = ctx.saved
    if not x.is_complex():
        return g * 0
    # For z/|z|: (g - sgn * Re(conj(g) * sgn)) / |z|, zero where z == 0 (torch's choice).
    m = abs(x)
    s = ctx.result
    # Re(conj(g) * s), written without .real: (conj(g) s + g conj(s)) / 2.
    re = (g.conj() * s + g * s.conj()) * 0.5
    r = (g - s * re) / where(m == 0, 1.0, m)
    return where(m == 0, 0.0, r)


sgn_op = defop("sgn", _sgn_fwd, _sgn_bwd, save=(0,), save_result=True)


def _logit_fwd(a, eps=None):
    # Not widened for half dtypes: torch rounds each step (the quotient, then its log).
    if eps is not None:
        a = np.clip(a, eps, 1 - eps).astype(a.dtype, copy=False)
    return np.log(a / (1 - a))


def _logit_bwd(ctx, g):
    x, = ctx.saved
    eps = ctx._params.get("eps")
    d = g / (x * (1 - x))
    if eps is None:
        return d
    # Clamped inputs are constants of the clamp: their gradient is zero.
    return where((x < eps) | (x > 1 - eps), 0.0, d)


logit_op = _float_op("logit", real_only(_logit_fwd, "logit"), _logit_bwd)


def _nan_to_num_fwd(a, nan=0.0, posinf=None, neginf=None):
    if a.dtype.kind not in "fcV":
        return a.copy()
    if a.dtype.kind == "V":
        # bfloat16: np.nan_to_num does not know ml_dtypes' types; its limits come from ml_dtypes.
        import ml_dtypes
        info = ml_dtypes.finfo(a.dtype)
        big = info.max if posinf is None else posinf
        small = info.min if neginf is None else neginf
        out = np.where(np.isnan(a), nan, np.where(a == np.inf, big, np.where(a == -np.inf,
                                                                              small, a)))
        return out.astype(a.dtype)
    return np.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf)


nan_to_num_op = defop("nan_to_num", _nan_to_num_fwd,
                      lambda ctx, g: g * isfinite(ctx.saved[0]), save=(0,))


def _positive_check(input):
    if input._data.dtype == np.bool_:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


# ---- float classification: bool results, no gradient ---------------------------------------
def _isposinf(a):
    if a.dtype.kind == "c":
        raise RuntimeError("isposinf does not support complex inputs.")
    return np.isposinf(a) if a.dtype.kind in "fV" else array_module(a).zeros(a.shape, dtype=bool)


def _isneginf(a):
    if a.dtype.kind == "c":
        raise RuntimeError("isneginf does not support complex inputs.")
    return np.isneginf(a) if a.dtype.kind in "fV" else array_module(a).zeros(a.shape, dtype=bool)


isnan_op = defop("isnan", np.isnan)
isinf_op = defop("isinf", np.isinf)
isfinite_op = defop("isfinite", np.isfinite)
isposinf_op = defop("isposinf", _isposinf)
isneginf_op = defop("isneginf", _isneginf)
def _signbit_fwd(a):
    if a.dtype.kind == "c":
        raise NotImplementedError("signbit is not implemented for complex tensors.")
    if a.dtype == np.bool_:
        return array_module(a).zeros(a.shape, dtype=bool)
    # bfloat16 widens to float32 exactly, sign bit (of NaN too) included.
    return np.signbit(a.astype(np.float32) if a.dtype.kind == "V" else a)


signbit_op = defop("signbit", _signbit_fwd)


# ---- complex parts: real/imag/view_as_real are views, as torch's ------------------------------
def _real_fwd(a):
    return a.real


def _imag_fwd(a):
    return a.imag


def _view_as_real_fwd(a):
    if a.dtype.kind != "c":
        raise RuntimeError("view_as_real is only supported for complex tensors")
    # A trailing axis of length 1 is contiguous whatever a's strides, so NumPy can split each
    # element into its (re, im) pair in place.
    return a[..., None].view(a.real.dtype)


def _view_as_complex_fwd(a):
    if a.dtype not in (np.float32, np.float64):
        raise RuntimeError("view_as_complex is only supported for half, float and double tensors, "
                           f"but got a tensor of scalar type: {dtype_name(a)}")
    if a.ndim == 0 or a.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    if a.strides[-1] != a.itemsize:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    if any(st % (2 * a.itemsize) for st, n in zip(a.strides[:-1], a.shape[:-1]) if n > 1):
        raise RuntimeError("Tensor must have a stride divisible by 2 for all but last dimension")
    return a.view(np.complex64 if a.dtype == np.float32 else np.complex128)[..., 0]


# torch's convention: the gradient of a real L w.r.t. z = x + iy is dL/dx + i dL/dy.  torch
# takes real/imag as a select of view_as_real, hence their node name.
real_op = defop("real", _real_fwd, lambda ctx, g: g, view=True, node="SelectBackward0")
imag_op = defop("imag", _imag_fwd, lambda ctx, g: g * 1j, view=True, node="SelectBackward0")
view_as_real_op = defop("view_as_real", _view_as_real_fwd,
                        lambda ctx, g: view_as_complex(g.contiguous()), view=True)
view_as_complex_op = defop("view_as_complex", _view_as_complex_fwd,
                           lambda ctx, g: view_as_real(g), view=True, autocast="fp32")


def _set_part(part):
    def setter(self, value):
        target = part(self)
        if isinstance(value, Tensor):
            target.copy_(value)
        else:
            target.fill_(value)
    return setter


def real(input):
    """The real part, a view for complex tensors; a real tensor is returned as it is."""
    if input._data.dtype.kind != "c":
        return input
    return apply_view(real_op, (input,))


def imag(input):
    if input._data.dtype.kind != "c":
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return apply_view(imag_op, (input,))


declare(real, method=property(real, _set_part(real)))
declare(imag, method=property(imag, _set_part(imag)))


@declare(method=False)
def view_as_real(input):
    return apply_view(view_as_real_op, (input,))


@declare(method=False)
def view_as_complex(input):
    return apply_view(view_as_complex_op, (input,))


def _angle_fwd(a):
    if a.dtype.kind == "c":
        return np.angle(a).astype(a.real.dtype, copy=False)
    # torch: 0 for x >= 0, pi for x < 0, NaN stays NaN.
    r = np.where(a < 0, np.pi, 0.0).astype(a.dtype, copy=False)
    return np.where(np.isnan(a), a, r).astype(a.dtype, copy=False)


def _angle_bwd(ctx, g):
    z, = ctx.saved
    if not z.is_complex():
        return g * 0
    # d angle = (x dy - y dx) / |z|^2, i.e. the gradient i z / |z|^2 (0 at the origin).
    m2 = (z * z.conj()).real
    return where(m2 == 0, 0.0, g * 1j * z / where(m2 == 0, 1.0, m2))


angle_op = _float_op("angle", _angle_fwd, _angle_bwd)


@declare
def angle(input, *, out=None):
    return _out(apply(angle_op, (input,)), out)


@declare(method=False)
def complex(real, imag, *, out=None):
    """complex(real, imag): real + i imag from two float tensors of one dtype."""
    names = ("Half", "Float", "Double")
    if real.dtype._legacy not in names or imag.dtype._legacy not in names:
        raise RuntimeError("Expected both inputs to be Half, Float or Double tensors but got "
                           f"{real.dtype._legacy} and {imag.dtype._legacy}")
    if real.dtype is not imag.dtype:
        raise RuntimeError(f"Expected object of scalar type {real.dtype._legacy} but got scalar "
                           f"type {imag.dtype._legacy} for second argument")
    return _out(real + imag * 1j, out)


@declare(method=False)
def polar(abs, angle, *, out=None):
    """polar(abs, angle): abs * (cos(angle) + i sin(angle))."""
    return complex(abs * cos(angle), abs * sin(angle), out=out)



# ---- public functions, methods and in-place forms -------------------------------------------
exp = declare_op(exp_op, "exp")
exp2 = declare_op(exp2_op, "exp2")
expm1 = declare_op(expm1_op, "expm1")
log = declare_op(log_op, "log")
log2 = declare_op(log2_op, "log2")
log10 = declare_op(log10_op, "log10")
log1p = declare_op(log1p_op, "log1p")
sin = declare_op(sin_op, "sin")
cos = declare_op(cos_op, "cos")
tan = declare_op(tan_op, "tan")
tanh = declare_op(tanh_op, "tanh")
asin = arcsin = declare_op(asin_op, "asin", "arcsin")
acos = arccos = declare_op(acos_op, "acos", "arccos")
atan = arctan = declare_op(atan_op, "atan", "arctan")
sinh = declare_op(sinh_op, "sinh")
cosh = declare_op(cosh_op, "cosh")
asinh = arcsinh = declare_op(asinh_op, "asinh", "arcsinh")
acosh = arccosh = declare_op(acosh_op, "acosh", "arccosh")
atanh = arctanh = declare_op(atanh_op, "atanh", "arctanh")
deg2rad = declare_op(deg2rad_op, "deg2rad")
rad2deg = declare_op(rad2deg_op, "rad2deg")
sigmoid = declare_op(sigmoid_op, "sigmoid")
relu = declare_op(relu_op, "relu")
erf = declare_op(erf_op, "erf")
erfc = declare_op(erfc_op, "erfc")
erfinv = declare_op(erfinv_op, "erfinv")
lgamma = declare_op(lgamma_op, "lgamma")
digamma = declare_op(digamma_op, "digamma")
sqrt = declare_op(sqrt_op, "sqrt")
square = declare_op(square_op, "square")
rsqrt = declare_op(rsqrt_op, "rsqrt")
reciprocal = declare_op(reciprocal_op, "reciprocal")
floor = declare_op(floor_op, "floor")
ceil = declare_op(ceil_op, "ceil")
trunc = fix = declare_op(trunc_op, "trunc", "fix")
frac = declare_op(frac_op, "frac")
sign = declare_op(sign_op, "sign")
sgn = declare_op(sgn_op, "sgn")
isnan = declare_op(isnan_op, "isnan", inplace=False)
isinf = declare_op(isinf_op, "isinf", inplace=False)
isfinite = declare_op(isfinite_op, "isfinite", inplace=False)
isposinf = declare_op(isposinf_op, "isposinf", inplace=False)
isneginf = declare_op(isneginf_op, "isneginf", inplace=False)
signbit = declare_op(signbit_op, "signbit", inplace=False)


@declare(method=lambda self, n: polygamma(n, self),
         inplace=inplace_method(polygamma_op, params=lambda n: {"n": int(n)}))
def polygamma(n, input, *, out=None):
    return _out(apply(polygamma_op, (input,), {"n": int(n)}), out)


def _round_params(decimals=0):
    return {"decimals": decimals} if decimals else {}


@declare(inplace=inplace_method(round_op, params=_round_params))
def round(input, *, decimals=0, out=None):
    return _out(apply(round_op, (input,), _round_params(decimals)), out)


def _logit_params(eps=None):
    return {"eps": eps} if eps is not None else {}


@declare(inplace=inplace_method(logit_op, params=_logit_params))
def logit(input, eps=None, *, out=None):
    return _out(apply(logit_op, (input,), _logit_params(eps)), out)


def _nan_to_num_params(nan=0.0, posinf=None, neginf=None):
    return {"nan": nan, "posinf": posinf, "neginf": neginf}


@declare(inplace=inplace_method(nan_to_num_op, params=_nan_to_num_params))
def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):
    return _out(apply(nan_to_num_op, (input,), _nan_to_num_params(nan, posinf, neginf)), out)


@declare
def positive(input):
    """positive(input) -> input itself (torch returns the same tensor)."""
    return _positive_check(input)
