"""Tensor printing: ``repr(t)`` / ``str(t)`` and the print options.

The output is meant to be character-for-character what torch prints, so that
doctests, logs and snapshots written against torch keep working with Ember.  All
number formatting is done here from the host NumPy values; the rules (when to use
integer, fixed or scientific notation, how wide a column is, where lines wrap)
were worked out by comparing against torch's output.
"""
import contextlib
import math

import numpy as np

__all__ = ["set_printoptions", "get_printoptions", "printoptions", "tensor_repr"]

_PROFILES = {
    "default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
    "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
    "full": dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80),
}

# Module-level state, as in torch: print options are process-wide, not per thread.
_OPTS = dict(_PROFILES["default"], sci_mode=None)


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """Set the options used when printing tensors.

    A profile ('default', 'short', 'full') resets the four numeric options first;
    explicit arguments then win.
    ``sci_mode`` is always assigned, so any call without it returns to automatic
    notation -- torch behaves the same way.
    """
    # An unknown profile name is ignored rather than rejected, as torch does.
    if profile in _PROFILES:
        _OPTS.update(_PROFILES[profile])
    for key, value in (("precision", precision), ("threshold", threshold),
                       ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            _OPTS[key] = value
    _OPTS["sci_mode"] = sci_mode


def get_printoptions():
    """The current print options as a new dict."""
    return {k: _OPTS[k] for k in ("precision", "threshold", "edgeitems", "linewidth", "sci_mode")}


@contextlib.contextmanager
def printoptions(**kwargs):
    """Temporarily apply ``set_printoptions(**kwargs)``; the old options come back on exit."""
    saved = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**saved)


# ----------------------------------------------------------------------------- values

def _host_values(t):
    """The tensor's values as a NumPy array that Python formatting understands."""
    data = t._data
    if not isinstance(data, np.ndarray):
        data = data.get() if hasattr(data, "get") else np.asarray(data)
    name = t.dtype.name
    if name in ("float16", "bfloat16"):
        # Reduced-precision floats are shown through float32, so they format like
        # any other float (bfloat16 from ml_dtypes is not a NumPy float kind).
        data = data.astype(np.float32)
    return data


def _summary_values(a, edge):
    """Only the elements that will be shown, so they alone decide the number format."""
    if a.ndim == 0:
        return a
    if a.ndim == 1:
        if a.shape[0] > 2 * edge:
            # ``a[-0:]`` is the whole array; kept on purpose, it matches torch for edgeitems=0.
            return np.concatenate((a[:edge], a[-edge:]))
        return a
    if not edge:
        return np.empty((0,) * a.ndim, dtype=a.dtype)
    n = a.shape[0]
    rows = list(range(n))
    if n > 2 * edge:
        rows = rows[:edge] + rows[n - edge:]
    return np.stack([_summary_values(a[i], edge) for i in rows])


class _Format:
    """How one column of numbers (all real, or the real/imaginary parts) is written."""

    def __init__(self, values, precision, sci_override):
        self.precision = precision
        self.floating = values.dtype.kind in "fc"
        self.int_mode = True
        self.sci_mode = False
        self.width = 1
        flat = values.reshape(-1)
        if not self.floating:
            for v in flat.tolist():
                self.width = max(self.width, len(str(v)))
            return
        shown = flat[np.isfinite(flat) & (flat != 0)]
        if shown.size == 0:
            # Only zeros / nan / inf: torch leaves the style alone here, even a
            # forced sci_mode, so such tensors keep printing "0." and "nan".
            return
        mags = np.abs(shown).astype(np.float64)
        lo, hi = float(mags.min()), float(mags.max())
        spread = hi / lo  # Python floats: overflows to inf instead of raising
        self.int_mode = bool(np.all(shown == np.ceil(shown)))
        self.sci_mode = spread > 1000.0 or hi > 1.0e8 or (not self.int_mode and lo < 1.0e-4)
        if sci_override is not None:
            self.sci_mode = sci_override
        # Column width comes from the nonzero finite values in the final style.
        self.width = max(len(self(v)) for v in shown.tolist())

    def __call__(self, v):
        if not self.floating:
            s = str(v)
        elif self.sci_mode:
            s = f"{v:.{self.precision}e}"
        elif self.int_mode:
            s = f"{v:.0f}"
            if math.isfinite(v):
                s += "."
        else:
            s = f"{v:.{self.precision}f}"
        return s.rjust(self.width)


def _element(v, fmt, imag_fmt):
    if imag_fmt is None:
        return fmt(v)
    re = fmt(v.real)
    im = (imag_fmt(v.imag) + "j").lstrip()
    return re + im if im[0] in "+-" else re + "+" + im


def _vector(a, indent, summarize, fmt, imag_fmt, opts):
    item_len = fmt.width + 2
    if imag_fmt is not None:
        item_len += imag_fmt.width + 1  # the imaginary part and its "j"
    per_line = max(1, int(math.floor((opts["linewidth"] - indent) / item_len)))
    edge = opts["edgeitems"]
    if summarize and not edge:
        items = ["..."]
    elif summarize and a.shape[0] > 2 * edge:
        items = ([_element(v, fmt, imag_fmt) for v in a[:edge].tolist()] + [" ..."]
                 + [_element(v, fmt, imag_fmt) for v in a[-edge:].tolist()])
    else:
        items = [_element(v, fmt, imag_fmt) for v in a.tolist()]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(a, indent, summarize, fmt, imag_fmt, opts):
    if a.ndim == 0:
        return _element(a.item(), fmt, imag_fmt)
    if a.ndim == 1:
        return _vector(a, indent, summarize, fmt, imag_fmt, opts)
    edge = opts["edgeitems"]
    n = a.shape[0]
    if summarize and n > 2 * edge:
        parts = ([_nested(a[i], indent + 1, summarize, fmt, imag_fmt, opts) for i in range(edge)]
                 + ["..."]
                 + [_nested(a[i], indent + 1, summarize, fmt, imag_fmt, opts)
                    for i in range(n - edge, n)])
    else:
        parts = [_nested(a[i], indent + 1, summarize, fmt, imag_fmt, opts) for i in range(n)]
    # One blank line between 2-D blocks, two between 3-D blocks, and so on.
    sep = "," + "\n" * (a.ndim - 1) + " " * (indent + 1)
    return "[" + sep.join(parts) + "]"


def _body(a, indent, opts):
    """The bracketed values of a non-empty tensor."""
    summarize = a.size > opts["threshold"]
    edge = opts["edgeitems"]
    prec, sci = opts["precision"], opts["sci_mode"]
    if a.dtype.kind == "c":
        shown = _summary_values(a, edge) if summarize else a
        fmt = _Format(shown.real, prec, sci)
        imag_fmt = _Format(shown.imag, prec, sci)
    else:
        fmt = _Format(_summary_values(a, edge) if summarize else a, prec, sci)
        imag_fmt = None
    return _nested(a, indent, summarize, fmt, imag_fmt, opts)


# ----------------------------------------------------------------------------- repr

def _join_suffixes(text, suffixes, indent, linewidth):
    # The "+ 1" over-counts the last line by two when there is no newline at all
    # (rfind gives -1); torch measures it the same way, so wrapping points agree.
    line_len = len(text) - text.rfind("\n") + 1
    out = [text]
    for suffix in suffixes:
        if line_len + len(suffix) + 2 > linewidth:
            out.append(",\n" + " " * indent + suffix)
            line_len = indent + len(suffix)
        else:
            out.append(", " + suffix)
            line_len += len(suffix) + 2
    out.append(")")
    return "".join(out)


def _grad_fn_name(node):
    name = getattr(node, "name", None)
    if callable(name):
        name = name()
    # torch prints a C++ node's name without its namespace (CopySlices).
    return (name if isinstance(name, str) else type(node).__name__).rsplit("::", 1)[-1]


def _prefix(t):
    from ._tensor import Tensor
    cls = type(t)
    # Parameters print their contents as a plain tensor (their own repr adds the
    # "Parameter containing:" header); other subclasses show their class name.
    if cls is Tensor or cls.__name__ == "Parameter":
        return "tensor("
    return cls.__name__ + "("


def tensor_repr(t, tensor_contents=None):
    """What ``repr(t)`` returns; ``tensor_contents`` replaces the bracketed values."""
    from ._dtype import get_default_dtype
    opts = dict(_OPTS)
    prefix = _prefix(t)
    indent = len(prefix)
    suffixes = []

    dev = t.device
    if dev.type != "cpu":
        suffixes.append(f"device='{dev}'")

    name = t.dtype.name
    default = get_default_dtype().name
    default_complex = "complex128" if default == "float64" else "complex64"
    implied_dtype = name in (default, default_complex, "int64", "bool")

    a = _host_values(t)
    if a.size == 0:
        if a.ndim != 1:
            suffixes.append(f"size={tuple(a.shape)}")
        # No values to hint at the type, so anything but the default float is named.
        if name != default:
            suffixes.append(f"dtype={t.dtype!r}")
        body = "[]"
    else:
        if not opts["edgeitems"]:
            suffixes.append(f"size={tuple(a.shape)}")
        if not implied_dtype:
            suffixes.append(f"dtype={t.dtype!r}")
        body = None if tensor_contents is not None else _body(a, indent, opts)
    if tensor_contents is not None:
        body = tensor_contents

    grad_fn = t._grad_fn
    if grad_fn is not None:
        suffixes.append(f"grad_fn=<{_grad_fn_name(grad_fn)}>")
    elif t._requires_grad:
        suffixes.append("requires_grad=True")

    return _join_suffixes(prefix + body, suffixes, indent, opts["linewidth"])
