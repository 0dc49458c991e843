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


class _Session:
    """The events of one recording window."""

    def __init__(self, record_shapes, profile_memory, with_stack):
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.events = []
        self.memory = []        # (ts_us, thread, bytes) per allocating op
        self.stacks = threading.local()
        self.lock = threading.Lock()
        self.base_perf = time.perf_counter_ns()
        self.base_time_ns = time.time_ns()
        self.next_id = 1
        self.restores = []

    def now(self):
        return (time.perf_counter_ns() - self.base_perf) / 1000.0

    def begin(self, name, category="cpu_op", shapes=None, sequence_nr=-1):
        with self.lock:
            eid = self.next_id
            self.next_id += 1
        evt = FunctionEvent(eid, name, threading.get_native_id(), 0.0, 0.0,
                            input_shapes=shapes, category=category, sequence_nr=sequence_nr,
                            stack=_user_stack() if self.with_stack else None)
        stack = getattr(self.stacks, "open", None)
        if stack is None:
            stack = self.stacks.open = []
        if stack:
            evt.cpu_parent = stack[-1]
            stack[-1].cpu_children.append(evt)
        stack.append(evt)
        evt.time_range.start = self.now()
        return evt

    def end(self, evt):
        evt.time_range.end = self.now()
        stack = self.stacks.open
        while stack and stack.pop() is not evt:
            pass  # a range left open by an exception inside it closes with its parent
        with self.lock:
            self.events.append(evt)

    # -- the two hooks -------------------------------------------------------------------
    def op_hook(self, op, inputs, params, run):
        evt = self.begin(_aten_name(op), shapes=_shapes(inputs) if self.record_shapes else None)
        try:
            out = run(op, inputs, params)
        finally:
            self.end(evt)
        if self.profile_memory:
            nbytes = _allocated(out)
            if nbytes:
                evt.self_cpu_memory_usage = nbytes
                with self.lock:
                    self.memory.append((evt.time_range.end, evt.thread, nbytes))
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

    def results(self):
        """The finished events in order of start time (torch's ``prof.events()``)."""
        events = sorted(self.events, key=lambda e: (e.time_range.start, -e.time_range.end))
        return EventList(events, profile_memory=self.profile_memory)


class record_function:
    """A labelled range (``with record_function("forward"):`` or ``@record_function("f")``)
    that appears in the table and the trace, with the ops inside it nested under it."""

    def __init__(self, name, args=None):
        self.name = name
        self.args = args
        self._event = None
        self._session = None

    def __enter__(self):
        session = _active
        if session is not None:
            self._session = session
            self._event = session.begin(self.name, category="user_annotation")
        return self

    def __exit__(self, *exc):
        if self._event is not None:
            self._session.end(self._event)
            self._event = self._session = None
        return False

    def __call__(self, fn):
        import functools
        name, args = self.name, self.args

        @functools.wraps(fn)
        def wrapper(*a, **kw):
            with record_function(name, args):
                return fn(*a, **kw)
        return wrapper
