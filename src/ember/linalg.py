"""``ember.linalg``: torch.linalg's functions (implemented in ``_ops/decomp.py``)."""
from ._ops.decomp import (LINALG, LinAlgError, cholesky, cross, det, eigh, eigvalsh, inv, lstsq,
                          matrix_norm, matrix_power, matrix_rank, multi_dot, norm, pinv, qr,
                          slogdet, solve, solve_triangular, svd, svdvals, vecdot, vector_norm)
from ._ops.linalg import matmul



def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """torch.linalg.diagonal: ``A.diagonal`` with matrix-first defaults (a view)."""
    return A.diagonal(offset=offset, dim1=dim1, dim2=dim2)


__all__ = LINALG + ["matmul", "diagonal"]
