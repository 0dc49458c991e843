"""Recording: timed ranges from the dispatch path, the backward engine and user labels.

Ops are seen through ``registry.push_around`` (the one dispatch path; nothing is added
to it), backward nodes through the engine's ``profiling.around`` (read once per backward
pass), user ranges through ``record_function``.  Each range is an event on its thread's
stack, so nesting (an op inside a label, a backward formula's ops inside its node) comes
from the order of entry and exit.  Outside a profile nothing here runs.
"""
import os
import threading
import time
import traceback
from time import perf_counter_ns as _perf_ns

from .._ops import registry
from .._tensor import Tensor
from ..autograd import engine
from ._events import EventList, FunctionEvent

_active = None          # the recording _Session, if any (ranges from any thread join it)
_EMBER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _aten_name(op):
    """torch's profiler names ops after their ATen kernels (``aten::mul``); Ember's op
    names are torch's function names, so the same prefix reads the same."""
    name = op.name
    return "aten::" + (name[1:] if name.startswith("__") else name)


def _shapes(inputs):
    return [list(x._data.shape) if isinstance(x, Tensor) else [] for x in inputs]


def _allocated(out):
    """Bytes of new memory in an op's result(s): views share their base's."""
    if isinstance(out, Tensor):
        data = out._data
        return 0 if out._base is not None or data.base is not None else data.nbytes
    if isinstance(out, (tuple, list)):
        return sum(_allocated(o) for o in out)
    return 0


def _user_stack():
    """The caller's frames outside Ember, innermost first, as torch writes them."""
    frames = traceback.extract_stack()[:-1]
    out = [f"{f.filename}({f.lineno}): {f.name}" for f in reversed(frames)
           if not os.path.abspath(f.filename).startswith(_EMBER_DIR)]
    return out


# A range while recording is a plain list (cheap to make on every op); the FunctionEvents
# are built from them once recording stops.
NAME, CATEGORY, SHAPES, STACK, THREAD, PARENT, START, END, MEMORY = range(9)


class _Session:
    """The ranges of one recording window."""

    def __init__(self, record_shapes, profile_memory, with_stack, base=None):
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.records = []       # finished ranges (list.append is atomic: no lock)
        self.local = threading.local()
        # times count from ``base`` (perf_counter_ns, time_ns): the profile's first window,
        # so windows accumulated with acc_events share one time line
        self.base_perf, self.base_time_ns = base or (time.perf_counter_ns(), time.time_ns())
        self.restores = []

    def begin(self, name, category="cpu_op", shapes=None):
        try:
            stack, tid = self.local.state
        except AttributeError:
            stack, tid = self.local.state = ([], threading.get_native_id())
        rec = [name, category, shapes, _user_stack() if self.with_stack else None, tid,
               stack[-1] if stack else None, 0, 0, 0]
        stack.append(rec)
        rec[START] = _perf_ns()
        return rec

    def end(self, rec):
        rec[END] = _perf_ns()
        stack = self.local.state[0]
        while stack and stack.pop() is not rec:
            pass  # a range left open by an exception inside it closes with its parent
        self.records.append(rec)

    # -- the two hooks -------------------------------------------------------------------
    def op_hook(self, op, inputs, params, run):
        rec = self.begin(_aten_name(op), shapes=_shapes(inputs) if self.record_shapes else None)
        try:
            out = run(op, inputs, params)
        finally:
            self.end(rec)
        if self.profile_memory:
            rec[MEMORY] = _allocated(out)
        return out

    def node_hook(self, node, buf, run):
        name = node.name()
        outer = self.begin("autograd::engine::evaluate_function: " + name)
        inner = self.begin(name, shapes=[list(g._data.shape) if g is not None else []
                                         for g in buf] if self.record_shapes else None)
        try:
            return run(node, buf)
        finally:
            self.end(inner)
            self.end(outer)

    def install(self):
        global _active
        self.restores.append(registry.push_around(self.op_hook))
        previous = engine.profiling.around
        engine.profiling.around = self.node_hook

        def restore_engine():
            engine.profiling.around = previous
        self.restores.append(restore_engine)
        _active = self

    def uninstall(self):
        global _active
        while self.restores:
            self.restores.pop()()
        if _active is self:
            _active = None

    def results(self, first_id=1):
        """The finished events in order of start time (torch's ``prof.events()``), and the
        allocations as (time, thread, bytes) for the trace's memory events."""
        records = sorted(self.records, key=lambda r: (r[START], -r[END]))
        base = self.base_perf
        events, by_rec, memory = [], {}, []
        for i, r in enumerate(records, first_id):
            start, end = (r[START] - base) / 1000.0, (r[END] - base) / 1000.0
            evt = FunctionEvent(i, r[NAME], r[THREAD], start, end, input_shapes=r[SHAPES],
                                stack=r[STACK], cpu_memory_usage=r[MEMORY],
                                category=r[CATEGORY])
            parent = by_rec.get(id(r[PARENT])) if r[PARENT] is not None else None
            if parent is not None:
                evt.cpu_parent = parent
                parent.cpu_children.append(evt)
            by_rec[id(r)] = evt
            events.append(evt)
            if r[MEMORY]:
                memory.append((end, r[THREAD], r[MEMORY]))
        return EventList(events, profile_memory=self.profile_memory), memory


class record_function:
    """A labelled range (``with record_function("forward"):`` or ``@record_function("f")``)
    that appears in the table and the trace, with the ops inside it nested under it."""

    def __init__(self, name, args=None):
        self.name = name
        self.args = args
        self._range = None
        self._session = None

    def __enter__(self):
        session = _active
        if session is not None:
            self._session = session
            self._range = session.begin(self.name, category="user_annotation")
        return self

    def __exit__(self, *exc):
        if self._range is not None:
            self._session.end(self._range)
            self._range = self._session = None
        return False

    def __call__(self, fn):
        import functools
        name, args = self.name, self.args

        @functools.wraps(fn)
        def wrapper(*a, **kw):
            with record_function(name, args):
                return fn(*a, **kw)
        return wrapper
