"""The legacy Variable API: a Variable is a Tensor since torch 0.4."""
import warnings

import numpy as np
import pytest
import torch
from torch.autograd import Variable as TVariable

import ember
from ember.autograd import Variable


def test_variable_returns_tensor_sharing_data():
    t = ember.ones(2)
    v = Variable(t, requires_grad=True)
    assert type(v) is ember.Tensor and v is not t
    assert v.requires_grad and v.is_leaf and not t.requires_grad
    v.data[0] = 5
    assert t[0].item() == 5
    v2 = Variable(t)
    assert not v2.requires_grad and v2 is not t


def test_isinstance_variable_holds_for_every_tensor():
    assert isinstance(ember.ones(1), Variable)
    assert isinstance(ember.ones(1, requires_grad=True) * 2, Variable)
    assert not isinstance(np.ones(1), Variable)


def test_volatile_warns_like_torch():
    msgs = []
    for V, T in ((TVariable, torch), (Variable, ember)):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            V(T.ones(2), volatile=True)
        assert [x.category for x in w] == [UserWarning]
        msgs.append(str(w[0].message))
    assert msgs[0] == msgs[1]


def test_variable_errors_and_empty():
    with pytest.raises(TypeError) as te:
        TVariable([1.0])
    with pytest.raises(TypeError) as ee:
        Variable([1.0])
    assert str(ee.value) == str(te.value)
    assert Variable().shape == TVariable().shape


def test_variable_in_a_graph():
    x = Variable(ember.tensor([1.0, 2.0]), requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])
