"""linalg.solve_triangular, dist and ember.random against torch."""
import inspect
import warnings

import numpy as np
import pytest
import torch

import ember
from tests._compare import same_error

INF = float("inf")


def _pair(a, requires_grad=True):
    return (ember.tensor(a.copy(), requires_grad=requires_grad),
            torch.tensor(a.copy(), requires_grad=requires_grad))


def _close(e, t, **kw):
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), **kw)


# ---- linalg.solve_triangular -----------------------------------------------------------------
def _tri(rng, shape):
    a = rng.standard_normal(shape)
    n = shape[-1]
    a[..., np.arange(n), np.arange(n)] = rng.uniform(1, 2, shape[:-1]) * rng.choice([-1, 1],
                                                                                   shape[:-1])
    return a


@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("unitriangular", [True, False])
@pytest.mark.parametrize("shapes", [((3, 3), (3, 2)), ((2, 1, 4, 4), (3, 4, 4)),
                                    ((4, 4), (2, 4, 4)), ((1, 1), (1, 1))])
def test_solve_triangular_values_and_grads(upper, left, unitriangular, shapes):
    rng = np.random.default_rng(0)
    sa, sb = shapes
    if not left:
        sb = sb[:-2] + sb[-2:][::-1]
    (eA, tA), (eB, tB) = _pair(_tri(rng, sa)), _pair(rng.standard_normal(sb))
    kw = dict(upper=upper, left=left, unitriangular=unitriangular)
    eX, tX = ember.linalg.solve_triangular(eA, eB, **kw), torch.linalg.solve_triangular(tA, tB, **kw)
    assert tuple(eX.shape) == tuple(tX.shape)
    assert type(eX.grad_fn).__name__ == type(tX.grad_fn).__name__ == "LinalgSolveTriangularBackward0"
    _close(eX, tX, rtol=1e-10, atol=1e-12)
    g = rng.standard_normal(tuple(tX.shape))
    eX.backward(ember.tensor(g))
    tX.backward(torch.tensor(g))
    _close(eA.grad, tA.grad, rtol=1e-9, atol=1e-12)
    _close(eB.grad, tB.grad, rtol=1e-9, atol=1e-12)


def test_solve_triangular_second_derivative():
    rng = np.random.default_rng(1)
    (eA, tA), (eB, tB) = _pair(_tri(rng, (3, 3))), _pair(rng.standard_normal((3, 2)))
    outs = []
    for lib, A, B in ((ember, eA, eB), (torch, tA, tB)):
        X = lib.linalg.solve_triangular(A, B, upper=False)
        gA, = lib.autograd.grad((X ** 2).sum(), A, create_graph=True)
        outs.append(lib.autograd.grad((gA ** 2).sum(), (A, B)))
    for e, t in zip(*outs):
        _close(e, t, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("a_dtype,b_dtype", [("float32", "float64"), ("float64", "float32"),
                                             ("float32", "int64"), ("complex64", "float32"),
                                             ("complex128", "complex128")])
def test_solve_triangular_dtypes(a_dtype, b_dtype):
    rng = np.random.default_rng(2)
    a = _tri(rng, (3, 3)).astype(a_dtype)
    b = (rng.standard_normal((3, 2)) * 3).astype(b_dtype)
    e = ember.linalg.solve_triangular(ember.tensor(a), ember.tensor(b), upper=True)
    t = torch.linalg.solve_triangular(torch.tensor(a), torch.tensor(b), upper=True)
    assert str(e.dtype) == str(t.dtype)
    _close(e, t, rtol=1e-5, atol=1e-6)


def test_solve_triangular_singular_and_empty():
    a = np.zeros((2, 2))
    b = np.ones((2, 1))
    e = ember.linalg.solve_triangular(ember.tensor(a), ember.tensor(b), upper=True)
    t = torch.linalg.solve_triangular(torch.tensor(a), torch.tensor(b), upper=True)
    np.testing.assert_array_equal(np.isfinite(e.numpy()), np.isfinite(t.numpy()))
    e = ember.linalg.solve_triangular(ember.zeros(0, 0), ember.zeros(0, 2), upper=True)
    assert tuple(e.shape) == (0, 2)


@pytest.mark.parametrize("args,kw", [
    (((3,), (3, 2)), dict(upper=True)),
    (((3, 4), (3, 2)), dict(upper=True)),
    (((4, 3), (3, 2)), dict(upper=False)),
    (((3, 3), (3,)), dict(upper=True)),
    (((3, 3), (4, 2)), dict(upper=True)),
    (((3, 3), (2, 4)), dict(upper=True, left=False)),
    (((2, 3, 3), (3, 3, 2)), dict(upper=True)),
])
def test_solve_triangular_errors(args, kw):
    sa, sb = args
    same_error(lambda lib: lib.linalg.solve_triangular(lib.ones(*sa), lib.ones(*sb), **kw))


def test_solve_triangular_upper_is_required():
    # Python's own message for the missing keyword-only argument (torch's parser words it
    # differently); the class is the same.
    with pytest.raises(TypeError):
        torch.linalg.solve_triangular(torch.eye(2), torch.ones(2, 1))
    with pytest.raises(TypeError, match="upper"):
        ember.linalg.solve_triangular(ember.eye(2), ember.ones(2, 1))


@pytest.mark.parametrize("dtype", ["int32", "int64", "bool", "float16", "bfloat16"])
def test_solve_triangular_dtype_errors(dtype):
    same_error(lambda lib: lib.linalg.solve_triangular(
        lib.ones(3, 3, dtype=getattr(lib, dtype)), lib.ones(3, 2), upper=True))


def test_solve_triangular_out_and_signature():
    A, B = np.triu(np.ones((3, 3))) + np.eye(3), np.ones((3, 2))
    same_error(lambda lib: lib.linalg.solve_triangular(lib.tensor(A), lib.tensor(B), upper=True,
                                                       out=lib.empty(0)))
    e_out, t_out = ember.empty(0, dtype=ember.float64), torch.empty(0, dtype=torch.float64)
    e = ember.linalg.solve_triangular(ember.tensor(A), ember.tensor(B), upper=True, out=e_out)
    torch.linalg.solve_triangular(torch.tensor(A), torch.tensor(B), upper=True, out=t_out)
    assert e is e_out
    _close(e_out, t_out)
    same_error(lambda lib: lib.linalg.solve_triangular(
        lib.ones(3, 3, requires_grad=True), lib.ones(3, 2), upper=True, out=lib.empty(0)))
    params = inspect.signature(ember.linalg.solve_triangular).parameters
    assert list(params) == ["input", "B", "upper", "left", "unitriangular", "out"]
    X = ember.linalg.solve_triangular(input=ember.eye(2), B=ember.ones(2, 1), upper=True)
    assert tuple(X.shape) == (2, 1)
    assert params["upper"].kind is inspect.Parameter.KEYWORD_ONLY
    assert "solve_triangular" in ember.linalg.__all__


# ---- dist ------------------------------------------------------------------------------------
@pytest.mark.parametrize("p", [2, 1, INF, -INF, 0.5, 1.5, 3, 2.5, -1, -0.5, 0, True])
def test_dist_values_and_grads(p):
    rng = np.random.default_rng(3)
    a = rng.standard_normal((2, 3))
    b = rng.standard_normal(3)
    a[0, 1] = b[1]  # a zero difference: the gradients' special cases
    a[1, 2] = b[2] + 2 * abs(a[1] - b).max()  # a unique largest |difference| for inf
    (ea, ta), (eb, tb) = _pair(a), _pair(b)
    e, t = ember.dist(ea, eb, p), torch.dist(ta, tb, p)
    assert e.shape == () and str(e.dtype) == str(t.dtype)
    _close(e, t, rtol=1e-12)
    e.backward()
    if p == 0:
        # torch's DistBackward0 fails for p=0 (norm_backward returns no tensor for p=0);
        # Ember gives the gradient of a piecewise-constant function: zeros.
        with pytest.raises(RuntimeError, match="Expected a proper Tensor"):
            t.backward()
        assert not ea.grad.numpy().any() and not eb.grad.numpy().any()
        return
    t.backward()
    _close(ea.grad, ta.grad, rtol=1e-10, atol=1e-12)
    _close(eb.grad, tb.grad, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("p", [INF, -INF])
def test_dist_inf_ties_share_the_gradient(p):
    a = np.array([1.0, -3.0, 3.0]) if p == INF else np.array([1.0, -1.0, 3.0])
    (ea, ta), (eb, tb) = _pair(a), _pair(np.zeros(3))
    ember.dist(ea, eb, p).backward()
    torch.dist(ta, tb, p).backward()
    _close(ea.grad, ta.grad)
    _close(eb.grad, tb.grad)


def test_dist_method_dtypes_and_broadcast():
    x = np.arange(6.0).reshape(2, 3)
    for da, db in [("float32", "float64"), ("float32", "int64"), ("complex64", "float32"),
                   ("float16", "float16")]:
        e = ember.tensor(x.astype(da)).dist(ember.tensor(x[0].astype(db) + 1), p=3)
        t = torch.tensor(x.astype(da)).dist(torch.tensor(x[0].astype(db) + 1), p=3)
        assert str(e.dtype) == str(t.dtype)
        _close(e, t, rtol=1e-3)
    e = ember.dist(input=ember.ones(3), other=ember.zeros(2, 1, 3), p=1)
    assert e.item() == torch.dist(input=torch.ones(3), other=torch.zeros(2, 1, 3), p=1).item()
    assert ember.dist(ember.ones(3), ember.zeros(3), ember.tensor(1.0)).item() == 3.0
    assert ember.dist(ember.zeros(0), ember.zeros(0)).item() == 0.0
    params = inspect.signature(ember.dist).parameters
    assert list(params) == ["input", "other", "p"] and params["p"].default == 2


@pytest.mark.parametrize("make", [
    lambda lib: lib.dist(lib.ones(3), lib.ones(2)),
    lambda lib: lib.dist(lib.ones(3, dtype=lib.int32), lib.ones(3, dtype=lib.int32)),
    lambda lib: lib.dist(lib.ones(3), 2.0),
    lambda lib: lib.dist(lib.ones(3), lib.ones(3), "fro"),
    lambda lib: lib.dist(lib.ones(3), lib.ones(3), None),
    lambda lib: lib.dist(lib.ones(3), lib.ones(3), 1, 2),
    lambda lib: lib.dist(lib.zeros(0), lib.zeros(0), INF),
    lambda lib: lib.dist(lib.zeros(0), lib.zeros(0), -INF),
    lambda lib: lib.dist(lib.zeros(0), lib.zeros(0), -1.5),
])
def test_dist_errors(make):
    same_error(make)


# ---- ember.random ----------------------------------------------------------------------------
def test_random_module_names():
    import ember.random as er
    assert er.__all__ == torch.random.__all__
    assert ember.random is er and er.default_generator is ember.default_generator
    for name in torch.random.__all__:
        e, t = (inspect.signature(getattr(m, name)).parameters for m in (er, torch.random))
        assert [(k, v.default, v.kind) for k, v in e.items()] == \
            [(k, v.default, v.kind) for k, v in t.items()], name
    import random
    assert random.__file__ != er.__file__  # the stdlib's random is not shadowed
    import ember.utils.data._worker as worker
    assert worker.random is random


def test_random_seeding():
    for lib in (ember, torch):
        r = lib.random
        g = r.manual_seed(7)
        assert g is r.default_generator and type(g).__name__ == "Generator"
        assert r.initial_seed() == 7
        s = r.seed()
        assert type(s) is int and 0 <= s < 2 ** 64 and r.initial_seed() == s
        r.manual_seed(7)
        x = lib.rand(4)
        r.manual_seed(7)
        assert bool((x == lib.rand(4)).all())
        st = r.get_rng_state()
        assert str(st.dtype) == "torch.uint8" and st.ndim == 1
        y = lib.rand(3)
        r.set_rng_state(st)
        assert bool((y == lib.rand(3)).all())
    same_error(lambda lib: lib.random.set_rng_state(lib.zeros(3)))
    same_error(lambda lib: lib.random.manual_seed(2 ** 64))
    ember.random.manual_seed(0)


@pytest.mark.parametrize("exc", [False, True])
def test_fork_rng_restores_state(exc):
    for lib in (ember, torch):
        lib.random.manual_seed(3)
        before = lib.rand(2)
        lib.random.manual_seed(3)
        try:
            with lib.random.fork_rng(devices=[]):
                lib.rand(5)
                if exc:
                    raise KeyError("inside")
        except KeyError:
            pass
        assert bool((lib.rand(2) == before).all())
        lib.random.manual_seed(3)
        lib.rand(2)
        with lib.random.fork_rng(enabled=False):
            inner = lib.rand(2)
        lib.random.manual_seed(3)
        lib.rand(2)
        lib.rand(2)
        assert not bool((lib.rand(2) == inner).all())
        lib.random.manual_seed(3)
        with lib.random.fork_rng():  # no device: only the CPU state
            lib.random.manual_seed(99)
        assert bool((lib.rand(2) == before).all())
    ember.random.manual_seed(0)


@pytest.mark.parametrize("kw", [dict(device_type="xyz"), dict(device_type="xla"),
                                dict(devices=[0])])
def test_fork_rng_errors(kw):
    if kw.get("devices") and torch.cuda.is_available():
        pytest.skip("torch has CUDA here")

    def enter(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with lib.random.fork_rng(**kw):
                pass
    same_error(enter)


def test_fork_rng_meta_and_thread_safe_generator():
    with ember.random.fork_rng(device_type="meta"):
        pass
    assert ember.random.thread_safe_generator() is None is torch.random.thread_safe_generator()


_DECOMPOSITIONS = {
    "eigh": lambda L, a: L.linalg.eigh(a), "eigvalsh": lambda L, a: L.linalg.eigvalsh(a),
    "svd": lambda L, a: L.linalg.svd(a), "svdvals": lambda L, a: L.linalg.svdvals(a),
    "qr": lambda L, a: L.linalg.qr(a), "cholesky": lambda L, a: L.linalg.cholesky(a),
    "inv": lambda L, a: L.linalg.inv(a), "det": lambda L, a: L.linalg.det(a),
    "slogdet": lambda L, a: L.linalg.slogdet(a), "solve": lambda L, a: L.linalg.solve(a, a),
    "pinv": lambda L, a: L.linalg.pinv(a), "lstsq": lambda L, a: L.linalg.lstsq(a, a),
    "matrix_rank": lambda L, a: L.linalg.matrix_rank(a),
}


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("name", sorted(_DECOMPOSITIONS))
def test_decompositions_refuse_half_precision_like_torch(name, dtype):
    # torch has no float16/bfloat16 LAPACK kernels; Ember used to compute them in float64
    # and return float64, which broke code relying on torch's error (pytorch-optimizer's
    # SOAP falls back to float64 on it and casts back).
    fn = _DECOMPOSITIONS[name]
    same_error(lambda L: fn(L, (L.eye(3) * 2).to(getattr(L, dtype))))
