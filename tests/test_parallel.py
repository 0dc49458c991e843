"""_parallel.for_blocks: every row exactly once, in parallel or not, and errors surface."""
import threading

import numpy as np
import pytest

import ember
from ember import _parallel


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("n, work", [(1, 10), (7, 1 << 20), (1000, 1 << 10), (5, 10)])
def test_each_row_once(threads, n, work):
    before = _parallel.threads()
    _parallel.set_threads(threads)
    try:
        seen = np.zeros(n, dtype=int)
        callers = set()

        def block(a, b):
            seen[a:b] += 1
            callers.add(threading.get_ident())
        _parallel.for_blocks(block, n, work)
        assert seen.tolist() == [1] * n
        split = threads > 1 and n > 1 and n * work >= 2 * _parallel.MIN_WORK
        assert (len(callers) > 1) == split
    finally:
        _parallel.set_threads(before)


def test_a_block_error_reaches_the_caller_and_nesting_runs_serially():
    before = _parallel.threads()
    _parallel.set_threads(2)
    try:
        _errors_and_nesting()
    finally:
        _parallel.set_threads(before)


def _errors_and_nesting():

    def block(a, b):
        if a > 0:
            raise ValueError(f"block {a}")
    with pytest.raises(ValueError, match="block"):
        _parallel.for_blocks(block, 4, 1 << 20)
    inner = []

    def outer(a, b):
        _parallel.for_blocks(lambda c, d: inner.append(threading.get_ident()), 4, 1 << 20)
    _parallel.for_blocks(outer, 2, 1 << 20)
    # the calling thread's inner call splits in two; the pool worker's runs serially
    # (a worker waiting on the pool it belongs to could deadlock)
    assert len(inner) == 3


def test_set_num_threads_sizes_the_pool():
    before = _parallel.threads()
    try:
        ember.set_num_threads(1)
        assert _parallel.threads() == 1
    finally:
        ember.set_num_threads(before)
