"""vmap: map a function over a batch dimension of its inputs.

Correct first: the function runs once per batch element, on ``select``-ed slices,
and the per-element outputs are stacked with a differentiable stack.  So vmap
composes with every other transform and with autograd (``vmap(grad(f))``,
``grad(lambda x: vmap(f)(x).sum())``), and nests (``vmap(vmap(f))``).

``randomness``:

- ``'error'`` (default): a random op inside ``func`` raises torch's error.  Ember
  detects it by the default generator's state changing during a call; random
  ops that draw from an explicit ``Generator`` are not detected.
- ``'different'``: each batch element draws its own random numbers (the loop's
  natural behaviour).
- ``'same'``: the default generator is rewound before every batch element, so all
  elements see the same random numbers.

``chunk_size`` is accepted for torch's signature; elements run one at a time anyway.
"""
import functools

import numpy as np

from .._tensor import Tensor
from ._pytree import broadcast_prefix, tree_flatten, tree_unflatten

__all__ = ["vmap"]


def _fname(func):
    return getattr(func, "__name__", repr(func))


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """Vectorize ``func`` over dimension ``in_dims`` of its inputs."""
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or "
                           f"'same'. Got {randomness}")

    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        name = _fname(func)
        prefix = f"vmap({name}, in_dims={in_dims}, ...)(<inputs>)"
        if not isinstance(in_dims, (int, tuple)) or isinstance(in_dims, bool):
            raise ValueError(f"{prefix}: expected `in_dims` to be int or a (potentially nested) "
                             f"tuple matching the structure of inputs, got: {type(in_dims)}.")
        leaves, spec = tree_flatten(args)
        dims = broadcast_prefix(in_dims if isinstance(in_dims, tuple) else (in_dims,) * len(args),
                                spec)
        if dims is None:
            raise ValueError(f"{prefix}: in_dims is not compatible with the structure of "
                             f"`inputs`. in_dims has structure {tree_flatten(in_dims)[1]!r} but "
                             f"inputs has structure {spec!r}.")
        dims = _check_dims(leaves, dims, prefix)
        sizes = [x.shape[d] for x, d in zip(leaves, dims) if d is not None]
        if not sizes:
            raise ValueError("vmap: Expected at least one Tensor to vmap over")
        if any(s != sizes[0] for s in sizes):
            raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped "
                             f"dimension, got sizes {sizes} for the mapped dimension")
        return _run(func, kwargs, leaves, spec, dims, sizes[0], out_dims, randomness, name)
    return wrapped


def _check_dims(leaves, dims, prefix):
    out = []
    for x, d in zip(leaves, dims):
        if d is None:
            out.append(None)
            continue
        if not isinstance(d, int):
            raise ValueError(f"{prefix}: in_dim {d} must be an int or None")
        if not isinstance(x, Tensor):
            raise ValueError(f"{prefix}: Got in_dim={d} for an input but the input is of type "
                             f"{type(x)}. We cannot vmap over non-Tensor arguments, please use "
                             "None as the respective in_dim")
        n = x.dim()
        if not -n <= d < n:
            raise ValueError(f"{prefix}: Got in_dim={d} for some input, but that input is a "
                             f"Tensor of dimensionality {n} so expected in_dim to satisfy "
                             f"-{n} <= in_dim < {n}.")
        out.append(d % n)
    return out


def _rng_state():
    from .. import _random
    return _random.get_rng_state()


def _run(func, kwargs, leaves, spec, dims, size, out_dims, randomness, name):
    from .. import _random
    start = _rng_state()
    results = []
    for i in range(size):
        if randomness == "same":
            _random.set_rng_state(start)
        before = _rng_state() if randomness == "error" else None
        sliced = [x if d is None else x.select(d, i) for x, d in zip(leaves, dims)]
        results.append(func(*tree_unflatten(sliced, spec), **kwargs))
        if before is not None and not np.array_equal(before.numpy(), _rng_state().numpy()):
            raise RuntimeError("vmap: called random operation while in randomness error mode. "
                               "Please either use the 'same' or 'different' randomness flags on "
                               "vmap or perform the randomness operation out of vmap")
    return _stack_outputs(results, out_dims, name)


def _stack_outputs(results, out_dims, name):
    from ._stack import stack
    flat = [tree_flatten(r) for r in results]
    out_spec = flat[0][1]
    odims = broadcast_prefix(out_dims, out_spec)
    if odims is None:
        raise ValueError(f"vmap({name}, ..., out_dims={out_dims})(<inputs>): out_dims is not "
                         f"compatible with the structure of `outputs`. out_dims has structure "
                         f"{tree_flatten(out_dims)[1]!r} but outputs has structure {out_spec!r}.")
    stacked = []
    for k, od in enumerate(odims):
        column = [leaves[k] for leaves, _ in flat]
        if od is None:
            stacked.append(column[0])
            continue
        for x in column:
            if not isinstance(x, Tensor):
                raise ValueError(f"vmap({name}, ...): `{name}` must only return Tensors, got "
                                 f"type {type(x)}. Did you mean to set out_dims= to None for "
                                 "output?")
        n = column[0].dim() + 1
        if not -n <= od < n:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}]"
                             f", but got {od})")
        stacked.append(stack(column, od % n))
    return tree_unflatten(stacked, out_spec)
