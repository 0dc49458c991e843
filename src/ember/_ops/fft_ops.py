"""The discrete Fourier transforms behind ``ember.fft``: three registry ops.

- ``fft_c2c``: complex to complex over ``dim``, forward (e^-i) or inverse (e^+i).
- ``fft_r2c``: real to the one-sided (half) spectrum; the half is taken on ``dim[-1]``.
- ``fft_c2r``: one-sided spectrum to real, of length ``last_dim_size`` on ``dim[-1]``.

Forwards run on ``array_module(a).fft`` (NumPy or CuPy); the n/s padding and truncation
is done in Ember ops by ``ember.fft`` before these ops run, so each op sees exactly the
sizes it transforms.  Each backward is the adjoint of its (real-)linear map, written with
these same ops, so every derivative is differentiable again:

- c2c: the transform in the other direction with the conjugate normalisation.
- r2c: zero-pad the half spectrum back to full length, then the c2c adjoint, real part.
- c2r: r2c of the gradient in the other direction, with the interior bins (those that
  stand for two conjugate bins of the full spectrum) doubled.
"""
import numpy as np

from .. import _dtype as D
from .._device import array_module
from .join import cat
from .registry import apply, defop

# The normalisation that makes a transform the adjoint of the opposite one.
_SWAP = {"backward": "forward", "forward": "backward", "ortho": "ortho"}
_COMPLEX_OF = {np.dtype(np.float32): np.dtype(np.complex64),
               np.dtype(np.float64): np.dtype(np.complex128)}
_REAL_OF = {v: k for k, v in _COMPLEX_OF.items()}


def _c2c_fwd(a, dim, norm, forward):
    if not dim:
        return a.copy()
    fft = array_module(a).fft
    out = (fft.fftn if forward else fft.ifftn)(a, axes=dim, norm=norm)
    return out.astype(a.dtype, copy=False)


def _r2c_fwd(a, dim, norm, forward, last_dim_size):
    fft = array_module(a).fft
    # The inverse-direction transform of a real signal is the conjugate of the forward one.
    out = fft.rfftn(a, axes=dim, norm=norm if forward else _SWAP[norm])
    if not forward:
        out = out.conj()
    return out.astype(_COMPLEX_OF[a.dtype], copy=False)


def _c2r_fwd(a, dim, norm, forward, last_dim_size):
    fft = array_module(a).fft
    if forward:
        a, norm = a.conj(), _SWAP[norm]
    s = [a.shape[d] for d in dim[:-1]] + [last_dim_size]
    return fft.irfftn(a, s=s, axes=dim, norm=norm).astype(_REAL_OF[a.dtype], copy=False)


def _c2c_bwd(ctx, g):
    return c2c(g, ctx.dim, _SWAP[ctx.norm], not ctx.forward)


def _r2c_bwd(ctx, g):
    last = ctx.dim[-1]
    missing = ctx.last_dim_size - g.shape[last]
    if missing:
        shape = list(g.shape)
        shape[last] = missing
        g = cat([g, g.new_zeros(shape)], last)
    return c2c(g, ctx.dim, _SWAP[ctx.norm], not ctx.forward).real


def _c2r_bwd(ctx, g):
    gi = r2c(g, ctx.dim, _SWAP[ctx.norm], not ctx.forward, g.shape[ctx.dim[-1]])
    last = ctx.dim[-1]
    m = gi.shape[last]
    doubled = ctx.last_dim_size - m   # bins 1..doubled have a conjugate twin in the full spectrum
    if doubled <= 0:
        return gi
    parts = [gi.narrow(last, 0, 1), gi.narrow(last, 1, doubled) * 2]
    if m - 1 - doubled:
        parts.append(gi.narrow(last, 1 + doubled, m - 1 - doubled))
    return cat(parts, last)


fft_c2c_op = defop("fft_c2c", _c2c_fwd, _c2c_bwd, node="FftC2CBackward0")
fft_r2c_op = defop("fft_r2c", _r2c_fwd, _r2c_bwd, node="FftR2CBackward0")
fft_c2r_op = defop("fft_c2r", _c2r_fwd, _c2r_bwd, node="FftC2RBackward0")


def c2c(x, dim, norm, forward):
    """Complex ``x`` transformed over the tuple ``dim``; ``norm`` is a torch norm name."""
    return apply(fft_c2c_op, (x,), {"dim": tuple(dim), "norm": norm, "forward": forward})


def r2c(x, dim, norm, forward, last_dim_size):
    """Real ``x`` to its half spectrum; ``last_dim_size`` is x's length on ``dim[-1]``."""
    return apply(fft_r2c_op, (x,), {"dim": tuple(dim), "norm": norm, "forward": forward,
                                   "last_dim_size": last_dim_size})


def c2r(x, dim, norm, forward, last_dim_size):
    """Half spectrum ``x`` (length ``last_dim_size // 2 + 1`` on ``dim[-1]``) to real."""
    return apply(fft_c2r_op, (x,), {"dim": tuple(dim), "norm": norm, "forward": forward,
                                   "last_dim_size": last_dim_size})


def complex_of(dtype):
    """The complex dtype whose parts are the float ``dtype``."""
    return D.NP_TO_DTYPE[_COMPLEX_OF[np.dtype(dtype)]]
