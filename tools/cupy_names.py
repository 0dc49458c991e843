"""Write src/ember/_standin/_names.py: the public names of a real CuPy install.

The CUDA stand-in (``ember._standin``) exposes only the names real CuPy has, so that op
code calling a NumPy function CuPy lacks fails on the stand-in as it would on a GPU.
Run with a Python that has CuPy installed (no GPU is needed to import it):

    python tools/cupy_names.py PATH/TO/src/ember/_standin/_names.py
"""
import importlib
import sys

MODULES = ("cupy", "cupy.linalg", "cupy.fft", "cupy.random", "cupyx", "cupyx.scipy.special")


def main(path):
    import cupy
    lines = ['"""Public names of CuPy ' + cupy.__version__ + ' (made by tools/cupy_names.py)."""',
             "", "NAMES = {"]
    for name in MODULES:
        mod = importlib.import_module(name)
        names = sorted(n for n in dir(mod) if not n.startswith("_"))
        lines.append(f"    {name!r}: frozenset({names!r}),")
    lines.append("}")
    nd = sorted(n for n in dir(cupy.ndarray) if not n.startswith("_") or n.startswith("__"))
    lines += ["", f"NDARRAY = frozenset({nd!r})", ""]
    with open(path, "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv[1])
