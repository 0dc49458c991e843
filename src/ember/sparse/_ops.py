"""Arithmetic on sparse COO tensors with torch's result layouts.

Scalar products keep the index pattern (uncoalesced stays uncoalesced); zero-preserving
unary functions coalesce first, as torch's do; sparse + sparse concatenates (or merges
when both are coalesced); sparse * dense and sparse * sparse stay sparse.
"""
import numbers

import numpy as np

from .._device import array_module
from .._tensor import Tensor, _make
from ._coo import SparseCOOTensor, _from_arrays, _linear, _unsupported, make


def _is_scalar(x):
    return isinstance(x, numbers.Number) or (isinstance(x, Tensor) and not x.is_sparse
                                             and x.dim() == 0)


def _check_same_size(a, b, what):
    if tuple(a.shape) != tuple(b.shape):
        raise RuntimeError(f"{what} operands have incompatible sizes")


def _with_values(t, values, coalesced=None):
    return make(t._ind, values, t._ssize, t._coalesced if coalesced is None else coalesced)


# ---- add / sub ------------------------------------------------------------------------
def add(self, other, *, alpha=1):
    if not isinstance(other, SparseCOOTensor):
        raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) "
                           "instead.")
    if tuple(self.shape) != tuple(other.shape):
        raise RuntimeError(f"add: expected 'self' and 'other' to have same size, but self has "
                           f"size {list(self.shape)} while other has size "
                           f"{list(other.shape)} (FYI: dense-sparse addition does not "
                           "currently support broadcasting)")
    if not (self._val._data.flags.c_contiguous and other._val._data.flags.c_contiguous):
        # torch's kernel for strided values concatenates instead of merging
        from .._ops.join import cat
        vb = other._val if alpha == 1 else other._val * alpha
        return make(cat([self._ind, other._ind], 1), cat([self._val, vb], 0), self._ssize,
                    False)
    size = self._ssize[:self.sparse_dim()]
    la = _host_list(_linear(self._ind._data, size))
    lb = _host_list(_linear(other._ind._data, size))
    pick_a, pick_b = _merge(la, lb)
    ind_a, ind_b, val_a, val_b = (self._ind._data, other._ind._data, self._val._data,
                                  other._val._data)
    xp = array_module(val_a)
    pick_a, pick_b = xp.asarray(pick_a), xp.asarray(pick_b)
    has_a, has_b = pick_a >= 0, pick_b >= 0
    n = pick_a.shape[0]
    vb = val_b if alpha == 1 else val_b * alpha
    out_val = xp.zeros((n,) + val_a.shape[1:], dtype=np.result_type(val_a.dtype, vb.dtype))
    out_val[has_a] += val_a[pick_a[has_a]]
    out_val[has_b] += vb[pick_b[has_b]]
    out_ind = xp.where(has_a, ind_a[:, xp.maximum(pick_a, 0)] if ind_a.shape[1] else 0,
                       ind_b[:, xp.maximum(pick_b, 0)] if ind_b.shape[1] else 0)
    out_ind = out_ind.reshape(ind_a.shape[0], n).astype(np.int64)
    return _from_arrays(out_ind, out_val, self._ssize, self._coalesced and other._coalesced)


def _host_list(a):
    return (a.get() if hasattr(a, "get") else a).tolist()


def _merge(la, lb):
    """torch's CPU sparse add: one merge pass over both index lists as if sorted, summing
    entries whose positions meet (so uncoalesced operands keep torch's exact order)."""
    pick_a, pick_b = [], []
    i = j = 0
    na, nb = len(la), len(lb)
    while i < na and j < nb:
        if la[i] == lb[j]:
            pick_a.append(i)
            pick_b.append(j)
            i += 1
            j += 1
        elif la[i] < lb[j]:
            pick_a.append(i)
            pick_b.append(-1)
            i += 1
        else:
            pick_a.append(-1)
            pick_b.append(j)
            j += 1
    pick_a.extend(range(i, na))
    pick_b.extend([-1] * (na - i))
    pick_a.extend([-1] * (nb - j))
    pick_b.extend(range(j, nb))
    return np.array(pick_a, dtype=np.int64), np.array(pick_b, dtype=np.int64)


def sub(self, other, *, alpha=1):
    if not isinstance(other, SparseCOOTensor):
        raise RuntimeError("sub(sparse, dense) is not supported. Use sub(dense, sparse) "
                           "instead.")
    return add(self, other, alpha=-alpha)


def add_(self, other, *, alpha=1):
    return self._set(add(self, other, alpha=alpha))


def sub_(self, other, *, alpha=1):
    return self._set(sub(self, other, alpha=alpha))


# ---- mul / div ------------------------------------------------------------------------
def _mul_sparse(a, b):
    _check_same_size(a, b, "mul")
    a, b = a.coalesce(), b.coalesce()
    xp = array_module(a._ind._data)
    size = a._ssize[:a.sparse_dim()]
    la, lb = _linear(a._ind._data, size), _linear(b._ind._data, size)
    common, ia, ib = (np.intersect1d(la, lb, assume_unique=True, return_indices=True)
                      if xp is np else _intersect(xp, la, lb))
    ia, ib = _make(ia), _make(ib)
    return _from_arrays(a._ind._data[:, ia._data], (a._val[ia] * b._val[ib])._data,
                        a._ssize, True)


def _intersect(xp, la, lb):
    common = xp.intersect1d(la, lb)
    return common, xp.searchsorted(la, common), xp.searchsorted(lb, common)


def mul(self, other):
    if _is_scalar(other):
        return _with_values(self, self._val * other)
    if isinstance(other, SparseCOOTensor):
        return _mul_sparse(self, other)
    # sparse * dense: the dense factor is read at the sparse positions
    _check_same_size(self, other, "mul")
    picked = other[tuple(self._ind)] if self.sparse_dim() else other.unsqueeze(0)
    return _with_values(self, self._val * picked)


def div(self, other, *, rounding_mode=None):
    if not _is_scalar(other):
        raise RuntimeError("Sparse division requires a scalar or zero-dim dense tensor "
                           "divisor (got shape " + str(list(other.shape)) + " for divisor)")
    from .._ops.pointwise import div as _div
    return _with_values(self, _div(self._val, other, rounding_mode=rounding_mode))


def mul_(self, other):
    return self._set(mul(self, other))


def div_(self, other, *, rounding_mode=None):
    return self._set(div(self, other, rounding_mode=rounding_mode))


def pow(self, exponent):
    if not _is_scalar(exponent):
        raise NotImplementedError("pow on a sparse tensor needs a scalar exponent")
    if exponent == 0:
        raise RuntimeError("pow: cannot raise a sparse tensor to the 0 power")
    c = self.coalesce()
    return _with_values(c, c._val ** exponent, True)


def neg(self):
    return _with_values(self, -self._val)


def _zero_preserving(name):
    def method(self, *args, **kwargs):
        c = self.coalesce()
        return _with_values(c, getattr(c._val, name)(*args, **kwargs), True)

    def method_(self, *args, **kwargs):
        c = self.coalesce()
        getattr(c._val, name + "_")(*args, **kwargs)
        return self._set(c)
    method.__name__, method_.__name__ = name, name + "_"
    return method, method_


ZERO_PRESERVING = ("abs", "sqrt", "sin", "tan", "tanh", "asin", "atan", "sinh", "asinh",
                   "atanh", "sign", "sgn", "ceil", "floor", "round", "trunc", "frac", "expm1",
                   "log1p", "relu", "erf", "square", "deg2rad", "rad2deg", "nan_to_num",
                   "isnan", "isinf", "signbit", "angle", "conj_physical")


# ---- reductions and products ----------------------------------------------------------
def sparse_sum(input, dim=None, dtype=None):
    """torch.sparse.sum: a dense 0-dim result over all dims; over some dims, sparse when
    sparse dims remain (torch's rule)."""
    if dim is None:
        out = input._val.sum()
        return out if dtype is None else out.to(dtype)
    dims = sorted({d % input.dim() for d in ((dim,) if isinstance(dim, int) else dim)})
    sd = input.sparse_dim()
    sparse_red = [d for d in dims if d < sd]
    dense_red = [d - sd + 1 for d in dims if d >= sd]
    val = input._val.sum(dense_red) if dense_red else input._val
    if dtype is not None:
        val = val.to(dtype)
    keep = [d for d in range(sd) if d not in sparse_red]
    size = tuple(s for d, s in enumerate(input._ssize) if d not in dims)
    if not keep:
        return val.sum(0)
    ind = input._ind._data[keep]
    return make(_make(ind), val, size, False).coalesce()


def sum(self, dim=None, keepdim=False, *, dtype=None):
    if dim is None:
        return sparse_sum(self, None, dtype)
    return sparse_sum(self, dim, dtype)


def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
    if dim is not None:
        raise NotImplementedError("norm over dims of a sparse tensor is not supported")
    return self.coalesce()._val.norm(2 if p == "fro" else p)


def mm(sparse, dense):
    """sparse (n, m) @ dense (m, p) -> dense (n, p), without densifying the sparse factor."""
    if sparse.sparse_dim() != 2 or sparse.dense_dim():
        raise RuntimeError(f"addmm: matrices expected, got {sparse.dim()}D tensor")
    if isinstance(dense, SparseCOOTensor):
        return _mul_free_mm(sparse, dense)
    if sparse._ssize[1] != dense.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({sparse._ssize[0]}x"
                           f"{sparse._ssize[1]} and {dense.shape[0]}x{dense.shape[1]})")
    rows, cols = sparse._ind
    contrib = dense[cols] * sparse._val.unsqueeze(1)
    from .._creation import zeros
    out = zeros((sparse._ssize[0], dense.shape[1]), dtype=contrib.dtype, device=dense.device)
    return out.index_add(0, rows, contrib)


def _mul_free_mm(a, b):
    return mm(a, b.to_dense()).to_sparse()


def install():
    cls = SparseCOOTensor
    for name, fn in (("add", add), ("sub", sub), ("add_", add_), ("sub_", sub_),
                     ("mul", mul), ("div", div), ("mul_", mul_), ("div_", div_),
                     ("true_divide", div), ("multiply", mul), ("divide", div),
                     ("pow", pow), ("neg", neg), ("negative", neg), ("sum", sum),
                     ("norm", norm), ("mm", mm), ("matmul", mm)):
        setattr(cls, name, fn)
    for name in ZERO_PRESERVING:
        fwd, inplace = _zero_preserving(name)
        setattr(cls, name, fwd)
        setattr(cls, name + "_", inplace)
    cls.pow_ = lambda self, e: self._set(pow(self, e))
    cls.__add__ = lambda self, other: add(self, other)
    cls.__radd__ = _radd
    cls.__sub__ = lambda self, other: sub(self, other)
    cls.__rsub__ = _rsub
    cls.__mul__ = cls.__rmul__ = mul
    cls.__truediv__ = div
    cls.__pow__ = pow
    cls.__neg__ = neg
    cls.__matmul__ = mm
    cls.__iadd__ = add_
    cls.__isub__ = sub_
    cls.__imul__ = mul_
    cls.__itruediv__ = div_
    cls.__rtruediv__ = _unsupported("div")


def _radd(self, other):
    # Python asks the subclass first, so dense + sparse lands here: dense, as torch's
    from .._ops.pointwise import add as _add
    return _add(other, self)


def _rsub(self, other):
    from .._ops.pointwise import sub as _sub
    return _sub(other, self)
