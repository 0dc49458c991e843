"""torch._foreach_*: an op applied to each tensor of a list (torch fuses these into few
kernels; Ember runs a loop). ``_foreach_X`` returns a tuple of results, ``_foreach_X_``
works in place and returns its list. The "other" argument of binary ops may be one
scalar or tensor for all, or a list (of tensors or scalars) paired with the tensors."""
from ._tensor import Tensor

FUNCTIONS = {}

_UNARY = ("neg", "abs", "sqrt", "rsqrt", "exp", "log", "sign", "reciprocal", "sigmoid",
          "tanh", "sin", "cos", "floor", "ceil", "round", "trunc", "frac", "log1p", "expm1",
          "erf", "lgamma", "zero")
_BINARY = ("add", "sub", "mul", "div", "pow", "maximum", "minimum", "clamp_min",
           "clamp_max", "copy")
_TERNARY = ("addcmul", "addcdiv")


def _paired(values, n):
    """One value per tensor: a list or a 1-D tensor of scalars is split, else repeated."""
    if isinstance(values, (list, tuple)):
        if len(values) != n:
            raise RuntimeError(f"Tensor lists must have the same number of tensors, got {n} "
                               f"and {len(values)}")
        return list(values)
    if isinstance(values, Tensor) and values.dim() == 1 and values.numel() == n and n != 1:
        return [v.item() for v in values]
    return [values] * n


def _unary(name):
    def out_of_place(self):
        return tuple(getattr(t, name)() for t in self)

    def in_place(self):
        for t in self:
            getattr(t, name + "_")()
        return self
    return out_of_place, in_place


def _binary(name):
    def out_of_place(self, other, **kwargs):
        return tuple(getattr(t, name)(o, **kwargs) for t, o in zip(self, _paired(other, len(self))))

    def in_place(self, other, **kwargs):
        for t, o in zip(self, _paired(other, len(self))):
            if hasattr(t, name + "_"):
                getattr(t, name + "_")(o, **kwargs)
            else:  # maximum, minimum: torch has no Tensor method to write in place
                t.copy_(getattr(t, name)(o, **kwargs))
        return self
    return out_of_place, in_place


def _ternary(name):
    def _values(self, t1, t2, value):
        n = len(self)
        return zip(self, _paired(t1, n), _paired(t2, n), _paired(value, n))

    def out_of_place(self, tensor1, tensor2, value=1):
        return tuple(getattr(t, name)(a, b, value=v) for t, a, b, v in
                     _values(self, tensor1, tensor2, value))

    def in_place(self, tensor1, tensor2, value=1):
        for t, a, b, v in _values(self, tensor1, tensor2, value):
            getattr(t, name + "_")(a, b, value=v)
        return self
    return out_of_place, in_place


def _lerp():
    def out_of_place(self, tensors1, weight):
        n = len(self)
        return tuple(t.lerp(e, w) for t, e, w in zip(self, _paired(tensors1, n),
                                                     _paired(weight, n)))

    def in_place(self, tensors1, weight):
        n = len(self)
        for t, e, w in zip(self, _paired(tensors1, n), _paired(weight, n)):
            t.lerp_(e, w)
        return self
    return out_of_place, in_place


def _foreach_norm(self, ord=2, dtype=None):
    from .linalg import vector_norm
    return tuple(vector_norm(t, ord, dtype=dtype) for t in self)


for _names, _make in ((_UNARY, _unary), (_BINARY, _binary), (_TERNARY, _ternary),
                      (("lerp",), lambda name: _lerp())):
    for _name in _names:
        _fns = _make(_name)
        if _name not in ("zero", "copy"):  # torch has only their in-place forms
            FUNCTIONS[f"_foreach_{_name}"] = _fns[0]
        FUNCTIONS[f"_foreach_{_name}_"] = _fns[1]
FUNCTIONS["_foreach_norm"] = _foreach_norm
