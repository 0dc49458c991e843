"""NAdam: Adam with Nesterov momentum and the momentum-decay schedule of Dozat (2016)."""
from .._device import array_module
from .optimizer import Optimizer, _adam_defaults, _adam_moments_, _arrays, _scalar_state


def _nadam(params, grads, exp_avgs, exp_avg_sqs, mu_products, steps, scratch, *, lr, beta1,
           beta2, eps, weight_decay, momentum_decay, decoupled_weight_decay, maximize):
    """NAdam on lists of arrays, in place; ``mu_products`` are the 0-dim state arrays."""
    decay = dict(maximize=maximize, lr=lr, weight_decay=weight_decay,
                 decoupled=decoupled_weight_decay)
    for k, param in enumerate(params):
        xp = array_module(param)
        step = steps[k]
        bias_correction2 = 1 - beta2 ** step
        exp_avg = exp_avgs[k]
        grad, t0, t1 = _adam_moments_(param, grads[k], exp_avg, exp_avg_sqs[k], scratch,
                                      beta1=beta1, beta2=beta2, **decay)
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
        # torch keeps the running product in a float32 tensor: its rounding is part of the
        # result.
        mu_product = mu_products[k]
        mu_product *= mu
        mu_product_value = float(mu_product)
        mu_product_next = mu_product_value * mu_next
        denom = xp.divide(exp_avg_sqs[k], bias_correction2, out=t1)
        xp.sqrt(denom, out=denom)
        denom += eps
        # param.addcdiv_(grad, denom, value) twice: (value * grad) / denom.
        update = xp.multiply(grad, -lr * (1.0 - mu) / (1.0 - mu_product_value), out=t0)
        update /= denom
        param += update
        update = xp.multiply(exp_avg, (-lr * mu_next) / (1.0 - mu_product_next), out=t0)
        update /= denom
        param += update


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

    def _update(self, params, grads, states, steps, group, scratch):
        beta1, beta2 = group["betas"]
        _nadam(params, grads, _arrays(states, "exp_avg"), _arrays(states, "exp_avg_sq"),
               _arrays(states, "mu_product"), steps, scratch, lr=float(group["lr"]),
               beta1=beta1, beta2=beta2, eps=group["eps"], weight_decay=group["weight_decay"],
               momentum_decay=group["momentum_decay"],
               decoupled_weight_decay=group["decoupled_weight_decay"],
               maximize=group["maximize"])
