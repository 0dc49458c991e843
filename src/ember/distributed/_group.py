"""Process groups: the default (world) group from MPI, sub-groups, and their state.

Ranks and world size always come from MPI (``mpiexec`` or ``python -m
ember.distributed.run`` starts the processes); torchrun's environment variables and the
``rank``/``world_size`` arguments are checked against them, so a script written for
torchrun runs unchanged and a mis-launched one fails at once instead of waiting forever.
"""
import array
import atexit
import datetime
import os
import sys
import time

import numpy as np

from . import _mpi
from ._backends import MPIBackend, NCCLBackend

default_pg_timeout = datetime.timedelta(minutes=30)
_BACKENDS = ("mpi", "gloo", "nccl")


class ProcessGroup:
    """A set of ranks sharing an MPI communicator (and an NCCL one for CUDA tensors)."""

    def __init__(self, comm, ranks, backend, timeout):
        self.comm = comm
        self.ranks = ranks                # global rank of each group rank
        self.timeout = timeout
        self._backend_name = backend
        self.mpi = MPIBackend(comm)
        # object collectives and the pre-collective checks talk here, apart from the data
        self.meta = comm.Dup()
        self.p2p = comm.Dup()
        self._nccl = None
        self.checks = _checks_wanted(self.meta)
        # the collectives' fingerprint check (_collectives._fingerprints_match): a 16-byte
        # all-reduce set up once as a persistent request (MPI 4), so each check only starts
        # it: ~1 us less a call than an Iallreduce, which builds its schedule every time.
        # Checks complete before their collective returns, so one buffer serves them all.
        self.fingerprint = array.array("q", (0, 0))
        self.fingerprint_check = None
        MPI = _mpi.mpi()
        try:
            self.fingerprint_check = self.meta.Allreduce_init(MPI.IN_PLACE, self.fingerprint,
                                                              MPI.MAX)
        except (NotImplementedError, AttributeError):   # an MPI before 4.0: Iallreduce
            pass

    def rank(self):
        return self.comm.Get_rank()

    def size(self):
        return self.comm.Get_size()

    def name(self):
        return self._backend_name

    def deadline(self):
        return time.monotonic() + self.timeout

    def backend_for(self, device_type):
        if device_type == "cuda" and "nccl" in self._backend_name:
            if self._nccl is None:
                self._nccl = NCCLBackend(self.comm)
            return self._nccl
        if device_type == "cpu" and self._backend_name == "nccl":
            raise RuntimeError("No backend type associated with device type cpu")
        if device_type != "cpu":
            raise RuntimeError(
                f"ember.distributed: {device_type} tensors need the 'nccl' backend "
                f"(init_process_group('nccl') or 'cpu:gloo,cuda:nccl'); this group is "
                f"'{self._backend_name}', which runs on MPI for CPU tensors")
        return self.mpi

    def group_rank(self, global_rank):
        try:
            return self.ranks.index(global_rank)
        except ValueError:
            raise ValueError(f"Global rank {global_rank} is not part of group {self}") from None

    def close(self):
        if self._nccl is not None:
            self._nccl.close()
        if self.fingerprint_check is not None and not _mpi.broken:
            # (after a timeout it may still be active, and MPI will not free that)
            self.fingerprint_check.Free()
        if self.comm is not _mpi.mpi().COMM_WORLD:
            for c in (self.comm, self.meta, self.p2p):
                c.Free()
        else:
            self.meta.Free()
            self.p2p.Free()

    def __repr__(self):
        return f"<ember.distributed.ProcessGroup {self._backend_name} ranks={self.ranks}>"


def _checks_wanted(meta):
    """Whether the group's collectives compare fingerprints before moving data: unless
    EMBER_DISTRIBUTED_CHECKS=0 on every rank. Read once, when the group is made (as torch
    reads TORCH_DISTRIBUTED_DEBUG), not per call, where the look-up cost ~3 us of a 1 MB
    all_reduce (the transfer leaves the caches cold); and agreed on, since a rank that
    checks while another does not would wait for a fingerprint that never comes."""
    MPI = _mpi.mpi()
    wanted = np.array([os.environ.get("EMBER_DISTRIBUTED_CHECKS", "1") != "0"], np.uint8)
    meta.Allreduce(MPI.IN_PLACE, wanted, MPI.MAX)
    return bool(wanted[0])


class _State:
    world = None
    groups = []


_state = _State()


class _WorldMeta(type):
    @property
    def WORLD(cls):
        return _state.world


class group(metaclass=_WorldMeta):
    """``group.WORLD``: the default process group (None before init_process_group)."""


class GroupMember(metaclass=_WorldMeta):
    NON_GROUP_MEMBER = -100


def _no_group(*args, **kwargs):
    raise ValueError("Default process group has not been initialized, please make sure to "
                     "call init_process_group.")


def resolve(g):
    """The group a collective runs on: ``g``, or the world group."""
    if _state.world is None:
        _no_group()
    if g is None or g is GroupMember.WORLD:
        return _state.world
    if g == GroupMember.NON_GROUP_MEMBER:
        raise ValueError("Invalid process group specified")
    return g


def _seconds(timeout):
    if timeout is None:
        return default_pg_timeout.total_seconds()
    if isinstance(timeout, datetime.timedelta):
        return timeout.total_seconds()
    return float(timeout)


def _env_int(name):
    value = os.environ.get(name)
    return None if value in (None, "") else int(value)


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1,
                       store=None, group_name="", pg_options=None, device_id=None):
    """Join the processes MPI started into the default group.

    ``backend``: "mpi", "gloo" (the same MPI transport, for scripts written for torch's
    CPU backend), "nccl" (CUDA tensors through NCCL), or "cpu:gloo,cuda:nccl". The
    ``init_method`` ("env://", "tcp://...", "file://...") is accepted; MPI has already
    connected the processes, so it only decides whether RANK/WORLD_SIZE are read from the
    environment (env://, the default) to be checked against MPI's ranks.
    """
    if _state.world is not None:
        raise ValueError("trying to initialize the default process group twice!")
    name = "mpi" if backend is None else str(backend).lower()
    parts = [p.split(":")[-1] for p in name.split(",")]
    if not parts or any(p not in _BACKENDS for p in parts):
        raise AssertionError(f"Unknown backend type {backend}")
    MPI = _mpi.mpi()
    world = MPI.COMM_WORLD
    world.Set_errhandler(MPI.ERRORS_RETURN)
    mpi_rank, mpi_size = world.Get_rank(), world.Get_size()
    env = init_method is None or str(init_method).startswith("env://")
    wanted_rank = rank if rank != -1 else (_env_int("RANK") if env else None)
    wanted_size = world_size if world_size != -1 else (_env_int("WORLD_SIZE") if env else None)
    if (wanted_rank is not None and wanted_rank != mpi_rank) or \
            (wanted_size is not None and wanted_size != mpi_size):
        raise ValueError(
            f"ember.distributed takes ranks from MPI: this process is MPI rank {mpi_rank} of "
            f"{mpi_size}, but was asked for rank {wanted_rank} of world size {wanted_size}. "
            f"Start the processes with `python -m ember.distributed.run --nproc-per-node N "
            f"script.py` or `mpiexec -n N python script.py`.")
    _mpi.yield_every = 1 if _mpi.oversubscribed(world) else 16
    _state.world = ProcessGroup(world, list(range(mpi_size)), name, _seconds(timeout))
    _state.groups = [_state.world]
    if not getattr(_state, "exit_hooks", False):
        atexit.register(_at_exit)
        if mpi_size > 1:
            sys.excepthook = _abort_on_uncaught(sys.excepthook)
        _state.exit_hooks = True


def new_group(ranks=None, timeout=None, backend=None, pg_options=None,
              use_local_synchronization=False, group_desc=None, device_id=None):
    """A group of ``ranks`` (all ranks when None). Every rank of the world must call it,
    members or not, as in torch; non-members get ``GroupMember.NON_GROUP_MEMBER``."""
    world = resolve(None)
    size = world.size()
    members = list(range(size)) if ranks is None else sorted(int(r) for r in ranks)
    for r in members:
        if not 0 <= r < size:
            raise ValueError(f"Invalid rank {r}, the world has {size} ranks")
    me = world.rank()
    color = 0 if me in members else _mpi.mpi().UNDEFINED
    comm = world.comm.Split(color, members.index(me) if me in members else 0)
    if comm == _mpi.mpi().COMM_NULL:
        return GroupMember.NON_GROUP_MEMBER
    comm.Set_errhandler(_mpi.mpi().ERRORS_RETURN)
    name = world.name() if backend is None else str(backend).lower()
    pg = ProcessGroup(comm, members, name,
                      world.timeout if timeout is None else _seconds(timeout))
    _state.groups.append(pg)
    return pg


def destroy_process_group(group=None):
    if _state.world is None:
        _no_group()
    if group is None or group is _state.world:
        for g in reversed(_state.groups):
            g.close()
        _state.world, _state.groups = None, []
    else:
        group.close()
        _state.groups.remove(group)


def is_initialized():
    return _state.world is not None


def get_rank(group=None):
    g = resolve(group) if group is not GroupMember.NON_GROUP_MEMBER else None
    return -1 if g is None else g.rank()


def get_world_size(group=None):
    g = resolve(group) if group is not GroupMember.NON_GROUP_MEMBER else None
    return -1 if g is None else g.size()


def get_backend(group=None):
    return resolve(group).name()


def get_process_group_ranks(group):
    return list(resolve(group).ranks)


def get_global_rank(group, group_rank):
    return resolve(group).ranks[group_rank]


def get_group_rank(group, global_rank):
    return resolve(group).group_rank(global_rank)


def _abort_on_uncaught(hook):
    """A rank dying of an exception would otherwise leave the others waiting in their next
    collective (and itself in MPI_Finalize): print it, then have MPI end the whole job, as
    torchrun stops the other workers when one fails."""
    def excepthook(kind, value, tb):
        hook(kind, value, tb)
        sys.stdout.flush()
        sys.stderr.flush()
        _mpi.mpi().COMM_WORLD.Abort(1)
    return excepthook


def _at_exit():
    # After a timed-out collective the peers' pending requests can never complete, and
    # MPI_Finalize would wait on them: leave without it (mpiexec reports the failed rank).
    if _mpi.broken:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)
