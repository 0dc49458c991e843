#!/usr/bin/env bash
# Issue 12's real-GPU check: versions, the CUDA tests, Ember vs torch on cuda, one table,
# all within five minutes.  Needs an NVIDIA GPU with CuPy and PyTorch already installed;
# installs nothing, downloads nothing, runs this checkout's Ember from src/.
#
#   scripts/gpu_check.sh [OUT_DIR]            results to OUT_DIR, else $OUT, else
#                                             benchmarks/results/
#   scripts/gpu_check.sh --standin [OUT_DIR]  dry run without a GPU (CPU stand-in)
#   scripts/gpu_check.sh --quick ...          test subsets, tiny sizes (seconds)
#
# Exit status: 0 when the CUDA tests passed (targets are reported, not enforced).
set -u
cd "$(dirname "$0")/.." || exit 2
export PYTHONPATH="src${PYTHONPATH:+:$PYTHONPATH}"
# Packages the GPU machine lacks (pytest, ml_dtypes...), made here by scripts/gpu_deps.sh
# and carried over with the working tree; the machine's own NumPy, CuPy and torch stay.
if [ -d .gpu_deps ]; then
    export PYTHONPATH="$PYTHONPATH:$PWD/.gpu_deps"
fi
PY="${PYTHON:-$(command -v python || command -v python3)}"
# The driver keeps its own budget (285 s); this is the backstop if it hangs anyway.
if command -v timeout >/dev/null; then
    exec timeout -k 5 300 "$PY" benchmarks/gpu_check.py "$@"
fi
exec "$PY" benchmarks/gpu_check.py "$@"
