"""ember.distributed: torch.distributed as seen by a process that never joined a process
group. Ember runs in one process, so ``is_available()`` is False and every collective
raises torch's error for an uninitialised default group; libraries that import these
names at module level (and guard their use with ``is_initialized()``) load and run."""
import enum

__all__ = ["is_available", "is_initialized", "ReduceOp", "ProcessGroup", "get_rank",
           "get_world_size", "all_reduce", "all_gather", "broadcast", "barrier", "reduce",
           "init_process_group"]


class ReduceOp(enum.Enum):
    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7
    PREMUL_SUM = 8


class ProcessGroup:
    """The type of a process group; Ember never creates one."""


def is_available():
    return False


def is_initialized():
    return False


def _no_group(*args, **kwargs):
    raise ValueError("Default process group has not been initialized, please make sure to "
                     "call init_process_group.")


get_rank = get_world_size = all_reduce = all_gather = broadcast = barrier = reduce = _no_group


def init_process_group(*args, **kwargs):
    raise RuntimeError("Ember has no distributed backend: torch.distributed is not available")
