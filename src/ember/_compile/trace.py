"""Recording one eager call of a compiled function (see docs/design.md, "ember.compile").

The call runs eagerly under a ``registry.push_around`` hook that records, for every op
dispatched, which arrays went in (after the dtype promotion the dispatcher would do) and
which came out.  Arrays are identified by object identity; each gets a *slot*.  A slot is
either produced by a recorded op or *external*: an argument of the call, or a tensor the
call found elsewhere (a parameter, a buffer, a constant built outside any op).

Some effects of a call do not pass through dispatch: the engine's writing of ``.grad``,
in-place writes (``apply_inplace`` computes out of place, then writes the array), an
optimizer updating raw arrays.  They are found by comparison instead: every watched
tensor's array, content (a CRC) and ``.grad`` are noted where a segment starts and
compared where it ends, and every array an op reads is compared with the content it had
when it was produced.  A change is *explained* when the new content equals (same CRC,
shape and dtype) the output of a recorded op, which the replay then writes or hands on;
anything unexplained makes the call uncompilable.  Optimizer and LR-scheduler ``step``
calls are not recorded at all: they split the call into segments and the replay calls
them eagerly in between ("opaque" steps).
"""
import builtins
import types
import zlib

import numpy as np

from .._ops import registry
from .lowering import lowering_matches, ufunc_for
from .._tensor import Tensor


class Unsupported(Exception):
    """The call did something a recorded program cannot replay (the reason is the message).
    ``graph_break`` marks the torch.compile kind (a value read, printing), which
    ``fullgraph=True`` turns into an error; the others are Ember's own limits."""

    def __init__(self, reason, graph_break=False):
        super().__init__(reason)
        self.graph_break = graph_break


def crc(a):
    """The content's fingerprint: CRC-32 of the bytes, with shape and dtype."""
    shape = a.shape
    if not a.flags.c_contiguous or not a.ndim:
        a = np.ascontiguousarray(a).reshape(-1)
    return (shape, a.dtype.str, zlib.crc32(a.reshape(-1).view(np.uint8)) if a.size else 0)


class Instr:
    """One recorded op: ``args`` are ``("s", slot, cast_dtype_or_None)`` or ``("c", value)``."""

    __slots__ = ("op", "forward", "args", "params", "outs", "zero_d", "lowered")

    def __init__(self, op, forward, args, params, outs, zero_d):
        self.op, self.forward, self.args, self.params = op, forward, args, params
        self.outs, self.zero_d = outs, zero_d
        self.lowered = False   # may run as a ufunc into a planned buffer (lowering.py)

    def signature(self):
        args = tuple(a if a[0] == "s" else ("c", _freeze(a[1])) for a in self.args)
        fwd = 0 if isinstance(self.op, _HelperOp) else id(self.forward)
        return (self.op.name, fwd, args, _freeze(self.params), tuple(self.outs))


def _freeze(v):
    if isinstance(v, dict):
        return tuple(sorted((k, _freeze(x)) for k, x in v.items()))
    if isinstance(v, (list, tuple)):
        return (type(v).__name__,) + tuple(_freeze(x) for x in v)
    if isinstance(v, np.ndarray):
        return ("array",) + crc(v)
    try:
        hash(v)
        return (type(v).__name__, v)
    except TypeError:
        return (type(v).__name__, repr(v))


class Opaque:
    """An optimizer's or scheduler's ``step(*args, **kwargs)``, run eagerly by the replay."""

    __slots__ = ("obj", "args", "kwargs")

    def __init__(self, obj, args, kwargs):
        self.obj, self.args, self.kwargs = obj, args, kwargs

    def signature(self):
        return ("opaque", id(self.obj), _freeze(self.args), _freeze(self.kwargs))


# ---- what the function can reach --------------------------------------------------------
def discover(fn):
    """Modules, optimizers, schedulers and tensors reachable from ``fn`` (its closure, the
    globals it names, a bound method's object), a few levels deep: the state whose
    ``.grad``/contents a call may change, and the steps to leave to eager code."""
    from ..nn import Module
    from ..optim.lr_scheduler import LRScheduler
    from ..optim.optimizer import Optimizer
    tensors, steppers, seen, guards = {}, [], set(), []

    def add_tensor(t):
        tensors.setdefault(id(t), t)

    def visit(obj, depth):
        if id(obj) in seen or depth > 4:
            return
        seen.add(id(obj))
        if isinstance(obj, Tensor):
            add_tensor(obj)
        elif isinstance(obj, Module):
            for t in obj.parameters():
                add_tensor(t)
            for t in obj.buffers():
                add_tensor(t)
            # The replay reads the tensors it recorded: a module given another parameter
            # or buffer object must record again (torch guards on them too).
            for m in obj.modules():
                for d in (m._parameters, m._buffers):
                    guards.extend((d, k, v) for k, v in d.items())
        elif isinstance(obj, (Optimizer, LRScheduler)):
            steppers.append(obj)
            if isinstance(obj, Optimizer):
                for g in obj.param_groups:
                    for p in g["params"]:
                        add_tensor(p)
                for st in obj.state.values():
                    for v in st.values():
                        if isinstance(v, Tensor):
                            add_tensor(v)
            else:
                visit(getattr(obj, "optimizer", None), depth + 1)
        elif isinstance(obj, types.MethodType):
            visit(obj.__self__, depth)
            visit(obj.__func__, depth)
        elif isinstance(obj, types.FunctionType):
            for cell in obj.__closure__ or ():
                try:
                    visit(cell.cell_contents, depth + 1)
                except ValueError:  # an empty cell
                    pass
            g = obj.__globals__
            for name in _names(obj.__code__):
                if name in g:
                    visit(g[name], depth + 1)
        elif isinstance(obj, (list, tuple, set)):
            for x in list(obj)[:1000]:
                visit(x, depth + 1)
        elif isinstance(obj, dict):
            for x in list(obj.values())[:1000]:
                visit(x, depth + 1)
        elif isinstance(obj, types.ModuleType) or isinstance(obj, type):
            return
        elif hasattr(obj, "__dict__") and not callable(obj):
            visit(vars(obj), depth + 1)
    visit(fn, 0)
    return list(tensors.values()), steppers, guards


def _names(code):
    names = set(code.co_names)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            names |= _names(c)
    return names


# ---- the recorder -----------------------------------------------------------------------
# Ember functions that compute on raw arrays outside dispatch (a pooling layer's argmax
# indices, batch norm's running statistics written in place): recorded as one step each,
# which the replay calls with the arrays (or tensors) of its slots.  Where such a helper is
# not listed, the content checks find its result unexplained and the call runs eagerly.
_RAW_HELPERS = (("ember._ops.nn_ops", "max_pool_indices"),
                ("ember.nn._functional.norm", "_update_running"))


_OWN_STEP_ABSENT = object()


class _HelperOp:
    """Stands in an Instr for a raw helper: its name, and nout=1."""
    nout = 1

    def __init__(self, name):
        self.name = name


def _helper_forward(fn, kinds):
    """A forward on arrays for the replay: tensor arguments get a tensor on the array; a
    tensor result gives its array."""
    from .._tensor import _make

    def forward(*vals):
        out = fn(*[_make(v) if k else v for v, k in zip(vals, kinds)])
        return out._data if isinstance(out, Tensor) else out
    return forward


_VALUE_READS = ("item", "tolist", "numpy", "__bool__", "__float__", "__int__", "__index__",
                "__repr__", "__str__", "__format__", "__array__")


class Trace:
    """One recorded call: ``run(fn, args, kwargs)`` calls it eagerly and records it."""

    def __init__(self, arg_tensors, state, steppers, fullgraph=False, guards=()):
        self.guards = guards
        self.fullgraph = fullgraph
        self.arg_tensors = arg_tensors
        self.arg_ids = {id(t._data): k for k, t in enumerate(arg_tensors)}
        self.arrays = []       # slot -> the array it held in this call (kept alive)
        self.crcs = []         # slot -> content fingerprint when produced / first seen
        self.externals = {}    # slot -> ("arg", k) | ("live", tensor)
        self.slot_of = {}      # id(array) -> slot
        self.by_crc = {}       # fingerprint -> latest produced slot with that content
        self.steps = []        # Instr / Opaque / ("effects", [...]) in call order
        self.watch = {id(t): t for t in state}
        # The arguments' .grad effects name the argument, not this call's tensor object.
        self.arg_pos = {}
        for k, t in enumerate(arg_tensors):
            self.watch.setdefault(id(t), t)
            self.arg_pos.setdefault(id(t), k)
        self.steppers = steppers
        self.paused = 0
        self.helper_written = set()
        self.error = None
        self._start = None

    # -- slots --
    def _new_slot(self, a, fp):
        s = len(self.arrays)
        self.arrays.append(a)
        self.crcs.append(fp)
        self.slot_of[id(a)] = s
        return s

    def _see(self, x):
        """The slot for the tensor ``x`` an op reads, checking its content is what the
        recorded program would give it there."""
        a = x._data
        fp = crc(a)
        s = self.slot_of.get(id(a))
        if s is None:
            s = self._new_slot(a, fp)
            k = self.arg_ids.get(id(a))
            self.externals[s] = ("arg", k) if k is not None else ("live", x)
            if k is None:
                self.watch.setdefault(id(x), x)
                if self._start is not None and id(x) not in self._start:
                    self._start[id(x)] = self._note(x)
            return s
        if self.crcs[s] != fp:
            # Written outside dispatch since: an in-place op writing a value computed by a
            # recorded op; readers from here on read that op's output.
            t = self.by_crc.get(fp)
            if t is None or (s not in self.externals and t < s):
                raise Unsupported("a tensor was modified outside the ops Ember records")
            return t
        return s

    # -- segment bookkeeping --
    def _note(self, t):
        g = t._grad
        d = t._data
        return (d, crc(d), g, None if g is None else g._data,
                None if g is None else crc(g._data), d.copy() if d.size <= 16 else None)

    def _begin_segment(self):
        self._start = {k: self._note(t) for k, t in self.watch.items()}
        # An opaque step may have changed live tensors; their slots now hold the new content.
        for s, b in self.externals.items():
            if b[0] == "live" and b[1]._data is self.arrays[s]:
                self.crcs[s] = crc(self.arrays[s])

    def _end_segment(self):
        effects = self._effects()
        self.steps.append(("effects", [(e[0], self.arg_pos.get(id(e[1]), e[1])) + e[2:]
                                       for e in effects]))
        self.helper_written = set()

    def _effects(self):
        effects = []
        for k, t in self.watch.items():
            old = self._start.get(k)
            if old is None:
                continue
            data, fp, grad, gdata, gfp, small = old
            if t._data is not data:
                effects.append(("data", t, self._explain(t._data, copy_ok=False)))
            elif k not in self.helper_written and crc(t._data) != fp:
                fp = crc(t._data)
                if fp in self.by_crc:
                    effects.append(("write", t, self.by_crc[fp]))
                elif small is not None and small.dtype.kind in "iuf":
                    # A counter stepped on the raw array (BatchNorm's num_batches_tracked):
                    # the two recordings must agree on the step, which the replay repeats.
                    effects.append(("step", t, tuple((t._data - small).ravel().tolist())))
                else:
                    raise Unsupported("a tensor was modified outside the ops Ember records")
            g = t._grad
            if g is None:
                if grad is not None:
                    effects.append(("grad_none", t))
            elif g is not grad or g._data is not gdata:
                s = self.slot_of.get(id(g._data))
                if s is not None and s not in self.externals and self.crcs[s] == crc(g._data):
                    effects.append(("grad", t, s, False))
                else:
                    effects.append(("grad", t, self._explain(g._data), True))
            elif crc(g._data) != gfp:
                effects.append(("grad_write", t, self._explain(g._data)))
        return effects

    def _explain(self, a, copy_ok=True):
        s = self.by_crc.get(crc(a))
        if s is None or not copy_ok and self.arrays[s] is not a:
            raise Unsupported("a tensor was modified outside the ops Ember records")
        return s

    # -- the dispatch hook --
    def fail(self, reason, graph_break=False):
        """Stop recording: the rest of the call runs eagerly (``fullgraph=True``: raise)."""
        if self.fullgraph:
            raise Unsupported(reason, graph_break)
        if self.error is None:
            self.error = Unsupported(reason, graph_break)
            self.paused += 1

    def hook(self, op, inputs, params, run):
        if self.paused:
            return run(op, inputs, params)
        try:
            return self._record(op, inputs, params, run)
        except Unsupported as e:
            self.fail(str(e), e.graph_break)
            return run(op, inputs, params)

    def _record(self, op, inputs, params, run):
        if registry._autocast.cast is not None:
            raise Unsupported("autocast regions are not compiled")
        try:
            arrays = ([x._data if isinstance(x, Tensor) else x for x in inputs]
                      if op.promote is None else registry._promoted_arrays(inputs, op.promote))
        except registry._HalfWithScalars:
            raise Unsupported("float16/bfloat16 with Python scalars is not compiled") from None
        args = []
        for x, a in zip(inputs, arrays):
            if isinstance(x, Tensor):
                s = self._see(x)
                args.append(("s", s, None if a is x._data else a.dtype))
            elif x is None or isinstance(x, (bool, int, float, complex, np.generic, str)):
                args.append(("c", a))
            else:
                raise Unsupported(f"op {op.name} got a {type(x).__name__} input")
        result = run(op, inputs, params)
        outs = result if isinstance(result, tuple) else (result,)
        slots, zero_d = [], []
        for o in outs:
            fp = crc(o._data)
            s = self._new_slot(o._data, fp)
            self.by_crc[fp] = s
            slots.append(s)
            zero_d.append(o._data.ndim == 0)
        ins = Instr(op, op.forward, args, dict(params), slots, zero_d)
        if len(outs) == 1 and ufunc_for(ins) is not None:
            ins.lowered = lowering_matches(ins, arrays, outs[0]._data)
        self.steps.append(ins)
        return result

    def _record_helper(self, fn, name, args):
        vals, kinds, slots = [], [], []
        for x in args:
            if isinstance(x, Tensor) or isinstance(x, np.ndarray) and id(x) in self.slot_of:
                t = x if isinstance(x, Tensor) else None
                s = self._see(t) if t is not None else self._see_array(x)
                vals.append(("s", s, None))
                kinds.append(t is not None)
                slots.append((s, t))
            elif isinstance(x, np.ndarray):
                raise Unsupported(f"{name} got an array from outside the recorded ops")
            else:
                vals.append(("c", x))
                kinds.append(False)
        self.paused += 1
        try:
            out = fn(*args)
        finally:
            self.paused -= 1
        for s, t in slots:   # what the helper wrote in place, it writes again in the replay
            fp = crc(self.arrays[s])
            if fp != self.crcs[s]:
                self.crcs[s] = fp
                if t is not None and self._start is not None:
                    self.helper_written.add(id(t))
        outs, zero_d = [], []
        if out is not None:
            a = out._data if isinstance(out, Tensor) else out
            fp = crc(a)
            s = self._new_slot(a, fp)
            self.by_crc[fp] = s
            outs, zero_d = [s], [a.ndim == 0]
        self.steps.append(Instr(_HelperOp(name), _helper_forward(fn, kinds), vals, {}, outs,
                                zero_d))
        return out

    def _see_array(self, a):
        class _Holder:
            _data = a
        return self._see(_Holder)

    # -- patches active while recording --
    def _patches(self):
        trace = self
        patches = []
        import importlib
        for modname, fname in _RAW_HELPERS:
            mod = importlib.import_module(modname)
            orig = getattr(mod, fname, None)
            if orig is None:   # renamed: its effects are then found unexplained (eager)
                continue

            def helper(*a, _orig=orig, _name=f"{modname}.{fname}"):
                if trace.paused:
                    return _orig(*a)
                try:
                    return trace._record_helper(_orig, _name, a)
                except Unsupported as e:
                    trace.fail(str(e), e.graph_break)
                    return _orig(*a)
            patches.append((mod, fname, orig, helper))

        def breaking(name, orig):
            def read(*a, **k):
                if not trace.paused:
                    trace.fail(f"Tensor.{name}() reads a value (data-dependent Python)", True)
                return orig(*a, **k)
            return read
        for name in _VALUE_READS:
            orig = Tensor.__dict__.get(name)
            if orig is not None:
                patches.append((Tensor, name, orig, breaking(name, orig)))
        orig_print = builtins.print

        def traced_print(*a, **k):
            if not trace.paused:
                trace.fail("print() inside a compiled function", True)
            return orig_print(*a, **k)
        patches.append((builtins, "print", orig_print, traced_print))
        from ..autograd.function import Function
        orig_apply = Function.__dict__["apply"]

        def apply(cls, *a, **k):
            if not trace.paused:
                trace.fail(f"custom autograd.Function {cls.__name__} (computes on raw arrays "
                           "outside the ops Ember records)")
            return orig_apply.__func__(cls, *a, **k)
        patches.append((Function, "apply", orig_apply, classmethod(apply)))
        for obj in self.steppers:
            step = obj.step

            def opaque(*a, _obj=obj, _step=step, **k):
                if trace.paused:
                    return _step(*a, **k)
                if any(callable(x) for x in a) or any(callable(x) for x in k.values()):
                    trace.fail("optimizer step with a closure is not compiled")
                    return _step(*a, **k)
                trace.guarded(trace._end_segment)
                trace.steps.append(Opaque(_obj, a, k))
                trace.paused += 1
                try:
                    return _step(*a, **k)
                finally:
                    trace.paused -= 1
                    trace.guarded(trace._begin_segment)
            try:   # markers on the step being shadowed (an LR scheduler checks for its own)
                opaque.__dict__.update(vars(step))
            except TypeError:
                pass
            # An instance may already carry its own step (an LR scheduler wraps its
            # optimizer's): that one is put back afterwards, else the shadow is deleted.
            patches.append((obj, "step", obj.__dict__.get("step", _OWN_STEP_ABSENT), opaque))
        return patches

    def run(self, fn, args, kwargs):
        patches = self._patches()
        for owner, name, _orig, new in patches:
            setattr(owner, name, new)
        restore = registry.push_around(self.hook)
        try:
            self._begin_segment()
            out = fn(*args, **kwargs)
            self.paused += 1   # reading the results below is not the function's doing
            if self.error is None:
                self.guarded(self._end_segment)
            if self.error is None:
                self.guarded(lambda: self._output_refs(out))
            return out
        finally:
            restore()
            for owner, name, orig, _new in patches:
                if orig is _OWN_STEP_ABSENT:
                    del owner.__dict__[name]   # the instance attribute shadowing step
                else:
                    setattr(owner, name, orig)

    def guarded(self, fn):
        if self.error is None:
            try:
                fn()
            except Unsupported as e:
                self.fail(str(e), e.graph_break)

    def _output_refs(self, out):
        from ..utils._pytree import tree_flatten
        leaves, spec = tree_flatten(out)
        refs, needing = [], []
        for x in leaves:
            if not isinstance(x, Tensor):
                if isinstance(x, (bool, int, float, complex, str, type(None))):
                    refs.append(("c", x))
                    continue
                raise Unsupported(f"the compiled function returned a {type(x).__name__}")
            s = self.slot_of.get(id(x._data))
            if s is not None and self.externals.get(s, ("",))[0] == "arg" and \
                    self.arg_tensors[self.externals[s][1]] is x:
                refs.append(("a", self.externals[s][1]))
                continue
            if x._requires_grad and x._grad_fn is not None and not self._backward_ran():
                needing.append((len(refs), x))
            if s is not None and s not in self.externals and self.crcs[s] == crc(x._data):
                refs.append(("s", s))
            elif x._grad_fn is None and id(x) in self.watch:
                refs.append(("t", x))
            else:
                refs.append(("s", self._explain(x._data)))
        self.spec = spec
        self.outputs = refs
        self.needing = [j for j, _ in needing]
        self.bwd_start = None
        if needing:
            self._record_backward([x for _, x in needing])

    def _record_backward(self, outs):
        """A forward whose outputs need autograd (AOTAutograd's case): record its backward
        too, by running ``autograd.grad`` from placeholder output gradients (slots bound to
        the gradients the engine will hand the compiled node) to every tensor input that
        requires grad, keeping the eager graph for the caller's own backward."""
        from ..autograd import grad as autograd_grad
        from .._tensor import _make
        inputs = []
        for s in sorted(self.externals):
            b = self.externals[s]
            t = self.arg_tensors[b[1]] if b[0] == "arg" else b[1]
            if isinstance(t, Tensor) and t._requires_grad and \
                    all(t is not u for _, u in inputs):
                inputs.append((s, t))
        if not inputs:
            raise Unsupported("outputs need autograd but no input requires grad")
        gouts = []
        for j, o in enumerate(outs):
            g = _make(np.ones_like(o._data))
            s = self._new_slot(g._data, crc(g._data))
            self.externals[s] = ("gout", j)
            gouts.append(g)
        self.bwd_start = len(self.steps)
        self.paused -= 1
        try:
            grads = autograd_grad(outs, [t for _, t in inputs], grad_outputs=gouts,
                                  retain_graph=True, allow_unused=True)
        finally:
            self.paused += 1
        if self.error is not None:
            raise Unsupported(str(self.error), self.error.graph_break)
        self.bwd_inputs = [s for s, _ in inputs]
        refs = []
        for g in grads:
            if g is None:
                refs.append(("c", None))
                continue
            s = self.slot_of.get(id(g._data))
            if s is None or s in self.externals or self.crcs[s] != crc(g._data):
                s = self._explain(g._data)
            refs.append(("s", s))
        self.bwd_outputs = refs

    def _backward_ran(self):
        return any(e[0] in ("grad", "grad_write")
                   for st in self.steps if isinstance(st, tuple) for e in st[1])
