"""Adagrad (Duchi et al., 2011), with learning-rate decay."""
from .._device import array_module, device_scope
from .._tensor import Tensor
from ._sparse import adagrad_sparse_step
from .optimizer import (Optimizer, _arrays, _bump, _check_eps, _check_foreach_fused, _check_lr,
                        _check_weight_decay, _effective_grad, _make, _scalar_state,
                        _step_value)


def _adagrad(params, grads, state_sums, steps, scratch, *, lr, lr_decay, weight_decay, eps,
             maximize):
    """Adagrad on lists of arrays, in place; ``steps`` counts this step."""
    for k, param in enumerate(params):
        xp = array_module(param)
        t0, t1 = scratch(param, 0), scratch(param, 1)
        grad = _effective_grad(param, grads[k], t0, maximize=maximize,
                               weight_decay=weight_decay)
        clr = lr / (1 + (steps[k] - 1) * lr_decay)
        state_sums[k] += xp.multiply(grad, grad, out=t1)
        std = xp.sqrt(state_sums[k], out=t1)
        std += eps
        # param.addcdiv_(grad, std, value=-clr): (clr * grad) / std.
        update = xp.multiply(grad, clr, out=t0)
        update /= std
        param -= update


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
                with device_scope(p.device):   # CuPy copies onto the current device
                    acc = p._data.copy()
                    acc[...] = group["initial_accumulator_value"]
                state["sum"] = _make(acc)
        _check_foreach_fused(foreach, fused, differentiable)

    def _step_group(self, group):
        pairs = self._grads(group)
        dense = [(p, g) for p, g in pairs if not isinstance(g, Tensor)]
        if len(dense) != len(pairs):
            for p, g in pairs:
                if isinstance(g, Tensor):   # a sparse gradient: torch's tensor-op path
                    adagrad_sparse_step(p, g, self.state[p]["sum"], _step_value(self.state[p]),
                                        lr=float(group["lr"]), lr_decay=group["lr_decay"],
                                        weight_decay=group["weight_decay"], eps=group["eps"],
                                        maximize=group["maximize"])
                    _bump(p)
        super()._step_group(group, dense)

    def _update(self, params, grads, states, steps, group, scratch):
        _adagrad(params, grads, _arrays(states, "sum"), steps, scratch, lr=float(group["lr"]),
                 lr_decay=group["lr_decay"], weight_decay=group["weight_decay"],
                 eps=group["eps"], maximize=group["maximize"])
