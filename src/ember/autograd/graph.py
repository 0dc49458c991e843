"""Graph nodes: what ``tensor.grad_fn`` returns.

A node holds ``next_functions`` (one ``(node, output_nr)`` pair per differentiable
input, ``(None, 0)`` where the input needs no gradient) and whatever it saved for
backward.  Leaves that require grad are reached through an ``AccumulateGrad`` node.
"""
import weakref

_FREED_MSG = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward.")


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

    def register_hook(self, fn):
        if self._post_hooks is None:
            self._post_hooks = {}
        return _Handle(self._post_hooks, fn)

    def register_prehook(self, fn):
        if self._pre_hooks is None:
            self._pre_hooks = {}
        return _Handle(self._pre_hooks, fn)

    def _add_tensor_hook(self, output_nr, fn):
        if self._tensor_hooks is None:
            self._tensor_hooks = {}
        return _Handle(self._tensor_hooks.setdefault(output_nr, {}), fn)

    @property
    def metadata(self):
        d = self.__dict__.get("_metadata")
        if d is None:
            d = self.__dict__["_metadata"] = {}
        return d


class _Handle:
    """A removable hook handle (torch.utils.hooks.RemovableHandle's interface)."""

    _next_id = 0

    def __init__(self, table, fn):
        _Handle._next_id += 1
        self.id = _Handle._next_id
        self._table = table
        table[self.id] = fn

    def remove(self):
        self._table.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


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
        return _Handle(hooks.setdefault(output_nr, {}), fn)

    def apply(self, grads, create_graph):
        from .engine import accumulate_grad
        accumulate_grad(self.variable, grads[0], create_graph)
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
        from .grad_mode import _state
        _state.saved_hooks = _state.saved_hooks + ((self.pack_hook, self.unpack_hook),)
        return self

    def __exit__(self, *exc):
        from .grad_mode import _state
        _state.saved_hooks = _state.saved_hooks[:-1]


class Packed:
    """A saved tensor that went through a pack hook; ``unpack()`` gives it back."""

    __slots__ = ("value", "unpack_hook")

    def __init__(self, tensor, hooks):
        from .grad_mode import _state
        pack, self.unpack_hook = hooks[-1]
        # Ops run by the hook itself save their tensors plainly (no recursion), as in torch.
        _state.saved_hooks = ()
        try:
            self.value = pack(tensor)
        finally:
            _state.saved_hooks = hooks

    def unpack(self):
        return self.unpack_hook(self.value)
