"""ember.utils: data loading (``ember.utils.data``), checkpointing, hook handles and
timings (``ember.utils.benchmark``), as torch.utils."""
import importlib

__all__ = ["data", "checkpoint", "hooks", "benchmark"]


def __getattr__(name):
    # Loaded on first use: ``hooks`` is needed while ``ember._tensor`` is still being
    # imported, before ``data`` and ``checkpoint`` (which import it) can be.
    if name in __all__ or name == "_pytree":
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'ember.utils' has no attribute '{name}'")
