"""Op-table entries: the ops under ember.sparse (sparse COO to_dense, Embedding(sparse=True))."""
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as F

from .harness import OpInfo, Sample, arr

_IND = [[0, 2, 0, 1], [1, 1, 1, 0]]


def _to_dense(lib):
    def fn(values):
        return lib.sparse_coo_tensor(_IND, values, (3, 2) + tuple(values.shape[1:]),
                                     check_invariants=False).to_dense()
    return fn


def _idx(rng, shape, high):
    return rng.integers(0, high, size=shape).astype("int64")


ENTRIES = [
    # repeated index (0, 1): to_dense sums it, the gradient reads the cell back for each
    OpInfo("sparse_to_dense", _to_dense(ember), _to_dense(torch),
           lambda rng: [Sample((arr(rng, (4,)),)), Sample((arr(rng, (4, 3)),))]),
    # the weight's gradient is sparse; its values are compared in tests/test_sparse.py
    OpInfo("embedding_sparse", lambda i, w: F.embedding(i, w, sparse=True),
           lambda i, w: TF.embedding(i, w, sparse=True),
           lambda rng: [Sample((_idx(rng, (2, 3), 5), arr(rng, (5, 4))))], grad=False),
]
