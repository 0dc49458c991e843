"""Every op, once.  Importing this package fills the registry and gives Tensor its
methods and Python operators (the table at the bottom)."""
from .._tensor import Tensor
from . import conversion, indexing, linalg, pointwise, reduction, shape
from .registry import REGISTRY, apply, apply_inplace
from .pointwise import (abs, absolute, add, cos, div, divide, eq, exp, floor_divide, fmod, ge,
                        greater, greater_equal, gt, le, less, less_equal, log, lt, mul, multiply,
                        ne, neg, negative, not_equal, pow, relu, remainder, rsub, sigmoid, sign,
                        sin, sqrt, sub, subtract, tanh, true_divide, where, maximum,
                        minimum, conj)
from .reduction import argmax, argmin, max, mean, min, norm, sum
from .shape import (clone, contiguous, expand, expand_as, flatten, narrow, permute, reshape,
                    reshape_as, select, squeeze, swapaxes, swapdims, t, transpose, unsqueeze,
                    view, view_as)
from .linalg import bmm, dot, matmul, mm, mv
from .indexing import nonzero

P = pointwise


def _reflected(fn):
    def r(self, other):
        return fn(other, self)
    return r


def _inplace(op_fn):
    """``x.op_(other)``: the op's registry entry applied in place (see apply_inplace)."""
    def method(self, *args, **kwargs):
        return op_fn(self, *args, inplace=True, **kwargs)
    return method


def _binary_inplace(op, params_of=None):
    def method(self, other, **kwargs):
        params = params_of(**kwargs) if params_of else {}
        return apply_inplace(op, self, (other,), params)
    return method


def _unary_inplace(op):
    def method(self):
        return apply_inplace(op, self, ())
    return method


def _alpha(alpha=1):
    return {"alpha": alpha} if alpha != 1 else {}


def _rdiv(self, other):
    return div(other, self)


def _rpow(self, other):
    return pow(other, self)


def _rmatmul(self, other):
    return matmul(other, self)


def _rsub(self, other):
    return sub(other, self)


def _div_(self, other, *, rounding_mode=None):
    if rounding_mode is None:
        return apply_inplace(P.div_op, self, (other,))
    return apply_inplace(P.div_round_op, self, (other,), {"rounding_mode": rounding_mode})


def _pow_(self, exponent):
    op = P.pow_tensor_op if isinstance(exponent, Tensor) else P.pow_op
    return apply_inplace(op, self, (exponent,))


def _getitem(self, index):
    return shape.getitem(self, index)


def _setitem(self, index, value):
    indexing.setitem(self, index, value)


def _bool_op(np_name):
    import numpy as np
    from .registry import PROMOTE, defop
    op = defop(np_name, getattr(np, np_name), promote=PROMOTE)

    def f(input, other):
        if input.dtype.is_floating_point or (isinstance(other, Tensor) and
                                             other.dtype.is_floating_point):
            raise RuntimeError(f'"{np_name}_cpu" not implemented for \'Float\'')
        return apply(op, (input, other))
    return f


bitwise_and = _bool_op("bitwise_and")
bitwise_or = _bool_op("bitwise_or")
bitwise_xor = _bool_op("bitwise_xor")


def _invert(self):
    import numpy as np
    if self.dtype.is_floating_point:
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type "
                        "tensors")
    return apply(_invert_op, (self,))


from .registry import defop as _defop  # noqa: E402
import numpy as _np  # noqa: E402
_invert_op = _defop("bitwise_not", _np.invert)

# Tensor methods and operators, in torch's names -------------------------------------
_METHODS = {
    # arithmetic
    "add": add, "sub": sub, "subtract": sub, "mul": mul, "multiply": mul, "div": div,
    "divide": div, "true_divide": true_divide, "floor_divide": floor_divide,
    "remainder": remainder, "fmod": fmod, "pow": pow, "neg": neg, "negative": neg,
    "abs": abs, "absolute": abs, "sign": sign, "exp": exp, "log": log, "sqrt": sqrt, "sin": sin,
    "cos": cos, "tanh": tanh, "sigmoid": sigmoid, "relu": relu,
    "eq": eq, "ne": ne, "lt": lt, "le": le, "gt": gt, "ge": ge, "not_equal": ne, "less": lt,
    "less_equal": le, "greater": gt, "greater_equal": ge,
    "conj": conj, "maximum": maximum, "minimum": minimum,
    "where": lambda self, condition, other: where(condition, self, other),
    "bitwise_and": bitwise_and, "bitwise_or": bitwise_or, "bitwise_xor": bitwise_xor,
    "bitwise_not": _invert, "logical_not": lambda self: eq(self, 0),
    # reductions
    "sum": sum, "mean": mean, "max": max, "min": min, "argmax": argmax, "argmin": argmin,
    "norm": norm,
    # shape
    "view": view, "reshape": reshape, "view_as": view_as, "reshape_as": reshape_as,
    "flatten": flatten, "permute": permute, "transpose": transpose, "swapaxes": swapaxes,
    "swapdims": swapdims, "t": t, "unsqueeze": unsqueeze, "squeeze": squeeze, "expand": expand,
    "expand_as": expand_as, "clone": clone, "contiguous": contiguous, "narrow": narrow,
    "select": select,
    # linear algebra
    "matmul": matmul, "mm": mm, "dot": dot, "mv": mv, "bmm": bmm,
    "nonzero": nonzero,
    # in-place forms
    "add_": _binary_inplace(P.add_op, _alpha), "sub_": _binary_inplace(P.sub_op, _alpha),
    "mul_": _binary_inplace(P.mul_op), "div_": _div_,
    "floor_divide_": _binary_inplace(P.floor_divide_op),
    "remainder_": _binary_inplace(P.remainder_op), "fmod_": _binary_inplace(P.fmod_op),
    "pow_": _pow_, "neg_": _unary_inplace(P.neg_op), "abs_": _unary_inplace(P.abs_op),
    "sign_": _unary_inplace(P.sign_op), "exp_": _unary_inplace(P.exp_op),
    "log_": _unary_inplace(P.log_op), "sqrt_": _unary_inplace(P.sqrt_op),
    "sin_": _unary_inplace(P.sin_op), "cos_": _unary_inplace(P.cos_op),
    "tanh_": _unary_inplace(P.tanh_op), "sigmoid_": _unary_inplace(P.sigmoid_op),
    "relu_": _unary_inplace(P.relu_op),
    # Python operators
    "__add__": add, "__radd__": _reflected(add), "__iadd__": _binary_inplace(P.add_op),
    "__sub__": sub, "__rsub__": _rsub, "__isub__": _binary_inplace(P.sub_op),
    "__mul__": mul, "__rmul__": _reflected(mul), "__imul__": _binary_inplace(P.mul_op),
    "__truediv__": div, "__rtruediv__": _rdiv, "__itruediv__": _binary_inplace(P.div_op),
    "__floordiv__": floor_divide, "__rfloordiv__": _reflected(floor_divide),
    "__ifloordiv__": _binary_inplace(P.floor_divide_op),
    "__mod__": remainder, "__rmod__": _reflected(remainder),
    "__imod__": _binary_inplace(P.remainder_op),
    "__pow__": pow, "__rpow__": _rpow, "__ipow__": _pow_,
    "__matmul__": matmul, "__rmatmul__": _rmatmul,
    "__neg__": neg, "__pos__": lambda self: self, "__abs__": abs, "__invert__": _invert,
    "__and__": bitwise_and, "__or__": bitwise_or, "__xor__": bitwise_xor,
    "__rand__": _reflected(bitwise_and), "__ror__": _reflected(bitwise_or),
    "__rxor__": _reflected(bitwise_xor),
    "__eq__": eq, "__ne__": ne, "__lt__": lt, "__le__": le, "__gt__": gt, "__ge__": ge,
    "__getitem__": _getitem, "__setitem__": _setitem,
}

for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _fn)
