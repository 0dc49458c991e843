"""Rearranging ops: flip/roll/rot90, repeat/tile/repeat_interleave, movedim, unflatten,
diagonals (diagonal, diag_embed, diag, diagflat), tril/triu and Tensor.unfold."""
import builtins

import numpy as np

from .._device import array_module
from .._tensor import Tensor, _make, _wrap_dim
from ._declare import declare
from . import shape as S
from .inplace import apply_view
from .registry import apply, defop, zeros_from_meta


def _dims(dims, nd):
    if isinstance(dims, (int, np.integer)):
        dims = (dims,)
    return tuple(_wrap_dim(d, nd) for d in dims)


# ---- flip / roll / rot90 ------------------------------------------------------------------
flip_op = defop("flip", lambda a, dims: np.flip(a, dims).copy(),
                lambda ctx, g: apply(flip_op, (g,), {"dims": ctx.dims}))


@declare
def flip(input, *args, dims=None):
    dims = args if dims is None else (dims,)
    if len(dims) == 1 and isinstance(dims[0], (list, tuple)):
        dims = dims[0]
    dims = _dims(dims, input.ndim)
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"dim {dims[0]} appears multiple times in the list of dims")
    return apply(flip_op, (input,), {"dims": dims})


@declare
def fliplr(input):
    if input.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


@declare
def flipud(input):
    if input.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


def _roll_fwd(a, shifts, dims):
    if not dims:
        return np.roll(a.reshape(-1), shifts[0]).reshape(a.shape)
    return np.roll(a, shifts, dims)


roll_op = defop("roll", _roll_fwd, lambda ctx, g: apply(
    roll_op, (g,), {"shifts": tuple(-s for s in ctx.shifts), "dims": ctx.dims}))


@declare
def roll(input, shifts, dims=None):
    shifts = (shifts,) if isinstance(shifts, (int, np.integer)) else tuple(shifts)
    if not shifts:
        raise RuntimeError("`shifts` required")
    if dims is None or dims == ():
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        return apply(roll_op, (input,), {"shifts": shifts, "dims": ()})
    dims = _dims(dims, input.ndim)
    if len(dims) != len(shifts):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:"
                           f"{len(dims)}")
    return apply(roll_op, (input,), {"shifts": shifts, "dims": dims})


rot90_op = defop("rot90", lambda a, k, dims: np.rot90(a, k, dims).copy(),
                 lambda ctx, g: apply(rot90_op, (g,), {"k": -ctx.k, "dims": ctx.dims}))


@declare
def rot90(input, k=1, dims=(0, 1)):
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.ndim}")
    d = _dims(dims, input.ndim)
    if d[0] == d[1]:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d[0]} and "
                           f"dim1 = {d[1]}")
    return apply(rot90_op, (input,), {"k": k % 4, "dims": d})


# ---- repeat / tile / repeat_interleave ----------------------------------------------------
def _repeat_bwd(ctx, g):
    shape = ctx._input_meta[0][0]
    reps = ctx.repeats
    padded = (1,) * (len(reps) - len(shape)) + tuple(shape)
    split = []
    for r, s in zip(reps, padded):
        split += [r, s]
    g = g.reshape(split).sum(tuple(range(0, 2 * len(reps), 2)))
    return g.reshape(shape)


repeat_op = defop("repeat", lambda a, repeats: np.tile(a, repeats), _repeat_bwd)


@declare(function=False)
def repeat(input, *sizes, repeats=None):
    sizes = S._shape_arg(sizes if repeats is None else (repeats,))
    if len(sizes) < input.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    return apply(repeat_op, (input,), {"repeats": sizes})


def _tile_method(self, *args, dims=None):
    # The method takes its dims as varargs (x.tile(2), x.tile(2, 2)) or dims=; torch.tile
    # wants a tuple.
    return tile(self, S._shape_arg(args if dims is None else (dims,)))


@declare(method=_tile_method)
def tile(input, dims):
    if not isinstance(dims, (tuple, list)):
        raise TypeError(f"tile(): argument 'dims' (position 2) must be tuple of ints, not "
                        f"{type(dims).__name__}")
    dims = tuple(int(d) for d in dims)
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


@declare
def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    if repeats is None:
        # repeat_interleave(repeats): index i repeated repeats[i] times.
        xp = array_module(input._data)
        return _make(xp.repeat(xp.arange(input._data.shape[0]), input._data)
                     .astype(input._data.dtype, copy=False))
    if dim is None:
        input = S.flatten(input)
        dim = 0
    dim = _wrap_dim(dim, input.ndim)
    if isinstance(repeats, Tensor) and repeats.numel() != 1:
        from .scatter import index_select
        counts = repeats._data
        if counts.ndim != 1:
            raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
        if counts.shape[0] != input._data.shape[dim]:
            raise RuntimeError("repeats must have the same size as input along dim, but got "
                               f"repeats.size(0) = {counts.shape[0]} and input.size({dim}) = "
                               f"{input._data.shape[dim]}")
        xp = array_module(counts)
        index = _make(xp.repeat(xp.arange(counts.shape[0]), counts))
        return index_select(input, dim, index)
    r = int(repeats.item() if isinstance(repeats, Tensor) else repeats)
    if r < 0:
        raise RuntimeError("repeats can not be negative")
    shape = list(input._data.shape)
    expanded = S.expand(S.unsqueeze(input, dim + 1),
                        shape[:dim + 1] + [r] + shape[dim + 1:])
    return S.reshape(expanded, shape[:dim] + [shape[dim] * r] + shape[dim + 1:])


# ---- movedim / unflatten -----------------------------------------------------------------
@declare(aliases=("moveaxis",))
def movedim(input, source, destination):
    if isinstance(source, (int, np.integer)) != isinstance(destination, (int, np.integer)):
        kinds = ", ".join(type(x).__name__ for x in (source, destination))
        raise TypeError(f"movedim() received an invalid combination of arguments - got (Tensor, "
                        f"{kinds}), but expected one of:")
    nd = input.ndim
    src = _dims(source, nd)
    dst = _dims(destination, nd)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} "
                           f"dims) should contain the same number of dims as destination "
                           f"({list(dst)} dims)")
    order = [d for d in range(nd) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return S.permute(input, order)


moveaxis = movedim


@declare
def unflatten(input, dim, sizes):
    dim = _wrap_dim(dim, input.ndim)
    shape = input._data.shape
    sizes = S.infer_size(tuple(sizes), shape[dim]) if -1 in tuple(sizes) else tuple(sizes)
    if S._numel(sizes) != shape[dim]:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the "
                           f"size of dim {dim} ({shape[dim]}) in the input tensor")
    return S.view(input, shape[:dim] + tuple(sizes) + shape[dim + 1:])


# ---- diagonals -----------------------------------------------------------------------------
def diagonal_view(a, offset, dim1, dim2):
    """A writable strided view of a diagonal (NumPy's own diagonal() is read-only)."""
    b = array_module(a).moveaxis(a, (dim1, dim2), (-2, -1))
    b = b[..., :, offset:] if offset >= 0 else b[..., -offset:, :]
    n = builtins.max(0, builtins.min(b.shape[-2], b.shape[-1]))
    return array_module(a).lib.stride_tricks.as_strided(
        b, b.shape[:-2] + (n,), b.strides[:-2] + (b.strides[-2] + b.strides[-1],))


def _diagonal_scatter_fwd(base, src, offset, dim1, dim2):
    out = base.copy()
    diagonal_view(out, offset, dim1, dim2)[...] = src
    return out


def _diagonal_scatter_bwd(ctx, g):
    need = ctx.needs_input_grad
    p = ctx._params
    d = apply(diagonal_op, (g,), p) if need[1] or need[0] else None
    return (apply(diagonal_scatter_op, (g, d * 0), p) if need[0] else None,
            d if need[1] else None)


def _diagonal_bwd(ctx, g):
    z = zeros_from_meta(ctx._input_meta[0], g)
    return apply(diagonal_scatter_op, (z, g), ctx._params)


diagonal_op = defop("diagonal", diagonal_view, _diagonal_bwd, view=True)
diagonal_scatter_op = defop("diagonal_scatter", _diagonal_scatter_fwd, _diagonal_scatter_bwd)


@declare
def diagonal(input, offset=0, dim1=0, dim2=1):
    nd = input.ndim
    d1, d2 = _wrap_dim(dim1, nd), _wrap_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return apply_view(diagonal_op, (input,), {"offset": int(offset), "dim1": d1, "dim2": d2})


@declare
def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    nd = input.ndim
    return apply(diagonal_scatter_op, (input, src),
                 {"offset": int(offset), "dim1": _wrap_dim(dim1, nd), "dim2": _wrap_dim(dim2, nd)})


def _diag_embed_fwd(a, offset, dim1, dim2):
    n = a.shape[-1] + abs(offset)
    shape = list(a.shape[:-1])
    for d in sorted((dim1, dim2)):
        shape.insert(d, n)
    out = array_module(a).zeros(shape, dtype=a.dtype)
    diagonal_view(out, offset, dim1, dim2)[...] = a
    return out


diag_embed_op = defop("diag_embed", _diag_embed_fwd,
                      lambda ctx, g: apply(diagonal_op, (g,), ctx._params))


@declare
def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    nd = input.ndim + 1
    d1, d2 = _wrap_dim(dim1, nd), _wrap_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return apply(diag_embed_op, (input,), {"offset": int(offset), "dim1": d1, "dim2": d2})


@declare
def diag(input, diagonal=0):
    if input.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if input.ndim == 2:
        return S.clone(globals()["diagonal"](input, diagonal, 0, 1))
    raise RuntimeError("diag(): Supports 1D or 2D tensors. Got " f"{input.ndim}D")


@declare
def diagflat(input, offset=0):
    return diag_embed(S.flatten(input), offset, 0, 1)


# ---- tril / triu -------------------------------------------------------------------------------
tril_op = defop("tril", lambda a, k: np.tril(a, k), lambda ctx, g: apply(tril_op, (g,), ctx._params))
triu_op = defop("triu", lambda a, k: np.triu(a, k), lambda ctx, g: apply(triu_op, (g,), ctx._params))


@declare(out=True)
def tril(input, diagonal=0, *, out=None):
    if input.ndim < 2:
        raise RuntimeError("tril: input tensor must have at least 2 dimensions")
    return apply(tril_op, (input,), {"k": int(diagonal)})


@declare(out=True)
def triu(input, diagonal=0, *, out=None):
    if input.ndim < 2:
        raise RuntimeError("triu: input tensor must have at least 2 dimensions")
    return apply(triu_op, (input,), {"k": int(diagonal)})


# ---- Tensor.unfold (sliding windows) ------------------------------------------------------
def _unfold_fwd(a, dim, size, step):
    n = (a.shape[dim] - size) // step + 1 if a.ndim else 1
    if a.ndim == 0:
        return a.reshape(1)
    shape = a.shape[:dim] + (n,) + a.shape[dim + 1:] + (size,)
    strides = a.strides[:dim] + (a.strides[dim] * step,) + a.strides[dim + 1:] + (a.strides[dim],)
    return array_module(a).lib.stride_tricks.as_strided(a, shape, strides)


def _unfold_backward_fwd(g, shape, dim, size, step):
    out = array_module(g).zeros(shape, dtype=g.dtype)
    if not shape:
        return g.reshape(())
    idx = [slice(None)] * len(shape)
    for k in range(g.shape[dim]):
        idx[dim] = slice(k * step, k * step + size)
        win = np.moveaxis(np.take(g, k, axis=dim), -1, dim)
        out[tuple(idx)] += win
    return out


unfold_op = defop("unfold", _unfold_fwd, lambda ctx, g: apply(
    unfold_backward_op, (g,), {"shape": ctx._input_meta[0][0], "dim": ctx.dim, "size": ctx.size,
                               "step": ctx.step}), view=True)
unfold_backward_op = defop("unfold_backward", _unfold_backward_fwd, lambda ctx, g: apply(
    unfold_op, (g,), {"dim": ctx.dim, "size": ctx.size, "step": ctx.step}))


@declare(function=False)
def unfold(input, dimension, size, step):
    nd = input.ndim
    dim = _wrap_dim(dimension, nd)
    length = input._data.shape[dim] if nd else 1
    if size > length:
        raise RuntimeError(f"maximum size for tensor at dimension {dim} is {length} but size is "
                           f"{size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    return apply_view(unfold_op, (input,), {"dim": dim, "size": int(size), "step": int(step)})
