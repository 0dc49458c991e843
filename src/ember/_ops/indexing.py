"""Advanced indexing (integer and boolean tensors, lists) and ``__setitem__``."""
import numpy as np

from .._device import array_module, is_array, to_device_array
from .._tensor import Tensor, _make
from ._declare import declare
from .inplace import apply_inplace
from .registry import apply, defop, zeros_from_meta
from .shape import _is_advanced
from ._xp import ufunc_at


def _to_index(i, dev):
    if isinstance(i, Tensor):
        a = i._data
        if a.dtype.kind not in "iub":
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        # torch takes CPU index tensors for a CUDA tensor: copy them over
        return a if i.device == dev else to_device_array(a, dev)
    if isinstance(i, list):
        host = np.asarray([x.cpu()._data if isinstance(x, Tensor) else x for x in i])
        return to_device_array(host, dev)
    if isinstance(i, tuple):
        return tuple(_to_index(x, dev) for x in i)
    return i


def to_numpy_index(index, input):
    """Ember index -> array index on ``input``'s device (tensors become arrays)."""
    if not isinstance(index, tuple):
        index = (index,)
    dev = input.device
    return tuple(_to_index(i, dev) for i in index)


def _index_error(e):
    msg = str(e).replace("axis", "dimension")
    return IndexError(msg)


def _index_fwd(a, index):
    try:
        return a[index]
    except IndexError as e:
        raise _index_error(e) from None


def _index_bwd(ctx, g):
    z = zeros_from_meta(ctx._input_meta[0], g)
    return apply(index_put_op, (z, g), {"index": ctx.index, "accumulate": True})


def _index_put_fwd(a, v, index, accumulate):
    out = a.copy()
    try:
        if accumulate:
            ufunc_at("add", out, index, v)
        else:
            out[index] = v
    except IndexError as e:
        raise _index_error(e) from None
    except ValueError:
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(np.shape(v))} cannot be "
                           f"broadcast to indexing result of shape "
                           f"{list(a[index].shape)}") from None
    return out


def _index_put_bwd(ctx, g):
    index = ctx.index
    need = ctx.needs_input_grad
    g_self = g_val = None
    if need[0]:
        g_self = g if ctx.accumulate else apply(
            index_put_op, (g, _make(array_module(g._data).zeros((), g._data.dtype))),
            {"index": index, "accumulate": False})
    if need[1]:
        g_val = apply(index_op, (g,), {"index": index})
    return g_self, g_val


index_op = defop("index", _index_fwd, _index_bwd, node="IndexBackward0")
index_put_op = defop("index_put", _index_put_fwd, _index_put_bwd, node="IndexPutBackward0")


def _is_int(i):
    return isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_))


def _consumed(i, nd, n_real):
    """How many of the input's dims one index item consumes."""
    if i is None:
        return 0
    if i is Ellipsis:
        return nd - n_real
    if isinstance(i, Tensor) and i._data.dtype == np.bool_:
        return i._data.ndim
    if isinstance(i, (bool, np.bool_)):
        return 0
    return 1


def select_ints_first(input, index):
    """torch applies integer indices as select() before the advanced ones (NumPy does not:
    ``x[1, :, idx]`` puts idx's dims first there).  Returns (view, remaining index)."""
    if not any(_is_int(i) for i in index):
        return input, index
    from .shape import select
    nd = input.ndim
    n_real = sum(_consumed(i, nd, 0) for i in index if i is not Ellipsis)
    if n_real > nd:
        raise IndexError(f"too many indices for tensor of dimension {nd}")
    out = input
    rest = []
    dim = 0
    src_dim = 0
    for i in index:
        if _is_int(i):
            size = out._data.shape[dim]
            if i < -size or i >= size:
                raise IndexError(f"index {i} is out of bounds for dimension {src_dim} with size "
                                 f"{size}")
            out = select(out, dim, i)
            src_dim += 1
            continue
        rest.append(i)
        dim += _consumed(i, nd, n_real)
        src_dim += _consumed(i, nd, n_real)
    return out, tuple(rest)


def _broadcast_error(index):
    shapes = [list(np.shape(a)) for a in index
              if is_array(a) and a.dtype != np.bool_]
    return IndexError("shape mismatch: indexing tensors could not be broadcast together with "
                      "shapes " + ", ".join(f"[{', '.join(map(str, s))}]" for s in shapes))


def advanced_getitem(input, index):
    input, index = select_ints_first(input, index)
    idx = to_numpy_index(index, input)
    try:
        return apply(index_op, (input,), {"index": idx})
    except IndexError as e:
        if "could not be broadcast" in str(e):
            raise _broadcast_error(idx) from None
        raise


def setitem(self, index, value):
    """``self[index] = value``: an in-place index_put (gradients reach self and value)."""
    if not isinstance(index, tuple):
        index = (index,)
    if any(_is_advanced(i) for i in index):
        self, index = select_ints_first(self, index)
    idx = to_numpy_index(index, self)
    if not isinstance(value, Tensor):
        if isinstance(value, (list, tuple, np.ndarray)):
            from .._creation import tensor as _tensor
            value = _tensor(value, dtype=self.dtype, device=self.device)
        else:
            value = _make(array_module(self._data).asarray(value, dtype=self._data.dtype))
    elif value.dtype is not self.dtype:
        value = value.to(self.dtype)
    apply_inplace(index_put_op, self, (value,), {"index": idx, "accumulate": False})


@declare
def nonzero(input, *, as_tuple=False):
    xp = array_module(input._data)
    if input.ndim == 0:
        n = int(bool(input._data))
        return (_make(xp.zeros(n, dtype=np.int64)),) if as_tuple else \
            _make(xp.zeros((n, 0), dtype=np.int64))
    nz = xp.nonzero(input._data)
    if as_tuple:
        return tuple(_make(n.astype(np.int64)) for n in nz)
    return _make(xp.stack(nz, axis=1).astype(np.int64) if nz else xp.zeros((0, 0), np.int64))


@declare
def argwhere(input):
    return nonzero(input)


def _index_put_args(self, indices, values):
    if not isinstance(indices, (tuple, list)):
        raise TypeError("index_put(): argument 'indices' must be tuple of Tensors")
    idx = tuple(_to_index(i, self.device) for i in indices)
    if values.dtype is not self.dtype:
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{self.dtype._legacy} for the destination and {values.dtype._legacy} "
                           "for the source.")
    return idx


@declare
def index_put(input, indices, values, accumulate=False):
    idx = _index_put_args(input, indices, values)
    return apply(index_put_op, (input, values), {"index": idx, "accumulate": bool(accumulate)})


@declare(function=False)
def index_put_(self, indices, values, accumulate=False):
    idx = _index_put_args(self, indices, values)
    return apply_inplace(index_put_op, self, (values,),
                         {"index": idx, "accumulate": bool(accumulate)})


def _search(seq, values, right, sorter, out_int32):
    xp = array_module(seq)
    side = "right" if right else "left"
    dtype = np.int32 if out_int32 else np.int64
    if seq.ndim <= 1:
        s = seq if sorter is None else seq[sorter]
        return xp.asarray(xp.searchsorted(s, values, side=side)).astype(dtype)
    out = xp.empty(values.shape, dtype=dtype)
    rows = seq.reshape(-1, seq.shape[-1])
    srt = None if sorter is None else sorter.reshape(-1, seq.shape[-1])
    vals = values.reshape(-1, values.shape[-1])
    flat = out.reshape(-1, values.shape[-1])
    for i in range(rows.shape[0]):
        s = rows[i] if srt is None else rows[i][srt[i]]
        flat[i] = xp.searchsorted(s, vals[i], side=side)
    return out


@declare(method=False, out=True)
def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None,
                 sorter=None, out=None):
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but "
                               f"got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, "
                               "got side of left while right was True")
        right = side == "right"
    seq = sorted_sequence._data
    scalar = not isinstance(input, Tensor)
    values = array_module(seq).asarray(input, dtype=seq.dtype) if scalar else input._data
    if seq.ndim > 1 and (values.ndim != seq.ndim or values.shape[:-1] != seq.shape[:-1]):
        raise RuntimeError(
            "torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
            "dimensions of boundaries tensor and input value tensor must match, but we got "
            f"boundaries tensor {list(seq.shape)} and input value tensor "
            f"{list(values.shape)}")
    srt = None if sorter is None else sorter._data
    return _make(_search(seq, values, right, srt, out_int32))


@declare(method=False, out=True)
def bucketize(input, boundaries, *, out_int32=False, right=False, out=None):
    if boundaries.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim("
                           f"{boundaries.ndim})")
    values = input._data if isinstance(input, Tensor) else \
        array_module(boundaries._data).asarray(input)
    return _make(_search(boundaries._data, values, right, None, out_int32))


@declare(function=False, name="__setitem__")
def _setitem(self, index, value):
    setitem(self, index, value)
