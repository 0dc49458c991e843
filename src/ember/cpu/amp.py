"""ember.cpu.amp: torch's deprecated spelling of ``ember.amp.autocast("cpu", ...)``."""
import warnings

from ..amp import autocast_mode as _mode
from .. import _dtype as D


class autocast(_mode.autocast):
    def __init__(self, enabled=True, dtype=D.bfloat16, cache_enabled=True):
        warnings.warn("`torch.cpu.amp.autocast(args...)` is deprecated. Please use "
                      "`torch.amp.autocast('cpu', args...)` instead.", FutureWarning,
                      stacklevel=2)
        super().__init__("cpu", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)
