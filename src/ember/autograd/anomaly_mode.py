"""Anomaly mode: name the backward node that produced NaN, and show where its forward ran.

When it is on, every graph node records the Python stack of its creation (nothing is
recorded otherwise: the hot paths read one flag).  During backward a node whose
gradients contain NaN raises torch's RuntimeError, and a node whose backward fails
has its forward traceback shown as a warning before the error propagates.
"""
import os
import traceback
import warnings

from .grad_mode import _DecoratorContextManager, _anomaly

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
           "is_anomaly_check_nan_enabled"]

_ENABLED_WARNING = ("Anomaly Detection has been enabled. This mode will increase the runtime and "
                    "should only be enabled for debugging.")
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Dispatch internals are left out of the recorded stack; library layers (ember.nn, ...)
# stay in, as torch's Python frames do in its traces.
_INTERNAL = tuple(os.path.join(_PACKAGE_DIR, p) for p in ("_ops", "autograd", "_tensor.py"))


def is_anomaly_enabled():
    return _anomaly.enabled


def is_anomaly_check_nan_enabled():
    return _anomaly.check_nan


class detect_anomaly(_DecoratorContextManager):
    """Context manager / decorator that turns anomaly detection on."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan
        self.prev = _anomaly.enabled
        self.prev_check_nan = _anomaly.check_nan
        warnings.warn(_ENABLED_WARNING, UserWarning, stacklevel=2)

    def __enter__(self):
        self.prev, self.prev_check_nan = _anomaly.enabled, _anomaly.check_nan
        _anomaly.enabled, _anomaly.check_nan = True, self.check_nan

    def __exit__(self, *exc):
        _anomaly.enabled, _anomaly.check_nan = self.prev, self.prev_check_nan

    def clone(self):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return self.__class__(self.check_nan)


class set_detect_anomaly:
    """Sets anomaly mode on construction, so it works as a call or as a context manager."""

    def __init__(self, mode, check_nan=True):
        self.prev, self.prev_check_nan = _anomaly.enabled, _anomaly.check_nan
        _anomaly.enabled, _anomaly.check_nan = bool(mode), check_nan

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _anomaly.enabled, _anomaly.check_nan = self.prev, self.prev_check_nan


def record_forward_trace(node):
    """Store the user's stack (Ember's own frames dropped) on a node being created."""
    frames = [f for f in traceback.extract_stack()[:-1]
              if not os.path.abspath(f.filename).startswith(_INTERNAL)]
    node.metadata["traceback_"] = traceback.format_list(frames)


def warn_forward_trace(node):
    trace = node.metadata.get("traceback_")
    if trace is None:
        return
    warnings.warn(f"Error detected in {node.name()}. Traceback of forward call that caused the "
                  f"error:\n{''.join(trace)}", UserWarning, stacklevel=2)


def check_nan(node, grads):
    for i, g in enumerate(grads):
        if g is not None and g._data.dtype.kind in "fc" and bool((g._data != g._data).any()):
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.")
