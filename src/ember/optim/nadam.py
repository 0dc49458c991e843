"""NAdam: Adam with Nesterov momentum and the momentum-decay schedule of Dozat (2016)."""
from .optimizer import (Optimizer, _bump, _check_betas, _check_eps, _check_lr,
                        _check_weight_decay, _lerp_, _scalar_state, _step_value, _zeros_state)


def _update(param, grad, exp_avg, exp_avg_sq, mu_product, step, *, lr, beta1, beta2, eps,
            weight_decay, momentum_decay, decoupled_weight_decay, maximize):
    """One NAdam step; ``mu_product`` is the 0-dim state array, updated in place."""
    if maximize:
        grad = -grad
    bias_correction2 = 1 - beta2 ** step
    if weight_decay != 0:
        if decoupled_weight_decay:
            param *= 1 - lr * weight_decay
        else:
            grad = grad + weight_decay * param
    mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
    mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
    # torch keeps the running product in a float32 tensor: its rounding is part of the result.
    mu_product *= mu
    mu_product_value = float(mu_product)
    mu_product_next = mu_product_value * mu_next
    _lerp_(exp_avg, grad, 1 - beta1)
    exp_avg_sq *= beta2
    exp_avg_sq += (1 - beta2) * grad * grad
    denom = (exp_avg_sq / bias_correction2) ** 0.5 + eps
    param += (-lr * (1.0 - mu) / (1.0 - mu_product_value)) * grad / denom
    param += ((-lr * mu_next) / (1.0 - mu_product_next)) * exp_avg / denom


class NAdam(Optimizer):
    """``NAdam(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
    momentum_decay=4e-3, decoupled_weight_decay=False)``."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        _check_lr(lr)
        _check_eps(eps)
        _check_betas(betas)
        _check_weight_decay(weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def _step_group(self, group):
        beta1, beta2 = group["betas"]
        for p, g in self._grads(group):
            state = self.state[p]
            if len(state) == 0:
                state["step"] = _scalar_state(0.0)
                state["mu_product"] = _scalar_state(1.0)
                state["exp_avg"] = _zeros_state(p)
                state["exp_avg_sq"] = _zeros_state(p)
            step = _step_value(state)
            _update(p._data, g, state["exp_avg"]._data, state["exp_avg_sq"]._data,
                    state["mu_product"]._data, step, lr=float(group["lr"]), beta1=beta1,
                    beta2=beta2, eps=group["eps"], weight_decay=group["weight_decay"],
                    momentum_decay=group["momentum_decay"],
                    decoupled_weight_decay=group["decoupled_weight_decay"],
                    maximize=group["maximize"])
            _bump(p)

