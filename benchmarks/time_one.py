"""Time one workload in one library, in this process only.

    python benchmarks/time_one.py WORKLOAD {ember|torch|blas} [--steps N | --seconds T]
                                  [--device cpu|cuda] [--size N] [--warmup N]
                                  [--compile] [--memory] [--json] [--profile]

Prints the median milliseconds per step; ``--profile`` prints a cProfile table of the
steps instead (Ember's hot spots).  Libraries are never mixed in one process: NumPy's
BLAS threads keep spinning after each call and would slow torch's.  ``blas`` runs the
bare NumPy calls a workload reduces to (``workloads.BLAS``), ``--compile`` times
``ember.compile(step)``.  ``--json`` prints one JSON record instead, for ``run.py``:
the median, the first step's loss, memory (``--memory`` adds a tracemalloc pass), and the
CPU time that other processes used on this process's cores while it was timing.

``--device cuda`` builds the model, data and optimizer state on the GPU and synchronises
the device after every timed step, so that a step's time includes its kernels, not only
their launch.  The GPU-sized rate workloads (``workloads.RATES``: a large matmul, a large
elementwise op, a device copy) take ``--size``; their record has the work of one step
(flops or bytes) and its rate.
"""
import inspect
import argparse
import importlib
import json
import os
import resource
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
# The checkout's own Ember, not whichever one is installed: a benchmark of another
# tree's code would be silently wrong.
if os.path.isdir(os.path.join(HERE, "..", "src", "ember")):
    sys.path.insert(0, os.path.join(HERE, "..", "src"))
from workloads import ALL, BLAS, RATES  # noqa: E402

MIB = 1024 * 1024
BUSY_FIELDS = (0, 1, 2, 5, 6, 7)   # user nice system irq softirq steal (guest is in user)


def parse_proc_stat(text, cpus=None):
    """(busy, total) jiffies of /proc/stat's per-CPU lines, for ``cpus`` (all if None).

    Per-CPU lines rather than the "cpu" total: in a container limited to some cores of a
    larger host, load on the other cores does not touch this run."""
    busy = total = 0
    for line in text.splitlines():
        name, *fields = line.split()
        if not name.startswith("cpu") or name == "cpu":
            continue
        if cpus is not None and int(name[3:]) not in cpus:
            continue
        values = [int(f) for f in fields[:8]]
        busy += sum(values[i] for i in BUSY_FIELDS if i < len(values))
        total += sum(values)
    return busy, total


class CpuWatch:
    """The CPU time other processes spend on our cores between start() and stop():
    busy time of those cores (/proc/stat) minus this process's own CPU time (all its
    threads, BLAS and OpenMP pools included)."""

    def __init__(self):
        self.cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
        self.hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def _read(self):
        try:
            with open("/proc/stat") as f:
                return parse_proc_stat(f.read(), self.cpus)
        except OSError:
            return None

    def start(self):
        self.t0, self.cpu0, self.stat0 = time.perf_counter(), time.process_time(), self._read()

    def stop(self):
        wall = time.perf_counter() - self.t0
        own = time.process_time() - self.cpu0
        stat = self._read()
        # /proc/stat counts in jiffies (10 ms): over a shorter span the figure is noise.
        if self.stat0 is None or stat is None or wall < 0.1:
            return None
        busy = (stat[0] - self.stat0[0]) / self.hz
        return {"wall_s": wall, "own_cpu_s": own, "busy_cpu_s": busy,
                "other_cores": max(0.0, busy - own) / wall}


def rss_now():
    """Resident set size in bytes (/proc), or None where there is no /proc."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return None


def rss_peak():
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024   # bytes on macOS, KiB on Linux


def load(lib_name):
    """The library module (None for bare NumPy), imported before anything is measured."""
    if lib_name == "blas":
        return None
    lib = importlib.import_module(lib_name)
    lib.manual_seed(0)
    return lib


def rate_size(workload, size=None):
    """The size a rate workload runs at: ``size``, else its default."""
    return size or inspect.signature(RATES[workload][0]).parameters["size"].default


def make_step(workload, lib, compiled, device="cpu", size=None):
    """(step, compile status): status is None uncompiled, else "ok", "identity" or the
    error that compiling raised."""
    if lib is None:
        return BLAS[workload](), None
    if workload in RATES:
        step = RATES[workload][0](lib, device, rate_size(workload, size))
    else:
        step = ALL[workload][0](lib, device)
    if not compiled:
        return step, None
    try:
        fast = lib.compile(step)
    except Exception as e:  # any failure of the compiler means "no compiled figure"
        return None, f"error: {type(e).__name__}: {e}"
    # Until ember.compile is more than torch.compile's argument check, it hands the
    # function back, and a "compiled" figure would just repeat the eager one.
    return fast, ("identity" if fast is step else "ok")


def synchronizer(lib, device):
    """A function that waits for ``device``'s queued kernels (None on the CPU)."""
    if lib is None or not str(device).startswith("cuda"):
        return None
    return lib.cuda.synchronize


def run_steps(step, n, sync=None):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        step()
        if sync is not None:
            sync()
        times.append(time.perf_counter() - t)
    return times


def warm_up(step, seconds=0.3, least=3, most=20, sync=None):
    """Run at least ``least`` steps and until ``seconds`` passed; return the first
    step's loss and the last steps' time (the estimate for choosing the step count)."""
    t0 = time.perf_counter()
    loss = step()
    loss = None if loss is None else loss.item()
    times = [time.perf_counter() - t0]
    while len(times) < least or (time.perf_counter() - t0 < seconds and len(times) <= most):
        times.extend(run_steps(step, 1, sync))
    return loss, min(times[-3:])


def measure(args):
    lib = load(args.lib)
    rss0 = rss_now()   # after the import: the delta is the workload's own memory
    step, status = make_step(args.workload, lib, args.compile, args.device, args.size)
    sync = synchronizer(lib, args.device)
    record = {"workload": args.workload, "lib": args.lib, "compiled": args.compile,
              "compile_status": status, "device": args.device}
    if step is None or (args.compile and status != "ok"):
        return record
    try:
        if args.warmup:
            loss, estimate = warm_up(step, seconds=0, least=args.warmup, sync=sync)
        else:
            loss, estimate = warm_up(step, sync=sync)
    except Exception as e:  # a compiled step may fail only when it runs
        if not args.compile:
            raise
        record["compile_status"] = f"error: {type(e).__name__}: {e}"
        return record
    steps = args.steps
    if args.seconds:
        steps = int(min(args.max_steps, max(args.min_steps, round(args.seconds / estimate))))
    watch = CpuWatch()
    watch.start()
    times = run_steps(step, steps, sync)
    quiet = watch.stop()
    peak = rss_peak()
    record.update({
        "steps": steps, "loss": loss, "median_s": statistics.median(times),
        "min_s": min(times), "mean_s": statistics.fmean(times), "quiet": quiet,
        "rss_base_mib": None if rss0 is None else rss0 / MIB, "rss_peak_mib": peak / MIB,
        "rss_delta_mib": None if rss0 is None else (peak - rss0) / MIB,
        "tracemalloc_peak_mib": None})
    if args.workload in RATES:
        _, work, unit = RATES[args.workload]
        size = rate_size(args.workload, args.size)
        record.update({"size": size, "work": work(size), "unit": unit,
                       "rate_per_s": work(size) / record["median_s"]})
    if args.memory and args.lib != "torch":
        # tracemalloc slows every allocation, so it gets its own steps after the timing.
        # NumPy reports its buffers to it; torch's allocator does not.
        import tracemalloc
        tracemalloc.start()
        run_steps(step, 2, sync)
        record["tracemalloc_peak_mib"] = tracemalloc.get_traced_memory()[1] / MIB
        tracemalloc.stop()
    return record


def library_info(lib_name):
    """Versions and BLAS of one library, read in its own process."""
    import numpy as np
    info = {"python": sys.version.split()[0], "numpy": np.__version__}
    if lib_name == "torch":
        import torch
        config = torch.__config__.show()
        blas = next((part.split("=", 1)[1] for part in config.replace(",", " ").split()
                     if part.startswith("BLAS_INFO=")), None)
        info.update({"torch": torch.__version__, "torch_threads": torch.get_num_threads(),
                     "torch_blas": blas})
        return info
    import ember
    info["ember_file"] = os.path.realpath(ember.__file__)

    def probe():
        pass
    # Whether ember.compile hands a function back unchanged: then no workload needs a
    # compiled process, which would time the eager step again.
    try:
        info["compile_identity"] = ember.compile(probe) is probe
    except Exception:  # a failing compiler is not an identity: each workload will say
        info["compile_identity"] = False
    try:
        from threadpoolctl import threadpool_info
        pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
    except ImportError:
        pools = []
    if pools:
        info["numpy_blas"] = f"{pools[0].get('internal_api')} {pools[0].get('version')}"
        info["numpy_blas_threads"] = pools[0].get("num_threads")
    return info


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("workload", help="a workload name, or 'info' for versions")
    p.add_argument("lib", choices=["ember", "torch", "blas"])
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--seconds", type=float, default=None,
                   help="choose the step count so that the timing takes about this long")
    p.add_argument("--min-steps", type=int, default=5)
    p.add_argument("--max-steps", type=int, default=1000)
    p.add_argument("--compile", action="store_true", help="time lib.compile(step)")
    p.add_argument("--memory", action="store_true", help="add a tracemalloc pass")
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    p.add_argument("--warmup", type=int, default=None,
                   help="exactly this many warm-up steps (default: 3 and at least 0.3 s)")
    p.add_argument("--size", type=int, default=None,
                   help="the size of a rate workload (" + ", ".join(RATES) + ")")
    p.add_argument("--json", action="store_true", help="print one JSON record")
    p.add_argument("--profile", action="store_true")
    args = p.parse_args()
    if args.workload == "info":
        print(json.dumps(library_info(args.lib)))
        return
    if args.workload not in ALL and args.workload not in RATES:
        p.error(f"unknown workload {args.workload!r}; one of {', '.join([*ALL, *RATES])}")
    if args.lib == "blas" and args.workload not in BLAS:
        p.error(f"no BLAS floor for {args.workload!r}; only {', '.join(BLAS)}")
    if args.json:
        print(json.dumps(measure(args)))
        return
    lib = load(args.lib)
    step, status = make_step(args.workload, lib, args.compile, args.device, args.size)
    if step is None:
        sys.exit(f"compile failed: {status}")
    sync = synchronizer(lib, args.device)
    warm_up(step, sync=sync)
    if args.profile:
        import cProfile
        import pstats
        prof = cProfile.Profile()
        prof.enable()
        run_steps(step, args.steps, sync)
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(30)
        return
    median = statistics.median(run_steps(step, args.steps, sync))
    print(f"{args.workload} {args.lib} {median * 1e3:.3f} ms/step")


if __name__ == "__main__":
    main()
