"""Large elementwise kernels over row blocks on a small thread pool.

NumPy runs each ufunc on one core but releases the GIL while it runs, so a kernel split
into row blocks runs on several cores from Python threads. torch's CPU kernels use all of
its intra-op threads; Ember's fused kernels do the same through ``for_blocks`` for inputs
large enough to pay for the hand-off (about 20 us a block). The pool has as many threads
as this process may use cores, and follows ``ember.set_num_threads``.
"""
import os
import threading
from concurrent.futures import ThreadPoolExecutor

MIN_WORK = 1 << 17   # elements per block below which splitting costs more than it saves

_lock = threading.Lock()
_state = {"threads": None, "pool": None}
_local = threading.local()


def threads():
    n = _state["threads"]
    if n is None:
        try:
            n = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            n = os.cpu_count() or 1
        _state["threads"] = n
    return n


def set_threads(n):
    """Use ``n`` threads (the caller's included) from now on."""
    with _lock:
        _state["threads"] = max(1, int(n))
        pool, _state["pool"] = _state["pool"], None
    if pool is not None:
        pool.shutdown(wait=False)


def _pool():
    pool = _state["pool"]
    if pool is None:
        with _lock:
            pool = _state["pool"]
            if pool is None:
                pool = _state["pool"] = ThreadPoolExecutor(
                    max_workers=max(1, threads() - 1), thread_name_prefix="ember-intraop",
                    initializer=_mark_worker)
    return pool


def _mark_worker():
    _local.worker = True


def for_blocks(fn, n, work_per_row):
    """Call ``fn(start, stop)`` over ``[0, n)`` in contiguous row blocks, concurrently when
    ``n * work_per_row`` elements are worth splitting; returns once every block is done.
    Blocks must write disjoint memory. A call from inside a block runs serially."""
    t = threads()
    total = n * work_per_row
    if t <= 1 or n < 2 or total < 2 * MIN_WORK or getattr(_local, "worker", False):
        fn(0, n)
        return
    k = int(min(t, n, total // MIN_WORK))
    bounds = [n * i // k for i in range(k + 1)]
    futures = [_pool().submit(fn, bounds[i], bounds[i + 1]) for i in range(1, k)]
    try:
        fn(bounds[0], bounds[1])
    finally:
        for f in futures:
            f.result()
