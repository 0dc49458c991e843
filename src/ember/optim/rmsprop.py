"""RMSprop (Hinton's lecture 6e), optionally centered and with momentum."""
from .optimizer import (Optimizer, _bump, _check_eps, _check_lr, _check_weight_decay, _lerp_,
                        _scalar_state, _step_value, _zeros_state)


def _update(param, grad, square_avg, grad_avg, buf, *, lr, alpha, eps, weight_decay, momentum,
            centered, maximize):
    if maximize:
        grad = -grad
    if weight_decay != 0:
        grad = grad + weight_decay * param
    square_avg *= alpha
    square_avg += (1 - alpha) * grad * grad
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

    def _step_group(self, group):
        for p, g in self._grads(group):
            state = self.state[p]
            if len(state) == 0:
                state["step"] = _scalar_state(0.0)
                state["square_avg"] = _zeros_state(p)
                if group["momentum"] > 0:
                    state["momentum_buffer"] = _zeros_state(p)
                if group["centered"]:
                    state["grad_avg"] = _zeros_state(p)
            _step_value(state)
            grad_avg, buf = state.get("grad_avg"), state.get("momentum_buffer")
            _update(p._data, g, state["square_avg"]._data,
                    None if grad_avg is None else grad_avg._data,
                    None if buf is None else buf._data, lr=float(group["lr"]),
                    alpha=group["alpha"], eps=group["eps"], weight_decay=group["weight_decay"],
                    momentum=group["momentum"], centered=group["centered"],
                    maximize=group["maximize"])
            _bump(p)
