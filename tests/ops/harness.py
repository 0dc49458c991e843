"""The op-table harness: one place that checks every op against torch.

An ``OpInfo`` names the Ember and torch callables and gives sample inputs.  In a
sample, NumPy arrays stand for tensors (built for both libraries from the same
data); everything else is passed through as is.  The tests in test_op_table.py
run every sample through: values/dtype/shape vs torch, gradients vs torch,
float64 finite differences, and second derivatives vs torch.
"""
import dataclasses
from typing import Callable, Optional

import numpy as np
import torch

import ember


@dataclasses.dataclass
class Sample:
    args: tuple
    kwargs: dict = dataclasses.field(default_factory=dict)
    grad: bool = True          # differentiate w.r.t. the float array args
    name: str = ""

    def __repr__(self):
        def show(a):
            return f"arr{a.shape}:{a.dtype}" if isinstance(a, np.ndarray) else repr(a)
        return self.name or ", ".join(map(show, self.args)) + (f", {self.kwargs}" if self.kwargs else "")


@dataclasses.dataclass
class OpInfo:
    name: str                         # test id; by default also the registry entry it covers
    ember_fn: Callable
    torch_fn: Callable
    samples: Callable                 # rng -> list[Sample]
    # Registry ops this entry's samples run (test_covers_are_reached checks it); by default
    # the op named as the entry; () for a public function that runs no registry op.
    covers: Optional[tuple] = None
    grad: bool = True                 # differentiable at all
    gradgrad: bool = True             # second derivatives checked too (smooth ops)
    fd: bool = True                   # finite-difference check
    atol: float = 1e-5
    rtol: float = 1.3e-6
    grad_atol: float = 1e-4
    grad_rtol: float = 1e-4
    output_index: Optional[int] = None  # for ops returning tuples: which output to compare/differentiate

    def __post_init__(self):
        if self.covers is None:
            self.covers = (self.name,)


def arr(rng, shape, dtype="float32", low=-2.0, high=2.0):
    """A sample array; ints in [low, high), floats uniform in [low, high)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.random(shape) > 0.5
    if dtype.kind in "iu":
        return rng.integers(int(low), int(high), size=shape).astype(dtype)
    if dtype.kind == "c":
        return (rng.uniform(low, high, shape) + 1j * rng.uniform(low, high, shape)).astype(dtype)
    return rng.uniform(low, high, shape).astype(dtype)


def positive(rng, shape, dtype="float32", low=0.5, high=2.0):
    return arr(rng, shape, dtype, low, high)


def to_lib(lib, x, requires_grad, device=None):
    if isinstance(x, np.ndarray):
        t = lib.tensor(x.copy(), device=device) if lib is ember else torch.from_numpy(x.copy())
        if requires_grad and x.dtype.kind in "fc":
            t.requires_grad_(True)
        return t
    if isinstance(x, (list, tuple)) and x and any(isinstance(e, np.ndarray) for e in x):
        return type(x)(to_lib(lib, e, requires_grad, device) for e in x)
    return x


def build(lib, sample, requires_grad, device=None):
    """The sample's arguments as ``lib`` tensors (Ember's on ``device``: the CPU by default)."""
    args = [to_lib(lib, a, requires_grad, device) for a in sample.args]
    kwargs = {k: to_lib(lib, v, requires_grad, device) for k, v in sample.kwargs.items()}
    return args, kwargs


def grad_leaves(args):
    out = []
    for a in args:
        if isinstance(a, (ember.Tensor, torch.Tensor)) and a.requires_grad:
            out.append(a)
        elif isinstance(a, (list, tuple)):
            out.extend(grad_leaves(a))
    return out


def pick(out, index):
    if index is not None:
        return out[index]
    return out


def to_numpy(t):
    if isinstance(t, torch.Tensor):
        t = t.detach()
        if t.dtype == torch.bfloat16:
            t = t.float()
        return t.numpy(force=True)
    if isinstance(t, ember.Tensor):
        t = t.detach().cpu()
        return np.asarray(t._data).astype(np.float32) if t.dtype is ember.bfloat16 \
            else np.asarray(t._data)
    return np.asarray(t)


def dtype_name(t):
    return str(t.dtype).replace("torch.", "")


def assert_close(e, t, atol, rtol, what=""):
    """Ember result vs torch result: same shape, same dtype, close values."""
    if isinstance(t, (tuple, list)):
        assert isinstance(e, (tuple, list)) and len(e) == len(t), f"{what}: structure differs"
        for i, (ei, ti) in enumerate(zip(e, t)):
            assert_close(ei, ti, atol, rtol, f"{what}[{i}]")
        return
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), f"{what}: expected a Tensor, got {type(e)}"
        assert tuple(e.shape) == tuple(t.shape), f"{what}: shape {tuple(e.shape)} vs torch {tuple(t.shape)}"
        assert dtype_name(e) == dtype_name(t), f"{what}: dtype {e.dtype} vs torch {t.dtype}"
        np.testing.assert_allclose(to_numpy(e), to_numpy(t), atol=atol, rtol=rtol,
                                   equal_nan=True, err_msg=what)
    else:
        assert e == t or (isinstance(t, float) and np.isclose(e, t)), f"{what}: {e} vs {t}"


def cotangent(rng, out):
    """A fixed random weighting of the output, so gradients see every element."""
    data = rng.standard_normal(tuple(out.shape))
    return data.astype(to_numpy(out).dtype if str(out.dtype) != "torch.bfloat16" else np.float32)


def numerical_grads(fn, args, kwargs, leaves, v, eps=1e-6):
    """Central differences of <fn(args), v> w.r.t. each float64 leaf."""
    grads = []
    for leaf in leaves:
        data = leaf._data
        g = np.zeros(data.shape, dtype=data.dtype)
        flat = data.reshape(-1)
        gflat = g.reshape(-1)
        for i in range(flat.size):
            orig = flat[i]
            flat[i] = orig + eps
            plus = float((to_numpy(fn(*args, **kwargs)) * v).sum().real)
            flat[i] = orig - eps
            minus = float((to_numpy(fn(*args, **kwargs)) * v).sum().real)
            flat[i] = orig
            gflat[i] = (plus - minus) / (2 * eps)
        grads.append(g)
    return grads


class OpTrace:
    """Records the names of the registry ops run while it is active.

    It relies on two registry internals only: ``registry._autocast.cast`` (a thread-local
    hook that ``apply`` calls with each op before running it, and ``autocast_entry`` with
    a non-op kind) and the ``op`` attribute of graph nodes (read with getattr, so nodes
    of other kinds are skipped).  The hook sees the ops of forward and backward formulas;
    walking ``grad_fn`` graphs catches any op whose node was recorded without the hook."""

    def __init__(self):
        from ember._ops import registry
        self._hook = registry._autocast
        self._registry = registry.REGISTRY
        self.ops = set()

    def _cast(self, op, inputs):
        # autocast_entry passes a non-op kind, whose name is no registry entry.
        name = getattr(op, "name", None)
        if name in self._registry:
            self.ops.add(name)
        return self._prev(op, inputs) if self._prev is not None else inputs

    def __enter__(self):
        self._prev = self._hook.cast
        self._hook.cast = self._cast
        return self

    def __exit__(self, *exc):
        self._hook.cast = self._prev

    def add_graph(self, *tensors):
        stack = [getattr(t, "grad_fn", None) for t in tensors]
        seen = set()
        while stack:
            node = stack.pop()
            if node is None or id(node) in seen:
                continue
            seen.add(id(node))
            name = getattr(getattr(node, "op", None), "name", None)
            if name in self._registry:
                self.ops.add(name)
            stack.extend(fn for fn, _ in getattr(node, "next_functions", ()) or ())

