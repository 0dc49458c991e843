"""``ember.autograd.profiler``: torch's older profiler names over ``ember.profiler``.

``with ember.autograd.profiler.profile() as prof: ...`` then ``prof.key_averages()``,
``prof.table()``, ``prof.function_events``, ``prof.export_chrome_trace(path)``.
"""
from ..profiler import EventList, FunctionEvent, FunctionEventAvg, record_function
from ..profiler._profile import _KinetoProfile

__all__ = ["profile", "record_function", "EventList", "FunctionEvent", "FunctionEventAvg"]


class profile:
    """torch.autograd.profiler.profile: record the block's ops, backward nodes and
    ``record_function`` ranges (``enabled=False`` records nothing)."""

    def __init__(self, enabled=True, *, use_cuda=False, use_device=None, record_shapes=False,
                 with_flops=False, profile_memory=False, with_stack=False, with_modules=False,
                 use_kineto=False, use_cpu=True, experimental_config=None, acc_events=False,
                 custom_trace_id_callback=None):
        self.enabled = enabled
        self.entered = False
        self._profile = _KinetoProfile(record_shapes=record_shapes,
                                       profile_memory=profile_memory, with_stack=with_stack,
                                       with_flops=with_flops, with_modules=with_modules,
                                       acc_events=acc_events)

    def __enter__(self):
        if not self.enabled:
            return self
        if self.entered:
            raise RuntimeError("Profiler context manager is not reentrant")
        self.entered = True
        self._profile.start()
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        if self.enabled:
            self._profile.stop()
        return False

    def _check_finished(self):
        if self._profile._events is None:
            raise RuntimeError("Profiler didn't finish running")

    @property
    def function_events(self):
        self._check_finished()
        return self._profile.events()

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0,
                     group_by_overload_name=False):
        self._check_finished()
        return self._profile.key_averages(group_by_input_shape, group_by_stack_n)

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75,
              max_name_column_width=55, max_shapes_column_width=80, header=None,
              top_level_events_only=False, time_unit=None):
        self._check_finished()
        return self.function_events.table(
            sort_by=sort_by, row_limit=row_limit, max_src_column_width=max_src_column_width,
            max_name_column_width=max_name_column_width,
            max_shapes_column_width=max_shapes_column_width, header=header,
            top_level_events_only=top_level_events_only, time_unit=time_unit)

    def export_chrome_trace(self, path):
        self._check_finished()
        self._profile.export_chrome_trace(path)

    def total_average(self):
        self._check_finished()
        return self.function_events.total_average()

    @property
    def self_cpu_time_total(self):
        self._check_finished()
        return self.function_events.self_cpu_time_total

    def __str__(self):
        return self.table()
