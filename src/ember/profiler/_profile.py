"""torch.profiler.profile: recording windows driven by a schedule, and their results."""
import enum
import os
import warnings
from functools import partial

from ._recorder import _Session, record_function


class ProfilerActivity(enum.Enum):
    CPU = 0
    XPU = 1
    MTIA = 2
    CUDA = 3
    HPU = 4
    PrivateUse1 = 5


class ProfilerAction(enum.Enum):
    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def supported_activities():
    return {ProfilerActivity.CPU}


def schedule(*, wait, warmup, active, repeat=0, skip_first=0, skip_first_wait=0):
    """torch.profiler.schedule: after ``skip_first`` steps, cycles of ``wait`` idle steps,
    ``warmup`` steps and ``active`` recorded ones, ``repeat`` times (0: without end)."""

    def schedule_fn(step):
        if step < 0:
            raise AssertionError(f"Step must be non-negative. Got {step}.")
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait != 0:
            step += wait
        num_steps = wait + warmup + active
        if repeat > 0 and step / num_steps >= repeat:
            return ProfilerAction.NONE
        mod_step = step % num_steps
        if mod_step < wait:
            return ProfilerAction.NONE
        if mod_step < wait + warmup:
            return ProfilerAction.WARMUP
        return (ProfilerAction.RECORD if mod_step < num_steps - 1
                else ProfilerAction.RECORD_AND_SAVE)

    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError(
            f"Invalid profiler schedule arguments. Got wait={wait} (need >= 0), warmup={warmup} "
            f"(need >= 0), active={active} (need > 0), repeat={repeat} (need >= 0), "
            f"skip_first={skip_first} (need >= 0).")
    if warmup == 0:
        warnings.warn("Profiler won't be using warmup, this can skew profiler results",
                      stacklevel=2)
    return schedule_fn


_warned_clear = False


def _bad_schedule(what):
    warnings.warn(f"Incorrect schedule: {what}", stacklevel=4)


def _default_schedule_fn(_):
    return ProfilerAction.RECORD


def tensorboard_trace_handler(dir_name, worker_name=None, use_gzip=False,
                              use_python_export=False):
    """An ``on_trace_ready`` that writes each trace as ``<worker>.<ns>.pt.trace.json`` under
    ``dir_name`` (the layout TensorBoard's profiler plugin reads)."""
    import gzip
    import socket
    import time

    def handler_fn(prof):
        nonlocal worker_name
        if not os.path.isdir(dir_name):
            try:
                os.makedirs(dir_name, exist_ok=True)
            except Exception as e:
                raise RuntimeError("Can't create directory: " + dir_name) from e
        if not worker_name:
            worker_name = f"{socket.gethostname()}_{os.getpid()}"
        path = os.path.join(dir_name, f"{worker_name}.{time.time_ns()}.pt.trace.json")
        prof.export_chrome_trace(path)
        if use_gzip:
            with open(path, "rb") as src, gzip.open(path + ".gz", "wb") as dst:
                dst.write(src.read())
            os.remove(path)
    return handler_fn


class _KinetoProfile:
    """The recording itself (torch's _KinetoProfile): start/stop one window, and read it."""

    def __init__(self, *, activities=None, record_shapes=False, profile_memory=False,
                 with_stack=False, with_flops=False, with_modules=False,
                 experimental_config=None, execution_trace_observer=None, acc_events=False,
                 custom_trace_id_callback=None):
        self.activities = set(activities) if activities else supported_activities()
        unknown = [a for a in self.activities if not isinstance(a, ProfilerActivity)]
        if unknown:
            raise TypeError(f"activities must be ProfilerActivity values, got {unknown}")
        if self.activities - {ProfilerActivity.CPU}:
            warnings.warn("Ember's profiler records host (CPU) time only; device activities "
                          "are not collected", stacklevel=3)
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.with_flops = with_flops
        self.with_modules = with_modules
        self.acc_events = acc_events
        self._session = None
        self._events = None

    def prepare_trace(self):
        # nothing to warm up (recording starts instantly); a second cycle replaces the first
        global _warned_clear
        if self._events is not None and not self.acc_events and not _warned_clear:
            _warned_clear = True
            warnings.warn("Warning: Profiler clears events at the end of each cycle. Only "
                          "events from the current cycle will be reported. To keep events "
                          "across cycles, set acc_events=True.", stacklevel=2)

    def start_trace(self):
        base = ((self._base_perf, self._base_time_ns)
                if self.acc_events and self._events is not None else None)
        self._session = _Session(self.record_shapes, self.profile_memory, self.with_stack, base)
        self._session.install()

    def stop_trace(self):
        session, self._session = self._session, None
        if session is None:
            return
        session.uninstall()
        accumulate = self.acc_events and self._events is not None
        events, memory = session.results(len(self._events) + 1 if accumulate else 1)
        if accumulate:
            events = type(events)(list(self._events) + list(events),
                                  profile_memory=self.profile_memory)
            memory = self._memory + memory
        self._events = events
        self._base_perf, self._base_time_ns = session.base_perf, session.base_time_ns
        self._memory = memory

    def start(self):
        self.prepare_trace()
        self.start_trace()

    def stop(self):
        self.stop_trace()

    def events(self):
        """The recorded events in order of start time (an EventList)."""
        if self._events is None:
            raise RuntimeError("Profiler didn't finish running")
        return self._events

    @property
    def function_events(self):
        return self.events()

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0,
                     group_by_overload_name=False):
        """Events averaged by name (and input shapes / stack, when asked); ``.table()``
        prints them as torch does."""
        return self.events().key_averages(group_by_input_shape, group_by_stack_n)

    def export_chrome_trace(self, path):
        """Write the events as Chrome trace JSON (open in Perfetto or chrome://tracing)."""
        from ._events import write_chrome_trace
        write_chrome_trace(self.events(), path, self._base_time_ns,
                           self._memory if self.profile_memory else ())

    def export_stacks(self, path, metric="self_cpu_time_total"):
        """Collapsed stacks (``frame;frame;op value`` lines) for flame-graph tools."""
        if not self.with_stack:
            raise RuntimeError("export_stacks requires with_stack=True")
        with open(path, "w") as f:
            for evt in self.events():
                if evt.stack:
                    frames = ";".join(reversed(evt.stack))
                    f.write(f"{frames};{evt.name} {int(getattr(evt, metric))}\n")


class profile(_KinetoProfile):
    """torch.profiler.profile: a context manager (or ``start``/``stop``/``step``) that
    records ops, backward nodes and ``record_function`` ranges; with ``schedule``, only the
    steps it marks active are recorded and ``on_trace_ready(prof)`` runs after each cycle."""

    def __init__(self, *, activities=None, schedule=None, on_trace_ready=None,
                 record_shapes=False, profile_memory=False, with_stack=False, with_flops=False,
                 with_modules=False, experimental_config=None, execution_trace_observer=None,
                 acc_events=False, use_cuda=None, custom_trace_id_callback=None):
        if use_cuda:
            activities = set(activities or supported_activities()) | {ProfilerActivity.CUDA}
        super().__init__(activities=activities, record_shapes=record_shapes,
                         profile_memory=profile_memory, with_stack=with_stack,
                         with_flops=with_flops, with_modules=with_modules, acc_events=acc_events)
        self.record_steps = schedule is not None
        self.schedule = schedule if schedule is not None else _default_schedule_fn
        self.on_trace_ready = on_trace_ready
        self.step_num = 0
        self.current_action = self.schedule(self.step_num)
        self.step_rec_fn = None
        A = ProfilerAction
        start = [self.prepare_trace, self.start_trace]
        stop_save = [self.stop_trace, self._trace_ready]
        self.action_map = {
            (A.NONE, A.WARMUP): [self.prepare_trace],
            (A.NONE, A.RECORD): start,
            (A.NONE, A.RECORD_AND_SAVE): start,
            (A.WARMUP, A.NONE): [partial(_bad_schedule, "WARMUP followed by NONE"),
                                 self.start_trace, self.stop_trace],
            (A.WARMUP, A.RECORD): [self.start_trace],
            (A.WARMUP, A.RECORD_AND_SAVE): [self.start_trace],
            (A.RECORD, A.NONE): [partial(_bad_schedule, "RECORD followed by NONE"),
                                 self.stop_trace],
            (A.RECORD, A.WARMUP): [partial(_bad_schedule, "RECORD followed by WARMUP"),
                                   self.stop_trace],
            (A.RECORD_AND_SAVE, A.NONE): stop_save,
            (A.RECORD_AND_SAVE, A.WARMUP): stop_save + [self.prepare_trace],
            (A.RECORD_AND_SAVE, A.RECORD): stop_save + start,
            (A.RECORD_AND_SAVE, A.RECORD_AND_SAVE): stop_save + start,
            (A.WARMUP, None): [self.start_trace, self.stop_trace],
            (A.RECORD, None): stop_save,
            (A.RECORD_AND_SAVE, None): stop_save,
        }

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.stop()

    def start(self):
        self._transit_action(ProfilerAction.NONE, self.current_action)
        self._enter_step()

    def stop(self):
        self._exit_step()
        self._transit_action(self.current_action, None)

    def step(self):
        """Mark the start of the next step (the schedule decides what is recorded)."""
        self._exit_step()
        prev_action = self.current_action
        self.step_num += 1
        self.current_action = self.schedule(self.step_num)
        self._transit_action(prev_action, self.current_action)
        self._enter_step()

    def _enter_step(self):
        if self.record_steps:
            self.step_rec_fn = record_function("ProfilerStep#" + str(self.step_num))
            self.step_rec_fn.__enter__()

    def _exit_step(self):
        if self.step_rec_fn is not None:
            self.step_rec_fn.__exit__(None, None, None)
            self.step_rec_fn = None

    def _transit_action(self, prev_action, current_action):
        for action in self.action_map.get((prev_action, current_action), ()):
            action()

    def _trace_ready(self):
        if self.on_trace_ready:
            self.on_trace_ready(self)
