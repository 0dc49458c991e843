"""RAdam: Adam with the variance rectification of Liu et al. (2019)."""
import math

from .optimizer import (Optimizer, _adam_defaults, _effective_grad, _lerp_, _square_avg_)


def _update(param, grad, exp_avg, exp_avg_sq, step, *, lr, beta1, beta2, eps, weight_decay,
            decoupled_weight_decay, maximize):
    grad = _effective_grad(param, grad, maximize=maximize, weight_decay=weight_decay, lr=lr,
                           decoupled=decoupled_weight_decay)
    _lerp_(exp_avg, grad, 1 - beta1)
    _square_avg_(exp_avg_sq, grad, beta2)
    bias_correction1 = 1 - beta1 ** step
    bias_correction2 = 1 - beta2 ** step
    corrected = exp_avg / bias_correction1
    # The length of the approximated simple moving average; below 5 the adaptive term's
    # variance is intractable and the step is plain momentum SGD.
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
    if rho_t > 5.0:
        rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                         / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
        adaptive_lr = math.sqrt(bias_correction2) / (exp_avg_sq ** 0.5 + eps)
        param -= corrected * lr * adaptive_lr * rect
    else:
        param -= corrected * lr


class RAdam(Optimizer):
    """``RAdam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
    decoupled_weight_decay=False)``."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        defaults = _adam_defaults(lr, betas, eps, weight_decay, maximize=maximize,
                                  foreach=foreach, capturable=capturable,
                                  decoupled_weight_decay=decoupled_weight_decay,
                                  differentiable=differentiable)
        super().__init__(params, defaults)

    _zero_states = ("exp_avg", "exp_avg_sq")

    def _update_param(self, param, grad, state, step, group):
        beta1, beta2 = group["betas"]
        _update(param, grad, state["exp_avg"]._data, state["exp_avg_sq"]._data, step,
                lr=float(group["lr"]), beta1=beta1, beta2=beta2, eps=group["eps"],
                weight_decay=group["weight_decay"],
                decoupled_weight_decay=group["decoupled_weight_decay"],
                maximize=group["maximize"])
