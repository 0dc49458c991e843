"""Adadelta (Zeiler, 2012)."""
from .._device import array_module
from .optimizer import (Optimizer, _arrays, _check_eps, _check_lr, _check_weight_decay,
                        _effective_grad, _square_avg_)


def _adadelta(params, grads, square_avgs, acc_deltas, scratch, *, lr, rho, eps, weight_decay,
              maximize):
    """Adadelta on lists of arrays, in place."""
    for k, param in enumerate(params):
        xp = array_module(param)
        t0, t1, t2 = scratch(param, 0), scratch(param, 1), scratch(param, 2)
        grad = _effective_grad(param, grads[k], t0, maximize=maximize,
                               weight_decay=weight_decay)
        square_avg, acc_delta = square_avgs[k], acc_deltas[k]
        _square_avg_(square_avg, grad, rho, t1)
        std = xp.add(square_avg, eps, out=t1)
        xp.sqrt(std, out=std)
        # delta = (acc_delta + eps).sqrt_().div_(std).mul_(grad)
        delta = xp.add(acc_delta, eps, out=t2)
        xp.sqrt(delta, out=delta)
        delta /= std
        delta *= grad
        _square_avg_(acc_delta, delta, rho, t1)
        param -= xp.multiply(delta, lr, out=t0)


class Adadelta(Optimizer):
    """``Adadelta(params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0)``."""

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        _check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        _check_eps(eps)
        _check_weight_decay(weight_decay)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                        maximize=maximize, capturable=capturable, foreach=foreach,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    _zero_states = ("square_avg", "acc_delta")

    def _update(self, params, grads, states, steps, group, scratch):
        _adadelta(params, grads, _arrays(states, "square_avg"), _arrays(states, "acc_delta"),
                  scratch, lr=float(group["lr"]), rho=group["rho"], eps=group["eps"],
                  weight_decay=group["weight_decay"], maximize=group["maximize"])
