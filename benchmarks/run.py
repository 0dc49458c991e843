"""The benchmark suite: Ember against torch on the same workloads, one library per process.

    python benchmarks/run.py [--only NAME,...] [--extra] [--rounds R] [--steps N | --seconds T]
                             [--device cpu|cuda] [--no-torch] [--no-compile] [--json PATH]
                             [--md PATH] [--readme]

Every workload of ``workloads.py`` runs in separate processes of ``time_one.py``: Ember,
torch, ``ember.compile(step)`` where that is more than the eager step, and for the matmul
the bare BLAS calls it reduces to.  The processes alternate (the order rotating) for R
rounds; each warms up, then times enough steps to take about T seconds.  The figure is
the median over rounds of each process's median step time.  Each process also reports
memory (its resident-set growth after the import; for Ember a tracemalloc peak of one
round's steps, NumPy's buffers included) and how much CPU other processes used on its
cores while it timed.  A round in which that exceeded ``--noise-limit`` cores is run again
(up to ``--retries`` times per workload): torch's timings swing several-fold on a busy
2-core machine, so a noisy figure is not a result.  ``import ember`` (and torch) is timed
in fresh interpreters.  Results go to JSON and to a Markdown table; ``--readme`` copies
the table into README.md between its benchmark markers (a full, quiet run only).

Two libraries never share a process: NumPy's OpenBLAS threads keep spinning for a while
after each call and steal torch's cores.
"""
import argparse
import datetime
import json
import math
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from time_one import CpuWatch, parse_proc_stat  # noqa: E402,F401  (parse_proc_stat: tests)
from workloads import ALL, BLAS, EXTRA, WORKLOADS  # noqa: E402

TIME_ONE = os.path.join(HERE, "time_one.py")
RESULTS = os.path.join(HERE, "results")
README = os.path.join(ROOT, "README.md")
BEGIN = "<!-- benchmarks:begin (written by python benchmarks/run.py --readme) -->"
END = "<!-- benchmarks:end -->"
LIBS = {"ember": ["ember"], "torch": ["torch"], "compiled": ["ember", "--compile"],
        "blas": ["blas"]}
TARGETS = {"train_each": 1.5, "train_geomean": 1.2, "chain": 1.2, "matmul_vs_blas": 1.10,
           "import_s": 0.3}


def child_env():
    """The workers import this checkout's Ember, not an installed one."""
    env = dict(os.environ)
    src = os.path.join(ROOT, "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    return env


def worker(argv, timeout):
    """Run time_one.py with --json; its record, or {"error": ...}."""
    try:
        proc = subprocess.run([sys.executable, TIME_ONE, *argv, "--json"], capture_output=True,
                              text=True, timeout=timeout, env=child_env(), cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["exit status %d" % proc.returncode])[-1]
        return {"error": tail}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def noisy(record, limit):
    quiet = record.get("quiet")
    return quiet is not None and quiet["other_cores"] > limit


def time_workload(name, variants, opts, log):
    """Alternate the variants' processes for opts.rounds quiet rounds (retrying noisy
    ones); return the workload's entry of the results."""
    variants = list(variants)
    rounds, dropped, problems, memory = [], 0, {}, {}
    timing = ["--steps", str(opts.steps)] if opts.steps else ["--seconds", str(opts.seconds)]
    timing += ["--device", opts.device]
    while len(rounds) < opts.rounds and variants:
        shift = (len(rounds) + dropped) % len(variants)
        records = {}
        for lib in variants[shift:] + variants[:shift]:
            extra = ["--memory"] if lib not in memory else []
            rec = worker([name, *LIBS[lib], *timing, *extra], opts.timeout)
            if "error" in rec:
                problems[lib] = rec["error"]
            elif lib == "compiled" and rec["compile_status"] != "ok":
                problems[lib] = rec["compile_status"]
            else:
                records[lib] = rec
                if extra:
                    memory[lib] = rec["tracemalloc_peak_mib"]
        variants = [v for v in variants if v not in problems]
        if any(noisy(r, opts.noise_limit) for r in records.values()) and dropped < opts.retries:
            dropped += 1
            log(f"  {name}: noisy round, repeating")
            continue
        rounds.append(records)
    return summarize_workload(name, rounds, dropped, problems, memory, opts.noise_limit)


def _close(a, b):
    return a is not None and b is not None and abs(a - b) <= 1e-3 * max(1.0, abs(b))


def summarize_workload(name, rounds, dropped, problems, memory, limit):
    libs = {}
    for lib in LIBS:
        recs = [r[lib] for r in rounds if lib in r]
        if not recs:
            continue
        rss = [r["rss_delta_mib"] for r in recs if r["rss_delta_mib"] is not None]
        libs[lib] = {
            "median_s": statistics.median(r["median_s"] for r in recs),
            "rounds_s": [r["median_s"] for r in recs],
            "steps": [r["steps"] for r in recs],
            "loss": recs[0]["loss"],
            "rss_delta_mib": statistics.median(rss) if rss else None,
            "tracemalloc_peak_mib": memory.get(lib),
        }
    others = [r["quiet"]["other_cores"] for rnd in rounds for r in rnd.values()
              if r.get("quiet") is not None]
    entry = {"kind": ALL[name][1], "core": name in WORKLOADS, "libs": libs,
             "problems": problems,
             "quiet": {"max_other_cores": max(others) if others else None,
                       "noisy_rounds_repeated": dropped,
                       "noisy": any(o > limit for o in others),
                       "known": bool(others)}}

    def ratio(a, b):
        return libs[a]["median_s"] / libs[b]["median_s"] if a in libs and b in libs else None
    entry["ratio"] = ratio("ember", "torch")
    entry["compiled_ratio"] = ratio("compiled", "torch")
    entry["vs_blas"] = ratio("ember", "blas")
    loss = {k: v["loss"] for k, v in libs.items()}
    entry["loss_agrees"] = (_close(loss.get("ember"), loss.get("torch"))
                            if "torch" in loss and "ember" in loss else None)
    if "compiled" in loss and not _close(loss["compiled"], loss.get("ember")):
        entry["problems"]["compiled"] = "loss differs from eager Ember's"
        entry["compiled_ratio"] = None
        del libs["compiled"]
    return entry


class ChildWatch:
    """CpuWatch for work done in child processes: our CPU time is the children's."""

    def __init__(self):
        self.cores = CpuWatch()

    def start(self):
        self.children0 = self._children()
        self.cores.start()

    @staticmethod
    def _children():
        r = resource.getrusage(resource.RUSAGE_CHILDREN)
        return r.ru_utime + r.ru_stime

    def stop(self):
        quiet = self.cores.stop()
        if quiet is not None:
            own = self._children() - self.children0
            quiet["other_cores"] = max(0.0, quiet["busy_cpu_s"] - own) / quiet["wall_s"]
        return quiet


def time_imports(libs, opts, log):
    """Seconds for `import LIB` in fresh interpreters, alternating, median of several."""
    code = ("import time; t = time.perf_counter(); import {}; "
            "print(time.perf_counter() - t)")
    times = {lib: [] for lib in libs}
    others, dropped = [], 0
    while len(times[libs[0]]) < opts.import_runs:
        watch = ChildWatch()
        watch.start()
        got = {lib: float(subprocess.run([sys.executable, "-c", code.format(lib)], check=True,
                                         capture_output=True, text=True, env=child_env(),
                                         cwd=ROOT).stdout) for lib in libs}
        quiet = watch.stop()
        other = None if quiet is None else quiet["other_cores"]
        if other is not None and other > opts.noise_limit and dropped < opts.retries:
            dropped += 1
            log("  import: noisy, repeating")
            continue
        others.append(other)
        for lib, t in got.items():
            times[lib].append(t)
    known = [o for o in others if o is not None]
    return {"libs": {lib: {"median_s": statistics.median(t), "runs_s": t}
                     for lib, t in times.items()},
            "quiet": {"max_other_cores": max(known) if known else None,
                      "noisy_rounds_repeated": dropped,
                      "noisy": any(o > opts.noise_limit for o in known), "known": bool(known)}}


def machine_info(torch_info, ember_info):
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = re.search(r"^model name\s*:\s*(.*)$", f.read(), re.M).group(1).strip()
    except (OSError, AttributeError):
        pass
    mem = None
    try:
        with open("/proc/meminfo") as f:
            mem = int(re.search(r"MemTotal:\s*(\d+)", f.read()).group(1)) / 1024 / 1024
    except (OSError, AttributeError):
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"cpu": cpu, "cores": cores, "memory_gib": mem, "os": platform.platform(),
            "loadavg_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
            "ember": ember_info, "torch": torch_info}


def geomean(xs):
    return math.exp(statistics.fmean(math.log(x) for x in xs)) if xs else None


def summarize(results):
    w = results["workloads"]
    train = {n: e["ratio"] for n, e in w.items() if e["kind"] == "train" and e["core"]
             and e["ratio"] is not None}
    compiled = {n: e["compiled_ratio"] for n, e in w.items()
                if e["kind"] == "train" and e["core"] and e["compiled_ratio"] is not None}
    imp = results.get("import")
    entries = list(w.values()) + ([imp] if imp else [])
    known = [e["quiet"]["max_other_cores"] for e in entries if e["quiet"]["known"]]
    return {
        "train_ratios": train,
        "train_of": sum(1 for k in WORKLOADS.values() if k[1] == "train"),
        "train_geomean": geomean(list(train.values())),
        "train_worst": max(train.items(), key=lambda kv: kv[1]) if train else None,
        "compiled_train_ratios": compiled,
        "compiled_train_geomean": geomean(list(compiled.values())),
        "chain_ratio": w["chain"]["ratio"] if "chain" in w else None,
        "matmul_vs_blas": w["matmul"]["vs_blas"] if "matmul" in w else None,
        "import_ember_s": imp["libs"]["ember"]["median_s"] if imp else None,
        "noisy": [n for n, e in w.items() if e["quiet"]["noisy"]]
                 + (["import"] if imp and imp["quiet"]["noisy"] else []),
        "max_other_cores": max(known) if known else None,
    }


# -- Markdown -------------------------------------------------------------------------

def ms(seconds):
    if seconds is None:
        return "-"
    v = seconds * 1e3
    return f"{v:.0f}" if v >= 100 else f"{v:.1f}" if v >= 10 else f"{v:.2f}" if v >= 1 else f"{v:.3f}"


def times(x):
    return "-" if x is None else f"{x:.2f}x"


def mib(x):
    return "-" if x is None else f"{x:.1f}" if x < 10 else f"{x:.0f}"


def machine_line(m, settings):
    e, t = m["ember"] or {}, m["torch"]
    blas = e.get("numpy_blas", "BLAS unknown")
    parts = [f"{m['cpu']}, {m['cores']} cores"
             + (f", {m['memory_gib']:.0f} GiB" if m["memory_gib"] else ""),
             m["os"], f"Python {e.get('python', '?')}",
             f"NumPy {e.get('numpy', '?')} ({blas}, {e.get('numpy_blas_threads', '?')} threads)"]
    if t:
        parts.append(f"torch {t['torch']} ({t['torch_blas']}, {t['torch_threads']} threads)")
    return ("Machine: " + "; ".join(parts) + f". Run {settings['date']}, "
            f"rounds per workload: {settings['rounds']}, "
            + (f"{settings['steps']} steps" if settings["steps"] else
               f"steps for ~{settings['seconds']:g} s") + " per process.")


def quiet_cell(q):
    if not q["known"]:
        return "?"
    return f"{'noisy' if q['noisy'] else 'yes'} ({q['max_other_cores']:.2f})"


def target_rows(s, has_torch, has_import):
    t = TARGETS

    def met(x, limit):
        return "-" if x is None else "yes" if x <= limit else "no"
    rows = []
    if has_torch:
        worst = s["train_worst"]
        n = len(s["train_ratios"])
        # A verdict on some of the training workloads would read as one on all of them.
        partial = f"{n} of {s['train_of']} run" if 0 < n < s["train_of"] else None
        rows.append((f"each eager training step <= {t['train_each']}x torch",
                     f"worst {worst[0]} {worst[1]:.2f}x" if worst else "-",
                     partial or met(worst and worst[1], t["train_each"])))
        rows.append((f"training steps, geometric mean <= {t['train_geomean']}x torch",
                     times(s["train_geomean"]),
                     partial or met(s["train_geomean"], t["train_geomean"])))
        rows.append(("ember.compile training steps, geometric mean vs torch",
                     times(s["compiled_train_geomean"]), "-"))
        rows.append((f"150-op chain <= {t['chain']}x torch", times(s["chain_ratio"]),
                     met(s["chain_ratio"], t["chain"])))
    rows.append((f"1024x1024 matmul + backward <= {t['matmul_vs_blas']}x the bare BLAS calls",
                 times(s["matmul_vs_blas"]), met(s["matmul_vs_blas"], t["matmul_vs_blas"])))
    if has_import:
        v = s["import_ember_s"]
        rows.append((f"`import ember` <= {t['import_s']} s", f"{v:.3f} s",
                     met(v, t["import_s"])))
    return rows


def markdown(results):
    s, m = results["summary"], results["machine"]
    has_torch = m["torch"] is not None
    lines = [machine_line(m, results["settings"]), ""]
    if s["noisy"]:
        lines += [f"**Noisy run** (other processes used up to {s['max_other_cores']:.2f} cores "
                  f"in: {', '.join(s['noisy'])}): these figures are not results.", ""]
    elif s["max_other_cores"] is not None:
        lines += [f"Quiet: other processes used at most {s['max_other_cores']:.2f} cores "
                  "while any process was timing.", ""]
    lines += ["| workload | kind | ember ms | torch ms | ember/torch | ember compiled ms "
              "| compiled/torch | ember tracemalloc peak MiB | RSS growth MiB ember / torch "
              "| quiet (other cores) |",
              "|---|---|--:|--:|--:|--:|--:|--:|--:|---|"]
    for name, e in results["workloads"].items():
        libs = e["libs"]

        def med(lib, libs=libs):
            return ms(libs[lib]["median_s"]) if lib in libs else "-"

        def rss(lib, libs=libs):
            return mib(libs[lib]["rss_delta_mib"]) if lib in libs else "-"
        ratio = times(e["ratio"])
        if e["loss_agrees"] is False:
            ratio += " (loss differs!)"
        label = name + (f" (BLAS {med('blas')} ms: {times(e['vs_blas'])})"
                        if e["vs_blas"] is not None else "")
        peak = libs.get("ember", {}).get("tracemalloc_peak_mib")
        lines.append(f"| {label} | {e['kind']} | {med('ember')} | {med('torch')} | {ratio} "
                     f"| {med('compiled')} | {times(e['compiled_ratio'])} | {mib(peak)} "
                     f"| {rss('ember')} / {rss('torch')} | {quiet_cell(e['quiet'])} |")
    if s["train_geomean"] is not None:
        def of(ratios):
            n = len(ratios)
            return "" if n in (0, s["train_of"]) else f" ({n} of {s['train_of']})"
        lines.append(f"| **training geometric mean** | train | | | "
                     f"**{times(s['train_geomean'])}**{of(s['train_ratios'])} | | "
                     f"{times(s['compiled_train_geomean'])}{of(s['compiled_train_ratios'])} "
                     "| | | |")
    imp = results.get("import")
    if imp:
        torch_s = imp["libs"].get("torch", {}).get("median_s")
        lines.append(f"| `import` (fresh interpreter) | import | {ms(imp['libs']['ember']['median_s'])} "
                     f"| {ms(torch_s)} | | | | | | {quiet_cell(imp['quiet'])} |")
    lines += ["", "| target | measured | met |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in target_rows(s, has_torch, bool(imp))]
    problems = [f"{n} {lib}: {why}" for n, e in results["workloads"].items()
                for lib, why in e["problems"].items()
                if not (lib == "compiled" and why == "identity")]
    if results["settings"].get("compile_note"):
        problems.insert(0, results["settings"]["compile_note"])
    if problems:
        lines += [""] + [f"- {p}" for p in problems]
    return "\n".join(lines) + "\n"


def rewrite_readme(path, table):
    with open(path) as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{path} has no benchmark markers ({BEGIN} ... {END})")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    with open(path, "w") as f:
        f.write(f"{head}{BEGIN}\n{table}{END}{tail}")


# -- the run --------------------------------------------------------------------------

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", default="",
                   help="comma-separated workloads (and/or 'import') to run; default all")
    p.add_argument("--extra", action="store_true",
                   help="also the further layers of workloads.EXTRA")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--steps", type=int, default=None, help="fixed steps per process")
    p.add_argument("--seconds", type=float, default=1.0,
                   help="otherwise time about this long per process (default 1.0)")
    p.add_argument("--device", default="cpu",
                   help="where both libraries run the workloads: cpu (default) or cuda")
    p.add_argument("--no-torch", action="store_true")
    p.add_argument("--no-compile", action="store_true", help="leave out ember.compile")
    p.add_argument("--import-runs", type=int, default=5)
    p.add_argument("--noise-limit", type=float, default=0.15,
                   help="other processes' CPU, in cores, above which a round is noisy")
    p.add_argument("--retries", type=int, default=3,
                   help="noisy rounds repeated per workload before a figure is kept marked")
    p.add_argument("--timeout", type=float, default=600, help="seconds per process")
    p.add_argument("--json", default=os.path.join(RESULTS, "latest.json"))
    p.add_argument("--md", default=os.path.join(RESULTS, "latest.md"))
    p.add_argument("--readme", action="store_true",
                   help="copy the table into README.md (a full quiet run only)")
    p.add_argument("--force", action="store_true", help="--readme even for a noisy run")
    args = p.parse_args(argv)
    known = {**ALL, "import": None}
    names = [n for n in args.only.split(",") if n] or (
        list(WORKLOADS) + (list(EXTRA) if args.extra else []) + ["import"])
    bad = [n for n in names if n not in known]
    if bad:
        p.error(f"unknown workload(s) {', '.join(bad)}; choose from {', '.join(known)}")
    if args.readme and args.only:
        p.error("--readme needs the full suite, not --only")
    if args.readme and args.device != "cpu":
        p.error("--readme takes the CPU suite's table, not --device " + args.device)
    args.names = names
    return args


def main(argv=None):
    opts = parse_args(argv)

    def log(msg):
        print(msg, file=sys.stderr, flush=True)
    started = time.perf_counter()
    ember_info = worker(["info", "ember"], opts.timeout)
    if "error" in ember_info:
        raise SystemExit(f"cannot import ember: {ember_info['error']}")
    torch_info = None
    if not opts.no_torch:
        torch_info = worker(["info", "torch"], opts.timeout)
        if "error" in torch_info:
            log(f"torch unavailable ({torch_info['error']}): Ember alone")
            torch_info = None
    compile_note = None
    if opts.no_compile:
        compile_note = "ember.compile left out (--no-compile)."
    elif ember_info.get("compile_identity"):
        compile_note = ("ember.compile returns the function unchanged (eager), so there is "
                        "no compiled column yet.")
    variants = ["ember"] + (["torch"] if torch_info else []) + ([] if compile_note else ["compiled"])
    results = {
        "schema": 1,
        "machine": machine_info(torch_info, ember_info),
        "settings": {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                     "rounds": opts.rounds, "steps": opts.steps, "seconds": opts.seconds,
                     "noise_limit_cores": opts.noise_limit, "retries": opts.retries,
                     "only": opts.only or None, "compile_note": compile_note,
                     "device": opts.device,
                     "argv": sys.argv[1:] if argv is None else list(argv)},
        "targets": TARGETS,
        "workloads": {},
        "import": None,
    }
    for name in opts.names:
        if name == "import":
            continue
        # The BLAS floor is NumPy's, a CPU figure.
        libs = variants + (["blas"] if name in BLAS and opts.device == "cpu" else [])
        entry = time_workload(name, libs, opts, log)
        results["workloads"][name] = entry
        got = entry["libs"]
        log(f"{name:18} ember {ms(got.get('ember', {}).get('median_s'))} ms  "
            f"torch {ms(got.get('torch', {}).get('median_s'))} ms  {times(entry['ratio'])}  "
            f"quiet {quiet_cell(entry['quiet'])}"
            + (f"  problems {entry['problems']}" if entry["problems"] else ""))
    if "import" in opts.names:
        results["import"] = time_imports(["ember"] + (["torch"] if torch_info else []), opts, log)
        log(f"import ember {results['import']['libs']['ember']['median_s']:.3f} s")
    results["summary"] = summarize(results)
    results["settings"]["total_s"] = time.perf_counter() - started
    table = markdown(results)
    for path, text in ((opts.json, json.dumps(results, indent=1) + "\n"), (opts.md, table)):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    print(table)
    if opts.readme:
        if results["summary"]["noisy"] and not opts.force:
            raise SystemExit("noisy run: README left as it was (run again on a quiet machine, "
                             "or --force)")
        rewrite_readme(README, table)
        log(f"README.md table rewritten from {opts.md}")


if __name__ == "__main__":
    main()
