"""Array-module operations that CuPy has only in part, written once for any module.

NumPy's ``ufunc.at`` takes every ufunc and dtype; CuPy's is a scatter kernel on atomics,
only for add/subtract/maximum/minimum/bitwise ops and only for 32/64-bit (and, for add,
float16) dtypes.  NumPy's ``ufunc.accumulate`` takes every binary ufunc; CuPy's only add
and multiply.  Op code calls these helpers instead: host arrays take NumPy's own method,
device arrays CuPy's where it has one, and an exact composition of array ops otherwise.
"""
import numpy as np

from .._device import array_module

# dtypes CuPy's ``ufunc.at`` takes, per ufunc (cupy/_core/_routines_indexing.pyx)
_INTS = frozenset({"int32", "int64", "uint32", "uint64"})
_CUPY_AT = {"add": _INTS | {"float16", "float32", "float64"},
            "maximum": _INTS | {"float32", "float64"},
            "minimum": _INTS | {"float32", "float64"}}


def ufunc_at(name, out, index, values):
    """``np.<name>.at(out, index, values)``: unbuffered, so repeated indices all apply."""
    xp = array_module(out)
    if xp is np:
        getattr(np, name).at(out, index, values)
        return
    dt = out.dtype
    if dt.name in _CUPY_AT.get(name, ()):
        getattr(xp, name).at(out, index, values)
    elif dt.kind == "c" and name == "add":
        v = values if hasattr(values, "dtype") else xp.asarray(values, dtype=dt)
        ufunc_at("add", out.real, index, v.real)
        ufunc_at("add", out.imag, index, v.imag)
    elif name in _CUPY_AT and dt.kind != "c":
        # a wider dtype CuPy scatters into, exact for these values (bool: add is "or")
        wide = np.float32 if dt.kind in "fV" else np.int64
        work = out.astype(wide)
        v = values.astype(wide) if hasattr(values, "dtype") else wide(values)
        getattr(xp, name).at(work, index, v)
        out[...] = work.astype(dt)
    else:
        _at_by_passes(xp, getattr(xp, name), out, index, values)


def _at_by_passes(xp, fn, out, index, values):
    """``fn.at`` for any binary ufunc: each pass applies the first remaining value of every
    position at once, so a position hit k times takes k passes, in the order given."""
    work = out if out.flags.c_contiguous else xp.ascontiguousarray(out)
    flat = work.reshape(-1)
    pos = xp.arange(out.size).reshape(out.shape)[index]
    vals = xp.broadcast_to(xp.asarray(values, dtype=out.dtype), pos.shape).reshape(-1)
    pos = pos.reshape(-1)
    while pos.size:
        first_pos, first = xp.unique(pos, return_index=True)
        flat[first_pos] = fn(flat[first_pos], vals[first])
        rest = xp.ones(pos.shape, dtype=bool)
        rest[first] = False
        pos, vals = pos[rest], vals[rest]
    if work is not out:
        out[...] = work


def accumulate(name, a, axis):
    """``np.<name>.accumulate(a, axis=axis)`` for a binary ufunc (maximum, logaddexp...)."""
    xp = array_module(a)
    if xp is np or name in ("add", "multiply"):
        return getattr(xp, name).accumulate(a, axis=axis)
    # Inclusive scan in log2(n) passes (Hillis-Steele): after the pass with step k each
    # element combines the 2k elements ending at it.  The right side is computed before the
    # assignment, so every pass reads the previous pass's values.
    fn = getattr(xp, name)
    out = xp.moveaxis(a, axis, -1).copy()
    n, k = out.shape[-1], 1
    while k < n:
        out[..., k:] = fn(out[..., k:], out[..., :-k])
        k *= 2
    return xp.moveaxis(out, -1, axis)
