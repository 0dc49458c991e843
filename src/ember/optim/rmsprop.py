"""RMSprop (Hinton's lecture 6e), optionally centered and with momentum."""
from .optimizer import (Optimizer, _check_eps, _check_lr, _check_weight_decay, _effective_grad,
                        _lerp_, _square_avg_, _zeros_state)


def _update(param, grad, square_avg, grad_avg, buf, *, lr, alpha, eps, weight_decay, momentum,
            centered, maximize):
    grad = _effective_grad(param, grad, maximize=maximize, weight_decay=weight_decay)
    _square_avg_(square_avg, grad, alpha)
    if centered:
        _lerp_(grad_avg, grad, 1 - alpha)
        avg = (square_avg - grad_avg * grad_avg) ** 0.5
    else:
        avg = square_avg ** 0.5
    avg += eps
    if momentum > 0:
        buf *= momentum
        buf += grad / avg
        param -= lr * buf
    else:
        param -= lr * grad / avg


class RMSprop(Optimizer):
    """``RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
    centered=False)``."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        _check_lr(lr)
        _check_eps(eps)
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        _check_weight_decay(weight_decay)
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, state, p, group):
        state["square_avg"] = _zeros_state(p)
        if group["momentum"] > 0:
            state["momentum_buffer"] = _zeros_state(p)
        if group["centered"]:
            state["grad_avg"] = _zeros_state(p)

    def _update_param(self, param, grad, state, step, group):
        grad_avg, buf = state.get("grad_avg"), state.get("momentum_buffer")
        _update(param, grad, state["square_avg"]._data,
                None if grad_avg is None else grad_avg._data,
                None if buf is None else buf._data, lr=float(group["lr"]),
                alpha=group["alpha"], eps=group["eps"], weight_decay=group["weight_decay"],
                momentum=group["momentum"], centered=group["centered"],
                maximize=group["maximize"])
