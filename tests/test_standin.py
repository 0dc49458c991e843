"""The CPU-backed CuPy stand-in behaves as CuPy where device code depends on it."""
import gc

import numpy as np
import pytest

import ember
from ember import _device, _standin

cp = _standin.cupy()


def test_arrays_refuse_implicit_host_conversion():
    a = cp.arange(4)
    with pytest.raises(TypeError, match="Implicit conversion to a NumPy array is not allowed"):
        np.asarray(a)
    assert isinstance(a.get(), np.ndarray) and a.get().tolist() == [0, 1, 2, 3]
    assert not isinstance(a, np.ndarray)


def test_functions_refuse_host_arrays_and_take_device_ones():
    a = cp.ones(3, dtype=np.float32)
    with pytest.raises(TypeError, match="Unsupported type <class 'numpy.ndarray'>"):
        cp.add(a, np.ones(3, np.float32))
    with pytest.raises(TypeError, match="Unsupported type"):
        a + np.ones(3, np.float32)
    with pytest.raises(TypeError, match="Unsupported type"):
        a[...] = np.zeros(3, np.float32)
    r = a + np.float32(2)  # NumPy scalars are fine, as in CuPy
    assert type(r) is cp.ndarray and r.dtype == np.float32 and r.get().tolist() == [3, 3, 3]


def test_numpy_functions_dispatch_only_where_cupy_has_them():
    a = cp.arange(6).reshape(2, 3)
    r = np.moveaxis(a, 0, 1)
    assert type(r) is cp.ndarray and r.shape == (3, 2)
    assert type(np.exp(a)) is cp.ndarray
    assert not hasattr(cp, "errstate")  # CuPy has no errstate
    with pytest.raises(TypeError, match="no implementation found for 'numpy.insert'"):
        np.insert(a, 0, 1)  # a NumPy function CuPy lacks


def test_reductions_and_scalar_indexing_give_0dim_arrays():
    a = cp.arange(5)
    assert type(a.sum()) is cp.ndarray and a.sum().ndim == 0
    assert type(a[2]) is cp.ndarray and int(a[2]) == 2


def test_devices_streams_events_and_memory():
    assert cp.cuda.runtime.getDeviceCount() == 2
    with cp.cuda.Device(1):
        b = cp.zeros(1000, dtype=np.float64)
    assert b.device.id == 1 and cp.cuda.runtime.getDevice() == 0
    gc.collect()
    gc.disable()   # no collection of other tests' arrays between the readings
    try:
        before = cp.get_default_memory_pool().used_bytes()
        c = cp.empty(1 << 16, dtype=np.uint8)
        assert cp.get_default_memory_pool().used_bytes() == before + (1 << 16)
        del c
        assert cp.get_default_memory_pool().used_bytes() == before
    finally:
        gc.enable()
    start, end = cp.cuda.Event(), cp.cuda.Event()
    start.record()
    end.record()
    assert cp.cuda.get_elapsed_time(start, end) >= 0
    with pytest.raises(RuntimeError, match="invalid device ordinal"):
        cp.cuda.Device(2)


def test_asarray_moves_between_host_and_devices():
    h = np.arange(3.0)
    d = cp.asarray(h)
    assert type(d) is cp.ndarray and d.get().tolist() == [0.0, 1.0, 2.0]
    assert cp.asarray(d) is d
    with cp.cuda.Device(1):
        d1 = cp.asarray(d)
    assert d1.device.id == 1 and d1 is not d
    assert cp.asnumpy(d1).tolist() == [0.0, 1.0, 2.0]


def test_env_var_backs_ember_cuda_with_the_standin(monkeypatch):
    saved = _device._cupy, _device._cupyx
    monkeypatch.setenv("EMBER_CUDA_STANDIN", "1")
    _device._cupy = _device._cupyx = None
    try:
        assert ember.cuda.is_available()
        t = ember.ones(2, device="cuda")
        assert t.is_cuda and str(t.device) == "cuda:0"
        assert "stand-in" in ember.cuda.get_device_name(0)
    finally:
        _device._cupy, _device._cupyx = saved


def test_views_stay_on_their_base_device():
    with cp.cuda.Device(1):
        a = cp.arange(6.0)
    v, r = a[1:], a.reshape(2, 3)
    assert v.device.id == 1 and r.device.id == 1
    assert (a + 1).device.id == 0  # computed on the current device, as CuPy allocates


def test_keywords_cupy_does_not_take_are_refused():
    with pytest.raises(TypeError, match="indices\\(\\) got an unexpected keyword argument 'sparse'"):
        cp.indices((2, 2), sparse=True)   # NumPy's option, not CuPy's
    with pytest.raises(TypeError, match="unexpected keyword argument 'like'"):
        cp.zeros(3, like=cp.zeros(1))
    assert cp.arange(3).sum(keepdims=True).shape == (1,)
