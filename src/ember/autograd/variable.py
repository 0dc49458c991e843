"""The legacy ``Variable``: since torch 0.4 a Variable *is* a Tensor.

``Variable(t, requires_grad=True)`` returns a new leaf Tensor sharing ``t``'s data,
and ``isinstance(x, Variable)`` holds for every tensor — the 2018 idioms keep working.
"""
import warnings


class _VariableMeta(type):
    def __instancecheck__(cls, other):
        from .._tensor import Tensor
        return isinstance(other, Tensor)


class Variable(metaclass=_VariableMeta):
    def __new__(cls, data=None, requires_grad=False, volatile=False):
        from .._tensor import Tensor, _make
        if volatile:
            warnings.warn("volatile was removed and now has no effect. Use `with torch.no_grad():` "
                          "instead.", UserWarning, stacklevel=2)
        if data is None:
            from .._creation import empty
            return empty(0).requires_grad_(requires_grad)
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        t = _make(data._data)
        t.requires_grad_(requires_grad)
        return t
