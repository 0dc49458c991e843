"""all_reduce bandwidth through ember.distributed against mpi4py called directly on NumPy
arrays, and DistributedDataParallel's step time against one process.

    python -m ember.distributed.run --nproc-per-node 2 benchmarks/bench_allreduce.py
    mpiexec -n 2 python benchmarks/bench_allreduce.py --repeats 20

Sizes 4 KB .. 64 MB of float32; the median of ``--repeats`` timed calls each, ember and
raw mpi4py (blocking ``Allreduce``, and ``Iallreduce`` polled with ``Test``, which is what
ember runs underneath) alternating, in a rotating order, so load changes hit all alike;
all four work in place on the same memory (the tensor's, which mpi4py gets as the NumPy
array ``t.numpy()``); "vs best" is ember's time over the faster mpi4py one; "unchecked" is
ember on a group made with EMBER_DISTRIBUTED_CHECKS=0 (no fingerprint exchange before the
data). The DDP part times one training
step (forward, backward with the bucketed gradient all-reduce, SGD step) of an MLP with a
per-rank batch B, the same step without DDP in one process on batch B (what each rank
computes), and the same DDP step with overlap disabled (backward under no_sync, then one
all_reduce per gradient), which shows what launching buckets during backward buys. The
launcher gives each process one BLAS thread (OMP_NUM_THREADS=1, as torchrun); started with
mpiexec directly, set it yourself, or OpenBLAS's spinning threads of both ranks share the
cores and the DDP figures measure that.
"""
import argparse
import os
import statistics
import time

import ember
import ember.distributed as dist
import ember.nn as nn
from ember.nn.parallel import DistributedDataParallel as DDP


def bandwidth(repeats):
    from mpi4py import MPI
    comm = MPI.COMM_WORLD
    world = dist.get_world_size()
    # the same ranks without the fingerprint check (the setting is read when a group is made)
    os.environ["EMBER_DISTRIBUTED_CHECKS"] = "0"
    unchecked = dist.new_group()
    del os.environ["EMBER_DISTRIBUTED_CHECKS"]
    rows = []
    size = 4 * 1024
    while size <= 64 * 1024 * 1024:
        n = size // 4
        # zeros: sums of ones would double every call and overflow in long runs
        t = ember.zeros(n)
        # mpi4py works on the tensor's own NumPy array, so that both sides move the same
        # memory: two separately allocated buffers differ by up to 20% at 1 MB on their own
        raw = t.numpy()
        times = {"ember": [], "unchecked": [], "mpi4py": [], "mpi4py_i": []}
        for _ in range(2):            # warm up every path
            dist.all_reduce(t)
            dist.all_reduce(t, group=unchecked)
            comm.Allreduce(MPI.IN_PLACE, raw, MPI.SUM)
        order = list(times)
        for i in range(repeats):
            # a different order each round, so that no form always runs first after the
            # barrier or right after a particular other one
            for name in order[i % 4:] + order[:i % 4]:
                dist.barrier()
                start = time.perf_counter()
                if name == "ember":
                    dist.all_reduce(t)
                elif name == "unchecked":
                    dist.all_reduce(t, group=unchecked)
                elif name == "mpi4py":
                    comm.Allreduce(MPI.IN_PLACE, raw, MPI.SUM)
                else:         # what ember does underneath, without its checks
                    request = comm.Iallreduce(MPI.IN_PLACE, raw, MPI.SUM)
                    while not request.Test():
                        pass
                times[name].append(time.perf_counter() - start)
        med = {k: statistics.median(v) for k, v in times.items()}
        # bus bandwidth as NCCL's tests define it for all-reduce: 2 (n-1)/n bytes per byte
        bus = 2 * (world - 1) / world * size
        rows.append((size, med["ember"], med["unchecked"], med["mpi4py"], med["mpi4py_i"],
                     bus / med["ember"] / 1e9, bus / min(med["mpi4py"], med["mpi4py_i"]) / 1e9))
        size *= 4
    return rows


def ddp_steps(steps, batch, width):
    rank = dist.get_rank()

    def model():
        ember.manual_seed(0)
        return nn.Sequential(nn.Linear(256, width), nn.ReLU(), nn.Linear(width, width),
                             nn.ReLU(), nn.Linear(width, 10))

    x = ember.randn(batch, 256)
    y = ember.randint(0, 10, (batch,))

    def timed(net, after_backward=None, no_sync=False):
        opt = ember.optim.SGD(net.parameters(), lr=0.01)
        out = []
        for i in range(steps + 2):
            dist.barrier()
            start = time.perf_counter()
            opt.zero_grad()
            if no_sync:
                with net.no_sync():
                    nn.functional.cross_entropy(net(x), y).backward()
            else:
                nn.functional.cross_entropy(net(x), y).backward()
            if after_backward:
                after_backward(net)
            opt.step()
            if i >= 2:
                out.append(time.perf_counter() - start)
        return statistics.median(out)

    def allreduce_each(net):
        for p in net.parameters():
            dist.all_reduce(p.grad, op=dist.ReduceOp.AVG)

    single = model()
    results = {}
    for name in ("single", "ddp", "ddp_no_overlap", "single"):
        if name == "single":
            # every rank computes its step alone, as one process would
            results.setdefault("single", []).append(timed(single))
        elif name == "ddp":
            results["ddp"] = timed(DDP(model()))
        else:
            results["ddp_no_overlap"] = timed(DDP(model()), allreduce_each, no_sync=True)
    results["single"] = min(results["single"])
    params = sum(p.numel() for p in single.parameters())
    return results, params, rank


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--steps", type=int, default=15)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--width", type=int, default=1024)
    args = parser.parse_args()
    dist.init_process_group("gloo")
    rows = bandwidth(args.repeats)
    results, params, rank = ddp_steps(args.steps, args.batch, args.width)
    if rank == 0:
        print(f"all_reduce, float32, {dist.get_world_size()} processes (median of "
              f"{args.repeats})")
        print(f"{'size':>8} {'ember us':>9} {'unchecked':>10} {'Allreduce':>10} "
              f"{'Iallreduce':>11} {'vs best':>8} {'unchecked':>10} {'ember GB/s':>11} "
              f"{'best GB/s':>10}")
        for size, te, tu, tm, ti, be, bm in rows:
            label = f"{size // 1024} KB" if size < 1 << 20 else f"{size >> 20} MB"
            best = min(tm, ti)
            print(f"{label:>8} {te * 1e6:9.0f} {tu * 1e6:10.0f} {tm * 1e6:10.0f} "
                  f"{ti * 1e6:11.0f} {100 * (te / best - 1):7.1f}% {100 * (tu / best - 1):9.1f}% "
                  f"{be:11.2f} {bm:10.2f}")
        print(f"\nDDP step, MLP of {params / 1e6:.2f} M parameters ({params * 4 / 2**20:.1f} MB "
              f"of gradients), batch {args.batch} per rank, median of {args.steps} steps")
        print(f"  one process, batch {args.batch}:          {results['single'] * 1e3:8.1f} ms")
        print(f"  DDP (buckets during backward):  {results['ddp'] * 1e3:8.1f} ms")
        print(f"  DDP, all-reduce after backward: {results['ddp_no_overlap'] * 1e3:8.1f} ms")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
