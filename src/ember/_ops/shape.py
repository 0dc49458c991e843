"""Shape and view ops.  Views share their base's array (and version counter)."""
import builtins

import numpy as np

from .._tensor import Tensor, _wrap_dim
from ._declare import declare
from .inplace import apply_view, check_inplace
from .registry import apply, defop, zeros_from_meta


def _numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def infer_size(shape, numel):
    """Resolve a single -1 in ``shape``; torch's errors for impossible shapes."""
    shape = list(shape)
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError("only one dimension can be inferred")
    for s in shape:
        if s < -1:
            raise RuntimeError(f"invalid shape dimension {s}")
    if neg:
        rest = _numel(s for s in shape if s != -1)
        if rest == 0 or numel % rest:
            raise RuntimeError(f"shape '{_fmt(shape)}' is invalid for input of size {numel}")
        shape[neg[0]] = numel // rest
    elif _numel(shape) != numel:
        raise RuntimeError(f"shape '{_fmt(shape)}' is invalid for input of size {numel}")
    return tuple(shape)


def _fmt(shape):
    return "[" + ", ".join(str(s) for s in shape) + "]"


def _shape_arg(shape):
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer, Tensor)):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


# ---- view / reshape ---------------------------------------------------------------
def _view_fwd(a, shape):
    try:
        return np.reshape(a, shape, copy=False)
    except ValueError:
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at "
                           "least one dimension spans across two contiguous subspaces). Use "
                           ".reshape(...) instead.") from None


def _reshape_bwd(ctx, g):
    return g.reshape(ctx._input_meta[0][0])


view_op = defop("view", _view_fwd, _reshape_bwd, view=True)
unsafe_view_op = defop("reshape_copy", lambda a, shape: a.reshape(shape), _reshape_bwd,
                       node="UnsafeViewBackward0")


@declare
def view(input, *shape, size=None, dtype=None):
    if size is not None or dtype is not None:
        shape = (dtype if size is None else size,)
    if len(shape) == 1 and hasattr(shape[0], "np") and hasattr(shape[0], "category"):
        from .conversion import view_dtype
        return view_dtype(input, shape[0])
    shape = infer_size(_shape_arg(shape), input._data.size)
    return apply_view(view_op, (input,), {"shape": shape})


@declare
def reshape(input, *args, shape=None):
    shape = infer_size(_shape_arg(args if shape is None else (shape,)), input._data.size)
    a = input._data
    if a.flags.c_contiguous or _viewable(a, shape):
        return apply_view(view_op, (input,), {"shape": shape})
    return apply(unsafe_view_op, (input,), {"shape": shape})


def _viewable(a, shape):
    try:
        np.reshape(a, shape, copy=False)
        return True
    except ValueError:
        return False


@declare
def view_as(input, other):
    return view(input, other._data.shape)


@declare
def reshape_as(input, other):
    return reshape(input, other._data.shape)


@declare
def flatten(input, start_dim=0, end_dim=-1):
    nd = input.ndim
    if nd == 0:
        return reshape(input, (1,))
    s = _wrap_dim(start_dim, nd)
    e = _wrap_dim(end_dim, nd)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    shape = input._data.shape
    return reshape(input, shape[:s] + (_numel(shape[s:e + 1]),) + shape[e + 1:])


# ---- transpose / permute ----------------------------------------------------------
def _permute_bwd(ctx, g):
    inv = [0] * len(ctx.dims)
    for i, d in enumerate(ctx.dims):
        inv[d] = i
    return g.permute(*inv)


permute_op = defop("permute", lambda a, dims: a.transpose(dims), _permute_bwd, view=True)
transpose_op = defop("transpose", lambda a, d0, d1: np.swapaxes(a, d0, d1),
                     lambda ctx, g: g.transpose(ctx.d0, ctx.d1), view=True)


@declare
def permute(input, *args, dims=None):
    dims = _shape_arg(args if dims is None else (dims,))
    nd = input.ndim
    if len(dims) != nd:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not "
                           f"match the length of the desired ordering of dimensions i.e. input.dim() "
                           f"= {nd} is not equal to len(dims) = {len(dims)}")
    dims = tuple(_wrap_dim(d, nd) for d in dims)
    if len(set(dims)) != nd:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return apply_view(permute_op, (input,), {"dims": dims})


@declare(aliases=("swapdims",))
def transpose(input, dim0, dim1):
    nd = input.ndim
    d0, d1 = _wrap_dim(dim0, nd), _wrap_dim(dim1, nd)
    return apply_view(transpose_op, (input,), {"d0": d0, "d1": d1})


swapdims = transpose


@declare
def swapaxes(input, axis0, axis1):
    # torch spells swapaxes' keywords as NumPy's, swapdims' as transpose's.
    return transpose(input, axis0, axis1)


@declare
def t(input):
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    if input.ndim < 2:
        return apply_view(transpose_op, (input,), {"d0": 0, "d1": 0}) if input.ndim else \
            apply_view(permute_op, (input,), {"dims": ()})
    return apply_view(t_op, (input,))


t_op = defop("t", lambda a: a.T, lambda ctx, g: g.t(), view=True, node="TBackward0")


# ---- unsqueeze / squeeze / expand ---------------------------------------------------
unsqueeze_op = defop("unsqueeze", lambda a, dim: np.expand_dims(a, dim),
                     lambda ctx, g: g.squeeze(ctx.dim), view=True)
squeeze_op = defop("squeeze", lambda a, dims: a.squeeze(axis=dims) if dims else a.view(),
                   lambda ctx, g: g.reshape(ctx._input_meta[0][0]), view=True,
                   node="SqueezeBackward1")


@declare
def unsqueeze(input, dim):
    return apply_view(unsqueeze_op, (input,), {"dim": _wrap_dim(dim, input.ndim + 1)})


# torch's three overloads: squeeze() (SqueezeBackward0), squeeze(int) (SqueezeBackward1),
# squeeze(tuple of ints) (SqueezeBackward2).
@declare
def squeeze(input, dim=None):
    shape = input._data.shape
    if dim is None:
        dims = tuple(i for i, s in enumerate(shape) if s == 1)
        op = squeeze_op.variant("SqueezeBackward0")
    else:
        many = isinstance(dim, (tuple, list))
        ds = [_wrap_dim(d, input.ndim) for d in (dim if many else (dim,))]
        dims = tuple(d for d in ds if shape and shape[d] == 1)
        op = squeeze_op.variant("SqueezeBackward2") if many else squeeze_op
    return apply_view(op, (input,), {"dims": dims})


def _expand_fwd(a, shape):
    return np.broadcast_to(a, shape)


def _expand_bwd(ctx, g):
    from ..autograd.graph import sum_to_size
    return sum_to_size(g, ctx._input_meta[0][0])


expand_op = defop("expand", _expand_fwd, _expand_bwd, view=True)


@declare
def expand(input, *sizes, size=None, implicit=False):
    sizes = _shape_arg(sizes if size is None else (size,))
    shape = input._data.shape
    if len(sizes) < len(shape):
        raise RuntimeError(f"expand({input.type()}{{{list(shape)}}}, size={list(sizes)}): the "
                           "number of sizes provided ({}) must be greater or equal to the number of "
                           "dimensions in the tensor ({})".format(len(sizes), len(shape)))
    lead = len(sizes) - len(shape)
    out = list(sizes)
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"The expanded size of the tensor (-1) isn't allowed in a "
                                   f"leading, non-existing dimension {i}")
            continue
        cur = shape[i - lead]
        if s == -1:
            out[i] = cur
        elif cur != s and cur != 1:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing size "
                               f"({cur}) at non-singleton dimension {i}.  Target sizes: "
                               f"{list(sizes)}.  Tensor sizes: {list(shape)}")
    out = tuple(out)
    if out == shape:
        return apply_view(expand_op, (input,), {"shape": out})
    return apply_view(expand_op, (input,), {"shape": out})


@declare
def expand_as(input, other):
    return expand(input, other._data.shape)


# ---- copies ---------------------------------------------------------------------------
clone_op = defop("clone", lambda a: a.copy(), lambda ctx, g: g)


@declare
def clone(input, *, memory_format=None):
    return apply(clone_op, (input,))


@declare
def contiguous(input, memory_format=None):
    if input._data.flags.c_contiguous:
        return input
    return apply(clone_op, (input,))


# ---- select / slice (the pieces basic indexing is made of) ----------------------------
def _select_bwd(ctx, g):
    z = zeros_from_meta(ctx._input_meta[0], g)
    return _slice_scatter(z, g, ctx.dim, ctx.index, ctx.index + 1, 1, squeezed=True)


def _slice_bwd(ctx, g):
    z = zeros_from_meta(ctx._input_meta[0], g)
    return _slice_scatter(z, g, ctx.dim, ctx.start, ctx.stop, ctx.step, squeezed=False)


def _select_fwd(a, dim, index):
    idx = [slice(None)] * a.ndim
    idx[dim] = index
    return a[tuple(idx)]


def _slice_fwd(a, dim, start, stop, step):
    idx = [slice(None)] * a.ndim
    idx[dim] = slice(start, stop, step)
    return a[tuple(idx)]


select_op = defop("select", _select_fwd, _select_bwd, view=True)
slice_op = defop("slice", _slice_fwd, _slice_bwd, view=True)


def _slice_scatter_fwd(base, src, dim, start, stop, step, squeezed):
    out = base.copy()
    idx = [slice(None)] * base.ndim
    idx[dim] = start if squeezed else slice(start, stop, step)
    out[tuple(idx)] = src
    return out


def _slice_scatter_bwd(ctx, g):
    dim, start, stop, step, squeezed = ctx.dim, ctx.start, ctx.stop, ctx.step, ctx.squeezed
    need = ctx.needs_input_grad
    part = g.select(dim, start) if squeezed else _slice(g, dim, start, stop, step)
    g_base = _slice_scatter(g, part * 0, dim, start, stop, step, squeezed) if need[0] else None
    return g_base, (part if need[1] else None)


slice_scatter_op = defop("slice_scatter", _slice_scatter_fwd, _slice_scatter_bwd)


def _slice_scatter(base, src, dim, start, stop, step, squeezed):
    return apply(slice_scatter_op, (base, src), {"dim": dim, "start": start, "stop": stop,
                                                 "step": step, "squeezed": squeezed})


def _check_scatter_src(src, part):
    if tuple(src._data.shape) != tuple(part.shape):
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = "
                           f"{list(src._data.shape)}, slice size = {list(part.shape)}")


@declare
def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """A copy of input with input[..., start:end:step, ...] (along dim) replaced by src."""
    dim = _wrap_dim(dim, input.ndim)
    size = input._data.shape[dim]
    start, stop, step = slice(start, end, step).indices(size)
    stop = builtins.max(stop, start)
    _check_scatter_src(src, _slice_fwd(input._data, dim, start, stop, step))
    return _slice_scatter(input, src.to(input.dtype), dim, start, stop, step, squeezed=False)


@declare
def select_scatter(input, src, dim, index):
    """A copy of input with input.select(dim, index) replaced by src."""
    dim = _wrap_dim(dim, input.ndim)
    size = input._data.shape[dim]
    index = int(index)
    if index < -size or index >= size:
        raise IndexError(f"index {index} is out of bounds for dimension {dim} with size {size}")
    index %= size
    _check_scatter_src(src, _select_fwd(input._data, dim, index))
    return _slice_scatter(input, src.to(input.dtype), dim, index, index + 1, 1, squeezed=True)


@declare
def select(input, dim, index):
    nd = input.ndim
    if nd == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    dim = _wrap_dim(dim, nd)
    size = input._data.shape[dim]
    index = int(index)
    if index < -size or index >= size:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(input._data.shape)} at dimension {dim}")
    if index < 0:
        index += size
    return apply_view(select_op, (input,), {"dim": dim, "index": index})


def _slice(input, dim, start, stop, step):
    size = input._data.shape[dim]
    start, stop, step = slice(start, stop, step).indices(size)
    if step <= 0:
        raise ValueError("step must be greater than zero")
    stop = builtins.max(stop, start)
    return apply_view(slice_op, (input,), {"dim": dim, "start": start, "stop": stop, "step": step})


@declare
def narrow(input, dim, start, length):
    dim = _wrap_dim(dim, input.ndim)
    size = input._data.shape[dim]
    start = int(start)
    if start < 0:
        start += size
    if start < 0 or start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return _slice(input, dim, start, start + length, 1)


def getitem(input, index):
    """Basic indexing (ints, slices, None, Ellipsis) as a chain of view ops, as torch does."""
    if not isinstance(index, tuple):
        index = (index,)
    if any(_is_advanced(i) for i in index):
        from .indexing import advanced_getitem
        return advanced_getitem(input, index)
    n_real = builtins.sum(1 for i in index if i is not None and i is not Ellipsis)
    nd = input.ndim
    if n_real > nd:
        raise IndexError(f"too many indices for tensor of dimension {nd}")
    if builtins.sum(1 for i in index if i is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    out = input
    dim = 0
    src_dim = 0     # the input's dim an index item applies to (torch's errors name it)
    for i in index:
        if i is Ellipsis:
            dim += nd - n_real
            src_dim += nd - n_real
        elif i is None:
            out = unsqueeze(out, dim)
            dim += 1
        elif isinstance(i, slice):
            out = _slice(out, dim, i.start, i.stop, i.step)
            dim += 1
            src_dim += 1
        else:
            ii = int(i)
            size = out._data.shape[dim]
            if ii < -size or ii >= size:
                raise IndexError(f"index {ii} is out of bounds for dimension {src_dim} with size "
                                 f"{size}")
            out = select(out, dim, ii)
            src_dim += 1
    if out is input:
        out = apply_view(alias_op, (input,))
    return out


alias_op = defop("alias", lambda a: a.view(), lambda ctx, g: g, view=True, node="AliasBackward0")


def _is_advanced(i):
    if isinstance(i, Tensor):
        return not (i._data.ndim == 0 and i._data.dtype.kind in "iu")
    return isinstance(i, (list, np.ndarray, bool, np.bool_)) or \
        (isinstance(i, tuple))


@declare(function=False, name="__getitem__")
def _getitem(self, index):
    return getitem(self, index)


# ---- in-place metadata ops (x.t_(), x.unsqueeze_(0), ...) --------------------------------
# The view ops' own entries; torch names the in-place forms' nodes ...Backward1.


def _restride_(self, op, params):
    """Give self the new shape/strides in place; its history continues through ``op``."""
    from .registry import _state
    check_inplace(self, _state.enabled)
    out = apply(op, (self,), params)
    self._data = out._data
    self._vc[0] += 1
    if out._grad_fn is not None:
        self._grad_fn = out._grad_fn
        self._output_nr = 0
    return self


@declare(function=False)
def t_(self):
    if self.ndim > 2:
        raise RuntimeError(f"t_() expects a tensor with <= 2 dimensions, but self is "
                           f"{self.ndim}D")
    if self.ndim < 2:
        self._vc[0] += 1
        return self
    return _restride_(self, t_op.variant("TBackward1"), _EMPTY_PARAMS)


@declare(function=False, aliases=("swapdims_",))
def transpose_(self, dim0, dim1):
    nd = self.ndim
    return _restride_(self, transpose_op.variant("TransposeBackward1"),
                      {"d0": _wrap_dim(dim0, nd), "d1": _wrap_dim(dim1, nd)})


@declare(function=False)
def swapaxes_(self, axis0, axis1):
    return transpose_(self, axis0, axis1)


@declare(function=False)
def squeeze_(self, dim=None):
    shape = self._data.shape
    op = squeeze_op.variant("SqueezeBackward3")
    if dim is None:
        dims = tuple(i for i, s in enumerate(shape) if s == 1)
    else:
        many = isinstance(dim, (tuple, list))
        ds = dim if many else (dim,)
        dims = tuple(d for d in (_wrap_dim(d, self.ndim) for d in ds) if shape and shape[d] == 1)
        op = squeeze_op.variant("SqueezeBackward5" if many else "SqueezeBackward4")
    return _restride_(self, op, {"dims": dims})


@declare(function=False)
def unsqueeze_(self, dim):
    return _restride_(self, unsqueeze_op.variant("UnsqueezeBackward1"),
                      {"dim": _wrap_dim(dim, self.ndim + 1)})


_EMPTY_PARAMS = {}
