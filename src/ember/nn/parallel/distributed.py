"""DistributedDataParallel: torch's gradient averaging across processes, on
ember.distributed.

Gradients are averaged in buckets (about ``bucket_cap_mb``, the first one 1 MB as torch's)
of parameters in reverse registration order, the order backward produces them. Each
parameter's post-accumulate-grad hook marks it ready; when a bucket is complete (and all
buckets before it, so every rank starts the same reductions in the same order) its
gradients are flattened, divided by the world size and a non-blocking all-reduce starts,
while backward goes on computing the next gradients; every hook also polls the reductions
in flight, which is when MPI moves their data. The hook that completes the last bucket
waits for all reductions and writes the averages back into ``.grad``.
"""
import contextlib

import numpy as np

from ... import distributed as dist
from ..._device import array_module
from ...autograd import grad_mode
from ..modules.module import Module

_FIRST_BUCKET_BYTES = 1024 * 1024


class _Bucket:
    def __init__(self, params):
        self.params = params
        self.sizes = [p.numel() for p in params]
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)]).tolist()
        self.pending = len(params)
        self.buffer = None
        self.handle = None
        self.spare = None      # the last completed reduction's buffer, for the next one


class DistributedDataParallel(Module):
    def __init__(self, module, device_ids=None, output_device=None, dim=0,
                 broadcast_buffers=True, init_sync=True, process_group=None, bucket_cap_mb=None,
                 find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False,
                 delay_all_reduce_named_params=None, param_to_hook_all_reduce=None,
                 mixed_precision=None, device_mesh=None):
        super().__init__()
        group = dist._group.resolve(process_group)
        self.module = module
        self.device_ids = device_ids
        self.output_device = output_device
        self.dim = dim
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        self.process_group = group
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self.bucket_bytes_cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * 1024 * 1024)
        params = [p for p in module.parameters() if p.requires_grad]
        self._params = params
        self._check_same_model(group, params)
        if init_sync:
            self._broadcast_coalesced(list(module.parameters()) + list(module.buffers()))
        self._buckets = self._make_buckets(params)
        self._bucket_of = {}
        for b, bucket in enumerate(self._buckets):
            for p in bucket.params:
                self._bucket_of[id(p)] = b
        self._hooks = [p.register_post_accumulate_grad_hook(self._grad_ready) for p in params]
        self._syncing = False            # this iteration's backward reduces gradients
        self._expect_finish = False      # a backward started reducing and has not finished
        self._next_bucket = 0
        self._unused = []
        self._used_flags = None
        self._reduced = False

    # construction
    def _check_same_model(self, group, params):
        shapes = [(tuple(p.shape), str(p.dtype)) for p in params]
        everyone = [None] * group.size()
        dist.all_gather_object(everyone, shapes, group=group)
        me = group.rank()
        for r, theirs in enumerate(everyone):
            if len(theirs) != len(shapes):
                raise RuntimeError(f"DDP expects same model across all ranks, but Rank {me} "
                                   f"has {len(shapes)} params, while rank {r} has inconsistent "
                                   f"{len(theirs)} params.")
            for i, (mine, other) in enumerate(zip(shapes, theirs)):
                if mine != other:
                    raise RuntimeError(
                        f"DDP expects same model across all ranks, but Rank {me} has parameter "
                        f"{i} of shape {list(mine[0])} and dtype {mine[1]}, while rank {r} has "
                        f"shape {list(other[0])} and dtype {other[1]}.")

    def _broadcast_coalesced(self, tensors):
        """Rank 0's values for ``tensors``, one broadcast per dtype."""
        by_dtype = {}
        for t in tensors:
            by_dtype.setdefault((str(t.dtype), str(t.device)), []).append(t)
        group = self.process_group
        for same in by_dtype.values():
            flat = array_module(same[0]._data).concatenate([t._data.reshape(-1) for t in same])
            backend = group.backend_for(same[0].device.type)
            backend.wait(backend.broadcast(flat, 0), group.deadline(),
                         lambda: "DDP: broadcasting rank 0's state")
            start = 0
            for t in same:
                n = t.numel()
                t._data[...] = flat[start:start + n].reshape(t._data.shape)
                t._vc[0] += 1
                start += n

    def _make_buckets(self, params):
        buckets, current, size = [], [], 0
        cap = min(_FIRST_BUCKET_BYTES, self.bucket_bytes_cap)
        for p in reversed(params):
            if current and (size >= cap or p.dtype != current[0].dtype
                            or p.device != current[0].device):
                buckets.append(_Bucket(current))
                current, size, cap = [], 0, self.bucket_bytes_cap
            current.append(p)
            size += p.numel() * p.element_size()
        if current:
            buckets.append(_Bucket(current))
        return buckets

    # forward
    def forward(self, *inputs, **kwargs):
        if self._expect_finish:
            raise RuntimeError(
                "Expected to have finished reduction in the prior iteration before starting "
                "a new one. This error indicates that your module has parameters that were "
                "not used in producing loss. You can enable unused parameter detection by "
                "passing the keyword argument `find_unused_parameters=True` to "
                "`torch.nn.parallel.DistributedDataParallel`, and by making sure all "
                "`forward` function outputs participate in calculating loss.")
        if self.broadcast_buffers and self.require_forward_param_sync:
            buffers = list(self.module.buffers())
            if buffers:
                self._broadcast_coalesced(buffers)
        output = self.module(*inputs, **kwargs)
        self._syncing = grad_mode.is_grad_enabled() and self.require_backward_grad_sync
        if self._syncing:
            self._prepare_for_backward(output)
        return output

    def _prepare_for_backward(self, output):
        for bucket in self._buckets:
            bucket.pending = len(bucket.params)
            bucket.buffer = bucket.handle = None
        self._next_bucket = 0
        self._unused = []
        self._reduced = False
        if self.find_unused_parameters:
            used = _reachable_leaves(output)
            self._unused = [p for p in self._params if id(p) not in used]
            flags = np.array([id(p) in used for p in self._params], np.uint8)
            # which parameters some rank used: those keep (averaged) gradients (the flags
            # travel on MPI whatever the parameters' device)
            group = self.process_group
            self._used_flags = (flags, group.mpi.allreduce(flags, "MAX"))

    # backward
    def _grad_ready(self, param):
        if not self._syncing:
            return
        if self._reduced:
            raise RuntimeError(
                "Expected to mark a variable ready only once. This error is caused by a "
                "second backward pass through the graph of one forward (or a parameter used "
                "outside the `forward` function): DistributedDataParallel averages each "
                "gradient once per forward.")
        if not self._expect_finish:
            self._expect_finish = True
            unused, self._unused = self._unused, []
            for p in unused:
                self._mark_ready(p)
        self._mark_ready(param)

    def _mark_ready(self, param):
        bucket = self._buckets[self._bucket_of[id(param)]]
        bucket.pending -= 1
        group = self.process_group
        while self._next_bucket < len(self._buckets) and \
                self._buckets[self._next_bucket].pending == 0:
            self._launch(self._buckets[self._next_bucket])
            self._next_bucket += 1
        for b in self._buckets[:self._next_bucket]:
            # polling is what moves an MPI reduction's data while backward runs
            group.backend_for(b.params[0].device.type).test(b.handle)
        if self._next_bucket == len(self._buckets):
            self._finish()

    def _launch(self, bucket):
        first = bucket.params[0]
        xp = array_module(first._data)
        flat, bucket.spare = bucket.spare, None
        if flat is None:
            flat = xp.empty(bucket.offsets[-1], first._data.dtype)
        size = self.process_group.size()
        for p, start, end in zip(bucket.params, bucket.offsets, bucket.offsets[1:]):
            if p.grad is None:
                flat[start:end] = 0
            else:    # copied and divided in one pass over the gradient
                xp.divide(p.grad._data.reshape(-1), size, out=flat[start:end])
        bucket.buffer = flat
        bucket.handle = self.process_group.backend_for(first.device.type).allreduce(flat, "SUM")

    def _finish(self):
        group = self.process_group
        used = None
        if self._used_flags is not None:
            flags, handle = self._used_flags
            group.mpi.wait(handle, group.deadline(), lambda: "DDP: exchanging used parameters")
            used = flags
            self._used_flags = None
        index = {id(p): i for i, p in enumerate(self._params)} if used is not None else None
        for bucket in self._buckets:
            backend = group.backend_for(bucket.params[0].device.type)
            backend.wait(bucket.handle, group.deadline(),
                         lambda: f"[Rank {group.rank()}] DDP gradient all_reduce")
            flat = bucket.buffer
            for p, start, end in zip(bucket.params, bucket.offsets, bucket.offsets[1:]):
                if used is not None and not used[index[id(p)]]:
                    continue         # no rank used it: its gradient stays as it was
                value = flat[start:end].reshape(p._data.shape)
                if p.grad is None:
                    from ..._tensor import _make
                    p.grad = _make(value.copy())
                else:
                    p.grad._data[...] = value
                    p.grad._vc[0] += 1
            # completed and copied out: the next backward may fill it again (a buffer whose
            # reduction never completed is never reused, MPI may still write to it)
            bucket.spare = flat
            bucket.buffer = bucket.handle = None
        self._expect_finish = False
        self._reduced = True

    @contextlib.contextmanager
    def no_sync(self):
        """Gradients accumulate locally inside; the first backward after it averages them."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    def _get_ddp_logging_data(self):
        return {"world_size": self.process_group.size(), "bucket_cap_bytes": self.bucket_bytes_cap,
                "num_buckets": len(self._buckets)}


def _reachable_leaves(output):
    """ids of the leaf tensors the autograd graph of ``output`` reaches."""
    from ...utils._pytree import tree_leaves
    from ..._tensor import Tensor
    seen, found = set(), set()
    stack = [t.grad_fn for t in tree_leaves(output) if isinstance(t, Tensor)
             and t.grad_fn is not None]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        variable = getattr(node, "variable", None)
        if variable is not None:
            found.add(id(variable))
        stack.extend(fn for fn, _ in node.next_functions)
    return found
