"""torch.autograd.forward_ad: dual tensors and forward-mode derivatives.

How tangents are computed.  Ember's ops carry no forward-mode formulas; instead
the recorded reverse-mode graph yields them exactly, through the double-vjp trick.
``make_dual(p, t)`` returns a tensor ``d`` equal to ``p`` that autograd tracks,
and remembers ``t`` for ``d`` in the current level.  Everything computed from
``d`` records its graph as usual.  ``unpack_dual(y)`` then needs ``J t``, where
``J = dy/dd``:

    g(u) = J^T u      (a vjp, with a cotangent u that itself requires grad)
    J t  = d<g(u), t>/du

The vjp is linear in ``u``, so its derivative with respect to ``u`` is exact (no
finite differences) for every op whose backward is written in Ember ops, i.e.
every registered op and every custom Function whose backward is differentiable.
The cost is two backward passes over ``y``'s graph per ``unpack_dual``.

Differences from torch that follow from this design:

- a dual tensor (and what is computed from it) has ``requires_grad=True``, since
  it must be recorded; ``unpack_dual(y).primal`` is detached unless ``y``
  depends on a tensor the caller made require grad;
- operations run under ``no_grad`` record nothing, so their results carry no
  tangent (torch's forward AD ignores grad mode);
- one level at a time, as torch ("Nested forward mode AD is not supported").

    >>> with dual_level():
    ...     y = make_dual(x, v).sin()
    ...     unpack_dual(y).tangent   # == x.cos() * v
"""
from collections import namedtuple

from .._tensor import Tensor
from . import grad_mode

__all__ = ["dual_level", "make_dual", "unpack_dual", "UnpackedDualTensor",
           "enter_dual_level", "exit_dual_level"]

UnpackedDualTensor = namedtuple("UnpackedDualTensor", ["primal", "tangent"])

# One dict per entered level: id(dual) -> (dual, tangent, primal_required_grad).
_levels = grad_mode._dual_levels


def enter_dual_level():
    """Enter a new forward-AD level and return its index (only one may be open)."""
    if _levels:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _levels.append({})
    return len(_levels) - 1


def exit_dual_level(*, level=None):
    """Leave the level: every dual made in it loses its tangent."""
    if level is None:
        level = len(_levels) - 1
    if level != len(_levels) - 1 or level < 0:
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that "
                           "was created. This is not supported.")
    _levels.pop()


class dual_level:
    """Context manager for a forward-AD level: ``with dual_level(): ...``."""

    def __enter__(self):
        return enter_dual_level()

    def __exit__(self, *exc):
        exit_dual_level()


def _level(level):
    if level is None:
        level = len(_levels) - 1
    if level < 0 or level >= len(_levels):
        return None
    return _levels[level]


def make_dual(tensor, tangent, *, level=None):
    """A tensor equal to ``tensor`` whose forward gradient is ``tangent``."""
    duals = _level(level)
    if duals is None:
        raise RuntimeError("Trying to create a dual Tensor for forward AD but no level exists, "
                           "make sure to enter_dual_level() first.")
    if not (tensor.dtype.is_floating_point or tensor.dtype.is_complex):
        raise ValueError(f"Expected primal to be floating point or complex, but got: "
                         f"{tensor.dtype}")
    if not (tangent.dtype.is_floating_point or tangent.dtype.is_complex):
        raise ValueError(f"Expected tangent to be floating point or complex, but got: "
                         f"{tangent.dtype}")
    if tangent.shape != tensor.shape:
        raise RuntimeError("Trying to set a forward gradient that has a different size than "
                           "that of the original Tensor, this is not supported. Tensor is of "
                           f"size {list(tensor.shape)} while the given forward gradient is of "
                           f"size {list(tangent.shape)}.")
    with grad_mode.enable_grad():
        if tensor.requires_grad:
            dual = tensor.view_as(tensor)  # stays connected to the caller's graph
        else:
            dual = tensor.detach().requires_grad_(True)
    duals[id(dual)] = (dual, tangent, tensor.requires_grad)
    return dual


def unpack_dual(tensor, *, level=None):
    """``(primal, tangent)`` of ``tensor``; tangent is None where it has none."""
    duals = _level(level)
    if not isinstance(tensor, Tensor):
        return UnpackedDualTensor(tensor, None)
    if duals is None:
        return UnpackedDualTensor(tensor, None)
    entry = duals.get(id(tensor))
    private = {i for i, (_, _, user_grad) in duals.items() if not user_grad}
    primal = tensor if reaches_leaf_outside(tensor, private) else tensor.detach()
    if entry is not None and entry[0] is tensor:
        return UnpackedDualTensor(primal, entry[1])
    return UnpackedDualTensor(primal, _tangent(tensor, duals))


def custom_function_jvp(cls, ctx, args, outputs):
    """Forward mode through a custom Function that defines ``jvp``: its outputs' tangents
    are ``cls.jvp(ctx, *input tangents)`` (zeros for inputs without one; ``ctx.saved_tensors``
    reads what ``save_for_forward`` kept), and the outputs become duals of the level with
    those tangents.  None when no input has a tangent (the Function then runs as usual).

    The outputs start afresh in the level: they carry no reverse-mode history through the
    Function (torch keeps both; here a Function's tangent enters the recorded graph as a
    new dual, so keeping the link too would count the inputs' tangents twice)."""
    from .._creation import zeros_like
    tangents = []
    found = False
    for a in args:
        t = None
        if isinstance(a, Tensor):
            t = unpack_dual(a).tangent
            found = found or t is not None
            if t is None and (a.dtype.is_floating_point or a.dtype.is_complex):
                t = zeros_like(a)
        tangents.append(t)
    if not found:
        return None
    ctx._in_jvp = ctx.__dict__.pop("_saved_for_forward", ())
    try:
        with grad_mode.no_grad():
            out_tangents = cls.jvp(ctx, *tangents)
    finally:
        del ctx._in_jvp
    is_tuple = isinstance(outputs, tuple)
    outs = outputs if is_tuple else (outputs,)
    if not isinstance(out_tangents, tuple):
        out_tangents = (out_tangents,)
    if len(out_tangents) != len(outs):
        raise RuntimeError(f"jvp() returned an incorrect number of tangents (expected "
                           f"{len(outs)}, got {len(out_tangents)})")
    new = tuple(make_dual(o.detach(), t) if isinstance(o, Tensor) and t is not None
                and (o.dtype.is_floating_point or o.dtype.is_complex) else o
                for o, t in zip(outs, out_tangents))
    return new if is_tuple else new[0]


def _tangent(y, duals):
    from .functional import _autograd_grad
    from .._creation import zeros_like
    if not y.requires_grad or not (y.dtype.is_floating_point or y.dtype.is_complex):
        return None
    inputs = [d for d, _, _ in duals.values()]
    if not inputs:
        return None
    tangents = [t for _, t, _ in duals.values()]
    with grad_mode.enable_grad():
        u = zeros_like(y).requires_grad_(True)
        vjps = _autograd_grad((y,), inputs, (u,), create_graph=True, retain_graph=True)
        used = [(g, t) for g, t in zip(vjps, tangents) if g is not None]
        if not used:
            return None
        create = any(t.requires_grad for _, t in used)
        (jt,) = _autograd_grad(tuple(g for g, _ in used), (u,),
                               tuple(t.to(g.dtype) for g, t in used), create_graph=create)
    if jt is None:
        return zeros_like(y).detach()
    return jt if create else jt.detach()


def reaches_leaf_outside(t, private_ids):
    """Whether ``t``'s graph reaches a leaf requiring grad whose id is not in ``private_ids``.

    Transforms use private leaves as stand-ins for their inputs; a result that
    depends on nothing else must come back detached, as torch's does.
    """
    from .graph import AccumulateGrad
    if not t.requires_grad:
        return False
    if t.grad_fn is None:
        return id(t) not in private_ids
    seen = set()
    stack = [t.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        if type(node) is AccumulateGrad:
            if id(node.variable) not in private_ids:
                return True
            continue
        stack.extend(n for n, _ in node.next_functions)
    return False
