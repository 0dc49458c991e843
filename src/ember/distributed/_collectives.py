"""torch.distributed's collectives and point-to-point calls on Ember tensors.

Each collective first checks that every rank runs the same one: a 64-bit fingerprint of
the operation, ReduceOp, dtype, shape, root, and whether this rank's own argument checks
passed goes through one 16-byte all-reduce on the group's separate ``meta`` communicator
(see ``_fingerprints_match``); after a mismatch the full descriptions are gathered and the
same clear error raised on every rank before any data moves, where MPI itself would corrupt
memory or wait forever. Then the data operation starts non-blocking on contiguous buffers (a
non-contiguous tensor goes through a contiguous copy that is written back on completion),
and a ``Work`` handle completes it: ``wait()`` for ``async_op=False`` at once, or later by
the caller (a blocking call completes it without making one).
"""
import pickle
import time
import zlib

import numpy as np

from .._device import array_module
from .._tensor import Tensor
from . import _mpi
from ._group import _state, resolve
from .errors import DistBackendError

_OPNAMES = ("all_reduce", "reduce", "broadcast", "all_gather", "all_gather_into_tensor",
            "gather", "scatter", "reduce_scatter", "reduce_scatter_tensor", "all_to_all",
            "all_to_all_single", "barrier")
_DTYPES = ("float32", "float64", "float16", "bfloat16", "int8", "int16", "int32", "int64",
           "uint8", "uint16", "uint32", "uint64", "bool", "complex64", "complex128")
_MAXDIM = 10
_HEAD = 6 + _MAXDIM       # op, root, failed, dtype, reduce op, ndim, dims...
_FP_MASK = (1 << 62) - 1  # fingerprints in [0, 2**62): their negations fit an int64 too


class ReduceOpMeta(type):
    def __iter__(cls):
        return iter(cls._members)


class RedOpType:
    __slots__ = ("name", "value")

    def __init__(self, name, value):
        self.name, self.value = name, value

    def __repr__(self):
        return f"<RedOpType.{self.name}: {self.value}>"

    def __str__(self):
        return f"RedOpType.{self.name}"

    def __eq__(self, other):
        return isinstance(other, RedOpType) and other.value == self.value

    def __hash__(self):
        return hash(self.value)


class ReduceOp(metaclass=ReduceOpMeta):
    """torch's ReduceOp: ``ReduceOp.SUM`` & co. are ``RedOpType`` values."""
    RedOpType = RedOpType
    _members = []


for _i, _n in enumerate(("SUM", "AVG", "PRODUCT", "MIN", "MAX", "BAND", "BOR", "BXOR",
                         "PREMUL_SUM")):
    setattr(ReduceOp, _n, RedOpType(_n, _i))
    ReduceOp._members.append(getattr(ReduceOp, _n))


def _dtype_code(dtype):
    name = str(dtype).rsplit(".", 1)[-1]
    return _DTYPES.index(name) if name in _DTYPES else 100 + zlib.crc32(name.encode()) % 1000


def _dtype_name(code):
    return f"torch.{_DTYPES[code]}" if code < len(_DTYPES) else f"<dtype {code}>"


class Work:
    """A started operation: ``wait()`` completes it (raising on timeout or failure),
    ``is_completed()`` polls it; ``result()`` gives the output tensors."""

    def __init__(self, group, backend, handle, describe, finish=None, outputs=()):
        self._group, self._backend, self._handle = group, backend, handle
        self._describe, self._finish, self._outputs = describe, finish, list(outputs)
        self._done = False
        self._error = None

    def _complete(self):
        self._done = True
        if self._finish is not None:
            self._finish()
            self._finish = None

    def wait(self, timeout=None):
        if self._error is not None:
            raise self._error
        if not self._done:
            try:
                deadline = self._group.deadline()
                if timeout is not None:
                    seconds = getattr(timeout, "total_seconds", lambda: timeout)()
                    deadline = min(deadline, time.monotonic() + seconds)
                self._backend.wait(self._handle, deadline, self._describe)
            except Exception as e:
                _mpi.broken = True
                self._error = e
                raise
            self._complete()
        return True

    def is_completed(self):
        if not self._done and self._error is None and self._backend.test(self._handle):
            self._complete()
        return self._done

    def is_success(self):
        return self.is_completed() and self._error is None

    def exception(self):
        return self._error

    def result(self):
        return self._outputs

    def synchronize(self):
        self.wait()


def _started(g, backend, handle, describe, finish=None, outputs=(), async_op=False):
    """An operation the backend started: a ``Work`` for ``async_op``, else completed here
    at once (no handle object for the common blocking call)."""
    if async_op:
        return Work(g, backend, handle, describe, finish, outputs)
    try:
        backend.wait(handle, g.deadline(), describe)
    except Exception:
        _mpi.broken = True
        raise
    if finish is not None:
        finish()
    return None


def _arr(t):
    return t._data


def _device(t):
    return t.device.type


def _check_tensor(t, name="tensor"):
    if not isinstance(t, Tensor):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type "
                        f"torch.Tensor\n             but got {type(t)} instead.")


def _describe_row(row, world):
    op, root, failed, dtype, reduce_op, ndim = (int(v) for v in row[:6])
    shape = [int(d) for d in row[6:6 + min(ndim, _MAXDIM)]]
    extra = f", root={root}" if root >= 0 else ""
    if reduce_op >= 0:
        extra += f", op={ReduceOp._members[reduce_op].name}"
    return (f"{_OPNAMES[op]}(shape={shape}, dtype={_dtype_name(dtype)}{extra})"
            + (" with arguments it rejected" if failed else ""))


_codes = {}        # ember dtype -> its number in the fingerprints


def _fingerprint(opcode, tensor, root, failed, reduce_op):
    """The operation, root, argument check, tensor kind and ReduceOp of a collective as one
    number, equal on two ranks exactly when their rows (``_row``) are (hash of a tuple of
    ints: the same in every process, unlike a str's)."""
    code, shape = 0, ()
    if tensor is not None:
        dt, shape = tensor.dtype, tensor.shape
        code = _codes.get(dt)
        if code is None:
            code = _codes[dt] = _dtype_code(dt)
    redop = -1 if reduce_op is None else reduce_op.value
    return hash((opcode, root, failed, code, redop, *shape)) & _FP_MASK


def _row(g, opcode, tensor, root, failed, reduce_op, extra):
    row = np.zeros(_HEAD + 2 * g.size(), np.int64)
    row[0], row[1], row[2] = opcode, root, failed
    row[4] = -1 if reduce_op is None else reduce_op.value
    if tensor is not None:
        shape = tuple(tensor.shape)
        row[3], row[5] = _dtype_code(tensor.dtype), len(shape)
        row[6:6 + min(len(shape), _MAXDIM)] = shape[:_MAXDIM]
        if len(shape) > _MAXDIM:
            row[6 + _MAXDIM - 1] = zlib.crc32(repr(shape).encode())
    if extra is not None:
        row[_HEAD:_HEAD + len(extra)] = extra
    return row


def _agree(g, op, tensor=None, root=-1, error=None, extra=None, reduce_op=None):
    """All ranks of ``g`` confirm they run the same operation (and ReduceOp) on the same
    kind of tensor; ``error`` is this rank's own argument error, raised once every rank
    knows of it.
    Returns every rank's ``extra`` (all-to-all's counts), or None when there are none.

    The data operation starts after this check, never beside it: MPI with mismatched
    counts or operations is undefined."""
    if not g.checks:
        if error is not None:
            raise error
        return None
    opcode, failed = _OPNAMES.index(op), error is not None
    same = _fingerprints_match(g, _fingerprint(opcode, tensor, root, failed, reduce_op), op)
    if same and extra is None:
        if error is not None:
            raise error
        return None
    # every rank gets here together: all saw the mismatch, or all run the same all-to-all
    return _compare_rows(g, op, tensor, root, error, extra, same, reduce_op)


def _fingerprints_match(g, mine, op):
    """Whether every rank of ``g`` passed the same fingerprint: each contributes [f, -f]
    to one 16-byte MAX all-reduce, whose result is [f, -f] on every rank exactly when all
    are equal, so all ranks learn the answer together."""
    box, request = g.fingerprint, g.fingerprint_check
    box[0], box[1] = mine, -mine
    if request is None:
        request = g.meta.Iallreduce(_mpi.IN_PLACE, box, _mpi.MAX)
    else:
        request.Start()
    if not request.Test():
        _mpi.poll_until(request.Test, g.deadline(), _checking, g, op)
    return box[0] == mine and box[1] == -mine


def _checking(g, op):
    return f"[Rank {g.rank()}] {op} (checking that every rank runs it)"


def _compare_rows(g, op, tensor, root, error, extra, same, reduce_op=None):
    """Every rank's full row (what the fingerprint summarises, and ``extra``): raises the
    error naming the difference, else returns the ranks' ``extra`` columns."""
    size, me = g.size(), g.rank()
    row = _row(g, _OPNAMES.index(op), tensor, root, error is not None, reduce_op, extra)
    rows = np.empty((size, row.size), np.int64)
    _mpi.wait([g.meta.Iallgather(row, rows)], g.deadline(),
              lambda: f"[Rank {me}] {op} (comparing the ranks' collectives)")
    if error is not None:
        raise error
    failed = [r for r in range(size) if rows[r, 2]]
    if failed:
        raise RuntimeError(f"{op}: rank {failed[0]} rejected its arguments (see the error "
                           f"there); no data was exchanged")
    head = rows[:, :_HEAD]
    for r in range(size):
        if not np.array_equal(head[r], head[me]):
            raise RuntimeError(
                f"Detected mismatch between collectives on ranks. Rank {me} is running "
                f"collective: {_describe_row(head[me], size)}, but Rank {r} is running "
                f"collective: {_describe_row(head[r], size)}")
    if not same:     # rows agree only in what they show (the dims past the 10th)
        raise RuntimeError(f"Detected mismatch between collectives on ranks. Rank {me} is "
                           f"running collective: {_describe_row(head[me], size)}, and another "
                           f"rank the same collective on a tensor of another shape")
    return rows[:, _HEAD:]


def _describe_call(g, op, tensor=None):
    what = "" if tensor is None else f"(shape={list(tensor.shape)}, dtype={tensor.dtype})"
    return f"[Rank {g.rank()}] {op}{what} on a group of {g.size()} ranks"


def _describer(g, op, tensor=None):
    return lambda: _describe_call(g, op, tensor)


class _Staged:
    """A tensor's array as a contiguous buffer; ``commit()`` writes it back if it was
    copied, and marks the tensor modified."""

    def __init__(self, t, copy=True):
        self.t = t
        a = _arr(t)
        self.direct = a.flags.c_contiguous
        if self.direct:
            self.buf = a.reshape(-1)
        else:
            xp = array_module(a)
            self.buf = (xp.ascontiguousarray(a) if copy else xp.empty(a.shape, a.dtype)).reshape(-1)

    def commit(self):
        if not self.direct:
            _arr(self.t)[...] = self.buf.reshape(_arr(self.t).shape)
        self.t._vc[0] += 1


def _reduce_checks(op, t, name):
    if not isinstance(op, RedOpType):
        raise TypeError(f"{name}: op must be a ReduceOp, got {op!r}")
    dt = t.dtype
    # torch views complex tensors as real pairs, so only sums (and averages) reduce them;
    # all_reduce says so for products too
    if dt.is_complex and (op.name in ("MIN", "MAX") or
                          op.name == "PRODUCT" and name == "all_reduce"):
        return ValueError(f"{name} does not support {op} on complex tensors")
    if op.name in ("BAND", "BOR", "BXOR") and (dt.is_floating_point or dt.is_complex):
        return RuntimeError(f"Cannot use ReduceOp.{op.name} with non-integral dtype")
    if op.name == "AVG" and not (dt.is_floating_point or dt.is_complex):
        return RuntimeError("ReduceOp.AVG is supported for floating point and complex "
                            "tensors only")
    if op.name == "PREMUL_SUM":
        return RuntimeError("ReduceOp.PREMUL_SUM is not supported by ember.distributed")
    return None


def _op_name(op):
    return "SUM" if op.name == "AVG" else op.name


def _average(op, g, buf):
    if op.name == "AVG":
        buf /= g.size()


# (ReduceOp value, NumPy dtype, shape) -> (fingerprint, MPI op, whether MPI takes the array
# itself, whether to average) of an all_reduce that passed its argument checks: what a
# training loop's repeated calls would otherwise work out again every time
_all_reduce_plans = {}


def _all_reduce_plan(op, tensor):
    error = _reduce_checks(op, tensor, "all_reduce")
    if error is not None:
        return error
    a = _arr(tensor)
    if len(_all_reduce_plans) > 1024:
        _all_reduce_plans.clear()
    plan = _all_reduce_plans[op.value, a.dtype, a.shape] = (
        _fingerprint(_OPNAMES.index("all_reduce"), tensor, -1, False, op),
        _mpi.reduce_op(_op_name(op), a.dtype) if isinstance(a, np.ndarray) else None,
        _mpi.buffer(a) is a, op.name == "AVG")
    return plan


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    # Kept flat: after a large transfer has evicted the caches, every helper call and
    # object made here costs ~0.2 us, and at 1 MB the budget for all that ember adds to
    # MPI's ~170 us is 17 us (through the generic path below: 8-9% over mpi4py; this: 5%).
    if not isinstance(tensor, Tensor):
        _check_tensor(tensor)
    g = _state.world if group is None and _state.world is not None else resolve(group)
    a = tensor._data
    plan = _all_reduce_plans.get((op.value, a.dtype, a.shape)) if type(op) is RedOpType \
        else None
    if plan is None:
        plan = _all_reduce_plan(op, tensor)
        if not isinstance(plan, tuple):      # this rank's arguments are wrong: raises
            _agree(g, "all_reduce", tensor, error=plan, reduce_op=op)
    fingerprint, mpi_op, direct, average = plan
    if g.checks and not _fingerprints_match(g, fingerprint, "all_reduce"):
        _compare_rows(g, "all_reduce", tensor, -1, None, None, False, op)   # raises
    if async_op or not direct or type(a) is not np.ndarray or not a.flags.c_contiguous \
            or g.name() == "nccl":
        backend = g.backend_for(_device(tensor))
        s = _Staged(tensor)

        def finish():
            _average(op, g, s.buf)
            s.commit()
        return _started(g, backend, backend.allreduce(s.buf, _op_name(op)),
                        _describer(g, "all_reduce", tensor), finish, [tensor],
                        async_op=async_op)
    # the common call, a contiguous CPU tensor of a type MPI knows, waited for at once:
    # straight to mpi4py on the tensor's own memory, as a program calling it would
    request = g.comm.Iallreduce(_mpi.IN_PLACE, a, mpi_op)
    if not request.Test():
        try:
            _mpi.poll_until(request.Test, time.monotonic() + g.timeout, _describe_call, g,
                            "all_reduce", tensor)
        except Exception:
            _mpi.broken = True
            raise
    if average:
        a /= g.size()
    tensor._vc[0] += 1


def _root(g, global_rank, name):
    if global_rank is None:
        raise ValueError(f"{name}: a source/destination rank is required")
    return g.group_rank(global_rank)


def broadcast(tensor, src=None, group=None, async_op=False, group_src=None):
    _check_tensor(tensor)
    g = resolve(group)
    root = group_src if group_src is not None else _root(g, src, "broadcast")
    error = None if 0 <= root < g.size() else RuntimeError(f"broadcast: invalid root rank: {root}")
    _agree(g, "broadcast", tensor, root, error)
    backend = g.backend_for(_device(tensor))
    s = _Staged(tensor)
    return _started(g, backend, backend.broadcast(s.buf, root),
                    _describer(g, "broadcast", tensor), s.commit, [tensor], async_op=async_op)


def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    _check_tensor(tensor)
    g = resolve(group)
    root = group_dst if group_dst is not None else _root(g, dst, "reduce")
    _agree(g, "reduce", tensor, root, _reduce_checks(op, tensor, "reduce"), reduce_op=op)
    backend = g.backend_for(_device(tensor))
    s = _Staged(tensor)

    def finish():
        if g.rank() == root:
            _average(op, g, s.buf)
            s.commit()
    return _started(g, backend, backend.reduce(s.buf, _op_name(op), root),
                    _describer(g, "reduce", tensor), finish, [tensor], async_op=async_op)


def _same_as(t, ref, name, index):
    if tuple(t.shape) != tuple(ref.shape):
        return RuntimeError(f"{name}: invalid tensor size at index {index} (expected "
                            f"{tuple(ref.shape)}, got {tuple(t.shape)})")
    if t.dtype != ref.dtype:
        return TypeError(f"{name}: invalid tensor type at index {index} (expected "
                         f"{ref.dtype}, got {t.dtype})")
    return None


def _list_error(tensors, ref, size, name, what="output tensor list"):
    if len(tensors) != size:
        return RuntimeError(f"{name}: invalid {what} (expected length {size}, got "
                            f"{len(tensors)})")
    for i, t in enumerate(tensors):
        _check_tensor(t)
        error = _same_as(t, ref, name, i)
        if error is not None:
            return error
    return None


def _contiguous(t):
    a = _arr(t)
    return a.reshape(-1) if a.flags.c_contiguous else a.ravel()


def _empty_like(a, n):
    xp = array_module(a)
    return xp.empty(n, a.dtype)


def _write_parts(tensors, flat):
    n = flat.size // max(len(tensors), 1)
    for i, t in enumerate(tensors):
        _arr(t)[...] = flat[i * n:(i + 1) * n].reshape(_arr(t).shape)
        t._vc[0] += 1


def all_gather(tensor_list, tensor, group=None, async_op=False):
    _check_tensor(tensor)
    g = resolve(group)
    _agree(g, "all_gather", tensor,
           error=_list_error(tensor_list, tensor, g.size(), "all_gather"))
    backend = g.backend_for(_device(tensor))
    send = _contiguous(tensor)
    recv = _empty_like(send, send.size * g.size())
    return _started(g, backend, backend.allgather(send, recv),
                    _describer(g, "all_gather", tensor), lambda: _write_parts(tensor_list, recv),
                    tensor_list, async_op=async_op)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    _check_tensor(input_tensor)
    g = resolve(group)
    error = None
    if output_tensor.numel() != input_tensor.numel() * g.size():
        error = ValueError("output tensor size must be equal to world_size times input "
                           "tensor size")
    elif output_tensor.dtype != input_tensor.dtype:
        error = TypeError("output tensor must have the same type as input tensor")
    _agree(g, "all_gather_into_tensor", input_tensor, error=error)
    backend = g.backend_for(_device(input_tensor))
    s = _Staged(output_tensor, copy=False)
    return _started(g, backend, backend.allgather(_contiguous(input_tensor), s.buf),
                    _describer(g, "all_gather_into_tensor", input_tensor), s.commit,
                    [output_tensor], async_op=async_op)


def gather(tensor, gather_list=None, dst=None, group=None, async_op=False, group_dst=None):
    _check_tensor(tensor)
    g = resolve(group)
    root = group_dst if group_dst is not None else _root(g, 0 if dst is None else dst, "gather")
    is_root = g.rank() == root
    if is_root:
        error = _list_error(gather_list or [], tensor, g.size(), "gather")
    else:
        error = None if not gather_list else ValueError(
            "Argument ``gather_list`` must NOT be specified on non-destination ranks.")
    _agree(g, "gather", tensor, root, error)
    backend = g.backend_for(_device(tensor))
    send = _contiguous(tensor)
    recv = _empty_like(send, send.size * g.size()) if is_root else None
    return _started(g, backend, backend.gather(send, recv, root),
                    _describer(g, "gather", tensor),
                    (lambda: _write_parts(gather_list, recv)) if is_root else None,
                    gather_list or [], async_op=async_op)


def scatter(tensor, scatter_list=None, src=None, group=None, async_op=False, group_src=None):
    _check_tensor(tensor)
    g = resolve(group)
    root = group_src if group_src is not None else _root(g, 0 if src is None else src, "scatter")
    is_root = g.rank() == root
    if is_root:
        error = _list_error(scatter_list or [], tensor, g.size(), "scatter",
                            "input tensor list")
    else:
        error = None if not scatter_list else ValueError(
            "Argument ``scatter_list`` must NOT be specified on non-source ranks.")
    _agree(g, "scatter", tensor, root, error)
    backend = g.backend_for(_device(tensor))
    send = None
    if is_root:
        xp = array_module(_arr(tensor))
        send = xp.concatenate([_contiguous(t) for t in scatter_list])
    s = _Staged(tensor, copy=False)
    return _started(g, backend, backend.scatter(send, s.buf, root),
                    _describer(g, "scatter", tensor), s.commit, [tensor], async_op=async_op)


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    _check_tensor(output)
    g = resolve(group)
    error = _reduce_checks(op, output, "reduce_scatter") or \
        _list_error(input_list, output, g.size(), "reduce_scatter", "input tensor list")
    _agree(g, "reduce_scatter", output, error=error, reduce_op=op)
    xp = array_module(_arr(output))
    send = xp.concatenate([_contiguous(t) for t in input_list])
    return _reduce_scatter(g, op, send, output, async_op)


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    _check_tensor(output)
    g = resolve(group)
    error = _reduce_checks(op, output, "reduce_scatter_tensor")
    if error is None and input.numel() != output.numel() * g.size():
        error = ValueError("input tensor must be the same size as output size times world "
                           "size")
    elif error is None and input.dtype != output.dtype:
        error = TypeError("input tensor must be the same type as the output tensor.")
    _agree(g, "reduce_scatter_tensor", output, error=error, reduce_op=op)
    return _reduce_scatter(g, op, _contiguous(input), output, async_op)


def _reduce_scatter(g, op, send, output, async_op):
    backend = g.backend_for(_device(output))
    s = _Staged(output, copy=False)

    def finish():
        _average(op, g, s.buf)
        s.commit()
    return _started(g, backend, backend.reduce_scatter(send, s.buf, _op_name(op)),
                    _describer(g, "reduce_scatter", output), finish, [output], async_op=async_op)


class _DtypeOnly:
    shape = ()

    def __init__(self, dtype):
        self.dtype = dtype


def _check_counts(g, name, table):
    """``table[r]``: rank r's send counts, then its receive counts."""
    size, me = g.size(), g.rank()
    sent_to_me = table[:, me]
    if not np.array_equal(sent_to_me, table[me, size:2 * size]):
        raise RuntimeError(f"{name}: rank {me} expects {table[me, size:].tolist()} elements "
                           f"from the ranks, but they send it {sent_to_me.tolist()}")
    bad = [r for r in range(size) if not np.array_equal(table[:, r], table[r, size:])]
    if bad:
        raise RuntimeError(f"{name}: the split sizes of rank {bad[0]} do not match what the "
                           f"other ranks send it")


def _alltoall(g, name, send, send_counts, recv, recv_counts, ref, error, finish, outputs,
              async_op):
    counts = np.concatenate([send_counts, recv_counts]).astype(np.int64)
    # shapes may differ between ranks here: only the dtype is compared, the counts below
    table = _agree(g, name, _DtypeOnly(ref.dtype), error=error, extra=counts)
    if table is not None:
        _check_counts(g, name, table)
    backend = g.backend_for(_device(ref))
    return _started(g, backend, backend.alltoallv(send, send_counts, recv, recv_counts),
                    _describer(g, name, ref), finish, outputs, async_op=async_op)


def all_to_all(output_tensor_list, input_tensor_list, group=None, async_op=False):
    g = resolve(group)
    ref = input_tensor_list[0] if input_tensor_list else output_tensor_list[0]
    error = None
    if len(output_tensor_list) != g.size() or len(input_tensor_list) != g.size():
        error = RuntimeError(f"all_to_all: expected {g.size()} input and output tensors, got "
                             f"{len(input_tensor_list)} and {len(output_tensor_list)}")
    elif any(t.dtype != ref.dtype for t in output_tensor_list + input_tensor_list):
        error = TypeError("all_to_all: all tensors must have the same dtype")
    xp = array_module(_arr(ref))
    send = xp.concatenate([_contiguous(t) for t in input_tensor_list]) if error is None else None
    send_counts = [t.numel() for t in input_tensor_list] if error is None else [0] * g.size()
    recv_counts = [t.numel() for t in output_tensor_list] if error is None else [0] * g.size()
    recv = _empty_like(_arr(ref), sum(recv_counts))

    def finish():
        start = 0
        for t, n in zip(output_tensor_list, recv_counts):
            _arr(t)[...] = recv[start:start + n].reshape(_arr(t).shape)
            t._vc[0] += 1
            start += n
    return _alltoall(g, "all_to_all", send, send_counts, recv, recv_counts, ref, error, finish,
                     output_tensor_list, async_op)


def all_to_all_single(output, input, output_split_sizes=None, input_split_sizes=None,
                      group=None, async_op=False):
    g = resolve(group)
    size = g.size()
    row = lambda t: t.numel() // t.shape[0] if t.dim() and t.shape[0] else 0

    def counts(t, splits):
        if splits is None or len(splits) == 0:
            return [t.numel() // size] * size
        return [int(s) * row(t) for s in splits]
    error = None
    if output.dtype != input.dtype:
        error = TypeError("all_to_all_single: input and output must have the same dtype")
    elif (not output_split_sizes and output.numel() % size) or \
            (not input_split_sizes and input.numel() % size):
        error = ValueError("Tensor's dim 0 does not divide equally across group size")
    send_counts = counts(input, input_split_sizes) if error is None else [0] * size
    recv_counts = counts(output, output_split_sizes) if error is None else [0] * size
    s = _Staged(output, copy=False)
    return _alltoall(g, "all_to_all_single", _contiguous(input), send_counts, s.buf,
                     recv_counts, input, error, s.commit, [output], async_op)


def barrier(group=None, async_op=False, device_ids=None):
    g = resolve(group)
    return _started(g, g.mpi, [g.meta.Ibarrier()], _describer(g, "barrier"), async_op=async_op)


# point to point: a small header (dtype and shape) travels with each tensor on a tag of
# its own, so the receiver can name a mismatch instead of reading garbage
def _header(t):
    h = np.zeros(2 + _MAXDIM, np.int64)
    h[0], h[1] = _dtype_code(t.dtype), t.dim()
    h[2:2 + min(t.dim(), _MAXDIM)] = tuple(t.shape)[:_MAXDIM]
    return h


def _p2p_checks(g, peer, name, which):
    if peer is None:
        return None
    peer = g.group_rank(peer)
    if peer == g.rank():
        raise ValueError(f"Invalid {which} rank: {which} rank should not be the same as the "
                         f"rank of the current process.")
    return peer


def isend(tensor, dst=None, group=None, tag=0, group_dst=None):
    _check_tensor(tensor)
    g = resolve(group)
    peer = group_dst if group_dst is not None else _p2p_checks(g, dst, "send", "destination")
    backend = g.backend_for(_device(tensor))
    header = _header(tensor)
    data = _contiguous(tensor)
    handle = [g.p2p.Isend(header, peer, 2 * tag)]
    describe = _describer(g, f"send to rank {peer}", tensor)
    if backend is g.mpi:
        return Work(g, backend, handle + backend.send(data, peer, 2 * tag + 1), describe,
                    lambda: (header, data))
    _mpi.wait(handle, g.deadline(), describe)
    return Work(g, backend, backend.send(data, peer, 2 * tag + 1), describe)


def send(tensor, dst=None, group=None, tag=0, group_dst=None):
    isend(tensor, dst, group, tag, group_dst).wait()


class _RecvWork(Work):
    """A receive: the header first (from any source when ``src`` is None, which then
    names the rank the data comes from), then the data, checked against the header."""

    def __init__(self, g, tensor, peer, tag):
        self._tensor, self._tag, self.source = tensor, tag, peer
        self._header = np.empty(2 + _MAXDIM, np.int64)
        self._status = _mpi.mpi().Status()
        self._head = [g.p2p.Irecv(self._header, _mpi.mpi().ANY_SOURCE if peer is None else peer,
                                  2 * tag)]
        self._head_ok = False
        self._staged = _Staged(tensor, copy=False)
        super().__init__(g, g.backend_for(_device(tensor)), None, _describer(g, "recv", tensor),
                         self._staged.commit, [tensor])
        if peer is not None:
            self._post_data()

    def _post_data(self):
        self._handle = self._backend.recv(self._staged.buf, self.source, 2 * self._tag + 1)

    def _got_header(self):
        self._head_ok = True
        if self.source is None:
            self.source = self._status.Get_source()
            self._post_data()
        if np.array_equal(_header(self._tensor), self._header):
            return
        shape = self._header[2:2 + int(self._header[1])].tolist()
        self._error = RuntimeError(
            f"recv: rank {self.source} sent a tensor of shape {shape} and dtype "
            f"{_dtype_name(int(self._header[0]))}, but this rank receives into shape "
            f"{list(self._tensor.shape)} and dtype {self._tensor.dtype}")
        broken = _mpi.broken
        try:    # consume the message all the same, so that the sender completes
            self._backend.wait(self._handle, self._group.deadline(), self._describe)
        except DistBackendError:
            _mpi.broken = broken   # MPI's truncation error: the message was consumed
        raise self._error

    def wait(self, timeout=None):
        if self._error is not None:
            raise self._error
        if not self._head_ok:
            _mpi.wait(self._head, self._group.deadline(), self._describe, [self._status])
            self._got_header()
        return super().wait(timeout)

    def is_completed(self):
        if self._done or self._error is not None:
            return self._done
        if not self._head_ok:
            if not _mpi.test(self._head, [self._status]):
                return False
            self._got_header()
        return super().is_completed()


def irecv(tensor, src=None, group=None, tag=0, group_src=None):
    _check_tensor(tensor)
    g = resolve(group)
    peer = group_src if group_src is not None else _p2p_checks(g, src, "recv", "source")
    return _RecvWork(g, tensor, peer, tag)


def recv(tensor, src=None, group=None, tag=0, group_src=None):
    work = irecv(tensor, src, group, tag, group_src)
    work.wait()
    return work._group.ranks[work.source]


# Python objects: pickled and moved as bytes over the meta communicator
def broadcast_object_list(object_list, src=None, group=None, device=None, group_src=None):
    g = resolve(group)
    root = group_src if group_src is not None else _root(g, 0 if src is None else src,
                                                         "broadcast_object_list")
    describe = _describer(g, "broadcast_object_list")
    payload = pickle.dumps(list(object_list)) if g.rank() == root else b""
    n = np.array([len(payload)], np.int64)
    _mpi.wait([g.meta.Ibcast(n, root)], g.deadline(), describe)
    data = np.frombuffer(payload, np.uint8).copy() if g.rank() == root else \
        np.empty(int(n[0]), np.uint8)
    _mpi.wait([g.meta.Ibcast(data, root)], g.deadline(), describe)
    if g.rank() != root:
        objects = pickle.loads(data.tobytes())
        if len(objects) != len(object_list):
            raise RuntimeError(f"broadcast_object_list: rank {root} sent {len(objects)} "
                               f"objects, but this rank's list holds {len(object_list)}")
        object_list[:] = objects


def _gather_bytes(g, payload, describe):
    sizes = np.empty(g.size(), np.int64)
    _mpi.wait([g.meta.Iallgather(np.array([len(payload)], np.int64), sizes)], g.deadline(),
              describe)
    data = np.empty(int(sizes.sum()), np.uint8)
    mine = np.frombuffer(payload, np.uint8)
    _mpi.wait([g.meta.Iallgatherv(mine, [data, sizes.tolist()])], g.deadline(), describe)
    ends = np.cumsum(sizes)
    return [pickle.loads(data[e - s:e].tobytes()) for s, e in zip(sizes, ends)]


def all_gather_object(object_list, obj, group=None):
    g = resolve(group)
    if len(object_list) != g.size():
        raise RuntimeError(f"all_gather_object: object_list must have {g.size()} entries, "
                           f"got {len(object_list)}")
    object_list[:] = _gather_bytes(g, pickle.dumps(obj), _describer(g, "all_gather_object"))


def gather_object(obj, object_gather_list=None, dst=None, group=None, group_dst=None):
    g = resolve(group)
    root = group_dst if group_dst is not None else _root(g, 0 if dst is None else dst,
                                                         "gather_object")
    objects = _gather_bytes(g, pickle.dumps(obj), _describer(g, "gather_object"))
    if g.rank() == root:
        object_gather_list[:] = objects
