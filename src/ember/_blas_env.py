"""OpenBLAS's idle workers spin for 2^THREAD_TIMEOUT cycles (2^28, about 0.1 s) after each
matrix product before they sleep. A training step runs its next product sooner, so the
spinner never sleeps and holds the second core that Ember's block-parallel copies and
kernels (``_parallel``) would use: measured, resnet's blocked im2col/BatchNorm passes ran
10% slower than one thread, and 19% faster than it with a short timeout (docs/performance
/par_conv.md). OpenBLAS reads the timeout once, when NumPy loads it, so it is set here,
before Ember imports NumPy, unless the user set it or NumPy was already imported (then
OpenBLAS keeps its default and ``_ops.conv.blocks_on`` leaves the blocked paths off).
``EMBER_BLAS_TUNING=0`` leaves the environment alone.
"""
import os
import sys

THREAD_TIMEOUT = "4"   # 2^4 cycles: workers sleep at once; waking them costs a few us

APPLIED = ("numpy" not in sys.modules and os.environ.get("EMBER_BLAS_TUNING", "1") != "0"
           and "OPENBLAS_THREAD_TIMEOUT" not in os.environ)
if APPLIED:
    os.environ["OPENBLAS_THREAD_TIMEOUT"] = THREAD_TIMEOUT
