"""ember.nn.attention: torch's choice of scaled-dot-product-attention kernel.

Ember has one SDPA implementation (the math one), so ``sdpa_kernel`` only checks its
arguments as torch does; every backend computes the same result.
"""
import contextlib
import enum

__all__ = ["SDPBackend", "sdpa_kernel", "WARN_FOR_UNFUSED_KERNELS"]

WARN_FOR_UNFUSED_KERNELS = False


class SDPBackend(enum.IntEnum):
    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4


_active = [tuple(b for b in SDPBackend if b is not SDPBackend.ERROR)]


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority=False):
    """Within the block, SDPA may use only ``backends`` (a backend or a list of them)."""
    if not isinstance(backends, (list, SDPBackend)):
        raise AssertionError("Backend must be an instance of SDPBackend or a list of SDPBackend "
                             f"instances, got {type(backends).__name__}")
    if isinstance(backends, SDPBackend):
        backends = [backends]
    previous = _active[0]
    _active[0] = tuple(dict.fromkeys(backends))
    try:
        yield {}
    finally:
        _active[0] = previous
