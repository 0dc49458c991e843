"""Issue 12's check on a real GPU, in one run of at most five minutes (scripts/gpu_check.sh).

    python benchmarks/gpu_check.py [OUT_DIR] [--standin] [--quick] [--budget SECONDS]

On a machine with an NVIDIA GPU, CuPy and PyTorch installed (nothing is installed, nothing
is downloaded; Ember comes from this checkout's src/):

1. prints the GPU, CUDA, CuPy and torch versions;
2. runs the real-cuda cases of the op table (tests/ops/test_op_table.py) and of
   tests/nn/test_cuda_layers.py, and summarises their pass/fail counts;
3. times the workloads (mlp, cnn, gpt, then a large matmul and a large elementwise op,
   then resnet and lstm) on cuda in Ember and in torch, each library in its own process,
   synchronising the device around every timed step, and prints one Markdown table:
   workload, Ember ms, torch ms, ratio, target, met?;
4. writes the table (gpu_check.md), the raw records (gpu_check.json) and the test logs to
   OUT_DIR, or to $OUT, or to benchmarks/results/.

Every part has a time cap and every child process a timeout, so a hang costs its part,
not the run: what did not finish is reported as such.  ``--standin`` is the dry run for a
machine without a GPU: Ember's cuda is the CPU-backed stand-in (EMBER_CUDA_STANDIN=1),
torch runs on the CPU, the tests run their stand-in cases; its figures say nothing about a
GPU.  ``--quick`` shrinks everything (test subsets, one timed step, small sizes) so the
whole run takes seconds; tests/test_gpu_check.py runs ``--standin --quick``.
"""
import argparse
import datetime
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

TRAIN = ["mlp", "cnn", "gpt"]           # the training steps, at most 2x torch
EXTRA_TRAIN = ["resnet", "lstm"]        # reported, no target
RATE_ROWS = ["matmul_large", "add_large"]
TRAIN_TARGET = 2.0
MATMUL_TARGET = 0.80    # of torch's TFLOP/s
BANDWIDTH_TARGET = 0.70  # of the copy bandwidth torch measures on the card
# Seconds each part may take at most (the run's budget caps them all).
CAPS = {"versions": 40, "op_table": 100, "layers": 50}
RESERVE_S = 8           # kept back for writing the results


class Clock:
    def __init__(self, budget):
        self.start = time.monotonic()
        self.budget = budget

    def left(self):
        return self.budget - RESERVE_S - (time.monotonic() - self.start)

    def cap(self, seconds):
        return max(0.0, min(seconds, self.left()))


def child_env(standin):
    env = dict(os.environ)
    src = os.path.join(ROOT, "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    if standin:
        env["EMBER_CUDA_STANDIN"] = "1"
    else:
        env.pop("EMBER_CUDA_STANDIN", None)
    home = os.path.expanduser("~")
    if "CUPY_CACHE_DIR" not in env and not os.access(home, os.W_OK):
        # CuPy caches the kernels it compiles under ~/.cupy; where that cannot be written,
        # one directory for the whole run lets the benchmarks reuse the tests' kernels.
        import tempfile
        env["CUPY_CACHE_DIR"] = tempfile.mkdtemp(prefix="ember_gpu_check_cupy_")
    return env


def run(cmd, timeout, env):
    """(returncode or None on timeout, stdout, stderr) of a child, killed at ``timeout``."""
    if timeout <= 1:
        return None, "", "not started: the run's time budget was spent"
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env,
                           cwd=ROOT)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = e.stderr.decode() if isinstance(e.stderr, bytes) else (e.stderr or "")
        return None, out, err


# ---- 1. versions ----------------------------------------------------------------------
def _cuda_version(v):
    return f"{v // 1000}.{v % 1000 // 10}" if isinstance(v, int) and v > 0 else v


def probe():
    """Versions and the device, as one JSON line (runs in a child: CUDA init may hang)."""
    import platform

    import numpy
    info = {"python": platform.python_version(), "numpy": numpy.__version__}
    missing = [m for m in ("pytest", "ml_dtypes", "scipy", "tqdm", "threadpoolctl")
               if importlib.util.find_spec(m) is None]
    if missing:   # scripts/gpu_deps.sh builds the pure-Python ones for the machine
        info["missing_modules"] = ", ".join(missing)
    standin = os.environ.get("EMBER_CUDA_STANDIN", "0") not in ("", "0")
    if standin:
        info["cupy"] = "ember._standin (CPU stand-in, EMBER_CUDA_STANDIN=1)"
    else:
        try:
            import cupy
            rt = cupy.cuda.runtime
            props = rt.getDeviceProperties(0)
            info.update({"cupy": cupy.__version__,
                         "cuda_runtime": _cuda_version(rt.runtimeGetVersion()),
                         "cuda_driver": _cuda_version(rt.driverGetVersion()),
                         "gpu": props["name"].decode() if isinstance(props["name"], bytes)
                         else props["name"],
                         "gpu_memory_gib": round(props["totalGlobalMem"] / 2 ** 30, 1),
                         "compute_capability": f"{props['major']}.{props['minor']}",
                         "gpu_count": rt.getDeviceCount()})
        except Exception as e:  # no CuPy or no device: reported, the run goes on
            info["cupy_error"] = f"{type(e).__name__}: {e}"
    try:
        import torch
        info.update({"torch": torch.__version__, "torch_cuda": torch.version.cuda,
                     "torch_cuda_available": torch.cuda.is_available()})
        if torch.cuda.is_available():
            info["torch_gpu"] = torch.cuda.get_device_name(0)
            info["cudnn"] = torch.backends.cudnn.version()
    except Exception as e:
        info["torch_error"] = f"{type(e).__name__}: {e}"
    try:
        import ember
        info["ember_file"] = os.path.realpath(ember.__file__)
        info["ember_cuda_available"] = ember.cuda.is_available()
        if ember.cuda.is_available():
            info["ember_gpu"] = ember.cuda.get_device_name(0)
    except Exception as e:
        info["ember_error"] = f"{type(e).__name__}: {e}"
    print(json.dumps(info))


def versions(clock, env):
    rc, out, err = run([sys.executable, __file__, "--probe"], clock.cap(CAPS["versions"]), env)
    info = {}
    lines = out.strip().splitlines()
    if rc == 0 and lines:
        info = json.loads(lines[-1])
    else:
        info["error"] = "timed out" if rc is None else (err.strip().splitlines() or ["?"])[-1]
    smi = shutil.which("nvidia-smi")
    if smi:
        rc, out, _ = run([smi, "--query-gpu=name,memory.total,driver_version,clocks.max.sm",
                          "--format=csv,noheader"], clock.cap(15), env)
        if rc == 0:
            info["nvidia_smi"] = out.strip()
    return info


# ---- 2. tests -------------------------------------------------------------------------
_COUNT = re.compile(r"(\d+) (passed|failed|skipped|deselected|errors?|xfailed|xpassed)")
_PROGRESS = re.compile(r"^([.FEsxX]+)\s*(\[\s*\d+%\])?$")


def summarize_pytest(rc, out):
    """Counts from pytest's summary line; from its progress dots when it was cut off."""
    counts = {}
    lines = out.strip().splitlines()
    last = lines[-1] if lines else ""
    if rc is not None and _COUNT.search(last):
        for n, what in _COUNT.findall(last):
            counts["errors" if what.startswith("error") else what] = int(n)
        status = "passed" if rc == 0 else ("nothing selected" if rc == 5 else "failed")
    else:
        dots = "".join(m.group(1) for m in map(_PROGRESS.match, lines) if m)
        counts = {"passed": dots.count("."), "failed": dots.count("F"),
                  "errors": dots.count("E"), "skipped": dots.count("s")}
        status = "timed out" if rc is None else "crashed"
    failures = [line for line in lines if line.startswith(("FAILED", "ERROR"))]
    return {"status": status, "counts": counts, "failures": failures[:10]}


def tests(clock, env, standin, quick, out_dir):
    # The cuda_device fixtures have params "standin" and "cuda"; ids begin with the param.
    real = not standin
    op_k = "on_cuda and not standin" if real else "on_cuda and standin"
    layer_k = "not standin" if real else "standin"
    if quick:
        op_k += " and (cuda-add- or standin-add- or cuda-matmul- or standin-matmul-)"
        layer_k += " and (Linear or LSTM-2 or cross_entropy-mean)"
    runs = {"op_table": ("tests/ops/test_op_table.py", op_k),
            "layers": ("tests/nn/test_cuda_layers.py", layer_k)}
    results = {}
    if importlib.util.find_spec("pytest") is None:
        for name in runs:
            results[name] = {"status": "not run: pytest is not installed here (build .gpu_deps "
                             "with scripts/gpu_deps.sh and carry it over)",
                             "counts": {}, "failures": [], "seconds": 0, "command": "-"}
        return results
    for name, (path, k) in runs.items():
        # -o addopts= drops the project's -q, so that "-q" leaves pytest's summary line.
        # --maxfail rather than -x: one op off by a tolerance on a GPU must not hide the rest
        cmd = [sys.executable, "-m", "pytest", path, "-k", k, "--maxfail=30", "-q", "-p",
               "no:cacheprovider", "-o", "addopts="]
        t0 = time.monotonic()
        rc, out, err = run(cmd, clock.cap(CAPS[name]), env)
        summary = summarize_pytest(rc, out)
        if summary["status"] == "passed" and not summary["counts"].get("passed"):
            summary["status"] = "all skipped"  # e.g. the tests saw no GPU
        summary.update({"command": " ".join(cmd[1:]), "seconds": round(time.monotonic() - t0, 1),
                        "log": f"tests_{name}.log"})
        with open(os.path.join(out_dir, summary["log"]), "w") as f:
            f.write(out + ("\n--- stderr ---\n" + err if err else ""))
        results[name] = summary
    return results


# ---- 3. workloads ---------------------------------------------------------------------
def worker(args):
    """Time ``args.workloads`` in one library, one JSON line per workload as it finishes
    (so that a later hang or crash keeps what was measured)."""
    sys.path.insert(0, HERE)
    import time_one
    lib = time_one.load(args.worker)
    for name in args.workloads.split(","):
        if time.time() > args.deadline:
            print(json.dumps({"workload": name, "error": "skipped: the time budget was spent"}),
                  flush=True)
            continue
        size = args.sizes.get(name)
        # --steps (the quick run) also cuts the warm-up to the first step.
        ns = argparse.Namespace(workload=name, lib=args.worker, compile=False, memory=False,
                                device=args.device, size=size, steps=args.steps,
                                seconds=args.seconds, min_steps=args.steps or 3,
                                max_steps=200, warmup=1 if args.steps else None)
        try:
            rec = time_one.measure(ns)
        except Exception as e:  # one workload failing must not stop the others
            rec = {"workload": name, "error": f"{type(e).__name__}: {e}"}
        print(json.dumps(rec), flush=True)
        if hasattr(lib, "cuda") and str(args.device).startswith("cuda"):
            lib.cuda.empty_cache()


def benchmarks(clock, env, standin, quick):
    names = TRAIN + RATE_ROWS + EXTRA_TRAIN
    # The GPU sizes (workloads.RATES' defaults) take minutes on a CPU: the stand-in's dry
    # run shrinks them.
    sizes = {}
    if quick or standin:
        n, m = (256, 2 ** 20) if quick else (1024, 2 ** 24)
        sizes = {"matmul_large": n, "add_large": m, "copy_large": m}
    timing = ["--steps", "1"] if quick else ["--seconds", "1.0"]
    plan = {"ember": ("cuda", names),
            "torch": ("cpu" if standin else "cuda", names + ["copy_large"])}
    records = {}
    for i, (lib, (device, todo)) in enumerate(plan.items()):
        # The first library may use half of what is left; the second, the rest.
        share = clock.left() / (len(plan) - i)
        deadline = time.time() + share - 5
        cmd = [sys.executable, __file__, "--worker", lib, "--device", device,
               "--workloads", ",".join(todo), "--sizes", json.dumps(sizes),
               "--deadline", str(deadline), *timing]
        rc, out, err = run(cmd, clock.cap(share), env)
        got = {}
        for line in out.splitlines():
            if line.startswith("{"):
                rec = json.loads(line)
                got[rec["workload"]] = rec
        first = True
        for name in todo:
            if name not in got:
                why = "timed out" if rc is None else \
                    (err.strip().splitlines() or [f"exit status {rc}"])[-1]
                got[name] = {"workload": name, "error": why if first else f"not reached ({why})"}
                first = False
        records[lib] = {"device": device, "workloads": got}
    return records


def _ms(rec):
    return None if rec is None or "median_s" not in rec else rec["median_s"] * 1e3


def _fmt(v, spec=".2f"):
    return "—" if v is None else format(v, spec)


def table_rows(records):
    """One row per workload: (workload, ember ms, torch ms, ratio, target, met, notes)."""
    e, t = records["ember"]["workloads"], records["torch"]["workloads"]
    rows = []

    def problems(name):
        errs = [f"{lib}: {r[name]['error']}" for lib, r in (("ember", e), ("torch", t))
                if "error" in r.get(name, {})]
        return "; ".join(errs)

    for name in TRAIN + EXTRA_TRAIN:
        em, tm = _ms(e.get(name)), _ms(t.get(name))
        ratio = em / tm if em and tm else None
        target = f"<= {TRAIN_TARGET:g}x torch" if name in TRAIN else "—"
        met = "—" if name not in TRAIN or ratio is None else \
            ("yes" if ratio <= TRAIN_TARGET else "no")
        el, tl = e.get(name, {}).get("loss"), t.get(name, {}).get("loss")
        notes = problems(name) or (f"first loss {el:.4f} / {tl:.4f}"
                                   if el is not None and tl is not None else "")
        rows.append((f"{name} (train step)", em, tm, ratio, target, met, notes))
    m_e, m_t = e.get("matmul_large", {}), t.get("matmul_large", {})
    ratio = m_e["rate_per_s"] / m_t["rate_per_s"] if "rate_per_s" in m_e and \
        "rate_per_s" in m_t else None
    n = m_e.get("size") or m_t.get("size")
    notes = problems("matmul_large") or (
        f"{m_e['rate_per_s'] / 1e12:.2f} vs {m_t['rate_per_s'] / 1e12:.2f} TFLOP/s"
        if ratio is not None else "")
    rows.append((f"matmul {n}x{n} float32", _ms(m_e), _ms(m_t), ratio,
                 f">= {MATMUL_TARGET:.0%} of torch's TFLOP/s",
                 "—" if ratio is None else ("yes" if ratio >= MATMUL_TARGET else "no"), notes))
    a_e, a_t, c_t = e.get("add_large", {}), t.get("add_large", {}), t.get("copy_large", {})
    ratio = a_e["rate_per_s"] / c_t["rate_per_s"] if "rate_per_s" in a_e and \
        "rate_per_s" in c_t else None
    n = a_e.get("size") or a_t.get("size")
    notes = problems("add_large") or "; ".join(p for p in [problems("copy_large")] if p) or (
        f"{a_e['rate_per_s'] / 1e9:.0f} GB/s (torch {_fmt(a_t.get('rate_per_s', 0) / 1e9, '.0f')}"
        f"), copy bandwidth {c_t['rate_per_s'] / 1e9:.0f} GB/s" if ratio is not None else "")
    label = f"a + b, {n // 2 ** 20}M float32" if n and n >= 2 ** 20 else f"a + b, {n} float32"
    rows.append((label, _ms(a_e), _ms(a_t), ratio,
                 f">= {BANDWIDTH_TARGET:.0%} of copy bandwidth",
                 "—" if ratio is None else ("yes" if ratio >= BANDWIDTH_TARGET else "no"),
                 notes))
    return rows


def markdown(rows):
    lines = ["| workload | ember ms | torch ms | ratio | target | met? | notes |",
             "|---|---:|---:|---:|---|---|---|"]
    for name, em, tm, ratio, target, met, notes in rows:
        lines.append(f"| {name} | {_fmt(em)} | {_fmt(tm)} | {_fmt(ratio)} | {target} | {met} "
                     f"| {notes} |")
    return "\n".join(lines)


def test_lines(results):
    out = []
    for name, r in results.items():
        c = r["counts"]
        out.append(f"- {name}: {r['status']} — " + ", ".join(f"{v} {k}" for k, v in c.items())
                   + f" ({r['seconds']} s; `{r['command']}`)")
        out += [f"  - {f}" for f in r["failures"]]
    return out


def report(info, test_results, records, rows, standin, seconds):
    mode = ("STAND-IN dry run (EMBER_CUDA_STANDIN=1, torch on the CPU): the figures are not "
            "GPU figures" if standin else "real GPU")
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"# Ember GPU check — {mode}", "", f"{date}, {seconds:.0f} s.", "",
             "## Versions", ""]
    lines += [f"- {k}: {v}" for k, v in info.items()]
    lines += ["", "## CUDA tests", ""] + test_lines(test_results)
    lines += ["", "## Workloads (ember vs torch, one process per library; ratio: ember/torch "
              "time for training steps, rate fractions for the two ops)", "", markdown(rows)]
    return "\n".join(lines) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", nargs="?", default=None, help="directory for the results")
    p.add_argument("--standin", action="store_true", help="dry run on the CPU stand-in")
    p.add_argument("--quick", action="store_true", help="test subsets, tiny sizes, one step")
    p.add_argument("--budget", type=float, default=285.0, help="seconds for the whole run")
    p.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--worker", choices=["ember", "torch"], help=argparse.SUPPRESS)
    p.add_argument("--device", default="cuda", help=argparse.SUPPRESS)
    p.add_argument("--workloads", default="", help=argparse.SUPPRESS)
    p.add_argument("--sizes", type=json.loads, default={}, help=argparse.SUPPRESS)
    p.add_argument("--deadline", type=float, default=float("inf"), help=argparse.SUPPRESS)
    p.add_argument("--steps", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--seconds", type=float, default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.probe:
        return probe()
    if args.worker:
        return worker(args)
    out_dir = args.out or os.environ.get("OUT") or os.path.join(HERE, "results")
    os.makedirs(out_dir, exist_ok=True)
    clock = Clock(args.budget)
    env = child_env(args.standin)

    def say(msg):
        print(msg, flush=True)
    say("== versions")
    info = versions(clock, env)
    for k, v in info.items():
        say(f"  {k}: {v}")
    say("== CUDA tests")
    test_results = tests(clock, env, args.standin, args.quick, out_dir)
    for line in test_lines(test_results):
        say("  " + line)
    say("== workloads")
    records = benchmarks(clock, env, args.standin, args.quick)
    rows = table_rows(records)
    seconds = time.monotonic() - clock.start
    text = report(info, test_results, records, rows, args.standin, seconds)
    with open(os.path.join(out_dir, "gpu_check.md"), "w") as f:
        f.write(text)
    with open(os.path.join(out_dir, "gpu_check.json"), "w") as f:
        json.dump({"standin": args.standin, "quick": args.quick, "seconds": seconds,
                   "versions": info, "tests": test_results, "benchmarks": records,
                   "table": [dict(zip(["workload", "ember_ms", "torch_ms", "ratio", "target",
                                       "met", "notes"], r)) for r in rows]}, f, indent=1)
    say("")
    say(markdown(rows))
    say(f"\n{seconds:.0f} s; results in {out_dir}/gpu_check.md and gpu_check.json")
    failed = any(r["status"] not in ("passed",) for r in test_results.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
