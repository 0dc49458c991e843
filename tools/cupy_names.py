"""Write src/ember/_standin/_names.py: the public names of a real CuPy install, and the
keyword arguments its functions and array methods take.

The CUDA stand-in (``ember._standin``) exposes only the names real CuPy has, and refuses
keyword arguments CuPy's function does not take, so that op code calling a NumPy function
CuPy lacks, or passing NumPy-only options, fails on the stand-in as it would on a GPU.
Run with a Python that has CuPy installed (no GPU is needed to import it):

    python tools/cupy_names.py PATH/TO/src/ember/_standin/_names.py
"""
import importlib
import inspect
import re
import sys

MODULES = ("cupy", "cupy.linalg", "cupy.fft", "cupy.random", "cupyx", "cupyx.scipy.special")


def _keywords(fn):
    """The keyword names ``fn`` takes; None where any is accepted or none can be read."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        # Cython methods: the signature is the docstring's first line (embedsignature)
        m = re.match(r"[\w.]+\((.*?)\)", (getattr(fn, "__doc__", None) or "").strip())
        if m is None:
            return None
        names = [a.split("=")[0].strip().lstrip("*") for a in m.group(1).split(",")]
        if any(a.strip().startswith("**") for a in m.group(1).split(",")):
            return None
        return tuple(n for n in names if n and n != "self")
    if any(p.kind == p.VAR_KEYWORD for p in params):
        return None
    return tuple(p.name for p in params if p.kind != p.VAR_POSITIONAL)


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
    # keyword arguments of functions (not ufuncs: those take NumPy's) and array methods
    lines.append("KEYWORDS = {")
    for name in MODULES:
        mod = importlib.import_module(name)
        for attr in sorted(n for n in dir(mod) if not n.startswith("_")):
            fn = getattr(mod, attr)
            if callable(fn) and not isinstance(fn, (type, cupy.ufunc)):
                kw = _keywords(fn)
                if kw is not None:
                    lines.append(f"    {name + '.' + attr!r}: {kw!r},")
    for attr in nd:
        if not attr.startswith("_"):
            kw = _keywords(getattr(cupy.ndarray, attr))
            if kw is not None and callable(getattr(cupy.ndarray, attr)):
                lines.append(f"    {'ndarray.' + attr!r}: {kw!r},")
    lines += ["}", ""]
    with open(path, "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv[1])
