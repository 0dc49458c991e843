"""torch.fft: discrete Fourier transforms, their frequencies and shifts.

Every transform resizes its input (the ``n``/``s`` arguments: zero-pad or truncate) in
Ember ops, then runs one of the three registry ops of ``_ops/fft_ops.py``; gradients
follow from those.  Dtypes as torch: real and integral inputs give the complex dtype of
their float dtype (integers use the default float dtype).
"""

import ember
from . import _dtype as D
from ._ops.fft_ops import c2c, c2r, complex_of, r2c
from ._ops.join import cat

__all__ = ["fft", "ifft", "rfft", "irfft", "fft2", "ifft2", "rfft2", "irfft2", "fftn", "ifftn",
           "rfftn", "irfftn", "hfft", "ihfft", "hfft2", "ihfft2", "hfftn", "ihfftn",
           "fftfreq", "rfftfreq", "fftshift", "ifftshift"]

_NORMS = ("backward", "forward", "ortho")


def _norm(norm):
    if norm is None:
        return "backward"
    if norm not in _NORMS:
        raise RuntimeError(f'Invalid normalization mode: "{norm}"')
    return norm


def _float(x, name):
    """A real input as the float tensor torch transforms: integers to the default float."""
    dt = x.dtype
    if dt.is_complex:
        if name == "ihfftn":
            raise RuntimeError(f"Only supports floating-point dtypes, but found: {dt._legacy}")
        real = "real-valued" if name == "rfftn" else "real"
        raise RuntimeError(f"{name} expects a {real} input tensor, but got {dt._legacy}")
    if dt not in (ember.float32, ember.float64):
        if dt.is_floating_point:
            raise RuntimeError(f"Unsupported dtype {dt._legacy}")
        x = x.to(ember.get_default_dtype())
    return x


def _complex(x):
    dt = x.dtype
    if dt.is_complex:
        if dt not in (ember.complex64, ember.complex128):
            raise RuntimeError(f"Unsupported dtype {dt._legacy}")
        return x
    x = _float(x, "fft")
    return x.to(complex_of(x.dtype.np))


def _wrap(d, ndim):
    if not -max(ndim, 1) <= d < max(ndim, 1):
        lo, hi = -max(ndim, 1), max(ndim, 1) - 1
        raise IndexError(f"Dimension out of range (expected to be in range of [{lo}, {hi}], "
                         f"but got {d})")
    return d % max(ndim, 1)


def _dims_and_sizes(x, s, dim, one=False):
    """torch's (dims, sizes) from ``s``/``dim``; ``one``: the 1-d functions' n/dim."""
    ndim = x.dim()
    if one:
        dims = [_wrap(dim, ndim)]
        sizes = [s]
    else:
        if dim is not None and not isinstance(dim, (list, tuple)):
            dim = (dim,)
        if s is not None and not isinstance(s, (list, tuple)):
            s = (s,)
        if dim is None:
            dims = list(range(ndim)) if s is None else list(range(ndim - len(s), ndim))
            if s is not None and len(s) > ndim:
                raise RuntimeError(f"Got shape with {len(s)} values but input tensor only has "
                                   f"{ndim} dimensions.")
        else:
            dims = [_wrap(d, ndim) for d in dim]
            if s is not None and len(s) != len(dims):
                raise RuntimeError("When given, dim and shape arguments must have the same length")
        if len(set(dims)) != len(dims):
            raise RuntimeError("FFT dims must be unique")
        sizes = [None] * len(dims) if s is None else list(s)
    sizes = [x.shape[d] if n is None or n == -1 else n for d, n in zip(dims, sizes)]
    for n in sizes:
        if n < 1:
            raise RuntimeError(f"Invalid number of data points ({n}) specified")
    return dims, sizes


def _resize(x, dims, sizes):
    """Zero-pad or truncate ``x`` to ``sizes`` on ``dims``."""
    for d, n in zip(dims, sizes):
        have = x.shape[d]
        if n < have:
            x = x.narrow(d, 0, n)
        elif n > have:
            shape = list(x.shape)
            shape[d] = n - have
            x = cat([x, x.new_zeros(shape)], d)
    return x


def _c2c(input, s, dim, norm, forward, one=False):
    x = _complex(input)
    dims, sizes = _dims_and_sizes(x, s, dim, one)
    return c2c(_resize(x, dims, sizes), dims, _norm(norm), forward)


def _r2c(input, s, dim, norm, forward, name, one=False):
    x = _float(input, name)
    dims, sizes = _dims_and_sizes(x, s, dim, one)
    if not dims:
        raise RuntimeError(f"{name} must transform at least one axis")
    return r2c(_resize(x, dims, sizes), dims, _norm(norm), forward, sizes[-1])


def _c2r(input, s, dim, norm, forward, name, one=False):
    x = _complex(input)
    dims, sizes = _dims_and_sizes(x, s, dim, one)
    if not dims:
        raise RuntimeError(f"{name} must transform at least one axis")
    asked = s if one or s is None else (list(s) if isinstance(s, (list, tuple)) else [s])[-1]
    last = 2 * (x.shape[dims[-1]] - 1) if asked in (None, -1) else sizes[-1]
    if last < 1:
        raise RuntimeError(f"Invalid number of data points ({last}) specified")
    sizes = sizes[:-1] + [last // 2 + 1]
    return c2r(_resize(x, dims, sizes), dims, _norm(norm), forward, last)


def fft(input, n=None, dim=-1, norm=None):
    return _c2c(input, n, dim, norm, True, one=True)


def ifft(input, n=None, dim=-1, norm=None):
    return _c2c(input, n, dim, norm, False, one=True)


def fft2(input, s=None, dim=(-2, -1), norm=None):
    return _c2c(input, s, dim, norm, True)


def ifft2(input, s=None, dim=(-2, -1), norm=None):
    return _c2c(input, s, dim, norm, False)


def fftn(input, s=None, dim=None, norm=None):
    return _c2c(input, s, dim, norm, True)


def ifftn(input, s=None, dim=None, norm=None):
    return _c2c(input, s, dim, norm, False)


def rfft(input, n=None, dim=-1, norm=None):
    return _r2c(input, n, dim, norm, True, "rfft", one=True)


def rfft2(input, s=None, dim=(-2, -1), norm=None):
    return _r2c(input, s, dim, norm, True, "rfftn")


def rfftn(input, s=None, dim=None, norm=None):
    return _r2c(input, s, dim, norm, True, "rfftn")


def ihfft(input, n=None, dim=-1, norm=None):
    return _r2c(input, n, dim, norm, False, "ihfft", one=True)


def ihfft2(input, s=None, dim=(-2, -1), norm=None):
    return _r2c(input, s, dim, norm, False, "ihfftn")


def ihfftn(input, s=None, dim=None, norm=None):
    return _r2c(input, s, dim, norm, False, "ihfftn")


def irfft(input, n=None, dim=-1, norm=None):
    return _c2r(input, n, dim, norm, False, "irfft", one=True)


def irfft2(input, s=None, dim=(-2, -1), norm=None):
    return _c2r(input, s, dim, norm, False, "irfftn")


def irfftn(input, s=None, dim=None, norm=None):
    return _c2r(input, s, dim, norm, False, "irfftn")


def hfft(input, n=None, dim=-1, norm=None):
    return _c2r(input, n, dim, norm, True, "hfft", one=True)


def hfft2(input, s=None, dim=(-2, -1), norm=None):
    return _c2r(input, s, dim, norm, True, "hfftn")


def hfftn(input, s=None, dim=None, norm=None):
    return _c2r(input, s, dim, norm, True, "hfftn")


def fftfreq(n, d=1.0, *, dtype=None, layout=None, device=None, requires_grad=False):
    # As torch: the integer frequencies in the result dtype, then one scale by 1/(n*d).
    dtype = dtype or D.get_default_dtype()
    k = ember.cat([ember.arange(0, (n - 1) // 2 + 1, dtype=dtype, device=device),
                   ember.arange(-(n // 2), 0, dtype=dtype, device=device)])
    out = k * (1.0 / (n * d))
    return out.requires_grad_(requires_grad) if requires_grad else out


def rfftfreq(n, d=1.0, *, dtype=None, layout=None, device=None, requires_grad=False):
    dtype = dtype or D.get_default_dtype()
    out = ember.arange(0, n // 2 + 1, dtype=dtype, device=device) * (1.0 / (n * d))
    return out.requires_grad_(requires_grad) if requires_grad else out


def _shift(input, dim, inverse):
    if dim is None:
        dims = list(range(input.dim()))
    else:
        dims = [_wrap(d, input.dim()) for d in ((dim,) if isinstance(dim, int) else dim)]
    if not dims:
        raise RuntimeError("`shifts` required")  # torch's roll, given no dims
    shifts = [-(input.shape[d] // 2) if inverse else input.shape[d] // 2 for d in dims]
    return ember.roll(input, shifts, dims)


def fftshift(input, dim=None):
    return _shift(input, dim, False)


def ifftshift(input, dim=None):
    return _shift(input, dim, True)
