"""Bad input raises torch's exception class with torch's message."""
import pytest
import torch

import ember


def check(expr):
    """Evaluate ``expr`` with T = torch and T = ember; the errors must be the same."""
    with pytest.raises(Exception) as te:
        eval(expr, {"T": torch})
    with pytest.raises(Exception) as ee:
        eval(expr, {"T": ember})
    assert type(ee.value) is type(te.value), (ee.value, te.value)
    assert str(ee.value) == str(te.value)


BROADCAST = [
    "T.ones(2,3) + T.ones(3,2)",
    "T.ones(2,3) * T.ones(4)",
    "T.ones(2,3) - T.ones(2,2)",
    "T.ones(2,3) / T.ones(5,3)",
    "T.maximum(T.ones(4,1,3), T.ones(2,2))",
    "T.where(T.ones(2,3) > 0, T.ones(3), T.ones(4))",
]

MATMUL = [
    "T.ones(2,3) @ T.ones(2,3)",
    "T.mm(T.ones(2,3), T.ones(4,5))",
    "T.ones(3) @ T.ones(4)",
    "T.ones(2,3) @ T.ones(4)",
    "T.ones(3) @ T.ones(4,2)",
    "T.ones(2,2,3) @ T.ones(2,4,5)",
    "T.ones(()) @ T.ones(3)",
]

VIEW = [
    "T.ones(2,3).view(5)",
    "T.ones(2,3).view(2, 4)",
    "T.ones(2,3).view(-1,-1)",
    "T.ones(2,3).reshape(4)",
    "T.ones(2,3).t().view(6)",
    "T.ones(4,3).t().view(2,6)",
    "T.ones(2,3).expand(3,3)",
]

DIMS = [
    "T.ones(2,3).sum(2)",
    "T.ones(2,3).sum(-3)",
    "T.ones(()).sum(1)",
    "T.ones(2,3).mean(5)",
    "T.ones(2,3).max(2)",
    "T.ones(2,3).transpose(0,2)",
    "T.ones(2,3).unsqueeze(3)",
    "T.ones(2,3).unsqueeze(-4)",
    "T.ones(2,3).squeeze(2)",
    "T.ones(2,3).select(2, 0)",
    "T.ones(2,3).select(0, 5)",
    "T.ones(2,3).select(1, -4)",
    "T.ones(2,3).permute(0,0)",
    "T.ones(2,3).permute(0)",
]

INDEX = [
    "T.ones(2,3)[2]",
    "T.ones(2,3)[-3]",
    "T.ones(2,3)[0,0,0]",
    "T.ones(2,3)[0,3]",
    "T.ones(2,3)[T.tensor([0,5])]",
]


@pytest.mark.parametrize("expr", BROADCAST + MATMUL + VIEW + DIMS + INDEX)
def test_error_matches_torch(expr):
    check(expr)


def test_dimension_out_of_range_text():
    with pytest.raises(IndexError, match=r"^Dimension out of range \(expected to be in range of "
                                         r"\[-2, 1\], but got 2\)$"):
        ember.ones(2, 3).sum(2)


def test_view_shape_text():
    with pytest.raises(RuntimeError, match=r"^shape '\[5\]' is invalid for input of size 6$"):
        ember.ones(2, 3).view(5)
