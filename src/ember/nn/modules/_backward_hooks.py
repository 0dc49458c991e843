"""Full backward hooks: identity autograd Functions around a module's inputs and
outputs catch grad_output and grad_input, and hand them to the hooks."""
from ..._tensor import Tensor
from ...autograd.function import Function


class _Identity(Function):
    @staticmethod
    def forward(ctx, on_grads, *tensors):
        ctx.on_grads = on_grads
        return tuple(t.detach() for t in tensors) if len(tensors) > 1 else tensors[0].detach()

    @staticmethod
    def backward(ctx, *grads):
        out = ctx.on_grads(grads)
        return (None,) + tuple(out)


class BackwardHook:
    def __init__(self, module):
        self.module = module
        self.grad_outputs = None
        self.n_args = 0
        self.input_positions = []

    def _wrap(self, values, on_grads):
        positions = [i for i, v in enumerate(values)
                     if isinstance(v, Tensor) and v.requires_grad]
        if not positions:
            return values, positions
        out = _Identity.apply(on_grads, *[values[i] for i in positions])
        if not isinstance(out, tuple):
            out = (out,)
        values = list(values)
        for i, o in zip(positions, out):
            values[i] = o
        return values, positions

    def setup_input_hook(self, args):
        self.n_args = len(args)
        new, self.input_positions = self._wrap(args, self._on_input_grads)
        return tuple(new)

    def setup_output_hook(self, result):
        single = isinstance(result, Tensor)
        values = [result] if single else list(result) if isinstance(result, tuple) else None
        if values is None:
            return result
        new, _ = self._wrap(values, self._on_output_grads)
        return new[0] if single else tuple(new)

    def _on_output_grads(self, grads):
        grads = tuple(grads)
        for hook in self.module._backward_pre_hooks.values():
            res = hook(self.module, grads)
            if res is not None:
                grads = tuple(res) if isinstance(res, (tuple, list)) else (res,)
        self.grad_outputs = grads
        if not self.input_positions:
            self._run_hooks((None,) * self.n_args)
        return grads

    def _on_input_grads(self, grads):
        full = [None] * self.n_args
        for i, g in zip(self.input_positions, grads):
            full[i] = g
        full = self._run_hooks(tuple(full))
        return tuple(full[i] for i in self.input_positions)

    def _run_hooks(self, grad_input):
        for hook in self.module._backward_hooks.values():
            res = hook(self.module, grad_input, self.grad_outputs)
            if res is not None:
                if len(res) != len(grad_input):
                    raise RuntimeError(f"Backward hook returned an invalid number of grad_input, "
                                       f"got {len(res)}, but expected {len(grad_input)}")
                grad_input = tuple(res)
        return grad_input


_BOTH_KINDS = ("Cannot use both regular backward hooks and full backward hooks on a single "
               "Module. Please use only one of them.")


def set_hook_kind(module, full):
    """Record which kind of backward hook ``module`` uses (torch refuses a mix, even after
    the hooks of the other kind were removed)."""
    if module._is_full_backward_hook is (not full):
        raise RuntimeError(_BOTH_KINDS)
    module.__dict__["_is_full_backward_hook"] = full


def attach_non_full_hooks(module, args, result):
    """The deprecated ``register_backward_hook``: each hook becomes a hook of the grad_fn
    of the module's first output tensor, called as ``hook(module, grad_input,
    grad_output)`` with that node's gradients (torch's behaviour and warnings)."""
    var = result
    while not isinstance(var, Tensor):
        var = next(v for v in var.values() if isinstance(v, Tensor)) \
            if isinstance(var, dict) else var[0]
    grad_fn = var.grad_fn
    if grad_fn is None:
        return
    for hook in list(module._backward_hooks.values()):
        grad_fn.register_hook(_bind(hook, module))
    _maybe_warn(args, result, grad_fn)


def _bind(hook, module):
    def call(grad_input, grad_output):
        return hook(module, grad_input, grad_output)
    return call


def _maybe_warn(inputs, result, grad_fn):
    import warnings
    full = " Please use register_full_backward_hook to get the documented behavior."
    if not isinstance(result, Tensor):
        if not (isinstance(result, tuple) and all(isinstance(r, Tensor) for r in result)):
            warnings.warn("Using non-full backward hooks on a Module that does not return a "
                          "single Tensor or a tuple of Tensors is deprecated and will be removed "
                          "in future versions. This hook will be missing some of the "
                          "grad_output." + full, FutureWarning, stacklevel=3)
            return
    else:
        result = (result,)
    if not isinstance(inputs, Tensor):
        if not (isinstance(inputs, tuple) and all(isinstance(i, Tensor) for i in inputs)):
            warnings.warn("Using non-full backward hooks on a Module that does not take as "
                          "input a single Tensor or a tuple of Tensors is deprecated and will be "
                          "removed in future versions. This hook will be missing some of the "
                          "grad_input." + full, FutureWarning, stacklevel=3)
            return
    else:
        inputs = (inputs,)
    out_fns = {r.grad_fn for r in result if r.grad_fn is not None}
    if not out_fns or (len(out_fns) == 1 and grad_fn not in out_fns):
        warnings.warn("Using a non-full backward hook when outputs are nested in python data "
                      "structure is deprecated and will be removed in future versions. This "
                      "hook will be missing some grad_output.", FutureWarning, stacklevel=3)
    elif len(out_fns) > 1:
        warnings.warn("Using a non-full backward hook when outputs are generated by different "
                      "autograd Nodes is deprecated and will be removed in future versions. This "
                      "hook will be missing some grad_output." + full, FutureWarning,
                      stacklevel=3)
    elif {i.grad_fn for i in inputs if i.grad_fn is not None} != \
            {n[0] for n in grad_fn.next_functions}:
        warnings.warn("Using a non-full backward hook when the forward contains multiple "
                      "autograd Nodes is deprecated and will be removed in future versions. This "
                      "hook will be missing some grad_input." + full, FutureWarning,
                      stacklevel=3)
