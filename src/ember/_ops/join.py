"""Joining and splitting: cat/stack and friends, split/chunk/unbind/tensor_split,
broadcasting helpers, meshgrid and atleast_Nd."""
import builtins
import warnings

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor, _wrap_dim
from ._common import _out
from ._declare import declare
from . import shape as S
from .inplace import apply_view
from .registry import apply, defop, zeros_from_meta

MANY = 2   # ``nout`` of ops with a variable number of outputs (the node is sized per call)


def _tensor_list(tensors, name):
    if isinstance(tensors, Tensor):
        raise TypeError(f"{name}(): argument 'tensors' (position 1) must be tuple of Tensors, "
                        "not Tensor")
    tensors = list(tensors)
    if not tensors:
        raise (ValueError if name == "torch.cat" else RuntimeError)(
            f"{name}(): expected a non-empty list of Tensors")
    return tensors


def _promote_all(tensors):
    dt = D.result_type_of(tensors)
    return [t if t.dtype is dt else t.to(dt) for t in tensors]


# ---- cat / stack ------------------------------------------------------------------------
def _cat_fwd(*arrays, dim, sizes):
    # sizes[i] is None for a legacy 1-D empty input, which takes no part.
    return np.concatenate([a for a, n in zip(arrays, sizes) if n is not None], axis=dim)


def _cat_bwd(ctx, g):
    out = []
    start = 0
    for size, meta in zip(ctx.sizes, ctx._input_meta):
        if size is None:
            out.append(None if meta is None else zeros_from_meta(meta, g))
            continue
        out.append(S._slice(g, ctx.dim, start, start + size, 1))
        start += size
    return tuple(out)


def _stack_fwd(*arrays, dim):
    return np.stack(arrays, axis=dim)


def _stack_bwd(ctx, g):
    return tuple(g.select(ctx.dim, i) for i in range(len(ctx._input_meta)))


cat_op = defop("cat", _cat_fwd, _cat_bwd)
stack_op = defop("stack", _stack_fwd, _stack_bwd)


@declare(method=False, aliases=("concat", "concatenate"))
def cat(tensors, dim=0, *, out=None):
    tensors = _tensor_list(tensors, "torch.cat")
    for i, t in enumerate(tensors):
        if t.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    # torch's legacy rule: 1-D empty tensors are skipped whatever the others' shapes.
    kept = [t for t in tensors if not (t.ndim == 1 and t._data.shape[0] == 0)] or tensors[:1]
    ref = kept[0]
    dim = _wrap_dim(dim, ref.ndim)
    for i, t in enumerate(tensors):
        if t.ndim == 1 and t._data.shape[0] == 0:
            continue
        if t.ndim != ref.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ref.ndim} and "
                               f"{t.ndim}")
        for d in range(ref.ndim):
            if d != dim and t._data.shape[d] != ref._data.shape[d]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {dim}. "
                                   f"Expected size {ref._data.shape[d]} but got size "
                                   f"{t._data.shape[d]} for tensor number {i} in "
                                   "the list.")
    tensors = _promote_all(tensors)
    sizes = tuple(None if t.ndim == 1 and t._data.shape[0] == 0 and ref.ndim != 1
                  else t._data.shape[dim] for t in tensors)
    # out= written here rather than by declare's wrapper: cat is on hot paths.
    return _out(apply(cat_op, tuple(tensors), {"dim": dim, "sizes": sizes}), out, "cat")


concat = concatenate = cat


@declare(method=False)
def stack(tensors, dim=0, *, out=None):
    tensors = _tensor_list(tensors, "stack")
    shape = tensors[0]._data.shape
    for i, t in enumerate(tensors):
        if t._data.shape != shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(shape)} at entry 0 and {list(t._data.shape)} at entry {i}")
    dim = _wrap_dim(dim, len(shape) + 1)
    return _out(apply(stack_op, tuple(_promote_all(tensors)), {"dim": dim}), out, "stack")


@declare(method=False, out=True)
def hstack(tensors, *, out=None):
    tensors = atleast_1d(*_tensor_list(tensors, "hstack"))
    tensors = tensors if isinstance(tensors, tuple) else (tensors,)
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


@declare(method=False, aliases=("row_stack",), out=True)
def vstack(tensors, *, out=None):
    tensors = atleast_2d(*_tensor_list(tensors, "vstack"))
    return cat(tensors if isinstance(tensors, tuple) else (tensors,), 0)


row_stack = vstack


@declare(method=False, out=True)
def dstack(tensors, *, out=None):
    tensors = atleast_3d(*_tensor_list(tensors, "dstack"))
    return cat(tensors if isinstance(tensors, tuple) else (tensors,), 2)


@declare(method=False, out=True)
def column_stack(tensors, *, out=None):
    tensors = [t.reshape(-1, 1) if t.ndim <= 1 else t
               for t in _tensor_list(tensors, "column_stack")]
    return cat(tensors, 1)


# ---- split / chunk / unbind ---------------------------------------------------------------
def _split_fwd(a, dim, sizes):
    out = []
    start = 0
    idx = [slice(None)] * a.ndim
    for size in sizes:
        idx[dim] = slice(start, start + size)
        out.append(a[tuple(idx)])
        start += size
    return tuple(out)


def _split_bwd(ctx, *grads):
    return cat(grads, ctx.dim)


def _unbind_fwd(a, dim):
    idx = [slice(None)] * a.ndim
    out = []
    for i in range(a.shape[dim]):
        idx[dim] = i
        out.append(a[tuple(idx)])
    return tuple(out)


def _unbind_bwd(ctx, *grads):
    return stack(grads, ctx.dim)


split_op = defop("split", _split_fwd, _split_bwd, nout=MANY, view=True)
unbind_op = defop("unbind", _unbind_fwd, _unbind_bwd, nout=MANY, view=True)


def _multi(op, input, params):
    outs = apply_view(op, (input,), params)
    node = outs[0]._grad_fn if outs else None
    if node is not None:
        node._num_outputs = len(outs)
    return outs


@declare
def split(tensor, split_size_or_sections, dim=0):
    dim = _wrap_dim(dim, tensor.ndim)
    n = tensor._data.shape[dim]
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = tuple(int(s) for s in split_size_or_sections)
        if builtins.sum(sizes) != n or any(s < 0 for s in sizes):
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input "
                               f"tensor's size at dimension {dim}), but got split_sizes="
                               f"{list(sizes)}")
        return _multi(split_op.variant("SplitWithSizesBackward0"), tensor,
                      {"dim": dim, "sizes": sizes})
    size = int(split_size_or_sections)
    if size < 0 or (size == 0 and n != 0):
        raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension "
                           f"size of {n}" if size == 0 else
                           f"split expects split_size be non-negative, but got split_size={size}")
    count = builtins.max(1, -(-n // size)) if size else 1
    sizes = tuple(builtins.min(size, n - i * size) for i in range(count))
    return _multi(split_op, tensor, {"dim": dim, "sizes": sizes})


@declare
def split_with_sizes(input, split_sizes, dim=0):
    return split(input, list(split_sizes), dim)


@declare
def chunk(input, chunks, dim=0):
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    dim = _wrap_dim(dim, input.ndim)
    n = input._data.shape[dim]
    return split(input, builtins.max(1, -(-n // chunks)), dim)


@declare
def unbind(input, dim=0):
    if input.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    return _multi(unbind_op, input, {"dim": _wrap_dim(dim, input.ndim)})


@declare
def tensor_split(input, indices_or_sections, dim=0):
    dim = _wrap_dim(dim, input.ndim)
    n = input._data.shape[dim]
    if isinstance(indices_or_sections, Tensor):
        indices_or_sections = indices_or_sections.tolist()
    if isinstance(indices_or_sections, (list, tuple)):
        bounds = [0] + [int(i) for i in indices_or_sections] + [n]
    else:
        sections = int(indices_or_sections)
        if sections <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {sections}")
        small, extra = divmod(n, sections)
        bounds = [0]
        for i in range(sections):
            bounds.append(bounds[-1] + small + (1 if i < extra else 0))
    out = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        lo = builtins.min(builtins.max(lo + n if lo < 0 else lo, 0), n)
        hi = builtins.min(builtins.max(hi + n if hi < 0 else hi, 0), n)
        out.append(S._slice(input, dim, lo, builtins.max(lo, hi), 1))
    return tuple(out)


@declare
def hsplit(input, sections):
    return tensor_split(input, sections, 0 if input.ndim == 1 else 1)


@declare
def vsplit(input, sections):
    return tensor_split(input, sections, 0)


@declare
def dsplit(input, sections):
    return tensor_split(input, sections, 2)


# ---- atleast_Nd / broadcasting / meshgrid ----------------------------------------------------
def _atleast(args, fn):
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        return tuple(fn(t) for t in args[0])
    if len(args) == 1:
        return fn(args[0])
    return tuple(fn(t) for t in args)


@declare(method=False)
def atleast_1d(*tensors):
    return _atleast(tensors, lambda t: t.reshape(1) if t.ndim == 0 else t)


@declare(method=False)
def atleast_2d(*tensors):
    def fn(t):
        return t.reshape(1, 1) if t.ndim == 0 else S.unsqueeze(t, 0) if t.ndim == 1 else t
    return _atleast(tensors, fn)


@declare(method=False)
def atleast_3d(*tensors):
    def fn(t):
        if t.ndim == 0:
            return t.reshape(1, 1, 1)
        if t.ndim == 1:
            return S.unsqueeze(S.unsqueeze(t, 0), 2)
        if t.ndim == 2:
            return S.unsqueeze(t, 2)
        return t
    return _atleast(tensors, fn)


@declare(method=False)
def broadcast_shapes(*shapes):
    out = []
    for k, shape in enumerate(shapes):
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        if len(shape) > len(out):
            out = [1] * (len(shape) - len(out)) + out
        for i, s in enumerate(shape):
            j = len(out) - len(shape) + i
            if out[j] == 1:
                out[j] = s
            elif s != 1 and s != out[j]:
                raise RuntimeError(f"Attempting to broadcast a dimension of length {s} at "
                                   f"{i - len(shape)}! Mismatching argument at index {k} had "
                                   f"{shape}; but expected shape should be broadcastable to "
                                   f"{out}")
    from .._tensor import Size
    return Size(out)


@declare
def broadcast_to(input, size):
    return S.expand(input, tuple(size))


@declare(method=False)
def broadcast_tensors(*tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    shape = ()
    for t in tensors:
        s = t._data.shape
        if len(s) > len(shape):
            shape = (1,) * (len(s) - len(shape)) + shape
        merged = list(shape)
        for i, n in enumerate(s):
            j = len(shape) - len(s) + i
            if merged[j] == 1:
                merged[j] = n
            elif n != 1 and n != merged[j]:
                raise RuntimeError(f"The size of tensor a ({merged[j]}) must match the size of "
                                   f"tensor b ({n}) at non-singleton dimension {j}")
        shape = tuple(merged)
    return tuple(S.expand(t, shape) for t in tensors)


@declare(method=False)
def meshgrid(*tensors, indexing=None):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the "
                      "indexing argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but "
                           f"received: {indexing}")
    for t in tensors:
        if t.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but "
                               f"got: {t}")
    sizes = [t.numel() for t in tensors]
    order = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) >= 2:
        order[0], order[1] = 1, 0
    shape = tuple(sizes[i] for i in order)
    out = []
    for i, t in enumerate(tensors):
        view_shape = [1] * len(tensors)
        view_shape[order.index(i)] = -1
        out.append(S.expand(S.view(t, view_shape), shape))
    return tuple(out)


@declare(method=False)
def cartesian_prod(*tensors):
    """The Cartesian product of 1-D tensors: one row per combination (itertools.product)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    for t in tensors:
        if t.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t.shape)}")
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    if any(t.dtype is not tensors[0].dtype for t in tensors):
        raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([S.flatten(g) for g in grids], 1)
