"""Run under mpiexec by test_distributed.py: every collective on several dtypes and shapes,
each result checked against the value computed here from every rank's known inputs.
Prints "collectives ok <rank>" at the end; any failure raises (a non-zero exit).

``collectives_worker.py nccl`` runs the same on CUDA tensors through the NCCL backend
(on the CUDA stand-in, EMBER_CUDA_STANDIN=1, in CI: NCCL's API carried over MPI)."""
import datetime
import os
import sys

import numpy as np

import ember
import ember.distributed as dist

BACKEND = sys.argv[1] if len(sys.argv) > 1 else "gloo"
dist.init_process_group(BACKEND, timeout=datetime.timedelta(seconds=20))
RANK, WORLD = dist.get_rank(), dist.get_world_size()
NCCL = BACKEND == "nccl"
if NCCL:
    ember.cuda.set_device(0)
    ember.set_default_device("cuda")   # every tensor below is a CUDA tensor
DTYPES = [ember.float32, ember.float64, ember.float16, ember.bfloat16, ember.int32, ember.int64,
          ember.uint8, ember.bool, ember.complex64]
SHAPES = [(), (5,), (3, 4), (2, 3, 2)]


def value(rank, shape, dtype):
    """Rank ``rank``'s input: small integers, exact in every dtype and under every op."""
    n = int(np.prod(shape))
    base = (np.arange(n).reshape(shape) % 3) + rank + 1
    if dtype == ember.bool:
        base = (np.arange(n).reshape(shape) + rank) % 2
    t = ember.tensor(base.tolist() if shape else int(base), dtype=ember.int64).to(dtype)
    return t


def stacked(shape, dtype):
    return np.stack([value(r, shape, dtype).to(ember.float64).cpu().numpy()
                     if dtype != ember.complex64 else value(r, shape, dtype).cpu().numpy()
                     for r in range(WORLD)])


def same(t, expected, what):
    if NCCL:
        assert t.is_cuda, (what, t.device)
    got = t.to(ember.complex128).cpu().numpy() if t.dtype == ember.complex64 else \
        t.to(ember.float64).cpu().numpy()
    assert got.shape == np.shape(expected), (what, got.shape, np.shape(expected))
    assert np.allclose(got, expected, rtol=1e-2), (what, got, expected)


REDUCE = {dist.ReduceOp.SUM: np.sum, dist.ReduceOp.PRODUCT: np.prod, dist.ReduceOp.MIN: np.min,
          dist.ReduceOp.MAX: np.max, dist.ReduceOp.AVG: np.mean}


def expected_reduce(op, shape, dtype):
    values = stacked(shape, dtype)
    if dtype == ember.bool:   # torch reduces bools as logical or (SUM, MAX) / and
        return (values.max(0) if op in (dist.ReduceOp.SUM, dist.ReduceOp.MAX)
                else values.min(0))
    result = REDUCE[op](values, axis=0)
    return result % 256 if dtype == ember.uint8 else result   # uint8 wraps, as torch's


def ops_for(dtype):
    if dtype.is_complex:   # reduced as real pairs, as torch does: sums only
        return [dist.ReduceOp.SUM, dist.ReduceOp.AVG]
    ops = [dist.ReduceOp.SUM, dist.ReduceOp.PRODUCT]
    if not dtype.is_complex:
        ops += [dist.ReduceOp.MIN, dist.ReduceOp.MAX]
    if dtype.is_floating_point or dtype.is_complex:
        ops.append(dist.ReduceOp.AVG)
    return ops


for dtype in DTYPES:
    for shape in SHAPES:
        what = f"{dtype} {shape}"
        for op in ops_for(dtype):
            t = value(RANK, shape, dtype)
            v = t._version
            dist.all_reduce(t, op=op)
            same(t, expected_reduce(op, shape, dtype), f"all_reduce {op} {what}")
            assert t._version > v
            t = value(RANK, shape, dtype)
            dist.reduce(t, dst=WORLD - 1, op=op)
            if RANK == WORLD - 1:
                same(t, expected_reduce(op, shape, dtype), f"reduce {op} {what}")
        t = value(RANK, shape, dtype)
        dist.broadcast(t, src=1)
        same(t, stacked(shape, dtype)[1], f"broadcast {what}")
        outs = [ember.zeros(shape, dtype=dtype) for _ in range(WORLD)]
        dist.all_gather(outs, value(RANK, shape, dtype))
        for r in range(WORLD):
            same(outs[r], stacked(shape, dtype)[r], f"all_gather {what}")
        gathered = [ember.zeros(shape, dtype=dtype) for _ in range(WORLD)] if RANK == 0 else None
        dist.gather(value(RANK, shape, dtype), gathered, dst=0)
        if RANK == 0:
            for r in range(WORLD):
                same(gathered[r], stacked(shape, dtype)[r], f"gather {what}")
        t = ember.zeros(shape, dtype=dtype)
        parts = [value(r, shape, dtype) for r in range(WORLD)] if RANK == 1 else None
        dist.scatter(t, parts, src=1)
        same(t, stacked(shape, dtype)[RANK], f"scatter {what}")

# all_gather_into_tensor, reduce_scatter(_tensor), all_to_all(_single) on a few dtypes
for dtype in (ember.float32, ember.int64, ember.bfloat16, ember.complex64):
    x = value(RANK, (2, 3), dtype)
    out = ember.zeros(WORLD * 2, 3, dtype=dtype)
    dist.all_gather_into_tensor(out, x)
    same(out, stacked((2, 3), dtype).reshape(WORLD * 2, 3), f"all_gather_into_tensor {dtype}")
    out = ember.zeros(WORLD, 2, 3, dtype=dtype)
    dist.all_gather_into_tensor(out, x)
    same(out, stacked((2, 3), dtype), f"all_gather_into_tensor stacked {dtype}")
    inputs = [value(RANK, (4,), dtype) * (i + 1) for i in range(WORLD)]
    out = ember.zeros(4, dtype=dtype)
    dist.reduce_scatter(out, inputs)
    same(out, stacked((4,), dtype).sum(0) * (RANK + 1), f"reduce_scatter {dtype}")
    out = ember.zeros(4, dtype=dtype)
    dist.reduce_scatter_tensor(out, ember.cat(inputs))
    same(out, stacked((4,), dtype).sum(0) * (RANK + 1), f"reduce_scatter_tensor {dtype}")
    # rank r sends r + j + 1 elements to rank j (uneven sizes)
    send = [ember.full((RANK + j + 1,), RANK * 10 + j).to(dtype) for j in range(WORLD)]
    recv = [ember.zeros(i + RANK + 1, dtype=dtype) for i in range(WORLD)]
    dist.all_to_all(recv, send)
    for i in range(WORLD):
        same(recv[i], np.full(i + RANK + 1, i * 10 + RANK), f"all_to_all {dtype}")
    single_in = ember.arange(WORLD * 2).to(dtype) + RANK * 100
    single_out = ember.zeros(WORLD * 2, dtype=dtype)
    dist.all_to_all_single(single_out, single_in)
    same(single_out, np.concatenate([np.arange(RANK * 2, RANK * 2 + 2) + r * 100
                                     for r in range(WORLD)]), f"all_to_all_single {dtype}")

# a non-contiguous tensor is reduced in place through a copy
t = ember.ones(4, 6)[:, ::2] * (RANK + 1)
dist.all_reduce(t)
same(t, np.full((4, 3), sum(range(1, WORLD + 1))), "non-contiguous all_reduce")
t = ember.ones(3, 3).t() * RANK
dist.broadcast(t, src=WORLD - 1)
same(t, np.full((3, 3), WORLD - 1), "non-contiguous broadcast")

# point to point, blocking and not, ring order; recv from any source names the sender
nxt, prv = (RANK + 1) % WORLD, (RANK - 1) % WORLD
for dtype in (ember.float32, ember.int64, ember.bfloat16, ember.bool):
    box = ember.zeros(3, 2, dtype=dtype)
    sent = (ember.arange(6).reshape(3, 2) + RANK).to(dtype)
    work = dist.isend(sent, nxt)
    got = dist.irecv(box, prv)
    got.wait()
    work.wait()
    assert got.is_completed() and work.is_completed()
    same(box, (np.arange(6).reshape(3, 2) + prv).astype(np.float64)
         if dtype != ember.bool else ((np.arange(6).reshape(3, 2) + prv) != 0),
         f"isend/irecv {dtype}")
if RANK == 0:
    senders = set()
    for _ in range(WORLD - 1):
        box = ember.zeros(2)
        senders.add(dist.recv(box))
        assert box.tolist() == [float(box[0]), float(box[0])]
    assert senders == set(range(1, WORLD)), senders
else:
    dist.send(ember.full((2,), float(RANK)), 0, tag=0)

# async collectives: handles complete, results in place
t = ember.full((1000,), float(RANK))
work = dist.all_reduce(t, async_op=True)
assert work.wait() is True and work.is_completed() and work.is_success()
assert work.result()[0] is t
same(t, np.full(1000, sum(range(WORLD))), "async all_reduce")
works = [dist.broadcast(ember.full((3,), float(RANK)), src=0, async_op=True) for _ in range(3)]
for w in works:
    w.wait()
    same(w.result()[0], np.zeros(3), "async broadcast")
dist.barrier()
dist.barrier(async_op=True).wait()

# objects
objects = [None, None] if RANK != 0 else [{"lr": 0.1}, [1, 2, "three"]]
dist.broadcast_object_list(objects, src=0)
assert objects == [{"lr": 0.1}, [1, 2, "three"]], objects
everyone = [None] * WORLD
dist.all_gather_object(everyone, ("rank", RANK))
assert everyone == [("rank", r) for r in range(WORLD)], everyone

# sub-groups: the even ranks; src/dst are global ranks, as torch's
evens = dist.new_group([r for r in range(WORLD) if r % 2 == 0])
if RANK % 2 == 0:
    assert dist.get_world_size(evens) == (WORLD + 1) // 2
    assert dist.get_rank(evens) == RANK // 2
    t = ember.full((2,), float(RANK))
    dist.all_reduce(t, group=evens)
    same(t, np.full(2, sum(range(0, WORLD, 2))), "sub-group all_reduce")
    t = ember.full((2,), float(RANK))
    dist.broadcast(t, src=WORLD - 2 if WORLD > 2 else 0, group=evens)
    same(t, np.full(2, WORLD - 2 if WORLD > 2 else 0), "sub-group broadcast")
else:
    assert evens == dist.GroupMember.NON_GROUP_MEMBER
    assert dist.get_rank(evens) == -1
dist.barrier()

# without the fingerprint exchange (EMBER_DISTRIBUTED_CHECKS=0 when a group is made) the
# results are the same; the setting is read when a group is made, so the world keeps checking
assert dist.group.WORLD.checks
os.environ["EMBER_DISTRIBUTED_CHECKS"] = "0"
unchecked = dist.new_group()
del os.environ["EMBER_DISTRIBUTED_CHECKS"]
assert not unchecked.checks
t = ember.full((3, 2), float(RANK))
dist.all_reduce(t, op=dist.ReduceOp.MAX, group=unchecked)
same(t, np.full((3, 2), WORLD - 1), "unchecked all_reduce")
recv = [ember.zeros(i + RANK + 1) for i in range(WORLD)]
dist.all_to_all(recv, [ember.full((RANK + j + 1,), RANK * 10.0 + j) for j in range(WORLD)],
                group=unchecked)
for i in range(WORLD):
    same(recv[i], np.full(i + RANK + 1, i * 10 + RANK), "unchecked all_to_all")
# one rank alone asking for no checks does not turn them off: the ranks agree on checking
if RANK == 0:
    os.environ["EMBER_DISTRIBUTED_CHECKS"] = "0"
assert dist.new_group().checks
os.environ.pop("EMBER_DISTRIBUTED_CHECKS", None)

# mismatches: the same clear error on every rank, and the group goes on working after it
errors = []
for call in (lambda: dist.all_reduce(ember.ones(2 + RANK)),
             lambda: dist.all_reduce(ember.ones(2, dtype=ember.float32 if RANK else ember.int32)),
             lambda: (dist.broadcast(ember.ones(2), src=0) if RANK
                      else dist.all_reduce(ember.ones(2))),
             lambda: dist.all_gather([ember.ones(2)] * (WORLD + RANK), ember.ones(2)),
             lambda: dist.all_reduce(ember.ones(2), op=dist.ReduceOp.MAX if RANK else
                                     dist.ReduceOp.SUM)):
    try:
        call()
    except RuntimeError as e:
        errors.append(str(e))
assert len(errors) == 5, errors
assert "op=SUM" in errors[4] and "op=MAX" in errors[4], errors[4]
assert "Detected mismatch between collectives on ranks" in errors[0] and "shape=[2]" in errors[0]
assert "torch.int32" in errors[1] and "torch.float32" in errors[1]
assert "broadcast" in errors[2] and "all_reduce" in errors[2]
if RANK == 0:     # its own list is right; rank 1's is one too long
    assert "all_gather: rank 1 rejected its arguments" in errors[3], errors[3]
else:
    assert "all_gather: invalid output tensor list (expected length" in errors[3], errors[3]
try:
    dist.all_reduce(ember.ones(2, dtype=ember.complex64), op=dist.ReduceOp.MAX)
except ValueError as e:
    assert str(e) == "all_reduce does not support RedOpType.MAX on complex tensors", e
else:
    raise AssertionError("complex MAX accepted")
try:
    dist.all_reduce(ember.ones(2, dtype=ember.complex64), op=dist.ReduceOp.PRODUCT)
except ValueError as e:
    assert str(e) == "all_reduce does not support RedOpType.PRODUCT on complex tensors", e
else:
    raise AssertionError("complex PRODUCT accepted")
if WORLD > 1 and not NCCL:   # NCCL, as torch's, leaves a size-mismatched recv undefined
    box = ember.zeros(3)
    if RANK == 0:
        dist.send(ember.ones(4, dtype=ember.int64), 1)
    elif RANK == 1:
        try:
            dist.recv(box, 0)
        except RuntimeError as e:
            assert "sent a tensor of shape [4] and dtype torch.int64" in str(e), e
        else:
            raise AssertionError("mismatched recv accepted")
t = ember.ones(3)
dist.all_reduce(t)
same(t, np.full(3, WORLD), "all_reduce after the errors")
# a contiguous tensor on some ranks, a strided view of the same shape on the others
values = ember.arange(6.0).reshape(2, 3) + RANK
if RANK % 2:
    base = ember.zeros(3, 2)
    t = base.t()
    t.copy_(values)
    assert not t.is_contiguous()
else:
    t = values.clone()
dist.all_reduce(t)
expected = sum(np.arange(6.0).reshape(2, 3) + r for r in range(WORLD))
same(t, expected, "all_reduce on strided and contiguous tensors")
if RANK % 2:
    same(base.t(), expected, "all_reduce written through a view")
dist.destroy_process_group()
assert not dist.is_initialized()
print(f"collectives ok {RANK}", flush=True)
sys.exit(0)
