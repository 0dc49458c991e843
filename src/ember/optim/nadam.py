"""NAdam: Adam with Nesterov momentum and the momentum-decay schedule of Dozat (2016)."""
from .optimizer import (Optimizer, _adam_defaults, _effective_grad, _lerp_, _scalar_state,
                        _square_avg_)


def _update(param, grad, exp_avg, exp_avg_sq, mu_product, step, *, lr, beta1, beta2, eps,
            weight_decay, momentum_decay, decoupled_weight_decay, maximize):
    """One NAdam step; ``mu_product`` is the 0-dim state array, updated in place."""
    bias_correction2 = 1 - beta2 ** step
    grad = _effective_grad(param, grad, maximize=maximize, weight_decay=weight_decay, lr=lr,
                           decoupled=decoupled_weight_decay)
    mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
    mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
    # torch keeps the running product in a float32 tensor: its rounding is part of the result.
    mu_product *= mu
    mu_product_value = float(mu_product)
    mu_product_next = mu_product_value * mu_next
    _lerp_(exp_avg, grad, 1 - beta1)
    _square_avg_(exp_avg_sq, grad, beta2)
    denom = (exp_avg_sq / bias_correction2) ** 0.5 + eps
    param += (-lr * (1.0 - mu) / (1.0 - mu_product_value)) * grad / denom
    param += ((-lr * mu_next) / (1.0 - mu_product_next)) * exp_avg / denom


class NAdam(Optimizer):
    """``NAdam(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
    momentum_decay=4e-3, decoupled_weight_decay=False)``."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        defaults = _adam_defaults(lr, betas, eps, weight_decay, momentum_decay=momentum_decay,
                                  decoupled_weight_decay=decoupled_weight_decay,
                                  maximize=maximize, foreach=foreach, capturable=capturable,
                                  differentiable=differentiable)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        super().__init__(params, defaults)

    _zero_states = ("exp_avg", "exp_avg_sq")

    def _init_state(self, state, p, group):
        state["mu_product"] = _scalar_state(1.0)
        super()._init_state(state, p, group)

    def _update_param(self, param, grad, state, step, group):
        beta1, beta2 = group["betas"]
        _update(param, grad, state["exp_avg"]._data, state["exp_avg_sq"]._data,
                state["mu_product"]._data, step, lr=float(group["lr"]), beta1=beta1,
                beta2=beta2, eps=group["eps"], weight_decay=group["weight_decay"],
                momentum_decay=group["momentum_decay"],
                decoupled_weight_decay=group["decoupled_weight_decay"],
                maximize=group["maximize"])
