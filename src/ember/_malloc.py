"""Keep NumPy's large temporaries in the process instead of mapping them afresh.

glibc serves allocations above its mmap threshold (128 KiB, rising to at most 32 MiB as it
adapts) with fresh ``mmap`` pages and returns freed heap tops to the OS. A training step
makes and drops the same multi-megabyte temporaries every iteration, so each step paid
for page faults on memory it had just given back: measured at 25-30% of the CPU time of
the gpt and layer_norm workloads (docs/performance.md). Raising the mmap threshold to
256 MiB and the trim threshold to 1 GiB keeps those pages mapped between steps, as
torch's CPU allocator keeps its own. Peak memory is unchanged; what changes is that
freed memory up to 1 GiB stays with the process.

``EMBER_MALLOC_TUNING=0`` leaves the allocator alone, and so does setting glibc's own
``MALLOC_MMAP_THRESHOLD_``/``MALLOC_TRIM_THRESHOLD_`` variables.
"""
import os
import sys

_M_TRIM_THRESHOLD = -1   # glibc's mallopt parameter numbers (malloc.h)
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 256 << 20
TRIM_THRESHOLD = 1 << 30


def tune():
    """Apply the thresholds once; returns whether glibc took them."""
    if os.environ.get("EMBER_MALLOC_TUNING", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    if "MALLOC_MMAP_THRESHOLD_" in os.environ or "MALLOC_TRIM_THRESHOLD_" in os.environ:
        return False
    import ctypes
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # not glibc (musl, ...): nothing to tune
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))


TUNED = tune()
