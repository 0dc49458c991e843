"""Sparse COO tensors compared with torch: construction, printing, coalescing, arithmetic,
errors, sparse gradients (nn.Embedding(sparse=True)) and the optimizers' sparse paths."""
import warnings

import numpy as np
import pytest
import torch

import ember

LIBS = (torch, ember)


def _outcome(fn, lib):
    try:
        out = fn(lib)
    except Exception as e:  # the error itself is compared
        return ("error", type(e).__name__, str(e).split("\n")[0][:200])
    return ("ok", _text(out))


def _text(x):
    if isinstance(x, (tuple, list)):
        return [_text(v) for v in x]
    if isinstance(x, (torch.Tensor, ember.Tensor)):
        return repr(x)
    return repr(x).replace("torch.", "").replace("ember.", "") if not isinstance(
        x, (bool, int, float, str)) else x


def same(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t, e = _outcome(fn, torch), _outcome(fn, ember)
    assert e == t
    return t


def _uncoalesced(lib, dtype=None):
    return lib.sparse_coo_tensor([[0, 2, 0, 1]], [1.0, 2.0, 3.0, -4.0], (4,),
                                 dtype=dtype or lib.float32)


def _matrix(lib):
    return lib.sparse_coo_tensor([[1, 0, 1, 2], [2, 0, 2, 1]], [1.0, 2.0, 3.0, 4.0], (3, 3))


def _dense(lib):
    return lib.tensor([[0.0, 1.5, 0.0], [0.0, 0.0, 0.0], [-2.0, 0.0, 3.25]])


CASES = {
    "repr": lambda L: _uncoalesced(L),
    "repr_2d": _matrix,
    "repr_hybrid": lambda L: L.sparse_coo_tensor([[0, 1], [1, 0]], [[1.0, 2.0], [3.0, 4.0]]),
    "repr_empty": lambda L: L.sparse_coo_tensor(L.zeros(2, 0, dtype=L.long), L.zeros(0),
                                                (2, 3)),
    "repr_dtype_grad": lambda L: L.sparse_coo_tensor([[0, 1]], [1, 2], dtype=L.float64,
                                                     requires_grad=True),
    "repr_int": lambda L: L.sparse_coo_tensor([[0, 3]], [1, 2]),
    "repr_0d": lambda L: L.tensor(3.0).to_sparse(),
    "meta": lambda L: (_uncoalesced(L).is_sparse, _uncoalesced(L).layout,
                       _uncoalesced(L).is_coalesced(), _uncoalesced(L)._nnz(),
                       _uncoalesced(L).sparse_dim(), _uncoalesced(L).dense_dim(),
                       _uncoalesced(L).shape, _uncoalesced(L).size(0), _uncoalesced(L).dtype,
                       _uncoalesced(L).dim(), L.ones(2).layout, L.ones(2).is_sparse),
    "inferred_size": lambda L: L.sparse_coo_tensor([[0, 4], [2, 1]], [1.0, 2.0]).shape,
    "coalesce": lambda L: _uncoalesced(L).coalesce(),
    "coalesce_2d": lambda L: (_matrix(L).coalesce(), _matrix(L).coalesce().is_coalesced()),
    "indices_values": lambda L: (_matrix(L).coalesce().indices(),
                                 _matrix(L).coalesce().values()),
    "indices_uncoalesced": lambda L: _uncoalesced(L).indices(),
    "values_uncoalesced": lambda L: _uncoalesced(L).values(),
    "raw_parts": lambda L: (_uncoalesced(L)._indices(), _uncoalesced(L)._values()),
    "to_dense": lambda L: (_uncoalesced(L).to_dense(), _matrix(L).to_dense()),
    "to_sparse": lambda L: (_dense(L).to_sparse(), _dense(L).to_sparse(1),
                            _dense(L).to_sparse().is_coalesced(), _dense(L).to_sparse_coo()),
    "to_sparse_bad_dim": lambda L: _dense(L).to_sparse().to_sparse(1),
    "dense_to_dense": lambda L: _dense(L).to_dense(),
    "nnz_mismatch": lambda L: L.sparse_coo_tensor([[0, 1]], [1.0, 2.0, 3.0], (3,)),
    "bad_indices_dim": lambda L: L.sparse_coo_tensor([0, 1], [1.0, 2.0]),
    "bad_size_len": lambda L: L.sparse_coo_tensor([[0, 1]], [1.0, 2.0], (3, 2)),
    "invariants": lambda L: L.sparse_coo_tensor([[0, 5]], [1.0, 2.0], (3,),
                                                check_invariants=True),
    "scalar_mul_div": lambda L: (_uncoalesced(L) * 2, 3 * _uncoalesced(L),
                                 _uncoalesced(L) / 2, -_uncoalesced(L)),
    "pow_sqrt_abs": lambda L: (_uncoalesced(L).pow(2), _uncoalesced(L).abs().sqrt(),
                               _uncoalesced(L).abs().sqrt().is_coalesced()),
    "add_same": lambda L: (lambda t: (t + t, t - t))(_uncoalesced(L)),
    "add_merge": lambda L: L.sparse_coo_tensor([[3, 1, 3]], L.ones(3, 2), (5, 2))
    + L.sparse_coo_tensor([[0, 4]], 2 * L.ones(2, 2), (5, 2)),
    "add_coalesced": lambda L: (lambda c: (c.add(c, alpha=2), (c + c).is_coalesced()))(
        _matrix(L).coalesce()),
    "add_alpha_inplace": lambda L: (lambda t: t.add_(_uncoalesced(L).coalesce(), alpha=-1))(
        _uncoalesced(L)),
    "add_sparse_dense": lambda L: _uncoalesced(L) + L.ones(4),
    "dense_add_sparse": lambda L: (L.ones(4) + _uncoalesced(L),
                                   L.ones(4).add_(_uncoalesced(L), alpha=2),
                                   L.ones(4) - _uncoalesced(L)),
    "mul_dense": lambda L: (_uncoalesced(L) * L.arange(4.0), L.arange(4.0) * _uncoalesced(L)),
    "mul_sparse": lambda L: (lambda c: c * c)(_matrix(L).coalesce()),
    "div_dense": lambda L: _uncoalesced(L) / L.ones(4),
    "sum": lambda L: (_uncoalesced(L).sum(), L.sparse.sum(_matrix(L)),
                      L.sparse.sum(_matrix(L), 0), L.sparse.sum(_matrix(L), 1),
                      L.sparse.sum(_matrix(L), (0, 1))),
    "mm": lambda L: (L.sparse.mm(_matrix(L), L.arange(6.0).reshape(3, 2)),
                     L.mm(_matrix(L), L.arange(6.0).reshape(3, 2)),
                     _matrix(L) @ L.arange(6.0).reshape(3, 2)),
    "sparse_mask": lambda L: (lambda m: (m, m.is_coalesced()))(
        L.arange(6.0).reshape(3, 2).sparse_mask(
            L.sparse_coo_tensor([[2, 0, 2]], L.ones(3, 2), (3, 2)))),
    "sparse_mask_size": lambda L: L.ones(3).sparse_mask(L.ones(2).to_sparse()),
    "zero_clone": lambda L: (lambda t: (t.zero_(), _uncoalesced(L).clone()))(_uncoalesced(L)),
    "to_dtype": lambda L: (_uncoalesced(L).double(), _uncoalesced(L).to(L.float64).dtype),
    "legacy_new": lambda L: (lambda t: (t.new(t._indices(), t._values(), t.size()),
                                        t.new().resize_as_(t)))(_uncoalesced(L)),
    "sparse_resize": lambda L: _uncoalesced(L).sparse_resize_((6,), 1, 0),
    "unsupported": lambda L: _uncoalesced(L).exp(),
    "dense_sparse_api": lambda L: (L.ones(2, 3).sparse_dim(), L.ones(2, 3).dense_dim()),
    **{f"dense_{n}": (lambda n: lambda L: getattr(L.ones(2), n)())(n)
       for n in ("is_coalesced", "coalesce", "indices", "values", "_nnz", "_indices",
                 "_values")},
    "embedding_float_indices": lambda L: L.nn.Embedding(3, 2, sparse=True)(L.tensor([1.0])),
    "size_only": lambda L: (L.sparse_coo_tensor((2, 3)), L.sparse_coo_tensor([2, 3]).sparse_dim()),
    "nnz_zero_sum": lambda L: L.sparse_coo_tensor(L.zeros(1, 0, dtype=L.long), L.zeros(0),
                                                  (3,)).sum(),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_against_torch(name):
    same(CASES[name])


def test_values_alias_the_sparse_tensor():
    # Optimizers write through _values() (madgrad: p_masked._values().add_(...)).
    s = ember.sparse_coo_tensor([[0, 2]], [1.0, 2.0], (3,))
    s._values().add_(ember.tensor([10.0, 20.0]))
    assert s.to_dense().tolist() == [11.0, 0.0, 22.0]


def test_large_random_coalesce_matches_torch():
    rng = np.random.default_rng(0)
    ind = rng.integers(0, 7, (2, 60))
    val = rng.standard_normal((60, 3)).astype(np.float32)
    t = torch.sparse_coo_tensor(torch.tensor(ind), torch.tensor(val), (7, 7, 3)).coalesce()
    e = ember.sparse_coo_tensor(ember.tensor(ind), ember.tensor(val), (7, 7, 3)).coalesce()
    assert e._indices().tolist() == t._indices().tolist()
    np.testing.assert_allclose(e._values().numpy(), t._values().numpy(), rtol=1e-6)


def _embedding_run(lib, padding_idx=None):
    lib.manual_seed(0)
    emb = lib.nn.Embedding(5, 2, sparse=True, padding_idx=padding_idx)
    (emb(lib.tensor([[3, 1, 3]])) * 2).sum().backward()
    first = repr(emb.weight.grad)
    emb(lib.tensor([0, 4])).sum().backward()   # accumulates: sparse + sparse
    return first, repr(emb.weight.grad), emb.weight.grad.is_coalesced()


@pytest.mark.parametrize("padding_idx", [None, 1])
def test_embedding_sparse_grad(padding_idx):
    same(lambda L: _embedding_run(L, padding_idx))


OPTIMIZERS = [("SparseAdam", {"lr": 0.1}), ("SparseAdam", {"lr": 0.1, "maximize": True}),
              ("SGD", {"lr": 0.1}), ("SGD", {"lr": 0.1, "momentum": 0.9}),
              ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
              ("SGD", {"lr": 0.1, "momentum": 0.5, "dampening": 0.1, "maximize": True}),
              ("SGD", {"lr": 0.1, "weight_decay": 0.1}),
              ("Adagrad", {"lr": 0.1}), ("Adagrad", {"lr": 0.1, "lr_decay": 0.01}),
              ("Adagrad", {"lr": 0.1, "weight_decay": 0.1}),
              ("Adam", {}), ("AdamW", {}), ("NAdam", {}), ("RAdam", {}), ("RMSprop", {}),
              ("Adamax", {}), ("Adadelta", {})]


def _trajectory(lib, name, kw):
    lib.manual_seed(1)
    emb = lib.nn.Embedding(6, 3, sparse=True)
    opt = getattr(lib.optim, name)(emb.parameters(), **kw)
    out = []
    for i in range(4):
        opt.zero_grad()
        (emb(lib.tensor([[i, 2, i + 1, 2]])) ** 2).sum().backward()
        opt.step()
        out.append(emb.weight.detach().numpy().copy())
    return out


@pytest.mark.parametrize("name,kw", OPTIMIZERS, ids=[f"{n}-{kw}" for n, kw in OPTIMIZERS])
def test_optimizer_sparse_trajectory(name, kw):
    results = []
    for lib in LIBS:
        try:
            results.append(("ok", _trajectory(lib, name, kw)))
        except Exception as e:  # torch's error is the expected outcome for some
            results.append(("error", type(e).__name__, str(e)))
    (t, e) = results
    assert t[0] == e[0]
    if t[0] == "ok":
        for a, b in zip(t[1], e[1]):
            np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
    else:
        assert e == t


def test_sparse_adam_errors():
    def dense_grad(L):
        p = L.nn.Parameter(L.ones(2))
        p.grad = L.ones(2)
        L.optim.SparseAdam([p]).step()

    same(dense_grad)
    same(lambda L: L.optim.SparseAdam([L.nn.Parameter(L.ones(2, dtype=L.complex64))]))
    same(lambda L: L.optim.SparseAdam([L.nn.Parameter(L.ones(2))], lr=0.0))


def test_zero_grad_keeps_sparse_grad():
    def run(L):
        p = L.nn.Parameter(L.ones(3))
        p.grad = L.tensor([0.0, 2.0, 0.0]).to_sparse()
        opt = L.optim.SGD([p], lr=1.0, momentum=0.9)
        opt.step()
        opt.zero_grad(set_to_none=False)
        return p.grad, p, opt.state[p]["momentum_buffer"]

    same(run)


def test_to_dense_and_mm_differentiate_into_values():
    def run(L):
        v = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
        s = L.sparse_coo_tensor([[0, 2, 0]], v, (4,))
        d = s.to_dense()
        (d * L.arange(4.0)).sum().backward()
        v2 = L.ones(2, requires_grad=True)
        w = L.arange(6.0).reshape(3, 2).requires_grad_()
        L.sparse.mm(L.sparse_coo_tensor([[0, 1], [1, 2]], v2, (2, 3)), w).sum().backward()
        return s.requires_grad, d.detach(), v.grad, v2.grad, w.grad

    same(run)


def test_deepcopy_and_pickle():
    import copy
    import pickle
    s = ember.sparse_coo_tensor([[0, 2, 0]], [1.0, 2.0, 3.0], (4,))
    for c in (copy.deepcopy(s), pickle.loads(pickle.dumps(s))):
        assert repr(c) == repr(s)
        assert c._values() is not s._values()


def _errors_and_edges(L):
    t = _uncoalesced(L)
    c = t.coalesce()
    cases = [lambda: t.pow(0), lambda: t.pow(L.ones(4)), lambda: t / L.ones(4),
             lambda: t * L.ones(2), lambda: L.ones(4) / t, lambda: t.sum(0),
             lambda: t.sub(L.ones(4)), lambda: t + L.sparse_coo_tensor([[0]], [1.0], (5,)),
             lambda: t.mul(t), lambda: t * c, lambda: c * t, lambda: t.norm(),
             lambda: t.clone().pow_(2), lambda: t.clone().sqrt_(), lambda: c.clone().abs_()]
    out = []
    for f in cases:
        try:
            out.append(repr(f()))
        except Exception as e:  # the error is the compared outcome
            out.append((type(e).__name__, str(e).split("\n")[0][:150]))
    return out


def test_errors_and_edge_cases():
    same(_errors_and_edges)


def test_sparse_adam_step_runs_the_optimizer_step_hooks_as_torch():
    seen = {}
    for lib in (ember, torch):
        emb = lib.nn.Embedding(5, 3, sparse=True)
        opt = lib.optim.SparseAdam(emb.parameters(), lr=0.1)
        calls = seen[lib.__name__] = []
        opt.register_step_pre_hook(lambda o, a, k, calls=calls: calls.append("pre"))
        opt.register_step_post_hook(lambda o, a, k, calls=calls: calls.append("post"))
        emb(lib.tensor([1, 2])).sum().backward()
        assert float(opt.step(lambda lib=lib: lib.tensor(1.0))) == 1.0
    assert seen["ember"] == seen["torch"] == ["pre", "post"]
