"""Stochastic gradient descent, with momentum, dampening, Nesterov and weight decay."""
from .optimizer import (Optimizer, _bump, _check_lr, _check_weight_decay, _effective_grad,
                        _make, required)
from .._tensor import Tensor
from ._sparse import sgd_sparse_step


def _update(param, grad, buf, *, lr, momentum, dampening, weight_decay, nesterov, maximize):
    """One SGD step on arrays; returns the momentum buffer (created on the first step)."""
    grad = _effective_grad(param, grad, maximize=maximize, weight_decay=weight_decay)
    if momentum != 0:
        if buf is None:
            buf = grad.copy()
        else:
            buf *= momentum
            buf += (1 - dampening) * grad
        grad = grad + momentum * buf if nesterov else buf
    param -= lr * grad
    return buf


class SGD(Optimizer):
    """``SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False)``."""

    _sparse_grads = True

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 fused=None):
        if lr is not required:
            _check_lr(lr)
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        _check_weight_decay(weight_decay)
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        foreach=foreach, differentiable=differentiable, fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("nesterov", False)
            group.setdefault("maximize", False)

    def _step_group(self, group):
        momentum = group["momentum"]
        for p, g in self._grads(group):
            if isinstance(g, Tensor):   # a sparse gradient: torch's tensor-op path
                sgd_sparse_step(p, g, self.state[p], lr=float(group["lr"]), momentum=momentum,
                                dampening=group["dampening"],
                                weight_decay=group["weight_decay"],
                                nesterov=group["nesterov"], maximize=group["maximize"])
                continue
            # Plain SGD keeps no per-parameter state at all (as torch: state_dict stays empty).
            buf = self.state[p].get("momentum_buffer") if momentum != 0 else None
            new = _update(p._data, g, None if buf is None else buf._data,
                          lr=float(group["lr"]), momentum=momentum,
                          dampening=group["dampening"], weight_decay=group["weight_decay"],
                          nesterov=group["nesterov"], maximize=group["maximize"])
            if momentum != 0 and buf is None:
                self.state[p]["momentum_buffer"] = _make(new)
            _bump(p)
