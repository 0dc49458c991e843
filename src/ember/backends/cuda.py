"""ember.backends.cuda: cuBLAS matmul flags, tied to the float32 matmul precision as in torch."""
from .. import _runtime


class _Matmul:
    """``matmul.allow_tf32`` reads and writes ember's float32 matmul precision:
    True means 'high' (TF32 allowed), False means 'highest'."""

    __slots__ = ("allow_fp16_reduced_precision_reduction",
                 "allow_bf16_reduced_precision_reduction")

    def __init__(self):
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True

    @property
    def allow_tf32(self):
        return _runtime.get_float32_matmul_precision() != "highest"

    @allow_tf32.setter
    def allow_tf32(self, value):
        _runtime.set_float32_matmul_precision("high" if value else "highest")


matmul = _Matmul()


def is_built():
    """Whether Ember can drive CUDA devices at all (CuPy importable)."""
    try:
        import cupy  # noqa: F401
    except ImportError:
        return False
    return True
