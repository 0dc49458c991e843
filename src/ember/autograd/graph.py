"""Graph nodes: what ``tensor.grad_fn`` returns.

A node holds ``next_functions`` (one ``(node, output_nr)`` pair per differentiable
input, ``(None, 0)`` where the input needs no gradient) and whatever it saved for
backward.  Leaves that require grad are reached through an ``AccumulateGrad`` node.
"""
import weakref
from collections import OrderedDict

from ..utils.hooks import add_hook


class Node:
    """Base of every backward node; the class name is torch's (``MulBackward0``)."""

    next_functions = ()
    _num_outputs = 1
    _pre_hooks = None      # node-level pre-hooks: fn(grad_outputs) -> grad_outputs | None
    _post_hooks = None     # node-level hooks: fn(grad_inputs, grad_outputs) -> grad_inputs | None
    _tensor_hooks = None   # {output_nr: [hook(grad) -> grad | None]}, from Tensor.register_hook
    _retained = None       # {output_nr: weakref to a non-leaf tensor that retains its grad}

    def name(self):
        return type(self).__name__

    def __repr__(self):
        return f"<{type(self).__name__} object at {id(self):#x}>"

    def __call__(self, *grads):
        """Run this node's backward on ``grads`` (one per output), as torch's
        ``grad_fn(*grads)``: in the current grad mode, without hooks, nothing released; one
        input's gradient comes back alone, several as a tuple."""
        if len(grads) != self._num_outputs:
            raise TypeError(f"expected {self._num_outputs} arguments, got {len(grads)} instead")
        out = tuple(self.apply(list(grads)))
        return out[0] if len(out) == 1 else out

    def register_hook(self, fn):
        if self._post_hooks is None:
            self._post_hooks = OrderedDict()
        return add_hook(self._post_hooks, fn)

    def register_prehook(self, fn):
        if self._pre_hooks is None:
            self._pre_hooks = OrderedDict()
        return add_hook(self._pre_hooks, fn)

    def _add_tensor_hook(self, output_nr, fn):
        if self._tensor_hooks is None:
            self._tensor_hooks = {}
        return add_hook(self._tensor_hooks.setdefault(output_nr, OrderedDict()), fn)

    @property
    def metadata(self):
        d = self.__dict__.get("_metadata")
        if d is None:
            d = self.__dict__["_metadata"] = {}
        return d


class AccumulateGrad(Node):
    """The sink for a leaf: adds the incoming gradient into ``variable.grad``."""

    def __init__(self, variable):
        self.variable = variable

    def name(self):
        return "torch::autograd::AccumulateGrad"

    # A leaf's tensor hooks live on the leaf (as torch's do), not on this node: the leaf
    # holds its accumulator only weakly, so the hooks survive a new accumulator.
    @property
    def _tensor_hooks(self):
        return self.variable.__dict__.get("_leaf_hooks")

    def _add_tensor_hook(self, output_nr, fn):
        hooks = self.variable.__dict__.get("_leaf_hooks")
        if hooks is None:
            hooks = self.variable.__dict__["_leaf_hooks"] = {}
        return add_hook(hooks.setdefault(output_nr, OrderedDict()), fn)

    def apply(self, grads):
        # The engine calls accumulate_grad itself; this is for ``node(grad)`` (torch's
        # AccumulateGrad: it builds a graph for .grad when grad mode is on).
        if grads[0] is not None:
            from .engine import accumulate_grad
            from .grad_mode import _state
            accumulate_grad(self.variable, grads[0], _state.enabled, True)
        return ()

    def _release(self):
        pass


def grad_accumulator(tensor):
    """The tensor's AccumulateGrad node, shared while any graph still uses it."""
    ref = tensor._accumulator
    node = ref() if ref is not None else None
    if node is None:
        node = AccumulateGrad(tensor)
        tensor._accumulator = weakref.ref(node)
    return node


def edge_of(tensor):
    """The (node, output_nr) pair a gradient for ``tensor`` flows into."""
    fn = tensor._grad_fn
    if fn is not None:
        return (fn, tensor._output_nr)
    if tensor._requires_grad:
        return (grad_accumulator(tensor), 0)
    return (None, 0)


class saved_tensors_hooks:
    """Within this context, tensors saved for backward go through ``pack_hook`` when
    saved and ``unpack_hook`` when backward reads them (torch's semantics: the
    unpacked tensor is used as is, with no version check)."""

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self):
        from .grad_mode import _saved_hooks_used, _state
        _saved_hooks_used[0] = True
        _state.saved_hooks = _state.saved_hooks + ((self.pack_hook, self.unpack_hook),)
        return self

    def __exit__(self, *exc):
        from .grad_mode import _state
        _state.saved_hooks = _state.saved_hooks[:-1]


def sum_to_size(g, shape):
    """Reduce a broadcast gradient to ``shape`` (torch's sum_to_size); differentiable."""
    from .._ops.reduction import sum as _sum  # lazily: the ops are built on autograd
    gshape = g._data.shape
    lead = len(gshape) - len(shape)
    dims = tuple(range(lead)) + tuple(
        i + lead for i, s in enumerate(shape) if s == 1 and gshape[i + lead] != 1)
    if dims:
        g = _sum(g, dims, keepdim=True)
    if lead or g._data.shape != shape:
        g = g.reshape(shape)
    return g
