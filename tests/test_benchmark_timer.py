"""ember.utils.benchmark against torch.utils.benchmark: Measurement statistics and printed
layout (on the same raw times), Timer's timings and Compare's tables."""
import re

import pytest
import torch.utils.benchmark as tb

import ember
import ember.utils.benchmark as eb

RAW = [2.0e-3, 2.1e-3, 1.9e-3, 2.5e-3, 2.05e-3, 3.1e-3, 1.95e-3]


def _spec(lib, **kw):
    return lib.TaskSpec(**{"stmt": "x + y", "setup": "pass", **kw})


def _text(m):
    # The object's address and module (torch. / ember.) are the only differences.
    return re.sub(r"<\w+\.utils\.benchmark\.utils\.common\.Measurement object at 0x[0-9a-f]+>",
                  "<Measurement>", repr(m))


@pytest.mark.parametrize("raw,number,kw", [
    (RAW, 100, {}),
    (RAW[:3], 10, {"label": "add", "sub_label": "small", "description": "cpu"}),
    (RAW[:1], 1000, {"setup": "x = 1\ny = 2", "num_threads": 4}),
    ([1e-7, 1.2e-7, 0.9e-7, 5e-7], 1, {"stmt": "a = 1\nb = a", "sub_label": "two"}),
    ([3.0, 3.1, 2.9, 3.05, 3.2], 1, {"env": "e1"}),
])
def test_measurement_statistics_and_repr_as_torch(raw, number, kw):
    t = tb.Measurement(number, list(raw), _spec(tb, **kw))
    e = eb.Measurement(number, list(raw), _spec(eb, **kw))
    assert _text(e) == _text(t)
    for name in ("mean", "median", "iqr"):
        assert getattr(e, name) == pytest.approx(getattr(t, name), rel=1e-12)
    assert e.times == t.times and e.raw_times == t.raw_times
    assert e.number_per_run == t.number_per_run and e.title == t.title
    assert e.significant_figures == t.significant_figures
    assert e.has_warnings == t.has_warnings and e.meets_confidence() == t.meets_confidence()
    assert e.stmt == t.stmt and e.num_threads == t.num_threads and e.env == t.env
    merged_t, merged_e = tb.Measurement.merge([t, t]), eb.Measurement.merge([e, e])
    assert [m.times for m in merged_e] == [m.times for m in merged_t]


def test_helpers_as_torch():
    for x in (3.2e-9, 4.5e-6, 0.02, 7.0, 123.0):
        assert eb.select_unit(x) == tb.select_unit(x)
    for x, n in ((3.14159, 2), (0.0012345, 3), (98765.0, 1)):
        assert eb.trim_sigfig(x, n) == pytest.approx(tb.trim_sigfig(x, n))
    assert eb.unit_to_english("us") == tb.unit_to_english("us")


def test_timer_measures_real_time():
    t = eb.Timer("time.sleep(0.002)", setup="import time", label="sleep")
    m = t.timeit(5)
    assert m.number_per_run == 5 and len(m.raw_times) == 1
    assert 0.0019 < m.mean < 0.05 and m.title == "sleep"
    b = eb.Timer("x * 2", globals={"x": ember.ones(8)}).blocked_autorange(min_run_time=0.05)
    assert sum(b.raw_times) >= 0.05 and b.median > 0 and b.number_per_run >= 1
    a = eb.Timer("torch.ones(3)").adaptive_autorange(min_run_time=0.01, max_run_time=0.5)
    assert isinstance(a, eb.Measurement) and a.median > 0
    calls = []
    eb.Timer("pass").blocked_autorange(callback=lambda n, t: calls.append(n), min_run_time=0.01)
    assert calls


def test_timer_errors_as_torch():
    for kw in ({"stmt": lambda: None}, {"global_setup": "int x = 1;"},
               {"language": "fortran"}):
        with pytest.raises(ValueError) as te:
            tb.Timer(**kw)
        with pytest.raises(ValueError) as ee:
            eb.Timer(**kw)
        assert str(ee.value) == str(te.value)
    for fn in ("repeat", "autorange"):
        with pytest.raises(NotImplementedError, match="See `Timer.blocked_autorange.`"):
            getattr(eb.Timer(), fn)()


def test_compare_table_as_torch():
    def results(lib):
        return [lib.Measurement(10, [r * k for r in RAW], _spec(lib, label="mul", sub_label=s,
                                                                   description=d))
                for k, s in ((1, "10"), (3, "1000")) for d in ("a", "b")] + [
            lib.Measurement(1, RAW[:2], _spec(lib, label="other", description="a"))]
    for configure in (lambda c: None, lambda c: c.trim_significant_figures(),
                      lambda c: c.colorize(), lambda c: c.highlight_warnings(),
                      lambda c: c.colorize(rowwise=True)):
        t, e = tb.Compare(results(tb)), eb.Compare(results(eb))
        configure(t)
        configure(e)
        assert str(e) == str(t)
    with pytest.raises(ValueError, match="Expected an instance of `Measurement`"):
        eb.Compare([1])
