"""Op-table entries: unary elementwise math (src/ember/_ops/unary.py)."""
import numpy as np
import torch

import ember
from ember._ops.registry import REGISTRY

from .harness import OpInfo, Sample, arr


def samples(low=-2.0, high=2.0, ints=True, empty=False):
    def make(rng):
        out = [Sample((arr(rng, (5,), low=low, high=high),)),
               Sample((arr(rng, (2, 3), "float64", low=low, high=high),)),
               Sample((arr(rng, (), low=low, high=high),))]
        if empty:
            out.append(Sample((arr(rng, (2, 0)),)))
        if ints:
            out.append(Sample((arr(rng, (4,), "int64", max(low, 1), max(high, 3)),), grad=False,
                              name="int64"))
        return out
    return make


def halves(rng):
    """Values away from the half-way points where rounding jumps."""
    base = rng.integers(-5, 5, size=6) + rng.uniform(0.1, 0.4, size=6) * rng.choice([-1, 1], 6)
    return base.astype("float32")


def _unary(name, low=-2.0, high=2.0, ints=True, **kw):
    return OpInfo(name, getattr(ember, name), getattr(torch, name), samples(low, high, ints), **kw)


def _rounding(name):
    return OpInfo(name, getattr(ember, name), getattr(torch, name),
                  lambda rng: [Sample((halves(rng),)), Sample((halves(rng).astype("float64"),)),
                               Sample((arr(rng, (4,), "int64", -5, 5),), grad=False)])


_METHOD_SAMPLES = [("exp2", 0), ("expm1", 0), ("log2", 1), ("log10", 1), ("log1p", 1), ("tan", 0),
                   ("asin", 2), ("acos", 2), ("atan", 0), ("sinh", 0), ("cosh", 0), ("asinh", 0),
                   ("acosh", 3), ("atanh", 2), ("deg2rad", 0), ("rad2deg", 0), ("erf", 0),
                   ("erfc", 0), ("erfinv", 2), ("lgamma", 1), ("digamma", 1), ("square", 0),
                   ("rsqrt", 1), ("reciprocal", 1), ("floor", 0), ("ceil", 0), ("trunc", 0),
                   ("frac", 0), ("sgn", 0), ("arcsin", 2), ("fix", 0), ("round", 0),
                   ("logit", 2), ("nan_to_num", 0)]
_RANGES = {0: (-2.0, 2.0), 1: (0.5, 3.0), 2: (0.05, 0.95), 3: (1.2, 3.0)}


def method_samples(rng):
    return [Sample((name, arr(rng, (4,), low=_RANGES[r][0], high=_RANGES[r][1])), grad=False,
                   name=name) for name, r in _METHOD_SAMPLES]


def methods(lib):
    """The method and in-place forms: x.f() and x.clone().f_() agree with ember.f(x)."""
    def f(name, x):
        y = x.clone()
        ret = getattr(y, name + "_")()
        assert ret is y
        return getattr(x, name)(), y
    return f


def complex_samples(rng):
    return [Sample((arr(rng, (4,), "complex64"),)), Sample((arr(rng, (2, 3), "complex128"),)),
            Sample((arr(rng, (3, 2), "complex128").T,), name="transposed")]


def special_values(lib):
    def f(x):
        return (lib.isnan(x), lib.isinf(x), lib.isfinite(x), lib.isposinf(x), lib.isneginf(x),
                lib.signbit(x), x.isnan(), x.signbit())
    return f


COMPLEX_OPS = ("exp2", "expm1", "log2", "log10", "log1p", "tan", "asin", "acos", "atan", "sinh",
               "cosh", "asinh", "acosh", "atanh", "square", "rsqrt", "reciprocal", "sgn")
HALF_OPS = ("exp2", "log1p", "tan", "atanh", "erf", "erfinv", "lgamma", "rsqrt", "floor", "frac",
            "sgn", "logit", "nan_to_num", "isposinf")
SPECIALS = np.array([0.0, -0.0, 1.5, -2.0, np.inf, -np.inf, np.nan], dtype="float32")

ENTRIES = [
    _unary("exp2"), _unary("expm1"),
    _unary("log2", 0.5, 3.0), _unary("log10", 0.5, 3.0), _unary("log1p", -0.5, 3.0),
    _unary("tan", -1.2, 1.2), _unary("asin", -0.9, 0.9, ints=False),
    _unary("acos", -0.9, 0.9, ints=False), _unary("atan"),
    _unary("sinh"), _unary("cosh"), _unary("asinh"), _unary("acosh", 1.2, 3.0),
    _unary("atanh", -0.9, 0.9, ints=False), _unary("deg2rad"), _unary("rad2deg"),
    _unary("erf"), _unary("erfc"), _unary("erfinv", -0.9, 0.9, ints=False),
    _unary("lgamma", 0.3, 4.0), _unary("digamma", 0.3, 4.0),
    OpInfo("polygamma", lambda x: ember.polygamma(2, x), lambda x: torch.polygamma(2, x),
           samples(0.5, 4.0, ints=False), atol=1e-4, rtol=1e-4),
    _unary("square"), _unary("rsqrt", 0.5, 3.0), _unary("reciprocal", 0.5, 3.0),
    _rounding("floor"), _rounding("ceil"), _rounding("trunc"), _rounding("round"),
    OpInfo("round_decimals", lambda x: ember.round(x, decimals=1),
           lambda x: torch.round(x, decimals=1),
           lambda rng: [Sample((np.array([0.123, 1.449, -2.251, 3.3], "float64"),))],
           covers=("round",)),
    OpInfo("frac", ember.frac, torch.frac, lambda rng: [Sample((halves(rng),))]),
    OpInfo("sgn", ember.sgn, torch.sgn, samples()),
    OpInfo("sgn_complex", ember.sgn, torch.sgn,
           lambda rng: [Sample((arr(rng, (4,), "complex64"),), grad=False)], covers=("sgn",)),
    _unary("logit", 0.05, 0.95, ints=False),
    OpInfo("logit_eps", lambda x: ember.logit(x, eps=0.2), lambda x: torch.logit(x, eps=0.2),
           lambda rng: [Sample((np.array([0.1, 0.3, 0.5, 0.7, 0.95]),))], covers=("logit",)),
    OpInfo("nan_to_num", ember.nan_to_num, torch.nan_to_num,
           lambda rng: [Sample((SPECIALS.copy(),)), Sample((SPECIALS.astype("float64"), 1.0, 9.0,
                                                            -9.0)),
                        Sample((arr(rng, (3,), "int64", 0, 5),), grad=False)], fd=False),
    OpInfo("classify", special_values(ember), special_values(torch),
           lambda rng: [Sample((SPECIALS.copy(),)), Sample((arr(rng, (3,), "int64", -3, 3),))],
           covers=("isnan", "isinf", "isfinite", "isposinf", "isneginf", "signbit"), grad=False),
    # Complex inputs: |f(z)| is real, so both libraries differentiate it with their complex
    # conventions (finite differences would see only the real direction, and the harness's
    # second-derivative weights are real).
    OpInfo("complex_grads", lambda name, z: ember.abs(getattr(ember, name)(z)),
           lambda name, z: torch.abs(getattr(torch, name)(z)),
           lambda rng: [Sample((name, arr(rng, (3,), "complex128", -0.8, 0.8)), name=name)
                        for name in COMPLEX_OPS], fd=False, gradgrad=False, covers=COMPLEX_OPS),
    OpInfo("half_precision", lambda name, dt, x: getattr(ember, name)(x.to(getattr(ember, dt))),
           lambda name, dt, x: getattr(torch, name)(x.to(getattr(torch, dt))),
           lambda rng: [Sample((name, dt, np.concatenate([arr(rng, (4,), low=0.1, high=0.9),
                                                          SPECIALS])), grad=False,
                               name=f"{name}-{dt}")
                        for name in HALF_OPS for dt in ("float16", "bfloat16")],
           grad=False, atol=1e-2, rtol=1e-2, covers=HALF_OPS),
    # Complex parts.  Complex leaves: no finite differences (they perturb only the real
    # direction) and no second derivatives (the harness's weights are real).
    OpInfo("real", lambda z: z.real, lambda z: z.real, complex_samples, fd=False, gradgrad=False),
    OpInfo("imag", lambda z: z.imag, lambda z: z.imag, complex_samples, fd=False,
           gradgrad=False),
    OpInfo("view_as_real", ember.view_as_real, torch.view_as_real, complex_samples, fd=False,
           gradgrad=False),
    OpInfo("view_as_complex", lambda x: ember.view_as_complex(x).abs(),
           lambda x: torch.view_as_complex(x).abs(),
           lambda rng: [Sample((arr(rng, (3, 2)),)), Sample((arr(rng, (2, 2, 2), "float64"),))],
           covers=("view_as_complex", "abs")),
    OpInfo("angle", ember.angle, torch.angle,
           lambda rng: [Sample((np.array([1.5, -2.0, 0.7, -0.5], "float32"),)),
                        Sample((np.array([0.0, -0.0, np.nan, -np.inf], "float64"),), grad=False),
                        Sample((arr(rng, (4,), "int64", -3, 3),), grad=False)]),
    OpInfo("angle_complex", ember.angle, torch.angle, complex_samples, fd=False, gradgrad=False,
           covers=("angle",)),
    OpInfo("unary_methods", methods(ember), methods(torch), method_samples, grad=False,
           covers=tuple(n for n, _ in _METHOD_SAMPLES if n in REGISTRY)),
]
