"""Adamax: Adam with the infinity norm of past gradients in place of the second moment."""
from .._device import array_module
from .optimizer import (Optimizer, _bump, _check_betas, _check_eps, _check_lr,
                        _check_weight_decay, _lerp_, _scalar_state, _step_value, _zeros_state)


def _update(param, grad, exp_avg, exp_inf, step, *, lr, beta1, beta2, eps, weight_decay,
            maximize):
    if maximize:
        grad = -grad
    if weight_decay != 0:
        grad = grad + weight_decay * param
    _lerp_(exp_avg, grad, 1 - beta1)
    exp_inf *= beta2
    array_module(param).maximum(exp_inf, abs(grad) + eps, out=exp_inf)
    clr = lr / (1 - beta1 ** step)
    param -= clr * exp_avg / exp_inf


class Adamax(Optimizer):
    """``Adamax(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0)``."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        _check_lr(lr)
        _check_eps(eps)
        _check_betas(betas)
        _check_weight_decay(weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def _step_group(self, group):
        beta1, beta2 = group["betas"]
        for p, g in self._grads(group):
            state = self.state[p]
            if len(state) == 0:
                state["step"] = _scalar_state(0.0)
                state["exp_avg"] = _zeros_state(p)
                state["exp_inf"] = _zeros_state(p)
            step = _step_value(state)
            _update(p._data, g, state["exp_avg"]._data, state["exp_inf"]._data, step,
                    lr=float(group["lr"]), beta1=beta1, beta2=beta2, eps=group["eps"],
                    weight_decay=group["weight_decay"], maximize=group["maximize"])
            _bump(p)
