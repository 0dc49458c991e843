"""Adagrad (Duchi et al., 2011), with learning-rate decay."""
from .optimizer import (Optimizer, _bump, _check_eps, _check_lr, _check_weight_decay,
                        _effective_grad, _make, _scalar_state, _step_value)
from .._tensor import Tensor
from ._sparse import adagrad_sparse_step


def _update(param, grad, state_sum, step, *, lr, lr_decay, weight_decay, eps, maximize):
    grad = _effective_grad(param, grad, maximize=maximize, weight_decay=weight_decay)
    clr = lr / (1 + (step - 1) * lr_decay)
    state_sum += grad * grad
    std = state_sum ** 0.5 + eps
    param -= clr * grad / std


class Adagrad(Optimizer):
    """``Adagrad(params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
    eps=1e-10)``."""

    _sparse_grads = True

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0,
                 initial_accumulator_value=0, eps=1e-10, foreach=None, *, maximize=False,
                 differentiable=False, fused=None):
        _check_lr(lr)
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        _check_weight_decay(weight_decay)
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: "
                             f"{initial_accumulator_value}")
        _check_eps(eps)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        # Unlike the other optimizers, Adagrad's state exists from construction on.
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                state["step"] = _scalar_state(0.0)
                acc = p._data.copy()
                acc[...] = group["initial_accumulator_value"]
                state["sum"] = _make(acc)

    def _step_group(self, group):
        for p, g in self._grads(group):
            state = self.state[p]
            step = _step_value(state)
            if isinstance(g, Tensor):   # a sparse gradient: torch's tensor-op path
                adagrad_sparse_step(p, g, state["sum"], step, lr=float(group["lr"]),
                                    lr_decay=group["lr_decay"],
                                    weight_decay=group["weight_decay"], eps=group["eps"],
                                    maximize=group["maximize"])
                _bump(p)
                continue
            _update(p._data, g, state["sum"]._data, step, lr=float(group["lr"]),
                    lr_decay=group["lr_decay"], weight_decay=group["weight_decay"],
                    eps=group["eps"], maximize=group["maximize"])
            _bump(p)
