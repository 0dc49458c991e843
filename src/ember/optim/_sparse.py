"""The sparse-gradient paths of SGD and Adagrad, step for step torch's _single_tensor_*.

They work on Tensors (sparse gradients are SparseCOOTensors), and add sparse updates
into the dense parameter and state by scattering into their arrays, so no dense copy of
a large embedding table's gradient is ever made.
"""
from ..sparse._coo import _scatter_add, make


def add_sparse_(dense, sparse, alpha=1):
    """``dense.add_(sparse, alpha=alpha)`` by scattering the values into dense's array."""
    values = sparse._val._data
    if alpha != 1:
        values = values * alpha
    if sparse._nnz():
        _scatter_add(dense._data, tuple(sparse._ind._data), values.astype(dense._data.dtype,
                                                                          copy=False))
    dense._vc[0] += 1
    return dense


def sgd_sparse_step(param, grad, state, *, lr, momentum, dampening, weight_decay, nesterov,
                    maximize):
    if maximize:
        grad = -grad
    if weight_decay != 0:
        grad = grad.add(param, alpha=weight_decay)   # torch's error: add(sparse, dense)
    if momentum != 0:
        buf = state.get("momentum_buffer")
        if buf is None:
            buf = state["momentum_buffer"] = grad.clone().detach()
        else:
            buf.mul_(momentum).add_(grad, alpha=1 - dampening)
        grad = grad.add(buf, alpha=momentum) if nesterov else buf
    if grad.is_sparse:
        add_sparse_(param, grad, -lr)
    else:
        param.add_(grad, alpha=-lr)


def adagrad_sparse_step(param, grad, state_sum, step, *, lr, lr_decay, weight_decay, eps,
                        maximize):
    if maximize:
        grad = -grad
    if weight_decay != 0:
        raise RuntimeError("weight_decay option is not compatible with sparse gradients")
    clr = lr / (1 + (step - 1) * lr_decay)
    grad = grad.coalesce()
    indices, values = grad._indices(), grad._values()
    add_sparse_(state_sum, make(indices, values.pow(2), grad.shape, True))
    std = state_sum.sparse_mask(grad)
    std_values = std._values().sqrt_().add_(eps)
    add_sparse_(param, make(indices, values / std_values, grad.shape, True), -clr)
