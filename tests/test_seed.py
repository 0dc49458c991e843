"""The 2018 notes' autograd session (/work/shared/seed/torch-notes-2018.md), run verbatim
with ``import ember as torch``; the asserted values are the ones the notes show."""
import numpy as np

import ember as torch
from ember.autograd import Variable


def test_variable_mean_backward():
    x = Variable(torch.ones(2, 2), requires_grad=True)            # In[31]
    assert isinstance(x, Variable) and x.requires_grad and x.is_leaf
    np.testing.assert_array_equal(x.data.numpy(), np.ones((2, 2), np.float32))
    y = x * 2                                                      # In[33]
    np.testing.assert_array_equal(y.detach().numpy(), np.full((2, 2), 2, np.float32))
    assert y.grad_fn is not None                                   # In[35]
    assert type(y.grad_fn).__name__ == "MulBackward0"
    z = y * y * 3                                                  # In[36]
    np.testing.assert_array_equal(z.detach().numpy(), np.full((2, 2), 12, np.float32))
    out = z.mean()                                                 # In[38]
    assert out.item() == 12
    out.backward()                                                 # In[40]
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 2), 6, np.float32))  # In[41]


def test_legacy_one_element_gradient_for_scalar_output():
    # The notes: "out.backward() is the same as out.backward(torch.Tensor([1.0]))".
    # Compatibility choice: a 1-element gradient is accepted for a 0-dim output.
    x = Variable(torch.ones(2, 2), requires_grad=True)
    y = x * 2
    out = (y * y * 3).mean()
    assert out.shape == ()
    out.backward(torch.Tensor([1.0]))
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 2), 6, np.float32))


def _doubling_session(x):
    x = Variable(x, requires_grad=True)                            # In[43]
    y = x * 2                                                      # In[44]
    k = 1
    while y.data.norm() < 1000:                                    # In[45]
        y = y * 2
        k += 1
    gradients = torch.FloatTensor([0.1, 1.0, 0.0001])              # In[47]
    y.backward(gradients)                                          # In[48]
    return x, y, k


def test_doubling_loop_random():
    torch.manual_seed(0)
    x, y, k = _doubling_session(torch.randn(3))                     # In[42]
    xs = x.detach().numpy()
    assert np.linalg.norm(xs) * 2 ** k >= 1000 > np.linalg.norm(xs) * 2 ** (k - 1)
    np.testing.assert_allclose(y.detach().numpy(), xs * 2 ** k, rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), 2 ** k * np.array([0.1, 1.0, 0.0001]),
                               rtol=1e-6)                           # In[49]


def test_doubling_loop_stops_at_1024_as_in_the_notes():
    # The notes' y (Out[46]) divided by 1024: the loop runs to 2**10 for this x.
    x, y, k = _doubling_session(torch.tensor([0.92772, -1.15561, 1.17948]))
    assert k == 10
    np.testing.assert_allclose(y.detach().numpy(), [949.9853, -1183.3446, 1207.7875], rtol=1e-5)
    np.testing.assert_allclose(x.grad.numpy(), [102.4, 1024.0, 0.1024], rtol=1e-6)  # Out[49]
