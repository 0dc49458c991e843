"""Adam and AdamW (Adam with decoupled weight decay)."""
import math

from .._device import array_module
from .optimizer import (Optimizer, _adam_defaults, _effective_grad, _lerp_, _square_avg_,
                        _zeros_state)


def _update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, *, lr, beta1, beta2, eps,
            weight_decay, amsgrad, maximize, decoupled_weight_decay):
    """One Adam step on arrays (``step`` already counts this step)."""
    grad = _effective_grad(param, grad, maximize=maximize, weight_decay=weight_decay, lr=lr,
                           decoupled=decoupled_weight_decay)
    _lerp_(exp_avg, grad, 1 - beta1)
    _square_avg_(exp_avg_sq, grad, beta2)
    bias_correction1 = 1 - beta1 ** step
    bias_correction2_sqrt = math.sqrt(1 - beta2 ** step)
    step_size = lr / bias_correction1
    if amsgrad:
        array_module(param).maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        second = max_exp_avg_sq
    else:
        second = exp_avg_sq
    denom = second ** 0.5 / bias_correction2_sqrt + eps
    param -= step_size * exp_avg / denom


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

    _zero_states = ("exp_avg", "exp_avg_sq")

    _sparse_hint = ", please consider SparseAdam instead"
    _sparse_name = "Adam"   # AdamW too: torch's AdamW is an Adam

    def _init_state(self, state, p, group):
        super()._init_state(state, p, group)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = _zeros_state(p)

    def _update_param(self, param, grad, state, step, group):
        beta1, beta2 = group["betas"]
        max_sq = state.get("max_exp_avg_sq")
        _update(param, grad, state["exp_avg"]._data, state["exp_avg_sq"]._data,
                None if max_sq is None else max_sq._data, step,
                lr=float(group["lr"]), beta1=beta1, beta2=beta2, eps=group["eps"],
                weight_decay=group["weight_decay"], amsgrad=group["amsgrad"],
                maximize=group["maximize"],
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
