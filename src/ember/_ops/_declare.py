"""Declaring an op's public forms once, next to its public function.

As one line of torch's native_functions.yaml lists an op's variants (function, method,
in-place, out=), ``declare`` records every name under which Ember exposes a function:
the ``ember.*`` function and its aliases, the Tensor method, the in-place ``x.name_()``
method, and the Python operator with its reflected and in-place forms.
``_ops/__init__.py`` builds ``__all__`` from ``FUNCTIONS`` and installs ``METHODS`` on
Tensor, so adding an op never touches a list of names.
"""
import numbers
import warnings

import numpy as np

from ._common import op_function, with_out
from .inplace import apply_inplace

FUNCTIONS = {}   # ember.* name -> function, in declaration order
METHODS = {}     # Tensor attribute -> function (or property)

# Python's binary arithmetic operators: these, unlike comparisons, have reflected
# (__radd__) and in-place (__iadd__) forms.
_ARITHMETIC = frozenset({"add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul",
                         "and", "or", "xor", "lshift", "rshift"})


def _put(table, name, value):
    old = table.get(name)
    if old is not None and old is not value:
        raise ValueError(f"{name!r} declared twice")
    table[name] = value


def _reflected(fn):
    def r(self, other):
        return fn(other, self)
    return r


def inplace_method(op, nargs=1, params=None):
    """The in-place method ``x.name_(*others, *args, **kwargs)`` of an op with ``nargs``
    tensor inputs (``x`` first): ``apply_inplace`` with the op params ``params(*args,
    **kwargs)`` (none when ``params`` is None)."""
    n = nargs - 1
    if params is not None:
        def method(self, *args, **kwargs):
            return apply_inplace(op, self, args[:n], params(*args[n:], **kwargs))
    elif n == 0:
        def method(self):
            return apply_inplace(op, self, ())
    elif n == 1:
        def method(self, other):
            return apply_inplace(op, self, (other,))
    else:
        def method(self, *others):
            return apply_inplace(op, self, others)
    return method


_COMPARISONS = frozenset({"eq", "ne", "lt", "le", "gt", "ge"})


def _comparison_operator(fn):
    """``t == x`` for an ``x`` that is neither a tensor nor a number gives NotImplemented,
    as torch's does, so Python asks ``x`` (``pytest.approx``) or falls back to identity
    (``t == "a"`` is False; ``t < "a"`` raises Python's TypeError)."""
    from .._tensor import Tensor

    def operator(self, other):
        if not isinstance(other, (Tensor, numbers.Number, np.generic)):
            return NotImplemented
        return fn(self, other)
    operator.__name__ = fn.__name__
    return operator


_WARNED_SCALAR_FIRST = []


def scalar_first(method, name, scalar, signature, replacement):
    """``method`` also taking torch's deprecated overload with the scalar first
    (``x.add_(Number alpha, Tensor other)``), which torch still accepts, warning once per
    process (for the first such call of any op): the scalar moves to its keyword."""
    def deprecated_overload(self, *args, **kwargs):
        if len(args) >= 2 and isinstance(args[0], numbers.Number) and \
                not isinstance(args[1], numbers.Number):
            if not _WARNED_SCALAR_FIRST:
                _WARNED_SCALAR_FIRST.append(name)
                warnings.warn(f"This overload of {name} is deprecated:\n\t{signature}\nConsider "
                              f"using one of the following signatures instead:\n\t"
                              f"{replacement}", UserWarning, stacklevel=2)
            kwargs[scalar] = args[0]
            args = args[1:]
        return method(self, *args, **kwargs)
    return deprecated_overload


def declare(fn=None, *, name=None, aliases=(), function=True, method=True, inplace=None,
            operator=None, reflected=None, out=False):
    """Declare a public function's variants; use as ``declare(fn, ...)`` or ``@declare(...)``.

    - ``ember.<name>`` and ``ember.<alias>`` for each alias (unless ``function=False``);
      ``name`` defaults to ``fn.__name__``.
    - ``Tensor.<name>``/``Tensor.<alias>``: ``fn`` itself when ``method=True``, the given
      callable or property when ``method`` is one (a method whose arguments differ), none
      when ``method=False``.
    - ``inplace``: the method ``Tensor.<name>_`` (and ``<alias>_``), usually
      ``inplace_method(op, ...)``, which goes through ``apply_inplace``.
    - ``operator="add"``: ``Tensor.__add__`` is ``fn``; for arithmetic operators also
      ``__radd__`` (``fn(other, self)``, or ``reflected``) and ``__iadd__`` (the in-place
      method, if any).
    - ``out=True``: give ``fn`` torch's ``out=`` keyword (``with_out``); the declared and
      returned function is the wrapped one.  Functions on the hot path (add, mul, ...)
      take ``out`` themselves and write it with ``_out``, which saves the wrapper's call.
    """
    def register(fn):
        if out:
            fn = with_out(fn)
        for n in (name or fn.__name__,) + tuple(aliases):
            if function:
                _put(FUNCTIONS, n, fn)
            if method is not False:
                _put(METHODS, n, fn if method is True else method)
            if inplace is not None:
                _put(METHODS, n + "_", inplace)
        if operator is not None:
            _put(METHODS, f"__{operator}__",
                 _comparison_operator(fn) if operator in _COMPARISONS else fn)
            if operator in _ARITHMETIC:
                _put(METHODS, f"__r{operator}__", reflected or _reflected(fn))
                if inplace is not None:
                    _put(METHODS, f"__i{operator}__", inplace)
        return fn
    return register if fn is None else register(fn)


def declare_op(op, name, *aliases, nargs=1, method=True, inplace=True, operator=None):
    """Declare an op without params: generate ``name(input[, other], *, out=None)``, its
    method and (``inplace=True``) its in-place method, all from ``op``; returns the
    function."""
    fn = op_function(op, name, nargs)
    return declare(fn, aliases=aliases, method=method, operator=operator,
                   inplace=inplace_method(op, nargs) if inplace else None)


def tensor_method(name, fn):
    """Declare a Tensor-only attribute (``__pos__``, ``__getitem__``, ``repeat``, ...)."""
    _put(METHODS, name, fn)
    return fn
