"""Op-table entries: pointwise ops."""
import warnings

import numpy as np
import torch

import ember

from ember._ops.pointwise import ignore_fp_warnings

from .harness import OpInfo, Sample, arr, positive

BROADCAST_PAIRS = [((3, 4), (3, 4)), ((2, 3, 4), (4,)), ((3, 1), (1, 5)), ((), (2, 3)), ((4,), ())]


def binary_samples(low=-2.0, high=2.0, second_low=None, second_high=None, scalars=(2.5, -3)):
    def make(rng):
        out = [Sample((arr(rng, a, low=low, high=high),
                       arr(rng, b, low=second_low if second_low is not None else low,
                           high=second_high if second_high is not None else high)))
               for a, b in BROADCAST_PAIRS]
        out += [Sample((arr(rng, (3, 2), low=low, high=high), s)) for s in scalars]
        # dtype promotion: float32 with float64, int with float, float with 0-dim float64
        out.append(Sample((arr(rng, (3,), low=low, high=high),
                           arr(rng, (3,), "float64", low=low, high=high))))
        out.append(Sample((arr(rng, (2, 3), "int64", 1, 5), arr(rng, (3,), low=0.5, high=2)),
                          name="int-float"))
        out.append(Sample((arr(rng, (2, 3), low=low, high=high),
                           arr(rng, (), "float64", low=0.5, high=2)), name="float32-0dim64"))
        out.append(Sample((arr(rng, (2, 3), "int32", 1, 5), arr(rng, (3,), "int64", 1, 5)),
                          grad=False, name="int32-int64"))
        return out
    return make


def unary_samples(low=-2.0, high=2.0, ints=True):
    def make(rng):
        out = [Sample((arr(rng, s, low=low, high=high),)) for s in [(5,), (3, 4), (), (2, 0)]]
        out.append(Sample((arr(rng, (2, 3), "float64", low=low, high=high),)))
        if ints:
            out.append(Sample((arr(rng, (4,), "int64", max(low, 1), max(high, 3)),), grad=False,
                              name="int64"))
        return out
    return make


def cmp_samples(rng):
    a = arr(rng, (3, 4))
    b = a.copy()
    b[0] += 1
    return [Sample((a, b), grad=False), Sample((a, 0.5), grad=False),
            Sample((arr(rng, (3, 1), "int64", 0, 3), arr(rng, (4,), "float32")), grad=False),
            Sample((arr(rng, (2, 3), "int64", 0, 3), 1), grad=False)]


ENTRIES = [
    OpInfo("add", ember.add, torch.add, binary_samples()),
    OpInfo("add_alpha", lambda a, b: ember.add(a, b, alpha=2), lambda a, b: torch.add(a, b, alpha=2),
           binary_samples(scalars=(1.5,)), covers=("add",)),
    OpInfo("sub", ember.sub, torch.sub, binary_samples()),
    OpInfo("rsub", ember.rsub, torch.rsub,
           lambda rng: [s for s in binary_samples()(rng) if not isinstance(s.args[1], (int, float))]),
    OpInfo("rsub_scalar", ember.rsub, torch.rsub,
           lambda rng: [Sample((arr(rng, (3, 2)), 2.5)), Sample((arr(rng, (3,)), -3)),
                        Sample((arr(rng, (2, 3)), 1.5), {"alpha": 2})], covers=("rsub",)),
    OpInfo("mul", ember.mul, torch.mul, binary_samples()),
    OpInfo("div", ember.div, torch.div, binary_samples(second_low=0.5, second_high=2.0)),
    OpInfo("div_rounding", lambda a, b: ember.div(a, b, rounding_mode="floor"),
           lambda a, b: torch.div(a, b, rounding_mode="floor"),
           binary_samples(second_low=0.5, second_high=2.0), gradgrad=False, fd=False),
    OpInfo("floor_divide", ember.floor_divide, torch.floor_divide,
           binary_samples(second_low=0.5, second_high=2.0), grad=False),
    OpInfo("remainder", ember.remainder, torch.remainder,
           binary_samples(low=0.3, high=4.7, second_low=0.7, second_high=1.3, scalars=(1.7,)),
           gradgrad=False, fd=False),
    OpInfo("fmod", ember.fmod, torch.fmod,
           binary_samples(low=0.3, high=4.7, second_low=0.7, second_high=1.3, scalars=(1.7,)),
           gradgrad=False, fd=False),
    OpInfo("pow", ember.pow, torch.pow,
           lambda rng: [Sample((positive(rng, (3, 4)), 2)), Sample((positive(rng, (3,)), 0.5)),
                        Sample((arr(rng, (3,)), 3)), Sample((positive(rng, (3,)), -1.5)),
                        Sample((arr(rng, (4,), "int64", 0, 4), 2), grad=False)]),
    OpInfo("pow_tensor", ember.pow, torch.pow,
           lambda rng: [Sample((positive(rng, (3, 4)), arr(rng, (3, 4)))),
                        Sample((positive(rng, (2, 3)), arr(rng, (3,))))], covers=("pow",)),
    OpInfo("pow_scalar_base", ember.pow, torch.pow,
           lambda rng: [Sample((2.0, arr(rng, (3, 4)))), Sample((0.5, arr(rng, (5,))))],
           covers=("pow",)),
    OpInfo("neg", ember.neg, torch.neg, unary_samples()),
    OpInfo("abs", ember.abs, torch.abs, unary_samples(), gradgrad=True),
    OpInfo("sign", ember.sign, torch.sign, unary_samples(), fd=False),
    OpInfo("exp", ember.exp, torch.exp, unary_samples()),
    OpInfo("log", ember.log, torch.log, unary_samples(0.5, 3.0)),
    OpInfo("sqrt", ember.sqrt, torch.sqrt, unary_samples(0.5, 3.0)),
    OpInfo("sin", ember.sin, torch.sin, unary_samples()),
    OpInfo("cos", ember.cos, torch.cos, unary_samples()),
    OpInfo("tanh", ember.tanh, torch.tanh, unary_samples()),
    OpInfo("sigmoid", ember.sigmoid, torch.sigmoid,
           lambda rng: unary_samples()(rng) + [Sample((arr(rng, (4,), low=-200, high=200),))]),
    OpInfo("relu", ember.relu, torch.relu, unary_samples(), fd=False),
    OpInfo("maximum", ember.maximum, torch.maximum, binary_samples(scalars=())),
    OpInfo("minimum", ember.minimum, torch.minimum, binary_samples(scalars=())),
    OpInfo("conj", lambda x: ember.conj(x) * 1, lambda x: torch.conj(x) * 1,
           lambda rng: [Sample((arr(rng, (3,), "complex64"),), grad=False),
                        Sample((arr(rng, (3,)),))], covers=("conj",)),
    OpInfo("eq", ember.eq, torch.eq, cmp_samples, grad=False),
    OpInfo("ne", ember.ne, torch.ne, cmp_samples, grad=False),
    OpInfo("lt", ember.lt, torch.lt, cmp_samples, grad=False),
    OpInfo("le", ember.le, torch.le, cmp_samples, grad=False),
    OpInfo("gt", ember.gt, torch.gt, cmp_samples, grad=False),
    OpInfo("ge", ember.ge, torch.ge, cmp_samples, grad=False),
    OpInfo("where", ember.where, torch.where,
           lambda rng: [Sample((arr(rng, (3, 4), "bool"), arr(rng, (3, 4)), arr(rng, (3, 4)))),
                        Sample((arr(rng, (3, 1), "bool"), arr(rng, (4,)), arr(rng, (3, 4)))),
                        Sample((arr(rng, (3,), "bool"), arr(rng, (3,)), 0.0))]),
    OpInfo("bitwise", lambda a, b: (a & b, a | b, a ^ b, ~a),
           lambda a, b: (a & b, a | b, a ^ b, ~a),
           lambda rng: [Sample((arr(rng, (3, 4), "bool"), arr(rng, (3, 4), "bool")), grad=False),
                        Sample((arr(rng, (5,), "int64", 0, 9), arr(rng, (5,), "int64", 0, 9)),
                               grad=False)],
           covers=("bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not"), grad=False),
]


def raised(lib):
    """Run an expression with ``lib`` as torch or ember; the error's class and first line."""
    def f(expr):
        scope = {"lib": lib, "f": lib.tensor([1.0, 2.0]), "i": lib.tensor([1, 2]),
                 "b": lib.tensor([True, False]), "m": lib.ones(2, 3), "e": lib.ones(0)}
        try:
            eval(expr, scope)
        except Exception as err:  # noqa: BLE001 - the error itself is the result compared
            return type(err).__name__, str(err).splitlines()[0]
        return "no error"
    return f


ERROR_CASES = [
    "f & f", "i ^ f", "~f", "lib.abs(b)", "lib.frac(i)", "lib.hypot(i, i)", "lib.logaddexp(i, i)",
    "i << f", "f >> 1", "lib.round(i, decimals=1)", "lib.clamp(f)", "i.fmod(0)",
    "i.remainder(0)", "lib.lerp(f, f.double(), 0.5)", "lib.lerp(f, i, 0.5)",
    "lib.isclose(f, f.double())", "lib.addcdiv(i, i, i)", "lib.std(i)", "lib.var(i, 0)",
    "lib.mean(i)", "lib.nanmean(i)", "lib.amax(e)", "lib.amin(m, 0).sum() + lib.amin(e, 0)",
    "lib.logcumsumexp(i, 0)", "lib.bincount(f)", "lib.bincount(-i)", "lib.bincount(m.long())",
    "lib.histc(i)", "lib.topk(f, 3)", "lib.kthvalue(f, 3)", "lib.kthvalue(f, 0)",
    "lib.polygamma(-1, f)", "lib.sum(m, 2)", "lib.cumsum(m, 2)", "lib.sort(m, -3)",
"f.exp_().long().exp_()",
    "lib.float_power(f, 2) and f.float_power_(2)", "lib.median(e, 0)", "lib.mode(e, 0)",
    "lib.logical_and(f, f.double()) + lib.mul(b, b).sub(b)", "lib.sign(b).neg()",
]

ENTRIES += [
    OpInfo("errors", raised(ember), raised(torch),
           lambda rng: [Sample((expr,), grad=False, name=expr) for expr in ERROR_CASES],
           grad=False, covers=("abs",)),
    OpInfo("inplace_aliases",
           lambda a, b: tuple(getattr(a.clone(), n)(b) for n in
                              ("eq_", "ne_", "lt_", "le_", "gt_", "ge_", "greater_equal_",
                               "subtract_", "multiply_", "divide_", "true_divide_")),
           lambda a, b: tuple(getattr(a.clone(), n)(b) for n in
                              ("eq_", "ne_", "lt_", "le_", "gt_", "ge_", "greater_equal_",
                               "subtract_", "multiply_", "divide_", "true_divide_")),
           lambda rng: [Sample((arr(rng, (3, 4)), arr(rng, (4,))), grad=False)], grad=False,
           covers=("eq", "ne", "lt", "le", "gt", "ge")),
    OpInfo("sign_nan", ember.sign, torch.sign,
           lambda rng: [Sample((np.array([-0.0, np.nan, 2.0, -np.inf]),))], covers=("sign",),
           fd=False),
]


def silent(lib):
    """inf/nan results come without RuntimeWarnings, as in torch (the count is compared)."""
    def f(x):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", RuntimeWarning)
            ignore_fp_warnings()  # pytest shows every warning; restore Ember's filter
            out = (lib.log(x), x / 0, lib.sqrt(x), x ** -1, lib.reciprocal(x), lib.log2(x),
                   lib.asin(x), lib.acosh(x), lib.prod(x * 1e30), lib.cumprod(x * 1e30, 0),
                   lib.logaddexp(x, x), lib.fmod(x, 0.0))
        return out + (sum(issubclass(w.category, RuntimeWarning) for w in caught),)
    return f


ENTRIES += [
    OpInfo("silent_inf_nan", silent(ember), silent(torch),
           lambda rng: [Sample((np.array([0.0, -1.0, 2.0, np.inf, -np.inf, np.nan], "float32"),),
                               grad=False)], grad=False, covers=("log", "div", "sqrt")),
]


def _conj_parts(lib, conj):
    # |.| would hide the conjugation; view_as_real keeps both parts and is real.
    return lambda z: lib.view_as_real(conj(z)) if z.is_complex() else conj(z)


ENTRIES += [
    OpInfo("conj_physical", _conj_parts(ember, ember.conj_physical),
           _conj_parts(torch, torch.conj_physical),
           lambda rng: [Sample((arr(rng, (3,), "complex128"),)), Sample((arr(rng, (2, 3)),))],
           fd=False, gradgrad=False, covers=("conj_physical", "conj", "view_as_real")),
]
