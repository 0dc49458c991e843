"""The MPI side of ember.distributed: mpi4py imported on first use, NumPy dtypes and
ReduceOps mapped to MPI's, and waiting on requests against a deadline.

Every operation is started non-blocking and completed by polling ``Test`` (MPICH's own
blocking wait polls the same way), so a peer that never arrives turns into an error after
the group's timeout instead of a hang, and DDP's bucket reductions progress whenever its
gradient hooks poll them during backward.
"""
import os
import time

import numpy as np

from .errors import DistBackendError

_MPI = None
IN_PLACE = MAX = None     # MPI's, once mpi() has imported it (for the per-call paths)
# A wait polls MPI without yielding the core for its first SPIN_SECONDS (a transfer
# advances only inside Test, and on an idle machine all_reduce up to ~4 MB is done by then),
# then yields it every `yield_every` bursts of 64 polls. Yielding is what lets a peer that
# shares this core run: with none at all, runs on a busy machine sometimes had both ranks
# on one core and every call of 4 KB-4 MB took 8-24 ms (whole time slices), the same
# with mpi4py's own Test loop. But every yield while other programs wait for the core
# gives them a time slice mid-transfer: yielding every burst, a 16 MB all_reduce yielded
# 165-250 times a call. So a burst in 16, about MPICH's own 1000 polls between yields
# (MPIR_CVAR_POLLS_BEFORE_YIELD), unless this machine runs more of the job's ranks than it
# has cores (init_process_group decides): then a waiting rank holds the core its peer
# needs, and yields every burst.
SPIN_SECONDS = 0.002
yield_every = 16
# set once an operation timed out or failed: its peers' requests may never complete, so
# MPI_Finalize must not run at exit (see _group._at_exit)
broken = False


def mpi():
    """mpi4py's MPI module, imported (and MPI initialised) on the first call."""
    global _MPI, IN_PLACE, MAX
    if _MPI is None:
        try:
            from mpi4py import MPI
        except ImportError as e:
            raise RuntimeError(
                "ember.distributed runs on MPI through mpi4py, which is not installed: "
                "pip install 'ember[distributed]' (mpi4py and the mpich wheel)") from e
        _MPI, IN_PLACE, MAX = MPI, MPI.IN_PLACE, MPI.MAX
    return _MPI


def oversubscribed(comm):
    """Whether the ranks of ``comm`` on this machine outnumber the cores they may run on
    (the union of their CPU affinities; each rank may be bound to fewer)."""
    MPI = mpi()
    local = comm.Split_type(MPI.COMM_TYPE_SHARED)
    try:
        try:
            cores = sorted(os.sched_getaffinity(0))
        except AttributeError:                 # not Linux
            cores = list(range(os.cpu_count() or 1))
        usable = set().union(*local.allgather(cores))
        return local.Get_size() > len(usable)
    finally:
        local.Free()


def available():
    if _MPI is not None:
        return True
    import importlib.util
    return importlib.util.find_spec("mpi4py") is not None


# ReduceOp name -> the MPI op's attribute name; AVG is a SUM divided afterwards.
_NATIVE_OPS = {"SUM": "SUM", "AVG": "SUM", "PRODUCT": "PROD", "MIN": "MIN", "MAX": "MAX",
               "BAND": "BAND", "BOR": "BOR", "BXOR": "BXOR"}
# MPI defines no arithmetic on C_BOOL; torch reduces bools as logical or/and, which on
# 0/1 bytes are MAX and MIN.
_BOOL_OPS = {"SUM": "MAX", "AVG": "MAX", "PRODUCT": "MIN", "MIN": "MIN", "MAX": "MAX",
             "BAND": "BAND", "BOR": "BOR", "BXOR": "BXOR"}
# Types MPI has no predefined datatype for (bfloat16 from ml_dtypes) are sent as
# contiguous runs of bytes and reduced by a user-defined op calling the NumPy ufunc.
_UFUNCS = {"SUM": np.add, "AVG": np.add, "PRODUCT": np.multiply, "MIN": np.minimum,
           "MAX": np.maximum, "BAND": np.bitwise_and, "BOR": np.bitwise_or,
           "BXOR": np.bitwise_xor}
_NATIVE_CODES = set("efdgbBhHiIlLqQFDG")
_byte_types = {}
_ops = {}          # (ReduceOp name, NumPy dtype) -> MPI op


def buffer(array):
    """``[array, datatype]`` for mpi4py: a predefined type when MPI has one."""
    dt = array.dtype
    if dt.char in _NATIVE_CODES:
        return array
    if dt == np.bool_:
        return [array.view(np.uint8), mpi().UINT8_T]
    return [array, _bytes_type(dt.itemsize)]


def _bytes_type(itemsize):
    t = _byte_types.get(itemsize)
    if t is None:
        t = _byte_types[itemsize] = mpi().BYTE.Create_contiguous(itemsize).Commit()
    return t


def reduce_op(name, dtype):
    """The MPI op reducing arrays of ``dtype`` as torch's ReduceOp ``name``."""
    key = (name, dtype)
    op = _ops.get(key)
    if op is None:
        op = _ops[key] = _make_op(name, dtype)
    return op


def _make_op(name, dtype):
    MPI = mpi()
    if dtype.char in _NATIVE_CODES:
        return getattr(MPI, _NATIVE_OPS[name])
    if dtype == np.bool_:
        return getattr(MPI, _BOOL_OPS[name])
    ufunc = _UFUNCS[name]

    def apply(inbuf, inoutbuf, datatype):
        acc = np.frombuffer(inoutbuf, dtype)
        ufunc(np.frombuffer(inbuf, dtype), acc, out=acc)

    return MPI.Op.Create(apply, commute=True)


# polls between two looks at the clock: a Test that finds nothing new costs ~0.2 us, a
# clock read about as much again
_BURST = range(64)


def wait(requests, deadline, describe, statuses=None):
    """Complete ``requests`` (a list) or raise DistBackendError once ``deadline`` passes."""
    if statuses is None and len(requests) == 1:
        poll = requests[0].Test      # what a caller of mpi4py itself would poll
    else:
        Testall = mpi().Request.Testall

        def poll():
            return Testall(requests, statuses)
    poll_until(poll, deadline, describe)


def poll_until(poll, deadline, describe, *args):
    """Call ``poll`` until it returns true; DistBackendError once ``deadline`` passes,
    saying what timed out with ``describe(*args)`` (called only then)."""
    global broken
    try:
        if poll():
            return
        patient = None
        bursts = 0
        while True:
            for _ in _BURST:
                if poll():
                    return
            now = time.monotonic()
            if now > deadline:
                broken = True
                raise DistBackendError(
                    f"{describe(*args)} timed out: not every rank of the group took part in it "
                    f"before the process group's timeout (a rank exited, hung, or is "
                    f"running a different collective)")
            if patient is None:
                patient = now + SPIN_SECONDS
            elif now > patient:
                bursts += 1
                if bursts % yield_every == 0:
                    os.sched_yield()
    except mpi().Exception as e:
        broken = True
        raise DistBackendError(f"{describe(*args)} failed in MPI: {e}") from e


def test(requests, statuses=None):
    try:
        return mpi().Request.Testall(requests, statuses)
    except mpi().Exception as e:
        raise DistBackendError(f"MPI request failed: {e}") from e
