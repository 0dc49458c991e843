"""Every op, once.  Importing this package fills the registry and gives Tensor its
methods and Python operators.

Each family module declares its public functions where it defines them (``declare``
in ``_declare.py``: the ``ember.*`` names, Tensor methods, in-place forms and operators);
this file imports the families and installs what they declared, so adding an op never
touches it unless a new family module is added.
"""
from .._tensor import Tensor
from . import (binary, contraction, conversion, indexing, join, layout, linalg,  # noqa: F401
               linalg_torch, pointwise, reduction, scan, scatter, shape, sorting, unary)
from . import conv, fft_ops, fill, fused, loss_ops, nn_ops, rnn_ops, special, strided  # noqa: F401
from . import attention_ops, norm_ops  # noqa: F401
from ._declare import FUNCTIONS, METHODS

__all__ = list(FUNCTIONS)
globals().update(FUNCTIONS)
for _name, _fn in METHODS.items():
    setattr(Tensor, _name, _fn)
