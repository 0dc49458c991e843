"""Adamax: Adam with the infinity norm of past gradients in place of the second moment."""
from .._device import array_module
from .optimizer import Optimizer, _adam_defaults, _arrays, _effective_grad, _lerp_


def _adamax(params, grads, exp_avgs, exp_infs, steps, scratch, *, lr, beta1, beta2, eps,
            weight_decay, maximize):
    """Adamax on lists of arrays, in place; ``steps`` counts this step."""
    for k, param in enumerate(params):
        xp = array_module(param)
        t0, t1 = scratch(param, 0), scratch(param, 1)
        grad = _effective_grad(param, grads[k], t0, maximize=maximize,
                               weight_decay=weight_decay)
        exp_avg, exp_inf = exp_avgs[k], exp_infs[k]
        _lerp_(exp_avg, grad, 1 - beta1, t1)
        exp_inf *= beta2
        bound = xp.abs(grad, out=t1)
        bound += eps
        xp.maximum(exp_inf, bound, out=exp_inf)
        clr = lr / (1 - beta1 ** steps[k])
        update = xp.multiply(exp_avg, clr, out=t0)
        update /= exp_inf
        param -= update


class Adamax(Optimizer):
    """``Adamax(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0)``."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        defaults = _adam_defaults(lr, betas, eps, weight_decay, foreach=foreach,
                                  maximize=maximize, differentiable=differentiable,
                                  capturable=capturable)
        super().__init__(params, defaults)

    _zero_states = ("exp_avg", "exp_inf")

    def _update(self, params, grads, states, steps, group, scratch):
        beta1, beta2 = group["betas"]
        _adamax(params, grads, _arrays(states, "exp_avg"), _arrays(states, "exp_inf"), steps,
                scratch, lr=float(group["lr"]), beta1=beta1, beta2=beta2, eps=group["eps"],
                weight_decay=group["weight_decay"], maximize=group["maximize"])
