"""ember's runtime settings (threads, determinism, matmul precision, compile) against torch."""
import os
import warnings

import numpy as np
import pytest
import torch

import ember
from ember import _runtime


def _raises_like(fn_t, fn_e):
    """Both calls raise the same exception class with the same message."""
    with pytest.raises(Exception) as et:
        fn_t()
    with pytest.raises(Exception) as ee:
        fn_e()
    assert type(ee.value).__name__ == type(et.value).__name__
    assert str(ee.value) == str(et.value)


@pytest.fixture
def threads():
    saved = ember.get_num_threads()
    yield
    ember.set_num_threads(saved)


@pytest.mark.parametrize("bad", [0, -1, 1.5, "a", True, None])
@pytest.mark.parametrize("name", ["set_num_threads", "set_num_interop_threads"])
def test_thread_count_validation_matches_torch(name, bad):
    _raises_like(lambda: getattr(torch, name)(bad), lambda: getattr(ember, name)(bad))


def test_default_thread_count_is_the_blas_count_or_cpu_count():
    tpc = pytest.importorskip("threadpoolctl")
    blas = [p["num_threads"] for p in tpc.threadpool_info() if p["user_api"] == "blas"]
    assert ember.get_num_threads() == (max(blas) if blas else os.cpu_count())


def test_set_num_threads_changes_blas_threads(threads):
    tpc = pytest.importorskip("threadpoolctl")
    np.dot(np.ones((4, 4)), np.ones((4, 4)))  # make sure the BLAS library is loaded
    ember.set_num_threads(1)
    counts = [p["num_threads"] for p in tpc.threadpool_info() if p["user_api"] == "blas"]
    assert counts and all(c == 1 for c in counts)
    assert ember.get_num_threads() == 1
    target = max(2, os.cpu_count() or 2)
    ember.set_num_threads(target)
    counts = [p["num_threads"] for p in tpc.threadpool_info() if p["user_api"] == "blas"]
    # OpenBLAS caps the count at the threads it was built with; it must rise off 1 anyway
    assert min(counts) > 1
    assert ember.get_num_threads() == max(counts)


def test_without_threadpoolctl_set_warns_and_get_falls_back(monkeypatch):
    monkeypatch.setattr(_runtime, "_threadpoolctl", None)
    monkeypatch.setitem(_runtime._state, "warned_no_threadpoolctl", False)
    assert ember.get_num_threads() == os.cpu_count()
    with pytest.warns(UserWarning, match="threadpoolctl"):
        ember.set_num_threads(1)
    assert ember.get_num_threads() == os.cpu_count()
    with pytest.raises(RuntimeError, match="positive integer"):
        ember.set_num_threads(0)


def test_interop_threads_set_once(monkeypatch):
    monkeypatch.setitem(_runtime._state, "interop_threads", None)
    assert ember.get_num_interop_threads() == torch.get_num_interop_threads() == os.cpu_count()
    ember.set_num_interop_threads(3)
    assert ember.get_num_interop_threads() == 3
    with pytest.raises(RuntimeError) as e:
        ember.set_num_interop_threads(3)
    assert str(e.value) == ("Error: cannot set number of interop threads after parallel work "
                            "has started or set_num_interop_threads called")


@pytest.mark.parametrize("args,kwargs", [((1,), {}), (("x",), {}), ((True,), {"warn_only": 1}),
                                         ((None,), {})])
def test_deterministic_type_errors_match_torch(args, kwargs):
    _raises_like(lambda: torch.use_deterministic_algorithms(*args, **kwargs),
                 lambda: ember.use_deterministic_algorithms(*args, **kwargs))


def test_deterministic_flags_round_trip_like_torch():
    try:
        assert ember.are_deterministic_algorithms_enabled() is \
            torch.are_deterministic_algorithms_enabled() is False
        for mode, warn in [(True, True), (True, False), (False, True)]:
            torch.use_deterministic_algorithms(mode, warn_only=warn)
            ember.use_deterministic_algorithms(mode, warn_only=warn)
            assert ember.are_deterministic_algorithms_enabled() == \
                torch.are_deterministic_algorithms_enabled() == mode
            assert ember.is_deterministic_algorithms_warn_only_enabled() == \
                torch.is_deterministic_algorithms_warn_only_enabled()
    finally:
        torch.use_deterministic_algorithms(False)
        ember.use_deterministic_algorithms(False)


def test_matmul_precision_like_torch():
    try:
        assert ember.get_float32_matmul_precision() == torch.get_float32_matmul_precision()
        for p in ["high", "medium", "highest"]:
            torch.set_float32_matmul_precision(p)
            ember.set_float32_matmul_precision(p)
            assert ember.get_float32_matmul_precision() == torch.get_float32_matmul_precision()
        _raises_like(lambda: torch.set_float32_matmul_precision(1),
                     lambda: ember.set_float32_matmul_precision(1))
        for bad in ["low", "HIGH"]:
            with pytest.warns(UserWarning) as wt:
                torch.set_float32_matmul_precision(bad)
            with pytest.warns(UserWarning) as we:
                ember.set_float32_matmul_precision(bad)
            # torch appends where in its C++ the warning came from
            assert str(wt[0].message).startswith(str(we[0].message))
            assert ember.get_float32_matmul_precision() == torch.get_float32_matmul_precision()
    finally:
        torch.set_float32_matmul_precision("highest")
        ember.set_float32_matmul_precision("highest")


def test_compile_accepts_torchs_arguments():
    def f(x):
        return x * 2

    assert ember.compile(f)(3) == 6
    assert ember.compile(f, mode="max-autotune", fullgraph=True, dynamic=True)(3) == 6
    assert ember.compile(f, backend="eager")(3) == 6
    assert ember.compile(f, disable=True) is f
    assert ember.compile(f, backend=lambda gm, inputs: gm)(3) == 6
    m = ember.nn.Linear(2, 3)
    assert ember.compile(m)._orig_mod is m


def test_compile_as_decorator():
    @ember.compile
    def g(x):
        return x + 1

    @ember.compile(mode="reduce-overhead")
    def h(x):
        return x - 1

    assert g(1) == 2 and h(1) == 0
    assert g.__name__ == "g" and h.__name__ == "h"


@pytest.mark.parametrize("call", [
    lambda c: c(lambda x: x, mode="bogus"),
    lambda c: c(lambda x: x, mode=3),
    lambda c: c(3, mode="bogus"),
    lambda c: c(lambda x: x, mode="max-autotune", options={}),
    lambda c: c(3),
    lambda c: c(lambda x: x, dynamic="x"),
    lambda c: c(lambda x: x, backend="nonexistent"),
    lambda c: c(mode="default")(None),
])
def test_compile_errors_match_torch(call):
    _raises_like(lambda: call(torch.compile), lambda: call(ember.compile))


def test_compile_invalid_backend_is_a_runtime_error():
    with pytest.raises(RuntimeError):
        ember.compile(lambda x: x, backend="nonexistent")


def test_runtime_names_are_exported():
    for name in _runtime.__all__:
        assert getattr(ember, name) is getattr(_runtime, name)
        assert callable(getattr(torch, name))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ember.get_num_threads()
