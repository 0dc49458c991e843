"""F.embedding(..., sparse=True): the lookup whose weight gradient is a sparse COO tensor.

As torch's embedding_sparse_backward: the indices are the looked-up rows in lookup order
(uncoalesced, repeats kept, padding_idx rows dropped) and the values the output's
gradient rows, so the step only touches the rows a batch used.
"""
import numpy as np

from .._device import array_module
from .._ops.nn_ops import _embedding_fwd, embedding_lookup
from .._ops.registry import apply, defop
from ._coo import _from_arrays


def _embedding_sparse_bwd(ctx, g):
    weight, indices = ctx.saved
    gd, idx = g._data, indices._data
    xp = array_module(gd)
    num_features = gd.shape[-1]
    flat_idx = idx.reshape(-1).astype(np.int64)
    values = gd.reshape(-1, num_features)
    if ctx.padding_idx is not None:
        keep = flat_idx != ctx.padding_idx
        flat_idx, values = flat_idx[keep], values[keep]
    size = (weight.shape[0], num_features)
    if values.shape[0] == 0:
        return _from_arrays(xp.zeros((1, 0), dtype=np.int64),
                            xp.zeros((0, num_features), dtype=gd.dtype), size), None
    return _from_arrays(flat_idx.reshape(1, -1), values, size), None


embedding_sparse_op = defop("embedding_sparse", _embedding_fwd, _embedding_sparse_bwd,
                            save=(0, 1), node="EmbeddingBackward0")


def embedding_sparse(weight, indices, padding_idx=None):
    if indices._data.dtype.kind not in "iu":
        return embedding_lookup(weight, indices, padding_idx)   # raises torch's dtype error
    return apply(embedding_sparse_op, (weight, indices), {"padding_idx": padding_idx})
