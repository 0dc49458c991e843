"""gradcheck / gradgradcheck against torch's, on ops and on a wrong custom Function."""
import importlib
import warnings

import numpy as np
import pytest
import torch

import ember
from ember.autograd import Function
from ember.autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck

TorchGradcheckError = importlib.import_module("torch.autograd.gradcheck").GradcheckError
rng = np.random.default_rng(0)
A = rng.standard_normal((2, 3))
B = rng.standard_normal((3, 2))


def both(a, requires_grad=True):
    return (ember.tensor(a).requires_grad_(requires_grad),
            torch.tensor(a).requires_grad_(requires_grad))


CASES = [
    ("sin", lambda m, x: m.sin(x), (A,)),
    ("mul_broadcast", lambda m, x, y: x * y.sum(0), (A, B.T)),
    ("matmul", lambda m, x, y: m.matmul(x, y), (A, B)),
    ("sum_dim", lambda m, x: x.sum(1), (A,)),
    ("tanh_exp_two_outputs", lambda m, x: (m.tanh(x), m.exp(x).sum()), (A,)),
    ("transpose_index", lambda m, x: x.t()[1:, 0] * 3, (A,)),
    ("div_pow", lambda m, x, y: (x / (y.t() ** 2 + 1)), (A, B)),
]


@pytest.mark.parametrize("name,fn,arrays", CASES, ids=[c[0] for c in CASES])
def test_gradcheck_and_gradgradcheck_pass_like_torch(name, fn, arrays):
    e_in, t_in = zip(*(both(a) for a in arrays))
    assert torch.autograd.gradcheck(lambda *a: fn(torch, *a), t_in)
    assert gradcheck(lambda *a: fn(ember, *a), e_in) is True
    assert torch.autograd.gradgradcheck(lambda *a: fn(torch, *a), t_in)
    assert gradgradcheck(lambda *a: fn(ember, *a), e_in) is True


def test_gradcheck_forward_ad_passes():
    e, _ = both(A)
    assert gradcheck(lambda x: (x.sin() * x).sum(0), (e,), check_forward_ad=True)


class _WrongSquare:
    """x * x with backward g * x (missing the factor 2), for both libraries."""

    @staticmethod
    def make(base):
        class Wrong(base):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return g * x
        return Wrong


def test_wrong_custom_function_fails_with_torchs_message():
    x = np.array([1.0, 2.0])
    EW = _WrongSquare.make(ember.autograd.Function)
    TW = _WrongSquare.make(torch.autograd.Function)
    e, t = both(x)
    with pytest.raises(TorchGradcheckError) as tinfo:
        torch.autograd.gradcheck(TW.apply, (t,))
    with pytest.raises(GradcheckError) as einfo:
        gradcheck(EW.apply, (e,))
    assert isinstance(einfo.value, RuntimeError)
    assert str(einfo.value) == str(tinfo.value)
    assert str(einfo.value).startswith("Jacobian mismatch for output 0 with respect to input 0,")
    assert gradcheck(EW.apply, (e,), raise_exception=False) is False
    assert torch.autograd.gradcheck(TW.apply, (t,), raise_exception=False) is False


def test_wrong_second_derivative_fails_gradgradcheck():
    class Wrong(Function):
        # First derivative right (3x^2), but written with x * x * 2 inside a no-grad
        # constant, so its own derivative is wrong.
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * (x.detach() ** 2)
    e, _ = both(np.array([0.5, 1.5]))
    assert gradcheck(Wrong.apply, (e,))
    with pytest.raises(GradcheckError, match="Jacobian mismatch for output 0 with respect to input 0"):
        gradgradcheck(Wrong.apply, (e,))


def test_float32_input_warns_like_torch():
    x = np.array([1.0, 2.0], dtype=np.float32)
    with warnings.catch_warnings(record=True) as tw:
        warnings.simplefilter("always")
        torch.autograd.gradcheck(torch.sin, (torch.tensor(x, requires_grad=True),),
                                 raise_exception=False)
    with warnings.catch_warnings(record=True) as ew:
        warnings.simplefilter("always")
        gradcheck(ember.sin, (ember.tensor(x, requires_grad=True),), raise_exception=False)
    t_msgs = [str(w.message) for w in tw if w.category is UserWarning]
    e_msgs = [str(w.message) for w in ew if w.category is UserWarning]
    assert e_msgs and e_msgs == t_msgs[:len(e_msgs)]


def test_float32_mismatch_message_matches_torch():
    x = np.array([1.0, 2.0], dtype=np.float32)
    with pytest.raises(RuntimeError) as t_err, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.autograd.gradcheck(torch.sin, (torch.tensor(x, requires_grad=True),))
    with pytest.raises(GradcheckError) as e_err, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gradcheck(ember.sin, (ember.tensor(x, requires_grad=True),))
    assert str(e_err.value) == str(t_err.value)


def test_no_input_requires_grad():
    with pytest.raises(ValueError) as t_err:
        torch.autograd.gradcheck(torch.sin, (torch.tensor([1.0], dtype=torch.float64),))
    with pytest.raises(ValueError) as e_err:
        gradcheck(ember.sin, (ember.tensor([1.0], dtype=ember.float64),))
    assert str(e_err.value) == str(t_err.value)


def _function(name, forward, backward):
    """An ember autograd.Function subclass from its two static methods."""
    return type(name, (Function,), {"forward": staticmethod(forward),
                                    "backward": staticmethod(backward)})


def test_nondeterministic_backward_fails_reentrancy_check():
    calls = [0]

    def noisy_backward(ctx, g):
        calls[0] += 1
        return g * (2 + 1e-7 * calls[0])
    Noisy = _function("Noisy", lambda ctx, x: x * 2, noisy_backward)
    e, _ = both(np.array([1.0, 2.0]))
    with pytest.raises(GradcheckError, match="Backward is not reentrant"):
        gradcheck(Noisy.apply, (e,))
    calls[0] = 0
    assert gradcheck(Noisy.apply, (e,), nondet_tol=1e-6)


def test_check_undefined_grad_catches_backward_ignoring_zero_grads():
    # right for any g: passes
    Leaky = _function("Leaky", lambda ctx, x: x * 1.0, lambda ctx, g: g * 0 + g)
    e, _ = both(np.array([1.0, 2.0]))
    assert gradcheck(Leaky.apply, (e,))

    # non-zero gradient from zero grad_output
    Offset = _function("Offset", lambda ctx, x: x * 1.0,
                       lambda ctx, g: g + (g.sum() == 0).to(g.dtype))
    assert not gradcheck(Offset.apply, (e,), raise_exception=False)
    assert gradcheck(Offset.apply, (e,), check_undefined_grad=False)


def test_non_tensor_inputs_and_grad_outputs():
    e, _ = both(A)
    assert gradcheck(lambda x, k: x * k, (e, 3.0))
    go = ember.tensor(np.ones((2, 3))).requires_grad_()
    assert gradgradcheck(lambda x: x.sin(), (e,), (go,))
