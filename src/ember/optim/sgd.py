"""Stochastic gradient descent, with momentum, dampening, Nesterov and weight decay."""
from .._device import array_module
from .._tensor import Tensor
from ._sparse import sgd_sparse_step
from .optimizer import (Optimizer, _bump, _check_foreach_fused, _check_lr, _check_weight_decay,
                        _effective_grad, _make, required)


def _sgd(params, grads, bufs, scratch, *, lr, momentum, dampening, weight_decay, nesterov,
         maximize):
    """SGD on lists of arrays, in place.  ``bufs`` holds each parameter's momentum buffer
    or None; a None becomes the first step's gradient (a new array) in the list."""
    for k, param in enumerate(params):
        xp = array_module(param)
        t0 = scratch(param, 0)
        grad = _effective_grad(param, grads[k], t0, maximize=maximize,
                               weight_decay=weight_decay)
        if momentum != 0:
            buf = bufs[k]
            if buf is None:
                buf = bufs[k] = grad.copy()
            else:
                buf *= momentum
                if dampening != 0:
                    buf += xp.multiply(grad, 1 - dampening, out=scratch(param, 1))
                else:  # (1 - 0) * grad is grad itself
                    buf += grad
            if nesterov:
                # grad + momentum * buf
                step = xp.multiply(buf, momentum, out=scratch(param, 1))
                step += grad
                grad = step
            else:
                grad = buf
        param -= xp.multiply(grad, lr, out=t0)


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
        _check_foreach_fused(foreach, fused, differentiable)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("nesterov", False)
            group.setdefault("maximize", False)

    def _step_group(self, group):
        momentum = group["momentum"]
        pairs = []
        for p, g in self._grads(group):
            if isinstance(g, Tensor):   # a sparse gradient: torch's tensor-op path
                sgd_sparse_step(p, g, self.state[p], lr=float(group["lr"]), momentum=momentum,
                                dampening=group["dampening"],
                                weight_decay=group["weight_decay"],
                                nesterov=group["nesterov"], maximize=group["maximize"])
            else:
                pairs.append((p, g))
        if pairs:
            self._on_devices(pairs, lambda some: self._dense_step(group, some))

    def _dense_step(self, group, pairs):
        momentum = group["momentum"]
        # Plain SGD keeps no per-parameter state at all (as torch: state_dict stays empty).
        olds = [self.state[p].get("momentum_buffer") if momentum != 0 else None
                for p, _ in pairs]
        bufs = [None if b is None else b._data for b in olds]
        options = dict(lr=float(group["lr"]), momentum=momentum, dampening=group["dampening"],
                       weight_decay=group["weight_decay"], nesterov=group["nesterov"],
                       maximize=group["maximize"])
        scratch = self._scratch()
        if group.get("foreach") is False:
            for k, (p, g) in enumerate(pairs):
                one = bufs[k:k + 1]
                _sgd([p._data], [g], one, scratch, **options)
                bufs[k] = one[0]
        else:
            _sgd([p._data for p, _ in pairs], [g for _, g in pairs], bufs, scratch, **options)
        for (p, _), old, buf in zip(pairs, olds, bufs):
            if momentum != 0 and old is None:
                self.state[p]["momentum_buffer"] = _make(buf)
            _bump(p)
