"""Op-table entries: scans along a dim (src/ember/_ops/scan.py)."""
import numpy as np
import torch

import ember

from .harness import OpInfo, Sample, arr


def tuple_of(fn):
    def f(*args, **kwargs):
        return tuple(fn(*args, **kwargs))
    return f


def scan_samples(low=-2.0, high=2.0, ints=True):
    def make(rng):
        out = [Sample((arr(rng, (3, 4), low=low, high=high), 1)),
               Sample((arr(rng, (2, 3, 4), low=low, high=high), 0)),
               Sample((arr(rng, (5,), "float64", low=low, high=high), -1)),
               Sample((arr(rng, (), low=low, high=high), 0))]
        if ints:
            out += [Sample((arr(rng, (2, 3), "int32", -3, 4), 1), grad=False),
                    Sample((arr(rng, (4,), "bool"), 0), grad=False)]
        return out
    return make


def zeros(rng):
    x = arr(rng, (3, 4), "float64")
    x[0, 1] = 0.0
    x[2, 0] = x[2, 2] = 0.0
    return [Sample((x, 1)), Sample((x, 0))]


def ties(rng):
    x = rng.integers(0, 3, size=(3, 5)).astype("float32")
    x[1, 2] = np.nan
    return [Sample((x, 1), grad=False), Sample((x, 0), grad=False),
            Sample((arr(rng, (3, 4), "int64", 0, 3), 1), grad=False),
            Sample((arr(rng, (0, 3)), 0), grad=False, name="empty")]


def forms(lib):
    def f(x):
        y = x.clone()
        assert y.cumsum_(1) is y
        z = x.clone()
        assert z.cumprod_(0) is z
        return (x.cumsum(1), lib.cumsum(x, 0, dtype=lib.float64), x.cumprod(-1),
                lib.cumprod(x.int(), 1, dtype=lib.int32), tuple(x.cummax(0)), tuple(x.cummin(1)),
                x.logcumsumexp(0), y, z)
    return f


ENTRIES = [
    OpInfo("cumsum", ember.cumsum, torch.cumsum, scan_samples()),
    OpInfo("cumprod", ember.cumprod, torch.cumprod, scan_samples(0.5, 1.5)),
    OpInfo("cumprod_zeros", ember.cumprod, torch.cumprod, zeros, covers=("cumprod",)),
    OpInfo("cummax", tuple_of(ember.cummax), tuple_of(torch.cummax), scan_samples(),
           output_index=0),
    OpInfo("cummin", tuple_of(ember.cummin), tuple_of(torch.cummin), scan_samples(),
           output_index=0),
    OpInfo("cummax_ties", lambda *a: (tuple(ember.cummax(*a)), tuple(ember.cummin(*a))),
           lambda *a: (tuple(torch.cummax(*a)), tuple(torch.cummin(*a))), ties, grad=False,
           covers=("cummax", "cummin")),
    OpInfo("logcumsumexp", ember.logcumsumexp, torch.logcumsumexp,
           lambda rng: scan_samples(ints=False)(rng) + [
               Sample((np.array([800.0, -800.0, 799.0, 1.0]), 0))]),
    OpInfo("scan_forms", forms(ember), forms(torch),
           lambda rng: [Sample((arr(rng, (3, 4)),), grad=False)], grad=False,
           covers=("cumsum", "cumprod", "cummax", "cummin", "logcumsumexp")),
]
