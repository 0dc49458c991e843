"""``ember.random``: torch.random's functions on Ember's default generator (``_random.py``).

Ember's stream is torch's mt19937 with torch's transformations (see ``_random.py``).
CUDA tensors draw from this same generator (``cuda.py``), so forking the CPU state forks
them too; ``fork_rng`` still asks the device module for each device's state as torch does,
so a machine without the device raises torch's error.
"""
import contextlib
import importlib
import warnings

from ._device import as_device
from ._random import default_generator as default_generator  # torch.random re-exports it
from ._random import get_rng_state, initial_seed, set_rng_state
from ._random import manual_seed as _manual_seed
from ._random import seed as _seed

__all__ = ["set_rng_state", "get_rng_state", "manual_seed", "seed", "initial_seed", "fork_rng",
           "thread_safe_generator"]


def manual_seed(seed):
    """Seed the generator of every device (all are ``default_generator``); returns it."""
    return _manual_seed(seed)


def seed():
    """Seed from a non-deterministic number; returns that 64-bit number."""
    return _seed()


_fork_rng_warned_already = False


def _device_module(device_type):
    """torch.get_device_module: Ember has modules for cpu and cuda only."""
    as_device(device_type)  # torch's error for a name that is no device type
    if device_type not in ("cuda", "cpu"):
        raise RuntimeError(f"Device '{device_type}' does not have a corresponding module "
                           f"registered as 'torch.{device_type}'.")
    return importlib.import_module(f"ember.{device_type}")


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices",
             device_type=None):
    """Restore the RNG state on exit to the one it had on entry (unless ``enabled=False``)."""
    global _fork_rng_warned_already
    if device_type == "meta":
        yield
        return
    device_type = device_type or "cuda"
    device_mod = _device_module(device_type)
    if not enabled:
        yield
        return
    if devices is None:
        num_devices = device_mod.device_count()
        if num_devices > 1 and not _fork_rng_warned_already:
            kind = device_type.upper()
            warnings.warn(
                f"{kind} reports that you have {num_devices} available devices, and you have "
                f"used {_caller} without explicitly specifying which devices are being used. "
                f"For safety, we initialize *every* {kind} device by default, which can be quite "
                f"slow if you have a lot of {kind}s. If you know that you are only making use of "
                f"a few {kind} devices, set the environment variable {kind}_VISIBLE_DEVICES or "
                f"the '{_devices_kw}' keyword argument of {_caller} with the set of devices you "
                "are actually using. For example, if you are using CPU only, set "
                "device.upper()_VISIBLE_DEVICES= or devices=[]; if you are using device 0 only, "
                f"set {kind}_VISIBLE_DEVICES=0 or devices=[0].  To initialize all devices and "
                f"suppress this warning, set the '{_devices_kw}' keyword argument to "
                f"`range(torch.{device_type}.device_count())`.", stacklevel=3)
            _fork_rng_warned_already = True
        devices = list(range(num_devices))
    else:
        devices = list(devices)  # a generator argument would be exhausted by the first pass
    cpu_rng_state = get_rng_state()
    device_rng_states = [device_mod.get_rng_state(device) for device in devices]
    try:
        yield
    finally:
        set_rng_state(cpu_rng_state)
        for device, device_rng_state in zip(devices, device_rng_states):
            device_mod.set_rng_state(device_rng_state, device)


def thread_safe_generator():
    """The worker's own generator in a DataLoader thread worker, else None (the default)."""
    from .utils.data import get_worker_info
    info = get_worker_info()
    if info is not None and getattr(info, "worker_method", None) == "thread" and \
            getattr(info, "rng", None) is not None:
        return info.rng.torch_generator
    return None

