"""Grad modes, inference mode and anomaly mode, compared with torch."""
import threading
import warnings

import numpy as np
import pytest
import torch

import ember


@pytest.mark.parametrize("T", [torch, ember], ids=["torch", "ember"])
def test_grad_mode_context_managers_nest(T):
    x = T.ones(2, requires_grad=True)
    assert T.is_grad_enabled()
    with T.no_grad():
        assert not T.is_grad_enabled()
        assert not (x * 2).requires_grad
        with T.enable_grad():
            assert T.is_grad_enabled()
            assert (x * 2).requires_grad
            with T.set_grad_enabled(False):
                assert not T.is_grad_enabled()
            assert T.is_grad_enabled()
        assert not T.is_grad_enabled()
    assert T.is_grad_enabled()


@pytest.mark.parametrize("T", [torch, ember], ids=["torch", "ember"])
def test_grad_mode_restored_after_exception(T):
    with pytest.raises(ValueError):
        with T.no_grad():
            raise ValueError
    assert T.is_grad_enabled()


@pytest.mark.parametrize("T", [torch, ember], ids=["torch", "ember"])
def test_grad_mode_decorators(T):
    @T.no_grad()
    def f(x):
        return x * 2

    @T.enable_grad()
    def g(x):
        return x * 2

    @T.set_grad_enabled(False)
    def h(x):
        return x * 2

    @T.no_grad()
    def gen(x):
        yield x * 2
        yield x * 3

    x = T.ones(2, requires_grad=True)
    assert not f(x).requires_grad and not h(x).requires_grad
    assert T.is_grad_enabled()  # the decorator's construction did not change the mode
    with T.no_grad():
        assert g(x).requires_grad
    assert [y.requires_grad for y in gen(x)] == [False, False]
    assert f.__name__ == "f"


@pytest.mark.parametrize("T", [torch, ember], ids=["torch", "ember"])
def test_set_grad_enabled_as_function(T):
    T.set_grad_enabled(False)
    try:
        assert not T.is_grad_enabled()
        assert not (T.ones(1, requires_grad=True) * 2).requires_grad
    finally:
        T.set_grad_enabled(True)
    assert T.is_grad_enabled()


def test_set_grad_enabled_repr():
    assert repr(ember.set_grad_enabled(True)) == repr(torch.set_grad_enabled(True))


@pytest.mark.parametrize("T", [torch, ember], ids=["torch", "ember"])
def test_grad_mode_is_thread_local(T):
    seen = {}

    def worker():
        seen["enabled"] = T.is_grad_enabled()
        seen["requires_grad"] = (T.ones(1, requires_grad=True) * 2).requires_grad

    with T.no_grad():
        th = threading.Thread(target=worker)
        th.start()
        th.join()
        assert not T.is_grad_enabled()
    assert seen == {"enabled": True, "requires_grad": True}


# ---- inference mode ---------------------------------------------------------------------
@pytest.mark.parametrize("T", [torch, ember], ids=["torch", "ember"])
def test_inference_mode(T):
    w = T.ones(3, requires_grad=True)
    assert not T.is_inference_mode_enabled()
    with T.inference_mode():
        assert T.is_inference_mode_enabled() and not T.is_grad_enabled()
        b = w * 2
        assert not b.requires_grad
    assert T.is_inference_mode_enabled() is False and T.is_grad_enabled()
    with T.inference_mode(False):
        assert not T.is_inference_mode_enabled() and T.is_grad_enabled()
    (w + b).sum().backward()       # add saves nothing: allowed, as in torch
    with pytest.raises(RuntimeError) as e:
        w * b                      # mul would save the inference tensor
    assert str(e.value) == (
        "Inference tensors cannot be saved for backward. Please do not use Tensors created in "
        "inference mode in computation tracked by autograd. To work around this, you can make a "
        "clone to get a normal tensor and use it in autograd, or use `torch.no_grad()` instead "
        "of `torch.inference_mode()`.")
    (w * b.clone()).sum().backward()

    @T.inference_mode()
    def f(x):
        assert T.is_inference_mode_enabled()
        return x * 2
    assert not f(w).requires_grad
    assert not T.is_inference_mode_enabled()


@pytest.mark.parametrize("T", [torch, ember], ids=["torch", "ember"])
def test_inference_tensors_from_factories_and_inplace_outside(T):
    with T.inference_mode():
        made = [T.ones(3), T.zeros(2), T.randn(2), T.arange(3), T.tensor([1.0]), T.ones(2) * 2]
    assert all(t.is_inference() for t in made)
    assert not T.ones(2).is_inference()
    with pytest.raises(RuntimeError) as e:
        made[0].add_(1)
    assert str(e.value).startswith("Inplace update to inference tensor outside InferenceMode is "
                                   "not allowed.")
    with T.inference_mode():
        before = made[1].tolist()
        made[1].add_(1)            # inside inference mode it is allowed
    assert made[1].tolist() == [b + 1 for b in before]


def test_inference_mode_exported_from_autograd():
    assert ember.autograd.inference_mode is ember.autograd.grad_mode.inference_mode
    assert ember.autograd.grad_mode.is_inference_mode_enabled() is False


# ---- anomaly mode -----------------------------------------------------------------------
def _anomaly_api(T, name):
    # torch has these at top level; Ember keeps them in autograd.anomaly_mode
    return getattr(torch, name) if T is torch else getattr(ember.autograd.anomaly_mode, name)


def _nan_backward(T):
    x = T.tensor([0.0, 1.0], requires_grad=True)
    y = x.sqrt() * 0      # sqrt' at 0 is inf; times the zero gradient is nan
    y.sum().backward()


@pytest.mark.parametrize("T", [torch, ember], ids=["torch", "ember"])
def test_detect_anomaly_names_the_nan_node(T):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        with T.autograd.detect_anomaly():
            assert _anomaly_api(T, "is_anomaly_enabled")()
            with pytest.raises(RuntimeError) as e:
                _nan_backward(T)
    assert str(e.value) == "Function 'SqrtBackward0' returned nan values in its 0th output."
    msgs = [str(x.message) for x in w]
    assert msgs[0] == ("Anomaly Detection has been enabled. This mode will increase the runtime "
                       "and should only be enabled for debugging.")
    trace = [m for m in msgs if m.startswith("Error detected in SqrtBackward0. Traceback of "
                                             "forward call that caused the error:\n")]
    assert len(trace) == 1
    assert "in _nan_backward" in trace[0] and "y = x.sqrt() * 0" in trace[0]


@pytest.mark.parametrize("T", [torch, ember], ids=["torch", "ember"])
def test_without_anomaly_nan_passes_silently(T):
    x = T.tensor([0.0, 1.0], requires_grad=True)
    (x.sqrt() * 0).sum().backward()
    assert np.isnan(np.asarray(x.grad)[0])


@pytest.mark.parametrize("T", [torch, ember], ids=["torch", "ember"])
def test_set_detect_anomaly_function_and_context(T):
    enabled = _anomaly_api(T, "is_anomaly_enabled")
    check_nan = _anomaly_api(T, "is_anomaly_check_nan_enabled")
    with T.autograd.set_detect_anomaly(True):
        assert enabled()
    assert not enabled()
    T.autograd.set_detect_anomaly(True, check_nan=False)
    try:
        assert enabled() and not check_nan()
        _nan_backward(T)  # no NaN check
    finally:
        T.autograd.set_detect_anomaly(False)
    assert not enabled() and check_nan()


def test_anomaly_records_traceback_only_when_on():
    x = ember.ones(2, requires_grad=True)
    y = x.exp()
    assert "traceback_" not in y.grad_fn.metadata
    with ember.autograd.set_detect_anomaly(True):
        z = x.exp()
    assert "z = x.exp()" in "".join(z.grad_fn.metadata["traceback_"])


@pytest.mark.parametrize("T", [torch, ember], ids=["torch", "ember"])
def test_anomaly_shows_forward_trace_for_failing_backward(T):
    def boom():
        x = T.ones(3, requires_grad=True)
        y = x.exp()
        z = y * y
        y.add_(1)
        z.sum().backward()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        with T.autograd.set_detect_anomaly(True):
            with pytest.raises(RuntimeError, match="Hint: the backtrace further above shows the "
                                                   "operation that failed"):
                boom()
    assert any(str(m.message).startswith("Error detected in MulBackward0.") and
               "z = y * y" in str(m.message) for m in w)
