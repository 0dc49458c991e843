"""Neural-network ops with their own backward: the numerically stable forms
(softmax, log_softmax, softplus, gelu), embedding, padding, and the index
gather/scatter pair behind max pooling.

Composite layers (losses, normalization, most activations) are written with
ordinary ops in ``ember.nn.functional`` and need no entry here.
"""
import math

import numpy as np

from .._device import array_module, special_module
from ._declare import declare
from ._rows import by_rows, host_blocks
from .registry import PROMOTE, apply, defop
from ._xp import ufunc_at


def _check_float(x, name):
    if x._data.dtype.kind not in "fcV":
        raise RuntimeError(f'"{name}" not implemented for \'{x.dtype._legacy}\'')


def _sum(x, dim, keepdim=True):
    from .reduction import sum as _s
    return _s(x, dim, keepdim=keepdim)


# ---- softmax family ---------------------------------------------------------------
# Each kernel writes into ``out`` along ``axis``; ``by_rows`` runs it over row blocks on
# the intra-op threads (the rows are independent) or once over the whole array.
def _softmax_rows(x, out, axis):
    xp = array_module(x)
    xp.subtract(x, x.max(axis=axis, keepdims=True), out=out)
    xp.exp(out, out=out)
    out /= out.sum(axis=axis, keepdims=True)


def _softmax_fwd(x, dim):
    return by_rows(_softmax_rows, (x,), dim, x.dtype)


def _log_softmax_rows(x, out, axis):
    # Shifting by the max keeps exp() from overflowing; the log of the sum is exact.
    xp = array_module(x)
    xp.subtract(x, x.max(axis=axis, keepdims=True), out=out)
    total = xp.exp(out).sum(axis=axis, keepdims=True)
    out -= xp.log(total, out=total)


def _log_softmax_fwd(x, dim):
    return by_rows(_log_softmax_rows, (x,), dim, x.dtype)


def _row_dot(a, b, dim):
    """sum(a * b) along ``dim``, kept as a size-1 dim, without an (a * b) temporary."""
    xp = array_module(a)
    if a.dtype.kind == "V":    # bfloat16: einsum has no loop for it
        return (a * b).sum(axis=dim, keepdims=True)
    letters = "abcdefghijklmnopqrstuvwxyz"[:a.ndim]
    out = letters.replace(letters[dim], "")
    return xp.expand_dims(xp.einsum(f"{letters},{letters}->{out}", a, b), dim)


def _softmax_backward_rows(g, y, out, axis):
    # y (g - sum(g y)): two passes and one fused dot.
    array_module(g).subtract(g, _row_dot(g, y, axis), out=out)
    out *= y


def _softmax_backward_fwd(g, y, dim):
    return by_rows(_softmax_backward_rows, (g, y), dim, np.result_type(g, y))


def _softmax_backward_bwd(ctx, gg):
    g, y = ctx.saved
    need = ctx.needs_input_grad
    dg = apply(softmax_backward_op, (gg, y), ctx._params) if need[0] else None
    dy = None
    if need[1]:
        dy = gg * (g - _sum(g * y, ctx.dim)) - _sum(gg * y, ctx.dim) * g
    return dg, dy


def _log_softmax_backward_rows(g, y, out, axis):
    # g - exp(y) sum(g), in the output's buffer.
    xp = array_module(g)
    xp.exp(y, out=out)
    out *= g.sum(axis=axis, keepdims=True)
    xp.subtract(g, out, out=out)


def _log_softmax_backward_fwd(g, y, dim):
    return by_rows(_log_softmax_backward_rows, (g, y), dim, np.result_type(g, y))


def _log_softmax_backward_bwd(ctx, gg):
    from .unary import exp
    g, y = ctx.saved
    need = ctx.needs_input_grad
    e = exp(y)
    dg = gg - _sum(gg * e, ctx.dim) if need[0] else None
    dy = -(gg * e) * _sum(g, ctx.dim) if need[1] else None
    return dg, dy


def _softmax_bwd(ctx, g):
    return apply(softmax_backward_op, (g, ctx.result), ctx._params)


def _log_softmax_bwd(ctx, g):
    return apply(log_softmax_backward_op, (g, ctx.result), ctx._params)


softmax_op = defop("softmax", _softmax_fwd, _softmax_bwd, save_result=True)
log_softmax_op = defop("log_softmax", _log_softmax_fwd, _log_softmax_bwd, save_result=True)
softmax_backward_op = defop("softmax_backward_data", _softmax_backward_fwd,
                            _softmax_backward_bwd, save=(0, 1), promote=PROMOTE,
                            node="SoftmaxBackwardDataBackward0")
log_softmax_backward_op = defop("log_softmax_backward_data", _log_softmax_backward_fwd,
                                _log_softmax_backward_bwd, save=(0, 1), promote=PROMOTE,
                                node="LogSoftmaxBackwardDataBackward0")


def _softmax_common(op, name, input, dim, dtype):
    from .._tensor import _wrap_dim
    if dtype is not None:
        input = input.to(dtype)
    _check_float(input, name)
    if input._data.ndim == 0:
        dim = 0 if dim is None else _wrap_dim(dim, 0)
        return apply(op, (input.reshape(1),), {"dim": 0}).reshape(())
    if dim is None:
        dim = 0 if input.dim() in (0, 1, 3) else 1
    return apply(op, (input,), {"dim": _wrap_dim(dim, input._data.ndim)})


@declare
def softmax(input, dim=None, dtype=None):
    return _softmax_common(softmax_op, "softmax_lastdim_kernel_impl", input, dim, dtype)


@declare
def log_softmax(input, dim=None, dtype=None):
    return _softmax_common(log_softmax_op, "log_softmax_lastdim_kernel_impl", input, dim, dtype)


# ---- softplus, gelu ---------------------------------------------------------------
def _softplus_fwd(x, beta, threshold):
    bx = x * beta
    # log1p(exp(-|bx|)) + max(bx, 0) never overflows; above threshold torch returns x.
    stable = (np.log1p(np.exp(-np.abs(bx))) + np.maximum(bx, 0)) / beta
    return np.where(bx > threshold, x, stable).astype(x.dtype, copy=False)


def _softplus_bwd(ctx, g):
    from .pointwise import where
    from .unary import sigmoid
    (x,) = ctx.saved
    bx = x * ctx.beta
    return g * where(bx > ctx.threshold, 1.0, sigmoid(bx))


softplus_op = defop("softplus", _softplus_fwd, _softplus_bwd, save=(0,))


def softplus(input, beta=1.0, threshold=20.0):
    _check_float(input, "softplus")
    return apply(softplus_op, (input,), {"beta": beta, "threshold": threshold})


def _bce_logits_fwd(x, y, pos_weight):
    # softplus(-x) in its overflow-free form; the loss is (1 - y) x + lw softplus(-x).
    sp = np.log1p(np.exp(-np.abs(x))) + np.maximum(-x, 0)
    lw = 1 if pos_weight is None else 1 + (pos_weight - 1) * y
    return ((1 - y) * x + lw * sp).astype(x.dtype, copy=False)


def _bce_logits_bwd(ctx, g):
    from .unary import sigmoid
    x, y, pw = ctx.saved
    need = ctx.needs_input_grad
    lw = 1 if pw is None else (pw - 1) * y + 1
    gx = g * ((1 - y) - lw * (1 - sigmoid(x))) if need[0] else None
    gy = None
    if need[1]:
        gy = g * (-x) if pw is None else g * ((pw - 1) * softplus(-x) - x)
    return gx, gy


bce_logits_op = defop("binary_cross_entropy_with_logits", _bce_logits_fwd, _bce_logits_bwd,
                      promote=PROMOTE, save=(0, 1, 2), autocast="fp32")


def binary_cross_entropy_with_logits(input, target, pos_weight=None):
    """Elementwise (unreduced) BCE on logits, finite for any logit."""
    from ..autograd import grad_mode
    if pos_weight is not None and pos_weight.requires_grad and grad_mode.is_grad_enabled():
        raise RuntimeError("The function 'binary_cross_entropy_with_logits' is not "
                           "differentiable with respect to argument 'pos_weight'. This input "
                           "cannot have requires_grad True.")
    return apply(bce_logits_op, (input, target, pos_weight))


_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
# Abramowitz & Stegun 7.1.26: erfc(z) = t P(t) exp(-z^2), t = 1 / (1 + p z), z >= 0, with
# an absolute error under 1.5e-7 (below float32's resolution of Phi near 1); torch's
# vectorised CPU erf is the same formula.  The coefficients carry Phi's factor 1/2.
_AS_P = 0.3275911 * _INV_SQRT2
_AS_A = tuple(0.5 * a for a in (1.061405429, -1.453152027, 1.421413741, -0.284496736,
                                0.254829592))


def _phi_pdf_block(x, q, t):
    """Phi(x) into ``q`` and exp(-x^2 / 2) (the pdf without its constant) into ``t``, for a
    float32 block: A&S 7.1.26 in ~18 in-place passes, several times faster than scipy's
    erf, whose float32 loop runs in double."""
    xp = array_module(x)
    f = np.float32
    xp.abs(x, out=t)
    t *= f(_AS_P)
    t += f(1)
    xp.reciprocal(t, out=t)
    xp.multiply(t, f(_AS_A[0]), out=q)
    for a in _AS_A[1:]:
        q += f(a)
        q *= t
    xp.square(x, out=t)
    t *= f(-0.5)
    xp.exp(t, out=t)
    q *= t                                   # Phi(-|x|)
    # Phi(x) = 0.5 + sign(x) (0.5 - Phi(-|x|)); 0.5 - Phi(-|x|) >= 0, so x's sign bit is
    # OR-ed into it (np.copysign is a scalar loop, several times slower).
    xp.subtract(f(0.5), q, out=q)
    bits = q.view(np.int32)
    bits |= x.view(np.int32) & np.int32(-0x80000000)
    q += f(0.5)


# Elements per block (measured best of 4K..1M): the block's buffers stay in cache, where each of
# the ~20 passes costs a tenth of a pass over memory.
_BLOCK = 65536


def _gelu_exact(x, g=None):
    """x Phi(x), or with ``g`` the gradient g (Phi(x) + x pdf(x)), for float and half
    inputs (computed in float32) block by block; float64 keeps scipy's exact ndtr."""
    xp = array_module(x)
    if x.dtype.itemsize == 8:
        phi = special_module(x).ndtr(x)
        if g is None:
            return x * phi
        return g * (phi + x * xp.exp(x * x * -0.5) * _INV_SQRT_2PI)
    f32 = np.dtype(np.float32)
    xf = xp.ascontiguousarray(x, dtype=f32).reshape(-1)
    gf = None if g is None else xp.ascontiguousarray(g, dtype=f32).reshape(-1)
    out = xp.empty(xf.shape, f32)
    n = xf.size
    # One block on a GPU: there a pass is one kernel launch and caches are not the limit.
    b = max(min(_BLOCK if xp is np else n, n), 1)
    c = np.float32(_INV_SQRT_2PI)

    def blocks(first, last):
        # Blocks first..last-1 of b elements, with this thread's own scratch buffer.
        t = xp.empty(b, f32)
        for i in range(first * b, min(last * b, n), b):
            xs, q = xf[i:i + b], out[i:i + b]
            ts = t[:xs.size]
            _phi_pdf_block(xs, q, ts)
            if gf is None:
                q *= xs
            else:
                ts *= xs
                ts *= c
                q += ts
                q *= gf[i:i + b]
    host_blocks(blocks, -(-n // b), b, xf)
    out = out.reshape(x.shape)
    return out if x.dtype == f32 else out.astype(x.dtype)


_GELU_K = math.sqrt(2.0 / math.pi)
_GELU_C = 0.044715


def _gelu_fwd(x, approximate):
    if approximate == "tanh":
        inner = x * x
        inner *= _GELU_C * _GELU_K
        inner += _GELU_K
        inner *= x
        out = np.tanh(inner, out=inner)
        out += 1.0
        out *= x
        out *= 0.5
        return out.astype(x.dtype, copy=False)
    return _gelu_exact(x)


def _gelu_backward_fwd(g, x, approximate):
    if approximate == "tanh":
        # d/dx = (1 + t) / 2 + x (1 - t^2) u' / 2, t = tanh(u), u = k (x + c x^3)
        x2 = x * x
        u = x2 * (_GELU_C * _GELU_K)
        u += _GELU_K
        u *= x
        t = np.tanh(u, out=u)
        du = x2
        du *= 3 * _GELU_C * _GELU_K
        du += _GELU_K
        du *= x
        sech2 = 1.0 - t * t
        du *= sech2
        t += 1.0
        t += du
        t *= 0.5
        t *= g
        return t.astype(x.dtype, copy=False)
    # d/dx = Phi(x) + x pdf(x), both from one pass of the erf approximation.
    return _gelu_exact(x, g)


def _gelu_bwd(ctx, g):
    return apply(gelu_backward_op, (g, ctx.saved[0]), ctx._params)


def _gelu_backward_bwd(ctx, gg):
    from .unary import exp, tanh
    g, x = ctx.saved
    need = ctx.needs_input_grad
    dg = apply(gelu_backward_op, (gg, x), ctx._params) if need[0] else None
    dx = None
    if need[1]:
        if ctx.approximate == "tanh":
            x2 = x * x
            t = tanh((x + x2 * x * _GELU_C) * _GELU_K)
            du = (x2 * (3 * _GELU_C) + 1.0) * _GELU_K
            d2 = (1.0 - t * t) * (du + x * 0.5 * (x * (6 * _GELU_C * _GELU_K) - t * du * du * 2))
        else:   # d/dx (Phi + x pdf) = pdf (2 - x^2)
            d2 = exp(x * x * -0.5) * _INV_SQRT_2PI * (2.0 - x * x)
        dx = gg * g * d2
    return dg, dx


gelu_op = defop("gelu", _gelu_fwd, _gelu_bwd, save=(0,))
gelu_backward_op = defop("gelu_backward", _gelu_backward_fwd, _gelu_backward_bwd, save=(0, 1),
                         promote=PROMOTE)


def gelu(input, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    _check_float(input, "GeluKernelImpl")
    return apply(gelu_op, (input,), {"approximate": approximate})


# ---- embedding --------------------------------------------------------------------
def _embedding_fwd(weight, indices, padding_idx):
    return weight[indices]


def _embedding_bwd(ctx, g):
    weight, indices = ctx.saved
    return apply(embedding_backward_op, (g, indices),
                 {"num_weights": weight.shape[0], "padding_idx": ctx.padding_idx}), None


def _embedding_backward_fwd(g, indices, num_weights, padding_idx):
    xp = array_module(g)
    out = xp.zeros((num_weights,) + g.shape[indices.ndim:], dtype=g.dtype)
    flat_idx = indices.reshape(-1)
    flat_g = g.reshape((flat_idx.size,) + g.shape[indices.ndim:])
    if padding_idx is not None:
        keep = flat_idx != padding_idx
        flat_idx, flat_g = flat_idx[keep], flat_g[keep]
    ufunc_at("add", out, flat_idx, flat_g)
    return out


def _embedding_backward_bwd(ctx, gg):
    from .pointwise import where
    g, indices = ctx.saved
    picked = apply(embedding_op, (gg, indices), {"padding_idx": ctx.padding_idx})
    if ctx.padding_idx is not None:
        mask = (indices != ctx.padding_idx).reshape(tuple(indices.shape) + (1,) *
                                                     (picked.dim() - indices.dim()))
        picked = where(mask, picked, 0.0)
    return picked, None


embedding_op = defop("embedding", _embedding_fwd, _embedding_bwd, save=(0, 1))
embedding_backward_op = defop("embedding_dense_backward", _embedding_backward_fwd,
                              _embedding_backward_bwd, save=(0, 1))


def embedding_lookup(weight, indices, padding_idx=None):
    if indices._data.dtype.kind not in "iu":
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following "
                           "scalar types: Long, Int; but got "
                           f"{indices.type()} instead (while checking arguments for embedding)")
    return apply(embedding_op, (weight, indices), {"padding_idx": padding_idx})


# ---- padding ----------------------------------------------------------------------
def _constant_pad_fwd(x, pad, value):
    # pad: (before, after) per dim, first dim first; negative entries crop.
    xp = array_module(x)
    crop = tuple(slice(max(-b, 0), x.shape[i] - max(-a, 0)) for i, (b, a) in enumerate(pad))
    x = x[crop]
    widths = [(max(b, 0), max(a, 0)) for b, a in pad]
    return xp.pad(x, widths, mode="constant", constant_values=value)


def _constant_pad_bwd(ctx, g):
    return apply(constant_pad_op, (g,), {"pad": tuple((-b, -a) for b, a in ctx.pad),
                                         "value": 0})


constant_pad_op = defop("constant_pad_nd", _constant_pad_fwd, _constant_pad_bwd,
                        node="ConstantPadNdBackward0")


def _index_pad_fwd(x, axes, indices, sizes):
    for ax, idx in zip(axes, indices):
        x = x.take(idx, axis=ax)
    return x


def _index_pad_bwd(ctx, g):
    return apply(index_pad_backward_op, (g,), {"axes": ctx.axes, "indices": ctx.indices,
                                               "sizes": ctx.sizes})


def _index_pad_backward_fwd(g, axes, indices, sizes):
    xp = array_module(g)
    for ax, idx, size in reversed(list(zip(axes, indices, sizes))):
        shape = list(g.shape)
        shape[ax] = size
        out = xp.zeros(shape, dtype=g.dtype)
        moved = np.moveaxis(out, ax, 0)
        (np.add.at if xp is np else xp.add.at)(moved, idx, np.moveaxis(g, ax, 0))
        g = out
    return g


index_pad_op = defop("index_pad", _index_pad_fwd, _index_pad_bwd)
index_pad_backward_op = defop("index_pad_backward", _index_pad_backward_fwd,
                              lambda ctx, g: apply(index_pad_op, (g,), ctx._params))

def index_gather(input, dim, index):
    """``input.index_select(dim, index)`` for a fixed host/device index array."""
    return apply(index_pad_op, (input,), {"axes": (dim,), "indices": (index,),
                                          "sizes": (input.shape[dim],)})


_NP_PAD_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def pad(input, pad, mode="constant", value=None):
    """torch.nn.functional.pad: ``pad`` lists (left, right) pairs from the last dim back."""
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    n = len(pad) // 2
    if n > input.dim():
        raise RuntimeError("Padding length should be less than or equal to two times the input "
                           f"dimension but got padding length {len(pad)} and input of dimension "
                           f"{input.dim()}")
    pairs = [(0, 0)] * (input.dim() - n) + [(int(pad[2 * i]), int(pad[2 * i + 1]))
                                            for i in reversed(range(n))]
    if mode == "constant":
        return apply(constant_pad_op, (input,), {"pad": tuple(pairs),
                                                 "value": 0 if value is None else value})
    if mode not in _NP_PAD_MODE:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    xp = array_module(input._data)
    axes, indices, sizes = [], [], []
    for ax in range(input.dim() - n, input.dim()):
        b, a = pairs[ax]
        size = input.shape[ax]
        if mode == "reflect" and (b >= size or a >= size):
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding "
                               f"input dimension, but got: padding ({b}, {a}) at dimension {ax} "
                               f"of input {list(input.shape)}")
        idx = np.pad(np.arange(size), (max(b, 0), max(a, 0)), mode=_NP_PAD_MODE[mode])
        idx = idx[max(-b, 0): len(idx) - max(-a, 0)]
        axes.append(ax)
        indices.append(xp.asarray(idx))
        sizes.append(size)
    return apply(index_pad_op, (input,), {"axes": tuple(axes), "indices": tuple(indices),
                                          "sizes": tuple(sizes)})


# ---- gather/scatter over the flattened spatial dims (max pooling) -----------------
# ``unique``: the indices of each (N, C) row never repeat (non-overlapping pooling
# windows), so the scatter is a plain assignment instead of a summing bincount.
def _spatial_gather_fwd(x, idx, unique=False):
    n = x.shape[0] * x.shape[1]
    flat = x.reshape(n, -1)
    picked = array_module(x).take_along_axis(flat, idx.reshape(n, -1), axis=1)
    return picked.reshape(idx.shape)


def _scatter_add_rows(xp, flat_index, values, size, dtype):
    """Sum ``values`` into a zero vector of ``size`` at ``flat_index`` (bincount is far
    faster than ufunc.at)."""
    out = xp.bincount(flat_index, weights=values.astype(np.float64, copy=False), minlength=size)
    return out.astype(dtype, copy=False)


def _spatial_scatter_fwd(g, idx, spatial, unique=False):
    xp = array_module(g)
    n = g.shape[0] * g.shape[1]
    size = _prod(spatial)
    rows = (xp.arange(n, dtype=np.int64) * size).reshape((g.shape[0], g.shape[1]) +
                                                          (1,) * (idx.ndim - 2))
    flat = (rows + idx).reshape(-1)
    if unique:
        out = xp.zeros(n * size, dtype=g.dtype)
        out[flat] = g.reshape(-1)
    else:
        out = _scatter_add_rows(xp, flat, g.reshape(-1), n * size, g.dtype)
    return out.reshape(g.shape[:2] + tuple(spatial))


def _prod(shape):
    p = 1
    for s in shape:
        p *= int(s)
    return p


spatial_gather_op = defop(
    "max_pool_gather", _spatial_gather_fwd,
    lambda ctx, g: (apply(spatial_scatter_op, (g, ctx.saved[1]),
                          {"spatial": tuple(ctx.saved[0].shape[2:]),
                           "unique": ctx.unique}), None),
    save=(0, 1), node="MaxPoolWithIndicesBackward0")
spatial_scatter_op = defop(
    "max_unpool", _spatial_scatter_fwd,
    lambda ctx, g: (apply(spatial_gather_op, (g, ctx.saved[0]), {"unique": ctx.unique}), None),
    save=(1,), node="MaxUnpoolBackward0")


def pool_windows(x, kernel, stride, dilation, out_shape):
    """A strided view (N, C, *out, *kernel) of a (padded) input: no copy."""
    xp = array_module(x)
    st = x.strides
    d = len(kernel)
    shape = x.shape[:2] + tuple(out_shape) + tuple(kernel)
    strides = st[:2] + tuple(st[2 + i] * stride[i] for i in range(d)) + \
        tuple(st[2 + i] * dilation[i] for i in range(d))
    return xp.lib.stride_tricks.as_strided(x, shape=shape, strides=strides)


def max_pool_indices(x, kernel, stride, padding, dilation, out_shape):
    """Flat spatial indices (torch's ``return_indices`` layout) of each window's max.

    Passes over the kernel offsets (e.g. 4 for 2x2), never over pixels: first the
    running max (np.maximum propagates NaN, as torch does), then, from the last offset
    but one back, where each window's max sits, so the first occurrence wins as with argmax.
    The choice is arithmetic rather than masked copies, which mispredict branches."""
    xp = array_module(x)
    d = len(kernel)
    right = [max(0, (out_shape[i] - 1) * stride[i] + dilation[i] * (kernel[i] - 1) + 1
                 - x.shape[2 + i] - padding[i]) for i in range(d)]
    xpad = x
    if any(padding) or any(right):
        fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
        xpad = xp.full(x.shape[:2] + tuple(x.shape[2 + i] + padding[i] + right[i]
                                           for i in range(d)), fill, dtype=x.dtype)
        xpad[(slice(None), slice(None)) + tuple(slice(padding[i], padding[i] + x.shape[2 + i])
                                                for i in range(d))] = x
    win = pool_windows(xpad, kernel, stride, dilation, out_shape)
    offsets = list(np.ndindex(*kernel))
    views = [win[(Ellipsis,) + offs] for offs in offsets]
    best = views[0].copy()
    for v in views[1:]:
        xp.maximum(best, v, out=best)
    arg_t = np.int8 if len(offsets) <= 127 else np.int64
    # Where no earlier offset holds the max, the last one does.
    arg = xp.full(best.shape, len(views) - 1, dtype=arg_t)
    nan = x.dtype.kind == "f" and bool(xp.isnan(best).any())
    for k in range(len(views) - 2, -1, -1):
        v = views[k]
        hit = v == best
        if nan:
            hit |= v != v          # a NaN in v is the (NaN) max
        arg -= (arg - arg_t(k)) * hit
    spatial = x.shape[2:]
    mul = [_prod(spatial[i + 1:]) for i in range(d)]
    # Flat index = the window's origin + the chosen offset, both in input coordinates.
    table = xp.asarray([sum(offs[i] * dilation[i] * mul[i] for i in range(d))
                        for offs in offsets], dtype=np.int64)
    base = 0
    for i in range(d):
        o = xp.arange(out_shape[i], dtype=np.int64).reshape((-1,) + (1,) * (d - 1 - i))
        base = base + (o * stride[i] - padding[i]) * mul[i]
    return base + table[arg]


def spatial_gather(x, idx, unique=False, node=None):
    """x's values at the flat spatial positions ``idx``; ``node`` names the graph node as
    torch names the pooling that gathers (MaxPool2DWithIndicesBackward0, ...)."""
    op = spatial_gather_op if node is None else spatial_gather_op.variant(node)
    return apply(op, (x, idx), {"unique": unique})


def spatial_scatter(g, idx, spatial, unique=False):
    """Scatter ``g`` into zeros of shape (N, C, *spatial) at the flat positions ``idx``;
    positions named twice are summed, or (``unique``) written once, as max_unpool does."""
    return apply(spatial_scatter_op, (g, idx), {"spatial": tuple(spatial), "unique": unique})


def dropout_keep(input, p, shape, scale=None):
    """1 where an element is kept (probability 1 - p), else 0, in input's dtype: the mask
    of every dropout form (torch.dropout here, nn.functional's in nn._functional.misc).
    With ``scale`` (floating inputs), the kept elements hold ``scale`` instead of 1, made
    in the mask's one buffer rather than by further ops.  The draws are torch's
    ``empty(shape).bernoulli_(1 - p)``, so a seeded dropout drops torch's elements."""
    from .._random import _finish, bernoulli_mask
    keep = bernoulli_mask(shape, 1 - p).astype(input._data.dtype)
    if scale is not None:
        keep *= keep.dtype.type(scale)
    return _finish(keep, input.dtype, input.device, False)


@declare(method=False)
def dropout(input, p, train):
    """torch.dropout(input, p, train): ``input * noise``, the noise zero with probability
    ``p`` and 1 / (1 - p) elsewhere; torch raises RuntimeError (F.dropout: ValueError)."""
    if p < 0.0 or p > 1.0:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not train or p == 0 or input.numel() == 0:
        return input
    if p == 1:
        return input * 0
    return input * dropout_keep(input, p, tuple(input.shape), 1 / (1 - p))
