"""``ember.testing``: ``assert_close`` and ``make_tensor``, as torch.testing.

Tolerances default by dtype as torch's do, and failures raise AssertionError with
torch's message (mismatch count, greatest absolute and relative differences).
"""
import math

import numpy as np

from . import _dtype as D
from ._tensor import Tensor

__all__ = ["assert_close", "make_tensor"]

# (rtol, atol) per dtype, torch's defaults
_TOLERANCES = {D.float16: (1e-3, 1e-5), D.bfloat16: (1.6e-2, 1e-5), D.float32: (1.3e-6, 1e-5),
               D.float64: (1e-7, 1e-7), D.complex64: (1.3e-6, 1e-5),
               D.complex128: (1e-7, 1e-7)}


def _tolerances(dtype, rtol, atol):
    if (rtol is None) != (atol is None):
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but got "
                         f"no {'rtol' if rtol is None else 'atol'}.")
    if rtol is not None:
        return rtol, atol
    return _TOLERANCES.get(dtype, (0.0, 0.0))


def _host(t):
    a = t.detach()._data
    return a if isinstance(a, np.ndarray) else a.get()


def _fmt_index(idx):
    return "(" + ", ".join(str(int(i)) for i in idx) + ("," if len(idx) == 1 else "") + ")"


def _compare_tensors(actual, expected, rtol, atol, equal_nan, check_dtype, check_device, msg,
                     path=""):
    for attr, a, e in (("shape", actual.shape, expected.shape),):
        if a != e:
            raise AssertionError(f"The values for attribute '{attr}' do not match: {a} != {e}.")
    if check_device and actual.device != expected.device:
        raise AssertionError(f"The values for attribute 'device' do not match: {actual.device} "
                             f"!= {expected.device}.")
    if check_dtype and actual.dtype is not expected.dtype:
        raise AssertionError(f"The values for attribute 'dtype' do not match: {actual.dtype} != "
                             f"{expected.dtype}.")
    dtype = D.promote_types(actual.dtype, expected.dtype)
    rtol, atol = _tolerances(dtype, rtol, atol)
    a, e = _host(actual).astype(dtype.np), _host(expected).astype(dtype.np)
    exact = dtype.category < D._FLOAT
    if exact:
        close = a == e
    else:
        wide = np.complex128 if dtype.is_complex else np.float64
        with np.errstate(all="ignore"):
            close = np.isclose(a.astype(wide), e.astype(wide), rtol=rtol, atol=atol,
                               equal_nan=equal_nan)
    if close.all():
        return
    if not a.ndim:  # 0-dim tensors are reported as scalars, as torch does
        _scalar_failure(a.item(), e.item(), rtol, atol, exact, msg, path)
    report = _report(a, e, close, rtol, atol, exact) + _where(path)
    if msg is not None:
        raise AssertionError(msg(report) if callable(msg) else msg)
    raise AssertionError(report)


def _where(path):
    return f"\n\nThe failure occurred for item {path}" if path else ""


def _report(a, e, close, rtol, atol, exact):
    """torch's summary; differences are computed in the compared dtype, as torch does."""
    total = close.size
    bad = int(total - close.sum())
    with np.errstate(all="ignore"):
        if exact:
            diff = np.abs(a.astype(np.int64) - e.astype(np.int64))
            rel = diff.astype(np.float32) / np.abs(e.astype(np.float32))
        else:
            diff = np.abs(a - e)
            rel = diff / np.abs(e)
    diff = np.where(close, 0, diff)
    rel = np.where(close, 0, rel)
    # NaN differences are the greatest (torch reports them as nan)
    i_abs = np.unravel_index(np.argmax(np.where(np.isnan(diff), np.inf, diff)), diff.shape)
    i_rel = np.unravel_index(np.argmax(np.where(np.isnan(rel), np.inf, rel)), rel.shape)
    head = "Tensor-likes are not equal!" if exact else "Tensor-likes are not close!"
    lines = [head, "", f"Mismatched elements: {bad} / {total} ({100 * bad / total:.1f}%)"]
    dabs = diff[i_abs] if diff.ndim else diff
    drel = rel[i_rel] if rel.ndim else rel
    if exact:
        lines.append(f"Greatest absolute difference: {int(dabs)} at index {_fmt_index(i_abs)}")
        lines.append(f"Greatest relative difference: {float(drel)} at index {_fmt_index(i_rel)}")
    else:
        lines.append(f"Greatest absolute difference: {float(dabs)} at index {_fmt_index(i_abs)} "
                     f"(up to {atol} allowed)")
        lines.append(f"Greatest relative difference: {float(drel)} at index {_fmt_index(i_rel)} "
                     f"(up to {rtol} allowed)")
    return "\n".join(lines)


def _scalar_failure(actual, expected, rtol, atol, exact, msg, path):
    diff = abs(actual - expected)
    rel = diff / abs(expected) if expected else math.inf
    if exact:
        text = (f"Scalars are not equal!\n\nExpected {expected} but got {actual}.\n"
                f"Absolute difference: {diff}\nRelative difference: {rel}")
    else:
        text = (f"Scalars are not close!\n\nExpected {expected} but got {actual}.\n"
                f"Absolute difference: {diff} (up to {atol} allowed)\n"
                f"Relative difference: {rel} (up to {rtol} allowed)")
    text += _where(path)
    raise AssertionError(msg(text) if callable(msg) else msg or text)


def _compare_numbers(actual, expected, rtol, atol, equal_nan, msg, path):
    if isinstance(actual, bool) or isinstance(expected, bool) or \
            isinstance(actual, int) and isinstance(expected, int):
        if actual != expected:
            _scalar_failure(actual, expected, 0, 0, True, msg, path)
        return
    rtol, atol = _tolerances(D.float64, rtol, atol)
    if equal_nan and math.isnan(actual) and math.isnan(expected):
        return
    if not abs(actual - expected) <= atol + rtol * abs(expected):
        _scalar_failure(actual, expected, rtol, atol, False, msg, path)


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None,
                 equal_nan=False, check_device=True, check_dtype=True, check_layout=True,
                 check_stride=False, msg=None):
    """Assert that ``actual`` and ``expected`` are close (tensors, numbers, or nested
    sequences/mappings of them), as torch.testing.assert_close."""
    _assert_close(actual, expected, rtol, atol, equal_nan, check_device, check_dtype, msg, "")


def _assert_close(actual, expected, rtol, atol, equal_nan, check_device, check_dtype, msg, path):
    if isinstance(actual, Tensor) or isinstance(expected, Tensor):
        if not (isinstance(actual, Tensor) and isinstance(expected, Tensor)):
            raise TypeError(f"No comparison pair was able to handle inputs of type "
                            f"{_type_name(actual)} and {_type_name(expected)}.")
        _compare_tensors(actual, expected, rtol, atol, equal_nan, check_dtype, check_device, msg,
                         path)
    elif isinstance(actual, (list, tuple)) and isinstance(expected, (list, tuple)):
        if len(actual) != len(expected):
            raise AssertionError(f"The length of the sequences mismatch: {len(actual)} != "
                                 f"{len(expected)}")
        for i, (a, e) in enumerate(zip(actual, expected)):
            _assert_close(a, e, rtol, atol, equal_nan, check_device, check_dtype, msg,
                          f"{path}[{i}]")
    elif isinstance(actual, dict) and isinstance(expected, dict):
        if set(actual) != set(expected):
            raise AssertionError(f"The keys of the mappings do not match:\nMissing keys in the "
                                 f"actual mapping: {sorted(set(expected) - set(actual))}\nAdditional "
                                 f"keys in the actual mapping: {sorted(set(actual) - set(expected))}")
        for k in expected:
            _assert_close(actual[k], expected[k], rtol, atol, equal_nan, check_device,
                          check_dtype, msg, f"{path}[{k!r}]")
    elif isinstance(actual, (int, float, bool)) and isinstance(expected, (int, float, bool)):
        _compare_numbers(actual, expected, rtol, atol, equal_nan, msg, path)
    else:
        raise TypeError(f"No comparison pair was able to handle inputs of type "
                        f"{_type_name(actual)} and {_type_name(expected)}.")


def _type_name(x):
    # torch's message names its own class; Ember's Tensor plays that part
    return "<class 'torch.Tensor'>" if isinstance(x, Tensor) else str(type(x))


def make_tensor(*shape, dtype, device=None, low=None, high=None, requires_grad=False,
                noncontiguous=False, exclude_zero=False, memory_format=None):
    """A tensor of random values in [low, high) (torch's defaults: [-9, 9] / [-9, 10))."""
    from ._random import rand, randint
    if len(shape) == 1 and isinstance(shape[0], (list, tuple)):
        shape = tuple(shape[0])
    if dtype is D.bool:
        t = randint(0, 2, shape, device=device).to(D.bool)
    elif dtype.category == D._INT:
        lo = -9 if low is None else math.ceil(low)
        hi = 10 if high is None else math.ceil(high) if high != int(high) else int(high)
        if dtype is D.uint8:
            lo = max(lo, 0)
        if lo >= hi:
            raise ValueError(f"The value low ({low}) must be less than high ({high}).")
        t = randint(lo, hi, shape, device=device, dtype=dtype)
    else:
        lo = -9.0 if low is None else float(low)
        hi = 9.0 if high is None else float(high)
        if lo > hi:
            raise ValueError(f"`low` must be less than or equal to `high`, but got {low} > {high}")
        real = dtype.to_real() if dtype.is_complex else dtype
        t = rand(shape, dtype=real, device=device) * (hi - lo) + lo
        if dtype.is_complex:
            t = t + 1j * (rand(shape, dtype=real, device=device) * (hi - lo) + lo)
        t = t.to(dtype)
    if exclude_zero:
        t = t.masked_fill(t == 0, 1 if dtype.category < D._FLOAT else D.finfo(dtype).tiny)
    if noncontiguous and t.numel() > 1:
        t = t.repeat_interleave(2, dim=-1)[..., ::2]
    if requires_grad:
        t.requires_grad_(True)
    return t
