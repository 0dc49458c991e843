"""RMSprop (Hinton's lecture 6e), optionally centered and with momentum."""
from .._device import array_module
from .optimizer import (Optimizer, _arrays, _check_eps, _check_lr, _check_weight_decay,
                        _effective_grad, _lerp_, _square_avg_, _zeros_state)


def _rmsprop(params, grads, square_avgs, grad_avgs, bufs, scratch, *, lr, alpha, eps,
             weight_decay, momentum, centered, maximize):
    """RMSprop on lists of arrays, in place."""
    for k, param in enumerate(params):
        xp = array_module(param)
        t0, t1 = scratch(param, 0), scratch(param, 1)
        grad = _effective_grad(param, grads[k], t0, maximize=maximize,
                               weight_decay=weight_decay)
        square_avg = square_avgs[k]
        _square_avg_(square_avg, grad, alpha, t1)
        if centered:
            grad_avg = grad_avgs[k]
            _lerp_(grad_avg, grad, 1 - alpha, t1)
            avg = xp.multiply(grad_avg, grad_avg, out=t1)
            xp.subtract(square_avg, avg, out=avg)
            xp.sqrt(avg, out=avg)
        else:
            avg = xp.sqrt(square_avg, out=t1)
        avg += eps
        if momentum > 0:
            buf = bufs[k]
            buf *= momentum
            buf += xp.divide(grad, avg, out=t1)
            param -= xp.multiply(buf, lr, out=t0)
        else:
            # param.addcdiv_(grad, avg, value=-lr): (lr * grad) / avg.
            update = xp.multiply(grad, lr, out=t0)
            update /= avg
            param -= update


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

    def _update(self, params, grads, states, steps, group, scratch):
        _rmsprop(params, grads, _arrays(states, "square_avg"), _arrays(states, "grad_avg"),
                 _arrays(states, "momentum_buffer"), scratch, lr=float(group["lr"]),
                 alpha=group["alpha"], eps=group["eps"], weight_decay=group["weight_decay"],
                 momentum=group["momentum"], centered=group["centered"],
                 maximize=group["maximize"])
