"""Row-wise kernels over row blocks on ``ember._parallel``'s threads, for host arrays.

A kernel that reduces along one dim is independent across the dims before it, so those
dims, flattened, are rows that blocks may split.  Device arrays (CuPy) run as one block:
there a pass is a kernel launch, and the thread pool is for NumPy's GIL-free ufuncs.
"""
import itertools
import math

import numpy as np

from .. import _parallel
from .._device import array_module
from .._parallel import MIN_WORK


def host_blocks(fn, n, work_per_row, *arrays):
    """``fn(start, stop)`` over ``[0, n)`` as ``for_blocks`` does, for NumPy arrays; one
    call for device arrays.

    The rows are cut into a few blocks per thread that the threads, the caller's
    included, take in turn, and a worker that has not started when the blocks run out is
    cancelled: on a machine where other processes hold cores, an even split leaves the
    caller waiting for a descheduled worker's half (measured slower than one thread),
    while here the caller does what the workers do not get to."""
    t = _parallel.threads()
    if (not all(isinstance(a, np.ndarray) for a in arrays) or t <= 1 or n < 2
            or n * work_per_row < 2 * MIN_WORK or getattr(_parallel._local, "worker", False)):
        fn(0, n)
        return
    k = int(min(n, 4 * t, max(t, n * work_per_row // (MIN_WORK // 2))))
    bounds = [n * i // k for i in range(k + 1)]
    claim = itertools.count()    # its next() is atomic under the GIL

    def drain():
        for i in claim:
            if i >= k:
                return
            fn(bounds[i], bounds[i + 1])
    futures = [_parallel._pool().submit(drain) for _ in range(t - 1)]
    try:
        drain()
    finally:
        for f in futures:
            if not f.cancel():
                f.result()


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
    host_blocks(block, lead, n * tail)
    return out.reshape(shape)
