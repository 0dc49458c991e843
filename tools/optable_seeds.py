"""Run the op table under many sample seeds and collect the failures (not part of CI).

    python tools/optable_seeds.py [FIRST] [LAST] [--out DIR]

runs tests/ops/test_op_table.py once per EMBER_OPTABLE_SEED in FIRST..LAST (default 0..49),
each in its own process, writes each run's output to DIR/seed_N.txt (default
$TMPDIR/optable_seeds) and prints, per failing test id, the seeds it failed under.
"""
import argparse
import collections
import os
import pathlib
import re
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent


def run_seed(seed, out_dir):
    env = dict(os.environ, EMBER_OPTABLE_SEED=str(seed), PYTHONPATH=str(ROOT / "src"))
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/ops/test_op_table.py", "-p", "no:cacheprovider",
         "--tb=line", "-rf"],
        cwd=ROOT, env=env, capture_output=True, text=True)
    text = proc.stdout + proc.stderr
    (out_dir / f"seed_{seed}.txt").write_text(text)
    failed = re.findall(r"^FAILED (\S+)", text, re.M)
    # pyproject's addopts already has -q; one more would drop this summary line.
    summary = re.findall(r"^=* ?(\d+ (?:passed|failed).*?) ?=*$", text, re.M)
    summary = summary[-1] if summary else f"(no summary, exit code {proc.returncode})"
    return failed, summary


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("first", type=int, nargs="?", default=0)
    parser.add_argument("last", type=int, nargs="?", default=49)
    parser.add_argument("--out", default=os.path.join(tempfile.gettempdir(), "optable_seeds"))
    args = parser.parse_args()
    out_dir = pathlib.Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    by_test = collections.defaultdict(list)
    for seed in range(args.first, args.last + 1):
        failed, summary = run_seed(seed, out_dir)
        print(f"seed {seed}: {summary}", flush=True)
        for test in failed:
            by_test[test].append(seed)
    print(f"\n{len(by_test)} distinct failing tests over seeds {args.first}..{args.last}")
    for test, seeds in sorted(by_test.items()):
        print(f"  {test}: seeds {seeds}")
    return 1 if by_test else 0


if __name__ == "__main__":
    sys.exit(main())
