"""ember.jit: torch.jit's API as eager pass-throughs (Ember has no TorchScript).

``script`` and ``trace`` return the function or module they are given (torch returns a
compiled ScriptFunction/ScriptModule that computes the same thing); ``trace`` still runs
it once on the example inputs, as torch's tracing does, so an input it cannot take fails
at the same place. Decorators (``ignore``, ``unused``, ``export``, ``interface``...) return
what they decorate; ``save``/``load`` raise, since there is no TorchScript archive.
"""
import contextlib
from typing import Final  # noqa: F401  (torch.jit.Final is typing.Final)

from .nn import Module

__all__ = ["script", "trace", "trace_module", "is_scripting", "is_tracing", "ignore", "unused",
           "export", "interface", "Final", "Attribute", "annotate", "ScriptModule",
           "ScriptFunction", "script_method", "script_if_tracing", "freeze",
           "optimize_for_inference", "fork", "wait", "save", "load", "isinstance",
           "optimized_execution", "fuser", "enable_onednn_fusion", "onednn_fusion_enabled"]


class ScriptModule(Module):
    """Base class of scripted modules; under Ember, an ordinary Module."""


class ScriptFunction:
    """The type torch gives scripted functions; Ember's script returns the function."""


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    return obj


def script_method(fn):
    return fn


def _run(fn, example_inputs, example_kwarg_inputs):
    from .autograd import no_grad
    with no_grad():
        if example_kwarg_inputs is not None:
            fn(**example_kwarg_inputs)
        elif isinstance(example_inputs, tuple):
            fn(*example_inputs)
        elif example_inputs is not None:
            fn(example_inputs)


def trace(func, example_inputs=None, optimize=None, check_trace=True, check_inputs=None,
          check_tolerance=1e-5, strict=True, _force_outplace=False, _module_class=None,
          _compilation_unit=None, example_kwarg_inputs=None, _store_inputs=True):
    if example_inputs is None and example_kwarg_inputs is None:
        raise RuntimeError("example_kwarg_inputs should be a dict")
    _run(func, example_inputs, example_kwarg_inputs)
    return func


def trace_module(mod, inputs, optimize=None, check_trace=True, check_inputs=None,
                 check_tolerance=1e-5, strict=True, _force_outplace=False, _module_class=None,
                 _compilation_unit=None, example_inputs_is_kwarg=False, _store_inputs=True):
    if not isinstance(inputs, dict):
        raise AttributeError("expected a dictionary of (method_name, input) pairs")
    for method, example in inputs.items():
        fn = getattr(mod, method)
        if example_inputs_is_kwarg:
            _run(fn, None, example)
        else:
            _run(fn, example, None)
    return mod


def is_scripting():
    return False


def is_tracing():
    return False


def _decorator_or_factory(fn=None, **kwargs):
    """``@ignore`` and ``@ignore(drop=True)`` both return the function unchanged."""
    if callable(fn):
        return fn
    return lambda f: f


ignore = _decorator_or_factory


def unused(fn):
    return fn


def export(fn):
    return fn


def interface(obj):
    return obj


def script_if_tracing(fn):
    return fn


def _overload(fn):
    return fn


def _overload_method(fn):
    return fn


class Attribute:
    """``torch.jit.Attribute(value, type)`` evaluates to ``value`` outside TorchScript."""

    def __new__(cls, value, type=None):
        return value


def annotate(the_type, the_value):
    return the_value


def isinstance(obj, target_type):  # noqa: A001  (torch.jit.isinstance)
    import builtins
    return builtins.isinstance(obj, target_type)


def freeze(mod, preserved_attrs=None, optimize_numerics=True):
    return mod


def optimize_for_inference(mod, other_methods=None):
    return mod


class Future:
    """The result of ``fork``: the call has already run, eagerly."""

    def __init__(self, value):
        self._value = value

    def wait(self):
        return self._value

    def done(self):
        return True


def fork(func, *args, **kwargs):
    return Future(func(*args, **kwargs))


def wait(future):
    return future.wait()


@contextlib.contextmanager
def optimized_execution(should_optimize):
    yield


@contextlib.contextmanager
def fuser(name):
    yield


_onednn = [False]


def enable_onednn_fusion(enabled):
    _onednn[0] = bool(enabled)


def onednn_fusion_enabled():
    return _onednn[0]


def _no_archive(name):
    def fn(*args, **kwargs):
        raise RuntimeError(f"torch.jit.{name}: Ember has no TorchScript, so there is no "
                           "TorchScript archive to write or read; save the state_dict with "
                           "torch.save instead")
    fn.__name__ = name
    return fn


save = _no_archive("save")
load = _no_archive("load")
