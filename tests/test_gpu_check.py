"""scripts/gpu_check.sh end to end on the CPU stand-in (--standin --quick): versions, the
stand-in cases of the CUDA tests, every workload row of the table in Ember and torch,
and the results written where asked.  The real-GPU run is the same script without
--standin; timings are never asserted."""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
import gpu_check  # noqa: E402

ROWS = ["mlp (train step)", "cnn (train step)", "gpt (train step)", "resnet (train step)",
        "lstm (train step)", "matmul 256x256 float32", "a + b, 1M float32"]


@pytest.fixture(scope="module")
def standin_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("gpu_check")
    env = {k: v for k, v in os.environ.items() if k != "OUT"}
    proc = subprocess.run([os.path.join(ROOT, "scripts", "gpu_check.sh"), "--standin",
                           "--quick", str(out)], capture_output=True, text=True, timeout=120,
                          env=env, cwd=ROOT)
    return proc, out


def test_script_is_executable_bash():
    path = os.path.join(ROOT, "scripts", "gpu_check.sh")
    assert os.access(path, os.X_OK)
    with open(path) as f:
        assert f.readline().strip() == "#!/usr/bin/env bash"


def test_standin_run_prints_and_writes_the_table(standin_run):
    proc, out = standin_run
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    text = (out / "gpu_check.md").read_text()
    assert text.startswith("# Ember GPU check — STAND-IN dry run")
    header = "| workload | ember ms | torch ms | ratio | target | met? | notes |"
    assert header in proc.stdout and header in text
    table = [line for line in text.splitlines() if line.startswith("| ")][1:]
    assert [line.split(" | ")[0][2:] for line in table] == ROWS
    record = json.loads((out / "gpu_check.json").read_text())
    assert record["standin"] is True and record["versions"]["ember_cuda_available"] is True
    for row in record["table"]:
        # Every row measured in both libraries, with a ratio and a verdict.
        assert row["ember_ms"] > 0 and row["torch_ms"] > 0 and row["ratio"] > 0, row
        assert row["met"] in (("yes", "no") if "resnet" not in row["workload"]
                              and "lstm" not in row["workload"] else ("—",)), row
    for name in ("mlp", "cnn", "gpt", "resnet", "lstm"):
        e = record["benchmarks"]["ember"]["workloads"][name]
        t = record["benchmarks"]["torch"]["workloads"][name]
        assert e["device"] == "cuda" and t["device"] == "cpu"
        assert e["loss"] == pytest.approx(t["loss"], rel=1e-3, abs=1e-4), name
    copy = record["benchmarks"]["torch"]["workloads"]["copy_large"]
    assert copy["unit"] == "byte" and copy["rate_per_s"] > 0


def test_standin_run_reports_the_cuda_tests(standin_run):
    proc, out = standin_run
    tests = json.loads((out / "gpu_check.json").read_text())["tests"]
    assert list(tests) == ["op_table", "layers"]
    for name, t in tests.items():
        assert t["status"] == "passed" and t["counts"]["passed"] > 0, (name, t)
        assert "--maxfail=30 -q -p no:cacheprovider" in t["command"] and "standin" in t["command"]
        assert (out / t["log"]).exists()
    assert "op_table: passed" in proc.stdout and "ember_gpu: Ember CUDA stand-in" in proc.stdout


def test_pytest_summaries_including_a_run_cut_off_by_its_timeout():
    s = gpu_check.summarize_pytest(0, "....\n4 passed, 10 deselected in 1.0s\n")
    assert s["status"] == "passed" and s["counts"] == {"passed": 4, "deselected": 10}
    s = gpu_check.summarize_pytest(1, "..F\nFAILED tests/x.py::t[cuda-add-0] - E\n"
                                      "1 failed, 2 passed in 1.0s\n")
    assert s["status"] == "failed" and s["counts"] == {"failed": 1, "passed": 2}
    assert s["failures"] == ["FAILED tests/x.py::t[cuda-add-0] - E"]
    s = gpu_check.summarize_pytest(None, "........s.  [ 40%]\n.....F")
    assert s["status"] == "timed out"
    assert s["counts"] == {"passed": 14, "failed": 1, "errors": 0, "skipped": 1}


def test_real_mode_selects_only_the_real_cuda_cases(monkeypatch, tmp_path):
    """Without --standin the tests run the "cuda" parametrisation, never the stand-in's."""
    seen = []
    monkeypatch.setattr(gpu_check, "run", lambda cmd, timeout, env: (
        seen.append((cmd, env)), (0, "1 passed in 0.1s", ""))[1])
    gpu_check.tests(gpu_check.Clock(100), gpu_check.child_env(False), False, False, tmp_path)
    ks = [cmd[cmd.index("-k") + 1] for cmd, _ in seen]
    assert ks == ["on_cuda and not standin", "not standin"]
    assert all("EMBER_CUDA_STANDIN" not in env for _, env in seen)
