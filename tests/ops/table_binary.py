"""Op-table entries: binary elementwise math, clamp, logical ops, shifts, closeness
(src/ember/_ops/binary.py)."""
import numpy as np
import torch

import ember

from .harness import OpInfo, Sample, arr, positive


def pairs(low=-2.0, high=2.0, low2=None, high2=None, scalar=False, ints=True):
    low2 = low if low2 is None else low2
    high2 = high if high2 is None else high2

    def make(rng):
        out = [Sample((arr(rng, (3, 4), low=low, high=high),
                       arr(rng, (3, 4), low=low2, high=high2))),
               Sample((arr(rng, (2, 1, 3), low=low, high=high),
                       arr(rng, (3,), "float64", low=low2, high=high2))),
               Sample((arr(rng, (), low=low, high=high), arr(rng, (2,), low=low2, high=high2)))]
        if scalar:
            out.append(Sample((arr(rng, (3,), low=low, high=high), 1.5 if low2 > 0 else -1.5)))
        if ints:
            out.append(Sample((arr(rng, (4,), "int64", 1, 5), arr(rng, (4,), "int32", 1, 5)),
                              grad=False, name="ints"))
        return out
    return make


def _binary(name, **kw):
    opts = {k: kw.pop(k) for k in list(kw) if k in ("low", "high", "low2", "high2", "scalar",
                                                    "ints")}
    return OpInfo(name, getattr(ember, name), getattr(torch, name), pairs(**opts), **kw)


def ties(rng):
    a = arr(rng, (6,))
    b = arr(rng, (6,))
    b[::2] = a[::2]
    a[1] = np.nan
    b[3] = np.nan
    return [Sample((a, b)), Sample((arr(rng, (3, 1)), arr(rng, (4,), "float64"))),
            Sample((arr(rng, (4,), "int64", 0, 5), arr(rng, (4,), "int64", 0, 5)), grad=False)]


def clamp_samples(rng):
    x = arr(rng, (3, 4), low=-3, high=3)
    return [Sample((x, -1.0, 1.0)), Sample((x, None, 0.5)), Sample((x, -0.5)),
            Sample((x, arr(rng, (4,), low=-2, high=-0.5), arr(rng, (3, 1), low=0.5, high=2))),
            Sample((x, None, arr(rng, (3, 4)))),
            Sample((arr(rng, (5,), "int64", -5, 5), -2, 2), grad=False),
            Sample((arr(rng, (5,), "int64", -5, 5), 0.5), grad=False)]


def logical_samples(rng):
    return [Sample((arr(rng, (3, 4), "bool"), arr(rng, (3, 4), "bool"))),
            Sample((arr(rng, (3, 1), "int64", 0, 2), arr(rng, (4,), "float32", -1, 1))),
            Sample((np.array([0.0, 1.5, -0.0, 2.0]), np.array([1, 0, 0, 3])))]


def logical(lib):
    def f(a, b):
        return (lib.logical_and(a, b), lib.logical_or(a, b), lib.logical_xor(a, b),
                lib.logical_not(a), a.logical_and(b), a.logical_not())
    return f


def shifts(lib):
    def f(a, b):
        return (a << b, a >> b, a << 2, 3 >> b, lib.bitwise_left_shift(a, b),
                a.clone().__ilshift__(b))
    return f


def closeness(lib):
    def f(a, b):
        return (lib.isclose(a, b), lib.isclose(a, b, rtol=0.1, atol=0.01),
                lib.isclose(a, b, equal_nan=True), lib.allclose(a, b), lib.allclose(a, a),
                lib.equal(a, b), lib.equal(a, a.clone()), a.isclose(b))
    return f


def near(rng):
    a = arr(rng, (6,))
    b = a.copy()
    b[1] += 1e-7
    b[2] += 0.05
    b[3] = a[3] = np.nan
    return [Sample((a, b)), Sample((arr(rng, (4,), "int64", 0, 3), arr(rng, (4,), "int64", 0, 3)))]


def lerp_samples(rng):
    return [Sample((arr(rng, (3, 4)), arr(rng, (3, 4)), 0.3)),
            Sample((arr(rng, (3, 4)), arr(rng, (4,)), arr(rng, (3, 1)))),
            Sample((arr(rng, (2, 3), "float64"), arr(rng, (2, 3), "float64"),
                    arr(rng, (3,), "float64")))]


def inplace(name):
    def f(x, *args, **kwargs):
        y = x.clone()
        assert getattr(y, name + "_")(*args, **kwargs) is y
        return y
    return f


def inplace_forms(a, b):
    """The same calls on either library: they differ only in the tensors passed."""
    return (inplace("atan2")(a, b), inplace("hypot")(a, b), inplace("copysign")(a, b),
            inplace("xlogy")(a, b), inplace("lerp")(a, b, 0.25), inplace("lerp")(a, b, b),
            inplace("addcmul")(a, a, b, value=2), inplace("addcdiv")(a, a, b),
            a.atan2(b), a.hypot(b), a.fmax(b), a.fmin(b), a.logaddexp(b), a.logaddexp2(b),
            a.copysign(b), a.xlogy(b), a.float_power(b), a.lerp(b, 0.5), a.logical_and(b),
            a.isclose(b), a.arctan2(b))


ENTRIES = [
    _binary("atan2"),
    OpInfo("atan2_origin", ember.atan2, torch.atan2,
           lambda rng: [Sample((np.array([0.0, 1.0]), np.array([0.0, -1.0])))], fd=False,
           gradgrad=False, covers=("atan2",)),
    _binary("hypot", ints=False, low=0.5, high=2.0),
    _binary("copysign", scalar=True),
    OpInfo("fmax", ember.fmax, torch.fmax, ties, fd=False, gradgrad=False),
    OpInfo("fmin", ember.fmin, torch.fmin, ties, fd=False, gradgrad=False),
    _binary("logaddexp", ints=False),
    OpInfo("logaddexp_extreme", ember.logaddexp, torch.logaddexp,
           lambda rng: [Sample((np.array([800.0, -800.0, 1.0]), np.array([799.0, -801.0, 1e-3])))],
           covers=("logaddexp",)),
    _binary("logaddexp2", ints=False),
    OpInfo("xlogy", ember.xlogy, torch.xlogy,
           lambda rng: pairs(low2=0.5, high2=3.0)(rng) + [
               Sample((np.array([0.0, 1.0, 0.0]), np.array([0.0, 2.0, 3.0])), grad=False),
               Sample((arr(rng, (3,)), 2.0)), Sample((3.0, positive(rng, (3,))))]),
    OpInfo("float_power", ember.float_power, torch.float_power,
           lambda rng: [Sample((positive(rng, (3,)), 2.5)), Sample((positive(rng, (3,)),
                                                                    arr(rng, (3,)))),
                        Sample((arr(rng, (4,), "int64", 1, 4), 2), grad=False)],
           covers=("pow",)),
    OpInfo("lerp", ember.lerp, torch.lerp, lambda rng: lerp_samples(rng)[:1]),
    OpInfo("lerp_tensor", ember.lerp, torch.lerp, lambda rng: lerp_samples(rng)[1:],
           covers=("lerp",)),
    OpInfo("addcmul", lambda a, b, c, **k: ember.addcmul(a, b, c, **k),
           lambda a, b, c, **k: torch.addcmul(a, b, c, **k),
           lambda rng: [Sample((arr(rng, (3, 4)), arr(rng, (3, 4)), arr(rng, (4,)))),
                        Sample((arr(rng, (3,)), arr(rng, (3,)), arr(rng, (3,))), {"value": 0.5}),
                        Sample((arr(rng, (3,), "int64", 0, 4), arr(rng, (3,), "int64", 0, 4),
                                arr(rng, (3,), "int64", 0, 4)), {"value": 2}, grad=False)]),
    OpInfo("addcdiv", lambda a, b, c, **k: ember.addcdiv(a, b, c, **k),
           lambda a, b, c, **k: torch.addcdiv(a, b, c, **k),
           lambda rng: [Sample((arr(rng, (3, 4)), arr(rng, (3, 4)), positive(rng, (4,)))),
                        Sample((arr(rng, (3,)), arr(rng, (3,)), positive(rng, (3,))),
                               {"value": -2})]),
    # |addcmul| and |addcdiv| are real: both libraries differentiate the complex op alike.
    OpInfo("addcmul_complex", lambda a, b, c, **k: ember.addcmul(a, b, c, **k).abs(),
           lambda a, b, c, **k: torch.addcmul(a, b, c, **k).abs(),
           lambda rng: [Sample((arr(rng, (2, 3), "complex128"), arr(rng, (3,), "complex128"),
                                arr(rng, (2, 3), "complex128")), {"value": 1.5})],
           fd=False, gradgrad=False, covers=("addcmul",)),
    OpInfo("addcdiv_complex", lambda a, b, c, **k: ember.addcdiv(a, b, c, **k).abs(),
           lambda a, b, c, **k: torch.addcdiv(a, b, c, **k).abs(),
           lambda rng: [Sample((arr(rng, (2, 3), "complex128"), arr(rng, (3,), "complex128"),
                                arr(rng, (2, 3), "complex128", 0.5, 2)), {"value": 0.5})],
           fd=False, gradgrad=False, covers=("addcdiv",)),
    OpInfo("clamp", ember.clamp, torch.clamp, clamp_samples),
    OpInfo("clamp_tensor", ember.clamp, torch.clamp,
           lambda rng: clamp_samples(rng)[3:5] + [
               Sample((np.array([0.0, 1.0, 2.0, 5.0]), np.array([0.0, 1.0, 3.0, 6.0]),
                       np.array([0.0, 1.0, 1.0, 4.0])), name="min>max")], fd=False,
           covers=("clamp",)),
    OpInfo("clamp_forms", lambda x: (ember.clip(x, max=0.5), x.clamp(-1, 1), x.clamp_min(0.2),
                                     x.clamp_max(0.2), inplace("clamp")(x, -0.5, 0.5),
                                     inplace("clip")(x, min=0.1)),
           lambda x: (torch.clip(x, max=0.5), x.clamp(-1, 1), x.clamp_min(0.2), x.clamp_max(0.2),
                      inplace("clamp")(x, -0.5, 0.5), inplace("clip")(x, min=0.1)),
           lambda rng: [Sample((arr(rng, (5,)),), grad=False)], grad=False, covers=("clamp",)),
    OpInfo("logical", logical(ember), logical(torch), logical_samples, grad=False,
           covers=("logical_and", "logical_or", "logical_xor", "logical_not")),
    OpInfo("shifts", shifts(ember), shifts(torch),
           lambda rng: [Sample((arr(rng, (5,), "int64", -8, 8), arr(rng, (5,), "int64", 0, 4))),
                        Sample((arr(rng, (5,), "int32", 0, 8), arr(rng, (5,), "int64", 0, 4)))],
           grad=False, covers=("bitwise_left_shift", "bitwise_right_shift")),
    OpInfo("isclose", closeness(ember), closeness(torch), near, grad=False),
    OpInfo("binary_inplace", inplace_forms, inplace_forms,
           lambda rng: [Sample((arr(rng, (4,)), positive(rng, (4,))))], grad=False,
           covers=("atan2", "hypot", "copysign", "xlogy", "lerp")),
    OpInfo("positive", lambda x: ember.positive(x) * 1, lambda x: torch.positive(x) * 1,
           lambda rng: [Sample((arr(rng, (3,)),))], covers=("mul",)),
]

ENTRIES += [
    # Each element moves one ulp, so values compare exactly; float16 shows the step.
    _binary("nextafter", ints=False),
    OpInfo("nextafter_half", ember.nextafter, torch.nextafter,
           lambda rng: [Sample((arr(rng, (4,), "float16"), arr(rng, (4,), "float16")),
                               grad=False)], grad=False, covers=("nextafter",)),
]
