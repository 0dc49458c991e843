"""The op declarations (_ops/_declare.py) and the Op flags they sit beside: node-name
variants and autocast categories."""
import pytest

import ember
import ember._ops as ops
from ember._ops import _declare
from ember._ops.registry import REGISTRY, Op


def test_declared_functions_are_the_ember_functions():
    for name, fn in _declare.FUNCTIONS.items():
        assert getattr(ember, name) is fn
    assert sorted(ops.__all__) == sorted(_declare.FUNCTIONS)


def test_operator_forms():
    x = ember.tensor([1.0, 2.0])
    assert ember.Tensor.__iadd__ is ember.Tensor.add_
    assert ember.Tensor.__add__ is ember.add
    assert (3 - x).tolist() == [2.0, 1.0]
    assert (2 ** x).tolist() == [2.0, 4.0]
    assert ember.Tensor.arcsin_ is ember.Tensor.asin_
    assert not hasattr(ember.Tensor, "__ieq__")


def test_declaring_a_name_twice_raises():
    with pytest.raises(ValueError, match="declared twice"):
        _declare.declare(lambda input: input, name="add")


def test_variant_is_cached_and_not_registered():
    from ember._ops.reduction import sum_op
    v = sum_op.variant("SumBackward1")
    assert v is sum_op.variant("SumBackward1")
    assert v.forward is sum_op.forward and v.backward is sum_op.backward
    assert v not in REGISTRY.values()
    x = ember.ones(2, 3, requires_grad=True)
    assert type(x.sum(0).grad_fn).__name__ == "SumBackward1"
    assert type(x.sum().grad_fn).__name__ == "SumBackward0"


def test_autocast_category_is_checked():
    assert {op.autocast for op in REGISTRY.values()} == {None, "lower", "fp32"}
    with pytest.raises(ValueError):
        Op("bad", lambda a: a, autocast="half")
