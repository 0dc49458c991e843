#!/usr/bin/env bash
# Build .gpu_deps/: the pure-Python test and runtime packages a GPU machine may lack
# (pytest and what it needs, ml_dtypes for bfloat16, tqdm, threadpoolctl), installed
# for that machine's Python, to travel with the working tree (the device tool's `carry`)
# and be put on PYTHONPATH by scripts/gpu_check.sh.  SciPy is left out: it is large, and
# on a GPU Ember's special functions come from cupyx.scipy.special.  --no-deps: NumPy must
# stay the machine's own (CuPy and torch were built against it).
#
#   scripts/gpu_deps.sh [PYTHON_VERSION]     e.g. 3.12; default: this machine's Python's
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-$(command -v python || command -v python3)}"
VER="${1:-$("$PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')}"
rm -rf .gpu_deps
"$PY" -m pip install --quiet --target .gpu_deps --only-binary=:all: --implementation cp \
    --python-version "$VER" --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
    --no-deps pytest pluggy iniconfig packaging pygments ml_dtypes tqdm threadpoolctl
du -sh .gpu_deps
