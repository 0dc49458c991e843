"""Backends: the primitive operations of a process group on contiguous raw arrays.

``MPIBackend`` runs NumPy arrays over an mpi4py communicator. ``NCCLBackend`` runs CuPy
arrays through ``cupy.cuda.nccl`` on the current stream, bootstrapped over the group's MPI
communicator (rank 0's unique id is broadcast with MPI, as torch broadcasts it through its
store). Each start method returns a handle that ``wait(handle, deadline, describe)`` and
``test(handle)`` complete; the collective layer (``_c10d``) does the checking, staging
and copying back, so a backend only moves bytes.
"""
import time

import numpy as np

from . import _mpi
from .errors import DistBackendError


class MPIBackend:
    name = "mpi"

    def __init__(self, comm):
        self.comm = comm

    def allreduce(self, buf, op):
        return [self.comm.Iallreduce(_mpi.mpi().IN_PLACE, _mpi.buffer(buf),
                                     _mpi.reduce_op(op, buf.dtype))]

    def broadcast(self, buf, root):
        return [self.comm.Ibcast(_mpi.buffer(buf), root)]

    def reduce(self, buf, op, root):
        MPI = _mpi.mpi()
        mop = _mpi.reduce_op(op, buf.dtype)
        if self.comm.Get_rank() == root:
            return [self.comm.Ireduce(MPI.IN_PLACE, _mpi.buffer(buf), mop, root)]
        return [self.comm.Ireduce(_mpi.buffer(buf), None, mop, root)]

    def allgather(self, send, recv):
        return [self.comm.Iallgather(_mpi.buffer(send), _mpi.buffer(recv))]

    def gather(self, send, recv, root):
        return [self.comm.Igather(_mpi.buffer(send),
                                  None if recv is None else _mpi.buffer(recv), root)]

    def scatter(self, send, recv, root):
        return [self.comm.Iscatter(None if send is None else _mpi.buffer(send),
                                   _mpi.buffer(recv), root)]

    def reduce_scatter(self, send, recv, op):
        return [self.comm.Ireduce_scatter_block(_mpi.buffer(send), _mpi.buffer(recv),
                                                _mpi.reduce_op(op, send.dtype))]

    def alltoallv(self, send, send_counts, recv, recv_counts):
        def spec(buf, counts):
            b = _mpi.buffer(buf)
            array, datatype = (b, None) if not isinstance(b, list) else b
            displs = np.concatenate([[0], np.cumsum(counts)[:-1]]).tolist()
            return [array, (list(counts), displs)] + ([datatype] if datatype else [])
        return [self.comm.Ialltoallv(spec(send, send_counts), spec(recv, recv_counts))]

    def send(self, buf, peer, tag):
        return [self.comm.Isend(_mpi.buffer(buf), peer, tag)]

    def recv(self, buf, peer, tag):
        return [self.comm.Irecv(_mpi.buffer(buf), peer, tag)]

    def wait(self, handle, deadline, describe):
        _mpi.wait(handle, deadline, describe)

    def test(self, handle):
        return _mpi.test(handle)

    def close(self):
        pass


class NCCLBackend:
    """NCCL for CUDA tensors. Written against CuPy's ``cupy.cuda.nccl`` API; operations
    are enqueued on the current stream, and a handle is a CUDA event recorded after them."""
    name = "nccl"
    _DTYPES = {"float16": "NCCL_FLOAT16", "float32": "NCCL_FLOAT32",
               "float64": "NCCL_FLOAT64", "int8": "NCCL_INT8", "uint8": "NCCL_UINT8",
               "int32": "NCCL_INT32", "int64": "NCCL_INT64", "bool": "NCCL_UINT8",
               "bfloat16": "NCCL_BFLOAT16"}
    # AVG reaches a backend as SUM: the collective layer divides afterwards
    _OPS = {"SUM": "NCCL_SUM", "PRODUCT": "NCCL_PROD", "MIN": "NCCL_MIN", "MAX": "NCCL_MAX"}

    def __init__(self, mpi_comm):
        from .. import _device
        # CuPy, or the stand-in with its NCCL carried over MPI
        cupy, nccl = _device._load_cupy(), _device.load_nccl()
        self.cupy, self.nccl = cupy, nccl
        rank, size = mpi_comm.Get_rank(), mpi_comm.Get_size()
        uid = nccl.get_unique_id() if rank == 0 else None
        uid = mpi_comm.bcast(uid, root=0)
        self.comm = nccl.NcclCommunicator(size, uid, rank)
        self.rank, self.size = rank, size

    def _dtype(self, buf):
        name = self._DTYPES.get(buf.dtype.name)
        if name is None or not hasattr(self.nccl, name):
            raise DistBackendError(f"NCCL has no data type for {buf.dtype.name} tensors")
        return getattr(self.nccl, name)

    @staticmethod
    def _real(buf):
        """A complex buffer as its (real, imag) pairs, as torch hands complex tensors to NCCL."""
        return buf.view(buf.real.dtype) if buf.dtype.kind == "c" else buf

    def _op(self, op, buf):
        if buf.dtype.kind == "c" and op != "SUM":    # AVG reaches a backend as SUM
            raise RuntimeError(f"all_reduce does not support RedOpType.{op} on complex tensors")
        if buf.dtype == np.bool_:     # logical or/and on 0/1 bytes, as torch does
            op = {"SUM": "MAX", "PRODUCT": "MIN"}.get(op, op)
        name = self._OPS.get(op)
        if name is None or not hasattr(self.nccl, name):
            raise DistBackendError(f"NCCL does not support ReduceOp.{op}")
        return getattr(self.nccl, name)

    def _stream(self):
        return self.cupy.cuda.get_current_stream().ptr

    def _done(self):
        event = self.cupy.cuda.Event(disable_timing=True)
        event.record()
        return event

    def allreduce(self, buf, op):
        nop, buf = self._op(op, buf), self._real(buf)
        self.comm.allReduce(buf.data.ptr, buf.data.ptr, buf.size, self._dtype(buf), nop,
                            self._stream())
        return self._done()

    def broadcast(self, buf, root):
        buf = self._real(buf)
        self.comm.bcast(buf.data.ptr, buf.size, self._dtype(buf), root, self._stream())
        return self._done()

    def reduce(self, buf, op, root):
        nop, buf = self._op(op, buf), self._real(buf)
        self.comm.reduce(buf.data.ptr, buf.data.ptr, buf.size, self._dtype(buf), nop, root,
                         self._stream())
        return self._done()

    def allgather(self, send, recv):
        send, recv = self._real(send), self._real(recv)
        self.comm.allGather(send.data.ptr, recv.data.ptr, send.size, self._dtype(send),
                            self._stream())
        return self._done()

    def reduce_scatter(self, send, recv, op):
        nop, send, recv = self._op(op, send), self._real(send), self._real(recv)
        self.comm.reduceScatter(send.data.ptr, recv.data.ptr, recv.size, self._dtype(send),
                                nop, self._stream())
        return self._done()

    def _grouped(self, pairs):
        """Point-to-point sends and receives as one NCCL group (gather, scatter, all-to-all):
        ``pairs`` holds (kind, array, peer) with kind "send" or "recv"."""
        stream = self._stream()
        self.nccl.groupStart()
        try:
            for kind, array, peer in pairs:
                if array.size == 0:
                    continue
                array = self._real(array)
                if kind == "send":
                    self.comm.send(array.data.ptr, array.size, self._dtype(array), peer, stream)
                else:
                    self.comm.recv(array.data.ptr, array.size, self._dtype(array), peer, stream)
        finally:
            self.nccl.groupEnd()
        return self._done()

    def gather(self, send, recv, root):
        pairs = [("send", send, root)]
        if self.rank == root:
            pairs = [("recv", part, r) for r, part in
                     enumerate(recv.reshape(self.size, -1))] + pairs
        return self._grouped(pairs)

    def scatter(self, send, recv, root):
        pairs = [("recv", recv, root)]
        if self.rank == root:
            pairs += [("send", part, r) for r, part in enumerate(send.reshape(self.size, -1))]
        return self._grouped(pairs)

    def alltoallv(self, send, send_counts, recv, recv_counts):
        def parts(buf, counts):
            ends = np.cumsum(counts)
            return [buf[e - c:e] for c, e in zip(counts, ends)]
        return self._grouped([("send", p, r) for r, p in enumerate(parts(send, send_counts))]
                             + [("recv", p, r) for r, p in enumerate(parts(recv, recv_counts))])

    def send(self, buf, peer, tag):
        return self._grouped([("send", buf, peer)])

    def recv(self, buf, peer, tag):
        return self._grouped([("recv", buf, peer)])

    def wait(self, event, deadline, describe):
        while not event.done:
            if time.monotonic() > deadline:
                self.comm.abort()
                raise DistBackendError(f"{describe()} timed out on NCCL: not every rank of "
                                       f"the group took part in it before the timeout")
            time.sleep(0.0002)

    def test(self, event):
        return event.done

    def close(self):
        self.comm.destroy()
