"""Per-op framework overhead: Ember and torch side by side, in one process.

    python benchmarks/bench_overhead.py [--repeat N]

(a) a chain of 150 small pointwise ops on a 16-element tensor, with backward;
(b) the same chain without grad;
(c) a 1024x1024 matmul with backward, against calling the BLAS directly
    (NumPy: the forward product and the two gradient products); its torch column is
    scaled from a separate Ember/torch alternation (see the comment in main).
Runs alternate between the libraries so that machine noise hits both alike; the
figures are medians and Ember/torch (or Ember/BLAS) ratios.  Nothing is asserted:
timings never belong in tests.
"""
import argparse
import statistics
import time

import numpy as np

import ember

try:
    import torch
except ImportError:  # the benchmark still reports Ember alone
    torch = None


def chain(lib, x):
    y = x
    for _ in range(50):   # 3 ops per round: 150 ops
        y = y * 1.01
        y = y + 0.1
        y = y.tanh()
    return y.sum()


def case_chain_grad(lib):
    x = lib.randn(16, requires_grad=True)

    def run():
        chain(lib, x).backward()
    return run


def case_chain_nograd(lib):
    x = lib.randn(16)

    def run():
        with lib.no_grad():
            chain(lib, x)
    return run


def case_matmul(lib):
    a = lib.randn(1024, 1024, requires_grad=True)
    b = lib.randn(1024, 1024, requires_grad=True)

    def run():
        (a @ b).sum().backward()
    return run


def case_blas():
    a = np.random.randn(1024, 1024).astype(np.float32)
    b = np.random.randn(1024, 1024).astype(np.float32)
    g = np.ones((1024, 1024), dtype=np.float32)

    def run():
        a @ b
        g @ b.T
        a.T @ g
    return run


def measure(runs, repeat):
    """Alternate the runs; return the median seconds of each."""
    times = {k: [] for k in runs}
    for fn in runs.values():  # warm-up
        fn()
    for _ in range(repeat):
        for k, fn in runs.items():
            t = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in times.items()}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=30)
    args = p.parse_args()
    libs = {"ember": ember}
    if torch is not None:
        libs["torch"] = torch
    rows = []
    for name, make in [("(a) 150-op chain + backward", case_chain_grad),
                       ("(b) 150-op chain, no grad", case_chain_nograd)]:
        med = measure({k: make(lib) for k, lib in libs.items()}, args.repeat)
        rows.append((name, med, "torch"))
    # Ember against the bare BLAS calls first, without torch in the loop: torch's own
    # thread pool keeps spinning after each call and would slow whichever BLAS call
    # follows it.  The torch column then comes from a separate Ember/torch alternation.
    reps = max(5, args.repeat // 3)
    med = measure({"ember": case_matmul(ember), "blas": case_blas()}, reps)
    if torch is not None:
        vs_torch = measure({"ember": case_matmul(ember), "torch": case_matmul(torch)}, reps)
        med["torch"] = vs_torch["torch"] * med["ember"] / vs_torch["ember"]
    rows.append(("(c) 1024x1024 matmul + backward", med, "blas"))

    print(f"{'case':34} {'ember':>10} {'torch':>10} {'blas':>10} {'ratio':>16}")
    for name, med, ref in rows:
        def fmt(k, med=med):
            return f"{med[k] * 1e3:8.3f}ms" if k in med else f"{'-':>10}"
        ratio = f"{med['ember'] / med[ref]:.2f}x {ref}" if ref in med else "-"
        extra = f" ({med['ember'] / med['torch']:.2f}x torch)" if ref != "torch" and "torch" in med else ""
        print(f"{name:34} {fmt('ember')} {fmt('torch')} {fmt('blas')} {ratio:>16}{extra}")


if __name__ == "__main__":
    main()
