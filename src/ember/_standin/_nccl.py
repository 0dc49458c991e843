"""The stand-in's ``cupy.cuda.nccl``: NCCL's communicator API carried over MPI.

So that Ember's NCCL backend (``ember.distributed._backends.NCCLBackend``) runs, call for
call, in CI: the same constructor, the same raw-pointer collectives with CuPy's
signatures, the same ``groupStart``/``groupEnd`` batching of sends and receives.  Each
call completes before it returns (NCCL would enqueue it on the stream); buffers are read
and written through their addresses, as NCCL does.

Sends and receives are asynchronous, as NCCL's are on a stream: ``groupEnd`` posts them as
non-blocking MPI requests, and the stand-in's CUDA events recorded after them complete
when they have (``inflight``/``complete``), so ``event.done`` and ``synchronize`` mean what
they mean on a GPU.

A communicator knows only (size, unique id, rank), as NCCL's does, so it cannot make an
MPI communicator collectively (the processes outside it never call).  The unique id
carries the world rank of the process that made it; at construction every rank reports
its world rank to that process over ``MPI.COMM_WORLD`` with point-to-point messages and
receives the full table back.  All traffic after that is point-to-point on
``COMM_WORLD`` with tags private to the communicator.
"""
import ctypes
import os
import struct

import numpy as np

available = True

NCCL_INT8 = NCCL_CHAR = 0
NCCL_UINT8 = 1
NCCL_INT32 = NCCL_INT = 2
NCCL_UINT32 = 3
NCCL_INT64 = 4
NCCL_UINT64 = 5
NCCL_FLOAT16 = NCCL_HALF = 6
NCCL_FLOAT32 = NCCL_FLOAT = 7
NCCL_FLOAT64 = NCCL_DOUBLE = 8
NCCL_BFLOAT16 = 9
NCCL_SUM, NCCL_PROD, NCCL_MAX, NCCL_MIN, NCCL_AVG = range(5)

_NUMPY = {0: np.int8, 1: np.uint8, 2: np.int32, 3: np.uint32, 4: np.int64, 5: np.uint64,
          6: np.float16, 7: np.float32, 8: np.float64}
_REDUCE = {NCCL_SUM: np.add, NCCL_PROD: np.multiply, NCCL_MAX: np.maximum,
           NCCL_MIN: np.minimum}
_TAG_BASE = 1 << 20
_pending = []      # (kind, comm, ptr, count, datatype, peer) between groupStart and groupEnd
_group_depth = [0]
_inflight = []     # the MPI requests of posted sends and receives, oldest first


class NcclError(RuntimeError):
    pass


def _mpi():
    from mpi4py import MPI
    return MPI


def _dtype(datatype):
    if datatype == NCCL_BFLOAT16:
        from ml_dtypes import bfloat16
        return np.dtype(bfloat16)
    return np.dtype(_NUMPY[datatype])


def _view(ptr, count, datatype):
    """The ``count`` elements at address ``ptr`` as a writable NumPy array."""
    dt = _dtype(datatype)
    raw = (ctypes.c_char * (count * dt.itemsize)).from_address(ptr)
    return np.frombuffer(raw, dtype=dt, count=count)


def get_unique_id():
    world = _mpi().COMM_WORLD.Get_rank()
    return struct.pack("<iq", world, int.from_bytes(os.urandom(7), "little")) + bytes(116)


def get_version():
    return 22800


def groupStart():
    _group_depth[0] += 1


def groupEnd():
    _group_depth[0] -= 1
    if _group_depth[0] == 0:
        todo, _pending[:] = list(_pending), []
        world = _mpi().COMM_WORLD
        for kind, comm, ptr, count, datatype, peer in todo:
            buf = _view(ptr, count, datatype).view(np.uint8)
            post = world.Isend if kind == "send" else world.Irecv
            _inflight.append(post(buf, comm._world[peer], comm._p2p_tag))


def inflight():
    """The requests posted so far: what an event recorded now waits for."""
    return list(_inflight)


def complete(requests, wait):
    """Whether ``requests`` have completed (waiting for them if ``wait``)."""
    if not requests:
        return True
    MPI = _mpi()
    done = True
    if wait:
        MPI.Request.Waitall(requests)
    else:
        done = MPI.Request.Testall(requests)
    if done:
        _inflight[:] = [r for r in _inflight if r not in requests]
    return done


class NcclCommunicator:
    def __init__(self, ndev, commId, rank):
        MPI = _mpi()
        world = MPI.COMM_WORLD
        root, salt = struct.unpack("<iq", commId[:12])
        self._size, self._rank = ndev, rank
        self._tag = _TAG_BASE + salt % (1 << 19)
        self._p2p_tag = self._tag + (1 << 19)    # never matched by a collective's message
        me = world.Get_rank()
        if rank == 0:
            table = [me] + [0] * (ndev - 1)
            for _ in range(ndev - 1):
                r, w = world.recv(source=MPI.ANY_SOURCE, tag=self._tag)
                table[r] = w
            for r in range(1, ndev):
                world.send(table, dest=table[r], tag=self._tag)
        else:
            world.send((rank, me), dest=root, tag=self._tag)
            table = world.recv(source=root, tag=self._tag)
        self._world = table
        self._alive = True

    # ---- helpers: blocking exchanges through rank 0 of the communicator -------------------
    def _check(self):
        if not self._alive:
            raise NcclError("NCCL_ERROR_INVALID_ARGUMENT: communicator was destroyed")

    def _send(self, buf, peer):
        _mpi().COMM_WORLD.Send(np.ascontiguousarray(buf).view(np.uint8), self._world[peer],
                               self._tag)

    def _recv(self, like, peer):
        out = np.empty_like(like)
        _mpi().COMM_WORLD.Recv(out.view(np.uint8), self._world[peer], self._tag)
        return out

    def _reduced_at_root(self, data, op, root):
        """The reduction of every rank's ``data``, on ``root`` (None elsewhere)."""
        if self._rank != root:
            self._send(data, root)
            return None
        acc = data.copy()
        for r in range(self._size):
            if r != root:
                if op == NCCL_AVG:
                    acc += self._recv(data, r)
                else:
                    _REDUCE[op](acc, self._recv(data, r), out=acc)
        if op == NCCL_AVG:
            acc = (acc / self._size).astype(data.dtype)
        return acc

    def _bcast_from(self, data, root):
        if self._rank == root:
            for r in range(self._size):
                if r != root:
                    self._send(data, r)
            return data
        return self._recv(data, root)

    # ---- CuPy's NcclCommunicator API ------------------------------------------------------
    def size(self):
        return self._size

    def rank_id(self):
        return self._rank

    def device_id(self):
        return 0

    def allReduce(self, sendbuf, recvbuf, count, datatype, op, stream):
        self._check()
        data = _view(sendbuf, count, datatype).copy()
        total = self._reduced_at_root(data, op, 0)
        _view(recvbuf, count, datatype)[...] = self._bcast_from(
            total if self._rank == 0 else data, 0)

    def reduce(self, sendbuf, recvbuf, count, datatype, op, root, stream):
        self._check()
        total = self._reduced_at_root(_view(sendbuf, count, datatype).copy(), op, root)
        if self._rank == root:
            _view(recvbuf, count, datatype)[...] = total

    def bcast(self, buff, count, datatype, root, stream):
        self.broadcast(buff, buff, count, datatype, root, stream)

    def broadcast(self, sendbuff, recvbuff, count, datatype, root, stream):
        self._check()
        data = _view(sendbuff, count, datatype).copy()
        _view(recvbuff, count, datatype)[...] = self._bcast_from(data, root)

    def allGather(self, sendbuf, recvbuf, count, datatype, stream):
        self._check()
        mine = _view(sendbuf, count, datatype).copy()
        parts = [self._bcast_from(mine, r) for r in range(self._size)]
        _view(recvbuf, count * self._size, datatype)[...] = np.concatenate(parts)

    def reduceScatter(self, sendbuf, recvbuf, recvcount, datatype, op, stream):
        self._check()
        data = _view(sendbuf, recvcount * self._size, datatype).copy()
        total = self._reduced_at_root(data, op, 0)
        total = self._bcast_from(total if total is not None else data, 0)
        _view(recvbuf, recvcount, datatype)[...] = \
            total[self._rank * recvcount:(self._rank + 1) * recvcount]

    def send(self, sendbuf, count, datatype, peer, stream):
        self._check()
        _pending.append(("send", self, sendbuf, count, datatype, peer))
        if _group_depth[0] == 0:
            groupStart()
            groupEnd()

    def recv(self, recvbuf, count, datatype, peer, stream):
        self._check()
        _pending.append(("recv", self, recvbuf, count, datatype, peer))
        if _group_depth[0] == 0:
            groupStart()
            groupEnd()

    def abort(self):
        self._alive = False

    def destroy(self):
        self._alive = False

    def check_async_error(self):
        self._check()
