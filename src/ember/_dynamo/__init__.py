"""ember._dynamo: torch._dynamo's user-facing switches.  ``config.cache_size_limit`` (or
torch 2.13's name ``recompile_limit``) bounds how many input signatures one compiled
function records (ember/_compile); ``reset`` drops every recorded program.  The other
decorators return what they decorate."""
import types

from . import exc

from .._runtime import compile as _compile

__all__ = ["config", "exc", "allow_in_graph", "disallow_in_graph", "disable", "reset", "is_compiling",
           "mark_dynamic", "mark_static", "maybe_mark_dynamic", "graph_break", "optimize",
           "assume_constant_result", "list_backends", "explain"]


class _Config(types.SimpleNamespace):
    """torch._dynamo.config: settings are accepted and kept; ``cache_size_limit`` and
    ``recompile_limit`` bound ember.compile's cache, the others change nothing. Reading an
    unset name gives None rather than failing."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return None

    def patch(self, *args, **kwargs):
        import contextlib
        changes = dict(args[0]) if args and isinstance(args[0], dict) else {}
        if len(args) == 2:
            changes[args[0]] = args[1]
        changes.update(kwargs)

        @contextlib.contextmanager
        def ctx():
            old = {k: self.__dict__.get(k) for k in changes}
            self.__dict__.update(changes)
            try:
                yield
            finally:
                self.__dict__.update(old)
        return ctx()


config = _Config(suppress_errors=False, cache_size_limit=8, accumulated_cache_size_limit=256,
                 verbose=False, capture_scalar_outputs=False, automatic_dynamic_shapes=True,
                 assume_static_by_default=True, optimize_ddp=True)


def _identity_decorator(fn=None, *args, **kwargs):
    """Usable as ``@deco`` and ``@deco(...)``."""
    if callable(fn):
        return fn
    return lambda f: f


allow_in_graph = disallow_in_graph = assume_constant_result = _identity_decorator


def disable(fn=None, recursive=True, *, reason=None):
    return _identity_decorator(fn)


def reset():
    """Forget every program ember.compile recorded: the next calls record again."""
    from .._compile import reset_all
    reset_all()


def is_compiling():
    return False


def mark_dynamic(t, index, *, min=None, max=None, specialize_on=None):
    """No-op: shapes are never specialised."""


def maybe_mark_dynamic(t, index):
    """No-op: shapes are never specialised."""


def mark_static(t, index=None):
    """No-op: shapes are never specialised."""


def graph_break(msg=""):
    """No-op: there is no graph to break."""


def optimize(backend="inductor", *, nopython=False, guard_export_fn=None, guard_fail_fn=None,
             disable=False, dynamic=None):
    return lambda fn: _compile(fn, backend=backend)


def list_backends(exclude_tags=("debug", "experimental")):
    from .._runtime import _BACKENDS
    return sorted(_BACKENDS)


def explain(f, *extra_args, **extra_kwargs):
    raise RuntimeError("torch._dynamo.explain: Ember runs eagerly and has no graphs to explain")
