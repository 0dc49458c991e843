"""torch.sparse's COO layout: ``ember.sparse_coo_tensor``, ``Tensor.to_sparse`` and
``torch.sparse.sum``/``mm``; the data structure is in ``_coo.py``."""
import warnings

import numpy as np

from .._device import array_module
from .._layout import sparse_coo
from .._tensor import Tensor, _make
from . import _embedding  # noqa: F401 (registers the embedding_sparse op)
from ._coo import SparseCOOTensor, _from_arrays, _unsupported, make
from ._ops import install as _install_ops
from ._ops import mm, sparse_sum as sum  # noqa: A004 (torch.sparse.sum)

__all__ = ["SparseCOOTensor", "sparse_coo_tensor", "sum", "mm", "addmm",
           "check_sparse_tensor_invariants"]

_INVARIANT_WARNING = (
    "Sparse invariant checks are implicitly disabled. Memory errors (e.g. SEGFAULT) will occur "
    "when operating on a sparse tensor which violates the invariants, but checks incur "
    "performance overhead. To silence this warning, explicitly opt in or out. See "
    "`torch.sparse.check_sparse_tensor_invariants.__doc__` for guidance.")


class check_sparse_tensor_invariants:
    """Context manager / switch for validating indices against the size on construction."""

    _enabled = None   # None: not chosen (torch warns once), False/True: chosen

    @staticmethod
    def is_enabled():
        return bool(check_sparse_tensor_invariants._enabled)

    @staticmethod
    def enable():
        check_sparse_tensor_invariants._enabled = True

    @staticmethod
    def disable():
        check_sparse_tensor_invariants._enabled = False

    def __init__(self, enable=True):
        self.state = enable
        self.saved = None

    def __enter__(self):
        self.saved = check_sparse_tensor_invariants._enabled
        check_sparse_tensor_invariants._enabled = self.state
        return self

    def __exit__(self, *exc):
        check_sparse_tensor_invariants._enabled = self.saved


_warned = []


def _as_tensor(x, dtype=None, device=None):
    from .._creation import tensor
    if isinstance(x, Tensor):   # values stay attached: to_dense() differentiates into them
        return x if dtype is None and device is None else x.to(device=device, dtype=dtype)
    return tensor(x, dtype=dtype, device=device)


def sparse_coo_tensor(indices, values=None, size=None, *, dtype=None, device=None, pin_memory=False,
                      requires_grad=False, check_invariants=None, is_coalesced=None):
    """torch.sparse_coo_tensor: indices (sparse_dim, nnz), values (nnz, *dense dims)."""
    from .. import int64
    if values is None:   # sparse_coo_tensor(size): an empty tensor of that size
        return _empty(tuple(indices), dtype, device, requires_grad)
    values = _as_tensor(values, dtype, device)
    indices = _as_tensor(indices, None, values.device).detach()
    if indices.dtype is not int64:
        indices = indices.to(int64)
    if indices.dim() != 2:
        raise RuntimeError(f"indices must be sparse_dim x nnz, but got: {list(indices.shape)}")
    sparse_dim, nnz = indices.shape
    if values.dim() == 0:
        raise RuntimeError("values must be a tensor with at least one dimension (nnz)")
    if values.shape[0] != nnz:
        raise RuntimeError("indices and values must have same nnz, but got nnz from indices: "
                           f"{nnz}, nnz from values: {values.shape[0]}")
    dense = tuple(values.shape[1:])
    ind = indices._data
    if size is None:
        sizes = tuple(int(m) + 1 for m in ind.max(1)) if nnz else (0,) * sparse_dim
        size = sizes + dense
    else:
        size = tuple(int(s) for s in size)
        if len(size) != sparse_dim + len(dense):
            raise RuntimeError("'len(size) == sparse_dim + dense_dim' is not satisfied: "
                               f"len(size) = {len(size)}, sparse_dim = {sparse_dim}, "
                               f"dense_dim = {len(dense)}")
    check = check_sparse_tensor_invariants._enabled if check_invariants is None \
        else check_invariants
    if check is None and not _warned:
        _warned.append(True)
        warnings.warn(_INVARIANT_WARNING, UserWarning, stacklevel=2)
    if check:
        _check_invariants(ind, values, size, sparse_dim)
    out = make(indices, values, size, bool(is_coalesced))
    if requires_grad:
        out.requires_grad_(True)
    return out


def _empty(size, dtype, device, requires_grad):
    from .. import int64
    from .._creation import zeros
    values = zeros((0,), dtype=dtype, device=device)
    out = make(zeros((len(size), 0), dtype=int64, device=device), values, size, True)
    return out.requires_grad_(True) if requires_grad else out


def _check_invariants(ind, values, size, sparse_dim):
    if tuple(values.shape[1:]) != size[sparse_dim:]:
        raise RuntimeError(f"values has incorrect size, expected {[ind.shape[1]] + list(size[sparse_dim:])}"
                           f", got {list(values.shape)}")
    for d in range(sparse_dim):
        if not ind.shape[1]:
            break
        lo, hi = int(ind[d].min()), int(ind[d].max())
        if lo < 0:
            raise RuntimeError(f"found negative index {lo} for dim {d}")
        if hi >= size[d]:
            raise RuntimeError(f"size is inconsistent with indices: for dim {d}, size is "
                               f"{size[d]} but found index {hi}")


def addmm(mat, mat1, mat2, *, beta=1.0, alpha=1.0):
    """torch.sparse.addmm: beta * mat + alpha * (mat1 @ mat2) with a sparse mat1."""
    return mat * beta + mm(mat1, mat2) * alpha


# ---- dense-side methods ---------------------------------------------------------------
def _dense_to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
    if layout not in (None, sparse_coo):
        raise NotImplementedError(f"to_sparse to layout {layout} is not supported in Ember")
    a = self._data
    nd = a.ndim
    if sparse_dim is None:
        sparse_dim = nd - (dense_dim or 0)
    if not 0 <= sparse_dim <= nd:
        raise RuntimeError(f"sparse_dim argument must be in [0,{nd}] range, but {sparse_dim} "
                           "is given")
    xp = array_module(a)
    if sparse_dim == 0:
        return _from_arrays(xp.zeros((0, 1), dtype=np.int64), a[None].copy(), a.shape, True)
    nz = a != 0
    if sparse_dim < nd:
        nz = nz.any(axis=tuple(range(sparse_dim, nd)))
    ind = xp.stack(xp.nonzero(nz)).astype(np.int64).reshape(sparse_dim, -1)
    return _from_arrays(ind, a[tuple(ind)].copy(), a.shape, True)


def _to_dense(self, dtype=None, *, masked_grad=None):
    return self if dtype is None else self.to(dtype)


def _sparse_mask(self, mask):
    if not mask.is_sparse:
        raise RuntimeError("sparse_mask expects mask to be sparse")
    if tuple(self.shape) != tuple(mask.shape):
        raise RuntimeError("sparse_mask(): operands have incompatible sizes; self has size "
                           f"{list(self.shape)} but mask has size {list(mask.shape)}")
    ind = mask._ind
    picked = self[tuple(ind)] if mask.sparse_dim() else self.unsqueeze(0).expand(
        (mask._nnz(),) + tuple(self.shape))
    return make(ind, picked, mask._ssize, mask._coalesced)


def _not_sparse(name, kind="sparse coordinate tensor"):
    def method(self, *args, **kwargs):
        raise RuntimeError(f"{name} expected {kind} layout but got Strided")
    method.__name__ = name
    return method


def _install():
    _install_ops()
    Tensor.to_sparse = _dense_to_sparse
    Tensor.to_sparse_coo = lambda self: _dense_to_sparse(self)
    Tensor.to_dense = _to_dense
    Tensor.sparse_mask = _sparse_mask
    Tensor.sparse_dim = lambda self: 0
    Tensor.dense_dim = lambda self: self.dim()
    for name in ("is_coalesced", "coalesce", "indices"):
        setattr(Tensor, name, _not_sparse(name))
    Tensor.values = _not_sparse("values", "sparse tensor")
    for name in ("_nnz", "_indices", "_values"):
        setattr(Tensor, name, _unsupported(name, "CPU"))


_install()
