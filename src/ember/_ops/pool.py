"""Max pooling whose windows tile the input (kernel == stride, no padding or dilation,
the common ``MaxPool2d(2)``): the input cropped to whole windows is reshaped to
(N, C, o1, k1, o2, k2, ...) without a copy, the max is one ``maximum`` per kernel offset,
and the backward writes the gradient through the same view at each window's first
maximum (torch's argmax; NaN counts as the maximum).  No flat indices are built,
gathered or scattered.  Large host inputs run as blocks of samples on the intra-op
threads (``_parallel``).
"""
import numpy as np

from .._device import array_module
from .._parallel import for_blocks
from .conv import blocks_on
from .._tensor import _make
from .registry import apply, defop


def _over_samples(x, fn):
    """``fn(samples)`` over slices of the batch covering it: concurrent blocks for host
    arrays (each writes its own samples), one call for other array modules."""
    if array_module(x) is not np or not blocks_on():
        fn(slice(None))
        return
    for_blocks(lambda a, b: fn(slice(a, b)), x.shape[0], x.size // max(1, x.shape[0]))


def _blocks(x, kernel):
    """x cropped to whole windows, as the view (N, C, o1, k1, o2, k2, ...)."""
    d = len(kernel)
    out = [x.shape[2 + i] // kernel[i] for i in range(d)]
    crop = x[(slice(None), slice(None)) + tuple(slice(0, out[i] * kernel[i]) for i in range(d))]
    shape = x.shape[:2]
    for i in range(d):
        shape += (out[i], kernel[i])
    return crop.reshape(shape)


def _offset_views(blocks, kernel):
    """Each kernel offset's (N, C, *out) view of the blocks, in row-major offset order."""
    for offs in np.ndindex(*kernel):
        index = (slice(None), slice(None))
        for o in offs:
            index += (slice(None), o)
        yield blocks[index]


def _max_fwd(x, kernel):
    xp = array_module(x)
    y = xp.empty(x.shape[:2] + tuple(x.shape[2 + i] // k for i, k in enumerate(kernel)),
                 dtype=x.dtype)

    def block(n):
        views = _offset_views(_blocks(x[n], kernel), kernel)
        out = y[n]
        out[...] = next(views)
        for v in views:
            xp.maximum(out, v, out=out)
    _over_samples(x, block)
    return y


def _first_hits(x, y, kernel):
    """For each kernel offset, where that offset holds its window's max and no earlier
    offset does."""
    taken = None
    nan = y.dtype.kind in "fc" and bool(array_module(y).isnan(y).any())
    for v in _offset_views(_blocks(x, kernel), kernel):
        hit = v == y
        if nan:
            hit |= v != v
        if taken is None:
            taken = hit.copy()
        else:
            hit &= ~taken
            taken |= hit
        yield hit


def _max_bwd(ctx, g):
    x, y = ctx.saved[0], ctx.result
    return apply(_named(max_tiles_backward_op, len(ctx.kernel), "BackwardBackward0"), (g, x, y),
                 {"kernel": ctx.kernel})


def _max_backward_fwd(g, x, y, kernel):
    xp = array_module(g)
    gx = xp.zeros(x.shape, dtype=g.dtype)

    def block(n):
        for hit, gv in zip(_first_hits(x[n], y[n], kernel),
                           _offset_views(_blocks(gx[n], kernel), kernel)):
            xp.multiply(g[n], hit, out=gv)
    _over_samples(x, block)
    return gx


def _max_backward_bwd(ctx, gg):
    """The backward is linear in g: its adjoint picks gg at each window's maximum."""
    from .nn_ops import spatial_gather
    g, x, y = ctx.saved
    xp = array_module(x._data)
    kernel = ctx.kernel
    spatial = x.shape[2:]
    idx = 0
    for hit, offs in zip(_first_hits(x._data, y._data, kernel), np.ndindex(*kernel)):
        pos = 0
        for i, o in enumerate(offs):
            coord = xp.arange(y.shape[2 + i], dtype=np.int64) * kernel[i] + o
            pos = pos * spatial[i] + coord.reshape((-1,) + (1,) * (len(kernel) - 1 - i))
        idx = idx + pos * hit
    # Zero, not None, for x: its gradient is used (as torch's), just piecewise constant.
    gx = _make(xp.zeros(x.shape, dtype=x._data.dtype)) if ctx.needs_input_grad[1] else None
    return spatial_gather(gg, _make(xp.asarray(idx)), True), gx, None


max_tiles_op = defop("max_pool_tiles", _max_fwd, _max_bwd, save=(0,), save_result=True,
                     node="MaxPool2DWithIndicesBackward0")
max_tiles_backward_op = defop("max_pool_tiles_backward", _max_backward_fwd, _max_backward_bwd,
                              save=(0, 1, 2), node="MaxPool2DWithIndicesBackwardBackward0")


def tiles(x, kernel, stride, padding, dilation, out):
    """Whether the pooling windows tile x's leading region exactly (the fast path)."""
    return all(stride[i] == kernel[i] and padding[i] == 0 and
               (dilation[i] == 1 or kernel[i] == 1) and out[i] * kernel[i] <= x.shape[2 + i]
               for i in range(len(kernel)))


def _named(op, d, suffix):
    """torch names the node by the pooling's dimension (1-d pooling runs as 2-d)."""
    return op if d <= 2 else op.variant(f"MaxPool{d}DWithIndices{suffix}")


def max_pool_tiles(x, kernel):
    return apply(_named(max_tiles_op, len(kernel), "Backward0"), (x,), {"kernel": tuple(kernel)})
