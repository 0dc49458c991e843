"""Adam and AdamW (Adam with decoupled weight decay)."""
import math

from .._device import array_module
from .optimizer import (Optimizer, _adam_defaults, _arrays, _check_foreach_fused,
                        _adam_moments_, _zeros_state)


def _adam(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, scratch, *, lr, beta1,
          beta2, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay):
    """Adam on lists of arrays, in place; ``steps`` counts this step.  Per parameter it is
    torch's single-tensor arithmetic in the same order, with two scratch temporaries."""
    decay = dict(maximize=maximize, lr=lr, weight_decay=weight_decay,
                 decoupled=decoupled_weight_decay)
    for k, param in enumerate(params):
        xp = array_module(param)
        exp_avg, second = exp_avgs[k], exp_avg_sqs[k]
        _, t0, t1 = _adam_moments_(param, grads[k], exp_avg, second, scratch,
                                   beta1=beta1, beta2=beta2, **decay)
        step = steps[k]
        bias_correction2_sqrt = math.sqrt(1 - beta2 ** step)
        step_size = lr / (1 - beta1 ** step)
        if amsgrad:
            second = xp.maximum(max_exp_avg_sqs[k], second, out=max_exp_avg_sqs[k])
        denom = xp.sqrt(second, out=t1)
        denom /= bias_correction2_sqrt
        denom += eps
        # param.addcdiv_(exp_avg, denom, value=-step_size): (value * exp_avg) / denom.
        update = xp.multiply(exp_avg, step_size, out=t0)
        update /= denom
        param -= update


class Adam(Optimizer):
    """``Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False)``."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        defaults = _adam_defaults(lr, betas, eps, weight_decay, amsgrad=amsgrad,
                                  maximize=maximize, foreach=foreach, capturable=capturable,
                                  differentiable=differentiable, fused=fused,
                                  decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)
        _check_foreach_fused(foreach, fused, differentiable)

    _zero_states = ("exp_avg", "exp_avg_sq")

    _sparse_hint = ", please consider SparseAdam instead"
    _sparse_name = "Adam"   # AdamW too: torch's AdamW is an Adam

    def _init_state(self, state, p, group):
        super()._init_state(state, p, group)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = _zeros_state(p)

    def _update(self, params, grads, states, steps, group, scratch):
        beta1, beta2 = group["betas"]
        _adam(params, grads, _arrays(states, "exp_avg"), _arrays(states, "exp_avg_sq"),
              _arrays(states, "max_exp_avg_sq"), steps, scratch, lr=float(group["lr"]),
              beta1=beta1, beta2=beta2, eps=group["eps"], weight_decay=group["weight_decay"],
              amsgrad=group["amsgrad"], maximize=group["maximize"],
              decoupled_weight_decay=group["decoupled_weight_decay"])


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter); ``weight_decay=1e-2``."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)
