"""Op-table entries: torch.fft's transforms (the fft_c2c, fft_r2c and fft_c2r ops).

Each transform is squared before the comparison (and complex results seen through
view_as_real), so the output is real for the harness and the second derivatives pass
through the transforms' backward of backward.  The harness perturbs only the real part
of a complex leaf in its finite differences and sums complex gradients into a complex
scalar for second derivatives, so entries with complex inputs check values and
gradients against torch only (fd=False, gradgrad=False); the real-input entries of the
same ops get every check.
"""
import torch

import ember

from .harness import OpInfo, Sample, arr


def squared(lib, name):
    fn = getattr(lib.fft, name)

    def run(x, **kw):
        out = fn(x, **kw)
        out = out * out
        return lib.view_as_real(out) if out.is_complex() else out
    return run


def entry(name, covers, samples, complex_input=False):
    # An FFT's rounding error scales with the whole transform, not with each element: in
    # float32 the libraries differ by up to ~5e-7 of the largest squared value (about 100
    # here), so a small element can be 2e-5 apart (1 sample in 6000 over 300 seeds).
    return OpInfo(f"fft_{name}" + ("_complex" if complex_input else ""), squared(ember, name),
                  squared(torch, name), samples, covers=(covers,), fd=not complex_input,
                  gradgrad=not complex_input, atol=1e-4)


def real_1d(rng):
    return [Sample((arr(rng, (3, 5)),)),
            Sample((arr(rng, (4, 3), "float64"),), {"n": 6, "dim": 0, "norm": "ortho"}),
            Sample((arr(rng, (6,)),), {"n": 4, "norm": "forward"})]


def real_nd(rng):
    return [Sample((arr(rng, (3, 4)),)),
            Sample((arr(rng, (2, 3, 4), "float64"),), {"s": (5, 3), "dim": (2, 0), "norm": "ortho"}),
            Sample((arr(rng, (3, 4)),), {"norm": "forward"})]


def complex_1d(rng):
    return [Sample((arr(rng, (3, 5), "complex64"),)),
            Sample((arr(rng, (4, 3), "complex128"),), {"n": 7, "dim": 0, "norm": "ortho"}),
            Sample((arr(rng, (6,), "complex64"),), {"n": 4, "norm": "forward"})]


def complex_nd(rng):
    return [Sample((arr(rng, (3, 4), "complex64"),)),
            Sample((arr(rng, (2, 3, 4), "complex128"),), {"s": (5, 3), "dim": (2, 0),
                                                          "norm": "ortho"})]


def spectrum_1d(rng):
    """Half spectra: the default length, an odd one, and a truncating one."""
    return [Sample((arr(rng, (3, 4)),)),
            Sample((arr(rng, (4, 3), "float64"),), {"n": 5, "dim": 0, "norm": "ortho"}),
            Sample((arr(rng, (6,)),), {"n": 4, "norm": "forward"})]


def spectrum_1d_complex(rng):
    return [Sample((arr(rng, (3, 4), "complex64"),)),
            Sample((arr(rng, (4, 3), "complex128"),), {"n": 5, "dim": 0, "norm": "ortho"}),
            Sample((arr(rng, (6,), "complex64"),), {"n": 4, "norm": "forward"})]


ENTRIES = [
    entry("fft", "fft_c2c", real_1d), entry("ifft", "fft_c2c", real_1d),
    entry("fft2", "fft_c2c", real_nd), entry("ifftn", "fft_c2c", real_nd),
    entry("fft", "fft_c2c", complex_1d, True), entry("ifft", "fft_c2c", complex_1d, True),
    entry("fftn", "fft_c2c", complex_nd, True), entry("ifft2", "fft_c2c", complex_nd, True),
    entry("rfft", "fft_r2c", real_1d), entry("ihfft", "fft_r2c", real_1d),
    entry("rfft2", "fft_r2c", real_nd), entry("rfftn", "fft_r2c", real_nd),
    entry("ihfftn", "fft_r2c", real_nd),
    entry("irfft", "fft_c2r", spectrum_1d), entry("hfft", "fft_c2r", spectrum_1d),
    entry("irfftn", "fft_c2r", real_nd), entry("hfft2", "fft_c2r", real_nd),
    entry("irfft", "fft_c2r", spectrum_1d_complex, True),
    entry("hfft", "fft_c2r", spectrum_1d_complex, True),
    entry("irfft2", "fft_c2r", complex_nd, True), entry("hfftn", "fft_c2r", complex_nd, True),
]
