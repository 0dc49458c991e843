"""ember.nn.parallel: torch.nn.parallel's wrappers."""
from ..modules.module import Module
from .distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel", "DataParallel"]


class DataParallel(Module):
    """Runs ``module`` as is: Ember has one device per process, so there is nothing to
    scatter to."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        self.module = module
        self.device_ids = [] if device_ids is None else list(device_ids)
        self.dim = dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)
