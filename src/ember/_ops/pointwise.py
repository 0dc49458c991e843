"""Pointwise ops: arithmetic, comparisons, where, bitwise, and the Python operators.

Each ``defop`` is the op's single entry (forward on arrays, backward in Ember
ops); the functions below it are the public ``ember.*`` signatures, each declared
(``declare``) with its methods, in-place form and Python operator.
"""
import warnings

import numpy as np

from .._device import is_array
from .._tensor import Tensor
from ._common import _conj, _out, check_half_range, dtype_name, real_only
from ._declare import declare, declare_op, inplace_method, scalar_first, tensor_method
from .inplace import apply_inplace
from .registry import CPU_SCALAR, PROMOTE, PROMOTE_FLOAT, apply, array_result, defop, plain_backward


def ignore_fp_warnings():
    """NumPy warns when a result is inf or nan (log(0), 0/0, overflow); torch returns them
    silently.  Ignore exactly those warnings, only when raised from Ember's own modules (a
    per-call np.errstate would cost microseconds on every op).  Called once at import;
    tools that reset the warning filters (pytest does, per test) can call it again."""
    warnings.filterwarnings("ignore", message=r"(divide by zero|invalid value|overflow|underflow) "
                            "encountered", category=RuntimeWarning, module=r"ember(\.|$)")


ignore_fp_warnings()


def _check_int_div(a, b):
    # torch raises for integer division by zero instead of returning garbage; a floating
    # division (either operand promoted it) gives inf or nan.
    kind = getattr(a, "dtype", None)
    kind = (kind if kind is not None else b.dtype).kind
    if kind not in "iub":
        return
    if is_array(b) and not b.all() or (type(b) is int and b == 0):
        raise RuntimeError("ZeroDivisionError")


# ---- arithmetic -------------------------------------------------------------------
def _add_fwd(a, b, alpha=1):
    return a + b if alpha == 1 else _scaled_add(a, b, alpha)


def _scaled_add(a, b, alpha):
    d = getattr(b, "dtype", None)
    if d is not None and d.itemsize == 2 and d.kind in "fV":
        # torch rounds alpha to the half dtype (refusing one out of its range), then computes
        # in float32 and rounds once.
        f32 = np.float32
        check_half_range(alpha, d)
        wide_a = a.astype(f32) if getattr(a, "dtype", None) == d else a
        return (wide_a + f32(d.type(alpha)) * b.astype(f32)).astype(d)
    return a + alpha * b


def _add_bwd(ctx, g):
    alpha = ctx.alpha if ctx._params else 1
    return g, (g if alpha == 1 else g * alpha) if ctx.needs_input_grad[1] else None


def _is_bool(x):
    return type(x) is bool or isinstance(x, Tensor) and x._data.dtype == np.bool_


def _check_sub(a, b):
    # torch refuses a bool operand (tensor or Python bool) on either side of `-`.
    a_bool, b_bool = _is_bool(a), _is_bool(b)
    if a_bool and b_bool:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    if a_bool or b_bool:
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")


def _sub_fwd(a, b, alpha=1):
    return a - b if alpha == 1 else _scaled_add(a, b, -alpha)


def _sub_bwd(ctx, g):
    alpha = ctx.alpha if ctx._params else 1
    return g, (-g if alpha == 1 else g * -alpha) if ctx.needs_input_grad[1] else None


def _rsub_fwd(a, b, alpha=1):
    return _sub_fwd(b, a, alpha)


def _rsub_bwd(ctx, g):
    alpha = ctx.alpha if ctx._params else 1
    need = ctx.needs_input_grad
    return (-g if alpha == 1 else g * -alpha) if need[0] else None, g if need[1] else None


def _mul_bwd(ctx, g):
    a, b = ctx.saved
    need = ctx.needs_input_grad
    # A tensor times a Python float (x * 1.01) outside create_graph: the gradient on the
    # arrays, the multiplication the dispatched mul would run, without the dispatch.
    if (type(b) is float or type(a) is float) and plain_backward():
        gd = g._data
        if gd.dtype.kind == "f" and gd.dtype.itemsize >= 4:
            if type(b) is float:
                return array_result(gd * b) if need[0] else None, None
            return None, array_result(gd * a) if need[1] else None
    return (g * _conj(b) if need[0] else None,
            g * _conj(a) if need[1] else None)


def _div_fwd(a, b, rounding_mode=None):
    if rounding_mode is None:
        return np.true_divide(a, b)
    if rounding_mode == "floor":
        return _floor_divide_fwd(a, b)
    if rounding_mode == "trunc":
        _check_int_div(a, b)
        q = np.true_divide(a, b)
        kind = np.result_type(a, b).kind if is_array(a) else "f"
        return np.trunc(q).astype(np.result_type(a, b)) if kind in "iu" else np.trunc(q)
    raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                       f"found '{rounding_mode}'")


def _div_bwd(ctx, g):
    a, b = ctx.saved
    need = ctx.needs_input_grad
    if ctx._params.get("rounding_mode") is not None:
        return (g * 0 if need[0] else None, g * 0 if need[1] else None)
    return (g / _conj(b) if need[0] else None,
            -g * _conj(a) / _conj(b * b) if need[1] else None)


def _floor_divide_fwd(a, b):
    _check_int_div(a, b)
    return np.floor_divide(a, b)


def _remainder_bwd(ctx, g):
    a, b = ctx.saved
    need = ctx.needs_input_grad
    return (g if need[0] else None,
            -g * floor_divide(a, b) if need[1] else None)


def _pow_fwd(a, b):
    if is_array(b) and b.dtype.kind in "iu" and is_array(a) \
            and a.dtype.kind in "iu" and (b < 0).any():
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    if type(b) is int and b < 0 and is_array(a) and a.dtype.kind in "iu":
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    return np.power(a, b)


def _pow_bwd(ctx, g):
    a, b = ctx.saved
    need = ctx.needs_input_grad
    ga = gb = None
    if need[0]:
        if isinstance(b, Tensor):
            ga = where(b == 0, 0.0, g * _conj(b * a ** (b - 1)))
        else:
            ga = g * 0 if b == 0 else g * _conj(b * a ** (b - 1))
    if need[1]:
        # d/db a**b = a**b * log(a); torch defines it as 0 where a == 0 and b >= 0.
        r = ctx.result
        if isinstance(a, Tensor):
            from .unary import log  # unary imports this module
            la = log(a)
        elif isinstance(a, complex) or a <= 0:
            la = complex(np.log(complex(a))) if a != 0 else float("-inf")
        else:
            la = float(np.log(a))
        gb = g * _conj(r * la)
        if isinstance(a, Tensor):
            b_re = b.real if isinstance(b, Tensor) else (b.real if isinstance(b, complex) else b)
            gb = where((a == 0) & (b_re >= 0), 0.0, gb)
    return ga, gb


add_op = defop("add", _add_fwd, _add_bwd, promote=PROMOTE)
sub_op = defop("sub", _sub_fwd, _sub_bwd, promote=PROMOTE)
# rsub(input, other) = other - alpha * input; torch names its tensor and scalar forms apart
# (RsubBackward0/RsubBackward1).
rsub_op = defop("rsub", _rsub_fwd, _rsub_bwd, promote=PROMOTE)
mul_op = defop("mul", np.multiply, _mul_bwd, promote=PROMOTE, save=(0, 1), opmath=CPU_SCALAR)
div_op = defop("div", _div_fwd, _div_bwd, promote=PROMOTE_FLOAT, save=(0, 1),
               opmath=CPU_SCALAR)


def _div_round_fwd(a, b, rounding_mode):
    d = getattr(a, "dtype", None)
    if (d if d is not None else b.dtype).kind == "c" and rounding_mode in ("floor", "trunc"):
        kind = a if d is not None else b
        raise NotImplementedError(f"\"div_{rounding_mode}_cpu\" not implemented for "
                                  f"'{dtype_name(kind)}'")
    return _div_fwd(a, b, rounding_mode)


div_round_op = defop("div_rounding", _div_round_fwd, _div_bwd, promote=PROMOTE, save=(0, 1),
                     node="DivBackward1")
floor_divide_op = defop("floor_divide", real_only(_floor_divide_fwd, "div_floor"),
                        promote=PROMOTE)


def _int_mod(ufunc):
    def fwd(a, b):
        _check_int_div(a, b)
        return ufunc(a, b)
    return fwd


remainder_op = defop("remainder", real_only(_int_mod(np.remainder), "remainder"),
                     _remainder_bwd, promote=PROMOTE, save=(0, 1))
fmod_op = defop("fmod", real_only(_int_mod(np.fmod), "fmod"),
                lambda ctx, g: (g, -g * trunc_div(*ctx.saved) if ctx.needs_input_grad[1]
                                else None), promote=PROMOTE, save=(0, 1))
# torch has three entries: Tensor ** Scalar, Tensor ** Tensor (PowBackward1), Scalar ** Tensor
# (PowBackward2, its base converted unchecked).
pow_op = defop("pow", _pow_fwd, _pow_bwd, promote=PROMOTE, save=(0, 1), save_result=True,
               scalar_checked=True)


def trunc_div(a, b):
    return div(a, b, rounding_mode="trunc")


# ---- negation and absolute value --------------------------------------------------
neg_op = defop("neg", lambda a: _neg_fwd(a), lambda ctx, g: -g)


def _abs_bwd(ctx, g):
    from .unary import sgn, sign  # unary imports this module
    x, = ctx.saved
    return g * (sgn(x) if x._data.dtype.kind == "c" else sign(x))


abs_op = defop("abs", lambda a: _abs_fwd(a), _abs_bwd, save=(0,))


def _neg_fwd(a):
    if a.dtype == np.bool_:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you "
                           "are trying to invert a mask, use the `~` or `logical_not()` operator "
                           "instead.")
    return np.negative(a)


def _abs_fwd(a):
    if a.dtype == np.bool_:
        raise NotImplementedError("\"abs_cpu\" not implemented for 'Bool'")
    return np.abs(a)


def _extreme_bwd(sign):
    def bwd(ctx, g):
        a, b = ctx.saved
        # torch splits the gradient evenly between equal operands
        wins = (a > b) if sign > 0 else (a < b)
        ties = a == b
        w = wins * 1.0 + ties * 0.5
        need = ctx.needs_input_grad
        return (g * w if need[0] else None, g * (1.0 - w) if need[1] else None)
    return bwd


maximum_op = defop("maximum", real_only(
    np.maximum, message="maximum not implemented for complex tensors.", error=RuntimeError),
    _extreme_bwd(1), promote=PROMOTE, save=(0, 1))
minimum_op = defop("minimum", real_only(
    np.minimum, message="minimum not implemented for complex tensors.", error=RuntimeError),
    _extreme_bwd(-1), promote=PROMOTE, save=(0, 1))


maximum = declare_op(maximum_op, "maximum", nargs=2, inplace=False)
minimum = declare_op(minimum_op, "minimum", nargs=2, inplace=False)

conj_op = defop("conj", np.conjugate, lambda ctx, g: g.conj(), node="ConjBackward0")


@declare
def conj(input):
    """Complex conjugate; real tensors are returned as they are (as torch).

    torch's conj is a lazy view (a conjugate bit on shared storage); NumPy has no such bit,
    so Ember's is a new tensor, ``is_conj()`` is always False and ``resolve_conj`` is a no-op.
    """
    if input._data.dtype.kind != "c":
        return input
    return apply(conj_op, (input,))


conj_physical_op = defop("conj_physical", np.conjugate, lambda ctx, g: g.conj())


def _conj_physical_(self):
    if self._data.dtype.kind != "c":
        return self
    return apply_inplace(conj_physical_op, self, ())


@declare(inplace=_conj_physical_)
def conj_physical(input, *, out=None):
    if input._data.dtype.kind != "c":
        return _out(input, out)
    return _out(apply(conj_physical_op, (input,)), out)


@declare
def resolve_conj(input):
    return input


@declare
def resolve_neg(input):
    return input


@declare
def is_conj(input):
    return False


@declare
def is_neg(input):
    return False


# ---- comparisons and selection ----------------------------------------------------
eq_op = defop("eq", np.equal, promote=PROMOTE)
ne_op = defop("ne", np.not_equal, promote=PROMOTE)
# Complex numbers have no order: torch refuses them.
lt_op = defop("lt", real_only(np.less, "lt"), promote=PROMOTE)
le_op = defop("le", real_only(np.less_equal, "le"), promote=PROMOTE)
gt_op = defop("gt", real_only(np.greater, "gt"), promote=PROMOTE)
ge_op = defop("ge", real_only(np.greater_equal, "ge"), promote=PROMOTE)

eq = declare_op(eq_op, "eq", nargs=2, operator="eq")
ne = declare_op(ne_op, "ne", "not_equal", nargs=2, operator="ne")
lt = declare_op(lt_op, "lt", "less", nargs=2, operator="lt")
le = declare_op(le_op, "le", "less_equal", nargs=2, operator="le")
gt = declare_op(gt_op, "gt", "greater", nargs=2, operator="gt")
ge = declare_op(ge_op, "ge", "greater_equal", nargs=2, operator="ge")
not_equal, less, less_equal, greater, greater_equal = ne, lt, le, gt, ge


def _where_fwd(cond, a, b):
    if cond.dtype != np.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {dtype_name(cond)}")
    return np.where(cond, a, b)


def _where_bwd(ctx, g):
    cond, = ctx.saved
    need = ctx.needs_input_grad
    return (None,
            where(cond, g, 0.0) if need[1] else None,
            where(cond, 0.0, g) if need[2] else None)


where_op = defop("where", _where_fwd, _where_bwd, save=(0,))


@declare(method=lambda self, condition, other: where(condition, self, other))
def where(condition, input=None, other=None, *, out=None):
    if input is None and other is None:
        from .indexing import nonzero
        return nonzero(condition, as_tuple=True)
    # where promotes input/other like a binary op; the condition stays bool.
    return _out(_where(condition, input, other), out)


def _where(cond, a, b):
    from .. import _dtype as D
    dt = D.result_type_of((a, b))
    a = a.to(dt) if isinstance(a, Tensor) else a
    b = b.to(dt) if isinstance(b, Tensor) else b
    if not isinstance(a, Tensor):
        a = _full_like_scalar(a, dt, b if isinstance(b, Tensor) else cond)
    if not isinstance(b, Tensor):
        b = _full_like_scalar(b, dt, a)
    return apply(where_op, (cond, a, b))


def _full_like_scalar(value, dt, like):
    from .._tensor import _make
    from .._device import array_module
    xp = array_module(like._data)
    return _make(xp.asarray(value, dtype=dt.np))


# ---- arithmetic: public functions, methods, in-place forms and operators -------------
_NO_PARAMS = {}


def _alpha(alpha=1):
    if isinstance(alpha, Tensor):  # torch takes a one-element tensor as the Scalar alpha
        alpha = alpha.item()
    return {"alpha": alpha} if alpha != 1 else {}


@declare(inplace=scalar_first(inplace_method(add_op, 2, _alpha), "add_", "alpha",
                              "add_(Number alpha, Tensor other)",
                              "add_(Tensor other, *, Number alpha = 1)"), operator="add")
def add(input, other, *, alpha=1, out=None):
    # alpha=1 skips _alpha's call: `x + y` is the hottest path there is.
    r = apply(add_op, (input, other), _alpha(alpha) if alpha != 1 else _NO_PARAMS)
    return r if out is None else _out(r, out)


@declare(method=False)
def rsub(input, other, *, alpha=1):
    _check_sub(input, other)
    op = rsub_op if isinstance(other, Tensor) else rsub_op.variant("RsubBackward1")
    return apply(op, (input, other), {"alpha": alpha} if alpha != 1 else _NO_PARAMS)


def _sub_(self, other, *, alpha=1):
    _check_sub(self, other)
    return apply_inplace(sub_op, self, (other,), _alpha(alpha))


@declare(aliases=("subtract",), inplace=scalar_first(_sub_, "sub_", "alpha",
                                                     "sub_(Number alpha, Tensor other)",
                                                     "sub_(Tensor other, *, Number alpha = 1)"),
         operator="sub", reflected=rsub)
def sub(input, other, *, alpha=1, out=None):
    _check_sub(input, other)
    r = apply(sub_op, (input, other), _alpha(alpha) if alpha != 1 else _NO_PARAMS)
    return r if out is None else _out(r, out)


subtract = sub


@declare(aliases=("multiply",), inplace=inplace_method(mul_op, 2), operator="mul")
def mul(input, other, *, out=None):
    r = apply(mul_op, (input, other))
    return r if out is None else _out(r, out)


multiply = mul


def _div_(self, other, *, rounding_mode=None):
    if rounding_mode is None:
        return apply_inplace(div_op, self, (other,))
    return apply_inplace(div_round_op, self, (other,), {"rounding_mode": rounding_mode})


def _rtruediv(self, other):
    # torch computes `number / tensor` as reciprocal(tensor) * number (rounding included).
    from .unary import reciprocal
    return mul(reciprocal(self), other)


@declare(aliases=("divide",), inplace=_div_, operator="truediv", reflected=_rtruediv)
def div(input, other, *, rounding_mode=None, out=None):
    if rounding_mode is None:
        r = apply(div_op, (input, other))
        return r if out is None else _out(r, out)
    return _out(apply(div_round_op, (input, other), {"rounding_mode": rounding_mode}), out)


divide = div


@declare(inplace=inplace_method(div_op, 2))
def true_divide(input, other, *, out=None):
    return div(input, other, out=out)


floor_divide = declare_op(floor_divide_op, "floor_divide", nargs=2, operator="floordiv")
remainder = declare_op(remainder_op, "remainder", nargs=2, operator="mod")
fmod = declare_op(fmod_op, "fmod", nargs=2)


def _pow_(self, exponent):
    return apply_inplace(pow_op.variant("PowBackward1") if isinstance(exponent, Tensor)
                         else pow_op, self, (exponent,))


@declare(inplace=_pow_, operator="pow")
def pow(input, exponent, *, out=None):
    if not isinstance(input, Tensor):
        op = pow_op.variant("PowBackward2", scalar_checked=False)
    elif isinstance(exponent, Tensor):
        op = pow_op.variant("PowBackward1")
    else:
        op = pow_op
    return _out(apply(op, (input, exponent)), out)


neg = declare_op(neg_op, "neg", "negative", operator="neg")
negative = neg
abs = declare_op(abs_op, "abs", "absolute", operator="abs")
absolute = abs
tensor_method("__pos__", lambda self: self)


# ---- bitwise ------------------------------------------------------------------------
def _bitwise_op(name, ufunc, operator):
    op = defop(name, ufunc, promote=PROMOTE)

    def f(input, other, *, out=None):
        for x in (input, other):
            if isinstance(x, Tensor) and x._data.dtype.kind in "fc":
                raise NotImplementedError(
                    f'"{name}_cpu" not implemented for \'{dtype_name(x._data)}\'')
        return _out(apply(op, (input, other)), out)
    f.__name__ = name
    return op, declare(f, inplace=inplace_method(op, 2), operator=operator)


bitwise_and_op, bitwise_and = _bitwise_op("bitwise_and", np.bitwise_and, "and")
bitwise_or_op, bitwise_or = _bitwise_op("bitwise_or", np.bitwise_or, "or")
bitwise_xor_op, bitwise_xor = _bitwise_op("bitwise_xor", np.bitwise_xor, "xor")
bitwise_not_op = defop("bitwise_not", np.invert)


@declare(inplace=inplace_method(bitwise_not_op), operator="invert")
def bitwise_not(input, *, out=None):
    if input._data.dtype.kind in "fc":
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type "
                        "tensors")
    return _out(apply(bitwise_not_op, (input,)), out)
