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


def _check_same_size(a, b):
    sa, sb = tuple(a.shape), tuple(b.shape)
    if sa != sb:
        for d in range(1, min(len(sa), len(sb)) + 1):
            if sa[-d] != sb[-d]:
                raise RuntimeError(f"The size of tensor a ({sb[-d]}) must match the size of "
                                   f"tensor b ({sa[-d]}) at non-singleton dimension "
                                   f"{max(len(sa), len(sb)) - d}")
        raise RuntimeError(f"mul: sizes {list(sa)} and {list(sb)} do not match")


def _with_values(t, values, coalesced=None):
    return make(t._ind, values, t._ssize, t._coalesced if coalesced is None else coalesced)


# ---- add / sub ------------------------------------------------------------------------
def add(self, other, *, alpha=1):
    if not isinstance(other, SparseCOOTensor):
        raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) "
                           "instead.")
    if tuple(self.shape) != tuple(other.shape):
        raise RuntimeError("add: expected sizes of 'self' and 'other' to match, but "
                           f"{list(self.shape)} != {list(other.shape)}")
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
    return add(self, other, alpha=-alpha)   # torch's errors name add too


def add_(self, other, *, alpha=1):
    return self._set(add(self, other, alpha=alpha))


def sub_(self, other, *, alpha=1):
    return self._set(sub(self, other, alpha=alpha))


# ---- mul / div ------------------------------------------------------------------------
def _mul_sparse(a, b):
    """torch's intersection kernel: the entries of the uncoalesced operand (the source) are
    kept in their order, each times the other (coalesced) operand's value at its index;
    entries with no partner drop out."""
    _check_same_size(a, b)
    source, other = (b, a) if a._coalesced else (a, b.coalesce())
    xp = array_module(source._ind._data)
    size = a._ssize[:a.sparse_dim()]
    lin_s, lin_o = _linear(source._ind._data, size), _linear(other._ind._data, size)
    if not lin_o.shape[0]:
        pos = match = xp.zeros(lin_s.shape, dtype=bool)
    else:
        pos = xp.minimum(xp.searchsorted(lin_o, lin_s), lin_o.shape[0] - 1)
        match = lin_o[pos] == lin_s
    keep, partner = _make(xp.nonzero(match)[0]), _make(pos[match].astype(np.int64))
    values = source._val[keep] * other._val[partner]
    return make(_make(source._ind._data[:, keep._data]), values, a._ssize, source._coalesced)


def mul(self, other):
    if _is_scalar(other):
        return _with_values(self, self._val * other)
    if isinstance(other, SparseCOOTensor):
        return _mul_sparse(self, other)
    # sparse * dense: the dense factor is read at the sparse positions
    _check_same_size(self, other)
    picked = other[tuple(self._ind)] if self.sparse_dim() else other.unsqueeze(0)
    return _with_values(self, self._val * picked)


def _division_error(divisor):
    return RuntimeError("Sparse division requires a scalar or zero-dim dense tensor divisor "
                        f"(got shape {list(divisor.shape)} for divisor)")


def div(self, other, *, rounding_mode=None):
    if not _is_scalar(other):
        raise _division_error(other)
    from .._ops.pointwise import div as _div
    return _with_values(self, _div(self._val, other, rounding_mode=rounding_mode))


def mul_(self, other):
    return self._set(mul(self, other))


def div_(self, other, *, rounding_mode=None):
    return self._set(div(self, other, rounding_mode=rounding_mode))


def pow(self, exponent):
    if not _is_scalar(exponent):
        _unsupported("pow.Tensor_Tensor")(self)
    if exponent == 0:
        raise RuntimeError("pow: cannot raise to zeroth power on sparse tensor; it would make "
                           "the result tensor dense")
    c = self.coalesce()
    return _with_values(c, c._val ** exponent, True)


def neg(self):
    return _with_values(self, -self._val)


def _zero_preserving(name):
    def method(self, *args, **kwargs):
        c = self.coalesce()
        return _with_values(c, getattr(c._val, name)(*args, **kwargs), True)

    def method_(self, *args, **kwargs):
        if not self._coalesced:
            raise RuntimeError(f"{name}_ requires coalesced input")
        getattr(self._val, name + "_")(*args, **kwargs)
        self._vc[0] += 1
        return self
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
    cls.pow_ = _unsupported("pow_.Scalar")
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
    cls.__rtruediv__ = _rdiv


def _radd(self, other):
    # Python asks the subclass first, so dense + sparse lands here: dense, as torch's
    from .._ops.pointwise import add as _add
    return _add(other, self)


def _rdiv(self, other):
    raise _division_error(self)


def _rsub(self, other):
    from .._ops.pointwise import sub as _sub
    return _sub(other, self)
