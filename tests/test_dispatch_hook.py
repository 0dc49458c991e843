"""registry.push_around: the one hook the profiler and ember.compile see ops through."""
import ember
from ember._ops import registry


def _recorder(log, tag):
    def hook(op, inputs, params, run):
        log.append((tag, op.name))
        return run(op, inputs, params)
    return hook


def test_hooks_chain_and_restore():
    log = []
    outer = registry.push_around(_recorder(log, "outer"))
    try:
        x = ember.ones(3, requires_grad=True)
        y = x * 2
        inner = registry.push_around(_recorder(log, "inner"))
        try:
            z = y + 1
        finally:
            inner()
    finally:
        outer()
    assert log == [("outer", "mul"), ("inner", "add"), ("outer", "add")]
    assert registry._autocast.around is None
    assert z.tolist() == [3.0, 3.0, 3.0]
    z.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]


def test_backward_ops_go_through_the_hook():
    log = []
    restore = registry.push_around(_recorder(log, "h"))
    try:
        x = ember.ones(3, requires_grad=True)
        (x * x).sum().backward()
    finally:
        restore()
    names = [name for _, name in log]
    assert names[:2] == ["mul", "sum"] and len(names) > 2  # backward's ops follow
    assert x.grad.tolist() == [2.0, 2.0, 2.0]
