"""torch.version's names. ``__version__`` is the torch release Ember follows (what
``torch.__version__`` reports under ``ember.compat``); ``ember.__version__`` is Ember's own."""
from .torch_version import TORCH_RELEASE, TorchVersion

__version__ = TorchVersion(f"{TORCH_RELEASE}+ember")
cuda = None
hip = None
xpu = None
debug = False
git_version = None
