"""Tensor basics (metadata, conversions, Python protocols) compared with torch 2.13."""
import copy
import pickle
import warnings

import numpy as np
import pytest
import torch

import ember
from _compare import same, same_error

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
          "float64", "complex64", "complex128"]


# ---- metadata ---------------------------------------------------------------------------
def test_shape_is_size():
    e = ember.ones(2, 3)
    assert isinstance(e.shape, ember.Size) and isinstance(e.shape, tuple)
    assert repr(e.shape) == repr(torch.ones(2, 3).shape) == "torch.Size([2, 3])"
    assert e.shape == (2, 3) and e.size() == e.shape
    assert isinstance(e.shape[1:], ember.Size) and e.shape[1:] == (3,)
    assert repr(e.shape + (4,)) == "torch.Size([2, 3, 4])"
    assert e.shape.numel() == 6
    assert pickle.loads(pickle.dumps(e.shape)) == e.shape


@pytest.mark.parametrize("expr", [
    lambda m: m.ones(2, 3).size(-1),
    lambda m: m.ones(2, 3).size(0),
    lambda m: m.ones(2, 3).size(2),
    lambda m: m.ones(2, 3).size(-3),
    lambda m: m.ones(()).size(0),
    lambda m: m.ones(2, 3, 4).dim(),
    lambda m: m.ones(2, 3, 4).ndim,
    lambda m: m.ones(2, 3, 4).ndimension(),
    lambda m: m.ones(()).dim(),
    lambda m: m.ones(2, 3).numel(),
    lambda m: m.ones(0, 3).numel(),
    lambda m: m.ones(2, 3).nelement(),
    lambda m: m.ones(2, 3).device,
    lambda m: m.ones(2, 3).is_leaf,
    lambda m: (m.ones(2, requires_grad=True) * 2).is_leaf,
    lambda m: m.ones(2, requires_grad=True).detach().is_leaf,
])
def test_metadata(expr):
    same(expr)


@pytest.mark.parametrize("name", DTYPES)
def test_dtype_element_size_and_type(name):
    same(lambda m: m.ones(2, dtype=getattr(m, name)).dtype)
    same(lambda m: m.ones(2, dtype=getattr(m, name)).element_size())
    same(lambda m: m.ones(2, dtype=getattr(m, name)).type())
    same(lambda m: m.ones(2, dtype=getattr(m, name)).is_floating_point())
    same(lambda m: m.ones(2, dtype=getattr(m, name)).is_complex())


def test_transposes():
    same(lambda m: m.arange(6.).reshape(2, 3).T)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        same(lambda m: m.arange(3.).T)
    same(lambda m: m.arange(24.).reshape(2, 3, 4).mT)
    same_error(lambda m: m.arange(3.).mT, RuntimeError)
    for shape in [(), (3,), (2, 3, 4)]:
        with pytest.warns(UserWarning, match="x.T"):
            _ = ember.ones(shape).T
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _ = ember.ones(2, 3).T
    same(lambda m: m.tensor([[1 + 2j, 3j]]).mH)


@pytest.mark.parametrize("expr", [
    lambda m: m.ones(3, 4).stride(),
    lambda m: m.ones(3, 4).stride(0),
    lambda m: m.ones(3, 4).stride(-1),
    lambda m: m.ones(3, 4).t().stride(),
    lambda m: m.ones(3, 1).stride(),
    lambda m: m.ones(0, 3).stride(),
    lambda m: m.ones(2, 0, 3).stride(),
    lambda m: m.ones(()).stride(),
    lambda m: m.ones(3, 4)[:, ::2].stride(),
    lambda m: m.ones(3, 1).expand(3, 4).stride(),
    lambda m: m.ones(3, 4).is_contiguous(),
    lambda m: m.ones(3, 4).t().is_contiguous(),
    lambda m: m.ones(3, 4)[:, ::2].is_contiguous(),
    lambda m: m.ones(3, 4).t().contiguous().is_contiguous(),
    lambda m: m.ones(3, 4).t().contiguous().stride(),
    lambda m: m.ones(3, 4).stride(2),
])
def test_strides(expr):
    same(expr)


def test_contiguous_returns_self_when_contiguous():
    e = ember.arange(12.0).reshape(3, 4)
    assert e.contiguous() is e
    t = e.t()
    c = t.contiguous()
    assert c is not t and c.is_contiguous() and c.stride() == (3, 1)
    assert c.tolist() == torch.arange(12.0).reshape(3, 4).t().contiguous().tolist()


def test_data_ptr():
    e = ember.arange(10.)
    assert e.data_ptr() != 0
    assert e[2:].data_ptr() == e.data_ptr() + 2 * e.element_size()
    assert e.view(2, 5).data_ptr() == e.data_ptr()
    assert e.clone().data_ptr() != e.data_ptr()
    assert ember.ones(0).data_ptr() == torch.ones(0).data_ptr() == 0


# ---- conversions --------------------------------------------------------------------------
@pytest.mark.parametrize("expr", [
    lambda m: m.tensor(2.5).item(),
    lambda m: m.tensor([7]).item(),
    lambda m: m.tensor([[True]]).item(),
    lambda m: m.tensor(1 + 2j).item(),
    lambda m: m.ones(2).item(),
    lambda m: m.ones(0).item(),
    lambda m: m.tensor([[1, 2], [3, 4]]).tolist(),
    lambda m: m.tensor(3).tolist(),
    lambda m: m.tensor([1.5, 2.5], dtype=m.float16).tolist(),
    lambda m: m.tensor([True, False]).tolist(),
    lambda m: m.ones(2, 0).tolist(),
])
def test_item_tolist(expr):
    same(expr)


def test_item_types():
    assert type(ember.tensor(3).item()) is int
    assert type(ember.tensor(3.0).item()) is float
    assert type(ember.tensor(True).item()) is bool
    assert type(ember.tensor(1j).item()) is complex
    assert type(ember.tensor(1.5, dtype=ember.bfloat16).item()) is float


def test_numpy_shares_memory():
    e = ember.zeros(3)
    a = e.numpy()
    a[0] = 5
    assert e[0].item() == 5
    e[1] = 7
    assert a[1] == 7
    assert a.dtype == np.float32


def test_numpy_refuses_requires_grad():
    msg = same_error(lambda m: m.ones(2, requires_grad=True).numpy(), RuntimeError)
    assert "detach" in msg
    assert ember.ones(2, requires_grad=True).detach().numpy().tolist() == [1.0, 1.0]
    f = ember.ones(2, requires_grad=True).numpy(force=True)
    assert f.tolist() == [1.0, 1.0]


def test_from_numpy_shares_memory_both_ways():
    a = np.arange(6, dtype=np.int32).reshape(2, 3)
    e = ember.from_numpy(a)
    assert e.dtype is ember.int32 and e.shape == (2, 3)
    a[0, 0] = 100
    assert e[0, 0].item() == 100
    e[1, 2] = -1
    assert a[1, 2] == -1
    e.add_(1)
    assert a[0, 0] == 101
    assert e.numpy() is a or np.shares_memory(e.numpy(), a)


@pytest.mark.parametrize("npdtype", [np.float64, np.float32, np.float16, np.complex64,
                                     np.complex128, np.int64, np.int32, np.int16, np.int8,
                                     np.uint8, np.bool_])
def test_from_numpy_dtypes(npdtype):
    a = np.ones(3, dtype=npdtype)
    assert str(ember.from_numpy(a).dtype) == str(torch.from_numpy(a).dtype)


def test_from_numpy_errors():
    same_error(lambda m: m.from_numpy([1, 2]), TypeError)
    same_error(lambda m: m.from_numpy(np.ones(3)[::-1]), ValueError)
    with pytest.raises(TypeError, match="can't convert np.ndarray of type numpy.str_"):
        ember.from_numpy(np.array(["a"]))
    with pytest.raises(TypeError, match="numpy.object_"):
        ember.from_numpy(np.array([1, None]))


def test_from_numpy_read_only_warns():
    a = np.ones(2)
    a.flags.writeable = False
    with pytest.warns(UserWarning, match="The given NumPy array is not writable"):
        e = ember.from_numpy(a)
    assert e.tolist() == [1.0, 1.0]


def test_clone_is_independent_and_differentiable():
    e = ember.arange(4.)
    c = e.clone()
    c[0] = 10
    assert e[0].item() == 0
    x = ember.ones(3, requires_grad=True)
    y = x.clone()
    assert not y.is_leaf and type(y.grad_fn).__name__ == type(torch.ones(1, requires_grad=True)
                                                               .clone().grad_fn).__name__
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("expr", [
    lambda m: m.ones(3).to(m.float64),
    lambda m: m.ones(3).to("cpu"),
    lambda m: m.ones(3).to(m.device("cpu")),
    lambda m: m.ones(3).to(m.ones(1, dtype=m.int32)),
    lambda m: m.ones(3).to("cpu", m.int8),
    lambda m: m.ones(3).to(device="cpu", dtype=m.int8),
    lambda m: m.ones(3).to(dtype=m.float16),
    lambda m: m.tensor([1.7, -1.7]).to(m.int64),
    lambda m: m.tensor([0.0, 2.0]).to(m.bool),
    lambda m: m.tensor([1 + 2j]).to(m.complex128),
    lambda m: m.ones(3, requires_grad=True).to(m.float64),
    lambda m: m.ones(3).to(m.float32, copy=True),
])
def test_to(expr):
    same(expr)


def test_to_identity_and_copy():
    e = ember.ones(3)
    assert e.to(ember.float32) is e and e.to("cpu") is e and e.float() is e
    c = e.to(copy=True)
    assert c is not e and c.tolist() == e.tolist()
    c[0] = 3
    assert e[0].item() == 1
    c2 = e.to(ember.float32, copy=True)
    assert c2 is not e
    x = ember.ones(3, requires_grad=True)
    y = x.to(ember.float64)
    assert type(y.grad_fn).__name__ == "ToCopyBackward0"
    y.sum().backward()
    assert x.grad.dtype is ember.float32


@pytest.mark.parametrize("method", ["float", "double", "half", "bfloat16", "long", "int",
                                    "short", "char", "byte", "bool", "cfloat", "cdouble"])
def test_dtype_methods(method):
    same(lambda m: getattr(m.tensor([1.5, -2.0, 0.0]), method)())
    same(lambda m: getattr(m.tensor([1.5, -2.0, 0.0]), method)().type())


def test_type():
    same(lambda m: m.ones(2).type())
    same(lambda m: m.ones(2).type(m.float64))
    same(lambda m: m.ones(2).type("torch.DoubleTensor"))
    same(lambda m: m.ones(2).type("torch.LongTensor"))
    same(lambda m: m.ones(2).type(m.IntTensor))
    same(lambda m: m.ones(2).type_as(m.ones(1, dtype=m.int16)))
    same_error(lambda m: m.ones(2).type("torch.Foo"), ValueError)
    e = ember.ones(2)
    assert e.type(ember.float32) is e


# ---- Python protocols -----------------------------------------------------------------
@pytest.mark.parametrize("expr", [
    lambda m: len(m.ones(3, 2)),
    lambda m: len(m.ones(0)),
    lambda m: len(m.tensor(1.)),
    lambda m: [x.tolist() for x in m.arange(6).reshape(3, 2)],
    lambda m: list(m.tensor(1.)),
    lambda m: [x.shape for x in m.arange(3)],
    lambda m: bool(m.tensor([0.])),
    lambda m: bool(m.tensor(2)),
    lambda m: bool(m.ones(2)),
    lambda m: bool(m.ones(0)),
    lambda m: float(m.tensor([2.5])),
    lambda m: float(m.tensor(3)),
    lambda m: float(m.ones(2)),
    lambda m: int(m.tensor([2.7])),
    lambda m: int(m.tensor(-2.7)),
    lambda m: int(m.ones(2)),
    lambda m: complex(m.tensor(1 + 2j)),
    lambda m: [1, 2, 3][m.tensor(1)],
    lambda m: [1, 2, 3][m.tensor([2])],
    lambda m: [1, 2, 3][m.tensor(1.)],
    lambda m: [1, 2, 3][m.tensor([1, 2])],
    lambda m: range(10)[m.tensor(4):m.tensor(6)],
    lambda m: f"{m.tensor(2.5):.3f}",
    lambda m: m.tensor(3).__index__(),
])
def test_python_protocols(expr):
    same(expr)


def test_iteration_yields_views():
    e = ember.arange(6).reshape(3, 2)
    rows = list(e)
    assert len(rows) == 3 and all(r.shape == (2,) for r in rows)
    rows[0][0] = 100
    assert e[0, 0].item() == 100


def test_hash_is_identity():
    # As torch's: by identity, so equal values hash apart and an in-place write keeps it.
    a, b = ember.ones(2), ember.ones(2)
    d = {a: "a", b: "b"}
    assert d[a] == "a" and d[b] == "b"
    assert a in {a} and b not in {a}
    h = hash(a)
    a.add_(1)
    assert hash(a) == h and a in d
# ---- requires_grad ------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["bool", "uint8", "int8", "int16", "int32", "int64"])
def test_requires_grad_errors(name):
    same_error(lambda m: m.ones(2, dtype=getattr(m, name)).requires_grad_(), RuntimeError)
    same_error(lambda m: m.ones(2, dtype=getattr(m, name), requires_grad=True), RuntimeError)
    same_error(lambda m: m.tensor([1, 2], dtype=getattr(m, name), requires_grad=True),
               RuntimeError)


@pytest.mark.parametrize("name", ["float16", "bfloat16", "float32", "float64", "complex64",
                                  "complex128"])
def test_requires_grad_float_and_complex(name):
    same(lambda m: m.ones(2, dtype=getattr(m, name)).requires_grad_().requires_grad)
    same(lambda m: m.zeros(2, dtype=getattr(m, name), requires_grad=True).requires_grad)


def test_requires_grad_on_non_leaf():
    same_error(lambda m: (m.ones(2, requires_grad=True) * 2).requires_grad_(False),
               RuntimeError)
    same(lambda m: (m.ones(2, requires_grad=True) * 2).requires_grad_().requires_grad)
    e = ember.ones(2)
    e.requires_grad = True
    assert e.requires_grad and e.is_leaf
    e.requires_grad_(False)
    assert not e.requires_grad


# ---- copying and pickling --------------------------------------------------------------
@pytest.mark.parametrize("name", DTYPES)
def test_deepcopy_and_pickle_round_trip(name):
    d = getattr(ember, name)
    e = ember.tensor([[1, 0], [3, 4]]).to(d)
    for c in (copy.deepcopy(e), pickle.loads(pickle.dumps(e))):
        assert c is not e and c.dtype is d and c.shape == e.shape
        assert c.tolist() == e.tolist()
        assert c.data_ptr() != e.data_ptr()


def test_deepcopy_keeps_requires_grad_and_grad():
    e = ember.arange(4.).requires_grad_()
    (e * 2).sum().backward()
    c = copy.deepcopy(e)
    assert c.requires_grad and c.is_leaf
    assert c.grad.tolist() == [2.0] * 4 and c.grad is not e.grad
    p = pickle.loads(pickle.dumps(e))
    assert p.requires_grad and p.tolist() == e.tolist()


def test_deepcopy_shared_references_stay_shared():
    e = ember.ones(2)
    a, b = copy.deepcopy([e, e])
    assert a is b


def test_deepcopy_non_leaf_error():
    same_error(lambda m: copy.deepcopy(m.ones(2, requires_grad=True) * 2), RuntimeError)


def test_deepcopy_of_view_is_independent():
    base = ember.arange(6.)
    v = base[2:4]
    c = copy.deepcopy(v)
    c[0] = 100
    assert base[2].item() == 2 and c.tolist() == [100.0, 3.0]


# ---- new_* factories ---------------------------------------------------------------------
@pytest.mark.parametrize("expr", [
    lambda m: m.ones(2, dtype=m.float64).new_tensor([1, 2]),
    lambda m: m.ones(2, dtype=m.int32).new_tensor([1.5]),
    lambda m: m.ones(2).new_tensor([1, 2], dtype=m.int8),
    lambda m: m.ones(2, dtype=m.int16).new_zeros(3),
    lambda m: m.ones(2).new_zeros(2, 3),
    lambda m: m.ones(2).new_zeros((2, 3), dtype=m.int8),
    lambda m: m.ones(2, dtype=m.float64).new_ones((1, 2)),
    lambda m: m.ones(2, dtype=m.int32).new_full((2,), 3),
    lambda m: m.ones(2, dtype=m.int32).new_full((2,), 3.5),
    lambda m: m.ones(2).new_ones(2, requires_grad=True),
    lambda m: m.ones(2, requires_grad=True).new_tensor([1.]),
    lambda m: m.ones(2, dtype=m.float16).new_empty(2, 3).shape,
    lambda m: m.ones(2, dtype=m.float16).new_empty(2, 3).dtype,
])
def test_new_factories(expr):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        same(expr)


# ---- Size, dim arguments, to() flags ---------------------------------------------------
@pytest.mark.parametrize("expr", [
    lambda m: m.Size([2, 3]),
    lambda m: m.Size(),
    lambda m: m.Size((2, np.int64(3))),
    lambda m: m.Size((2, m.tensor(3))),
    lambda m: m.Size([2.5]),
    lambda m: m.Size([2, "a"]),
    lambda m: m.Size([2, 3])[::-1],
    lambda m: m.Size([2, 3]) + (4,),
    lambda m: (1,) + m.Size([2, 3]),
    lambda m: m.Size([2, 3]) == (2, 3),
    lambda m: m.Size([2, 3, 4]).numel(),
    lambda m: m.ones(2, 3).size(np.int64(1)),
    lambda m: m.ones(2, 3).size(m.tensor(0)),
    lambda m: m.ones(2).size(1.0),
    lambda m: m.ones(2).stride(1.0),
    lambda m: m.ones(()).stride(0),
])
def test_size_type(expr):
    same(expr)


def test_size_reprs():
    for shape in [(), (0,), (2, 3)]:
        assert repr(ember.ones(shape).shape) == repr(torch.ones(shape).shape)
        assert str(ember.ones(shape).shape) == str(torch.ones(shape).shape)
    assert type(ember.ones(2, 3).shape[1:]) is ember.Size


@pytest.mark.parametrize("args", [("float32", False, True), ("float32", False, False),
                                  ("float64", True, False), ("cpu", "float32", False, True)])
def test_to_positional_flags(args):
    def f(m):
        a = m.ones(2)
        conv = [getattr(m, x) if x in ("float32", "float64") else x for x in args]
        out = a.to(*conv)
        return out is a, out.dtype
    same(f)


# ---- devices ---------------------------------------------------------------------------
@pytest.mark.parametrize("expr", [
    lambda m: m.device("cpu"),
    lambda m: m.device("cuda:1"),
    lambda m: m.device("cuda", 0),
    lambda m: m.device("cpu", 0),
    lambda m: m.device("cpu:0"),
    lambda m: str(m.device("cuda", 2)),
    lambda m: repr(m.device("cuda", 2)),
    lambda m: m.device(m.device("cuda:1")),
    lambda m: m.device("meta"),
    lambda m: m.device("mps"),
    lambda m: m.device("xla:1"),
    lambda m: (m.device("cuda:3").type, m.device("cuda:3").index, m.device("cpu").index),
    lambda m: m.device("cpu") == "cpu",
    lambda m: m.device("cpu") == m.device("cpu", 0),
    lambda m: m.device("cuda:0") == m.device("cuda"),
    lambda m: m.device("cuda", 1) == m.device("cuda:1"),
    lambda m: len({m.device("cpu"), m.device("cpu"), m.device("cuda:0")}),
    lambda m: m.device("foo"),
    lambda m: m.device("CPU"),
    lambda m: m.device(" cpu"),
    lambda m: m.device("cuda:x"),
    lambda m: m.device("cuda:-1"),
    lambda m: m.device("cpu:01"),
    lambda m: m.device("cuda:1:2"),
    lambda m: m.device(""),
    lambda m: m.device("cuda", -1),
    lambda m: m.device("cuda:1", 1),
    lambda m: m.device("cuda", "a"),
    lambda m: m.ones(2, device="cpu").device,
    lambda m: m.ones(2, device=m.device("cpu")).device,
    lambda m: m.tensor([1], device="cpu").device,
    lambda m: (m.ones(2).is_cuda, m.ones(2).is_cpu, m.ones(2).get_device()),
    lambda m: (m.ones(2).is_sparse, m.ones(2).is_quantized, m.ones(2).is_meta),
])
def test_device(expr):
    same(expr)


def test_device_pickle_and_errors():
    d = ember.device("cuda", 1)
    assert pickle.loads(pickle.dumps(d)) == d
    assert copy.deepcopy(ember.device("cpu")) == ember.device("cpu")
    with pytest.raises(TypeError):
        ember.device(1.5)
    from ember._device import cuda_is_available
    if not cuda_is_available() and not torch.cuda.is_available():
        same_error(lambda m: m.device(0), RuntimeError)


def test_data_ptr_of_views_and_empty_tensors():
    def ptrs(T):
        x = T.arange(12.0).reshape(3, 4)
        return (x[1:, 2:].data_ptr() - x.data_ptr(), x.t().data_ptr() - x.data_ptr(),
                T.empty(0).data_ptr())
    assert ptrs(ember) == ptrs(torch)
