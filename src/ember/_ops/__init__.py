"""Every op, once.  Importing this package fills the registry and gives Tensor its
methods and Python operators.

Each family module defines ``__all__`` (its public ``ember.*`` functions) and
``METHODS`` (its Tensor methods, in-place forms and operators); this file only
gathers them, so adding an op never touches it unless a new family module is added.
"""
from .._tensor import Tensor
from . import (binary, contraction, conversion, indexing, join, layout, linalg, linalg_torch,
               pointwise, reduction, scan, scatter, shape, sorting, unary)
from . import conv, fft_ops, fill, loss_ops, nn_ops, rnn_ops, special

FAMILIES = (pointwise, unary, binary, reduction, scan, sorting, shape, join, layout, indexing,
            scatter, linalg, linalg_torch, contraction, conversion, fill, special)
FAMILIES += (nn_ops, conv, loss_ops, rnn_ops, fft_ops)

__all__ = []
for _family in FAMILIES:
    __all__ += _family.__all__
    globals().update({_name: getattr(_family, _name) for _name in _family.__all__})
    for _name, _fn in _family.METHODS.items():
        setattr(Tensor, _name, _fn)
