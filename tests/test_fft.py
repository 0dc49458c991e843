"""ember.fft against torch.fft: values, dtypes, n/s resizing, dims, norms, gradients, errors."""
import numpy as np
import pytest
import torch

import ember

NORMS = [None, "backward", "forward", "ortho"]
ONE_D = {"fft", "ifft", "rfft", "irfft", "hfft", "ihfft"}
COMPLEX_IN = ["fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "irfft", "hfft", "irfft2",
              "hfft2", "irfftn", "hfftn"]
REAL_IN = ["fft", "ifft", "fft2", "fftn", "rfft", "ihfft", "rfft2", "ihfft2", "rfftn", "ihfftn"]


def _data(dtype):
    rng = np.random.default_rng(0)
    r = rng.standard_normal((4, 5, 6))
    if np.dtype(dtype).kind == "c":
        r = r + 1j * rng.standard_normal((4, 5, 6))
    return r.astype(dtype)


def _np(t):
    t = t.detach()
    return t.resolve_conj().numpy() if isinstance(t, torch.Tensor) else t.numpy()


def _same(e, t, atol=1e-4):
    assert tuple(e.shape) == tuple(t.shape)
    assert str(e.dtype) == str(t.dtype)
    np.testing.assert_allclose(_np(e), _np(t), atol=atol, rtol=1e-4)


def _resizes(name):
    """Keyword variants: defaults, padding, truncation, explicit dims."""
    if name in ONE_D:
        return [{}, {"n": 9}, {"n": 3}, {"dim": 0}, {"n": 7, "dim": 1}]
    out = [{}, {"s": (3, 8)}, {"dim": (2, 0)}, {"s": (-1, 4)}]
    if name.endswith("n"):
        out += [{"s": (2, 3, 4)}, {"dim": 1}, {"s": (5, 2), "dim": (0, -1)}]
    return out


def _cases(names):
    return [(n, norm, kw) for n in names for norm in NORMS for kw in _resizes(n)]


@pytest.mark.parametrize("name,norm,kw", _cases(COMPLEX_IN))
@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_complex_input_values(name, norm, kw, dtype):
    a = _data(dtype)
    _same(getattr(ember.fft, name)(ember.tensor(a), norm=norm, **kw),
          getattr(torch.fft, name)(torch.from_numpy(a), norm=norm, **kw))


@pytest.mark.parametrize("name,norm,kw", _cases(REAL_IN))
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_real_input_values(name, norm, kw, dtype):
    a = (_data("float64") * 3).astype(dtype)
    _same(getattr(ember.fft, name)(ember.tensor(a), norm=norm, **kw),
          getattr(torch.fft, name)(torch.from_numpy(a), norm=norm, **kw))


def _grad(lib, name, a, v, kw):
    x = lib.tensor(a, requires_grad=True)
    out = getattr(lib.fft, name)(x, **kw)
    loss = (lib.view_as_real(out * lib.tensor(v)) if out.is_complex() else out * lib.tensor(v)).sum()
    g, = lib.autograd.grad(loss, [x])
    return out, g


@pytest.mark.parametrize("name,norm,kw", _cases(COMPLEX_IN) + _cases(REAL_IN))
def test_gradients_match_torch(name, norm, kw):
    a = _data("complex128" if name in COMPLEX_IN and not name.startswith("f") else "float64")
    if name in ("fft", "ifft", "fft2", "ifft2", "fftn", "ifftn") and len(kw) % 2:
        a = _data("complex128")   # both real and complex inputs of the c2c transforms
    t_out = getattr(torch.fft, name)(torch.from_numpy(a), norm=norm, **kw)
    rng = np.random.default_rng(1)
    v = rng.standard_normal(tuple(t_out.shape))
    if t_out.is_complex():
        v = v + 1j * rng.standard_normal(tuple(t_out.shape))
    e_out, e_g = _grad(ember, name, a, v, dict(kw, norm=norm))
    t_out, t_g = _grad(torch, name, a, v, dict(kw, norm=norm))
    _same(e_g, t_g, atol=1e-8)


@pytest.mark.parametrize("name", ["fft", "rfft", "irfft", "hfft", "fftn", "irfftn"])
def test_grad_fn_names(name):
    a = _data("complex64" if name in ("irfft", "hfft", "irfftn") else "float32")
    e = getattr(ember.fft, name)(ember.tensor(a, requires_grad=True))
    t = getattr(torch.fft, name)(torch.tensor(a, requires_grad=True))
    if name in ("fft", "fftn"):
        assert type(e.grad_fn).__name__ == "FftC2CBackward0"
    else:
        assert type(e.grad_fn).__name__ == type(t.grad_fn).__name__


def test_second_derivative_through_irfft_of_rfft():
    a = _data("float64")[0]
    results = []
    for lib in (ember, torch):
        x = lib.tensor(a, requires_grad=True)
        y = lib.fft.irfft(lib.fft.rfft(x * x, norm="ortho") ** 2, n=7)
        g, = lib.autograd.grad(y.sum(), [x], create_graph=True)
        gg, = lib.autograd.grad((g * g).sum(), [x])
        results.append((g, gg))
    _same(results[0][0], results[1][0], atol=1e-8)
    _same(results[0][1], results[1][1], atol=1e-8)


@pytest.mark.parametrize("fn", ["fftshift", "ifftshift"])
@pytest.mark.parametrize("dim", [None, 0, -1, (1, 2), (2, 0)])
def test_shifts(fn, dim):
    a = _data("float32")
    _same(getattr(ember.fft, fn)(ember.tensor(a), dim=dim),
          getattr(torch.fft, fn)(torch.from_numpy(a), dim=dim), atol=0)
    b = np.arange(7)
    _same(getattr(ember.fft, fn)(ember.tensor(b)), getattr(torch.fft, fn)(torch.from_numpy(b)),
          atol=0)


@pytest.mark.parametrize("n", [1, 2, 5, 8])
@pytest.mark.parametrize("d", [1.0, 0.25, 3])
@pytest.mark.parametrize("dtype", [None, "float64", "float32"])
def test_frequencies(n, d, dtype):
    ed = getattr(ember, dtype) if dtype else None
    td = getattr(torch, dtype) if dtype else None
    _same(ember.fft.fftfreq(n, d, dtype=ed), torch.fft.fftfreq(n, d, dtype=td), atol=1e-7)
    _same(ember.fft.rfftfreq(n, d, dtype=ed), torch.fft.rfftfreq(n, d, dtype=td), atol=1e-7)
    assert ember.fft.fftfreq(n, d, requires_grad=True).requires_grad


def test_fftfreq_default_dtype_follows_set_default_dtype():
    ember.set_default_dtype(ember.float64)
    try:
        assert ember.fft.fftfreq(4).dtype == ember.float64
        assert ember.fft.fft(ember.tensor([1, 2, 3])).dtype == ember.complex128
    finally:
        ember.set_default_dtype(ember.float32)


ERRORS = [
    ("fft", lambda lib: lib.ones(3), {"n": 0}),
    ("fft", lambda lib: lib.ones(3), {"norm": "xx"}),
    ("rfft", lambda lib: lib.ones(3, dtype=lib.complex64), {}),
    ("rfftn", lambda lib: lib.ones(3, dtype=lib.complex64), {}),
    ("ihfft", lambda lib: lib.ones(3, dtype=lib.complex128), {}),
    ("ihfft2", lambda lib: lib.ones(3, 3, dtype=lib.complex64), {}),
    ("rfft2", lambda lib: lib.ones(3, 3, dtype=lib.complex64), {}),
    ("fft", lambda lib: lib.ones(3), {"dim": 2}),
    ("fftn", lambda lib: lib.ones(3, 3), {"s": (2,), "dim": (0, 1)}),
    ("fftn", lambda lib: lib.ones(3, 3), {"dim": (0, 0)}),
    ("irfft", lambda lib: lib.ones(1), {}),
    ("fft", lambda lib: lib.ones(3, dtype=lib.float16), {}),
    ("fftshift", lambda lib: lib.ones(3), {"dim": ()}),
]


@pytest.mark.parametrize("name,make,kw", ERRORS)
def test_errors_match_torch(name, make, kw):
    with pytest.raises(Exception) as t_err:
        getattr(torch.fft, name)(make(torch), **kw)
    with pytest.raises(type(t_err.value)) as e_err:
        getattr(ember.fft, name)(make(ember), **kw)
    assert str(e_err.value) == str(t_err.value)
