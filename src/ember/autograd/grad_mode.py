"""Grad mode: thread-local, restorable, usable as a context manager or decorator."""
import functools
import inspect
import threading


class _GradState(threading.local):
    enabled = True
    inference = False
    saved_hooks = ()    # stack of (pack, unpack) from autograd.graph.saved_tensors_hooks


_state = _GradState()


def is_grad_enabled():
    return _state.enabled



class _DecoratorContextManager:
    """A context manager that also decorates functions and generators."""

    def __call__(self, func):
        if inspect.isclass(func):
            raise RuntimeError("Decorating classes is deprecated and will be disabled in "
                               "future versions. You should only decorate functions or methods. "
                               "To preserve the current behavior of class decoration, you can "
                               "directly decorate the `__init__` method and nothing else.")
        if inspect.isgeneratorfunction(func):
            @functools.wraps(func)
            def gen_wrapper(*args, **kwargs):
                # The mode applies only while the generator's own code runs, not
                # while the caller holds a yielded value.
                gen = func(*args, **kwargs)
                try:
                    with self.clone():
                        response = gen.send(None)
                    while True:
                        try:
                            request = yield response
                        except GeneratorExit:
                            with self.clone():
                                gen.close()
                            raise
                        except BaseException as exc:
                            with self.clone():
                                response = gen.throw(exc)
                        else:
                            with self.clone():
                                response = gen.send(request)
                except StopIteration as stop:
                    return stop.value
            return gen_wrapper

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.clone():
                return func(*args, **kwargs)
        return wrapper

    def clone(self):
        return self.__class__()


class no_grad(_DecoratorContextManager):
    """Disable gradient recording: ops inside produce tensors without grad_fn."""

    def __init__(self):
        self.prev = False

    def __enter__(self):
        self.prev = _state.enabled
        _state.enabled = False

    def __exit__(self, *exc):
        _state.enabled = self.prev


class enable_grad(_DecoratorContextManager):
    def __enter__(self):
        self.prev = _state.enabled
        _state.enabled = True

    def __exit__(self, *exc):
        _state.enabled = self.prev


class set_grad_enabled(_DecoratorContextManager):
    """Sets grad mode on construction (so it works as a plain call too)."""

    def __init__(self, mode):
        self.prev = _state.enabled
        self.mode = mode
        _state.enabled = mode

    def __call__(self, func):
        _state.enabled = self.prev  # used as a decorator: the call above must not stick
        return super().__call__(func)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _state.enabled = self.prev

    def clone(self):
        return self.__class__(self.mode)


class inference_mode(_DecoratorContextManager):
    """Like no_grad, and tensors made inside are marked as inference tensors:
    autograd refuses to save them for backward later.  ``inference_mode(False)`` is a
    no-op context, as torch's."""

    def __init__(self, mode=True):
        self.mode = mode

    def __enter__(self):
        self.prev = (_state.enabled, _state.inference)
        if self.mode:
            _state.enabled = False
            _state.inference = True
            _inference_used[0] = True

    def __exit__(self, *exc):
        _state.enabled, _state.inference = self.prev

    def clone(self):
        return self.__class__(self.mode)


def is_inference_mode_enabled():
    return _state.inference


# Set once any inference tensor exists, so that the saved-tensor check costs nothing
# in programs that never enter inference mode.
_inference_used = [False]
# Set once saved-tensor hooks were ever installed (graph.saved_tensors_hooks), so that
# saving for backward reads the thread's hook stack only in programs that use them: a
# thread-local read costs as much as a third of a small op's dispatch.
_saved_hooks_used = [False]
# forward_ad's open dual levels, here so that Function.apply can see them without importing
# forward_ad (which needs Tensor) while the autograd package loads.
_dual_levels = []

INFERENCE_SAVE_MSG = (
    "Inference tensors cannot be saved for backward. Please do not use Tensors created in "
    "inference mode in computation tracked by autograd. To work around this, you can make a "
    "clone to get a normal tensor and use it in autograd, or use `torch.no_grad()` instead of "
    "`torch.inference_mode()`.")


class _AnomalyState:
    """Anomaly mode is process-wide, as torch's is; ``enabled`` is the one flag the hot
    paths read."""
    enabled = False
    check_nan = True


_anomaly = _AnomalyState()


def _set_grad_enabled_repr(self):
    return f"torch.autograd.grad_mode.set_grad_enabled(mode={self.mode})"


set_grad_enabled.__repr__ = _set_grad_enabled_repr
