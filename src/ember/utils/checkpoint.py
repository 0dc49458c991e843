"""Activation checkpointing (torch.utils.checkpoint): trade compute for memory by
recomputing a function's intermediate results during backward instead of keeping them.

Two variants, as in torch:

* reentrant (``use_reentrant=True``, torch's default when the flag is omitted): the
  forward runs under no_grad inside one custom Function node; its backward reruns the
  function with grad enabled and backpropagates through that fresh graph, so parameter
  gradients are accumulated into ``.grad`` from inside the outer backward.
* non-reentrant (``use_reentrant=False``): the forward builds the graph normally but every
  tensor saved for backward is replaced by a placeholder (saved_tensors_hooks); the first
  placeholder read in backward reruns the function once and hands out the recomputed
  tensors, so ``autograd.grad`` and parameter gradients work as without checkpointing.
"""
import contextlib
import warnings

from .. import _random
from .._tensor import Tensor
from ..autograd import grad_mode
from ..autograd.function import Function
from ..autograd.graph import saved_tensors_hooks

__all__ = ["checkpoint", "checkpoint_sequential", "CheckpointError"]

_DETERMINISM_MODES = ("default", "none")


class CheckpointError(RuntimeError):
    pass


def noop_context_fn():
    return contextlib.nullcontext(), contextlib.nullcontext()


_REENTRANT_WARNING = (
    "torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. "
    "Starting in PyTorch 2.9, calling checkpoint without use_reentrant will raise an "
    "exception. use_reentrant=False is recommended, but if you need to preserve the current "
    "default behavior, you can pass use_reentrant=True. Refer to docs for more details on "
    "the differences between the two variants.")

_SEQUENTIAL_WARNING = (
    "torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter should be "
    "passed explicitly. In version 2.9 we will raise an exception if use_reentrant is not "
    "passed. use_reentrant=False is recommended, but if you need to preserve the current "
    "default behavior, you can pass use_reentrant=True. Refer to docs for more details on "
    "the differences between the two variants.")


@contextlib.contextmanager
def _rng_restored(state):
    """Run with the RNG at ``state`` (so dropout masks repeat), then put the current RNG back."""
    if state is None:
        yield
        return
    current = _random.get_rng_state()
    _random.set_rng_state(state)
    try:
        yield
    finally:
        _random.set_rng_state(current)


class CheckpointFunction(Function):
    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, *args):
        ctx.run_function = run_function
        ctx.rng_state = _random.get_rng_state() if preserve_rng_state else None
        ctx.tensor_indices = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        ctx.inputs = [None if isinstance(a, Tensor) else a for a in args]
        ctx.save_for_backward(*[a for a in args if isinstance(a, Tensor)])
        return run_function(*args)

    @staticmethod
    def backward(ctx, *grads):
        from ..autograd import backward as autograd_backward
        inputs = list(ctx.inputs)
        for i, t in zip(ctx.tensor_indices, ctx.saved_tensors):
            d = t.detach()
            d.requires_grad_(t.requires_grad)
            inputs[i] = d
        with _rng_restored(ctx.rng_state), grad_mode.enable_grad():
            outputs = ctx.run_function(*inputs)
        if isinstance(outputs, Tensor):
            outputs = (outputs,)
        pairs = [(o, g) for o, g in zip(outputs, grads)
                 if isinstance(o, Tensor) and o.requires_grad]
        if not pairs:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is "
                               "not necessary")
        autograd_backward([o for o, _ in pairs], [g for _, g in pairs])
        return (None, None) + tuple(x.grad if isinstance(x, Tensor) else None for x in inputs)


def _checkpoint_reentrant(function, preserve, args):
    if not any(isinstance(a, Tensor) and a.requires_grad for a in args):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None",
                      stacklevel=3)
    return CheckpointFunction.apply(function, preserve, *args)


class _Recomputer:
    """The placeholders of one non-reentrant checkpoint: index -> recomputed saved tensor."""

    def __init__(self, function, args, kwargs, rng_state, context_fn, check):
        self.function, self.args, self.kwargs = function, args, kwargs
        self.rng_state, self.context_fn, self.check = rng_state, context_fn, check
        self.metas = []        # (shape, dtype) of each tensor packed in the forward
        self.cache = None      # recomputed tensors, dropped once each has been read
        self.read = set()

    def pack(self, t):
        self.metas.append((tuple(t.shape), t.dtype))
        return len(self.metas) - 1

    def unpack(self, index):
        if self.cache is None:
            self.cache = self._recompute()
            self.read = set()
        t = self.cache[index]
        self.read.add(index)
        if len(self.read) == len(self.cache):
            self.cache = None  # all handed out: free them; a retained graph recomputes again
        return t

    def _recompute(self):
        recorded = []

        def pack(t):
            recorded.append(t.detach())
            return None

        _, recompute_ctx = self.context_fn()
        with _rng_restored(self.rng_state), grad_mode.enable_grad(), recompute_ctx, \
                saved_tensors_hooks(pack, lambda _: None):
            self.function(*self.args, **self.kwargs)
        if self.check == "default":
            n = len(self.metas)
            if len(recorded) != n:
                raise CheckpointError(
                    "torch.utils.checkpoint: A different number of tensors was saved during "
                    f"the original forward and recomputation.\nNumber of tensors saved during "
                    f"forward: {n}\nNumber of tensors saved during recomputation: "
                    f"{len(recorded)}.")
            for i, (t, (shape, dtype)) in enumerate(zip(recorded, self.metas)):
                if tuple(t.shape) != shape or t.dtype != dtype:
                    raise CheckpointError(
                        "torch.utils.checkpoint: Recomputed values for the following tensors "
                        "have different metadata than during the forward pass.\n"
                        f"tensor at position {i}:\nsaved metadata: {{'shape': "
                        f"torch.Size({list(shape)}), 'dtype': {dtype}}}\nrecomputed metadata: "
                        f"{{'shape': torch.Size({list(t.shape)}), 'dtype': {t.dtype}}}\n")
        return recorded[:len(self.metas)] if len(recorded) >= len(self.metas) else \
            recorded + [None] * (len(self.metas) - len(recorded))


def _checkpoint_non_reentrant(function, args, kwargs, context_fn, check, preserve):
    rng_state = _random.get_rng_state() if preserve else None
    rec = _Recomputer(function, args, kwargs, rng_state, context_fn, check)
    forward_ctx, _ = context_fn()
    with forward_ctx, saved_tensors_hooks(rec.pack, rec.unpack):
        return function(*args, **kwargs)


def checkpoint(function, *args, use_reentrant=None, context_fn=noop_context_fn,
               determinism_check="default", debug=False, early_stop=True, **kwargs):
    """Run ``function(*args, **kwargs)`` without keeping its intermediate activations;
    backward recomputes them."""
    if use_reentrant is None:
        warnings.warn(_REENTRANT_WARNING, stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if use_reentrant:
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when "
                             "use_reentrant=False.")
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
        return _checkpoint_reentrant(function, preserve, args)
    if determinism_check not in _DETERMINISM_MODES:
        raise ValueError(f"determinism_check should be one of {list(_DETERMINISM_MODES)}, "
                         f"but got {determinism_check}")
    return _checkpoint_non_reentrant(function, args, kwargs, context_fn, determinism_check,
                                     preserve)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Split a sequence of modules/functions into ``segments`` chunks and checkpoint each
    chunk but the last, which runs normally."""
    if use_reentrant is None:
        warnings.warn(_SEQUENTIAL_WARNING, stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))

    def run_function(start, end, functions):
        def forward(x):
            for j in range(start, end + 1):
                x = functions[j](x)
            return x
        return forward

    from ..nn.modules.container import Sequential
    if isinstance(functions, Sequential):
        functions = list(functions.children())
    segment_size = len(functions) // segments
    end = -1
    for start in range(0, segment_size * (segments - 1), segment_size):
        end = start + segment_size - 1
        input = checkpoint(run_function(start, end, functions), input,
                           use_reentrant=use_reentrant, preserve_rng_state=preserve)
    return run_function(end + 1, len(functions) - 1, functions)(input)
