"""Index-driven gathers and scatters: index_select/index_add/index_copy/index_fill,
gather/scatter/scatter_add/scatter_reduce, masked_fill/masked_select/masked_scatter,
take/take_along_dim.

Indices are checked against the sizes explicitly: NumPy would wrap negative indices
where torch raises.
"""
import numpy as np

from .._device import array_module
from .._tensor import Tensor, _make, _wrap_dim
from ._declare import declare
from .inplace import apply_inplace
from .registry import PROMOTE, apply, defop, zeros_from_meta
from ._xp import ufunc_at


def _index_array(index, name, *, vector=False):
    if not isinstance(index, Tensor):
        raise TypeError(f"{name}(): argument 'index' must be Tensor, not {type(index).__name__}")
    a = index._data
    if a.dtype.kind not in "iu":
        raise RuntimeError(f"{name}(): Expected dtype int32 or int64 for index" if name ==
                           "index_select" else f"{name}(): Expected dtype int32/int64 for index")
    if vector and a.ndim > 1:
        raise IndexError(f"{name}(): Index is supposed to be a vector")
    return a.astype(np.int64, copy=False)


def _check_bounds(idx, size, dim, exc=RuntimeError):
    if idx.size and (idx.min() < 0 or idx.max() >= size):
        bad = int(idx[(idx < 0) | (idx >= size)].reshape(-1)[0])
        raise exc(f"index {bad} is out of bounds for dimension {dim} with size {size}")


def _at(xp, ufunc):
    return lambda out, index, values: ufunc_at(ufunc.__name__, out, index, values)


def _scalar_value(value, like):
    return value.item() if isinstance(value, Tensor) else value


# ---- index_select / index_add / index_copy / index_fill ----------------------------------
def _index_select_bwd(ctx, g):
    z = zeros_from_meta(ctx._input_meta[0], g)
    return apply(index_add_op, (z, g), {"dim": ctx.dim, "index": ctx.index, "alpha": 1})


def _index_add_fwd(a, src, dim, index, alpha):
    out = a.copy()
    xp = array_module(out)
    src = src if alpha == 1 else src * alpha
    _at(xp, np.add)(np.moveaxis(out, dim, 0), index.reshape(-1), np.moveaxis(src, dim, 0))
    return out


def _index_add_bwd(ctx, g):
    need = ctx.needs_input_grad
    g_src = None
    if need[1]:
        g_src = apply(index_select_op, (g,), {"dim": ctx.dim, "index": ctx.index})
        if ctx.alpha != 1:
            g_src = g_src * ctx.alpha
    return (g if need[0] else None), g_src


def _index_copy_fwd(a, src, dim, index):
    out = a.copy()
    np.moveaxis(out, dim, 0)[index.reshape(-1)] = np.moveaxis(src, dim, 0)
    return out


def _index_copy_bwd(ctx, g):
    need = ctx.needs_input_grad
    p = {"dim": ctx.dim, "index": ctx.index}
    return (apply(index_fill_op, (g,), dict(p, value=0)) if need[0] else None,
            apply(index_select_op, (g,), p) if need[1] else None)


def _index_fill_fwd(a, dim, index, value):
    out = a.copy()
    np.moveaxis(out, dim, 0)[index.reshape(-1)] = value
    return out


index_select_op = defop("index_select", lambda a, dim, index: np.take(a, index, axis=dim),
                        _index_select_bwd)
index_add_op = defop("index_add", _index_add_fwd, _index_add_bwd, promote=PROMOTE)
index_copy_op = defop("index_copy", _index_copy_fwd, _index_copy_bwd, promote=PROMOTE)
index_fill_op = defop("index_fill", _index_fill_fwd, lambda ctx, g: apply(
    index_fill_op, (g,), {"dim": ctx.dim, "index": ctx.index, "value": 0}))


def _index_fill_tensor_fwd(a, value, dim, index):
    return _index_fill_fwd(a, dim, index, value)


def _index_fill_tensor_bwd(ctx, g):
    need = ctx.needs_input_grad
    p = {"dim": ctx.dim, "index": ctx.index}
    return (apply(index_fill_op, (g,), dict(p, value=0)) if need[0] else None,
            apply(index_select_op, (g,), p).sum() if need[1] else None)


# A 0-dim tensor value that requires grad receives the sum of the filled positions' grads.
index_fill_tensor_op = defop("index_fill_tensor", _index_fill_tensor_fwd, _index_fill_tensor_bwd,
                             node="IndexFillBackward1")


def _dim_index(input, dim, index, name):
    dim = _wrap_dim(dim, input.ndim)
    idx = _index_array(index, name, vector=True)
    size = input._data.shape[dim] if input.ndim else 1
    return dim, idx, size


@declare(out=True)
def index_select(input, dim, index, *, out=None):
    dim, idx, size = _dim_index(input, dim, index, "index_select")
    if idx.size and (idx.min() < 0 or idx.max() >= size):
        raise IndexError("index out of range in self")
    if input.ndim == 0:
        return apply(index_select_op, (input.reshape(1),), {"dim": 0, "index": idx}).reshape(())
    return apply(index_select_op, (input,), {"dim": dim, "index": idx.reshape(-1)})


def _check_source(input, dim, idx, source, name):
    if source.ndim != input.ndim and not (input.ndim <= 1 and source.ndim <= 1):
        raise IndexError(f"{name}(): Source/destination tensor must have same slice shapes.")
    n = source._data.shape[dim] if source.ndim else 1
    if n != idx.size:
        raise IndexError(f"{name}(): Number of indices ({idx.size}) should be equal to "
                         f"source.size(dim) ({n})")


@declare(out=True)
def index_add(input, dim, index, source, *, alpha=1, out=None):
    dim, idx, size = _dim_index(input, dim, index, "index_add")
    _check_source(input, dim, idx, source, "index_add_")
    _check_bounds(idx, size, dim)
    return apply(index_add_op, (input, source),
                 {"dim": dim, "index": idx.reshape(-1), "alpha": alpha})


@declare
def index_copy(input, dim, index, source):
    dim, idx, size = _dim_index(input, dim, index, "index_copy")
    _check_source(input, dim, idx, source, "index_copy_")
    _check_bounds(idx, size, dim, IndexError)
    return apply(index_copy_op, (input, source), {"dim": dim, "index": idx.reshape(-1)})


@declare
def index_fill(input, dim, index, value):
    dim, idx, size = _dim_index(input, dim, index, "index_fill")
    _check_bounds(idx, size, dim, IndexError)
    if isinstance(value, Tensor) and value._requires_grad:
        if value.ndim:
            raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got "
                               f"tensor with {value.ndim} dimension(s).")
        return apply(index_fill_tensor_op, (input, value.to(input.dtype)),
                     {"dim": dim, "index": idx.reshape(-1)})
    return apply(index_fill_op, (input,),
                 {"dim": dim, "index": idx.reshape(-1), "value": _scalar_value(value, input)})


# ---- gather / scatter ------------------------------------------------------------------------
def _positions(index, dim):
    """The full index tuple that puts index[i0..in] at position dim of each element."""
    xp = array_module(index)
    shape = index.shape
    # open grids (NumPy's indices(sparse=True), which CuPy's lacks)
    grids = [xp.arange(n).reshape((1,) * k + (n,) + (1,) * (len(shape) - k - 1))
             for k, n in enumerate(shape)]
    grids[dim] = index
    return tuple(grids)


def _gather_fwd(a, dim, index):
    return a[_positions(index, dim)]


def _gather_bwd(ctx, g):
    z = zeros_from_meta(ctx._input_meta[0], g)
    return apply(scatter_add_op, (z, g), {"dim": ctx.dim, "index": ctx.index})


def _scatter_fwd(a, src, dim, index):
    out = a.copy()
    out[_positions(index, dim)] = src[tuple(slice(0, n) for n in index.shape)] \
        if np.ndim(src) else src
    return out


def _scatter_bwd(ctx, g):
    need = ctx.needs_input_grad
    p = {"dim": ctx.dim, "index": ctx.index}
    g_self = apply(scatter_value_op, (g,), dict(p, value=0)) if need[0] else None
    g_src = apply(gather_op, (g,), p) if len(need) > 1 and need[1] else None
    return g_self, g_src


def _scatter_value_fwd(a, dim, index, value):
    out = a.copy()
    out[_positions(index, dim)] = value
    return out


def _scatter_add_fwd(a, src, dim, index):
    out = a.copy()
    src = src[tuple(slice(0, n) for n in index.shape)]
    _at(array_module(out), np.add)(out, _positions(index, dim), src)
    return out


def _scatter_add_bwd(ctx, g):
    need = ctx.needs_input_grad
    return (g if need[0] else None,
            apply(gather_op, (g,), {"dim": ctx.dim, "index": ctx.index}) if need[1] else None)


gather_op = defop("gather", _gather_fwd, _gather_bwd)
scatter_op = defop("scatter", _scatter_fwd, _scatter_bwd, promote=PROMOTE)
scatter_value_op = defop("scatter_value", _scatter_value_fwd, lambda ctx, g: apply(
    scatter_value_op, (g,), {"dim": ctx.dim, "index": ctx.index, "value": 0}),
    node="ScatterBackward1")
scatter_add_op = defop("scatter_add", _scatter_add_fwd, _scatter_add_bwd, promote=PROMOTE)


def _gather_args(input, dim, index, src, name):
    """``(dim, index array)`` of gather and the scatters, wrapped and checked against
    ``input`` and ``src`` (None: no src to check)."""
    dim = _wrap_dim(dim, input.ndim)
    idx = _index_array(index, name)
    if idx.ndim != input.ndim and not (idx.ndim <= 1 and input.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor"
                           if name == "gather" else
                           "Index tensor must have the same number of dimensions as self tensor")
    if name == "gather":
        for d in range(idx.ndim):
            if d != dim and input.ndim and idx.shape[d] > input._data.shape[d]:
                raise RuntimeError(f"Size does not match at dimension {d} expected index "
                                   f"{list(idx.shape)} to be no larger than self "
                                   f"{list(input._data.shape)} apart from dimension {dim}")
    else:
        _check_scatter_sizes(input, dim, idx, src)
    _check_bounds(idx, input._data.shape[dim] if input.ndim else 1, dim)
    return dim, idx


def _check_scatter_sizes(input, dim, idx, src):
    # torch names both limits in one message whenever the index exceeds either of them.
    too_big = any(d != dim and input.ndim and idx.shape[d] > input._data.shape[d] or
                  src is not None and src.ndim and idx.shape[d] > src._data.shape[d]
                  for d in range(idx.ndim))
    if too_big:
        msg = (f"Expected index {list(idx.shape)} to be no larger than self "
               f"{list(input._data.shape)} apart from dimension {dim}")
        if src is not None:
            msg += f" and to be no larger size than src {list(src._data.shape)}"
        raise RuntimeError(msg)


def _check_src_dtype(input, src):
    if src.dtype is not input.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")


@declare(out=True)
def gather(input, dim, index, *, sparse_grad=False, out=None):
    dim, idx = _gather_args(input, dim, index, None, "gather")
    if input.ndim == 0:
        return apply(gather_op, (input.reshape(1),), {"dim": 0, "index": idx.reshape(-1)}) \
            .reshape(idx.shape)
    return apply(gather_op, (input,), {"dim": dim, "index": idx})


@declare(out=True)
def scatter(input, dim, index, src=None, value=None, *, reduce=None, out=None):
    if src is None and value is None:
        raise TypeError("scatter() missing 1 required positional argument: 'src' or 'value'")
    src = value if src is None else src
    dim, idx = _gather_args(input, dim, index, src if isinstance(src, Tensor) else None, "scatter")
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise RuntimeError("reduce argument must be either add or multiply.")
        if not isinstance(src, Tensor):
            src = _make(array_module(input._data).full(idx.shape, src, input._data.dtype))
        return scatter_reduce(input, dim, index, src, "sum" if reduce == "add" else "prod")
    if isinstance(src, Tensor):
        _check_src_dtype(input, src)
        return apply(scatter_op, (input, src), {"dim": dim, "index": idx})
    return apply(scatter_value_op, (input,), {"dim": dim, "index": idx, "value": src})


@declare
def scatter_add(input, dim, index, src):
    dim, idx = _gather_args(input, dim, index, src, "scatter_add")
    _check_src_dtype(input, src)
    return apply(scatter_add_op, (input, src), {"dim": dim, "index": idx})


# ---- scatter_reduce ------------------------------------------------------------------------
# torch's forward also takes "max" and "min" for amax/amin, but its backward refuses them.
_IDENTITY = {"sum": 0, "mean": 0, "prod": 1, "amax": -np.inf, "amin": np.inf,
             "max": -np.inf, "min": np.inf}
_UFUNC = {"sum": np.add, "mean": np.add, "prod": np.multiply, "amax": np.maximum,
          "amin": np.minimum, "max": np.maximum, "min": np.minimum}


def _counts(a, dim, index, include_self):
    xp = array_module(a)
    n = xp.ones(a.shape, dtype=np.int64) if include_self else xp.zeros(a.shape, dtype=np.int64)
    _at(xp, np.add)(n, _positions(index, dim), 1)
    return n


def _scatter_reduce_fwd(a, src, dim, index, reduce, include_self):
    xp = array_module(a)
    out = a.copy()
    pos = _positions(index, dim)
    src = src[tuple(slice(0, n) for n in index.shape)]
    if not include_self:
        ident = _IDENTITY[reduce]
        if out.dtype.kind in "iub" and not np.isfinite(ident):
            info = np.iinfo(out.dtype) if out.dtype.kind != "b" else None
            ident = (info.min if ident < 0 else info.max) if info else ident < 0
        out[pos] = ident
    _at(xp, _UFUNC[reduce])(out, pos, src)
    if reduce == "mean":
        n = xp.maximum(_counts(a, dim, index, include_self), 1)
        out = out // n if out.dtype.kind in "iu" else (out / n).astype(out.dtype)
    return out


def _scatter_reduce_bwd(ctx, g):
    self, src = ctx.saved
    result = ctx.result
    dim, index, reduce, inc = ctx.dim, ctx.index, ctx.reduce, ctx.include_self
    if reduce in ("max", "min"):
        raise RuntimeError("Expected 'reduce' to be one of 'sum', 'prod', 'mean', 'amax', "
                           f"'amin' but got {reduce}.")
    need = ctx.needs_input_grad
    p = {"dim": dim, "index": index}
    src = src[tuple(slice(0, n) for n in index.shape)] if tuple(src.shape) != index.shape else src
    xp = array_module(g._data)
    # 1 where no src element lands, 0 where one does (a constant: no graph).
    untouched = apply(scatter_value_op, (_make(xp.ones(g._data.shape, g._data.dtype)),),
                      dict(p, value=0))
    if reduce == "sum":
        g_self = g if inc else g * untouched
        g_src = apply(gather_op, (g,), p)
    elif reduce == "mean":
        n = _make(xp.maximum(_counts(g._data, dim, index, inc), 1).astype(g._data.dtype))
        g_self = g / n if inc else g / n * untouched
        g_src = apply(gather_op, (g / n,), p)
    elif reduce == "prod":
        g_self, g_src = _prod_grads(g, self, src, p, inc, untouched)
    else:
        hit_self = (self == result)
        if not inc:
            hit_self = hit_self & (untouched == 1)
        hit_src = src == apply(gather_op, (result,), p)
        w_self = hit_self.to(g.dtype)
        w_src = hit_src.to(g.dtype)
        count = apply(scatter_add_op, (w_self, w_src), p)
        g_self = g * w_self / count
        g_src = apply(gather_op, (g / count,), p) * w_src
    return (g_self if need[0] else None), (g_src if need[1] else None)


def _prod_grads(g, self, src, p, inc, untouched):
    """d(prod)/d(x) = product of the group's other members, exact when members are zero."""
    self_in = self if inc else self * untouched + (1 - untouched)
    self_nz = self_in + (self_in == 0).to(g.dtype)        # zeros replaced by one
    src_nz = src + (src == 0).to(g.dtype)
    prod_nz = apply(scatter_reduce_op, (self_nz, src_nz), dict(
        p, reduce="prod", include_self=True))
    zeros = apply(scatter_add_op, ((self_in == 0).to(g.dtype), (src == 0).to(g.dtype)), p)

    def others(x, x_nz, group_prod, group_zeros):
        # x nonzero: prod / x (0 if another member is zero); x zero: the product of the
        # nonzero members when x is the group's only zero, else 0.
        alone = (group_zeros == 1).to(g.dtype)
        none = (group_zeros == 0).to(g.dtype)
        is_zero = (x == 0).to(g.dtype)
        return (1 - is_zero) * none * group_prod / x_nz + is_zero * alone * group_prod

    g_self = g * others(self_in, self_nz, prod_nz, zeros) if inc else g * untouched
    gp = apply(gather_op, (prod_nz,), p)
    gz = apply(gather_op, (zeros,), p)
    g_src = apply(gather_op, (g,), p) * others(src, src_nz, gp, gz)
    return g_self, g_src


scatter_reduce_op = defop("scatter_reduce", _scatter_reduce_fwd, _scatter_reduce_bwd,
                          promote=PROMOTE, save=(0, 1), save_result=True,
                          node="ScatterReduceBackward0")


def _check_reduce(reduce):
    if reduce not in _UFUNC:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")


@declare
def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    _check_reduce(reduce)
    dim, idx = _gather_args(input, dim, index, src, "scatter_reduce")
    _check_src_dtype(input, src)
    return apply(scatter_reduce_op, (input, src), {"dim": dim, "index": idx, "reduce": reduce,
                                                   "include_self": bool(include_self)})


# ---- masked_fill / masked_select / masked_scatter ----------------------------------------------
def _bool_mask(mask, name):
    if not isinstance(mask, Tensor):
        raise TypeError(f"{name}(): argument 'mask' must be Tensor, not {type(mask).__name__}")
    if mask._data.dtype != np.bool_:
        raise RuntimeError(f"{name} only supports boolean masks, but got mask with dtype "
                           f"{mask.dtype._legacy.lower()}")
    return mask._data


def _masked_fill_fwd(a, value, mask):
    xp = array_module(a)
    return xp.where(mask, xp.asarray(value, dtype=a.dtype), a)


def _masked_fill_bwd(ctx, g):
    need = ctx.needs_input_grad
    mask = ctx.mask
    g_self = apply(masked_fill_op, (g, 0), {"mask": mask}) if need[0] else None
    g_value = None
    if len(need) > 1 and need[1]:
        keep = _make(array_module(g._data).asarray(~mask, dtype=bool))
        g_value = apply(masked_fill_op, (g, 0), {"mask": keep._data}).sum()
    return g_self, g_value


masked_fill_op = defop("masked_fill", _masked_fill_fwd, _masked_fill_bwd)


@declare
def masked_fill(input, mask, value):
    m = _bool_mask(mask, "masked_fill_")
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got "
                               f"tensor with {value.ndim} dimension(s).")
        if value.dtype is not input.dtype:
            value = value.to(input.dtype)
        if value._requires_grad:
            return apply(masked_fill_op, (input, value), {"mask": m})
        value = value.item()
    return apply(masked_fill_op, (input, value), {"mask": m})


def _masked_select_fwd(a, mask):
    xp = array_module(a)
    shape = np.broadcast_shapes(a.shape, mask.shape)
    return xp.broadcast_to(a, shape)[xp.broadcast_to(mask, shape)]


def _masked_select_bwd(ctx, g):
    shape = np.broadcast_shapes(ctx._input_meta[0][0], ctx.mask.shape)
    z = _make(array_module(g._data).zeros(shape, g._data.dtype))
    return apply(masked_scatter_op, (z, g), {"mask": ctx.mask})


def _masked_scatter_fwd(a, src, mask):
    xp = array_module(a)
    out = a.copy()
    m = xp.broadcast_to(mask, out.shape)
    n = int(m.sum())
    if n > src.size:
        raise RuntimeError("masked_scatter: expected source to have at least as many elements "
                           "as ones in mask")
    out[m] = src.reshape(-1)[:n]
    return out


def _masked_scatter_bwd(ctx, g):
    need = ctx.needs_input_grad
    mask = ctx.mask
    g_self = apply(masked_fill_op, (g, 0), {"mask": mask}) if need[0] else None
    g_src = None
    if need[1]:
        shape, _ = ctx._input_meta[1]
        picked = apply(masked_select_op, (g,), {"mask": mask})
        total = int(np.prod(shape))
        pad = _make(array_module(g._data).zeros(total - picked._data.shape[0], g._data.dtype))
        from .join import cat
        g_src = cat((picked, pad)).reshape(shape)
    return g_self, g_src


masked_select_op = defop("masked_select", _masked_select_fwd, _masked_select_bwd)
masked_scatter_op = defop("masked_scatter", _masked_scatter_fwd, _masked_scatter_bwd)


@declare(out=True)
def masked_select(input, mask, *, out=None):
    m = _bool_mask(mask, "masked_select")
    try:
        np.broadcast_shapes(input._data.shape, m.shape)
    except ValueError:
        from .registry import broadcast_error
        raise RuntimeError(broadcast_error([input, mask])) from None
    return apply(masked_select_op, (input,), {"mask": m})


@declare
def masked_scatter(input, mask, source):
    m = _bool_mask(mask, "masked_scatter_")
    if source.dtype is not input.dtype:
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but "
                           f"got {input.dtype._legacy} and {source.dtype._legacy}")
    shape = np.broadcast_shapes(input._data.shape, m.shape)
    if shape != input._data.shape:
        from .shape import expand
        input = expand(input, shape)
    return apply(masked_scatter_op, (input, source), {"mask": m})


# ---- take / take_along_dim ---------------------------------------------------------------------
def _take_bwd(ctx, g):
    shape = ctx._input_meta[0][0]
    flat = _make(array_module(g._data).zeros(int(np.prod(shape)), g._data.dtype))
    from .indexing import index_put_op
    out = apply(index_put_op, (flat, g.reshape(-1)),
                {"index": (ctx.index.reshape(-1),), "accumulate": True})
    return out.reshape(shape)


take_op = defop("take", lambda a, index: a.reshape(-1)[index], _take_bwd)


@declare
def take(input, index):
    idx = _index_array(index, "take")
    n = input._data.size
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = int(idx[(idx < -n) | (idx >= n)].reshape(-1)[0])
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} "
                         "elements.")
    return apply(take_op, (input,), {"index": np.where(idx < 0, idx + n, idx)})


@declare(out=True)
def take_along_dim(input, indices, dim=None, *, out=None):
    if dim is None:
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    dim = _wrap_dim(dim, input.ndim)
    if input.ndim != indices.ndim:
        raise RuntimeError("torch.take_along_dim(): input and indices should have the same "
                           f"number of dimensions, but got {input.ndim} dimensions for input, "
                           f"and {indices.ndim} dimensions for indices")
    from .join import broadcast_shapes
    from .shape import expand
    si, sx = list(input._data.shape), list(indices._data.shape)
    si[dim] = sx[dim] = 1
    common = list(broadcast_shapes(si, sx))
    shape_x = common.copy()
    shape_x[dim] = input._data.shape[dim]
    shape_i = common.copy()
    shape_i[dim] = indices._data.shape[dim]
    return gather(expand(input, shape_x), dim, expand(indices, shape_i))


# ---- in-place forms ------------------------------------------------------------------------------
@declare(function=False)
def index_fill_(self, dim, index, value):
    dim, idx, size = _dim_index(self, dim, index, "index_fill")
    _check_bounds(idx, size, dim, IndexError)
    return apply_inplace(index_fill_op, self, (), {"dim": dim, "index": idx.reshape(-1),
                                                   "value": _scalar_value(value, self)})


@declare(function=False)
def index_add_(self, dim, index, source, *, alpha=1):
    dim, idx, size = _dim_index(self, dim, index, "index_add")
    _check_source(self, dim, idx, source, "index_add_")
    _check_bounds(idx, size, dim)
    return apply_inplace(index_add_op, self, (source,),
                         {"dim": dim, "index": idx.reshape(-1), "alpha": alpha})


@declare(function=False)
def index_copy_(self, dim, index, source):
    dim, idx, size = _dim_index(self, dim, index, "index_copy")
    _check_source(self, dim, idx, source, "index_copy_")
    _check_bounds(idx, size, dim, IndexError)
    return apply_inplace(index_copy_op, self, (source,), {"dim": dim, "index": idx.reshape(-1)})


@declare(function=False)
def masked_fill_(self, mask, value):
    m = _bool_mask(mask, "masked_fill_")
    if isinstance(value, Tensor) and not value._requires_grad:
        value = value.item()
    return apply_inplace(masked_fill_op, self, (value,), {"mask": m})


@declare(function=False)
def masked_scatter_(self, mask, source):
    m = _bool_mask(mask, "masked_scatter_")
    return apply_inplace(masked_scatter_op, self, (source,), {"mask": m})


@declare(function=False)
def scatter_(self, dim, index, src=None, value=None, *, reduce=None):
    src = value if src is None else src
    dim, idx = _gather_args(self, dim, index, src if isinstance(src, Tensor) else None, "scatter")
    if reduce is not None:
        if not isinstance(src, Tensor):
            src = _make(array_module(self._data).full(idx.shape, src, self._data.dtype))
        return apply_inplace(scatter_reduce_op, self, (src,), {
            "dim": dim, "index": idx, "reduce": "sum" if reduce == "add" else "prod",
            "include_self": True})
    if isinstance(src, Tensor):
        return apply_inplace(scatter_op, self, (src,), {"dim": dim, "index": idx})
    return apply_inplace(scatter_value_op, self, (), {"dim": dim, "index": idx, "value": src})


@declare(function=False)
def scatter_add_(self, dim, index, src):
    dim, idx = _gather_args(self, dim, index, src, "scatter_add")
    return apply_inplace(scatter_add_op, self, (src,), {"dim": dim, "index": idx})


@declare(function=False)
def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
    _check_reduce(reduce)
    dim, idx = _gather_args(self, dim, index, src, "scatter_reduce")
    return apply_inplace(scatter_reduce_op, self, (src,), {
        "dim": dim, "index": idx, "reduce": reduce, "include_self": bool(include_self)})
