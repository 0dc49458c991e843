"""ember.testing vs torch.testing: same verdicts and the same failure messages."""
import pytest
import torch

import ember

CASES = [
    "T.tensor([1., 2., 3.]), T.tensor([1., 2.5, 3.])",
    "T.tensor([1., 2., 3.]), T.tensor([1, 2, 3])",
    "T.tensor([1., 2., 3.]), T.tensor([1., 2.])",
    "T.tensor([[1, 2], [3, 4]]), T.tensor([[1, 2], [3, 5]])",
    "T.tensor([1., float('nan')]), T.tensor([1., float('nan')])",
    "T.tensor([1., 2., 3.]), T.tensor([1.1, 2.5, 3.])",
    "T.tensor([1., 2.], dtype=T.float64), T.tensor([1., 2. + 1e-6], dtype=T.float64)",
    "T.tensor([1., 2.], dtype=T.float16), T.tensor([1., 2.01], dtype=T.float16)",
    "[T.tensor([1.]), T.tensor([2.])], [T.tensor([1.]), T.tensor([2.5])]",
    "{'a': T.tensor([1.])}, {'a': T.tensor([1.5])}",
    "1.0, 1.0 + 1e-9",
    "1.0, 1.1",
    "2, 3",
    "[1, 2], [1, 2, 3]",
    "T.tensor(1.), T.tensor(1.5)",
    "T.tensor(3), T.tensor(4)",
    "T.tensor([1., 2.], dtype=T.bfloat16), T.tensor([1., 2.5], dtype=T.bfloat16)",
    "[[T.tensor([1.])]], [[T.tensor([1.5])]]",
    "T.tensor([1., 2.]), [1., 2.]",
]


def _outcome(lib, expr):
    try:
        eval(f"lib.testing.assert_close({expr})", {"lib": lib, "T": lib})
        return "ok"
    except AssertionError as e:
        return str(e)
    except (TypeError, ValueError) as e:
        return f"{type(e).__name__}: {e}"


@pytest.mark.parametrize("expr", CASES)
def test_assert_close_matches_torch(expr):
    assert _outcome(ember, expr) == _outcome(torch, expr)


def test_assert_close_equal_nan_and_explicit_tolerances():
    for lib in (torch, ember):
        lib.testing.assert_close(lib.tensor([float("nan")]), lib.tensor([float("nan")]),
                                 equal_nan=True)
        lib.testing.assert_close(lib.tensor([1.0]), lib.tensor([1.05]), rtol=0.1, atol=0.0)
        with pytest.raises(ValueError):
            lib.testing.assert_close(lib.tensor([1.0]), lib.tensor([1.0]), rtol=0.1)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "uint8", "bool", "complex64"])
def test_make_tensor_shape_dtype_and_range(dtype):
    e_dtype = getattr(ember, dtype)
    t = ember.testing.make_tensor(3, 4, dtype=e_dtype, low=-2, high=3)
    assert t.shape == (3, 4) and t.dtype is e_dtype
    if dtype not in ("bool", "complex64"):
        assert t.min().item() >= (0 if dtype == "uint8" else -2) and t.max().item() <= 3
    z = ember.testing.make_tensor((50,), dtype=e_dtype, exclude_zero=True)
    assert (z != 0).all().item()
    r = ember.testing.make_tensor(2, 3, dtype=ember.float32, requires_grad=True, noncontiguous=True)
    assert r.requires_grad and not r.is_contiguous() and r.shape == (2, 3)
