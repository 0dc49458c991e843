"""Op-table entries: advanced indexing, gathers/scatters (scatter.py), masked ops."""
import numpy as np
import torch

import ember

from .harness import OpInfo, Sample, arr


def S(*args, **kwargs):
    return Sample(args, kwargs)


def I(*values):  # noqa: E743 (reads as an index literal in the samples)
    return np.array(values, dtype=np.int64)


def B(*values):
    return np.array(values, dtype=bool)


def _setitem(lib):
    def fn(x, v):
        a = x * 1
        a[1:, lib.tensor([0, 2])] = v
        return a
    return fn


def _setitem_mixed(lib):
    def fn(x, v):
        a = x * 1
        a[1, :, lib.tensor([0, 4])] = v
        return a
    return fn


def _index_put_(lib):
    def fn(x, v):
        a = x * 1
        a.index_put_((lib.tensor([0, 1, 0]),), v, accumulate=True)
        return a
    return fn


def _scatter_inplace(lib):
    def fn(x, s):
        a = x * 1
        a.scatter_(1, lib.tensor([[1, 0], [2, 0]]), s)
        a.scatter_add_(0, lib.tensor([[1, 0, 1]]), s[:1].repeat(1, 2)[:, :3])
        return a
    return fn


ENTRIES = [
    OpInfo("index", lambda x, *i: x[i], lambda x, *i: x[i], lambda rng: [
        S(arr(rng, (4, 3)), I(0, -1, 2)),
        S(arr(rng, (4, 3)), slice(None), I(2, 0)),
        S(arr(rng, (3, 4, 2)), I(0, 2), slice(1, None), I(1, 0)),
        S(arr(rng, (3, 4, 2)), Ellipsis, I(1, 0), None),
        S(arr(rng, (3, 4)), B(True, False, True)),
        S(arr(rng, (2, 3)), B(True, False, True, True, False, False).reshape(2, 3))],
           covers=("index", "index_put")),
    OpInfo("index_list", lambda x: x[[0, 2], 1:], lambda x: x[[0, 2], 1:],
           lambda rng: [S(arr(rng, (3, 4)))], covers=("index",)),
    # torch applies integers as select() first: the advanced dims stay in place here.
    OpInfo("index_int_then_advanced", lambda x, i: x[1, :, i], lambda x, i: x[1, :, i],
           lambda rng: [S(arr(rng, (3, 4, 5)), I(0, 4)), S(arr(rng, (3, 4, 5)), [3, -1])],
           covers=("index", "select")),
    OpInfo("setitem_int_then_advanced", _setitem_mixed(ember), _setitem_mixed(torch),
           lambda rng: [S(arr(rng, (3, 4, 5)), arr(rng, (4, 2)))],
           covers=("index_put", "select", "copy_slices", "as_strided")),
    OpInfo("index_put", ember.index_put, torch.index_put, lambda rng: [
        S(arr(rng, (4, 2)), (I(0, 2),), arr(rng, (2, 2))),
        S(arr(rng, (4, 2)), (I(1, 1, 3), I(0, 0, 1)), arr(rng, (3,)), True),
        S(arr(rng, (4, 2)), (I(1, 3),), arr(rng, (2,)))]),
    OpInfo("setitem", _setitem(ember), _setitem(torch), lambda rng: [
        S(arr(rng, (3, 4)), arr(rng, (2, 2))), S(arr(rng, (3, 4)), arr(rng, (2,)))],
           covers=("index_put",)),
    OpInfo("index_put_", _index_put_(ember), _index_put_(torch), lambda rng: [
        S(arr(rng, (3, 2)), arr(rng, (3, 2)))], covers=("index_put",)),
    OpInfo("index_select", ember.index_select, torch.index_select, lambda rng: [
        S(arr(rng, (4, 3)), 0, I(3, 0, 0)), S(arr(rng, (4, 3)), -1, I(2)),
        S(arr(rng, ()), 0, I(0))], covers=("index_select", "index_add")),
    OpInfo("index_add", ember.index_add, torch.index_add, lambda rng: [
        S(arr(rng, (4, 3)), 0, I(3, 0, 3), arr(rng, (3, 3))),
        S(arr(rng, (4, 3)), 1, I(1), arr(rng, (4, 1)), alpha=2.5)],
           covers=("index_add", "index_select")),
    OpInfo("index_copy", ember.index_copy, torch.index_copy, lambda rng: [
        S(arr(rng, (4, 3)), 0, I(3, 0), arr(rng, (2, 3)))],
           covers=("index_copy", "index_fill", "index_select")),
    OpInfo("index_fill", ember.index_fill, torch.index_fill, lambda rng: [
        S(arr(rng, (4, 3)), 1, I(0, 2), -1.5), S(arr(rng, (3,)), 0, I(1), 2)]),
    OpInfo("index_fill_tensor", ember.index_fill, torch.index_fill, lambda rng: [
        S(arr(rng, (4, 3)), 1, I(0, 2), arr(rng, ())), S(arr(rng, (3,)), 0, I(1, 2), arr(rng, ()))],
           covers=("index_fill_tensor", "index_fill", "index_select")),
    OpInfo("gather", ember.gather, torch.gather, lambda rng: [
        S(arr(rng, (3, 4)), 1, I(0, 3, 3, 1, 2, 0).reshape(3, 2)),
        S(arr(rng, (3, 4)), 0, I(2, 0, 1, 1).reshape(2, 2)),
        S(arr(rng, (2, 3, 2)), -1, I(1, 0, 1).reshape(1, 3, 1))],
           covers=("gather", "scatter_add")),
    OpInfo("scatter", ember.scatter, torch.scatter, lambda rng: [
        S(arr(rng, (3, 4)), 1, I(0, 3, 2, 1).reshape(2, 2), arr(rng, (2, 2))),
        S(arr(rng, (3, 4)), 0, I(2, 0, 1).reshape(1, 3), arr(rng, (1, 3)))],
           covers=("scatter", "scatter_value", "gather")),
    OpInfo("scatter_value", ember.scatter, torch.scatter, lambda rng: [
        S(arr(rng, (3, 4)), 1, I(0, 3, 2, 1).reshape(2, 2), value=2.0)]),
    OpInfo("scatter_add", ember.scatter_add, torch.scatter_add, lambda rng: [
        S(arr(rng, (3, 4)), 1, I(0, 0, 2, 0).reshape(2, 2), arr(rng, (2, 2))),
        S(arr(rng, (3,)), 0, I(2, 2, 0, 2), arr(rng, (4,)))], covers=("scatter_add", "gather")),
    OpInfo("scatter_reduce", ember.scatter_reduce, torch.scatter_reduce, lambda rng: [
        S(arr(rng, (3,)), 0, I(0, 0, 2, 0), arr(rng, (4,)), reduce)
        for reduce in ("sum", "mean", "amax", "amin", "prod")] + [
        S(arr(rng, (2, 3)), 1, I(0, 0, 2, 1, 1, 1).reshape(2, 3), arr(rng, (2, 3)), reduce,
          include_self=False) for reduce in ("sum", "mean", "amax", "prod")],
           covers=("scatter_reduce", "scatter_value", "gather", "scatter_add"), fd=False),
    # Zeros in a product group: first derivatives only (the exact zero-aware formula).
    OpInfo("scatter_reduce_prod_zeros", ember.scatter_reduce, torch.scatter_reduce,
           lambda rng: [S(np.array([1.5, 0.0, 2.0], dtype=np.float32), 0, I(0, 1, 1, 2),
                          np.array([0.0, 3.0, 0.0, 2.0], dtype=np.float32), "prod")],
           covers=("scatter_reduce",), fd=False, gradgrad=False),
    OpInfo("scatter_inplace", _scatter_inplace(ember), _scatter_inplace(torch), lambda rng: [
        S(arr(rng, (2, 3)), arr(rng, (2, 2)))],
           covers=("scatter", "scatter_add", "repeat", "slice")),
    OpInfo("masked_fill", ember.masked_fill, torch.masked_fill, lambda rng: [
        S(arr(rng, (2, 3)), B(True, False, True), 0.5),
        S(arr(rng, (2, 3)), B(False, True, True, False, False, True).reshape(2, 3),
          arr(rng, ()))]),
    OpInfo("masked_select", ember.masked_select, torch.masked_select, lambda rng: [
        S(arr(rng, (2, 3)), B(True, False, True)),
        S(arr(rng, (3,)), B(True, False, True, False, False, True).reshape(2, 3))],
           covers=("masked_select", "masked_scatter")),
    OpInfo("masked_scatter", ember.masked_scatter, torch.masked_scatter, lambda rng: [
        S(arr(rng, (2, 3)), B(True, False, True), arr(rng, (5,))),
        S(arr(rng, (2, 2)), B(True, False, True, True).reshape(2, 2), arr(rng, (2, 2)))],
           covers=("masked_scatter", "masked_fill", "masked_select", "cat", "expand")),
    OpInfo("take", ember.take, torch.take, lambda rng: [
        S(arr(rng, (3, 4)), I(0, 11, -1, 5, 5)), S(arr(rng, (2, 2)), I(3, 0).reshape(2, 1))],
           covers=("take", "index_put")),
    OpInfo("take_along_dim", ember.take_along_dim, torch.take_along_dim, lambda rng: [
        S(arr(rng, (3, 4)), I(0, 2, 2, 1).reshape(1, 4), 0),
        S(arr(rng, (3, 4)), I(2, 5, 0)), S(arr(rng, (3, 1)), I(0, 0, 0).reshape(1, 3), 1)],
           covers=("gather", "expand", "view")),
]


def raised(lib):
    """Run an expression with ``lib`` as torch or ember; the error's class and first line."""
    def f(expr):
        scope = {"lib": lib, "f": lib.tensor([1.0, 2.0]), "i": lib.tensor([1, 2]),
                 "b": lib.tensor([True, False]), "m": lib.ones(2, 3), "e": lib.ones(0),
                 "s": lib.ones(3, 3)}
        try:
            eval(expr, scope)
        except Exception as err:  # noqa: BLE001 - the error itself is the result compared
            return type(err).__name__, str(err).splitlines()[0]
        return "no error"
    return f


ERROR_CASES = [
 "lib.cat([m, f])", "lib.cat([m, lib.ones(3, 3)])", "lib.cat([])", "lib.cat([lib.tensor(1.)])", "lib.stack([m, f])",
 "lib.split(m, [1, 1])", "lib.split(m, 0)", "m.chunk(0)", "lib.unbind(lib.tensor(1.))", "lib.tensor_split(m, 0)",
 "m.gather(1, lib.tensor([[3]]))", "m.gather(1, lib.tensor([[-1]]))", "m.gather(1, lib.tensor([0]))", "m.gather(1, f.view(1, 2))",
 "m.index_select(0, lib.tensor([2]))", "m.index_select(0, lib.tensor([[0]]))", "m.index_select(0, f)",
 "m.scatter(1, lib.tensor([[3]]), 1.0)", "m.scatter_add(1, lib.tensor([[0]]), i.view(1, 2))",
 "m.scatter_reduce(0, lib.tensor([[0]]), m, 'foo')", "m.index_add(0, lib.tensor([2]), lib.ones(1, 3))",
 "m.index_copy(0, lib.tensor([0]), lib.ones(2, 3))", "m.index_fill(1, lib.tensor([3]), 1.)",
 "m.masked_fill(m, 1.)", "m.masked_fill(m > 0, f)", "m.masked_select(lib.ones(3, dtype=lib.bool))",
 "m.take(lib.tensor([6]))", "m.take(lib.tensor([-7]))",
 "m[lib.tensor([2])]", "m[[0, 5]]", "m[0, 3]", "m[0, 0, 0]", "m[lib.tensor([0, 1, 1]), lib.tensor([0, 1])]",
 "m[f]", "lib.broadcast_tensors(m, lib.ones(2))", "lib.broadcast_shapes((2, 3), (4,))",
 "lib.movedim(m, (0, 1), 0)", "m.flip(0, 0)", "m.repeat(2)", "lib.tril(f)", "f.unfold(0, 3, 1)", "f.unfold(0, 1, 0)",
 "m.diagonal(0, 0, 0)", "lib.roll(m, (1, 2))", "lib.rot90(m, 1, (0, 0))", "lib.fliplr(f)",
 "lib.linalg.inv(lib.zeros(2, 2))", "lib.linalg.inv(m)", "lib.linalg.inv(i)", "lib.linalg.cholesky(-s)",
 "lib.linalg.det(f)", "lib.linalg.solve(s, lib.ones(2))", "lib.einsum('ij,jk', m, m)", "lib.einsum('ij', f)",
 "lib.einsum('ij,ij', m)", "lib.outer(m, f)", "lib.trace(f)", "lib.linalg.cross(m, m)", "lib.tensordot(m, m, 1)",
 "lib.kron(m, 1)", "lib.repeat_interleave(m, lib.tensor([1, 2]), 0)",
 "lib.searchsorted(m, lib.ones(3, 3))", "lib.bucketize(f, m)", "m.unflatten(1, (2, 2))",
 "lib.take_along_dim(m, lib.tensor([[0]]), 2)", "m.diag_embed(0, 0, 0)", "lib.diag(lib.ones(2, 2, 2))",
 "lib.addmm(f, m, m)", "lib.linalg.matrix_power(m, 2)", "lib.linalg.matrix_norm(f)", "lib.linalg.norm(lib.ones(2, 2, 2), 2)",
 "lib.linalg.qr(m, mode='x')", "lib.linalg.eigh(s, UPLO='X')",
]

ENTRIES += [
    OpInfo("errors_shape_indexing_linalg", raised(ember), raised(torch),
           lambda rng: [Sample((expr,), grad=False, name=expr) for expr in ERROR_CASES],
           grad=False, covers=("index",)),
]


def _search(lib):
    """Index-producing ops; the indices then select from the input (an index op)."""
    def fn(s, v):
        pos = lib.searchsorted(s, v)
        out = (pos, lib.searchsorted(s, v, right=True), lib.searchsorted(s, v, side="right"),
               lib.bucketize(v, s), lib.bucketize(v, s, right=True, out_int32=True),
               lib.searchsorted(s, 0.5), lib.nonzero(v > 0), lib.nonzero(v > 0, as_tuple=True),
               lib.argwhere(v > 0))
        return out + (s[pos.clamp(max=s.shape[-1] - 1)],)
    return fn


def _search_2d(lib):
    def fn(s, v):
        return lib.searchsorted(s, v), lib.searchsorted(s, v, side="right")
    return fn


ENTRIES += [
    OpInfo("searchsorted", _search(ember), _search(torch), lambda rng: [
        S(np.array([-1.0, 0.0, 0.5, 2.0], dtype=np.float32),
          np.array([0.5, -3.0, 2.0, 0.1, 9.0], dtype=np.float32))],
           grad=False, covers=("index",)),
    OpInfo("searchsorted_rows", _search_2d(ember), _search_2d(torch), lambda rng: [
        S(np.array([[1, 3, 5, 7], [2, 4, 6, 8]]), np.array([[3, 6], [8, 0]]))],
           grad=False, covers=()),
]
