"""ember.autograd: backward/grad, grad modes, custom Functions, legacy Variable."""
from .grad_mode import (enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled,
                        no_grad, set_grad_enabled)
from .engine import run_backward
from .function import Function, FunctionCtx, once_differentiable
from .variable import Variable
from .anomaly_mode import detect_anomaly, set_detect_anomaly
from . import anomaly_mode, function, grad_mode, graph

__all__ = ["backward", "grad", "Function", "Variable", "no_grad", "enable_grad",
           "set_grad_enabled", "is_grad_enabled", "inference_mode", "is_inference_mode_enabled",
           "detect_anomaly", "set_detect_anomaly", "once_differentiable", "graph", "function",
           "grad_mode", "anomaly_mode", "functional", "forward_ad", "gradcheck", "gradgradcheck",
           "GradcheckError"]


def _tensors(x):
    from .._tensor import Tensor
    if x is None:
        return None
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def _make_grads(outputs, grads, is_grads_batched=False):
    from .._tensor import Tensor
    from .._creation import ones_like
    out = []
    for i, (o, g) in enumerate(zip(outputs, grads)):
        if g is None:
            if not o._requires_grad:
                continue
            if o._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if not o.dtype.is_floating_point:
                raise RuntimeError(f"grad can be implicitly created only for real scalar outputs "
                                   f"but got {o.dtype}")
            out.append(ones_like(o))
            continue
        if not isinstance(g, Tensor):
            raise TypeError(f"gradients can be either Tensors or None, but got "
                            f"{type(g).__name__}")
        if g._data.shape != o._data.shape:
            # Legacy call kept on purpose (the 2018 seed's out.backward(torch.Tensor([1.0]))):
            # a one-element gradient for a one-element output is reshaped, not rejected.
            if g._data.size == 1 and o._data.size == 1:
                g = g.reshape(o._data.shape)
            else:
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of "
                                   f"{g.shape} and output[{i}] has a shape of {o.shape}.")
        if g.dtype.is_complex != o.dtype.is_complex:
            raise RuntimeError(f"For complex Tensors, both grad_output and output are required to "
                               f"have the same dtype. Mismatch in dtype: grad_output[{i}] has a "
                               f"dtype of {g.dtype} and output[{i}] has a dtype of {o.dtype}.")
        if g.dtype is not o.dtype:
            g = g.to(o.dtype)
        out.append(g)
    return out


def _roots(outputs):
    from .graph import edge_of
    roots = []
    for i, o in enumerate(outputs):
        if not o._requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a "
                               "grad_fn")
        roots.append(edge_of(o))
    return roots


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             grad_variables=None, inputs=None):
    """Accumulate d(tensors)/d(leaves) into the leaves' ``.grad``."""
    tensors = _tensors(tensors)
    if grad_tensors is None:
        grad_tensors = grad_variables
    grad_tensors = _tensors(grad_tensors) if grad_tensors is not None else (None,) * len(tensors)
    if len(grad_tensors) != len(tensors):
        raise RuntimeError(f"got {len(tensors)} tensors and {len(grad_tensors)} gradients")
    if inputs is not None:
        inputs = _tensors(inputs)
        if len(inputs) == 0:
            raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
        for t in inputs:
            if not t._requires_grad:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
    for i, t in enumerate(tensors):
        if not t._requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a "
                               "grad_fn")
    grads = _make_grads(tensors, grad_tensors)
    if retain_graph is None:
        retain_graph = create_graph
    run_backward(_roots(tensors), grads, retain_graph, create_graph, inputs=inputs,
                 accumulate=True)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Return d(outputs)/d(inputs) without touching ``.grad``."""
    from .._creation import zeros_like
    outputs = _tensors(outputs)
    inputs_t = _tensors(inputs)
    if len(inputs_t) == 0:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads="
                         "True, but got: allow_unused=False.")
    if allow_unused is None:
        allow_unused = materialize_grads
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    else:
        grad_outputs = _tensors(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"got {len(outputs)} tensors and {len(grad_outputs)} gradients")
    if is_grads_batched:
        return _batched_grad(outputs, inputs_t, grad_outputs, retain_graph, create_graph,
                             allow_unused, materialize_grads)
    for t in inputs_t:
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    grads = _make_grads(outputs, grad_outputs)
    if retain_graph is None:
        retain_graph = create_graph
    result = run_backward(_roots(outputs), grads, retain_graph, create_graph, inputs=inputs_t,
                          accumulate=False, allow_unused=allow_unused)
    if materialize_grads:
        result = [zeros_like(t) if g is None else g for g, t in zip(result, inputs_t)]
    return tuple(result)


def _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused,
                  materialize_grads):
    """grad(..., is_grads_batched=True): one vector-Jacobian product per slice of the
    grad_outputs' leading dimension, stacked (torch vmaps the same computation)."""
    from .._ops import stack
    sizes = set()
    for g in grad_outputs:
        if g is None or g.dim() == 0:  # an implicit grad_output is a 0-dim one
            raise ValueError("vmap(vjp, in_dims=0, ...)(<inputs>): Got in_dim=0 for some input, "
                             "but that input is a Tensor of dimensionality 0 so expected in_dim "
                             "to satisfy 0 <= in_dim < 0.")
        sizes.add(g.shape[0])
    if len(sizes) != 1:
        raise ValueError("vmap: Expected all tensors to have the same size in the mapped "
                         f"dimension, got sizes {sorted(sizes)} for the mapped dimension")
    (batch,) = sizes
    if retain_graph is None:
        retain_graph = create_graph
    rows = []
    for b in range(batch):
        rows.append(grad(outputs, inputs, [None if g is None else g[b] for g in grad_outputs],
                         retain_graph=retain_graph or b < batch - 1, create_graph=create_graph,
                         allow_unused=allow_unused, materialize_grads=materialize_grads))
    return tuple(None if col[0] is None else stack(col) for col in zip(*rows))


# These import ember's Tensor, which itself imports this package: load them on first use.
_LAZY_MODULES = ("functional", "forward_ad", "profiler")


def _load_gradcheck():
    """Bind the gradcheck functions; called by ``ember/__init__`` once Tensor exists.

    ``autograd.gradcheck`` is the function, as in torch, though a submodule has that name:
    importing the submodule first and binding the names after it means a later
    ``import ember.autograd.gradcheck`` finds it in sys.modules and leaves the function be.
    """
    from .gradcheck import GradcheckError, gradcheck, gradgradcheck
    globals().update(gradcheck=gradcheck, gradgradcheck=gradgradcheck,
                     GradcheckError=GradcheckError)


def __getattr__(name):
    import importlib
    if name in _LAZY_MODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module '{__name__}' has no attribute '{name}'")
