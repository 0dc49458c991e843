"""Op-table entries: sorting and selection (src/ember/_ops/sorting.py)."""
import numpy as np
import torch

import ember

from ember._ops.sorting import gather_along_dim

from .harness import OpInfo, Sample, arr


def distinct(rng, shape, dtype="float32"):
    """No ties, so the selected index (and the gradient) is unambiguous."""
    n = int(np.prod(shape))
    return (rng.permutation(n) / max(n, 1) - 0.5).astype(dtype).reshape(shape)


def with_ties(rng, shape):
    return rng.integers(0, 3, size=shape).astype("float32")


def tuple_of(fn):
    def f(*args, **kwargs):
        return tuple(fn(*args, **kwargs))
    return f


def values_of(fn):
    def f(*args, **kwargs):
        return fn(*args, **kwargs).values
    return f


def sort_samples(rng):
    return [Sample((distinct(rng, (3, 4)),)), Sample((distinct(rng, (3, 4)), 0)),
            Sample((distinct(rng, (2, 3, 4)), 1, True)),
            Sample((distinct(rng, (5,), "float64"),), {"descending": True}),
            Sample((distinct(rng, ()),)),
            Sample((rng.permutation(100)[:6],), grad=False)]


def stable_samples(rng):
    x = with_ties(rng, (3, 5))
    x[0, 1] = np.nan
    return [Sample((x,), {"stable": True}, grad=False),
            Sample((x,), {"stable": True, "descending": True}, grad=False),
            Sample((with_ties(rng, (6,)),), {"dim": 0, "stable": True, "descending": True},
                   grad=False),
            Sample((arr(rng, (6,), "bool"),), {"stable": True}, grad=False)]


def topk_samples(rng):
    return [Sample((distinct(rng, (3, 5)), 2)), Sample((distinct(rng, (3, 5)), 3, 0)),
            Sample((distinct(rng, (2, 3, 4)), 1, -1, False)),
            Sample((distinct(rng, (6,), "float64"), 6), {"largest": False}),
            Sample((rng.permutation(100)[:6], 2), grad=False)]


def kth_samples(rng):
    return [Sample((distinct(rng, (3, 5)), 2)), Sample((distinct(rng, (3, 5)), 3, 0)),
            Sample((distinct(rng, (2, 3, 4)), 1, -1, True)),
            Sample((distinct(rng, (6,), "float64"), 6)),
            Sample((rng.permutation(100)[:6], 2), grad=False)]


def median_dim_samples(rng):
    nan = distinct(rng, (3, 5))
    nan[1, 2] = np.nan
    return [Sample((distinct(rng, (3, 5)), 1)), Sample((distinct(rng, (4, 3)), 0, True)),
            Sample((distinct(rng, (2, 3, 4), "float64"), -1)),
            Sample((nan, 1), grad=False), Sample((rng.permutation(100)[:12].reshape(3, 4), 1),
                                                 grad=False)]


def median_samples(rng):
    nan = distinct(rng, (3, 5))
    nan[1, 2] = np.nan
    return [Sample((distinct(rng, (3, 5)),)), Sample((distinct(rng, (4,), "float64"),)),
            Sample((distinct(rng, ()),)), Sample((nan,), grad=False),
            Sample((rng.permutation(100)[:12].reshape(3, 4),), grad=False)]


def nanmedian_samples(rng):
    x = distinct(rng, (3, 5))
    x[1, 2] = x[0, 0] = np.nan
    return [Sample((x,)), Sample((x, 1)), Sample((x, 0, True)),
            Sample((np.full((2, 2), np.nan, "float32"), 1), grad=False)]


def mode_samples(rng):
    return [Sample((with_ties(rng, (3, 6)),)), Sample((with_ties(rng, (6, 3)), 0, True)),
            Sample((with_ties(rng, (2, 3, 5)).astype("float64"), -1)),
            Sample((rng.integers(0, 3, size=(4, 5)),), grad=False)]


def counting(lib):
    def f(x, w):
        return (lib.unique(x), lib.unique(x, return_inverse=True),
                lib.unique(x, sorted=True, return_inverse=True, return_counts=True),
                x.unique(return_counts=True), lib.unique(x.reshape(-1, 2), dim=0,
                                                         return_inverse=True, return_counts=True),
                lib.bincount(x), lib.bincount(x, minlength=12), lib.bincount(x, weights=w),
                x.bincount(w.double()), lib.histc(w), lib.histc(w, bins=4, min=-1, max=0.5),
                w.double().histc(3), lib.argsort(w), lib.argsort(w, descending=True),
                w.argsort(0), lib.msort(w.reshape(2, -1)), tuple(w.sort(descending=True)),
                tuple(w.topk(2)), tuple(w.kthvalue(1)), w.median(), tuple(w.median(0)),
                w.nanmedian(), tuple(x.mode()), x.msort(), lib.unique_consecutive(x),
                lib.unique_consecutive(x, return_inverse=True, return_counts=True),
                x.reshape(-1, 2).unique_consecutive(dim=0, return_inverse=True,
                                                    return_counts=True),
                lib.unique_consecutive(x.reshape(2, -1), return_inverse=True))
    return f


ENTRIES = [
    OpInfo("sort", tuple_of(ember.sort), tuple_of(torch.sort), sort_samples, output_index=0),
    OpInfo("sort_stable", lambda *a, **k: tuple(ember.sort(*a, **k)),
           lambda *a, **k: tuple(torch.sort(*a, **k)), stable_samples, grad=False,
           covers=("sort",)),
    OpInfo("topk", tuple_of(ember.topk), tuple_of(torch.topk), topk_samples, output_index=0),
    OpInfo("kthvalue", tuple_of(ember.kthvalue), tuple_of(torch.kthvalue), kth_samples,
           output_index=0),
    OpInfo("median", ember.median, torch.median, median_samples),
    OpInfo("median_ties", ember.median, torch.median,
           lambda rng: [Sample((np.array([3.0, 3.0, 1.0, 1.0]),)),
                        Sample((with_ties(rng, (3, 4)),))],
           fd=False, covers=("median",)),
    OpInfo("median_dim", tuple_of(ember.median), tuple_of(torch.median), median_dim_samples,
           output_index=0),
    OpInfo("nanmedian", ember.nanmedian, torch.nanmedian,
           lambda rng: [s for s in nanmedian_samples(rng) if len(s.args) == 1], covers=("median",)),
    OpInfo("nanmedian_dim", tuple_of(ember.nanmedian), tuple_of(torch.nanmedian),
           lambda rng: [s for s in nanmedian_samples(rng) if len(s.args) > 1], output_index=0,
           covers=("median_dim",)),
    # Ties are what mode is about, and a perturbation changes the winner: no finite differences.
    OpInfo("mode", tuple_of(ember.mode), tuple_of(torch.mode), mode_samples, output_index=0,
           fd=False),
    OpInfo("counting", counting(ember), counting(torch),
           lambda rng: [Sample((arr(rng, (8,), "int64", 0, 6), arr(rng, (8,))), grad=False),
                        Sample((np.array([3, 3, 3, 0, 1, 1]), np.array([0.5, -1, 2, 0, 1, 1],
                                                                      "float32")),
                               grad=False)],
           grad=False, covers=("sort",)),
    OpInfo("gather_along_dim",
           lambda x, i: gather_along_dim(x, i, 1),
           lambda x, i: torch.gather(x, 1, i),
           lambda rng: [Sample((arr(rng, (3, 4)), arr(rng, (3, 2), "int64", 0, 4))),
                        Sample((arr(rng, (2, 3), "float64"), arr(rng, (2, 5), "int64", 0, 3)))],
           covers=("gather_along_dim", "scatter_add_along_dim")),
]
