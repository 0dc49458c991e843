"""Run the same code against torch and Ember and compare the outcome."""
import torch

import ember


def outcome(fn, lib):
    """What ``fn(lib)`` produced: a comparable value, or the raised error's class and text."""
    try:
        return ("ok", _comparable(fn(lib)))
    except Exception as e:  # the error itself is what is being compared
        return ("error", type(e).__name__, str(e))


def _comparable(x):
    if isinstance(x, (torch.Tensor, ember.Tensor)):
        return ("tensor", str(x.dtype), tuple(x.shape), x.requires_grad,
                _nan_safe(x.detach().tolist()))
    if isinstance(x, (torch.dtype, ember.dtype)):
        return ("dtype", str(x))
    if isinstance(x, (torch.device, ember.device)):
        return ("device", str(x))
    if isinstance(x, (tuple, list)):
        return type(x).__name__, [_comparable(v) for v in x]
    return x


def _nan_safe(v):
    """NaN != NaN; compare it as a marker so equal results compare equal."""
    if isinstance(v, list):
        return [_nan_safe(x) for x in v]
    if isinstance(v, float) and v != v:
        return "nan"
    if isinstance(v, complex) and v != v:
        return ("nan-complex", _nan_safe(v.real), _nan_safe(v.imag))
    return v


def same(fn):
    """Assert ``fn(torch)`` and ``fn(ember)`` agree (values, dtypes, shapes or errors)."""
    t, e = outcome(fn, torch), outcome(fn, ember)
    assert e == t, f"ember: {e}\ntorch: {t}"
    return t


def same_error(fn, cls=None):
    """Assert both raise, with the same class and message; returns torch's message."""
    t, e = outcome(fn, torch), outcome(fn, ember)
    assert t[0] == "error", f"torch did not raise: {t}"
    assert e == t, f"ember: {e}\ntorch: {t}"
    if cls is not None:
        assert t[1] == cls.__name__
    return t[2]
