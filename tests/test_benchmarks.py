"""The benchmark suite: every workload computes torch's numbers in Ember, and the runner's
pieces (CPU-noise check, summaries, Markdown table, JSON, README rewrite) work on a tiny
run.  Timings are never asserted."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import ember

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
import run as bench  # noqa: E402
import time_one as bench_worker  # noqa: E402
from workloads import ALL, BLAS, WORKLOADS  # noqa: E402


@pytest.mark.parametrize("name", list(ALL))
def test_workload_computes_torchs_losses(name):
    ember.manual_seed(0)
    torch.manual_seed(0)
    mine, theirs = ALL[name][0](ember), ALL[name][0](torch)
    got = [mine().item() for _ in range(3)]
    want = [theirs().item() for _ in range(3)]
    np.testing.assert_allclose(got, want, rtol=2e-4, atol=1e-4)


def test_the_issue_workloads_are_all_there():
    kinds = {n: k for n, (_, k) in WORKLOADS.items()}
    assert sorted(n for n, k in kinds.items() if k == "train") == \
        ["cnn", "gpt", "lstm", "mlp", "mlp_gelu_ln", "resnet"]
    assert {"matmul", "conv2d", "softmax", "layer_norm", "cross_entropy"} <= set(kinds)
    assert kinds["chain"] == "chain" and kinds["mlp_inference"] == kinds["cnn_inference"] == "inference"


def test_blas_floor_runs_the_three_products():
    calls = []

    class Spy(np.ndarray):
        def __matmul__(self, other):
            calls.append((self.shape, np.asarray(other).shape))
            return np.asarray(self) @ np.asarray(other)
    step = BLAS["matmul"]()
    cells = step.__closure__
    for cell in cells:
        if isinstance(cell.cell_contents, np.ndarray):
            cell.cell_contents = cell.cell_contents.view(Spy)
    step()
    assert calls == [((1024, 1024), (1024, 1024))] * 3


STAT = """cpu  900 0 100 1000 0 0 0 0 0 0
cpu0 500 0 50 400 10 0 0 0 0 0
cpu1 400 0 50 600 20 1 2 3 0 0
intr 12345
ctxt 999
"""


def test_proc_stat_counts_busy_and_total_jiffies_per_core():
    assert bench.parse_proc_stat(STAT) == (550 + 456, 960 + 1076)
    assert bench.parse_proc_stat(STAT, cpus={1}) == (456, 1076)


def _record(median, loss, other=0.0):
    return {"median_s": median, "steps": 10, "loss": loss, "rss_delta_mib": 5.0,
            "quiet": {"other_cores": other, "wall_s": 1.0, "own_cpu_s": 1.0, "busy_cpu_s": 1.0}}


def test_summary_ratios_noise_and_a_compiled_step_that_computes_something_else():
    rounds = [{"ember": _record(3e-3, 2.0), "torch": _record(1e-3, 2.0),
               "compiled": _record(2e-3, 2.5)},
              {"ember": _record(5e-3, 2.0), "torch": _record(2e-3, 2.0, other=0.4),
               "compiled": _record(2e-3, 2.5)}]
    e = bench.summarize_workload("mlp", rounds, 1, {}, {"ember": 1.5}, limit=0.15)
    assert e["libs"]["ember"]["median_s"] == pytest.approx(4e-3)
    assert e["ratio"] == pytest.approx(4e-3 / 1.5e-3)
    assert e["loss_agrees"] is True and e["libs"]["ember"]["tracemalloc_peak_mib"] == 1.5
    assert e["quiet"] == {"max_other_cores": 0.4, "noisy_rounds_repeated": 1, "noisy": True,
                          "known": True}
    assert e["compiled_ratio"] is None and "compiled" not in e["libs"]
    assert e["problems"] == {"compiled": "loss differs from eager Ember's"}


class _Lib:
    """ember with another compile."""

    def __init__(self, compile):
        self.compile = compile

    def __getattr__(self, name):
        return getattr(ember, name)


def test_compiled_step_status():
    def wrap(fn):
        return lambda: fn()

    def boom(fn):
        raise NotImplementedError("not yet")
    step, status = bench_worker.make_step("chain", _Lib(wrap), compiled=True)
    assert status == "ok" and step().item() == pytest.approx(ALL["chain"][0](ember)().item())
    assert bench_worker.make_step("chain", _Lib(lambda fn: fn), compiled=True)[1] == "identity"
    assert bench_worker.make_step("chain", _Lib(boom), compiled=True) == \
        (None, "error: NotImplementedError: not yet")
    assert bench_worker.make_step("chain", ember, compiled=False)[1] is None


def _results(**entries):
    machine = bench.machine_info({"torch": "2.13", "torch_blas": "mkl", "torch_threads": 2},
                                 {"python": "3.11", "numpy": "2.4", "numpy_blas": "openblas 0.3"})
    results = {"machine": machine, "workloads": entries, "import": None,
               "settings": {"date": "today", "rounds": 3, "steps": None, "seconds": 1.0}}
    results["summary"] = bench.summarize(results)
    return results


def test_markdown_table_with_a_compiled_column_and_a_partial_run():
    rounds = [{"ember": _record(3e-3, 2.0), "torch": _record(2e-3, 2.0),
               "compiled": _record(1e-3, 2.0)}]
    mlp = bench.summarize_workload("mlp", rounds, 0, {}, {"ember": 4.0}, limit=0.15)
    cnn = bench.summarize_workload("cnn", [{k: v for k, v in rounds[0].items() if k != "compiled"}],
                                   0, {"compiled": "error: ValueError: no"}, {}, limit=0.15)
    md = bench.markdown(_results(mlp=mlp, cnn=cnn))
    assert md.startswith("Machine: ") and "torch 2.13 (mkl, 2 threads)" in md
    assert "| mlp | train | 3.00 | 2.00 | 1.50x | 1.00 | 0.50x | 4.0 | 5.0 / 5.0 | yes (0.00) |" in md
    assert "| cnn | train | 3.00 | 2.00 | 1.50x | - | - | - | 5.0 / 5.0 | yes (0.00) |" in md
    assert "| **training geometric mean** | train | | | **1.50x** (2 of 6) | | 0.50x (1 of 6) |" in md
    assert "| training steps, geometric mean <= 1.2x torch | 1.50x | 2 of 6 run |" in md
    assert "- cnn compiled: error: ValueError: no" in md


def test_training_geometric_mean_and_targets():
    def entry(ratio, kind="train", core=True):
        return {"kind": kind, "core": core, "ratio": ratio, "compiled_ratio": None,
                "vs_blas": None, "quiet": {"max_other_cores": 0.01, "known": True, "noisy": False}}
    results = {"workloads": {"mlp": entry(2.0), "cnn": entry(0.5), "gru": entry(9.0, core=False),
                             "chain": entry(1.1, kind="chain")}, "import": None}
    s = bench.summarize(results)
    assert s["train_geomean"] == pytest.approx(1.0)
    assert s["train_worst"] == ("mlp", 2.0) and s["chain_ratio"] == 1.1
    rows = {r[0]: r[1:] for r in bench.target_rows(s, has_torch=True, has_import=False)}
    assert rows["each eager training step <= 1.5x torch"] == ("worst mlp 2.00x", "2 of 6 run")
    results["workloads"].update({n: entry(1.0) for n in ("gpt", "resnet", "lstm", "mlp_gelu_ln")})
    s = bench.summarize(results)
    rows = {r[0]: r[1:] for r in bench.target_rows(s, has_torch=True, has_import=False)}
    assert rows["each eager training step <= 1.5x torch"] == ("worst mlp 2.00x", "no")
    assert rows["training steps, geometric mean <= 1.2x torch"] == ("1.00x", "yes")
    assert rows["150-op chain <= 1.2x torch"] == ("1.10x", "yes")


def test_readme_has_the_markers_and_rewrites_only_between_them(tmp_path):
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    assert text.count(bench.BEGIN) == 1 and text.count(bench.END) == 1
    p = tmp_path / "README.md"
    p.write_text(f"intro\n{bench.BEGIN}\nold table\n{bench.END}\noutro\n")
    bench.rewrite_readme(p, "| new |\n")
    assert p.read_text() == f"intro\n{bench.BEGIN}\n| new |\n{bench.END}\noutro\n"


def test_readme_is_written_from_full_runs_only():
    with pytest.raises(SystemExit):
        bench.parse_args(["--only", "chain", "--readme"])
    with pytest.raises(SystemExit):
        bench.parse_args(["--only", "nope"])
    assert bench.parse_args([]).names[-1] == "import"


def test_a_tiny_run_writes_json_and_the_table(tmp_path):
    out_json, out_md = tmp_path / "r.json", tmp_path / "r.md"
    proc = subprocess.run(
        [sys.executable, os.path.join(ROOT, "benchmarks", "run.py"), "--only",
         "chain,matmul,import", "--rounds", "1", "--steps", "2", "--retries", "0",
         "--import-runs", "1", "--json", str(out_json), "--md", str(out_md)],
        capture_output=True, text=True, timeout=240, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    r = json.loads(out_json.read_text())
    assert r["machine"]["cores"] >= 1 and r["machine"]["torch"]["torch"] == torch.__version__
    assert os.path.realpath(r["machine"]["ember"]["ember_file"]).startswith(
        os.path.realpath(os.path.join(ROOT, "src")))
    assert list(r["workloads"]) == ["chain", "matmul"]
    for name, libs in (("chain", {"ember", "torch"}), ("matmul", {"ember", "torch", "blas"})):
        e = r["workloads"][name]
        assert libs <= set(e["libs"]), e
        for lib in libs:
            assert e["libs"][lib]["steps"] == [2] and e["libs"][lib]["median_s"] > 0
        assert e["loss_agrees"] is True
        assert e["libs"]["ember"]["tracemalloc_peak_mib"] > 0
        assert set(e["quiet"]) == {"max_other_cores", "noisy_rounds_repeated", "noisy", "known"}
    assert r["workloads"]["matmul"]["vs_blas"] > 0
    assert r["import"]["libs"]["ember"]["median_s"] > 0
    assert set(r["summary"]) >= {"train_geomean", "chain_ratio", "matmul_vs_blas",
                                 "import_ember_s", "noisy", "max_other_cores"}
    md = out_md.read_text()
    assert md.startswith("Machine: ") and md in proc.stdout
    rows = [line for line in md.splitlines() if line.startswith("| ")]
    assert rows[1].startswith("| chain | chain | ") and rows[2].startswith("| matmul (BLAS ")
    assert any(line.startswith("| `import ember` <= 0.3 s | ") for line in rows)
