"""``ember.utils.tensorboard``: torch.utils.tensorboard's SummaryWriter for Ember.

Needs the optional ``tensorboard`` package (``pip install 'ember[tensorboard]'``); the
event files are written by tensorboard's own writer, so ``tensorboard --logdir runs``
shows them as it shows torch's.
"""
try:
    import tensorboard  # noqa: F401
except ImportError:
    raise ImportError("TensorBoard logging requires TensorBoard. Please install it with "
                      "pip install 'ember[tensorboard]' (or pip install tensorboard)") from None

from ._writer import FileWriter, SummaryWriter

__all__ = ["FileWriter", "SummaryWriter"]
