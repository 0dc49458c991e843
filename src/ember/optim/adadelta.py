"""Adadelta (Zeiler, 2012)."""
from .optimizer import (Optimizer, _check_eps, _check_lr, _check_weight_decay, _effective_grad,
                        _square_avg_)


def _update(param, grad, square_avg, acc_delta, *, lr, rho, eps, weight_decay, maximize):
    grad = _effective_grad(param, grad, maximize=maximize, weight_decay=weight_decay)
    _square_avg_(square_avg, grad, rho)
    std = (square_avg + eps) ** 0.5
    delta = (acc_delta + eps) ** 0.5 / std * grad
    _square_avg_(acc_delta, delta, rho)
    param -= lr * delta


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

    def _update_param(self, param, grad, state, step, group):
        _update(param, grad, state["square_avg"]._data, state["acc_delta"]._data,
                lr=float(group["lr"]), rho=group["rho"], eps=group["eps"],
                weight_decay=group["weight_decay"], maximize=group["maximize"])
