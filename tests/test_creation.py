"""Tensor factories compared with torch 2.13: dtype inference, sizes, errors, values."""
import warnings

import numpy as np
import pytest
import torch

import ember
from _compare import same, same_error


@pytest.fixture
def default_float64():
    ember.set_default_dtype(ember.float64)
    torch.set_default_dtype(torch.float64)
    yield
    ember.set_default_dtype(ember.float32)
    torch.set_default_dtype(torch.float32)


# ---- tensor(): dtype inference -----------------------------------------------------------
TENSOR_DATA = [
    lambda m: m.tensor([]),
    lambda m: m.tensor([[]]),
    lambda m: m.tensor([[], []]),
    lambda m: m.tensor(3),
    lambda m: m.tensor(3.5),
    lambda m: m.tensor(True),
    lambda m: m.tensor(1 + 2j),
    lambda m: m.tensor([True, False]),
    lambda m: m.tensor([True, 2]),
    lambda m: m.tensor([1, 2.0]),
    lambda m: m.tensor([1, 2j]),
    lambda m: m.tensor([1, 1j, True]),
    lambda m: m.tensor([[1, 2], [3, 4]]),
    lambda m: m.tensor(((1, 2), [3, 4])),
    lambda m: m.tensor(range(4)),
    lambda m: m.tensor([[[1.5]], [[2.5]]]),
    lambda m: m.tensor(np.float32(2)),
    lambda m: m.tensor(np.float64(2)),
    lambda m: m.tensor(np.int32(2)),
    lambda m: m.tensor(np.bool_(True)),
    lambda m: m.tensor([np.float64(2), 1]),
    lambda m: m.tensor([np.float16(1), 2.0]),
    lambda m: m.tensor([np.float32(1), 2]),
    lambda m: m.tensor([np.int32(1), 2]),
    lambda m: m.tensor([np.int32(1), np.int16(2)]),
    lambda m: m.tensor(np.array([1, 2], dtype=np.int32)),
    lambda m: m.tensor(np.array([1, 2], dtype=np.uint8)),
    lambda m: m.tensor(np.array([[1.5, 2]], dtype=np.float64)),
    lambda m: m.tensor(np.array(2.0)),
    lambda m: m.tensor(np.array([], dtype=np.float16)),
    lambda m: m.tensor([np.array([1, 2], dtype=np.int32), np.array([3, 4], dtype=np.int32)]),
    lambda m: m.tensor([np.array([1, 2], dtype=np.int32), [1, 2]]),
    lambda m: m.tensor([m.tensor(1.), m.tensor(2.)]),
    lambda m: m.tensor([m.tensor([1.]), m.tensor([3.])]),
    lambda m: m.tensor([m.tensor(1, dtype=m.int32), 2]),
    lambda m: m.tensor([m.tensor(1, dtype=m.int32), m.tensor(1, dtype=m.int32)]),
    lambda m: m.tensor([m.tensor(1., dtype=m.float64), 2]),
    lambda m: m.tensor(-2 ** 63),
    lambda m: m.tensor(2 ** 63, dtype=m.float32),
    lambda m: m.tensor(1e400),
    lambda m: m.tensor([1, 2], dtype=m.float16),
    lambda m: m.tensor([1, 2], dtype=m.bfloat16),
    lambda m: m.tensor([1.5, -2.7], dtype=m.int32),
    lambda m: m.tensor([0, 1, 2], dtype=m.bool),
    lambda m: m.tensor([1, 2], dtype=m.complex128),
    lambda m: m.tensor([1., 2], requires_grad=True),
    lambda m: m.tensor([1 + 1j], requires_grad=True),
]


@pytest.mark.parametrize("expr", TENSOR_DATA)
def test_tensor_inference(expr):
    same(expr)


def test_tensor_inference_default_float64(default_float64):
    for expr in (lambda m: m.tensor([1.5]), lambda m: m.tensor(2j), lambda m: m.tensor([]),
                 lambda m: m.tensor([1, 2]), lambda m: m.tensor([np.float32(1), 2.0])):
        same(expr)


TENSOR_ERRORS = [
    (lambda m: m.tensor([[1, 2], [3]]), ValueError),
    (lambda m: m.tensor([[1, 2], [3, 4, 5]]), ValueError),
    (lambda m: m.tensor([[[1, 2], [3, 4]], [[1, 2], [3]]]), ValueError),
    (lambda m: m.tensor([[1, 2], 3]), TypeError),
    (lambda m: m.tensor([1, [2, 3]]), TypeError),
    (lambda m: m.tensor([1., [2, 3]]), TypeError),
    (lambda m: m.tensor([[1, 2], [3, [4]]]), TypeError),
    (lambda m: m.tensor([m.tensor([1, 2]), m.tensor([3, 4])]), TypeError),
    (lambda m: m.tensor([m.tensor([1., 2]), m.tensor([3, 4.])]), ValueError),
    (lambda m: m.tensor("abc"), TypeError),
    (lambda m: m.tensor(b"ab"), TypeError),
    (lambda m: m.tensor(None), RuntimeError),
    (lambda m: m.tensor([None]), RuntimeError),
    (lambda m: m.tensor({1: 2}), RuntimeError),
    (lambda m: m.tensor(object()), RuntimeError),
    (lambda m: m.tensor(2 ** 63), ValueError),
    (lambda m: m.tensor([2 ** 63]), ValueError),
    (lambda m: m.tensor([-1, 300], dtype=m.uint8), RuntimeError),
    (lambda m: m.tensor([1, 2], requires_grad=True), RuntimeError),
    (lambda m: m.as_tensor([[1, 2], [3]]), ValueError),
]


@pytest.mark.parametrize("expr,cls", TENSOR_ERRORS)
def test_tensor_errors(expr, cls):
    same_error(expr, cls)


def test_asarray_copy_false_refuses_a_cast():
    same_error(lambda m: m.asarray(np.ones(2), dtype=m.float32, copy=False), ValueError)
    same_error(lambda m: m.asarray(m.ones(2), dtype=m.int64, copy=False), ValueError)
    a = np.ones(2, dtype=np.float32)
    e = ember.asarray(a, dtype=ember.float32, copy=False)
    a[0] = 3
    assert e[0].item() == 3


def test_tensor_unsupported_numpy_dtype():
    with pytest.raises(TypeError, match="can't convert np.ndarray of type numpy.object_"):
        ember.tensor(np.array([1, 2], dtype=object))


def test_tensor_copies():
    a = np.ones(3)
    e = ember.tensor(a)
    a[0] = 5
    assert e[0].item() == 1
    src = ember.ones(2, requires_grad=True)
    with pytest.warns(UserWarning) as ew:
        c = ember.tensor(src)
    with pytest.warns(UserWarning) as tw:
        torch.tensor(torch.ones(2))
    assert str(ew[0].message) == str(tw[0].message)
    assert c.is_leaf and not c.requires_grad and c.data_ptr() != src.data_ptr()


def test_tensor_of_noncontiguous_numpy():
    a = np.arange(12.).reshape(3, 4)[:, ::2]
    e = ember.tensor(a)
    assert e.tolist() == a.tolist() and e.dtype is ember.float64


# ---- as_tensor / asarray ---------------------------------------------------------------
@pytest.mark.parametrize("expr", [
    lambda m: m.as_tensor([1, 2]),
    lambda m: m.as_tensor(np.float64(1.5)),
    lambda m: m.as_tensor(3),
    lambda m: m.as_tensor(np.ones(2), dtype=m.float32),
    lambda m: m.as_tensor([1, 2], dtype=m.float64),
    lambda m: m.as_tensor(m.ones(2), dtype=m.int32),
    lambda m: m.asarray([1, 2.]),
    lambda m: m.asarray(3.5),
    lambda m: m.asarray(np.array([1, 2], dtype=np.int32)),
    lambda m: m.asarray(np.ones(2), dtype=m.float32),
    lambda m: m.asarray([1., 2.], requires_grad=True),
])
def test_as_tensor_asarray(expr):
    same(expr)


def test_as_tensor_shares_memory():
    a = np.zeros(3, dtype=np.float32)
    e = ember.as_tensor(a)
    a[0] = 4
    assert e[0].item() == 4
    e2 = ember.as_tensor(a, dtype=ember.float64)  # a cast must copy
    a[1] = 9
    assert e2[1].item() == 0
    t = ember.ones(2)
    assert ember.as_tensor(t) is t
    assert ember.as_tensor(t, dtype=ember.float32) is t
    s = ember.asarray(a)
    a[2] = 7
    assert s[2].item() == 7
    c = ember.asarray(a, copy=True)
    a[2] = 8
    assert c[2].item() == 7
    c2 = ember.asarray(t, copy=True)
    assert c2 is not t and c2.data_ptr() != t.data_ptr()


# ---- zeros / ones / full / empty ---------------------------------------------------------
SIZES = [(2, 3), ((2, 3),), ([2, 3],), (), ((),), ([],), (0,), (2, 0, 3), (5,)]


@pytest.mark.parametrize("name", ["zeros", "ones", "empty"])
@pytest.mark.parametrize("size", SIZES)
def test_size_forms(name, size):
    same(lambda m: getattr(m, name)(*size).shape)
    same(lambda m: getattr(m, name)(m.Size([2, 3])).shape)
    same(lambda m: getattr(m, name)(*size).dtype)


@pytest.mark.parametrize("name", ["zeros", "ones"])
@pytest.mark.parametrize("dtype", ["bool", "uint8", "int32", "int64", "float16", "bfloat16",
                                   "float64", "complex64"])
def test_zeros_ones_values(name, dtype):
    same(lambda m: getattr(m, name)(2, 2, dtype=getattr(m, dtype)))
    same(lambda m: getattr(m, name + "_like")(m.ones(3, dtype=getattr(m, dtype))))


@pytest.mark.parametrize("expr,cls", [
    (lambda m: m.zeros(2, -1), RuntimeError),
    (lambda m: m.zeros(-1), RuntimeError),
    (lambda m: m.ones(-1), RuntimeError),
    (lambda m: m.ones(2, -3), RuntimeError),
    (lambda m: m.empty(2, -3), RuntimeError),
    (lambda m: m.full((2, -1), 1.), RuntimeError),
    (lambda m: m.zeros(2, 2.5), TypeError),
    (lambda m: m.zeros((2, 2.5)), TypeError),
    (lambda m: m.ones(2.5), TypeError),
    (lambda m: m.empty(2.5), TypeError),
    (lambda m: m.zeros(m.tensor(3.)), TypeError),
    (lambda m: m.full(2, 1.), TypeError),
    (lambda m: m.zeros(2, dtype=m.int64, requires_grad=True), RuntimeError),
])
def test_size_errors(expr, cls):
    same_error(expr, cls)


@pytest.mark.parametrize("expr", [
    lambda m: m.zeros(m.tensor(3)),
    lambda m: m.zeros(np.int64(3)),
    lambda m: m.zeros(2, m.tensor(3)),
    lambda m: m.zeros(2, requires_grad=True),
    lambda m: m.ones(2, dtype=m.float64, requires_grad=True),
    lambda m: m.empty(2, 3, dtype=m.int8).dtype,
    lambda m: m.empty(2, 3).shape,
])
def test_factory_variants(expr):
    same(expr)


@pytest.mark.parametrize("expr", [
    lambda m: m.full((2,), -1),
    lambda m: m.full((2, 2), 2.5),
    lambda m: m.full([2], True),
    lambda m: m.full((2,), 1j),
    lambda m: m.full([], 1),
    lambda m: m.full([2], 1., dtype=m.int32),
    lambda m: m.full((2,), m.tensor(3)),
    lambda m: m.full((2,), m.tensor(1.5, dtype=m.float64)),
    lambda m: m.full((2,), np.float64(1)),
    lambda m: m.full((2,), np.int32(1)),
    lambda m: m.full((2,), 2.5, dtype=m.int64),
    lambda m: m.full((2,), 1, dtype=m.bool),
    lambda m: m.full((2,), -1, dtype=m.uint8),
    lambda m: m.full((2,), -200, dtype=m.uint8),
    lambda m: m.full((2,), float("inf"), dtype=m.float16),
    lambda m: m.full((2,), 1.5, requires_grad=True),
    lambda m: m.full_like(m.ones(2, dtype=m.int32), 2.7),
    lambda m: m.full_like(m.ones(2), 2, requires_grad=True),
    lambda m: m.full_like(m.ones(2), 2, dtype=m.float64),
    lambda m: m.scalar_tensor(3),
    lambda m: m.scalar_tensor(3, dtype=m.int32),
])
def test_full(expr):
    same(expr)


@pytest.mark.parametrize("expr", [
    lambda m: m.full((2,), 1e30, dtype=m.float16),
    lambda m: m.full((2,), 300, dtype=m.uint8),
    lambda m: m.full((2,), -256, dtype=m.uint8),
    lambda m: m.full((2,), 2 ** 31, dtype=m.int32),
    lambda m: m.full((2,), 2 ** 63, dtype=m.int64),
    lambda m: m.full((2,), float("nan"), dtype=m.int32),
    lambda m: m.full_like(m.ones(2, dtype=m.int32), 1e10),
    lambda m: m.full_like(m.ones(2, dtype=m.int8), 128),
])
def test_full_overflow(expr):
    same_error(expr, RuntimeError)


@pytest.mark.parametrize("name", ["zeros_like", "ones_like", "empty_like", "rand_like",
                                  "randn_like"])
def test_like_dtype_shape_requires_grad(name):
    for kw in ({}, {"dtype": "float64"}, {"requires_grad": True}):
        def f(m, kw=kw):
            k = dict(kw)
            if "dtype" in k:
                k["dtype"] = getattr(m, k["dtype"])
            r = getattr(m, name)(m.ones(2, 3), **k)
            return r.shape, r.dtype, r.requires_grad, r.is_leaf
        same(f)
    same(lambda m: getattr(m, name)(m.ones(2, dtype=m.float16)).dtype)


# ---- arange / range / linspace / logspace / eye ---------------------------------------
@pytest.mark.parametrize("args,kw", [
    ((5,), {}), ((1, 4), {}), ((0, 1, 0.1), {}), ((10, 0, -3), {}), ((0., 5), {}),
    ((5.0, 0, -0.5), {}), ((-1.0, 1.0, 0.25), {}), ((1, 2.5, 0.5), {}), ((0, 0), {}),
    ((0, 1, 1 / 3), {}), ((5,), {"dtype": "float64"}), ((0, 5, 1.5), {"dtype": "int64"}),
    ((0.5, 5.7, 1.2), {"dtype": "int32"}), ((-2.5, 3, 1), {"dtype": "int64"}),
    ((0, 1, 0.1), {"dtype": "float16"}), ((0, 10, 3), {"dtype": "float32"}),
    ((np.int32(3),), {}), ((-3,), {"dtype": "float32"}), ((0, 1, float("inf")), {}),
    ((0, 1, 0.3), {"dtype": "float64"}), ((-5, -20, -4), {}), ((5.,), {"requires_grad": True}),
])
def test_arange(args, kw):
    def f(m):
        k = dict(kw)
        if "dtype" in k:
            k["dtype"] = getattr(m, k["dtype"])
        return m.arange(*args, **k)
    same(f)


def test_arange_float_length_and_tensor_args():
    for start, end, step in [(0, 1, 0.1), (1, 1.3, 0.1), (0, 2.2, 0.2), (-1, 1, 0.2)]:
        same(lambda m: m.arange(start, end, step).shape)
    same(lambda m: m.arange(m.tensor(3)))
    same(lambda m: m.arange(m.tensor(3.)))
    same(lambda m: m.arange(m.tensor(1), m.tensor(7), m.tensor(2)))


def test_arange_default_float64(default_float64):
    same(lambda m: m.arange(0, 1, 0.25))
    same(lambda m: m.arange(3))


@pytest.mark.parametrize("expr,cls", [
    (lambda m: m.arange(0, 10, 0), RuntimeError),
    (lambda m: m.arange(0, -10, 1), RuntimeError),
    (lambda m: m.arange(10, 0, 0.5), RuntimeError),
    (lambda m: m.arange(0, 5, 0.5, dtype=m.int64), ValueError),
    (lambda m: m.arange(float("inf")), RuntimeError),
    (lambda m: m.arange(0, float("nan")), RuntimeError),
    (lambda m: m.arange(5, requires_grad=True), RuntimeError),
])
def test_arange_errors(expr, cls):
    same_error(expr, cls)


def test_range_deprecated():
    with pytest.warns(UserWarning, match="deprecated"):
        e = ember.range(1, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = torch.range(1, 4)
        same(lambda m: m.range(0, 1, 0.25))
        same(lambda m: m.range(1, 4, dtype=m.int64))
    assert e.tolist() == t.tolist() and str(e.dtype) == str(t.dtype)


@pytest.mark.parametrize("expr", [
    lambda m: m.linspace(0, 1, 5),
    lambda m: m.linspace(0, 1, 1),
    lambda m: m.linspace(0, 1, 0),
    lambda m: m.linspace(1, 0, 3),
    lambda m: m.linspace(-3.5, 7.25, 9),
    lambda m: m.linspace(0, 10, 4, dtype=m.int64),
    lambda m: m.linspace(-1, 10, 5, dtype=m.int32),
    lambda m: m.linspace(m.tensor(0.), m.tensor(1.), 3),
    lambda m: m.linspace(0, 1j, 3),
    lambda m: m.linspace(0, 1, 3, dtype=m.float64),
    lambda m: m.linspace(0, 1, 3, requires_grad=True),
    lambda m: m.logspace(0, 2, 3),
    lambda m: m.logspace(0, 2, 3, base=2),
    lambda m: m.logspace(-1, 1, 5, dtype=m.float64),
    lambda m: m.logspace(0, 3, 4, dtype=m.int64),
    lambda m: m.logspace(0, 2, 0),
    lambda m: m.logspace(0, 1, 1),
])
def test_linspace_logspace(expr):
    t, e = expr(torch), expr(ember)
    assert str(e.dtype) == str(t.dtype) and tuple(e.shape) == tuple(t.shape)
    assert e.requires_grad == t.requires_grad
    np.testing.assert_allclose(np.asarray(e.detach().tolist()), np.asarray(t.detach().tolist()),
                               rtol=1e-6, atol=1e-7)


def test_linspace_errors():
    same_error(lambda m: m.linspace(0, 1, -1), RuntimeError)


@pytest.mark.parametrize("expr", [
    lambda m: m.eye(3),
    lambda m: m.eye(2, 3),
    lambda m: m.eye(3, 1),
    lambda m: m.eye(3, dtype=m.int64),
    lambda m: m.eye(3, dtype=m.bool),
    lambda m: m.eye(0),
    lambda m: m.eye(2, requires_grad=True),
    lambda m: m.eye(-1),
    lambda m: m.eye(2, -1),
])
def test_eye(expr):
    same(expr)


# ---- legacy constructors -----------------------------------------------------------------
LEGACY = ["FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "ByteTensor", "BoolTensor",
          "HalfTensor", "ShortTensor", "CharTensor"]


@pytest.mark.parametrize("cls", LEGACY + ["Tensor"])
def test_legacy_from_data(cls):
    same(lambda m: getattr(m, cls)([1, 0, 2]))
    same(lambda m: getattr(m, cls)([[1.7, 0], [2, 3]]))
    same(lambda m: getattr(m, cls)([]))
    same(lambda m: getattr(m, cls)())


@pytest.mark.parametrize("cls", LEGACY + ["Tensor"])
def test_legacy_from_sizes(cls):
    # sized constructors leave memory uninitialised in torch: compare shape and dtype
    for args in [(2, 3), (0,), (4,)]:
        same(lambda m: (getattr(m, cls)(*args).shape, getattr(m, cls)(*args).dtype))
    same(lambda m: getattr(m, cls)(m.Size([2, 1])).shape)
    same_error(lambda m: getattr(m, cls)(-1), RuntimeError)


def test_legacy_misc():
    same(lambda m: m.Tensor(m.tensor([1, 2])))
    same(lambda m: m.LongTensor(m.tensor([1, 2])))
    same_error(lambda m: m.Tensor(3.5), TypeError)
    with pytest.raises(TypeError):
        ember.LongTensor(ember.tensor([1.0, 2.0]))
    with pytest.raises(TypeError):
        ember.Tensor(2, dtype=ember.int64)
    same(lambda m: m.Tensor([1, 2], device="cpu"))
    t = ember.tensor([1, 2])
    assert ember.Tensor(t).data_ptr() == t.data_ptr()


@pytest.mark.parametrize("cls", LEGACY)
def test_legacy_isinstance(cls):
    for dtype in ["float32", "float64", "int64", "int32", "uint8", "bool", "float16",
                  "int16", "int8"]:
        t = isinstance(torch.ones(2, dtype=getattr(torch, dtype)), getattr(torch, cls))
        e = isinstance(ember.ones(2, dtype=getattr(ember, dtype)), getattr(ember, cls))
        assert e == t, (cls, dtype)
    assert isinstance(getattr(ember, cls)([1]), ember.Tensor)
    assert type(getattr(ember, cls)([1])) is ember.Tensor
    assert str(getattr(ember, cls)) == str(getattr(torch, cls))
    assert getattr(ember, cls).dtype is getattr(ember, str(getattr(torch, cls).dtype)[6:])
    assert issubclass(getattr(ember, cls), ember.Tensor) == \
        issubclass(getattr(torch, cls), torch.Tensor)


def test_legacy_and_factories_follow_default_dtype(default_float64):
    same(lambda m: m.Tensor([1, 2]))
    same(lambda m: m.Tensor(2, 3).dtype)
    same(lambda m: m.Tensor([1, 2]).type())
    same(lambda m: m.FloatTensor([1, 2]))
    same(lambda m: m.full((2,), 1.5))
    same(lambda m: m.linspace(0, 1, 3))
    same(lambda m: m.eye(2))
    same(lambda m: m.empty(2).dtype)
