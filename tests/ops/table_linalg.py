"""Op-table entries: matrix products."""
import torch

import ember

from .harness import OpInfo, Sample, arr

ENTRIES = [
    OpInfo("mm", ember.mm, torch.mm, lambda rng: [Sample((arr(rng, (3, 4)), arr(rng, (4, 2))))],
           atol=1e-5),
    OpInfo("dot", ember.dot, torch.dot, lambda rng: [Sample((arr(rng, (5,)), arr(rng, (5,))))]),
    OpInfo("mv", ember.mv, torch.mv, lambda rng: [Sample((arr(rng, (3, 4)), arr(rng, (4,))))]),
    OpInfo("matmul", ember.matmul, torch.matmul,
           lambda rng: [Sample((arr(rng, (2, 3, 4)), arr(rng, (2, 4, 5)))),
                        Sample((arr(rng, (2, 3, 4)), arr(rng, (4, 5)))),
                        Sample((arr(rng, (4,)), arr(rng, (2, 4, 3)))),
                        Sample((arr(rng, (2, 1, 3, 4)), arr(rng, (3, 4, 2)))),
                        Sample((arr(rng, (3, 4)), arr(rng, (4,)))),
                        Sample((arr(rng, (4,)), arr(rng, (4,))))],
           covers=("matmul", "dot", "mv", "mm")),
    OpInfo("bmm", ember.bmm, torch.bmm,
           lambda rng: [Sample((arr(rng, (2, 3, 4)), arr(rng, (2, 4, 5))))], covers=("matmul",)),
]
