"""Adamax: Adam with the infinity norm of past gradients in place of the second moment."""
from .._device import array_module
from .optimizer import Optimizer, _adam_defaults, _effective_grad, _lerp_


def _update(param, grad, exp_avg, exp_inf, step, *, lr, beta1, beta2, eps, weight_decay,
            maximize):
    grad = _effective_grad(param, grad, maximize=maximize, weight_decay=weight_decay)
    _lerp_(exp_avg, grad, 1 - beta1)
    exp_inf *= beta2
    array_module(param).maximum(exp_inf, abs(grad) + eps, out=exp_inf)
    clr = lr / (1 - beta1 ** step)
    param -= clr * exp_avg / exp_inf


class Adamax(Optimizer):
    """``Adamax(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0)``."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        defaults = _adam_defaults(lr, betas, eps, weight_decay, foreach=foreach,
                                  maximize=maximize, differentiable=differentiable,
                                  capturable=capturable)
        super().__init__(params, defaults)

    _zero_states = ("exp_avg", "exp_inf")

    def _update_param(self, param, grad, state, step, group):
        beta1, beta2 = group["betas"]
        _update(param, grad, state["exp_avg"]._data, state["exp_inf"]._data, step,
                lr=float(group["lr"]), beta1=beta1, beta2=beta2, eps=group["eps"],
                weight_decay=group["weight_decay"], maximize=group["maximize"])
