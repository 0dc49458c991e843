"""``ember.profiler``: torch.profiler for Ember.

    from ember.profiler import profile, record_function, ProfilerActivity
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        with record_function("model_inference"):
            model(inputs)
    print(prof.key_averages().table(sort_by="cpu_time_total", row_limit=10))
    prof.export_chrome_trace("trace.json")     # open in https://ui.perfetto.dev

Ops are named as torch's (``aten::mul``), backward nodes as torch's engine names them
(``autograd::engine::evaluate_function: MulBackward0`` around ``MulBackward0``).  Only
host time is measured.  Ops are recorded on the thread that started the profiler (the
dispatch hook is per thread); ``record_function`` ranges on any thread.
"""
from ._events import EventList, FunctionEvent, FunctionEventAvg
from ._profile import (ProfilerAction, ProfilerActivity, _KinetoProfile, profile, schedule,
                       supported_activities, tensorboard_trace_handler)
from ._recorder import record_function

__all__ = ["profile", "record_function", "schedule", "ProfilerActivity", "ProfilerAction",
           "supported_activities", "tensorboard_trace_handler", "EventList", "FunctionEvent",
           "FunctionEventAvg"]
