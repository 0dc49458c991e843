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
