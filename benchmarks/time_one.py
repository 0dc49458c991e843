"""Time one workload in one library, in this process only.

    python benchmarks/time_one.py WORKLOAD {ember|torch} [--steps N] [--profile]

Prints the median seconds per step.  ``--profile`` prints a cProfile table of the steps
instead (Ember's hot spots).  Libraries are never mixed in one process: NumPy's BLAS
threads keep spinning after each call and would slow torch's.
"""
import argparse
import importlib
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from workloads import WORKLOADS  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("workload", choices=sorted(WORKLOADS))
    p.add_argument("lib", choices=["ember", "torch"])
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--profile", action="store_true")
    args = p.parse_args()
    lib = importlib.import_module(args.lib)
    lib.manual_seed(0)
    step = WORKLOADS[args.workload][0](lib)
    for _ in range(3):
        step()
    if args.profile:
        import cProfile
        import pstats
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(args.steps):
            step()
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(30)
        return
    times = []
    for _ in range(args.steps):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    print(f"{args.workload} {args.lib} {statistics.median(times) * 1e3:.3f} ms/step")


if __name__ == "__main__":
    main()
