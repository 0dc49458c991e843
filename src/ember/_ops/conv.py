"""Convolution as three mutually-adjoint ops, each an im2col (a strided view of
the padded input, copied once into rows) and one GEMM per group:

- ``convolution(x, w, b)``             y = conv(x, w) + b
- ``convolution_transpose(g, w, b)``   the adjoint of conv in x (col2im), also ConvTranspose
- ``convolution_weight(x, g)``          the adjoint of conv in w

Each one's backward is written with the other two, so every order of derivative
works.  Python loops run over kernel offsets only (e.g. 9 for 3x3), never pixels.
"""
import numpy as np

from .._device import array_module
from .registry import PROMOTE, apply, defop
from .nn_ops import pool_windows

def _out_shape(spatial, kernel, stride, padding, dilation):
    return tuple((spatial[i] + 2 * padding[i] - dilation[i] * (kernel[i] - 1) - 1) // stride[i]
                 + 1 for i in range(len(kernel)))


def _padded(x, padding):
    if not any(padding):
        return x
    xp = array_module(x)
    return xp.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in padding])


def _windows(x, kernel, stride, padding, dilation):
    out = _out_shape(x.shape[2:], kernel, stride, padding, dilation)
    return pool_windows(_padded(x, padding), kernel, stride, dilation, out), out


def _cols(win, g, cpg, d):
    """im2col for group ``g``: (N * P, Cg * K), one copy of the strided windows."""
    n = win.shape[0]
    part = win[:, g * cpg:(g + 1) * cpg]                 # (N, Cg, *out, *K)
    order = (0,) + tuple(range(2, 2 + d)) + (1,) + tuple(range(2 + d, 2 + 2 * d))
    return part.transpose(order).reshape(n * _prod(win.shape[2:2 + d]), -1)


def _prod(shape):
    p = 1
    for s in shape:
        p *= s
    return p


def _to_channels_first(y, n, out, d):
    """(N * P, O) -> (N, O, *out)."""
    y = y.reshape((n,) + tuple(out) + (-1,))
    return y.transpose((0, 1 + d) + tuple(range(1, 1 + d)))


def _to_rows(g, d):
    """(N, O, *out) -> (N * P, O)."""
    order = (0,) + tuple(range(2, 2 + d)) + (1,)
    return g.transpose(order).reshape(-1, g.shape[1])


def _conv_fwd(x, w, b, stride, padding, dilation, groups):
    xp = array_module(x)
    d = w.ndim - 2
    win, out = _windows(x, w.shape[2:], stride, padding, dilation)
    n, cpg, opg = x.shape[0], x.shape[1] // groups, w.shape[0] // groups
    parts = []
    for g in range(groups):
        wg = w[g * opg:(g + 1) * opg].reshape(opg, -1)
        parts.append(_cols(win, g, cpg, d) @ wg.T)       # one GEMM per group
    y = parts[0] if groups == 1 else xp.concatenate(parts, axis=1)
    y = _to_channels_first(y, n, out, d)
    if b is not None:
        y = y + b.reshape((1, -1) + (1,) * d)
    return xp.ascontiguousarray(y).astype(x.dtype, copy=False)


def _conv_transpose_fwd(g, w, b, stride, padding, dilation, groups, spatial):
    """col2im: each kernel offset's columns are added into the padded input."""
    xp = array_module(g)
    d = w.ndim - 2
    kernel = w.shape[2:]
    n = g.shape[0]
    out = g.shape[2:]
    opg, cpg = w.shape[0] // groups, w.shape[1]
    rows = _to_rows(g, d)                                   # (N * P, O)
    full = tuple(spatial[i] + 2 * padding[i] for i in range(d))
    # The padded buffer may need to reach past `full` when output positions do.
    reach = tuple(max(full[i], (out[i] - 1) * stride[i] + dilation[i] * (kernel[i] - 1) + 1)
                  for i in range(d))
    dtype = np.result_type(g.dtype, w.dtype)
    buf = xp.zeros((n, groups * cpg) + reach, dtype=dtype)
    for gi in range(groups):
        wg = w[gi * opg:(gi + 1) * opg].reshape(opg, -1)
        cols = rows[:, gi * opg:(gi + 1) * opg] @ wg       # (N * P, Cg * K)
        cols = cols.reshape((n,) + tuple(out) + (cpg,) + tuple(kernel))
        # (N, Cg, *K, *out): each kernel offset is then a (N, Cg, *out) view.
        cols = cols.transpose((0, 1 + d) + tuple(range(2 + d, 2 + 2 * d)) +
                              tuple(range(1, 1 + d)))
        target = buf[:, gi * cpg:(gi + 1) * cpg]
        for offs in np.ndindex(*kernel):
            sl = tuple(slice(offs[i] * dilation[i],
                             offs[i] * dilation[i] + stride[i] * (out[i] - 1) + 1, stride[i])
                       for i in range(d))
            target[(slice(None), slice(None)) + sl] += cols[(slice(None), slice(None)) + offs]
    crop = tuple(slice(padding[i], padding[i] + spatial[i]) for i in range(d))
    y = buf[(slice(None), slice(None)) + crop]
    if b is not None:
        y = y + b.reshape((1, -1) + (1,) * d)
    return xp.ascontiguousarray(y).astype(g.dtype, copy=False)


def _conv_weight_fwd(x, g, stride, padding, dilation, groups, kernel):
    xp = array_module(x)
    d = len(kernel)
    win, _ = _windows(x, kernel, stride, padding, dilation)
    cpg, opg = x.shape[1] // groups, g.shape[1] // groups
    rows = _to_rows(g, d)
    parts = [rows[:, gi * opg:(gi + 1) * opg].T @ _cols(win, gi, cpg, d)
             for gi in range(groups)]
    w = parts[0] if groups == 1 else xp.concatenate(parts, axis=0)
    return w.reshape((g.shape[1], cpg) + tuple(kernel)).astype(x.dtype, copy=False)


def _geometry(ctx):
    return {"stride": ctx.stride, "padding": ctx.padding, "dilation": ctx.dilation,
            "groups": ctx.groups}


def _bias_grad(g):
    from .reduction import sum as _sum
    return _sum(g, (0,) + tuple(range(2, g.dim())))


def _conv_bwd(ctx, g):
    x, w = ctx.saved
    need = ctx.needs_input_grad
    geo = _geometry(ctx)
    gx = apply(conv_transpose_op, (g, w, None), dict(geo, spatial=tuple(x.shape[2:]))) \
        if need[0] else None
    gw = apply(conv_weight_op, (x, g), dict(geo, kernel=tuple(w.shape[2:]))) if need[1] else None
    gb = _bias_grad(g) if len(need) > 2 and need[2] else None
    return gx, gw, gb


def _conv_transpose_bwd(ctx, h):
    g, w = ctx.saved
    need = ctx.needs_input_grad
    geo = _geometry(ctx)
    gg = apply(conv_op, (h, w, None), geo) if need[0] else None
    gw = apply(conv_weight_op, (h, g), dict(geo, kernel=tuple(w.shape[2:]))) if need[1] else None
    gb = _bias_grad(h) if len(need) > 2 and need[2] else None
    return gg, gw, gb


def _conv_weight_bwd(ctx, h):
    x, g = ctx.saved
    need = ctx.needs_input_grad
    geo = _geometry(ctx)
    gx = apply(conv_transpose_op, (g, h, None), dict(geo, spatial=tuple(x.shape[2:]))) \
        if need[0] else None
    gg = apply(conv_op, (x, h, None), geo) if need[1] else None
    return gx, gg


conv_op = defop("convolution", _conv_fwd, _conv_bwd, promote=PROMOTE, save=(0, 1))
conv_transpose_op = defop("convolution_transpose", _conv_transpose_fwd, _conv_transpose_bwd,
                          promote=PROMOTE, save=(0, 1), node="ConvolutionBackward0")
conv_weight_op = defop("convolution_weight", _conv_weight_fwd, _conv_weight_bwd,
                       promote=PROMOTE, save=(0, 1), node="ConvolutionBackwardBackward0")


def _tuple(v, d, name="value"):
    if isinstance(v, (tuple, list)):
        if len(v) == 1:
            return tuple(int(e) for e in v) * d
        if len(v) != d:
            raise RuntimeError(f"expected {name} to be a single integer value or a list of {d} "
                               f"values to match the convolution dimensions, but got "
                               f"{name}={list(v)}")
        return tuple(int(e) for e in v)
    return (int(v),) * d


def convolution(input, weight, bias, stride, padding, dilation, groups, d):
    """F.conv{d}d: checks shapes as torch does, then the ``convolution`` op."""
    from .nn_ops import pad as _pad
    if input.dim() not in (d + 1, d + 2):
        raise RuntimeError(f"Expected {d + 1}D (unbatched) or {d + 2}D (batched) input to "
                           f"conv{d}d, but got input of size: {list(input.shape)}")
    unbatched = input.dim() == d + 1
    if unbatched:
        input = input.unsqueeze(0)
    stride = _tuple(stride, d, "stride")
    dilation = _tuple(dilation, d, "dilation")
    kernel = tuple(weight.shape[2:])
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0,) * d
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            total = [dilation[i] * (kernel[i] - 1) for i in range(d)]
            left = [t // 2 for t in total]
            if any(t % 2 for t in total):
                # torch pads the extra element on the right for even kernels
                pads = []
                for i in reversed(range(d)):
                    pads += [0, total[i] - 2 * left[i]]
                input = _pad(input, pads)
            padding = tuple(left)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    padding = _tuple(padding, d, "padding")
    c = input.shape[1]
    if weight.dim() != d + 2:
        raise RuntimeError("weight should have at least three dimensions")
    if c != weight.shape[1] * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {list(weight.shape)}, expected "
                           f"input{list(input.shape)} to have {weight.shape[1] * groups} "
                           f"channels, but got {c} channels instead")
    if weight.shape[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} "
                           f"at dimension 0, but got weight of size {list(weight.shape)} instead")
    for i in range(d):
        eff = dilation[i] * (kernel[i] - 1) + 1
        if input.shape[2 + i] + 2 * padding[i] < eff:
            raise RuntimeError(f"Calculated padded input size per channel: "
                               f"({' x '.join(str(input.shape[2 + j] + 2 * padding[j]) for j in range(d))}). "
                               f"Kernel size: ({' x '.join(str(dilation[j] * (kernel[j] - 1) + 1) for j in range(d))}). "
                               "Kernel size can't be greater than actual input size")
    out = apply(conv_op, (input, weight, bias), {"stride": stride, "padding": padding,
                                                 "dilation": dilation, "groups": groups})
    return out.squeeze(0) if unbatched else out


def conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, d):
    """F.conv_transpose{d}d."""
    if input.dim() not in (d + 1, d + 2):
        raise RuntimeError(f"Expected {d + 1}D (unbatched) or {d + 2}D (batched) input to "
                           f"conv_transpose{d}d, but got input of size: {list(input.shape)}")
    unbatched = input.dim() == d + 1
    if unbatched:
        input = input.unsqueeze(0)
    stride = _tuple(stride, d, "stride")
    padding = _tuple(padding, d, "padding")
    output_padding = _tuple(output_padding, d, "output_padding")
    dilation = _tuple(dilation, d, "dilation")
    if input.shape[1] != weight.shape[0]:
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected "
                           f"input{list(input.shape)} to have {weight.shape[0]} channels, but got "
                           f"{input.shape[1]} channels instead")
    kernel = weight.shape[2:]
    spatial = tuple((input.shape[2 + i] - 1) * stride[i] - 2 * padding[i]
                    + dilation[i] * (kernel[i] - 1) + output_padding[i] + 1 for i in range(d))
    out = apply(conv_transpose_op, (input, weight, bias),
                {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups,
                 "spatial": spatial})
    return out.squeeze(0) if unbatched else out


__all__ = []
METHODS = {}
