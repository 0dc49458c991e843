"""Tensors saved for backward (torch's SavedVariable), for registry ops and custom Functions.

A node keeps what it saved as a pair ``(saved, versions)`` built by ``save`` and read by
``unpack``:

- the common case (no saved-tensor hooks, no output of the node itself) keeps the tensors
  themselves and a list of their versions: one tuple and one list per node, no object
  per tensor, because every recorded op pays for it;
- otherwise ``versions`` is None and each tensor is a ``SavedTensor``, which unpacks
  itself (through the unpack hook, or rebuilding an output of the node).

A registry op's own result (``save_result``) is kept in three node slots
(``_result``, ``_result_vc``, ``_result_version``: the array, its version counter and
the version when saved) by ``save_result``, and read back by ``unpack_result``; under
hooks ``_result`` is a ``SavedTensor`` and ``_result_vc`` None.  Outputs are never held
as tensors: an output's ``grad_fn`` is the node, so that would be a reference cycle.

Unpacking checks the version counters (torch's "modified by an inplace operation" error)
and, once the node released its buffers (``saved`` is None), raises torch's "backward
through the graph a second time" error.
"""
import re
import weakref

from . import grad_mode
from .. import _tensor

_state = grad_mode._state
_inference_used = grad_mode._inference_used
_saved_hooks_used = grad_mode._saved_hooks_used

FREED_MSG = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward.")


def save(node, values, outputs=False):
    """``(saved, versions)`` for ``values`` (tensors and Python scalars) saved by ``node``;
    ``outputs``: some may be outputs of ``node`` (a custom Function's)."""
    if outputs or _inference_used[0] or _saved_hooks_used[0] and _state.saved_hooks:
        return _save_checked(node, values, outputs)
    Tensor = _tensor.Tensor
    return tuple(values), [x._vc[0] if isinstance(x, Tensor) else None for x in values]


def _save_checked(node, values, outputs):
    if _inference_used[0]:
        check_not_inference(values)
    Tensor = _tensor.Tensor
    hooks = _state.saved_hooks
    if not hooks and not (outputs and any(isinstance(x, Tensor) and x._grad_fn is node
                                          for x in values)):
        return tuple(values), [x._vc[0] if isinstance(x, Tensor) else None for x in values]
    return tuple(SavedTensor(x, node, hooks) if isinstance(x, Tensor) else x
                 for x in values), None


def unpack(node, saved, versions):
    """The values ``save`` kept, version-checked (``node`` is the node that saved them)."""
    if saved is None:
        raise RuntimeError(FREED_MSG)
    if versions is None:
        return tuple(x.unpack(node) if type(x) is SavedTensor else x for x in saved)
    for t, v in zip(saved, versions):
        if v is not None and t._vc[0] != v:
            raise_modified(node, t, v)
    return saved


def save_result(node, result):
    """Keep a registry op's result in ``node``'s result slots (see the module docstring)."""
    hooks = _state.saved_hooks
    if hooks:
        node._result = SavedTensor(result, node, hooks)
        node._result_vc = None
    else:
        node._result = result._data
        node._result_vc = result._vc
        node._result_version = result._vc[0]


def unpack_result(node):
    """The result ``save_result`` kept, as a tensor whose grad_fn is ``node``."""
    data = node._result
    if data is None:
        raise RuntimeError(FREED_MSG)
    vc = node._result_vc
    if vc is None:
        return data.unpack(node)
    if vc[0] != node._result_version:
        raise_modified(node, _tensor._make(data), node._result_version, vc[0], 0)
    # _output's body, inlined: this runs once per backward of every save_result op.
    t = _tensor._make(data)
    t._vc = vc
    t._grad_fn = node
    t._requires_grad = True  # output_nr 0 is the class default
    return t


def result_array(node):
    """``unpack_result(node)._data`` without building the tensor (array backwards)."""
    data = node._result
    vc = node._result_vc
    if data is None or vc is None or vc[0] != node._result_version:
        return unpack_result(node)._data  # raises, or goes through the unpack hook
    return data


def _output(node, data, vc, version, output_nr):
    if vc[0] != version:
        raise_modified(node, _tensor._make(data), version, vc[0], output_nr)
    t = _tensor._make(data)
    t._vc = vc
    t._grad_fn = node
    t._output_nr = output_nr
    t._requires_grad = True
    return t


class SavedTensor:
    """One saved tensor that is not kept as itself: one that went through
    ``saved_tensors_hooks`` (the pack hook's value is kept, and the unpacked tensor gets
    the saved tensor's place in the graph back, as torch's), or an output of the saving
    node (kept without its grad_fn, which is the node)."""

    __slots__ = ("data", "vc", "version", "output_nr", "is_output", "grad_fn", "accumulator",
                 "requires_grad", "packed", "unpack_hook")

    def __init__(self, t, node, hooks=()):
        self.output_nr = t._output_nr
        self.is_output = t._grad_fn is node
        if not hooks:
            # Not an output: kept as itself (it is only here because the node saved an
            # output too, and ``unpack`` then asks each value to unpack itself).
            self.data = t._data if self.is_output else t
            self.vc, self.version = t._vc, t._vc[0]
            self.unpack_hook = None
            return
        self.data = None
        self.requires_grad = t._requires_grad
        self.grad_fn = None if self.is_output else t._grad_fn
        self.accumulator = None
        if t._requires_grad and t._grad_fn is None:
            from .graph import grad_accumulator
            # Weakly, as torch: the graph (the node's next_functions) keeps it alive.
            self.accumulator = weakref.ref(grad_accumulator(t))
        pack, self.unpack_hook = hooks[-1]
        # Ops run by the hook itself save their tensors plainly (no recursion), as in torch.
        _state.saved_hooks = ()
        try:
            self.packed = pack(t)
        finally:
            _state.saved_hooks = hooks

    def unpack(self, node):
        if self.unpack_hook is None:
            if self.is_output:
                return _output(node, self.data, self.vc, self.version, self.output_nr)
            if self.vc[0] != self.version:
                raise_modified(node, self.data, self.version)
            return self.data
        value = self.unpack_hook(self.packed)
        if not isinstance(value, _tensor.Tensor):
            raise TypeError("Output of saved tensor unpack_hook expected to be a Tensor but got "
                            f"result of type {type(value).__name__}")
        # No version check: what the hooks do with the tensor is theirs (torch's rule).
        t = _tensor._make(value._data)
        t._vc = value._vc
        grad_fn = node if self.is_output else self.grad_fn
        if grad_fn is not None:
            t._grad_fn = grad_fn
            t._output_nr = self.output_nr
            t._requires_grad = True
        elif self.requires_grad:
            t._requires_grad = True
            t._accumulator = self.accumulator
        return t


def raise_modified(node, t, expected, actual=None, output_nr=None):
    """torch's error for a tensor ``node`` saved, modified in place since it was saved.

    With ``output_nr``, ``t`` is that output of ``node`` (kept without its grad_fn);
    otherwise the error names ``t``'s current grad_fn, as torch does.
    """
    actual = t._vc[0] if actual is None else actual
    if output_nr is None:
        producer, output_nr = t._grad_fn, t._output_nr
    else:
        producer = node
    # torch names the node without its "Backward<n>" suffix.
    made_by = "" if producer is None else \
        f", which is output {output_nr} of {_BACKWARD_SUFFIX.sub(_node_suffix, producer.name())},"
    if grad_mode._anomaly.enabled:
        hint = ("the backtrace further above shows the operation that failed to compute its "
                "gradient. The variable in question was changed in there or anywhere later. "
                "Good luck!")
    else:
        hint = ("enable anomaly detection to find the operation that failed to compute its "
                "gradient, with torch.autograd.set_detect_anomaly(True, check_nan=False).")
    raise RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [{t.type()} [{', '.join(map(str, t._data.shape))}]]{made_by} is at version "
        f"{actual}; expected version {expected} instead. Hint: {hint}")


# torch names the producer without "Backward", keeping a non-zero overload number
# ("Add" for AddBackward0, "Elu1" for EluBackward1).
_BACKWARD_SUFFIX = re.compile(r"Backward(\d*)$")


def _node_suffix(m):
    return m[1].lstrip("0")


def check_not_inference(values):
    for x in values:
        if getattr(x, "_inference", False):
            raise RuntimeError(grad_mode.INFERENCE_SAVE_MSG)
