"""Adadelta (Zeiler, 2012)."""
from .optimizer import (Optimizer, _bump, _check_eps, _check_lr, _check_weight_decay,
                        _scalar_state, _step_value, _zeros_state)


def _update(param, grad, square_avg, acc_delta, *, lr, rho, eps, weight_decay, maximize):
    if maximize:
        grad = -grad
    if weight_decay != 0:
        grad = grad + weight_decay * param
    square_avg *= rho
    square_avg += (1 - rho) * grad * grad
    std = (square_avg + eps) ** 0.5
    delta = (acc_delta + eps) ** 0.5 / std * grad
    acc_delta *= rho
    acc_delta += (1 - rho) * delta * delta
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

    def _step_group(self, group):
        for p, g in self._grads(group):
            state = self.state[p]
            if len(state) == 0:
                state["step"] = _scalar_state(0.0)
                state["square_avg"] = _zeros_state(p)
                state["acc_delta"] = _zeros_state(p)
            _step_value(state)
            _update(p._data, g, state["square_avg"]._data, state["acc_delta"]._data,
                    lr=float(group["lr"]), rho=group["rho"], eps=group["eps"],
                    weight_decay=group["weight_decay"], maximize=group["maximize"])
            _bump(p)
