"""RAdam: Adam with the variance rectification of Liu et al. (2019)."""
import math

from .._device import array_module
from .optimizer import Optimizer, _adam_defaults, _adam_moments_, _arrays


def _radam(params, grads, exp_avgs, exp_avg_sqs, steps, scratch, *, lr, beta1, beta2, eps,
           weight_decay, decoupled_weight_decay, maximize):
    """RAdam on lists of arrays, in place; ``steps`` counts this step."""
    decay = dict(maximize=maximize, lr=lr, weight_decay=weight_decay,
                 decoupled=decoupled_weight_decay)
    for k, param in enumerate(params):
        xp = array_module(param)
        exp_avg, exp_avg_sq = exp_avgs[k], exp_avg_sqs[k]
        _, t0, t1 = _adam_moments_(param, grads[k], exp_avg, exp_avg_sq, scratch,
                                   beta1=beta1, beta2=beta2, **decay)
        step = steps[k]
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        update = xp.divide(exp_avg, bias_correction1, out=t0)
        # The length of the approximated simple moving average; below 5 the adaptive term's
        # variance is intractable and the step is plain momentum SGD.
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
        update *= lr
        if rho_t > 5.0:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                             / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            # adaptive_lr = sqrt(bias_correction2) / (exp_avg_sq.sqrt() + eps)
            adaptive = xp.sqrt(exp_avg_sq, out=t1)
            adaptive += eps
            xp.divide(math.sqrt(bias_correction2), adaptive, out=adaptive)
            update *= adaptive
            update *= rect
        param -= update


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

    def _update(self, params, grads, states, steps, group, scratch):
        beta1, beta2 = group["betas"]
        _radam(params, grads, _arrays(states, "exp_avg"), _arrays(states, "exp_avg_sq"), steps,
               scratch, lr=float(group["lr"]), beta1=beta1, beta2=beta2, eps=group["eps"],
               weight_decay=group["weight_decay"],
               decoupled_weight_decay=group["decoupled_weight_decay"],
               maximize=group["maximize"])
