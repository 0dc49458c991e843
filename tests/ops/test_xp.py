"""ufunc.at and ufunc.accumulate for every ufunc and dtype Ember uses, on device arrays
(the CUDA stand-in, which supports only what CuPy does) equal to NumPy's on the host."""
import ml_dtypes
import numpy as np
import pytest

from ember import _standin
from ember._ops._xp import accumulate, ufunc_at
from tests._devices import cuda_backend

cp = _standin.cupy()


@pytest.fixture(autouse=True)
def _standin_backs_cuda():
    with cuda_backend("standin"):
        yield
DTYPES = ["bool", "int8", "uint8", "int16", "int32", "int64", "float16", "float32",
          "float64", "complex64", ml_dtypes.bfloat16]


def _data(rng, shape, dtype):
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.random(shape) > 0.5
    if dtype.kind == "c":
        return (rng.integers(-3, 4, shape) + 1j * rng.integers(-3, 4, shape)).astype(dtype)
    return rng.integers(0 if dtype.kind == "u" else -3, 4, shape).astype(dtype)


# complex numbers have no order: Ember never scatters their max/min
AT_CASES = [(name, dt) for name in ("add", "maximum", "minimum", "multiply") for dt in DTYPES
            if not (np.dtype(dt).kind == "c" and name in ("maximum", "minimum"))]


@pytest.mark.parametrize("name,dtype", AT_CASES, ids=[f"{n}-{np.dtype(d)}" for n, d in AT_CASES])
def test_ufunc_at_on_device_equals_numpy(name, dtype):
    rng = np.random.default_rng(0)
    out = _data(rng, (4, 5), dtype)
    rows = np.array([0, 2, 2, 3, 0, 2])          # repeated positions accumulate
    cols = np.array([1, 1, 1, 4, 1, 0])
    vals = _data(rng, (6,), dtype)
    want = out.copy()
    getattr(np, name).at(want, (rows, cols), vals)
    dev = cp.asarray(out)
    ufunc_at(name, dev, (cp.asarray(rows), cp.asarray(cols)), cp.asarray(vals))
    got = dev.get()
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got.astype(np.complex128), want.astype(np.complex128))


def test_cupy_refuses_what_it_lacks():
    a = cp.zeros(3, dtype=np.int8)
    with pytest.raises(TypeError, match="cupy.add.at only supports"):
        cp.add.at(a, cp.asarray([0, 0]), 1)
    with pytest.raises(NotImplementedError, match="`cupy_multiply.at` is not supported yet"):
        cp.multiply.at(cp.ones(3), cp.asarray([0]), 2.0)
    with pytest.raises(NotImplementedError, match="`cupy_maximum.accumulate`"):
        np.maximum.accumulate(cp.ones(3))


@pytest.mark.parametrize("name", ["maximum", "minimum", "logaddexp"])
@pytest.mark.parametrize("axis", [0, 1])
def test_accumulate_on_device_equals_numpy(name, axis):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((7, 9)).astype(np.float32)
    a[3, 4] = np.nan
    with np.errstate(invalid="ignore"):   # logaddexp of NaN
        want = getattr(np, name).accumulate(a, axis=axis)
    got = accumulate(name, cp.asarray(a), axis).get()
    np.testing.assert_allclose(got, want, rtol=1e-6, equal_nan=True)
