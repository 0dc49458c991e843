"""ember.backends: the flags torch.backends exposes, with the values a CPU-only torch reports.

Ember has no cuDNN, MPS or oneDNN kernels, so those report unavailable; the flags are kept
so scripts can read and set them as they do with torch.
"""
from . import cuda, cudnn, mkldnn, mps, openmp

__all__ = ["cuda", "cudnn", "mkldnn", "mps", "openmp"]
