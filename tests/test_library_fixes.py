"""What real torch libraries' test suites (tools/run_library_tests.py) found missing or
different in Ember, each compared with torch."""
import pickle
import warnings

import pytest
import torch

import ember


@pytest.mark.parametrize("name", ["preserve_format", "contiguous_format", "channels_last",
                                  "channels_last_3d"])
def test_memory_format_tokens(name):
    fmt = getattr(ember, name)
    assert repr(fmt) == repr(getattr(torch, name)) and isinstance(fmt, ember.memory_format)
    assert pickle.loads(pickle.dumps(fmt)) is fmt
    x = ember.ones(2, 3)
    assert ember.zeros_like(x, memory_format=ember.preserve_format).shape == (2, 3)


def _new_outcomes(lib):
    p = lib.nn.Parameter(lib.ones(2, dtype=lib.float64))
    out = []
    for args in [(2, 3), ([1, 2],), (), (lib.Size([4]),), ((2, 1),)]:
        t = p.new(*args)
        out.append((type(t).__name__, tuple(t.shape), str(t.dtype), t.requires_grad))
    out.append(p.new([1.5, 2.5]).tolist())
    return out


def test_tensor_new_as_torch():
    assert _new_outcomes(ember) == _new_outcomes(torch)
    with pytest.raises(TypeError):
        ember.ones(2, dtype=ember.float64).new(ember.ones(2))
    with pytest.raises(TypeError):
        torch.ones(2, dtype=torch.float64).new(torch.ones(2))


_SCALAR_FIRST = {
    "add_": "a.add_(0.5, b)", "sub_": "a.sub_(2, b)", "addcmul_": "a.addcmul_(0.5, b, b)",
    "addcdiv_": "a.addcdiv_(-2, b, b + 1)"}


@pytest.mark.parametrize("name", sorted(_SCALAR_FIRST))
def test_deprecated_scalar_first_inplace_overloads(name, monkeypatch):
    """Accepted with torch's warning, which torch gives once per process: compare with a
    fresh torch process."""
    import subprocess
    import sys
    code = _SCALAR_FIRST[name]
    script = ("import warnings, torch\nwarnings.simplefilter('always')\n"
              f"a, b = torch.arange(3.0), torch.tensor([1.0, 2.0, 4.0])\n"
              f"with warnings.catch_warnings(record=True) as w:\n    r = {code}\n"
              "print(repr((r.tolist(), str(w[0].message).split(' (Triggered')[0])))")
    expected = eval(subprocess.run([sys.executable, "-c", script], capture_output=True,
                                   text=True, check=True).stdout)
    from ember._ops import _declare
    monkeypatch.setattr(_declare, "_WARNED_SCALAR_FIRST", [])
    a, b = ember.arange(3.0), ember.tensor([1.0, 2.0, 4.0])  # noqa: F841 (read by eval(code))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = eval(code).tolist()
        eval(code)  # the second use does not warn again
    assert [(result, str(w.message)) for w in caught] == [expected]


def test_one_element_tensor_as_alpha_and_value():
    for lib in (torch, ember):
        a, b, s = lib.ones(3), lib.arange(3.0), lib.tensor(0.5)
        assert lib.add(a, b, alpha=s).tolist() == [1.0, 1.5, 2.0]
        assert a.clone().add_(b, alpha=s).tolist() == [1.0, 1.5, 2.0]
        assert a.clone().sub_(b, alpha=s).tolist() == [1.0, 0.5, 0.0]
        assert a.clone().addcmul_(b, b, value=s).tolist() == [1.0, 1.5, 3.0]


def test_grad_under_create_graph_is_contiguous_and_owned():
    """torch's AccumulateGrad copies a gradient obeying the parameter's layout, so the
    gradient of a transposed use can be viewed and detached in place (AdamP, Adahessian)."""
    for lib in (torch, ember):
        w = lib.ones(4, 2, requires_grad=True)
        (lib.ones(3, 2) @ w.t()).pow(2).sum().backward(create_graph=True)
        assert w.grad.is_contiguous() and w.grad.requires_grad
        assert w.grad.view(1, -1).shape == (1, 8)
        assert w.grad.detach_() is w.grad and not w.grad.requires_grad


def test_distributed_without_a_process_group():
    import torch.distributed as tdist

    import ember.distributed as edist
    assert edist.is_initialized() is tdist.is_initialized() is False
    assert edist.is_available() is tdist.is_available() is True  # mpi4py: the test extra
    for name in ("get_rank", "get_world_size"):
        with pytest.raises(ValueError) as expected:
            getattr(tdist, name)()
        with pytest.raises(ValueError) as got:
            getattr(edist, name)()
        assert str(got.value) == str(expected.value)
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        edist.all_reduce(ember.ones(1), op=edist.ReduceOp.SUM)
    assert [op.name for op in edist.ReduceOp] == \
        ["SUM", "AVG", "PRODUCT", "MIN", "MAX", "BAND", "BOR", "BXOR", "PREMUL_SUM"]
    assert all(hasattr(tdist.ReduceOp, op.name) for op in edist.ReduceOp)


def test_parallel_wrappers_and_batchnorm_module_path():
    from torch.nn.modules.batchnorm import _BatchNorm as TorchBatchNorm

    from ember.nn.modules.batchnorm import _BatchNorm
    assert isinstance(ember.nn.BatchNorm2d(3), _BatchNorm)
    assert isinstance(torch.nn.BatchNorm2d(3), TorchBatchNorm)
    for lib in (torch, ember):
        lib.manual_seed(0)
        inner = lib.nn.Linear(2, 1)
        assert lib.nn.DataParallel(inner)(lib.ones(3, 2)).tolist() == inner(lib.ones(3, 2)).tolist()
    with pytest.raises(ValueError) as expected:
        torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(2, 1))
    with pytest.raises(ValueError) as got:
        ember.nn.parallel.DistributedDataParallel(ember.nn.Linear(2, 1))
    assert str(got.value) == str(expected.value)


def _foreach_outcomes(lib):
    a = [lib.ones(2), lib.arange(3.0)]
    b = [lib.full((2,), 2.0), lib.ones(3)]
    results = [lib._foreach_add(a, 1), lib._foreach_add(a, b, alpha=2),
               lib._foreach_mul(a, [2.0, 3.0]), lib._foreach_neg(a), lib._foreach_norm(a),
               lib._foreach_sqrt(a), lib._foreach_maximum(a, b), lib._foreach_div(a, 2.0)]
    lib._foreach_addcdiv_(a, b, b, lib.tensor([2.0, 3.0]))
    lib._foreach_lerp_(a, b, 0.5)
    lib._foreach_addcmul_(a, b, b, value=0.1)
    assert lib._foreach_sub_(a, b, alpha=0.5) is a
    lib._foreach_zero_(b)
    return ([type(r).__name__ for r in results],
            [[x.tolist() for x in r] for r in results], [x.tolist() for x in a + b])


def test_foreach_ops_as_torch():
    assert _foreach_outcomes(ember) == _foreach_outcomes(torch)


def test_grad_scaler_at_top_level():
    assert ember.GradScaler is ember.amp.GradScaler
    assert torch.GradScaler is torch.amp.GradScaler


def test_comparison_with_foreign_objects_as_torch():
    approx = pytest.approx(1.0)
    for lib in (torch, ember):
        t = lib.tensor(1.0)
        assert (t == "a", t != "a", t == None, t != None, t == [1.0]) == \
            (False, True, False, True, False)  # noqa: E711
        assert t == approx and (t == 1.0).item() and (t == ember_np_one()).item()
        with pytest.raises(TypeError, match="'<' not supported between instances of 'Tensor' "
                                            "and 'str'"):
            _ = t < "a"


def ember_np_one():
    import numpy as np
    return np.float32(1.0)


def test_foreach_maximum_in_place():
    for lib in (torch, ember):
        a = [lib.ones(2), lib.arange(3.0)]
        lib._foreach_maximum_(a, 1.5)
        assert [x.tolist() for x in a] == [[1.5, 1.5], [1.5, 1.5, 2.0]]


def test_numpy_scalars_count_as_python_numbers():
    """np.float64 with a float32 tensor stays float32, as torch's (NumPy 2 alone would widen)."""
    import numpy as np

    def dtypes(lib):
        t = lib.ones(2)
        return [str(v.dtype) for v in (
            t * np.float64(2.0), np.float64(2.0) * t, t / np.float32(2), t + np.int64(1),
            lib.ones(2, dtype=lib.int32) + np.int64(1), lib.ones(2, dtype=lib.int64) * np.float64(1.5),
            t.half() * np.float64(2))]
    assert dtypes(ember) == dtypes(torch)
