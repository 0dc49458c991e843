"""gradcheck / gradgradcheck: compare autograd's Jacobians with finite differences.

Jacobians are laid out as torch prints them in its error: one row per input
element, one column per output element.  The numerical Jacobian uses central
differences ``(f(x + eps) - f(x - eps)) / (2 eps)`` on detached copies of the
inputs; the analytical one is built column by column with ``autograd.grad``.
They must agree as ``allclose(analytical, numerical, rtol, atol)`` does.

Simplifications against torch (documented, not hidden):

- ``fast_mode=True`` runs the full (slow-mode) check, which is at least as strict.
- ``check_undefined_grad`` runs the backward with all-zero output gradients and
  requires every input gradient to be None or zero (torch passes undefined
  gradients; Ember's engine has no undefined-tensor notion to pass).
- ``nondet_tol``: the analytical Jacobian is computed twice; the two must agree
  within ``nondet_tol`` (torch's reentrancy check).
- ``check_forward_ad`` checks the Jacobian built from ``forward_ad`` tangents.
- Real dtypes only; torch's batched-gradient and masked options are not offered.

    >>> gradcheck(ember.sin, (ember.randn(3, dtype=ember.float64, requires_grad=True),))
    True
"""
import warnings

import numpy as np

from .._tensor import Tensor, _make
from . import grad_mode

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """Raised by gradcheck and gradgradcheck when a check fails."""


def _as_tuple(x):
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def _differentiable(outputs):
    return [o for o in outputs if isinstance(o, Tensor) and o.dtype.is_floating_point]


def _eval(func, inputs):
    # Grad mode stays on: gradgradcheck's function itself calls autograd.grad.
    with grad_mode.enable_grad():
        outs = _as_tuple(func(*inputs))
    return [o.detach() for o in _differentiable(outs)]


def _numerical_jacobians(func, inputs, idx_inputs, outputs, eps):
    """{(input i, output j): (in_numel, out_numel) float64 array} by central differences."""
    res = {}
    for i in idx_inputs:
        x = inputs[i]
        base = x.detach()._data
        jac = [np.zeros((base.size, o.nelement()), dtype=np.float64) for o in outputs]
        for k in range(base.size):
            evals = []
            for sign in (1, -1):
                pert = base.copy()
                flat = pert.reshape(-1)
                flat[k] = flat[k] + sign * eps
                args = list(inputs)
                args[i] = _make(pert).requires_grad_(True)
                evals.append(_eval(func, args))
            for j, (hi, lo) in enumerate(zip(*evals)):
                diff = (hi._data.astype(np.float64) - lo._data.astype(np.float64)) / (2 * eps)
                jac[j][k] = diff.reshape(-1)
        for j in range(len(outputs)):
            res[(i, j)] = jac[j]
    return res


def _analytical_jacobians(outputs, inputs, idx_inputs):
    from . import grad as _grad
    from .._creation import zeros
    res = {(i, j): np.zeros((inputs[i].nelement(), o.nelement()), dtype=np.float64)
           for i in idx_inputs for j, o in enumerate(outputs)}
    diff_inputs = [inputs[i] for i in idx_inputs]
    for j, out in enumerate(outputs):
        if not out.requires_grad:
            continue
        n = out.nelement()
        for c in range(n):
            onehot = zeros(n, dtype=out.dtype)
            onehot._data[c] = 1
            grads = _grad((out,), diff_inputs, (onehot.reshape(out.shape),), retain_graph=True,
                          allow_unused=True)
            for i, g in zip(idx_inputs, grads):
                if g is not None:
                    res[(i, j)][:, c] = g.detach()._data.astype(np.float64).reshape(-1)
    return res


def _forward_jacobians(func, inputs, idx_inputs, outputs):
    from . import forward_ad as fwAD
    from .._creation import zeros
    res = {(i, j): np.zeros((inputs[i].nelement(), o.nelement()), dtype=np.float64)
           for i in idx_inputs for j, o in enumerate(outputs)}
    for i in idx_inputs:
        x = inputs[i]
        for k in range(x.nelement()):
            e = zeros(x.nelement(), dtype=x.dtype)
            e._data[k] = 1
            with fwAD.dual_level():
                args = list(inputs)
                args[i] = fwAD.make_dual(x.detach(), e.reshape(x.shape))
                outs = _differentiable(_as_tuple(func(*args)))
                for j, o in enumerate(outs):
                    t = fwAD.unpack_dual(o).tangent
                    if t is not None:
                        res[(i, j)][k] = t.detach()._data.astype(np.float64).reshape(-1)
    return res


def _as_tensor(a, like):
    # torch prints the Jacobians in the input's dtype.
    return _make(np.asarray(a, dtype=np.float64)).to(like.dtype)


def _fail(msg, raise_exception):
    if raise_exception:
        raise GradcheckError(msg)
    return False


def gradcheck(func, inputs, *, eps=1e-06, atol=1e-05, rtol=0.001, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
              check_forward_ad=False, check_backward_ad=True, fast_mode=False):
    """Check the gradients of ``func`` at ``inputs`` against finite differences."""
    from .._dtype import complex128, float64
    inputs = _as_tuple(inputs)
    idx_inputs = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not idx_inputs:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but "
                         "none of them have requires_grad=True.")
    for i in idx_inputs:
        if inputs[i].dtype not in (float64, complex128):
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating "
                          "point or complex. This check will likely fail if all the inputs are "
                          "not of double precision floating point or complex. ", stacklevel=2)

    with grad_mode.enable_grad():
        outputs = _differentiable(_as_tuple(func(*inputs)))
    numerical = _numerical_jacobians(func, inputs, idx_inputs, outputs, eps)

    def mismatch(analytical, kind):
        for (i, j), a in analytical.items():
            n = numerical[(i, j)]
            if not np.allclose(a, n, rtol=rtol, atol=atol):
                return (f"Jacobian {kind}mismatch for output {j} with respect to input {i},\n"
                        f"numerical:{_as_tensor(n, inputs[i])}\n"
                        f"analytical:{_as_tensor(a, inputs[i])}\n")
        return None

    if check_backward_ad:
        for j, o in enumerate(outputs):
            if not o.requires_grad and any(np.any(numerical[(i, j)]) for i in idx_inputs):
                return _fail("Numerical gradient for function expected to be zero",
                             raise_exception)
        analytical = _analytical_jacobians(outputs, inputs, idx_inputs)
        msg = mismatch(analytical, "")
        if msg:
            return _fail(msg, raise_exception)
        again = _analytical_jacobians(outputs, inputs, idx_inputs)
        for key, a in analytical.items():
            if np.max(np.abs(a - again[key]), initial=0.0) > nondet_tol:
                return _fail("Backward is not reentrant, i.e., running backward with same input "
                             "and grad_output multiple times gives different values, although "
                             "analytical gradient matches numerical gradient.The tolerance for "
                             f"nondeterminism was {nondet_tol}.", raise_exception)
        if check_grad_dtypes and not _grad_dtypes_ok(outputs, inputs, idx_inputs):
            return _fail("Gradient has dtype mismatch", raise_exception)
        if check_undefined_grad and not _undefined_grad_ok(outputs, inputs, idx_inputs):
            return _fail('Expected backward function to handle undefined output grads. Please '
                         'look at "Notes about undefined output gradients" in '
                         '"tools/autograd/derivatives.yaml"', raise_exception)
    if check_forward_ad:
        msg = mismatch(_forward_jacobians(func, inputs, idx_inputs, outputs),
                       "computed with forward mode ")
        if msg:
            return _fail(msg, raise_exception)
    return True


def _grad_dtypes_ok(outputs, inputs, idx_inputs):
    from . import grad as _grad
    from .._creation import ones_like
    outs = [o for o in outputs if o.requires_grad]
    if not outs:
        return True
    grads = _grad(outs, [inputs[i] for i in idx_inputs], [ones_like(o) for o in outs],
                  retain_graph=True, allow_unused=True)
    return all(g is None or (g.dtype is inputs[i].dtype and g.shape == inputs[i].shape)
               for i, g in zip(idx_inputs, grads))


def _undefined_grad_ok(outputs, inputs, idx_inputs):
    from . import grad as _grad
    from .._creation import zeros_like
    outs = [o for o in outputs if o.requires_grad]
    if not outs:
        return True
    grads = _grad(outs, [inputs[i] for i in idx_inputs], [zeros_like(o) for o in outs],
                  retain_graph=True, allow_unused=True)
    return all(g is None or not np.any(g.detach()._data) for g in grads)


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-06, atol=1e-05, rtol=0.001,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_fwd_over_rev=False,
                  check_rev_over_rev=True, fast_mode=False):
    """gradcheck of the gradients of ``func``: checks second derivatives.

    Without ``grad_outputs``, random ones in [-1, 1) are drawn (requiring grad, so
    the check covers the backward's dependence on them too).
    ``gen_non_contig_grad_outputs`` is accepted; Ember arrays' layout does not
    change the result.
    """
    from . import grad as _grad
    from .._random import rand
    inputs = _as_tuple(inputs)
    if grad_outputs is None:
        with grad_mode.enable_grad():
            outputs = _differentiable(_as_tuple(func(*inputs)))
        grad_outputs = tuple((rand(o.shape, dtype=o.dtype) * 2 - 1).requires_grad_(True)
                             for o in outputs if o.requires_grad)
    else:
        grad_outputs = _as_tuple(grad_outputs)
    n_in = len(inputs)

    def new_func(*args):
        inp, gos = args[:n_in], args[n_in:]
        outs = [o for o in _differentiable(_as_tuple(func(*inp))) if o.requires_grad]
        diff = [x for x in inp if isinstance(x, Tensor) and x.requires_grad]
        grads = _grad(outs, diff, gos, create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(new_func, inputs + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol,
                     check_undefined_grad=check_undefined_grad,
                     check_grad_dtypes=check_grad_dtypes, check_forward_ad=check_fwd_over_rev,
                     check_backward_ad=check_rev_over_rev, fast_mode=fast_mode)
