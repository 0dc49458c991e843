"""Run under mpiexec by test_distributed.py: DistributedDataParallel's proof.

N processes with per-rank batch B train 20 steps; every rank also trains the same model
alone on the whole batch of N*B (the reference) and the parameters must agree after each
step, and be identical on all ranks. Buckets are made small so several reductions are in
flight during backward. Then no_sync, find_unused_parameters, broadcast_buffers, the
state_dict prefix and the unused-parameter error.

``ddp_worker.py nccl``: the same with the model on CUDA and the NCCL backend (on the CUDA
stand-in in CI)."""
import datetime
import sys

import numpy as np

import ember
import ember.distributed as dist
import ember.nn as nn
from ember.nn.parallel import DistributedDataParallel as DDP

BACKEND = sys.argv[1] if len(sys.argv) > 1 else "gloo"
dist.init_process_group(BACKEND, timeout=datetime.timedelta(seconds=30))
RANK, WORLD = dist.get_rank(), dist.get_world_size()
if BACKEND == "nccl":
    ember.cuda.set_device(0)
    ember.set_default_device("cuda")   # models, batches and gradients live on the GPU
B = 4


def make_model(seed):
    ember.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 32), nn.Tanh(), nn.Linear(32, 32), nn.ReLU(),
                         nn.Linear(32, 3))


def all_ranks_equal(tensors, what):
    mine = [t.detach().cpu().numpy().copy() for t in tensors]
    everyone = [None] * WORLD
    dist.all_gather_object(everyone, mine)
    for other in everyone:
        for a, b in zip(other, mine):
            assert np.array_equal(a, b), what


model = DDP(make_model(seed=RANK), bucket_cap_mb=0.0002)   # each rank starts differently
assert len(model._buckets) >= 3, len(model._buckets)
reference = make_model(seed=0)                             # rank 0's start, alone
assert all(p.is_cuda == (BACKEND == "nccl") for p in model.parameters())
for p, q in zip(model.module.parameters(), reference.parameters()):
    assert np.array_equal(p.detach().cpu().numpy(), q.detach().cpu().numpy()), "rank 0's parameters"
assert list(model.state_dict()) == ["module." + k for k in reference.state_dict()]

opt = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
ref_opt = ember.optim.SGD(reference.parameters(), lr=0.1, momentum=0.9)
rng = np.random.default_rng(0)
for step in range(20):
    x = ember.tensor(rng.standard_normal((WORLD * B, 6)).astype(np.float32))
    y = ember.tensor(rng.integers(0, 3, WORLD * B))
    mine = slice(RANK * B, (RANK + 1) * B)
    opt.zero_grad()
    nn.functional.cross_entropy(model(x[mine]), y[mine]).backward()
    opt.step()
    ref_opt.zero_grad()
    nn.functional.cross_entropy(reference(x), y).backward()
    ref_opt.step()
    for p, q in zip(model.module.parameters(), reference.parameters()):
        np.testing.assert_allclose(p.detach().cpu().numpy(), q.detach().cpu().numpy(), rtol=1e-4,
                                   atol=1e-5, err_msg=f"step {step}")
    all_ranks_equal(list(model.parameters()), f"ranks differ after step {step}")

# no_sync: two micro-batches accumulate locally, the synced one averages the sum
model.zero_grad()
reference.zero_grad()
x = ember.tensor(rng.standard_normal((2, WORLD * B, 6)).astype(np.float32))
y = ember.tensor(rng.integers(0, 3, (2, WORLD * B)))
mine = slice(RANK * B, (RANK + 1) * B)
with model.no_sync():
    nn.functional.cross_entropy(model(x[0, mine]), y[0, mine]).backward()
local = [p.grad.clone() for p in model.parameters()]
nn.functional.cross_entropy(model(x[1, mine]), y[1, mine]).backward()
for i in range(2):
    nn.functional.cross_entropy(reference(x[i]), y[i]).backward()
for p, q in zip(model.parameters(), reference.parameters()):
    np.testing.assert_allclose(p.grad.cpu().numpy(), q.grad.cpu().numpy(), rtol=1e-4, atol=1e-6)
all_ranks_equal([p.grad for p in model.parameters()], "no_sync gradients")
if WORLD > 1:
    everyone = [None] * WORLD
    dist.all_gather_object(everyone, local[0].cpu().numpy())
    assert not np.array_equal(everyone[0], everyone[1]), "no_sync reduced"


class TwoHeads(nn.Module):
    """Rank 0 uses head a, the others head b; head c is used by nobody."""

    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 4)
        self.a, self.b, self.c = nn.Linear(4, 1), nn.Linear(4, 1), nn.Linear(4, 1)
        self.register_buffer("seen", ember.zeros(1))

    def forward(self, x):
        self.seen += 1 + RANK
        return (self.a if RANK == 0 else self.b)(self.body(x))


ember.manual_seed(0)
heads = DDP(TwoHeads(), find_unused_parameters=True)
heads(ember.ones(2, 4)).sum().backward()
grads = {name: p.grad for name, p in heads.module.named_parameters()}
assert grads["c.weight"] is None, "a parameter no rank used gets no gradient"
if WORLD > 1:
    # a: rank 0's gradient averaged with the zeros of the others; same for b
    assert grads["a.weight"] is not None and grads["b.weight"] is not None
    all_ranks_equal([grads["a.weight"], grads["b.weight"], grads["body.weight"]], "unused")
heads(ember.ones(2, 4))
# broadcast_buffers: rank 0's buffer is what every rank holds at the start of forward
all_ranks_equal([heads.module.seen - (1 + RANK)], "broadcast buffers")

twice = DDP(nn.Linear(3, 1))
loss = twice(ember.ones(2, 3)).sum()
loss.backward(retain_graph=True)
try:
    loss.backward()
except RuntimeError as e:
    assert "Expected to mark a variable ready only once" in str(e), e
else:
    raise AssertionError("a second backward through one forward was averaged again")

ember.manual_seed(0)
strict = DDP(TwoHeads())
strict(ember.ones(2, 4)).sum().backward()
try:
    strict(ember.ones(2, 4))
except RuntimeError as e:
    assert "Expected to have finished reduction in the prior iteration" in str(e), e
else:
    raise AssertionError("an unused parameter went unnoticed")

try:
    DDP(nn.Linear(3, 3 + RANK))
except RuntimeError as e:
    assert "DDP expects same model across all ranks" in str(e), e
else:
    assert WORLD == 1
dist.destroy_process_group()
print(f"ddp ok {RANK}", flush=True)
