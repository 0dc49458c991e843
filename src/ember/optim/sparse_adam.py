"""SparseAdam: Adam's moments and parameters updated only where the sparse gradient has
entries (torch.optim.SparseAdam, the optimizer for nn.Embedding(sparse=True))."""
import math

from .._creation import zeros_like
from ._sparse import add_sparse_
from .optimizer import Optimizer
from ..sparse._coo import make


class SparseAdam(Optimizer):
    """``SparseAdam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False)``."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        if hasattr(lr, "numel") and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 < lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, maximize=maximize))
        sparse_params, complex_params = [], []
        for index, group in enumerate(self.param_groups):
            for d_index, p in enumerate(group["params"]):
                if p.is_sparse:
                    sparse_params.append([index, d_index])
                if p.is_complex():
                    complex_params.append([index, d_index])
        if sparse_params:
            raise ValueError(f"Sparse params at indices {sparse_params}: SparseAdam requires "
                             "dense parameter tensors")
        if complex_params:
            raise ValueError(f"Complex params at indices {complex_params}: SparseAdam does not "
                             "support complex parameters")

    def _step_group(self, group):
        beta1, beta2 = group["betas"]
        lr = float(group["lr"])
        for p in group["params"]:
            grad = p._grad
            if grad is None:
                continue
            if not grad.is_sparse:
                raise RuntimeError("SparseAdam does not support dense gradients, please "
                                   "consider Adam instead")
            state = self.state[p]
            if len(state) == 0:
                state["step"] = 0
                state["exp_avg"] = zeros_like(p)
                state["exp_avg_sq"] = zeros_like(p)
            state["step"] += 1
            _update(p, grad, state["exp_avg"], state["exp_avg_sq"], state["step"], lr=lr,
                    beta1=beta1, beta2=beta2, eps=group["eps"], maximize=group["maximize"])


def _update(param, grad, exp_avg, exp_avg_sq, step, *, lr, beta1, beta2, eps, maximize):
    grad = (-grad if maximize else grad).coalesce()   # non-linear update: unique indices
    indices, values = grad._indices(), grad._values()
    if values.numel() == 0:
        return
    size = grad.shape

    def sparse(v):
        return make(indices, v, size, True)

    # old <- b * old + (1 - b) * new, written as old += (1 - b) * (new - old)
    old_exp_avg = exp_avg.sparse_mask(grad)._values()
    exp_avg_update = values.sub(old_exp_avg).mul_(1 - beta1)
    add_sparse_(exp_avg, sparse(exp_avg_update))
    old_exp_avg_sq = exp_avg_sq.sparse_mask(grad)._values()
    exp_avg_sq_update = values.pow(2).sub_(old_exp_avg_sq).mul_(1 - beta2)
    add_sparse_(exp_avg_sq, sparse(exp_avg_sq_update))
    numer = exp_avg_update.add_(old_exp_avg)
    denom = exp_avg_sq_update.add_(old_exp_avg_sq).sqrt_().add_(eps)
    step_size = lr * math.sqrt(1 - beta2 ** step) / (1 - beta1 ** step)
    add_sparse_(param, sparse(numer.div_(denom) * -step_size))
