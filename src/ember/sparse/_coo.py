"""Sparse COO tensors: torch.sparse_coo's data structure and the ops optimizers use on it.

A ``SparseCOOTensor`` holds int64 ``indices`` (sparse_dim, nnz) and ``values``
(nnz, *dense_dims) as two dense Tensors, plus its size and whether its indices are
known to be sorted and unique (coalesced). ``_indices()``/``_values()`` return those
Tensors themselves, so writing into them writes into the sparse tensor, as torch's do.

It subclasses Tensor so that ``isinstance(g, Tensor)`` code (``p.grad = g``, the
optimizers) takes it, while the dense dispatch path stays untouched: an op reaching
the registry with a sparse operand reads ``_data``, which is the densified array, so
``dense.add_(sparse)``, ``dense + sparse`` and ``torch.mm(sparse, dense)`` give torch's
dense results. Ops whose result torch keeps sparse are methods here.
"""
import numpy as np

from .._device import array_module, device_of
from .._layout import sparse_coo
from .._ops.registry import apply, defop
from .._tensor import Tensor, _make, _tuple_new, Size, _parse_to
from .._ops._xp import ufunc_at

_new = object.__new__


def _scatter_add(out, idx, vals):
    ufunc_at("add", out, idx, vals)


def _linear(indices, size):
    """Row-major positions of the index columns (sparse dims of ``size``)."""
    xp = array_module(indices)
    lin = xp.zeros(indices.shape[1], dtype=np.int64)
    for d in range(indices.shape[0]):
        lin = lin * size[d] + indices[d]
    return lin


def _unravel(lin, sizes):
    xp = array_module(lin)
    out = []
    for s in reversed(sizes):
        out.append(lin % s if s else lin)
        lin = lin // s if s else lin
    return xp.stack(out[::-1]) if out else xp.zeros((0, lin.shape[0]), dtype=np.int64)


def make(indices, values, size, coalesced=False):
    """Wrap index and value Tensors (trusted) as a SparseCOOTensor."""
    t = _new(SparseCOOTensor)
    t._ind = indices
    t._val = values
    t._ssize = tuple(int(s) for s in size)
    t._coalesced = bool(coalesced)
    t._vc = [0]
    return t


def _from_arrays(ind, val, size, coalesced=False):
    return make(_make(ind), _make(val), size, coalesced)


def _unsupported(name, backend="SparseCPU"):
    def method(self, *args, **kwargs):
        raise NotImplementedError(
            f"Could not run 'aten::{name}' with arguments from the '{backend}' backend. This "
            "could be because the operator doesn't exist for this backend, or was omitted "
            "during the selective/custom build process (if using custom build).")
    method.__name__ = name
    return method


def _to_dense_fwd(values, indices, size):
    return make(indices, _make(values), size)._dense_array()


def _to_dense_bwd(ctx, g):
    ind = ctx.indices
    if ind.shape[0]:
        return g[tuple(ind)]
    return g.unsqueeze(0).expand((ind.shape[1],) + tuple(g.shape))


_to_dense_op = defop("sparse_to_dense", _to_dense_fwd, _to_dense_bwd,
                     node="ToDenseBackward0")


class SparseCOOTensor(Tensor):
    """A tensor with layout torch.sparse_coo (see the module docstring)."""

    is_sparse = True

    def __new__(cls, *args, **kwargs):
        raise TypeError("use ember.sparse_coo_tensor to build a sparse tensor")

    # ---- the dense view the registry sees ----------------------------------------
    @property
    def _data(self):
        return self._dense_array()

    def _dense_array(self):
        val = self._val._data
        xp = array_module(val)
        out = xp.zeros(self._ssize, dtype=val.dtype)
        ind = self._ind._data
        if ind.shape[1]:
            _scatter_add(out, tuple(ind), val)
        elif not ind.shape[0] and val.shape[0]:   # sparse_dim 0: values sum into the whole
            out += val.sum(0)
        return out

    # ---- metadata ---------------------------------------------------------------------
    @property
    def layout(self):
        return sparse_coo

    @property
    def shape(self):
        return _tuple_new(Size, self._ssize)

    def size(self, dim=None):
        if dim is None:
            return _tuple_new(Size, self._ssize)
        n = len(self._ssize)
        if not -max(n, 1) <= dim < max(n, 1):
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[{-max(n, 1)}, {max(n, 1) - 1}], but got {dim})")
        return self._ssize[dim % n]

    def dim(self):
        return len(self._ssize)

    ndimension = dim

    @property
    def ndim(self):
        return len(self._ssize)

    def numel(self):
        return Size(self._ssize).numel()

    nelement = numel

    @property
    def dtype(self):
        return self._val.dtype

    @property
    def device(self):
        return device_of(self._val._data)

    def get_device(self):
        d = self.device
        return -1 if d.type == "cpu" else d.index

    def element_size(self):
        return self._val.element_size()

    def sparse_dim(self):
        return self._ind._data.shape[0]

    def dense_dim(self):
        return self._val._data.ndim - 1

    def _nnz(self):
        return self._ind._data.shape[1]

    def is_coalesced(self):
        return self._coalesced

    def _coalesced_(self, coalesced):
        self._coalesced = bool(coalesced)
        return self

    def is_contiguous(self, memory_format=None):
        raise RuntimeError("is_contiguous is not implemented for tensors with layout "
                           "torch.sparse_coo")

    def stride(self, dim=None):
        raise RuntimeError("Sparse tensors do not have strides")

    def data_ptr(self):
        raise RuntimeError("Cannot access data pointer of Tensor that doesn't have storage")

    @property
    def requires_grad(self):
        return self._requires_grad or self._val._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad=True):
        if requires_grad and not self.dtype.is_floating_point and not self.dtype.is_complex:
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self._requires_grad = bool(requires_grad)
        return self

    # ---- parts --------------------------------------------------------------------------
    def _indices(self):
        return self._ind

    def _values(self):
        return self._val

    def indices(self):
        if not self._coalesced:
            raise RuntimeError("Cannot get indices on an uncoalesced tensor, please call "
                               ".coalesce() first")
        return self._ind.detach()

    def values(self):
        if not self._coalesced:
            raise RuntimeError("Cannot get values on an uncoalesced tensor, please call "
                               ".coalesce() first")
        return self._val.detach()

    def coalesce(self):
        if self._coalesced:
            return self
        ind, val = self._ind._data, self._val._data
        xp = array_module(ind)
        sparse_size = self._ssize[:ind.shape[0]]
        if not ind.shape[0]:   # sparse_dim 0: every value sits at the one position
            summed = val.sum(0, keepdims=True) if val.shape[0] else val
            return _from_arrays(ind[:, :min(1, ind.shape[1])], summed, self._ssize, True)
        uniq, inverse = xp.unique(_linear(ind, sparse_size), return_inverse=True)
        out = xp.zeros((uniq.shape[0],) + val.shape[1:], dtype=val.dtype)
        _scatter_add(out, inverse.reshape(-1), val)
        return _from_arrays(_unravel(uniq, sparse_size), out, self._ssize, True)

    # ---- conversions --------------------------------------------------------------------
    def to_dense(self, dtype=None, *, masked_grad=None):
        if self._val._requires_grad:   # differentiable in the values (ToDenseBackward)
            out = apply(_to_dense_op, (self._val,), {"indices": self._ind, "size": self._ssize})
        else:
            out = _make(self._dense_array())
        return out if dtype is None else out.to(dtype)

    def to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
        if layout not in (None, sparse_coo):
            raise NotImplementedError(f"to_sparse to layout {layout} is not supported in Ember")
        if sparse_dim is not None and sparse_dim != self.sparse_dim():
            raise RuntimeError("to_sparse: conversion from Sparse to Sparse with sparse_dim "
                               "argument !=self.sparse_dim() is not supported")
        return self

    def to_sparse_coo(self):
        return self

    def to(self, *args, **kwargs):
        dtype, dev, copy = _parse_to(self, args, kwargs)
        ind, val = self._ind, self._val
        if dev is not None and dev != self.device:
            ind, val = ind.to(dev), val.to(dev)
        if dtype is not None and dtype is not val.dtype:
            val = val.to(dtype)
        if val is self._val and ind is self._ind:
            return self.clone() if copy else self
        return make(ind, val, self._ssize, self._coalesced)

    def clone(self, *, memory_format=None):
        return make(self._ind.clone(), self._val.clone(), self._ssize, self._coalesced)

    def detach(self):
        return make(self._ind, self._val.detach(), self._ssize, self._coalesced)

    def detach_(self):
        self._grad_fn = None
        self._requires_grad = False
        return self

    def numpy(self, *, force=False):
        raise TypeError("can't convert sparse tensor to numpy. Use Tensor.to_dense() first.")

    def tolist(self):
        raise RuntimeError("tolist() is not supported for sparse tensors")

    def item(self):
        if self.numel() != 1:
            raise RuntimeError(f"a Tensor with {self.numel()} elements cannot be converted "
                               "to Scalar")
        return self.to_dense().item()

    # ---- in-place structure changes ---------------------------------------------------
    def _set(self, other):
        self._ind, self._val, self._ssize = other._ind, other._val, other._ssize
        self._coalesced = other._coalesced
        self._vc[0] += 1
        return self

    def zero_(self):
        xp = array_module(self._val._data)
        v = self._val._data
        return self._set(_from_arrays(xp.zeros((self.sparse_dim(), 0), dtype=np.int64),
                                      xp.zeros((0,) + v.shape[1:], dtype=v.dtype),
                                      self._ssize, True))

    def sparse_resize_(self, size, sparse_dim, dense_dim):
        size = tuple(int(s) for s in size)
        if sparse_dim + dense_dim != len(size):
            raise RuntimeError(f"number of dimensions must be sparse_dim ({sparse_dim}) + "
                               f"dense_dim ({dense_dim}), but got {len(size)}")
        if self._nnz():
            if sparse_dim != self.sparse_dim() or dense_dim != self.dense_dim():
                raise RuntimeError("changing the number of sparse or dense dimensions of a "
                                   "non-empty sparse tensor is not supported")
            if size[sparse_dim:] != self._ssize[sparse_dim:]:
                raise RuntimeError("shrinking the size of dense dimensions (from "
                                   f"{list(self._ssize[sparse_dim:])} to "
                                   f"{list(size[sparse_dim:])}) on a non-empty sparse "
                                   "tensor is not supported.")
            if any(n < o for n, o in zip(size[:sparse_dim], self._ssize)):
                raise RuntimeError("shrinking the size of sparse dimensions on a non-empty "
                                   "sparse tensor is not supported")
            self._ssize = size
            return self
        return self.sparse_resize_and_clear_(size, sparse_dim, dense_dim)

    def sparse_resize_and_clear_(self, size, sparse_dim, dense_dim):
        size = tuple(int(s) for s in size)
        xp = array_module(self._val._data)
        self._set(_from_arrays(xp.zeros((sparse_dim, 0), dtype=np.int64),
                               xp.zeros((0,) + size[sparse_dim:], dtype=self._val._data.dtype),
                               size, True))
        return self

    def resize_as_(self, other, *, memory_format=None):
        if not other.is_sparse:
            raise RuntimeError("resize_as_ of a sparse tensor needs a sparse tensor")
        return self.sparse_resize_(other.shape, other.sparse_dim(), other.dense_dim())

    def copy_(self, src, non_blocking=False):
        if not src.is_sparse:
            raise NotImplementedError("copy_ from a dense tensor into a sparse tensor is not "
                                      "supported")
        return self._set(make(src._ind.clone(), src._val.clone().to(self.dtype), src._ssize,
                              src._coalesced))

    def new(self, *args, **kwargs):
        """The legacy constructor: ``new()`` (empty) or ``new(indices, values, size)``."""
        from . import sparse_coo_tensor
        if not args:
            xp = array_module(self._val._data)
            return _from_arrays(xp.zeros((1, 0), dtype=np.int64),
                                xp.zeros((0,), dtype=self._val._data.dtype), (0,), True)
        return sparse_coo_tensor(*args, dtype=self.dtype, device=self.device, **kwargs)

    # ---- printing -------------------------------------------------------------------------
    def __repr__(self, *, tensor_contents=None):
        from ._print import sparse_repr
        return sparse_repr(self)

    __str__ = __repr__

    def __format__(self, spec):
        return repr(self) if not spec else format(self.to_dense(), spec)

    def __len__(self):
        if not self._ssize:
            raise TypeError("len() of a 0-d tensor")
        return self._ssize[0]

    def __bool__(self):
        return bool(self.to_dense())

    def __iter__(self):
        raise RuntimeError("iteration over a sparse tensor is not supported")

    def __deepcopy__(self, memo):
        if id(self) not in memo:
            memo[id(self)] = self.clone().requires_grad_(self._requires_grad)
        return memo[id(self)]

    def __reduce_ex__(self, protocol):
        return (_rebuild, (self._ind, self._val, self._ssize, self._coalesced))


def _rebuild(indices, values, size, coalesced):
    return make(indices, values, size, coalesced)


for _name in ("exp", "log", "cos", "sigmoid", "view", "reshape",
              "flatten", "expand", "__getitem__", "__setitem__", "contiguous", "max", "min",
              "mean", "std", "var", "softmax", "unsqueeze", "squeeze", "permute", "clamp",
              "clamp_", "exp_", "log_", "fill_", "addcmul_", "addcdiv_", "lerp_", "maximum",
              "minimum", "rsqrt", "rsqrt_", "reciprocal"):
    setattr(SparseCOOTensor, _name, _unsupported(_name.strip("_") or _name))
del _name
