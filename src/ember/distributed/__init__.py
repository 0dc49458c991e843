"""ember.distributed: torch.distributed's API on MPI (mpi4py) for CPU tensors and NCCL
(CuPy) for CUDA tensors.

Start the processes with ``python -m ember.distributed.run --nproc-per-node N script.py``
or ``mpiexec -n N python script.py``; the script calls ``init_process_group`` as it would
under torchrun. mpi4py is imported by ``init_process_group``, not by ``import ember``.
"""
from . import _mpi
from ._collectives import (ReduceOp, Work, all_gather, all_gather_into_tensor,
                           all_gather_object, all_reduce, all_to_all, all_to_all_single,
                           barrier, broadcast, broadcast_object_list, gather, gather_object,
                           irecv, isend, recv, reduce, reduce_scatter, reduce_scatter_tensor,
                           scatter, send)
from ._group import (GroupMember, ProcessGroup, default_pg_timeout, destroy_process_group,
                     get_backend, get_global_rank, get_group_rank, get_process_group_ranks,
                     get_rank, get_world_size, group, init_process_group, is_initialized,
                     new_group, _no_group)
from .errors import DistBackendError, DistError, DistNetworkError, DistStoreError


class Backend(str):
    """Backend names, as torch's ``Backend.GLOO`` & co."""
    UNDEFINED = "undefined"
    GLOO = "gloo"
    NCCL = "nccl"
    MPI = "mpi"

    def __new__(cls, name):
        value = str(name).lower()
        if value not in ("gloo", "nccl", "mpi", "undefined"):
            raise ValueError(f"Invalid backend: '{name}'")
        return str.__new__(cls, value)


def is_available():
    """True where mpi4py can be imported (checked without importing it)."""
    return _mpi.available()


def is_mpi_available():
    return _mpi.available()


def is_gloo_available():
    return _mpi.available()


def is_nccl_available():
    from .. import _device
    try:
        nccl = _device.load_nccl()
    except (AssertionError, RuntimeError, ImportError):
        return False   # no CuPy, or a CuPy built without NCCL
    return bool(getattr(nccl, "available", False))


def is_torchelastic_launched():
    import os
    return os.environ.get("TORCHELASTIC_RUN_ID") is not None


__all__ = ["Backend", "DistBackendError", "DistError", "DistNetworkError", "DistStoreError",
           "GroupMember", "ProcessGroup", "ReduceOp", "Work", "all_gather",
           "all_gather_into_tensor", "all_gather_object", "all_reduce", "all_to_all",
           "all_to_all_single", "barrier", "broadcast", "broadcast_object_list",
           "default_pg_timeout", "destroy_process_group", "gather", "gather_object",
           "get_backend", "get_global_rank", "get_group_rank", "get_process_group_ranks",
           "get_rank", "get_world_size", "group", "init_process_group", "irecv",
           "is_available", "is_gloo_available", "is_initialized", "is_mpi_available",
           "is_nccl_available", "is_torchelastic_launched", "isend", "new_group", "recv",
           "reduce", "reduce_scatter", "reduce_scatter_tensor", "scatter", "send"]
