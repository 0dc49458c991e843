"""torch.nn.modules.batchnorm's names (Ember defines them in ``normalization``), for code
that imports them from torch's module path (``from torch.nn.modules.batchnorm import
_BatchNorm``)."""
from .normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d, _BatchNorm, _NormBase

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "_BatchNorm", "_NormBase"]
