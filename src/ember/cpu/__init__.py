"""ember.cpu: torch.cpu's CPU-only namespace; ``ember.cpu.amp`` holds the deprecated alias."""
from . import amp

__all__ = ["amp"]


def is_available():
    return True


def device_count():
    return 1


def current_device():
    return "cpu"


def synchronize(device=None):
    return None
