"""Op-table entries: reductions."""
import numpy as np
import torch

import ember

from .harness import OpInfo, Sample, arr


def reduce_samples(rng, ints=True):
    out = [Sample((arr(rng, (3, 4)),)), Sample((arr(rng, (3, 4)), 1)),
           Sample((arr(rng, (2, 3, 4)), (0, 2))), Sample((arr(rng, (2, 3, 4)), -1, True)),
           Sample((arr(rng, ()),)), Sample((arr(rng, (2, 3), "float64"), 0))]
    if ints:
        out.append(Sample((arr(rng, (2, 3), "int32", 0, 5), 1), grad=False))
        out.append(Sample((arr(rng, (2, 3), "bool"),), grad=False))
    return out


def distinct(rng, shape):
    """Values with no ties, so max/min gradients are unambiguous."""
    import numpy as np
    n = int(np.prod(shape))
    return (rng.permutation(n).astype("float32") / n - 0.5).reshape(shape)


ENTRIES = [
    OpInfo("sum", ember.sum, torch.sum, reduce_samples, covers=("sum",)),
    OpInfo("mean", ember.mean, torch.mean, lambda rng: reduce_samples(rng, ints=False),
           covers=("mean",)),
    OpInfo("max", ember.max, torch.max,
           lambda rng: [Sample((distinct(rng, (3, 4)),)), Sample((distinct(rng, (5,)),))]),
    OpInfo("min", ember.min, torch.min,
           lambda rng: [Sample((distinct(rng, (3, 4)),)), Sample((distinct(rng, (5,)),))]),
    OpInfo("max_dim", lambda *a: tuple(ember.max(*a)), lambda *a: tuple(torch.max(*a)),
           lambda rng: [Sample((distinct(rng, (3, 4)), 1)), Sample((distinct(rng, (3, 4)), 0, True)),
                        Sample((distinct(rng, (2, 3, 4)), -1))], output_index=None, grad=False),
    OpInfo("max_dim_values", lambda *a: ember.max(*a).values, lambda *a: torch.max(*a).values,
           lambda rng: [Sample((distinct(rng, (3, 4)), 1)), Sample((distinct(rng, (3, 4)), 0, True))],
           covers=("max_dim",)),
    OpInfo("min_dim", lambda *a: ember.min(*a).values, lambda *a: torch.min(*a).values,
           lambda rng: [Sample((distinct(rng, (3, 4)), 1)), Sample((distinct(rng, (3, 4)), 0, True))]),
    OpInfo("argmax", ember.argmax, torch.argmax,
           lambda rng: [Sample((distinct(rng, (3, 4)),), grad=False),
                        Sample((distinct(rng, (3, 4)), 1), grad=False),
                        Sample((distinct(rng, (3, 4)), 0, True), grad=False)], grad=False),
    OpInfo("argmin", ember.argmin, torch.argmin,
           lambda rng: [Sample((distinct(rng, (3, 4)),), grad=False),
                        Sample((distinct(rng, (3, 4)), 1), grad=False)], grad=False),
    OpInfo("norm", ember.norm, torch.norm,
           lambda rng: [Sample((arr(rng, (3, 4)),)), Sample((arr(rng, (3, 4)), 2, 1)),
                        Sample((arr(rng, (3, 4)), 1, 0)), Sample((arr(rng, (3, 4)), 3, 1, True)),
                        Sample((distinct(rng, (3, 4)), float("inf"))),
                        Sample((arr(rng, (2, 3), "float64"), "fro", (0, 1)))]),
]


def with_zeros(rng):
    one = arr(rng, (3, 4), low=0.5, high=1.5)
    one[1, 2] = 0.0
    two = arr(rng, (2, 3), low=0.5, high=1.5)
    two[0, :2] = 0.0
    return [Sample((one,)), Sample((one, 1)), Sample((two, 1, True))]


def prod_samples(rng):
    return [Sample((arr(rng, (3, 4), low=0.5, high=1.5),)), Sample((arr(rng, (3, 4)), 1)),
            Sample((arr(rng, (2, 3, 2), "float64"), -1, True)), Sample((arr(rng, ()),)),
            Sample((arr(rng, (2, 3), "int32", -3, 4), 0), grad=False),
            Sample((arr(rng, (4,), "bool"),), grad=False)]


def var_samples(rng):
    x = arr(rng, (3, 4))
    return [Sample((x,)), Sample((x, 1)), Sample((x, (0, 1), False, True)),
            Sample((arr(rng, (2, 3, 4), "float64"), 0), {"correction": 0, "keepdim": True}),
            Sample((x, False)), Sample((x,), {"dim": -1, "correction": 2})]


def nan_samples(rng):
    x = arr(rng, (3, 4))
    x[0, 1] = x[2, 3] = np.nan
    return [Sample((x,)), Sample((x, 1)), Sample((x, (0, 1), True)),
            Sample((arr(rng, (2, 3), "int64", 0, 5), 0), grad=False)]


def ties(rng):
    x = arr(rng, (3, 4))
    x[0, 1] = x[0, 3] = x.max() + 1
    x[2, 0] = x[1, 0] = x.min() - 1
    return [Sample((x,)), Sample((x, 1)), Sample((x, (0, 1), True)), Sample((x, 0)),
            Sample((arr(rng, (4, 3), "int64", 0, 9), -1), grad=False)]


def logical_samples(rng):
    b = arr(rng, (3, 4), "bool")
    b[0] = True
    return [Sample((b,)), Sample((b, 1)), Sample((b, (0, 1), True)),
            Sample((arr(rng, (3, 4), "int64", 0, 2), 0)),
            Sample((arr(rng, (3,), "uint8", 0, 3),)), Sample((np.array([0.0, 1.5, np.nan]),))]


def stats_forms(lib):
    def f(x):
        return (lib.var_mean(x), lib.var_mean(x, 1, keepdim=True), lib.std_mean(x, 0),
                lib.std_mean(x, dim=1, unbiased=False), x.var(1), x.std(0, keepdim=True),
                x.prod(1, keepdim=True), x.amax(0), x.amin((0, 1)), x.logsumexp(1),
                x.nansum(), x.count_nonzero(0), lib.aminmax(x), lib.aminmax(x, dim=1))
    return f


ENTRIES += [
    OpInfo("prod", ember.prod, torch.prod, prod_samples),
    OpInfo("prod_zeros", ember.prod, torch.prod, with_zeros, covers=("prod",)),
    OpInfo("var", ember.var, torch.var, var_samples),
    OpInfo("std", ember.std, torch.std, var_samples),
    OpInfo("nansum", ember.nansum, torch.nansum, nan_samples, fd=False),
    OpInfo("nanmean", ember.nanmean, torch.nanmean, lambda rng: nan_samples(rng)[:3], fd=False,
           covers=("nansum", "sum", "div")),
    OpInfo("amax", ember.amax, torch.amax, ties, fd=False),
    OpInfo("amin", ember.amin, torch.amin, ties, fd=False),
    OpInfo("logsumexp", ember.logsumexp, torch.logsumexp,
           lambda rng: [Sample((arr(rng, (3, 4)), 1)), Sample((arr(rng, (2, 3, 4)), (0, 2), True)),
                        Sample((np.array([[800.0, 799.0], [-np.inf, -np.inf]]), 1), grad=False),
                        Sample((arr(rng, (3,), "int64", 0, 4), 0), grad=False),
                        Sample((arr(rng, (2, 3), "float64"), -1))]),
    OpInfo("all", ember.all, torch.all, logical_samples, grad=False),
    OpInfo("any", ember.any, torch.any, logical_samples, grad=False),
    OpInfo("count_nonzero", ember.count_nonzero, torch.count_nonzero,
           lambda rng: [Sample((arr(rng, (3, 4), "int64", 0, 2),)),
                        Sample((arr(rng, (3, 4), "int64", 0, 2), 1)),
                        Sample((arr(rng, (2, 3, 4), "bool"), (0, 2)))], grad=False),
    OpInfo("reduction_forms", stats_forms(ember), stats_forms(torch),
           lambda rng: [Sample((arr(rng, (3, 4)),), grad=False)], grad=False,
           covers=("var", "std", "mean", "prod", "amax", "amin", "logsumexp", "nansum",
                   "count_nonzero")),
]


def out_forms(lib):
    """out= writes into (and returns) the given tensors, tuples for (values, indices)."""
    def f(x):
        got = []
        for fn, args in ((lib.sum, (1,)), (lib.mean, (0,)), (lib.prod, (1,)), (lib.amax, (0,)),
                         (lib.logsumexp, (1,)), (lib.var, (1,)), (lib.std, ()),
                         (lib.nansum, ()), (lib.cumsum, (0,)), (lib.cumprod, (1,)),
                         (lib.logcumsumexp, (1,)), (lib.msort, ())):
            o = lib.empty(0)
            assert fn(x, *args, out=o) is o
            got.append(o)
        for fn, args in ((lib.max, (1,)), (lib.sort, (0,)), (lib.topk, (2,)),
                         (lib.kthvalue, (1,)), (lib.median, (0,)), (lib.mode, (1,)),
                         (lib.cummax, (1,))):
            v, i = lib.empty(0), lib.empty(0, dtype=lib.int64)
            r = fn(x, *args, out=(v, i))
            assert r.values is v and r.indices is i
            got += [v, i]
        b = lib.empty(0, dtype=lib.bool)
        assert lib.all(x > 0, 1, out=b) is b
        return tuple(got) + (b,)
    return f


ENTRIES += [
    OpInfo("out", out_forms(ember), out_forms(torch),
           lambda rng: [Sample((distinct(rng, (3, 4)),), grad=False)], grad=False,
           covers=("sum", "mean", "prod", "amax", "logsumexp", "var", "std", "nansum",
                   "max_dim", "all")),
]
