"""Row-wise kernels over ``ember._parallel.for_blocks`` for host arrays.

A kernel that reduces along one dim is independent across the dims before it, so those
dims, flattened, are rows that blocks may split.  Device arrays (CuPy) run as one block:
there a pass is a kernel launch, and the thread pool is for NumPy's GIL-free ufuncs.
"""
import math

import numpy as np

from .._device import array_module
from .._parallel import for_blocks


def host_blocks(fn, n, work_per_row, *arrays):
    """``for_blocks(fn, n, work_per_row)`` when every array is a NumPy array, else fn(0, n)."""
    if all(isinstance(a, np.ndarray) for a in arrays):
        for_blocks(fn, n, work_per_row)
    else:
        fn(0, n)


def by_rows(kernel, arrays, dim, dtype):
    """``kernel(*blocks, out, axis)`` over row blocks of ``arrays`` (same shape) reduced along
    ``dim``; returns ``out``, a fresh array of ``dtype`` in the inputs' shape.

    Split only for C-contiguous host inputs (their blocks are plain slices of a reshape);
    otherwise one call over the whole arrays, with ``out`` in the first one's layout."""
    x = arrays[0]
    shape = x.shape
    lead = math.prod(shape[:dim])
    if (lead < 2 or not all(isinstance(a, np.ndarray) and a.flags.c_contiguous
                            for a in arrays)):
        out = array_module(x).empty_like(x, dtype=dtype)
        kernel(*arrays, out, dim)
        return out
    n, tail = shape[dim], math.prod(shape[dim + 1:])
    rows = (lead, n) if tail == 1 else (lead, n, tail)
    views = [a.reshape(rows) for a in arrays]
    out = np.empty(rows, dtype)

    def block(i, j):
        kernel(*(v[i:j] for v in views), out[i:j], 1)
    for_blocks(block, lead, n * tail)
    return out.reshape(shape)
