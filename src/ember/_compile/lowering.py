"""Which recorded ops the program may run as a NumPy (g)ufunc with ``out=`` a planned buffer.

Each candidate is checked when it is recorded, on the very arrays the op read (before any
later in-place write or optimizer step changes them): the substitute must give the
recorded output bit for bit, or the op keeps calling its own forward.
"""
import numpy as np


def ufunc_for(ins):
    """``(ufunc, extra constant args)`` computing ``ins`` exactly as its forward, or None."""
    f, name, params = ins.forward, ins.op.name, ins.params
    if isinstance(f, np.ufunc):
        if f.nout == 1 and not params and f.nin == len(ins.args):
            return f, ()
        return None
    if name in ("add", "sub") and set(params) <= {"alpha"} and params.get("alpha", 1) == 1:
        return (np.add if name == "add" else np.subtract), ()
    if name == "div" and params.get("rounding_mode") is None and set(params) <= {"rounding_mode"}:
        return np.true_divide, ()
    if name == "neg" and not params:
        return np.negative, ()
    if name == "relu" and not params:
        return np.maximum, ("zero",)
    # Matrix products into planned buffers too: the same BLAS call NumPy makes without out=
    # (checked bit for bit like the rest; an operand with a zero stride is left to the
    # forward, which copies it first for speed).
    if name in ("mm", "matmul") and not params and len(ins.args) == 2:
        return np.matmul, ()
    if name == "addmm" and params.get("alpha") == 1 and params.get("beta") == 1:
        return _addmm_out, ()
    return None


def _addmm_out(bias, m1, m2, out=None):
    r = np.matmul(m1, m2, out=out)
    return np.add(r, bias, out=r)


PRODUCTS = (np.matmul, _addmm_out)




def lowering_matches(ins, vals, out):
    """``ins``'s substitute computes ``out`` exactly from ``vals`` (its forward's arguments,
    casts applied); ``ins.args`` must carry no cast of its own."""
    uf = ufunc_for(ins)
    if uf is None or len(ins.outs) != 1:
        return False
    f, extra = uf
    for a, v in zip(ins.args, vals):
        if a[0] == "s":
            if a[2] is not None or type(v) is not np.ndarray:
                return False
            if f in PRODUCTS and (v.dtype.kind not in "fc" or 0 in v.strides):
                return False
    if type(out) is not np.ndarray or out.ndim == 0 or not out.flags.c_contiguous:
        return False
    vals = list(vals) + ([out.dtype.type(0)] if extra else [])
    try:
        got = f(*vals)
    except Exception:
        return False
    return (type(got) is np.ndarray and got.shape == out.shape and got.dtype == out.dtype
            and np.array_equal(got, out, equal_nan=out.dtype.kind in "fc"))
