"""DataLoader throughput with and without worker processes.

    python benchmarks/bench_dataloader.py [--items N] [--workers 2] [--repeat R]

The data set's ``__getitem__`` costs about 1 ms (a 1 ms sleep, standing in for reading
a file, plus a small NumPy transform), so loading in workers overlaps that cost.  One
pass with ``num_workers=0`` and one per worker count alternate ``--repeat`` times;
the figures are medians, with the speed-up over ``num_workers=0`` and the load average
(the machine may be shared).  With torch installed its loader runs the same data set
too, in its own processes alternating with Ember's (``--lib`` runs one library's passes
and prints their times): two libraries never share a process, whose BLAS threads would
slow each other.  Nothing is asserted: timings never belong in tests.
"""
import argparse
import importlib
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np


class Costly:
    """~1 ms per item: a sleep (I/O) and a small image-like transform.  A plain
    map-style data set, which both libraries' loaders take."""

    def __init__(self, n):
        self.n = n
        self.base = np.random.default_rng(0).random((3, 32, 32), dtype=np.float32)

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        time.sleep(0.001)
        image = (self.base + np.float32(i)) * np.float32(0.5)
        return image[:, ::-1, :].copy(), i


def one_pass(loader_cls, dataset, workers, batch_size):
    loader = loader_cls(dataset, batch_size=batch_size, num_workers=workers)
    start = time.perf_counter()
    count = sum(len(y) for _, y in loader)  # includes starting and stopping the workers
    assert count == len(dataset)
    return time.perf_counter() - start


def passes(lib, args):
    """One pass per worker count in this process: {count: seconds}."""
    loader_cls = importlib.import_module(f"{lib}.utils.data").DataLoader
    dataset = Costly(args.items)
    return {w: one_pass(loader_cls, dataset, w, args.batch_size) for w in [0] + args.workers}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1024)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--workers", type=int, nargs="+", default=[2])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--lib", choices=["ember", "torch"], default=None)
    args = parser.parse_args()
    if args.lib:
        print(json.dumps(passes(args.lib, args)))
        return
    libs = ["ember"]
    if importlib.util.find_spec("torch") is not None:
        libs.append("torch")
    counts = [0] + args.workers
    times = {(lib, w): [] for lib in libs for w in counts}
    load_before = os.getloadavg()[0]
    for _ in range(args.repeat):
        for lib in libs:
            out = subprocess.run([sys.executable, __file__, "--lib", lib, *sys.argv[1:]],
                                 check=True, capture_output=True, text=True).stdout
            for w, t in json.loads(out).items():
                times[lib, int(w)].append(t)
    load_after = os.getloadavg()[0]
    print(f"{args.items} items of ~1 ms, batch {args.batch_size}, median of {args.repeat}; "
          f"{os.cpu_count()} CPUs, load average {load_before:.2f} -> {load_after:.2f}")
    for lib in libs:
        base = statistics.median(times[lib, 0])
        for w in counts:
            t = statistics.median(times[lib, w])
            print(f"  {lib:5s} num_workers={w}: {t * 1e3:8.1f} ms  "
                  f"{args.items / t:8.0f} items/s  speed-up x{base / t:.2f}")


if __name__ == "__main__":
    main()
