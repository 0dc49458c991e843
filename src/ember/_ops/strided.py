"""``as_strided`` and its relatives: views of a tensor's storage given by sizes, strides
and a storage offset, as torch's.

Ember's storage is the base tensor's array (a view's ``_base``, or the tensor itself):
storage positions are element offsets from its lowest address.  The view is a real
NumPy/CuPy view of that memory; its gradient scatters into a storage-sized buffer at the
view's positions and gathers the input's own positions back (torch's AsStridedBackward0
reasons in storage terms the same way), so it is built from the internal
``as_strided``/``as_strided_scatter`` ops and is differentiable again.
"""
import numpy as np

from .._device import array_module, data_ptr
from .._tensor import _make
from ._declare import declare
from .inplace import (_address, apply_view, as_strided_op,
                      as_strided_scatter_op, check_inplace, copy_slices_op)
from .registry import _state, apply, defop


def _storage(t):
    """(array starting at the storage's first element, its length in items, ``t``'s offset)."""
    root = t._base if t._base is not None else t
    r = root._data
    item = r.itemsize
    if r.size == 0:
        return r.reshape(-1), 0, 0
    # The trailing Ellipsis keeps a 0-dim root an array view (r[()] would be a NumPy scalar).
    first = r[tuple(slice(0, 1) if s >= 0 else slice(n - 1, n)
                    for n, s in zip(r.shape, r.strides)) + (Ellipsis,)]
    span = 1 + sum((n - 1) * abs(s) // item for n, s in zip(r.shape, r.strides))
    start = data_ptr(first)
    flat = array_module(r).lib.stride_tricks.as_strided(first, (span,), (item,))
    offset = (data_ptr(t._data) - start) // item if t._data.size else 0
    return flat, span, offset


def _geometry(name, size, stride, storage_offset, first=2):
    """torch's argument checks (``first``: the position torch numbers ``size`` with);
    returns (size, stride, storage_offset) as ints."""
    for arg, pos, value in (("size", first, size), ("stride", first + 1, stride)):
        if not isinstance(value, (tuple, list)):
            raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be tuple of ints, "
                            f"not {type(value).__name__}")
    if storage_offset is not None and not hasattr(storage_offset, "__index__"):
        raise TypeError(f"{name}(): argument 'storage_offset' (position {first + 2}) must be "
                        f"int, not {type(storage_offset).__name__}")
    size = tuple(int(s) for s in size)
    stride = tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if any(s < 0 for s in size):
        raise RuntimeError(f"Storage size calculation overflowed with sizes={list(size)} and "
                           f"strides={list(stride)}")
    if any(s < 0 for s in stride):
        raise RuntimeError(f"as_strided: Negative strides are not supported at the moment, got "
                           f"strides: {list(stride)}")
    return size, stride, storage_offset


def _check_bounds(size, stride, offset, span, item):
    if offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {offset}")
    if 0 in size:
        return
    need = offset + 1 + sum((n - 1) * s for n, s in zip(size, stride))
    if need > span:
        raise RuntimeError(
            f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, "
            f"and itemsize {item} requiring a storage size of {need * item} are out of bounds "
            f"for storage of size {span * item}")


def _positions(size, stride, offset):
    pos = np.full(size, offset, dtype=np.int64)
    for d, (n, s) in enumerate(zip(size, stride)):
        shape = [1] * len(size)
        shape[d] = n
        pos = pos + (np.arange(n, dtype=np.int64) * s).reshape(shape)
    return pos


def _strided_fwd(a, size, stride, storage_offset, storage, pos=None, input_pos=None):
    item = storage.itemsize
    xp = array_module(storage)
    view = xp.lib.stride_tricks.as_strided(storage[storage_offset:], size,
                                           tuple(s * item for s in stride))
    if xp is np and any(s == 0 and n > 1 for n, s in zip(size, stride)):
        # Elements sharing memory: in-place writes get torch's internal-overlap error.
        view.flags.writeable = False
    return view


def _strided_bwd(ctx, g):
    n = ctx.storage.shape[0]
    z = _make(array_module(g._data).zeros((n,), dtype=g._data.dtype))
    flat = apply(as_strided_scatter_op, (z, g), {"pos": ctx.pos})
    return apply(as_strided_op, (flat,), {"pos": ctx.input_pos})


# A view of the storage: ``storage`` (the storage's array), ``pos``/``input_pos`` (storage
# positions of the view's and the input's elements) ride along as params for the backward.
strided_view_op = defop("strided_view", _strided_fwd, _strided_bwd, view=True,
                        node="AsStridedBackward0")


def _view_params(input, size, stride, storage_offset, first=2):
    size, stride, storage_offset = _geometry("as_strided", size, stride, storage_offset, first)
    storage, span, own = _storage(input)
    offset = own if storage_offset is None else int(storage_offset)
    _check_bounds(size, stride, offset, span, input._data.itemsize)
    params = {"size": size, "stride": stride, "storage_offset": offset, "storage": storage}
    if _state.enabled and input._requires_grad:
        params["pos"] = _positions(size, stride, offset)
        params["input_pos"] = _address(input._data) + own if input._data.size else \
            np.zeros(input._data.shape, dtype=np.int64)
    return params


def _as_strided_method(self, size, stride, storage_offset=None):
    return apply_view(strided_view_op, (self,),
                      _view_params(self, size, stride, storage_offset, first=1))


def _as_strided_(self, size, stride, storage_offset=None):
    """Restride ``self`` in place (torch's metadata change: no data is written)."""
    if self._requires_grad or "_inference" in self.__dict__:
        check_inplace(self, _state.enabled)
    out = apply_view(strided_view_op.variant("AsStridedBackward1"), (self,),
                     _view_params(self, size, stride, storage_offset, first=1))
    self._data = out._data
    if out._grad_fn is not None:
        self._grad_fn, self._output_nr = out._grad_fn, 0
    return self


@declare(method=_as_strided_method, inplace=_as_strided_)
def as_strided(input, size, stride, storage_offset=None):
    """A view of ``input``'s storage with the given sizes, strides and storage offset."""
    return apply_view(strided_view_op, (input,),
                      _view_params(input, size, stride, storage_offset))


@declare
def as_strided_scatter(input, src, size, stride, storage_offset=None):
    """``input`` (as a contiguous copy) with ``input.as_strided(...)``'s elements
    replaced by ``src``."""
    size, stride, storage_offset = _geometry("as_strided_scatter", size, stride, storage_offset)
    offset = 0 if storage_offset is None else int(storage_offset)
    _check_bounds(size, stride, offset, input.numel(), input._data.itemsize)
    if tuple(src.shape) != size:
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = "
                           f"{list(src.shape)}, slice size = {list(size)}")
    op = copy_slices_op.variant("AsStridedScatterBackward0")
    return apply(op, (input.contiguous(), src), {"pos": _positions(size, stride, offset)})
