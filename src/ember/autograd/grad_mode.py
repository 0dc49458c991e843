"""Grad mode: thread-local, restorable, usable as a context manager or decorator."""
import functools
import inspect
import threading


class _GradState(threading.local):
    enabled = True
    inference = False


_state = _GradState()


def is_grad_enabled():
    return _state.enabled


def _set_enabled(mode):
    _state.enabled = mode


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
                gen = func(*args, **kwargs)
                with self.clone():
                    response = gen.send(None)
                while True:
                    try:
                        request = yield response
                    except GeneratorExit:
                        with self.clone():
                            gen.close()
                        raise
                    except BaseException:
                        with self.clone():
                            response = gen.throw(*__import__("sys").exc_info())
                    else:
                        with self.clone():
                            response = gen.send(request)
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


class _AnomalyState:
    """Anomaly mode is process-wide, as torch's is; ``enabled`` is the one flag the hot
    paths read."""
    enabled = False
    check_nan = True


_anomaly = _AnomalyState()
