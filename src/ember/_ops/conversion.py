"""dtype and device conversions (``Tensor.to``), differentiable like torch's."""
from .. import _dtype as D
from .._device import to_device_array
from .inplace import apply_view
from .registry import apply, defop


def _to_dtype_bwd(ctx, g):
    dt = D.NP_TO_DTYPE[ctx._input_meta[0][1]]
    if g.is_complex() and not dt.is_complex:
        g = g.real  # a real input's gradient is the real part (torch, silently)
    return g.to(dt)


def _to_dtype_fwd(a, dtype):
    if a.dtype.kind == "c" and dtype.kind == "b":
        return a != 0  # a complex number is true when either part is nonzero
    if a.dtype.kind == "c" and dtype.kind != "c":
        import warnings
        warnings.warn("Casting complex values to real discards the imaginary part",
                      UserWarning, stacklevel=4)
        a = a.real
    return a.astype(dtype)


to_dtype_op = defop("to_copy", _to_dtype_fwd, _to_dtype_bwd, node="ToCopyBackward0")


def _to_device_bwd(ctx, g):
    return to_device(g, ctx.src_device)


to_device_op = defop("to_device", lambda a, device, src_device: to_device_array(a, device),
                     _to_device_bwd, node="ToCopyBackward0")


def to_dtype(input, dtype):
    if input.dtype is dtype:
        return input
    return apply(to_dtype_op, (input,), {"dtype": dtype.np})


def to_device(input, device):
    if input.device == device:
        return input
    return apply(to_device_op, (input,), {"device": device, "src_device": input.device})


def _view_dtype_fwd(a, dtype):
    if a.dtype.itemsize != dtype.np.itemsize and a.ndim and not a.flags.c_contiguous:
        raise RuntimeError("self.stride(-1) must be 1 to view as a different dtype")
    try:
        return a.view(dtype.np)
    except ValueError as e:
        raise RuntimeError(str(e)) from None


view_dtype_op = defop("view_dtype", _view_dtype_fwd, view=True)


def view_dtype(input, dtype):
    return apply_view(view_dtype_op, (input,), {"dtype": dtype})
