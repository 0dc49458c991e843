"""ember.compile: record a call's ops once, replay them as straight-line NumPy code.

A compiled callable keeps one cache entry per *guard key* (grad mode, the arguments'
shapes, dtypes and requires_grad, the other arguments' values).  An entry's first calls
run eagerly under the recorder (trace.py); when two consecutive recordings agree op for
op (so nothing in the call depended on data in a way the recording cannot see, and no
tensor built outside the ops changed between calls) the program is built (program.py)
and every later call with that key replays it.  What cannot be recorded makes the entry
eager for good, with a warning (an error under ``fullgraph=True``).  New keys record
again, up to ``ember._dynamo.config.cache_size_limit`` (torch's recompile limit) keys.
"""
import functools
import warnings
import weakref

from .._tensor import Tensor
from ..autograd import grad_mode
from .aot import AotProgram
from .program import Program
from .trace import Instr, Opaque, Trace, Unsupported, _freeze, discover

_MAX_RECORDINGS = 4
_PLAIN = (Tensor, int, float, bool, str, type(None))   # a call that has not repeated itself after this many runs stays eager


_ALL = weakref.WeakSet()


def reset_all():
    for f in list(_ALL):
        f._cache.clear()
        f._warned_limit = False


class _Entry:
    __slots__ = ("trace", "program", "eager", "recordings")

    def __init__(self):
        self.trace = self.program = None
        self.eager = False
        self.recordings = 0


def _flatten(args, kwargs):
    from ..utils._pytree import tree_flatten
    leaves, _ = tree_flatten((args, kwargs))
    return leaves


class CompiledFunction:
    """What ``ember.compile(fn)`` returns for a function (``functools.wraps`` of it)."""

    def __init__(self, fn, fullgraph=False, dynamic=None, mode=None):
        self._fn = fn
        self._fullgraph = fullgraph
        self._dynamic = dynamic
        self._mode = mode
        self._cache = {}
        self._warned_limit = False
        functools.update_wrapper(self, fn)
        _ALL.add(self)

    def __get__(self, obj, objtype=None):
        return self if obj is None else functools.partial(self, obj)

    def _key(self, leaves):
        tensors, key = [], [grad_mode._state.enabled]
        first = {}
        for x in leaves:
            if isinstance(x, Tensor):
                d = x._data
                key.append((d.shape, d.dtype.str, x._requires_grad,
                            first.setdefault(id(d), len(tensors))))
                tensors.append(x)
            else:
                key.append(_freeze(x))
        return tuple(key), tensors

    def __call__(self, *args, **kwargs):
        if kwargs or not all(isinstance(a, _PLAIN) for a in args):
            leaves = _flatten(args, kwargs)
        else:  # the common call, f(tensors...): no pytree walk
            leaves = args
        try:
            key, tensors = self._key(leaves)
            hash(key)
        except TypeError:
            return self._fn(*args, **kwargs)
        entry = self._cache.get(key)
        if entry is None:
            from .._dynamo import config
            limit = config.cache_size_limit
            if config.recompile_limit is not None:
                limit = config.recompile_limit
            if len(self._cache) >= limit:
                if not self._warned_limit:
                    self._warned_limit = True
                    warnings.warn(f"ember.compile: {self._name()} hit the recompile limit "
                                  f"(cache_size_limit={limit}); calls with new shapes run "
                                  "eagerly", stacklevel=2)
                return self._fn(*args, **kwargs)
            entry = self._cache[key] = _Entry()
        if entry.program is not None:
            arrays = [t._data for t in tensors]
            X = entry.program.externals_for(arrays)
            if X is not None:
                out = entry.program.run(X, tensors)
                if out is not None or type(entry.program) is Program:
                    return out
            entry.program, entry.trace, entry.recordings = None, None, 0
        if entry.eager:
            return self._fn(*args, **kwargs)
        return self._record(entry, tensors, args, kwargs)

    def _name(self):
        return getattr(self._fn, "__qualname__", type(self._fn).__name__)

    def _record(self, entry, tensors, args, kwargs):
        state, steppers, guards = discover(self._fn)
        trace = Trace(tensors, state, steppers, fullgraph=self._fullgraph, guards=guards)
        try:
            out = trace.run(self._fn, args, kwargs)
        except Unsupported as e:
            from .._dynamo.exc import Unsupported as TorchUnsupported
            entry.eager = True
            raise TorchUnsupported(f"ember.compile(fullgraph=True): {e}") from None
        entry.recordings += 1
        if trace.error is not None:
            return self._give_up(entry, str(trace.error), out)
        if entry.trace is not None and _agree(entry.trace, trace):
            try:
                _constants_from_fresh(entry.trace, trace)
                _merge_copies(entry.trace, trace)
                entry.program = Program(trace) if trace.bwd_start is None else AotProgram(trace)
            except Unsupported as e:
                return self._give_up(entry, str(e), out)
            entry.trace = None
        elif entry.recordings >= _MAX_RECORDINGS:
            return self._give_up(entry, "the call records different ops each time", out)
        else:
            entry.trace = trace
        return out

    def _give_up(self, entry, reason, out):
        entry.eager = True
        entry.trace = None
        if self._fullgraph:
            from .._dynamo.exc import Unsupported as TorchUnsupported
            raise TorchUnsupported(f"ember.compile(fullgraph=True): {reason}")
        warnings.warn(f"ember.compile: {reason}; {self._name()} runs eagerly", stacklevel=3)
        return out


def _signature(trace):
    steps = []
    for st in trace.steps:
        if isinstance(st, Instr):
            steps.append(st.signature())
        elif isinstance(st, Opaque):
            steps.append(st.signature())
        else:
            # A .grad handed on as is or copied: the engine decides by tensor ids it has
            # seen, which can differ between calls, so the two recordings may differ there
            # (the program copies if either did, _merge_copies).
            steps.append(tuple((e[0], e[1] if type(e[1]) is int else id(e[1])) +
                               tuple(e[2:3] if e[0] == "grad" else e[2:]) for e in st[1]))
    outs = tuple((r[0], id(r[1]) if r[0] == "t" else _freeze(r[1])) for r in trace.outputs)
    return tuple(steps), outs, len(trace.arrays), tuple(sorted(
        (s, b[0], b[1] if b[0] == "arg" else None) for s, b in trace.externals.items()))


def _agree(a, b):
    """Two recordings of one guard key describe the same program."""
    return _signature(a) == _signature(b)


def _merge_copies(old, new):
    for k, (a, b) in enumerate(zip(old.steps, new.steps)):
        if isinstance(b, tuple):
            new.steps[k] = ("effects", [e if e[0] != "grad" else e[:3] + (e[3] or f[3],)
                                        for e, f in zip(b[1], a[1])])


def _constants_from_fresh(old, new):
    """A tensor the call builds outside the ops each time (``arange(t)``, the engine's
    ones for ``backward()``) is a new object in each recording: a constant if its content
    was the same both times and has not changed since it was read, else unsupported."""
    from .trace import crc
    for s, b in new.externals.items():
        if b[0] != "live":
            continue
        ob = old.externals[s]
        if ob[1] is b[1]:
            continue
        if old.crcs[s] != new.crcs[s] or crc(new.arrays[s]) != new.crcs[s]:
            raise Unsupported("a tensor made outside the recorded ops differs between calls")
        new.watch.pop(id(b[1]), None)


def compile_callable(model, fullgraph=False, dynamic=None, mode=None):
    from ..nn import Module
    if isinstance(model, Module):
        return OptimizedModule(model, CompiledFunction(model.__call__, fullgraph, dynamic, mode))
    return CompiledFunction(model, fullgraph, dynamic, mode)


def _optimized_module_class():
    from ..nn import Module

    class OptimizedModule(Module):
        """torch's wrapper of a compiled module: the original is ``_orig_mod`` (so the
        state_dict keys carry the ``_orig_mod.`` prefix, as torch's); calling it runs the
        compiled ``_orig_mod.__call__``; other attributes are the original's."""

        def __init__(self, mod, compiled):
            super().__init__()
            self._orig_mod = mod
            self.__dict__["_compiled_call"] = compiled

        def forward(self, *args, **kwargs):
            return self.__dict__["_compiled_call"](*args, **kwargs)

        def __call__(self, *args, **kwargs):
            return self.__dict__["_compiled_call"](*args, **kwargs)

        def __getattr__(self, name):
            try:
                return super().__getattr__(name)
            except AttributeError:
                return getattr(self._modules["_orig_mod"], name)
    return OptimizedModule


class _LazyModuleClass:
    cls = None


def OptimizedModule(mod, compiled):  # noqa: N802  (constructs the class of that name)
    if _LazyModuleClass.cls is None:
        _LazyModuleClass.cls = _optimized_module_class()
    return _LazyModuleClass.cls(mod, compiled)
