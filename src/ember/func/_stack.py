"""A differentiable stack for the transforms (vmap's batching, Jacobian rows).

Ember's op set has no ``stack``/``cat`` yet; when ``ember.stack`` exists it is used.
Until then a custom Function stacks the arrays, and its backward selects each
slice of the gradient with ``select`` (an Ember op), so the stack is differentiable
to any order.
"""
from ..autograd.function import Function


class _Stack(Function):
    @staticmethod
    def forward(ctx, dim, *tensors):
        from .._device import array_module
        from .._tensor import _make
        ctx.dim = dim
        xp = array_module(tensors[0]._data)
        return _make(xp.stack([t._data for t in tensors], axis=dim))

    @staticmethod
    def backward(ctx, grad):
        return (None,) + tuple(grad.select(ctx.dim, i) for i in range(grad.shape[ctx.dim]))


def stack(tensors, dim=0):
    """torch.stack(tensors, dim) for same-shape, same-dtype tensors."""
    import ember
    native = getattr(ember, "stack", None)
    if native is not None:
        return native(tensors, dim)
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    first = tensors[0]
    for i, t in enumerate(tensors[1:], 1):
        if t.shape != first.shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(first.shape)} at entry 0 and {list(t.shape)} at entry {i}")
    if any(t.dtype is not first.dtype for t in tensors):
        from .._dtype import promote_types
        dt = first.dtype
        for t in tensors[1:]:
            dt = promote_types(dt, t.dtype)
        tensors = [t.to(dt) for t in tensors]
    if dim < 0:
        dim += first.dim() + 1
    return _Stack.apply(dim, *tensors)
