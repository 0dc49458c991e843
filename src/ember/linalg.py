"""``ember.linalg``: torch.linalg's functions (implemented in ``_ops/decomp.py``)."""
from ._ops.decomp import (LINALG, LinAlgError, cholesky, cross, det, eigh, eigvalsh, inv, lstsq,
                          matrix_norm, matrix_power, matrix_rank, multi_dot, norm, pinv, qr,
                          slogdet, solve, svd, svdvals, vecdot, vector_norm)
from ._ops.linalg import matmul

__all__ = LINALG + ["matmul"]
