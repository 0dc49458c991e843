"""The demo's digits classifier (``python -m ember.demo``) trained with
DistributedDataParallel: each process trains on its shard of the data
(DistributedSampler), gradients are averaged across processes during backward.

    python -m ember.distributed.run --nproc-per-node 2 examples/ddp_digits.py
    mpiexec -n 2 python examples/ddp_digits.py --epochs 3       # the same, started by MPI
    python examples/ddp_digits.py                               # one process works too

The script is torch's usual DDP script with ``torch`` spelled ``ember``.
"""
import argparse
import time

import ember
import ember.distributed as dist
import ember.nn as nn
import ember.optim as optim
from ember.datasets import load_digits
from ember.demo import accuracy, make_model
from ember.nn.parallel import DistributedDataParallel as DDP
from ember.utils.data import DataLoader, DistributedSampler, TensorDataset, random_split


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32, help="per process")
    parser.add_argument("--lr", type=float, default=3e-3)
    args = parser.parse_args(argv)

    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    log = print if rank == 0 else (lambda *a, **k: None)

    ember.manual_seed(0)
    images, labels = load_digits()
    train_set, test_set = random_split(TensorDataset(images, labels), [0.8, 0.2],
                                       generator=ember.Generator().manual_seed(0))
    sampler = DistributedSampler(train_set, seed=1)
    loader = DataLoader(train_set, batch_size=args.batch_size, sampler=sampler)
    model = DDP(make_model())           # rank 0's initial weights go to every rank
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    log(f"{world} processes, {len(sampler)} of {len(train_set)} training images each")

    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        sampler.set_epoch(epoch)        # a new shuffle, the same on every rank
        model.train()
        total = ember.zeros(2)
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()             # gradients averaged across processes here
            optimizer.step()
            total += ember.tensor([loss.item() * len(yb), len(yb)])
        dist.all_reduce(total)          # the epoch's mean loss over every process's batches
        log(f"epoch {epoch:3d}  loss {(total[0] / total[1]).item():.4f}")
    seconds = time.perf_counter() - start

    test_images, test_labels = (ember.stack(t) for t in zip(*(test_set[i]
                                                              for i in range(len(test_set)))))
    test_acc = accuracy(model.module, test_images, test_labels)
    weights = [None] * world
    dist.all_gather_object(weights, model.module[1].weight.sum().item())
    log(f"held-out accuracy: {test_acc:.2%} ({len(test_set)} images), training took "
        f"{seconds:.1f} s; every rank holds the same weights: {len(set(weights)) == 1}")
    dist.destroy_process_group()
    return {"accuracy": test_acc, "same_weights": len(set(weights)) == 1, "world": world}


if __name__ == "__main__":
    main()
