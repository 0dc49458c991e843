"""Run pure-PyTorch libraries' own test suites on Ember, and on real torch for comparison.

    python tools/run_library_tests.py /path/to/ember-checkout [--only einops ...]
        [--work DIR] [--no-torch] [--timeout SECONDS]

A scratch venv (``--system-site-packages``, to reuse numpy/scipy/pytest) is made in the
work directory, outside the checkout; each library's source tree at a pinned version (with
its tests) is unpacked there, its pure-Python dependencies pip-installed into the venv, and
its tests run twice from that tree:

- on Ember: ``python -m ember.compat -m pytest ...`` with the checkout's ``src`` on
  PYTHONPATH; the hook sits first on ``sys.meta_path``, so ``import torch`` is Ember even
  though a real torch is installed in site-packages (checked before the runs);
- on torch: ``python -m pytest ...`` (real torch, if installed).

Per library it prints passed/failed/errors/skipped for both, then the tests that fail on
Ember but not on torch. Nothing of the libraries lands in the checkout.

Sources: PyPI sdists (through pip) that ship their tests; for a library whose sdist has
no tests, its public repository at the commit of the pinned release, taken from a local
mirror (``--mirror``) when present, else cloned from GitHub.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET

LIBRARIES = {
    "einops": dict(sdist="einops==0.8.2", tests=["einops/tests"],
                   env={"EINOPS_TEST_BACKENDS": "torch"}),
    "torchdiffeq": dict(git="rtqichen/torchdiffeq",
                        commit="657943acefa826ef04c025ebeb1ff5e9d60dc268",  # 0.2.5
                        paths=["torchdiffeq", "tests"],
                        tests=["tests/api_tests.py", "tests/event_tests.py",
                               "tests/gradient_tests.py", "tests/norm_tests.py",
                               "tests/odeint_tests.py"]),
    "torch-optimizer": dict(sdist="torch-optimizer==0.3.0", extra=["pytorch_ranger==0.1.1"],
                            tests=["tests"]),
    "pytorch-optimizer": dict(git="kozistr/pytorch_optimizer",
                              commit="7a076d2f8f09735e82f9ec1d2d389ec2526bbdbb",  # 3.9.0
                              paths=["pytorch_optimizer", "tests"],
                              tests=["tests"]),
}


def run(cmd, **kwargs):
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, check=True, **kwargs)


def make_venv(work):
    venv = os.path.join(work, "venv")
    python = os.path.join(venv, "bin", "python")
    if not os.path.exists(python):
        run([sys.executable, "-m", "venv", "--system-site-packages", venv])
    return python


def fetch_source(name, spec, work, python, mirror):
    """The library's unpacked source tree (package and tests) under ``work``."""
    dest = os.path.join(work, "src", name)
    if os.path.isdir(dest):
        return dest
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    if "sdist" in spec:
        download = tempfile.mkdtemp(dir=work)
        run([python, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
             spec["sdist"], "-d", download])
        (archive,) = os.listdir(download)
        with tarfile.open(os.path.join(download, archive)) as tar:
            tar.extractall(download, filter="data")
        (tree,) = [d for d in os.listdir(download) if d != archive]
        shutil.move(os.path.join(download, tree), dest)
        shutil.rmtree(download)
    else:
        repo = os.path.join(mirror, spec["git"].replace("/", "+"), "repo")
        if not os.path.isdir(repo):
            repo = os.path.join(work, "clones", name)
            if not os.path.isdir(repo):
                run(["git", "clone", "--bare", f"https://github.com/{spec['git']}", repo])
        os.makedirs(dest)
        archive = subprocess.run(["git", "--git-dir", repo, "archive", spec["commit"], "--",
                                  *spec["paths"]],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "x", "-C", dest], input=archive, check=True)
    return dest


def install(spec, python):
    """The library itself is imported from its pinned source tree (the tests' working
    directory, first on sys.path under ``python -m pytest``); only its pure-Python
    dependencies are pip-installed into the venv."""
    for extra in spec.get("extra", ()):
        run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", extra])


def check_hook(python, env):
    """Under the hook `torch` must be Ember even with a real torch in site-packages."""
    code = ("import torch, ember; assert torch.Tensor is ember.Tensor, torch.__file__; "
            "print('torch under the hook:', torch.__version__, torch.__file__)")
    run([python, "-m", "ember.compat", "-c", code], env=env)


def run_suite(python, args, source, env, report, timeout):
    cmd = [python, *args, "-m", "pytest", *spec_tests(source), "-q", "-p", "no:cacheprovider",
           f"--junitxml={report}", "-o", "junit_family=xunit1"]
    print("+", " ".join(cmd), flush=True)
    try:
        proc = subprocess.run(cmd, cwd=source[0], env=env, timeout=timeout,
                              capture_output=True, text=True)
        tail = proc.stdout.strip().splitlines()[-1:] if proc.stdout else []
        print("  ", *tail)
    except subprocess.TimeoutExpired:
        print(f"   timed out after {timeout}s")
    return parse_report(report)


def spec_tests(source):
    return source[1]


def parse_report(path):
    counts = dict(passed=0, failed=0, errors=0, skipped=0)
    failing = {}
    if not os.path.exists(path):
        return counts, failing
    for case in ET.parse(path).getroot().iter("testcase"):
        test = f"{case.get('classname')}::{case.get('name')}"
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error"):
                outcome = "failed" if child.tag == "failure" else "errors"
                message = (child.get("message") or "").strip().splitlines()
                failing[test] = message[0][:200] if message else child.tag
            elif child.tag == "skipped":
                outcome = "skipped"
        counts[outcome] += 1
    return counts, failing


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ember", help="path of the Ember checkout (its src/ is used)")
    parser.add_argument("--only", nargs="*", choices=sorted(LIBRARIES), default=None)
    parser.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "ember_libs"))
    parser.add_argument("--mirror", default="/work/.mirror")
    parser.add_argument("--no-torch", action="store_true", help="skip the real-torch runs")
    parser.add_argument("--timeout", type=int, default=1800, help="per suite, in seconds")
    args = parser.parse_args(argv)
    ember_src = os.path.join(os.path.abspath(args.ember), "src")
    work = os.path.abspath(args.work)
    if work.startswith(os.path.abspath(args.ember) + os.sep):
        parser.error("--work must be outside the Ember checkout")
    os.makedirs(work, exist_ok=True)
    python = make_venv(work)
    base_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    ember_env = dict(base_env, PYTHONPATH=ember_src)
    check_hook(python, ember_env)
    results = {}
    for name in args.only or LIBRARIES:
        spec = LIBRARIES[name]
        source = fetch_source(name, spec, work, python, args.mirror)
        install(spec, python)
        env_extra = spec.get("env", {})
        results[name] = {}
        runs = [("ember", ["-m", "ember.compat"], ember_env)]
        if not args.no_torch:
            runs.append(("torch", [], base_env))
        for label, prefix, env in runs:
            report = os.path.join(work, f"{name}-{label}.xml")
            if os.path.exists(report):
                os.remove(report)
            results[name][label] = run_suite(python, prefix, (source, spec["tests"]),
                                             dict(env, **env_extra), report, args.timeout)
    print()
    for name, by_run in results.items():
        for label, (counts, _) in by_run.items():
            print(f"{name:18s} {label:6s} " + "  ".join(f"{k} {v}" for k, v in counts.items()))
    for name, by_run in results.items():
        ember_failing = by_run["ember"][1]
        torch_failing = by_run.get("torch", ({}, {}))[1]
        only_ember = {t: m for t, m in ember_failing.items() if t not in torch_failing}
        if only_ember:
            print(f"\n{name}: failing on Ember only ({len(only_ember)})")
            for test, message in sorted(only_ember.items()):
                print(f"  {test}: {message}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
