"""Op-table entries: whole-tensor writes (fill_, zero_, copy_, fill_diagonal_) and cdist.

In-place ops are checked on a clone of the input, so gradients reach the original."""
import torch

import ember

from .harness import OpInfo, Sample, arr


def fill_(x, v):
    return x.clone().fill_(v)


def zero_(x):
    return x.clone().zero_()


def copy_(x, src):
    return x.clone().copy_(src)


def fill_diagonal_(x, v, wrap=False):
    return x.clone().fill_diagonal_(v, wrap)


ENTRIES = [
    OpInfo("fill", fill_, fill_, lambda rng: [Sample((arr(rng, (3, 4)), 1.5)),
                                              Sample((arr(rng, (3,), "int64", 0, 5), 2), grad=False)]),
    OpInfo("fill_tensor", fill_, fill_, lambda rng: [Sample((arr(rng, (3, 4)), arr(rng, ())))]),
    OpInfo("zero", zero_, zero_, lambda rng: [Sample((arr(rng, (3, 4)),))]),
    OpInfo("copy", copy_, copy_,
           lambda rng: [Sample((arr(rng, (3, 4)), arr(rng, (3, 4)))),
                        Sample((arr(rng, (3, 4)), arr(rng, (4,)))),
                        Sample((arr(rng, (2, 3)), arr(rng, (2, 3), "float64"))),
                        Sample((arr(rng, (2, 3), "int64", 0, 5), arr(rng, (2, 3))), grad=False)]),
    OpInfo("fill_diagonal", fill_diagonal_, fill_diagonal_,
           lambda rng: [Sample((arr(rng, (3, 3)), 2.0)), Sample((arr(rng, (5, 2)), 1.0, True)),
                        Sample((arr(rng, (2, 4)), 0.5))]),
    OpInfo("cdist", ember.cdist, torch.cdist,
           lambda rng: [Sample((arr(rng, (3, 4)), arr(rng, (5, 4)))),
                        Sample((arr(rng, (2, 3, 2)), arr(rng, (2, 4, 2)), 1.0)),
                        Sample((arr(rng, (3, 2)), arr(rng, (2, 2)), 3.0))],
           covers=("norm",), gradgrad=False),
]
