"""Op-table entries: reductions."""
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
    OpInfo("sum", ember.sum, torch.sum, reduce_samples),
    OpInfo("mean", ember.mean, torch.mean, lambda rng: reduce_samples(rng, ints=False)),
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
