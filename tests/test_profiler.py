"""ember.profiler: torch.profiler's API, table and Chrome trace, with events from the one
dispatch path, the backward engine and record_function; torch.profiler is the oracle for
the table's layout and the schedule."""
import json
import re
import threading
import warnings

import pytest
import torch
import torch.profiler as tprof

import ember
import ember.profiler as eprof
from ember._ops import registry
from ember.autograd import engine


def _program(lib):
    x = lib.ones(4, 3, requires_grad=True)
    y = x + 2
    z = y * y * 3
    out = z.mean()
    return x, out


def _profiled(lib, prof_mod, backward=True, **kw):
    with prof_mod.profile(activities=[prof_mod.ProfilerActivity.CPU], **kw) as prof:
        with prof_mod.record_function("model_inference"):
            x, out = _program(lib)
        if backward:
            out.backward()
    return prof


def _rows(table):
    """The table's lines split at its column gaps (two or more spaces)."""
    return [re.split(r"\s{2,}", line.strip()) for line in table.splitlines()]


@pytest.mark.parametrize("kw", [{}, {"record_shapes": True}, {"profile_memory": True},
                                {"record_shapes": True, "profile_memory": True}])
def test_table_has_torchs_columns_and_layout(kw):
    group = kw.get("record_shapes", False)
    expected = _profiled(torch, tprof, **kw).key_averages(group_by_input_shape=group).table(
        sort_by="cpu_time_total", row_limit=5)
    got = _profiled(ember, eprof, **kw).key_averages(group_by_input_shape=group).table(
        sort_by="cpu_time_total", row_limit=5)
    e_lines, g_lines = expected.splitlines(), got.splitlines()
    assert _rows(got)[1] == _rows(expected)[1]              # the column names
    assert len(g_lines) == len(e_lines) == 5 + 5           # rules, header, rows, total
    for e, g in ((e_lines[0], g_lines[0]), (e_lines[2], g_lines[2])):
        # dash runs of the same widths (the input-shapes column sizes to its content)
        n = len(e.split()) - (1 if group else 0)
        assert [len(r) for r in g.split()][:n] == [len(r) for r in e.split()][:n]
    assert g_lines[-1].startswith("Self CPU time total: ")
    assert re.fullmatch(r"Self CPU time total: [\d.]+(us|ms|s)", g_lines[-1])
    for row in _rows(got)[3:8]:
        assert re.fullmatch(r"[\d.]+%", row[1]) and re.fullmatch(r"[\d.]+(us|ms|s)", row[2])


def _counts(prof):
    return {e.key: e.count for e in prof.key_averages()}


def test_forward_ops_have_torchs_names_and_counts():
    t = _counts(_profiled(torch, tprof, backward=False))
    e = _counts(_profiled(ember, eprof, backward=False))
    for name in ("aten::add", "aten::mul", "aten::mean", "model_inference"):
        assert e[name] == t[name]


def test_backward_nodes_are_events_wrapping_their_ops():
    prof = _profiled(ember, eprof)
    events = prof.events()
    names = [e.name for e in events]
    for node in ("MeanBackward0", "MulBackward0", "AddBackward0",
                 "torch::autograd::AccumulateGrad"):
        assert "autograd::engine::evaluate_function: " + node in names
    for e in events:
        if e.name.startswith("autograd::engine::evaluate_function: "):
            (inner,) = e.cpu_children
            assert inner.name == e.name.rsplit(" ", 1)[1]
            assert e.time_range.start <= inner.time_range.start
            assert inner.time_range.end <= e.time_range.end
    mul_nodes = [e for e in events if e.name == "MulBackward0"]
    assert len(mul_nodes) == 2
    assert all(c.name.startswith("aten::") for n in mul_nodes for c in n.cpu_children)
    assert any(c.name == "aten::mul" for n in mul_nodes for c in n.cpu_children)


def test_nesting_self_times_and_totals():
    prof = _profiled(ember, eprof)
    events = prof.events()
    (label,) = [e for e in events if e.name == "model_inference"]
    assert sorted(c.name for c in label.cpu_children) == \
        ["aten::add", "aten::mean", "aten::mul", "aten::mul"]
    for e in events:
        for c in e.cpu_children:
            assert c.cpu_parent is e
        assert e.self_cpu_time_total == pytest.approx(
            e.cpu_time_total - sum(c.cpu_time_total for c in e.cpu_children))
        assert e.self_cpu_time_total >= 0
    top = [e for e in events if e.cpu_parent is None]
    total = sum(e.cpu_time_total for e in top)
    assert events.self_cpu_time_total == pytest.approx(total)
    avg = {a.key: a for a in prof.key_averages()}
    mul = [e for e in events if e.name == "aten::mul"]
    assert avg["aten::mul"].count == len(mul)
    assert avg["aten::mul"].cpu_time_total == pytest.approx(sum(e.cpu_time_total for e in mul))
    assert avg["aten::mul"].cpu_time == pytest.approx(avg["aten::mul"].cpu_time_total / len(mul))


def test_sort_and_row_limit():
    table = _profiled(ember, eprof).key_averages().table(sort_by="self_cpu_time_total",
                                                          row_limit=3)
    rows = _rows(table)[3:6]
    times = [float(r[2][:-2]) * {"us": 1, "ms": 1e3}[r[2][-2:]] for r in rows]
    assert times == sorted(times, reverse=True) and len(_rows(table)) == 3 + 3 + 2


def test_group_by_input_shape_and_shapes():
    with eprof.profile(record_shapes=True) as prof:
        a = ember.ones(2, 3)
        b = ember.ones(4)
        a * 2, a * a, b * 2
    rows = {(e.key, str(e.input_shapes)): e.count
            for e in prof.key_averages(group_by_input_shape=True)}
    assert rows[("aten::mul", "[[2, 3], []]")] == 1
    assert rows[("aten::mul", "[[2, 3], [2, 3]]")] == 1
    assert rows[("aten::mul", "[[4], []]")] == 1
    assert {e.key: e.count for e in prof.key_averages()}["aten::mul"] == 3
    assert "Input Shapes" in prof.key_averages(group_by_input_shape=True).table()


def test_memory_columns_count_new_arrays_not_views():
    with eprof.profile(profile_memory=True) as prof:
        a = ember.ones(4, 3)          # float32: 48 bytes
        b = a * 2
        b.view(12)
    mem = {e.name: e.self_cpu_memory_usage for e in prof.events()}
    assert mem["aten::mul"] == 48 and mem["aten::view"] == 0
    assert "48 B" in prof.key_averages().table()


def test_with_stack_names_the_caller():
    with eprof.profile(with_stack=True) as prof:
        ember.ones(2) * 2
    (mul,) = [e for e in prof.events() if e.name == "aten::mul"]
    assert "test_profiler.py" in mul.stack[0] and "test_with_stack_names_the_caller" in mul.stack[0]
    assert "Source Location" in prof.key_averages().table()


def test_record_function_as_decorator_and_on_other_threads():
    @eprof.record_function("my_step")
    def step(x):
        return x * 3

    def worker():
        with eprof.record_function("in_thread"):
            pass

    with eprof.profile() as prof:
        step(ember.ones(2))
        step(ember.ones(2))
        t = threading.Thread(target=worker)
        t.start()
        t.join()
    counts = _counts(prof)
    assert counts["my_step"] == 2
    (ranged,) = [e for e in prof.events() if e.name == "in_thread"]
    assert ranged.thread != threading.get_native_id()
    mine = [e for e in prof.events() if e.name == "my_step"]
    assert all([c.name for c in e.cpu_children] == ["aten::mul"] for e in mine)
    with eprof.record_function("outside"):   # no profiler: records nothing, raises nothing
        ember.ones(1) * 2


def test_chrome_trace_nests_by_thread(tmp_path):
    prof = _profiled(ember, eprof, record_shapes=True, profile_memory=True)
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    trace = json.loads(path.read_text())
    events = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    assert {e["name"] for e in events} >= {"aten::mul", "MulBackward0", "model_inference",
                                           "autograd::engine::evaluate_function: MeanBackward0"}
    cats = {e["name"]: e["cat"] for e in events}
    assert cats["model_inference"] == "user_annotation" and cats["aten::mul"] == "cpu_op"
    assert len(events) == len(prof.events())
    by_tid = {}
    for e in events:
        by_tid.setdefault(e["tid"], []).append((e["ts"], e["ts"] + e["dur"]))
    for spans in by_tid.values():   # any two ranges on a thread nest or are apart
        for s1, e1 in spans:
            for s2, e2 in spans:
                assert e1 <= s2 + 1e-3 or e2 <= s1 + 1e-3 or (s1 <= s2 and e2 <= e1 + 1e-3) \
                    or (s2 <= s1 and e1 <= e2 + 1e-3)
    names = [e for e in trace["traceEvents"] if e["ph"] == "M" and e["name"] == "thread_name"]
    assert {e["tid"] for e in names} == set(by_tid)
    mul = next(e for e in events if e["name"] == "aten::mul")
    assert mul["args"]["Input Dims"] == [[4, 3], [4, 3]]
    memory = [e for e in trace["traceEvents"] if e["name"] == "[memory]"]
    assert memory and all(e["ph"] == "i" and e["args"]["Bytes"] > 0 for e in memory)


def test_hooks_are_gone_after_profiling():
    before = (registry._autocast.around, engine.profiling.around)
    prof = eprof.profile()
    prof.start()
    assert registry._autocast.around is not None and engine.profiling.around is not None
    ember.ones(2) * 2
    prof.stop()
    assert (registry._autocast.around, engine.profiling.around) == before == (None, None)
    with pytest.raises(ZeroDivisionError):
        with eprof.profile():
            raise ZeroDivisionError
    assert (registry._autocast.around, engine.profiling.around) == (None, None)


@pytest.mark.parametrize("kw", [dict(wait=1, warmup=1, active=2),
                                dict(wait=0, warmup=2, active=1, repeat=2),
                                dict(wait=2, warmup=1, active=3, repeat=1, skip_first=3),
                                dict(wait=3, warmup=1, active=1, skip_first=2,
                                     skip_first_wait=1)])
def test_schedule_matches_torchs(kw):
    t, e = tprof.schedule(**kw), eprof.schedule(**kw)
    assert [e(i).name for i in range(30)] == [t(i).name for i in range(30)]


def test_schedule_without_warmup_warns_as_torchs():
    with pytest.warns(UserWarning, match="Profiler won't be using warmup"):
        eprof.schedule(wait=1, warmup=0, active=1)
    with pytest.raises(AssertionError, match="Invalid profiler schedule arguments"):
        eprof.schedule(wait=1, warmup=1, active=0)


def _scheduled(lib, prof_mod, steps, **sched):
    traces = []

    def ready(prof):
        traces.append(sorted({e.key for e in prof.key_averages()
                              if e.key.startswith("ProfilerStep")}))
    with warnings.catch_warnings():   # no warmup; a later cycle replaces the events
        warnings.simplefilter("ignore")
        with prof_mod.profile(schedule=prof_mod.schedule(**sched), on_trace_ready=ready) as p:
            for i in range(steps):
                lib.ones(2) * i
                p.step()
    return traces, [sorted({e.name for e in p.events() if e.name.startswith("ProfilerStep")})]


@pytest.mark.parametrize("sched", [dict(wait=1, warmup=1, active=2, repeat=2),
                                   dict(wait=0, warmup=1, active=1),
                                   dict(wait=1, warmup=0, active=3, repeat=1)])
def test_scheduled_steps_and_trace_ready_as_torchs(sched):
    assert _scheduled(ember, eprof, 9, **sched) == _scheduled(torch, tprof, 9, **sched)


def test_tensorboard_trace_handler_writes_a_trace_per_cycle(tmp_path):
    with eprof.profile(schedule=eprof.schedule(wait=0, warmup=1, active=1, repeat=2),
                       on_trace_ready=eprof.tensorboard_trace_handler(str(tmp_path), "w")) as p:
        for _ in range(5):
            ember.ones(2) * 2
            p.step()
    files = sorted(tmp_path.iterdir())
    assert len(files) == 2 and all(f.name.startswith("w.") and
                                   f.name.endswith(".pt.trace.json") for f in files)
    names = {e["name"] for e in json.loads(files[0].read_text())["traceEvents"]}
    assert "aten::mul" in names and any(n.startswith("ProfilerStep#") for n in names)


def test_older_autograd_profiler_names():
    from ember.autograd.profiler import profile, record_function
    with profile(record_shapes=True) as prof:
        with record_function("label"):
            ember.ones(3, requires_grad=True).exp().sum().backward()
    names = {e.name for e in prof.function_events}
    assert {"label", "aten::exp", "aten::sum", "ExpBackward0"} <= names
    assert "Name" in prof.table() and "Self CPU %" in prof.key_averages().table()
    assert prof.self_cpu_time_total == pytest.approx(prof.function_events.self_cpu_time_total)
    assert prof.total_average().count == len(prof.function_events)
    with profile(enabled=False) as off:
        ember.ones(2) * 2
    with pytest.raises(RuntimeError, match="Profiler didn't finish running"):
        _ = off.function_events
    assert ember.autograd.profiler.profile is profile and ember.profiler is eprof


def test_acc_events_keeps_every_cycle_on_one_time_line():
    with eprof.profile(schedule=eprof.schedule(wait=0, warmup=1, active=1, repeat=2),
                       acc_events=True) as p:
        for i in range(5):
            ember.ones(2) * i
            p.step()
    events = p.events()
    steps = [e for e in events if e.name == "ProfilerStep*"]
    assert len(steps) == 2 and steps[0].time_range.end <= steps[1].time_range.start
    assert [e.id for e in events] == list(range(1, len(events) + 1))
    assert sum(e.name == "aten::mul" for e in events) == 2
