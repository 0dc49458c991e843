"""Convolution as three mutually-adjoint ops, each an im2col (a strided view of
the padded input, copied once into rows) and one GEMM per group:

- ``convolution(x, w, b)``             y = conv(x, w) + b
- ``convolution_transpose(g, w, b)``   the adjoint of conv in x (col2im), also ConvTranspose
- ``convolution_weight(x, g)``          the adjoint of conv in w

Each one's backward is written with the other two, so every order of derivative
works.  Python loops run over kernel offsets only (e.g. 9 for 3x3), never pixels.

The columns, the padded input and the GEMM products never leave an op; the large ones
live in per-thread scratch buffers.  glibc serves allocations of up to 32 MiB from its
heap once such sizes have been freed, but maps larger ones afresh each time, and their
page faults cost as much again as the copy into them.  Smaller temporaries stay ordinary
allocations: held for good, they would keep glibc's adaptive mmap threshold low and
make every mid-sized array of the step page-fault instead.
"""
import os
import threading

import numpy as np

from .._device import array_module
from .._parallel import for_blocks
from .registry import PROMOTE, apply, defop
from .nn_ops import pool_windows

def _out_shape(spatial, kernel, stride, padding, dilation):
    return tuple((spatial[i] + 2 * padding[i] - dilation[i] * (kernel[i] - 1) - 1) // stride[i]
                 + 1 for i in range(len(kernel)))


_SCRATCH = threading.local()
_SCRATCH_MIN = 1 << 25       # glibc's largest mmap threshold (32 MiB on 64-bit systems)
_SCRATCH_LIMIT = 1 << 28     # bytes: larger temporaries are allocated (and freed) per call


def _scratch(xp, slot, shape, dtype):
    """An uninitialised (shape, dtype) array in this thread's reusable buffer ``slot``.

    Only for temporaries that die inside the op; CuPy's memory pool already reuses
    device memory, so only host arrays need this."""
    nbytes = _prod(shape) * np.dtype(dtype).itemsize
    if xp is not np or not _SCRATCH_MIN <= nbytes <= _SCRATCH_LIMIT:
        return xp.empty(shape, dtype=dtype)
    bufs = getattr(_SCRATCH, "bufs", None)
    if bufs is None:
        bufs = _SCRATCH.bufs = {}
    buf = bufs.get(slot)
    if buf is None or buf.nbytes < nbytes:
        buf = bufs[slot] = np.empty(nbytes, dtype=np.uint8)
    return buf[:nbytes].view(dtype).reshape(shape)


# Whether host kernels here split over the intra-op threads (None: not yet decided).
BLOCKS = {"on": None}


def blocks_on():
    """Whether blocked copies can have the second core.  After each GEMM, OpenBLAS's idle
    workers busy-wait (``sched_yield``) for 2^THREAD_TIMEOUT cycles, 2^28 (~0.1 s) by
    default, and in a training step the next GEMM comes sooner: a pool thread then shares
    its core with a spinner and the blocks run slower than one pass (resnet +10 %).  So
    only where OpenBLAS was loaded with a short timeout (``OPENBLAS_THREAD_TIMEOUT`` of at
    most 16, i.e. ~2^16 cycles) or has one thread."""
    on = BLOCKS["on"]
    if on is None:
        def env_int(name, default):
            try:
                return int(os.environ.get(name, default))
            except ValueError:
                return default
        on = BLOCKS["on"] = env_int("OPENBLAS_THREAD_TIMEOUT", 28) <= 16 or \
            env_int("OPENBLAS_NUM_THREADS", 0) == 1
    return on


def copy_rows(xp, dst, src, fn=None):
    """``dst[...] = src`` (or ``fn(dst, src)`` on matching row ranges) split over the
    leading axis across the intra-op threads: each block writes its own rows.  NumPy
    copies run on one core but release the GIL; other array modules run it whole."""
    if fn is None:
        def fn(d, s):
            d[...] = s
    if xp is not np or not blocks_on():
        fn(dst, src)
        return

    def block(a, b):
        fn(dst[a:b], src[a:b])
    for_blocks(block, dst.shape[0], _prod(dst.shape[1:]))


def _padded(x, padding):
    """x with zero padding (in scratch when large): the borders are zeroed, the rest copied."""
    if not any(padding):
        return x
    xp = array_module(x)
    d = len(padding)
    spatial = x.shape[2:]
    out = _scratch(xp, "pad", x.shape[:2] + tuple(spatial[i] + 2 * padding[i]
                                                  for i in range(d)), x.dtype)
    lead = (slice(None), slice(None))
    inner = lead + tuple(slice(p, p + s) for p, s in zip(padding, spatial))

    def fill(o, src):
        for i in range(d):
            before = lead + (slice(None),) * i
            o[before + (slice(0, padding[i]),)] = 0
            o[before + (slice(padding[i] + spatial[i], None),)] = 0
        o[inner] = src
    copy_rows(xp, out, x, fill)
    return out


def _prod(shape):
    p = 1
    for s in shape:
        p *= s
    return p


def _im2col(x, kernel, stride, padding, dilation, groups, out=None):
    """Columns (G, Cg * K, N * P) of the padded input, and the output spatial shape
    (``out``, or all the positions the input allows).

    Channels and kernel offsets lead and batch and output positions trail, so that
    every GEMM reads whole rows and one grouped matmul serves all groups."""
    d = len(kernel)
    if out is None:
        out = _out_shape(x.shape[2:], kernel, stride, padding, dilation)
    win = pool_windows(_padded(x, padding), kernel, stride, dilation, out)  # (N, C, *out, *K)
    order = (1,) + tuple(range(2 + d, 2 + 2 * d)) + (0,) + tuple(range(2, 2 + d))
    win = win.transpose(order)
    xp = array_module(x)
    cols = _scratch(xp, "cols", win.shape, x.dtype)
    copy_rows(xp, cols, win)   # over input channels
    return cols.reshape(groups, -1, x.shape[0] * _prod(out)), out


def _channel_rows(g, groups):
    """(N, O, *out) -> (G, O / G, N * P), in scratch: output channels lead, as in the
    columns."""
    order = (1, 0) + tuple(range(2, g.ndim))
    g = g.transpose(order)
    xp = array_module(g)
    rows = _scratch(xp, "rows", g.shape, g.dtype)
    copy_rows(xp, rows, g)
    return rows.reshape(groups, g.shape[0] // groups, -1)


def _matmul(a, b, slot=None):
    """The grouped product a @ b; into scratch ``slot`` when the caller copies it out."""
    if a.dtype.itemsize == 2 and a.dtype.kind in "fV":
        # Half precision has no BLAS: accumulate in float32 and round once, as torch.
        return _matmul(a.astype(np.float32), b.astype(np.float32)).astype(a.dtype)
    xp = array_module(a)
    out = None if slot is None else _scratch(xp, slot, (a.shape[0], a.shape[1], b.shape[2]),
                                             np.result_type(a.dtype, b.dtype))
    if a.shape[0] == 1:
        # A single group is a plain GEMM: skips matmul's batched-loop dispatch.
        if out is None:
            return (a[0] @ b[0])[None]
        xp.matmul(a[0], b[0], out=out[0])
        return out
    return xp.matmul(a, b, out=out)


def _channels_first(xp, y, b, d):
    """A contiguous copy of the (N, C, ...) view ``y``, with the bias added in the
    same pass (``y + b`` alone would keep y's channel-major memory order)."""
    out = xp.empty(y.shape, dtype=y.dtype)
    if b is None:
        copy_rows(xp, out, y)
    else:
        bias = b.reshape((1, -1) + (1,) * d)
        copy_rows(xp, out, y, lambda o, v: xp.add(v, bias, out=o))
    return out


def _pointwise(kernel, stride, padding, groups):
    """A one-group 1x1 convolution over every position is a product per sample: no
    columns to copy, and its result comes out channels-first."""
    return groups == 1 and all(k == 1 for k in kernel) and all(s == 1 for s in stride) \
        and not any(padding)


def _per_sample(a, b):
    """a @ b over the batch (NumPy calls one GEMM per sample); half precision in float32."""
    if a.dtype.itemsize == 2 and a.dtype.kind in "fV":
        return _per_sample(a.astype(np.float32), b.astype(np.float32)).astype(a.dtype)
    return array_module(b).matmul(a, b)


def _conv_fwd(x, w, b, stride, padding, dilation, groups):
    xp = array_module(x)
    d = w.ndim - 2
    if _pointwise(w.shape[2:], stride, padding, groups):
        y = _per_sample(w.reshape(w.shape[:2]), x.reshape(x.shape[0], x.shape[1], -1))
        if b is not None:
            y += b.reshape(1, -1, 1)
        return y.reshape((x.shape[0], w.shape[0]) + x.shape[2:])
    cols, out = _im2col(x, w.shape[2:], stride, padding, dilation, groups)
    y = _matmul(w.reshape(groups, w.shape[0] // groups, -1), cols, "gemm")  # (G, O/G, N*P)
    y = y.reshape((w.shape[0], x.shape[0]) + tuple(out)).swapaxes(0, 1)
    return _channels_first(xp, y, b, d)


def _flipped(w, groups):
    """The kernel of the adjoint stride-1 convolution: (O, C/G, *K) -> (C, O/G, *K),
    each group's in/out channels swapped and every spatial axis reversed."""
    d = w.ndim - 2
    o, cpg = w.shape[:2]
    wg = w.reshape((groups, o // groups, cpg) + w.shape[2:]).swapaxes(1, 2)
    return wg.reshape((groups * cpg, o // groups) + w.shape[2:])[
        (slice(None), slice(None)) + (slice(None, None, -1),) * d]


def _conv_transpose_fwd(g, w, b, stride, padding, dilation, groups, spatial):
    """col2im: each kernel offset's columns are added into the padded input.

    With stride 1 the adjoint is itself a convolution (of g with the flipped kernel,
    padded by the kernel's reach less the padding).  Where g has no more channels than
    the result, that convolution's im2col copy of g is cheaper than col2im's K
    read-modify-write passes over the whole result; with more, the columns it copies
    outgrow col2im's."""
    xp = array_module(g)
    d = w.ndim - 2
    kernel = tuple(w.shape[2:])
    n = g.shape[0]
    out = g.shape[2:]
    if _pointwise(kernel, stride, padding, groups) and tuple(spatial) == tuple(out):
        y = _per_sample(w.reshape(w.shape[:2]).T, g.reshape(n, g.shape[1], -1))
        if b is not None:
            y += b.reshape(1, -1, 1)
        return y.reshape((n, w.shape[1]) + tuple(out))
    reach = [dilation[i] * (kernel[i] - 1) for i in range(d)]
    if g.shape[1] <= w.shape[1] * groups and all(stride[i] == 1 and reach[i] >= padding[i]
           and spatial[i] == out[i] + reach[i] - 2 * padding[i] for i in range(d)):
        return _conv_fwd(g, _flipped(w, groups), b, stride,
                         tuple(reach[i] - padding[i] for i in range(d)), dilation, groups)
    cpg = w.shape[1]
    wg = w.reshape(groups, w.shape[0] // groups, -1)
    cols = _matmul(wg.swapaxes(1, 2), _channel_rows(g, groups), "gemm")   # (G, Cg*K, N*P)
    cols = cols.reshape((groups * cpg,) + kernel + (n,) + tuple(out))
    full = tuple(spatial[i] + 2 * padding[i] for i in range(d))
    # The padded buffer may need to reach past `full` when output positions do.
    reach = tuple(max(full[i], (out[i] - 1) * stride[i] + dilation[i] * (kernel[i] - 1) + 1)
                  for i in range(d))
    # Channel-first buffer, so each kernel offset adds a contiguous block of columns.
    buf = xp.zeros((groups * cpg, n) + reach, dtype=cols.dtype)
    slices = [(offs, (slice(None), slice(None)) + tuple(
        slice(offs[i] * dilation[i], offs[i] * dilation[i] + stride[i] * (out[i] - 1) + 1,
              stride[i]) for i in range(d))) for offs in np.ndindex(*kernel)]

    def accumulate(dst, src):
        # Each block of channels adds all its offsets; blocks write disjoint channels.
        for offs, sl in slices:
            dst[sl] += src[(slice(None),) + offs]
    copy_rows(xp, buf, cols, accumulate)
    crop = tuple(slice(padding[i], padding[i] + spatial[i]) for i in range(d))
    y = buf[(slice(None), slice(None)) + crop].swapaxes(0, 1)
    return _channels_first(xp, y, b, d)


def _conv_weight_fwd(x, g, stride, padding, dilation, groups, kernel):
    if _pointwise(kernel, stride, padding, groups) and x.shape[2:] == g.shape[2:]:
        n = x.shape[0]
        w = _per_sample(g.reshape(n, g.shape[1], -1),
                        x.reshape(n, x.shape[1], -1).swapaxes(1, 2)).sum(axis=0)
        return w.reshape(w.shape + tuple(kernel))
    # Only g's positions count: an output_padding-enlarged x allows more.
    cols, _ = _im2col(x, kernel, stride, padding, dilation, groups, tuple(g.shape[2:]))
    # (G, Cg * K, O / G), then transposed: OpenBLAS splits this product well across
    # threads, while the (O / G, Cg * K) orientation stalls them by up to 10x.
    w = _matmul(cols, _channel_rows(g, groups).swapaxes(1, 2)).swapaxes(1, 2)
    return w.reshape((g.shape[1], x.shape[1] // groups) + tuple(kernel)).astype(x.dtype,
                                                                                copy=False)


def _geometry(ctx):
    return {"stride": ctx.stride, "padding": ctx.padding, "dilation": ctx.dilation,
            "groups": ctx.groups}


def _bias_grad(g):
    from .reduction import sum as _sum
    return _sum(g, (0,) + tuple(range(2, g.dim())))


def _conv_like(x, w, geo, like):
    """conv(x, w) cut to ``like``'s positions: where x came from a transposed
    convolution with output_padding, x allows more positions than ``like`` has."""
    y = apply(conv_op, (x, w, None), geo)
    if tuple(y.shape[2:]) != tuple(like.shape[2:]):
        y = y[(slice(None), slice(None)) + tuple(slice(0, s) for s in like.shape[2:])]
    return y


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
    gg = _conv_like(h, w, geo, g) if need[0] else None
    gw = apply(conv_weight_op, (h, g), dict(geo, kernel=tuple(w.shape[2:]))) if need[1] else None
    gb = _bias_grad(h) if len(need) > 2 and need[2] else None
    return gg, gw, gb


def _conv_weight_bwd(ctx, h):
    x, g = ctx.saved
    need = ctx.needs_input_grad
    geo = _geometry(ctx)
    gx = apply(conv_transpose_op, (g, h, None), dict(geo, spatial=tuple(x.shape[2:]))) \
        if need[0] else None
    gg = _conv_like(x, h, geo, g) if need[1] else None
    return gx, gg


conv_op = defop("convolution", _conv_fwd, _conv_bwd, promote=PROMOTE, save=(0, 1), autocast="lower")
conv_transpose_op = defop("convolution_transpose", _conv_transpose_fwd, _conv_transpose_bwd,
                          promote=PROMOTE, save=(0, 1), node="ConvolutionBackward0",
                          autocast="lower")
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
