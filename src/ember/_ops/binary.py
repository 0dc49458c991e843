"""Elementwise math of two or more tensors beyond arithmetic: atan2, hypot, fmax/fmin,
lerp, addcmul/addcdiv, copysign, logaddexp, xlogy, float_power, clamp, the logical
ops, bit shifts, and the closeness tests (isclose, allclose, equal).
"""
import math

import numpy as np

from .. import _dtype as D
from .._device import array_module, is_array
from .._tensor import Tensor
from ._common import _conj, _out, real_only
from ._declare import declare, declare_op, inplace_method, scalar_first
from .inplace import apply_inplace
from .pointwise import pow, where
from .registry import PROMOTE, PROMOTE_FLOAT, apply, defop
from .unary import _not_implemented, isnan, sigmoid

_LN2 = math.log(2.0)


def _float_only(kernel):
    """Forward wrapper for kernels torch has only for floating dtypes."""
    def wrap(fwd):
        def f(a, b, **kw):
            for x in (a, b):
                if is_array(x) and x.dtype.kind not in "fcV":
                    _not_implemented(kernel, x)
            return fwd(a, b, **kw)
        return f
    return wrap


# ---- atan2, hypot, copysign ----------------------------------------------------------
def _atan2_bwd(ctx, g):
    a, b = ctx.saved
    r = a * a + b * b
    # At the origin torch takes the gradient as 0 rather than 0/0.
    inv = where(r == 0, 0.0, 1 / where(r == 0, 1.0, r))
    need = ctx.needs_input_grad
    return (g * b * inv if need[0] else None, g * -a * inv if need[1] else None)


def _hypot_bwd(ctx, g):
    a, b = ctx.saved
    need = ctx.needs_input_grad
    r = ctx.result
    return (g * a / r if need[0] else None, g * b / r if need[1] else None)


def _copysign_bwd(ctx, g):
    a, _ = ctx.saved
    # d/da copysign(a, b) = sign(a) * sign(result), 0 where a == 0 (torch's convention).
    r = ctx.result
    need = ctx.needs_input_grad
    return (where(a == 0, 0.0, g * (r / where(a == 0, 1.0, a))) if need[0] else None,
            g * 0 if need[1] else None)


atan2_op = defop("atan2", real_only(np.arctan2, "atan2"), _atan2_bwd, promote=PROMOTE_FLOAT,
                 save=(0, 1))
hypot_op = defop("hypot", real_only(_float_only("hypot")(np.hypot), "hypot"), _hypot_bwd,
                 promote=PROMOTE, save=(0, 1), save_result=True)
copysign_op = defop("copysign", real_only(np.copysign, "copysign"), _copysign_bwd,
                    promote=PROMOTE_FLOAT, save=(0, 1), save_result=True)
atan2 = arctan2 = declare_op(atan2_op, "atan2", "arctan2", nargs=2)
hypot = declare_op(hypot_op, "hypot", nargs=2)
copysign = declare_op(copysign_op, "copysign", nargs=2)


# ---- fmax / fmin: NaN loses ------------------------------------------------------------
def _fextreme_bwd(larger):
    def bwd(ctx, g):
        a, b = ctx.saved
        # torch gives the whole gradient to a where it wins or ties (or b is NaN).
        to_a = ((a >= b) if larger else (a <= b)) | isnan(b)
        need = ctx.needs_input_grad
        return (where(to_a, g, 0.0) if need[0] else None,
                where(to_a, 0.0, g) if need[1] else None)
    return bwd


fmax_op = defop("fmax", real_only(np.fmax, message="fmax not implemented for complex tensors.",
                                  error=RuntimeError),
                _fextreme_bwd(True), promote=PROMOTE, save=(0, 1))
fmin_op = defop("fmin", real_only(np.fmin, message="fmin not implemented for complex tensors.",
                                  error=RuntimeError),
                _fextreme_bwd(False), promote=PROMOTE, save=(0, 1))
fmax = declare_op(fmax_op, "fmax", nargs=2, inplace=False)
fmin = declare_op(fmin_op, "fmin", nargs=2, inplace=False)


# ---- logaddexp, xlogy, float_power ---------------------------------------------------------
def _logaddexp_bwd(base2):
    def bwd(ctx, g):
        a, b = ctx.saved
        # d/da log(e^a + e^b) = sigmoid(a - b): stable for any gap between a and b.
        d = a - b if not base2 else (a - b) * _LN2
        need = ctx.needs_input_grad
        return (g * _conj(sigmoid(d)) if need[0] else None,
                g * _conj(sigmoid(-d)) if need[1] else None)
    return bwd


def _logaddexp_fwd(a, b):
    if getattr(a, "dtype", None) is not None and a.dtype.kind == "c" or \
            getattr(b, "dtype", None) is not None and b.dtype.kind == "c":
        # NumPy has no complex logaddexp; shift by the larger real part so exp cannot overflow.
        xp = array_module(a if hasattr(a, "dtype") else b)
        a, b = xp.broadcast_arrays(xp.asarray(a), xp.asarray(b))
        m = np.where(a.real >= b.real, a, b)
        m = np.where(np.isfinite(m), m, 0).astype(a.dtype, copy=False)
        return (np.log(np.exp(a - m) + np.exp(b - m)) + m).astype(a.dtype, copy=False)
    return np.logaddexp(a, b)


logaddexp_op = defop("logaddexp", _float_only("logaddexp")(_logaddexp_fwd),
                     _logaddexp_bwd(False), promote=PROMOTE, save=(0, 1))
logaddexp2_op = defop("logaddexp2", real_only(_float_only("logaddexp2")(np.logaddexp2),
                                              "logaddexp2"),
                      _logaddexp_bwd(True), promote=PROMOTE, save=(0, 1))
logaddexp = declare_op(logaddexp_op, "logaddexp", nargs=2, inplace=False)
logaddexp2 = declare_op(logaddexp2_op, "logaddexp2", nargs=2, inplace=False)


def _xlogy_fwd(x, y):
    # A Python-scalar operand takes the tensor's dtype (np.log(2.0) would be float64).
    if not hasattr(x, "dtype"):
        x = array_module(y).asarray(x, dtype=y.dtype)
    if not hasattr(y, "dtype"):
        y = array_module(x).asarray(y, dtype=x.dtype)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = x * np.log(y)
    # 0 * log(y) is 0 even for y == 0 or inf; NaN in y still propagates.
    return np.where((x == 0) & ~np.isnan(y), 0, r).astype(r.dtype, copy=False)


def _xlogy_bwd(ctx, g):
    x, y = ctx.saved
    need = ctx.needs_input_grad
    gx = gy = None
    if need[0]:
        gx = g * xlogy(x != 0, y) if isinstance(x, Tensor) else None
    if need[1]:
        gy = g * x / y
    return gx, gy


xlogy_op = defop("xlogy", real_only(_xlogy_fwd, "xlogy"), _xlogy_bwd, promote=PROMOTE_FLOAT, save=(0, 1))


@declare(inplace=inplace_method(xlogy_op, 2))
def xlogy(input, other, *, out=None):
    if isinstance(input, Tensor) and input.dtype is D.bool:
        input = input.to(D.get_default_dtype())
    return _out(apply(xlogy_op, (input, other)), out)


def _float_power_(self, exponent):
    dt = D.complex128 if self.is_complex() else D.float64
    if self.dtype is not dt:
        raise RuntimeError(f"the base given to float_power_ has dtype {self.dtype.name.capitalize()} "
                           f"but the operation's result requires dtype {dt.name.capitalize()}")
    return self.pow_(exponent)


@declare(inplace=_float_power_)
def float_power(input, exponent, *, out=None):
    """float_power: pow computed in double precision (complex128 for complex operands)."""
    complex_ = any(isinstance(x, Tensor) and x.is_complex() or isinstance(x, complex)
                   for x in (input, exponent))
    dt = D.complex128 if complex_ else D.float64
    a = input.to(dt) if isinstance(input, Tensor) else input
    b = exponent.to(dt) if isinstance(exponent, Tensor) else exponent
    return _out(pow(a, b), out)


# ---- lerp, addcmul, addcdiv --------------------------------------------------------------
_CPP_NAMES = {"float32": "float", "float64": "double", "int64": "long int", "int32": "int",
              "float16": "c10::Half", "bfloat16": "c10::BFloat16", "bool": "bool",
              "complex64": "c10::complex<float>", "complex128": "c10::complex<double>",
              "int16": "short int", "int8": "signed char", "uint8": "unsigned char"}


def _lerp_fwd(start, end, weight):
    if start.dtype.itemsize == 2 and start.dtype.kind in "fV":
        # Half precision computes in float32 and rounds once (as torch); NumPy would also
        # widen bfloat16 with a Python weight to float32.
        # torch: a fused multiply-add in float32 (emulated exactly in float64), from the
        # nearer end: start + w (end - start) for w < 0.5, else end - (1 - w) (end - start).
        f, f64 = np.float32, np.float64
        w = (weight.astype(f) if is_array(weight) else f(weight)).astype(f64)
        s, e = start.astype(f), end.astype(f)
        diff = (e - s).astype(f64)
        r = np.where(w < 0.5, s.astype(f64) + w * diff, e.astype(f64) - (1 - w) * diff)
        return r.astype(f).astype(start.dtype)
    return start + weight * (end - start)


def _lerp_bwd(ctx, g):
    start, end, weight = ctx.saved
    need = ctx.needs_input_grad
    return (g * (1 - weight) if need[0] else None,
            g * weight if need[1] else None,
            g * (end - start) if need[2] else None)


lerp_op = defop("lerp", _lerp_fwd, _lerp_bwd, save=(0, 1, 2))


def _lerp_(self, end, weight):
    if isinstance(weight, Tensor):
        weight = weight.to(self.dtype)
    return apply_inplace(_lerp_op_for(weight), self, (end, weight))


def _lerp_op_for(weight):
    return lerp_op.variant("LerpBackward1") if isinstance(weight, Tensor) else lerp_op


@declare(inplace=_lerp_)
def lerp(input, end, weight, *, out=None):
    """lerp(input, end, weight): input + weight * (end - input); dtypes must agree."""
    for name, x in (("end", end), ("weight", weight)):
        if isinstance(x, Tensor) and x.dtype is not input.dtype and \
                (name == "end" or x.ndim > 0):
            raise RuntimeError(f"expected dtype {_CPP_NAMES[input.dtype.name]} for `{name}` but "
                               f"got dtype {_CPP_NAMES[x.dtype.name]}")
    if isinstance(weight, Tensor) and weight.dtype is not input.dtype:
        weight = weight.to(input.dtype)  # a 0-dim weight of another float dtype is allowed
    return _out(apply(_lerp_op_for(weight), (input, end, weight)), out)


def _addc_fwd(combine):
    """input + value * tensor1 (combine) tensor2, evaluated left to right as torch's kernel;
    half precision computes in float32 and rounds once, and an integral result takes the
    value as an integer."""
    def fwd(a, t1, t2, value):
        d = a.dtype
        if d.itemsize == 2 and d.kind in "fV":
            f = np.float32
            return (a.astype(f) + combine(f(value) * t1.astype(f), t2.astype(f))).astype(d)
        if d.kind in "iu":
            value = int(value)
        return a + combine(value * t1, t2)
    return fwd


def _addcmul_bwd(ctx, g):
    t1, t2 = ctx.saved
    v = ctx.value
    need = ctx.needs_input_grad
    return (g if need[0] else None,
            g * _conj(t2 * v) if need[1] else None,
            g * _conj(t1 * v) if need[2] else None)


def _addcdiv_bwd(ctx, g):
    t1, t2 = ctx.saved
    v = ctx.value
    need = ctx.needs_input_grad
    return (g if need[0] else None,
            g * _conj(v / t2) if need[1] else None,
            -g * _conj(t1 * v / (t2 * t2)) if need[2] else None)


addcmul_op = defop("addcmul", _addc_fwd(np.multiply), _addcmul_bwd, promote=PROMOTE,
                   save=(1, 2))
addcdiv_op = defop("addcdiv", _addc_fwd(np.true_divide), _addcdiv_bwd, promote=PROMOTE,
                   save=(1, 2))


def _addc_inplace(op, name):
    def method(self, tensor1, tensor2, *, value=1):
        if isinstance(value, Tensor):  # torch takes a one-element tensor as the Scalar value
            value = value.item()
        return apply_inplace(op, self, (tensor1, tensor2), {"value": value})
    return scalar_first(method, name, "value",
                        f"{name}(Number value, Tensor tensor1, Tensor tensor2)",
                        f"{name}(Tensor tensor1, Tensor tensor2, *, Number value = 1)")


@declare(inplace=_addc_inplace(addcmul_op, "addcmul_"))
def addcmul(input, tensor1, tensor2, *, value=1, out=None):
    return _out(apply(addcmul_op, (input, tensor1, tensor2), {"value": value}), out)


@declare(inplace=_addc_inplace(addcdiv_op, "addcdiv_"))
def addcdiv(input, tensor1, tensor2, *, value=1, out=None):
    if not tensor1.is_floating_point() and not tensor1.is_complex() and \
            not tensor2.is_floating_point() and not tensor2.is_complex():
        raise RuntimeError(
            "Integer division with addcdiv is no longer supported, and in a future  release "
            "addcdiv will perform a true division of tensor1 and tensor2. The historic addcdiv "
            "behavior can be implemented as (input + value * torch.trunc(tensor1 / tensor2))"
            ".to(input.dtype) for integer inputs and as (input + value * tensor1 / tensor2) for "
            "float inputs. The future addcdiv behavior is just the latter implementation: "
            "(input + value * tensor1 / tensor2), for all dtypes.")
    return _out(apply(addcdiv_op, (input, tensor1, tensor2), {"value": value}), out)


# ---- clamp ----------------------------------------------------------------------------------
def _clamp_fwd(x, lo, hi):
    if lo is None:
        return np.minimum(x, hi)
    if hi is None:
        return np.maximum(x, lo)
    # minimum(maximum(x, lo), hi): where lo > hi the result is hi, as torch.
    return np.minimum(np.maximum(x, lo), hi)


def _clamp_bwd(ctx, g):
    x, lo, hi = ctx.saved
    need = ctx.needs_input_grad
    # The result is min(max(x, lo), hi): it is hi wherever lo > hi.
    if lo is None:
        keep, to_lo, to_hi = x <= hi, None, x > hi
    elif hi is None:
        keep, to_lo, to_hi = x >= lo, x < lo, None
    else:
        keep = (x >= lo) & (x <= hi)
        to_lo = (x < lo) & (lo <= hi)
        to_hi = (x > hi) | (lo > hi)
    return (where(keep, g, 0.0) if need[0] else None,
            where(to_lo, g, 0.0) if need[1] else None,
            where(to_hi, g, 0.0) if need[2] else None)


_clamp_real = real_only(_clamp_fwd, message="clamp is not supported for complex types")
clamp_op = defop("clamp", _clamp_real, _clamp_bwd, promote=PROMOTE, save=(0, 1, 2),
                 node="ClampBackward1", scalar_checked=True)


def _clamp_args(min, max):
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    tensor = isinstance(min, Tensor) or isinstance(max, Tensor)
    # clamp.Tensor: torch converts a Python bound beside a tensor one unchecked.
    return clamp_op.variant("ClampBackward0", scalar_checked=False) if tensor else clamp_op


def _clamp_(self, min=None, max=None):
    return apply_inplace(_clamp_args(min, max), self, (min, max))


@declare(aliases=("clip",), inplace=_clamp_)
def clamp(input, min=None, max=None, *, out=None):
    """clamp(input, min=None, max=None): bounds may be numbers or tensors (broadcast)."""
    return _out(apply(_clamp_args(min, max), (input, min, max)), out)


clip = clamp


@declare(inplace=lambda self, min: _clamp_(self, min=min))
def clamp_min(input, min):
    return clamp(input, min=min)


@declare(inplace=lambda self, max: _clamp_(self, max=max))
def clamp_max(input, max):
    return clamp(input, max=max)


# ---- logical ops and shifts ---------------------------------------------------------------
logical_and_op = defop("logical_and", np.logical_and)
logical_or_op = defop("logical_or", np.logical_or)
logical_xor_op = defop("logical_xor", np.logical_xor)
logical_not_op = defop("logical_not", np.logical_not)


def _shift(kernel, ufunc):
    def fwd(a, b):
        for x in (a, b):
            arr = x if hasattr(x, "dtype") else np.asarray(x)
            if arr.dtype.kind in "fcV":
                _not_implemented(kernel, arr)
        if is_array(a) and a.dtype == np.bool_:
            _not_implemented(kernel, a)
        r = ufunc(a, b)
        return r.astype(a.dtype, copy=False) if is_array(a) else r
    return fwd


lshift_op = defop("bitwise_left_shift", _shift("lshift", np.left_shift), promote=PROMOTE)
rshift_op = defop("bitwise_right_shift", _shift("rshift", np.right_shift), promote=PROMOTE)

logical_and = declare_op(logical_and_op, "logical_and", nargs=2)
logical_or = declare_op(logical_or_op, "logical_or", nargs=2)
logical_xor = declare_op(logical_xor_op, "logical_xor", nargs=2)
logical_not = declare_op(logical_not_op, "logical_not")
bitwise_left_shift = declare_op(lshift_op, "bitwise_left_shift", nargs=2, operator="lshift")
bitwise_right_shift = declare_op(rshift_op, "bitwise_right_shift", nargs=2, operator="rshift")


# ---- closeness -------------------------------------------------------------------------------
def _isclose_fwd(a, b, rtol, atol, equal_nan):
    if a.dtype.kind in "biu" and b.dtype.kind in "biu":
        a = a.astype(np.float64)
        b = b.astype(np.float64)
    with np.errstate(invalid="ignore"):
        return np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)


isclose_op = defop("isclose", _isclose_fwd)


@declare
def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    if input.dtype is not other.dtype:
        raise RuntimeError(f"{input.dtype._legacy} did not match {other.dtype._legacy}")
    if rtol < 0:
        raise RuntimeError(f"rtol must be greater than or equal to zero, but got {rtol}")
    if atol < 0:
        raise RuntimeError(f"atol must be greater than or equal to zero, but got {atol}")
    return apply(isclose_op, (input, other),
                 {"rtol": rtol, "atol": atol, "equal_nan": equal_nan})


@declare
def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


@declare
def equal(input, other):
    """True when both have the same shape and elements (dtypes may differ)."""
    if tuple(input.shape) != tuple(other.shape):
        return False
    return bool((input._data == other._data).all())


# ---- nextafter ---------------------------------------------------------------------------
def _nextafter_bwd(ctx, g):
    # torch's: the result moves with self (gradient 1) except where self == other, where
    # it is other; it does not move with other.
    a, b = ctx.saved
    need = ctx.needs_input_grad
    return (where(a == b, 0.0, g) if need[0] else None, g * 0 if need[1] else None)


nextafter_op = defop("nextafter", real_only(_float_only("nextafter")(np.nextafter),
                                            "nextafter"), _nextafter_bwd, promote=PROMOTE,
                     save=(0, 1))


@declare(inplace=inplace_method(nextafter_op, 2))
def nextafter(input, other, *, out=None):
    if not isinstance(other, Tensor):
        raise TypeError(f"nextafter(): argument 'other' (position 2) must be Tensor, not "
                        f"{type(other).__name__}")
    return _out(apply(nextafter_op, (input, other)), out)
