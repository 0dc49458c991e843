"""Pointwise ops: arithmetic, comparisons, and elementwise math.

Each ``defop`` is the op's single entry (forward on arrays, backward in Ember
ops); the functions below it are the public ``ember.*`` signatures.
"""
import warnings

import ml_dtypes
import numpy as np

from .._tensor import Tensor
from .inplace import apply_inplace
from .registry import FLOAT, PROMOTE, PROMOTE_FLOAT, SAME, apply, defop


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
    if isinstance(b, np.ndarray) and not b.all() or (type(b) is int and b == 0):
        raise RuntimeError("ZeroDivisionError")


def _dtype_legacy(a):
    from .._dtype import NP_TO_DTYPE
    return NP_TO_DTYPE[a.dtype]._legacy


def real_only(fwd, kernel=None, *, message=None, error=NotImplementedError, suffix="_cpu"):
    """Wrap the forward of an op torch has no complex kernel for, to raise torch's error:
    ``"<kernel>_cpu" not implemented for 'ComplexFloat'`` or the given ``message``."""
    def f(*args, **kw):
        for a in args:
            d = getattr(a, "dtype", None)
            if d is not None and d.kind == "c":
                raise error(message if message is not None else
                            f"\"{kernel}{suffix}\" not implemented for '{_dtype_legacy(a)}'")
        return fwd(*args, **kw)
    f.__name__ = getattr(fwd, "__name__", "forward")
    return f


def in_float32(fwd):
    """For float16/bfloat16 arrays, run a multi-step forward in float32 and round the result
    once, as torch's kernels do (step-by-step half arithmetic drifts; NumPy would also
    widen bfloat16 meeting a Python float to float32)."""
    def f(a, *args, **kw):
        d = getattr(a, "dtype", None)
        if d is None or d.itemsize != 2 or d.kind not in "fV":
            return fwd(a, *args, **kw)
        f32 = np.float32
        args = [x.astype(f32) if getattr(x, "dtype", None) == d else x for x in args]
        out = fwd(a.astype(f32), *args, **kw)
        return out.astype(d) if out.dtype == f32 else out
    f.__name__ = getattr(fwd, "__name__", "forward")
    return f


# ---- arithmetic -------------------------------------------------------------------
def _add_fwd(a, b, alpha=1):
    return a + b if alpha == 1 else _scaled_add(a, b, alpha)


def _scaled_add(a, b, alpha):
    d = getattr(b, "dtype", None)
    if d is not None and d.itemsize == 2 and d.kind in "fV":
        # torch rounds alpha to the half dtype (refusing one out of its range), then computes
        # in float32 and rounds once.
        f32 = np.float32
        if np.isfinite(alpha) and np.abs(alpha) > float(ml_dtypes.finfo(d).max):
            name = "c10::Half" if d == np.float16 else "c10::BFloat16"
            raise RuntimeError(f"value cannot be converted to type {name} without overflow")
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
    return (g * _conj(b) if need[0] else None,
            g * _conj(a) if need[1] else None)


def _conj(x):
    if isinstance(x, Tensor):
        return x.conj() if x._data.dtype.kind == "c" else x
    return x.conjugate() if type(x) is complex else x


def _div_fwd(a, b, rounding_mode=None):
    if rounding_mode is None:
        return np.true_divide(a, b)
    if rounding_mode == "floor":
        return _floor_divide_fwd(a, b)
    if rounding_mode == "trunc":
        _check_int_div(a, b)
        q = np.true_divide(a, b)
        kind = np.result_type(a, b).kind if isinstance(a, np.ndarray) else "f"
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
    if isinstance(b, np.ndarray) and b.dtype.kind in "iu" and isinstance(a, np.ndarray) \
            and a.dtype.kind in "iu" and (b < 0).any():
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    if type(b) is int and b < 0 and isinstance(a, np.ndarray) and a.dtype.kind in "iu":
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
# rsub(input, other) = other - alpha * input; torch names its tensor and scalar forms apart.
rsub_op = defop("rsub", _rsub_fwd, _rsub_bwd, promote=PROMOTE)
rsub_scalar_op = defop("rsub_scalar", _rsub_fwd, _rsub_bwd, promote=PROMOTE,
                       node="RsubBackward1")
mul_op = defop("mul", np.multiply, _mul_bwd, promote=PROMOTE, save=(0, 1), opmath=True)
div_op = defop("div", _div_fwd, _div_bwd, promote=PROMOTE_FLOAT, save=(0, 1), opmath=True)


def _div_round_fwd(a, b, rounding_mode):
    d = getattr(a, "dtype", None)
    if (d if d is not None else b.dtype).kind == "c" and rounding_mode in ("floor", "trunc"):
        kind = a if d is not None else b
        raise NotImplementedError(f"\"div_{rounding_mode}_cpu\" not implemented for "
                                  f"'{_dtype_legacy(kind)}'")
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
# torch has three entries: Tensor ** Scalar, Tensor ** Tensor, Scalar ** Tensor.
pow_op = defop("pow", _pow_fwd, _pow_bwd, promote=PROMOTE, save=(0, 1), save_result=True,
               scalar_checked=True)
pow_tensor_op = defop("pow_tensor", _pow_fwd, _pow_bwd, promote=PROMOTE, save=(0, 1),
                      save_result=True, node="PowBackward1")
pow_scalar_base_op = defop("pow_scalar_base", _pow_fwd, _pow_bwd, promote=PROMOTE, save=(0, 1),
                           save_result=True, node="PowBackward2")


def trunc_div(a, b):
    return div(a, b, rounding_mode="trunc")


# ---- unary ------------------------------------------------------------------------
def _unary(name, fwd, bwd, promote=FLOAT, save=(0,), save_result=False, node=None):
    return defop(name, fwd, bwd, promote=promote, save=save, save_result=save_result, node=node)


neg_op = defop("neg", lambda a: _neg_fwd(a), lambda ctx, g: -g)
def _abs_bwd(ctx, g):
    x, = ctx.saved
    if x._data.dtype.kind == "c":
        from .unary import sgn
        return g * sgn(x)
    return g * sign(x)


abs_op = _unary("abs", lambda a: _abs_fwd(a), _abs_bwd, promote=SAME)
sign_op = _unary("sign", real_only(
    lambda a: _sign_fwd(a), message="Unlike NumPy, torch.sign is not intended to support complex "
    "numbers. Please use torch.sgn instead."), lambda ctx, g: g * 0, promote=SAME, save=())
exp_op = _unary("exp", np.exp, lambda ctx, g: g * _conj(ctx.result), save=(), save_result=True)
log_op = _unary("log", np.log, lambda ctx, g: g / _conj(ctx.saved[0]))
sqrt_op = _unary("sqrt", np.sqrt, lambda ctx, g: g / (2 * _conj(ctx.result)), save=(),
                 save_result=True)
sin_op = _unary("sin", np.sin, lambda ctx, g: g * _conj(cos(ctx.saved[0])))
cos_op = _unary("cos", np.cos, lambda ctx, g: -g * _conj(sin(ctx.saved[0])))
tanh_op = _unary("tanh", np.tanh, lambda ctx, g: g * _conj(1 - ctx.result * ctx.result),
                 save=(), save_result=True)
sigmoid_op = _unary("sigmoid", lambda a: _sigmoid_fwd(a),
                    lambda ctx, g: g * _conj(ctx.result * (1 - ctx.result)), save=(),
                    save_result=True)
relu_op = _unary("relu", real_only(lambda a: _relu_fwd(a),
                                  message="clamp is not supported for complex types"),
                 lambda ctx, g: g * ~(ctx.result <= 0),  # torch's: a NaN passes the gradient
                 promote=SAME, save=(), save_result=True)


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


def _sign_fwd(a):
    if a.dtype == np.bool_:
        return a.copy()
    if a.dtype.kind in "fV":
        # torch's sign is (0 < x) - (x < 0): NaN gives 0, not NaN.
        return ((a > 0).astype(a.dtype) - (a < 0).astype(a.dtype))
    return np.sign(a)


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
    return np.maximum(a, a.dtype.type(0))


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


def maximum(input, other, *, out=None):
    return _out(apply(maximum_op, (input, other)), out)


def minimum(input, other, *, out=None):
    return _out(apply(minimum_op, (input, other)), out)


conj_op = defop("conj", np.conjugate, lambda ctx, g: g.conj(), node="ConjBackward0")


def conj(input):
    """Complex conjugate; real tensors are returned as they are (as torch).

    torch's conj is a lazy view (a conjugate bit on shared storage); NumPy has no such bit,
    so Ember's is a new tensor, ``is_conj()`` is always False and ``resolve_conj`` is a no-op.
    """
    if input._data.dtype.kind != "c":
        return input
    return apply(conj_op, (input,))


conj_physical_op = defop("conj_physical", np.conjugate, lambda ctx, g: g.conj())


def conj_physical(input, *, out=None):
    if input._data.dtype.kind != "c":
        return _out(input, out)
    return _out(apply(conj_physical_op, (input,)), out)


def resolve_conj(input):
    return input


def resolve_neg(input):
    return input


def is_conj(input):
    return False


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


def _where_fwd(cond, a, b):
    if cond.dtype != np.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {_dtype_name(cond)}")
    return np.where(cond, a, b)


def _where_bwd(ctx, g):
    cond, = ctx.saved
    need = ctx.needs_input_grad
    return (None,
            where(cond, g, 0.0) if need[1] else None,
            where(cond, 0.0, g) if need[2] else None)


def _dtype_name(a):
    from .._dtype import NP_TO_DTYPE
    return NP_TO_DTYPE[a.dtype]._legacy


where_op = defop("where", _where_fwd, _where_bwd, save=(0,))


# ---- public functions -------------------------------------------------------------
def add(input, other, *, alpha=1, out=None):
    return _out(apply(add_op, (input, other), {"alpha": alpha} if alpha != 1 else {}), out)


def sub(input, other, *, alpha=1, out=None):
    _check_sub(input, other)
    return _out(apply(sub_op, (input, other), {"alpha": alpha} if alpha != 1 else {}), out)


subtract = sub


def rsub(input, other, *, alpha=1):
    _check_sub(input, other)
    op = rsub_op if isinstance(other, Tensor) else rsub_scalar_op
    return apply(op, (input, other), {"alpha": alpha} if alpha != 1 else {})


def mul(input, other, *, out=None):
    return _out(apply(mul_op, (input, other)), out)


multiply = mul


def div(input, other, *, rounding_mode=None, out=None):
    if rounding_mode is None:
        return _out(apply(div_op, (input, other)), out)
    return _out(apply(div_round_op, (input, other), {"rounding_mode": rounding_mode}), out)


divide = div


def true_divide(input, other, *, out=None):
    return div(input, other, out=out)


def floor_divide(input, other, *, out=None):
    return _out(apply(floor_divide_op, (input, other)), out)


def remainder(input, other, *, out=None):
    return _out(apply(remainder_op, (input, other)), out)


def fmod(input, other, *, out=None):
    return _out(apply(fmod_op, (input, other)), out)


def pow(input, exponent, *, out=None):
    if not isinstance(input, Tensor):
        op = pow_scalar_base_op
    elif isinstance(exponent, Tensor):
        op = pow_tensor_op
    else:
        op = pow_op
    return _out(apply(op, (input, exponent)), out)


def neg(input, *, out=None):
    return _out(apply(neg_op, (input,)), out)


negative = neg


def _unary_fn(op, name):
    def f(input, *, out=None):
        return _out(apply(op, (input,)), out)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"{name}(input, *, out=None) -> Tensor  (elementwise, as torch.{name})"
    return f


abs = _unary_fn(abs_op, "abs")
absolute = abs
sign = _unary_fn(sign_op, "sign")
exp = _unary_fn(exp_op, "exp")
log = _unary_fn(log_op, "log")
sqrt = _unary_fn(sqrt_op, "sqrt")
sin = _unary_fn(sin_op, "sin")
cos = _unary_fn(cos_op, "cos")
tanh = _unary_fn(tanh_op, "tanh")
sigmoid = _unary_fn(sigmoid_op, "sigmoid")
relu = _unary_fn(relu_op, "relu")


def _cmp_fn(op, name):
    def f(input, other, *, out=None):
        return _out(apply(op, (input, other)), out)
    f.__name__ = f.__qualname__ = name
    return f


eq = _cmp_fn(eq_op, "eq")
ne = _cmp_fn(ne_op, "ne")
lt = _cmp_fn(lt_op, "lt")
le = _cmp_fn(le_op, "le")
gt = _cmp_fn(gt_op, "gt")
ge = _cmp_fn(ge_op, "ge")
not_equal, less, less_equal, greater, greater_equal = ne, lt, le, gt, ge


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


def _out(result, out, name=None):
    """Honour ``out=``: write the result into ``out`` (resized as torch does)."""
    if out is None:
        return result
    if not isinstance(out, Tensor):
        raise TypeError(f"argument 'out' must be Tensor, not {type(out).__name__}")
    if (out._requires_grad and out._grad_fn is None) or result._requires_grad:
        from ..autograd import grad_mode
        if grad_mode.is_grad_enabled():
            if name is None:
                node = result._grad_fn
                name = node.op.name if node is not None and hasattr(node, "op") else "op"
            raise RuntimeError(f"{name}(): functions with out=... arguments don't support "
                               "automatic differentiation, but one of the arguments requires grad.")
    if out._data.shape != result._data.shape:
        out._data = result._data.astype(out._data.dtype, copy=True)
    else:
        out._data[...] = result._data
    out._vc[0] += 1
    return out


def with_out(fn):
    """Give ``fn`` torch's ``out=`` keyword: one tensor, or a tuple for (values, indices)."""
    name = fn.__name__

    def f(*args, out=None, **kwargs):
        result = fn(*args, **kwargs)
        if out is None:
            return result
        if isinstance(result, tuple):
            if not isinstance(out, (tuple, list)) or len(out) != len(result):
                raise TypeError(f"{name}(): argument 'out' must be tuple of {len(result)} Tensors")
            for r, o in zip(result, out):
                _out(r, o, name)
            return type(result)(*out) if hasattr(result, "_fields") else tuple(out)
        return _out(result, out, name)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = fn.__doc__
    f.__wrapped__ = fn
    return f


# ---- bitwise ------------------------------------------------------------------------
def _bitwise_op(name, ufunc):
    op = defop(name, ufunc, promote=PROMOTE)

    def f(input, other, *, out=None):
        for x in (input, other):
            if isinstance(x, Tensor) and x._data.dtype.kind in "fc":
                raise NotImplementedError(
                    f'"{name}_cpu" not implemented for \'{_dtype_name(x._data)}\'')
        return _out(apply(op, (input, other)), out)
    f.__name__ = name
    return op, f


bitwise_and_op, bitwise_and = _bitwise_op("bitwise_and", np.bitwise_and)
bitwise_or_op, bitwise_or = _bitwise_op("bitwise_or", np.bitwise_or)
bitwise_xor_op, bitwise_xor = _bitwise_op("bitwise_xor", np.bitwise_xor)
bitwise_not_op = defop("bitwise_not", np.invert)


def bitwise_not(input, *, out=None):
    if input._data.dtype.kind in "fc":
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type "
                        "tensors")
    return _out(apply(bitwise_not_op, (input,)), out)


# ---- Tensor methods, in-place forms and Python operators -----------------------------
def _reflected(fn):
    def r(self, other):
        return fn(other, self)
    return r


def _binary_inplace(op, params_of=None):
    def method(self, other, **kwargs):
        return apply_inplace(op, self, (other,), params_of(**kwargs) if params_of else {})
    return method


def _unary_inplace(op):
    def method(self):
        return apply_inplace(op, self, ())
    return method


def _alpha(alpha=1):
    return {"alpha": alpha} if alpha != 1 else {}


def _div_(self, other, *, rounding_mode=None):
    if rounding_mode is None:
        return apply_inplace(div_op, self, (other,))
    return apply_inplace(div_round_op, self, (other,), {"rounding_mode": rounding_mode})


def _sub_(self, other, *, alpha=1):
    _check_sub(self, other)
    return apply_inplace(sub_op, self, (other,), _alpha(alpha))


def _rtruediv(self, other):
    # torch computes `number / tensor` as reciprocal(tensor) * number (rounding included).
    from .unary import reciprocal
    return mul(reciprocal(self), other)


def _conj_physical_(self):
    if self._data.dtype.kind != "c":
        return self
    return apply_inplace(conj_physical_op, self, ())


def _pow_(self, exponent):
    return apply_inplace(pow_tensor_op if isinstance(exponent, Tensor) else pow_op, self,
                         (exponent,))


__all__ = ["add", "sub", "subtract", "rsub", "mul", "multiply", "div", "divide", "true_divide",
           "floor_divide", "remainder", "fmod", "pow", "neg", "negative", "abs", "absolute",
           "sign", "exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "maximum",
           "minimum", "conj", "conj_physical", "resolve_conj", "resolve_neg", "is_conj", "is_neg",
           "eq", "ne", "lt", "le", "gt", "ge", "not_equal", "less",
           "less_equal", "greater", "greater_equal", "where", "bitwise_and", "bitwise_or",
           "bitwise_xor", "bitwise_not"]

METHODS = {name: globals()[name] for name in __all__ if name not in ("where", "rsub")}
METHODS.update({
    "where": lambda self, condition, other: where(condition, self, other),
    "add_": _binary_inplace(add_op, _alpha), "sub_": _sub_,
    "mul_": _binary_inplace(mul_op), "div_": _div_,
    "floor_divide_": _binary_inplace(floor_divide_op),
    "remainder_": _binary_inplace(remainder_op), "fmod_": _binary_inplace(fmod_op),
    "pow_": _pow_, "neg_": _unary_inplace(neg_op), "abs_": _unary_inplace(abs_op),
    "sign_": _unary_inplace(sign_op), "exp_": _unary_inplace(exp_op),
    "log_": _unary_inplace(log_op), "sqrt_": _unary_inplace(sqrt_op),
    "sin_": _unary_inplace(sin_op), "cos_": _unary_inplace(cos_op),
    "tanh_": _unary_inplace(tanh_op), "sigmoid_": _unary_inplace(sigmoid_op),
    "relu_": _unary_inplace(relu_op), "conj_physical_": _conj_physical_,
    "absolute_": _unary_inplace(abs_op), "negative_": _unary_inplace(neg_op),
    "subtract_": _sub_, "multiply_": _binary_inplace(mul_op),
    "divide_": _div_, "true_divide_": _binary_inplace(div_op),
    "eq_": _binary_inplace(eq_op), "ne_": _binary_inplace(ne_op),
    "lt_": _binary_inplace(lt_op), "le_": _binary_inplace(le_op),
    "gt_": _binary_inplace(gt_op), "ge_": _binary_inplace(ge_op),
    "not_equal_": _binary_inplace(ne_op), "less_": _binary_inplace(lt_op),
    "less_equal_": _binary_inplace(le_op), "greater_": _binary_inplace(gt_op),
    "greater_equal_": _binary_inplace(ge_op),
    "bitwise_and_": _binary_inplace(bitwise_and_op), "bitwise_or_": _binary_inplace(bitwise_or_op),
    "bitwise_xor_": _binary_inplace(bitwise_xor_op),
    "bitwise_not_": _unary_inplace(bitwise_not_op),
    "__add__": add, "__radd__": _reflected(add), "__iadd__": _binary_inplace(add_op),
    "__sub__": sub, "__rsub__": rsub, "__isub__": _sub_,
    "__mul__": mul, "__rmul__": _reflected(mul), "__imul__": _binary_inplace(mul_op),
    "__truediv__": div, "__rtruediv__": _rtruediv, "__itruediv__": _binary_inplace(div_op),
    "__floordiv__": floor_divide, "__rfloordiv__": _reflected(floor_divide),
    "__ifloordiv__": _binary_inplace(floor_divide_op),
    "__mod__": remainder, "__rmod__": _reflected(remainder),
    "__imod__": _binary_inplace(remainder_op),
    "__pow__": pow, "__rpow__": _reflected(pow), "__ipow__": _pow_,
    "__neg__": neg, "__pos__": lambda self: self, "__abs__": abs, "__invert__": bitwise_not,
    "__and__": bitwise_and, "__or__": bitwise_or, "__xor__": bitwise_xor,
    "__rand__": _reflected(bitwise_and), "__ror__": _reflected(bitwise_or),
    "__rxor__": _reflected(bitwise_xor),
    "__iand__": _binary_inplace(bitwise_and_op), "__ior__": _binary_inplace(bitwise_or_op),
    "__ixor__": _binary_inplace(bitwise_xor_op),
    "__eq__": eq, "__ne__": ne, "__lt__": lt, "__le__": le, "__gt__": gt, "__ge__": ge,
})
