"""In-place ops (``x.add_(y)``, ``x[i] = v``, ...): one shared implementation.

An in-place op is computed out of place by the op's own registry entry, then written
into the tensor's array; the tensor's version counter is bumped (so saved-tensor
checks see the write) and its autograd history is rebased onto the new node.
"""
from .. import _dtype as D
from .._tensor import _make
from .registry import _EMPTY, _state, apply


def apply_inplace(op, self, others, params=_EMPTY):
    """``self.op_(*others)``: compute out of place, write into self, rebase its history."""
    if _state.enabled and self._requires_grad and self._grad_fn is None:
        if self._base is None or not self._base._requires_grad:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                               "operation.")
    if self._base is not None and self._base._requires_grad and _state.enabled:
        raise RuntimeError("Ember does not yet rebase the history of a view of a tensor that "
                           "requires grad after an in-place operation")
    src = self
    if _state.enabled and op.save and 0 in op.save and self._requires_grad:
        # The backward needs self's value from before the write: snapshot it.
        src = _make(self._data.copy())
        src._grad_fn, src._output_nr, src._requires_grad = \
            self._grad_fn, self._output_nr, self._requires_grad
        src._accumulator = self._accumulator
    out = apply(op, (src,) + tuple(others), params)
    if out._data.shape != self._data.shape:
        raise RuntimeError(f"output with shape {list(self._data.shape)} doesn't match the "
                           f"broadcast shape {list(out._data.shape)}")
    sd, od = self.dtype, out.dtype
    if sd is not od and not D.can_cast(od, sd):
        raise RuntimeError(f"result type {od._legacy} can't be cast to the desired output "
                           f"type {sd._legacy}")
    if not self._data.flags.writeable:
        raise RuntimeError("unsupported operation: more than one element of the written-to "
                           "tensor refers to a single memory location. Please clone() the "
                           "tensor before performing the operation.")
    self._data[...] = out._data
    self._vc[0] += 1
    node = out._grad_fn
    if node is not None:
        self._grad_fn = node
        self._output_nr = out._output_nr
        self._requires_grad = True
        if op.save_result:
            node._result = self._data
            node._result_vc = self._vc
            node._result_version = self._vc[0]
    return self
