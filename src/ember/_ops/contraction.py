"""einsum: NumPy's einsum forward; each operand's gradient is itself an einsum.

Before the op runs, the equation is normalised so the backward stays simple: the
ellipsis becomes explicit letters, and a letter repeated within one operand ('ii')
becomes a diagonal view of that operand, so that every operand's letters are unique.
"""
import string

import numpy as np

from .. import _dtype as D
from .._device import array_module
from .._tensor import Tensor
from ._declare import declare
from .registry import ALL_INPUTS, apply, defop

_FREE = string.ascii_letters


def _einsum_fwd(*arrays, inputs, output):
    equation = ",".join(inputs) + "->" + output
    half = arrays[0].dtype
    xp = array_module(arrays[0])
    if half.itemsize == 2 and half.kind in "fV":
        # As linalg's products: accumulate float16/bfloat16 in float32 and round once (NumPy
        # would return float32 for bfloat16).
        wide = [a.astype(np.float32) for a in arrays]
        return xp.asarray(xp.einsum(equation, *wide, optimize=True)).astype(half)
    return xp.asarray(xp.einsum(equation, *arrays, optimize=True))


def _einsum_bwd(ctx, g):
    inputs, output = ctx.inputs, ctx.output
    ops = ctx.saved
    grads = []
    for k, sub in enumerate(inputs):
        if not ctx.needs_input_grad[k]:
            grads.append(None)
            continue
        others = [(s, t) for j, (s, t) in enumerate(zip(inputs, ops)) if j != k]
        present = set(output).union(*(set(s) for s, _ in others))
        kept = "".join(c for c in sub if c in present)
        gk = _einsum([output] + [s for s, _ in others], kept, [g] + [t for _, t in others])
        if kept != sub:
            # Letters only this operand carries were summed out: their gradient is a broadcast.
            shape = ctx._input_meta[k][0]
            view = [shape[i] if c in present else 1 for i, c in enumerate(sub)]
            gk = gk.reshape(view).expand(shape)
        grads.append(gk)
    return tuple(grads)


einsum_op = defop("einsum", _einsum_fwd, _einsum_bwd, save=ALL_INPUTS, autocast="lower")


def _einsum(inputs, output, operands):
    operands = tuple(operands)
    return apply(einsum_op, operands, {"inputs": tuple(inputs), "output": output})


def _parse(equation, operands):
    eq = equation.replace(" ", "")
    if "->" in eq:
        lhs, out = eq.split("->")
    else:
        lhs, out = eq, None
    subs = lhs.split(",")
    if len(subs) != len(operands):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation"
                           if len(operands) > len(subs) else
                           "einsum(): fewer operands were provided than specified in the equation")
    used = set(c for c in eq if c.isalpha())
    spare = [c for c in _FREE if c not in used]
    ell_nd = 0
    for s, t in zip(subs, operands):
        if "..." in s:
            ell_nd = max(ell_nd, t.ndim - (len(s) - 3))
    ell = "".join(spare[:ell_nd])
    new_subs = []
    for s, t in zip(subs, operands):
        if "..." in s:
            n = t.ndim - (len(s) - 3)
            s = s.replace("...", ell[ell_nd - n:] if n else "")
        if len(s) != t.ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(s)}) "
                               f"does not match the number of dimensions ({t.ndim}) for operand "
                               f"{len(new_subs)}" + ("" if "..." in subs[len(new_subs)] else
                                                     " and no ellipsis was given"))
        new_subs.append(s)
    if out is None:
        counts = {}
        for s in new_subs:
            for c in s:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, k in counts.items() if k == 1 and c not in ell))
    else:
        out = out.replace("...", ell)
    return new_subs, out


def _unique_letters(sub, t):
    """'ii' -> diagonal view: repeated letters of one operand taken along their diagonal."""
    while True:
        for i, c in enumerate(sub):
            j = sub.find(c, i + 1)
            if j >= 0:
                if t.shape[i] != t.shape[j]:
                    raise RuntimeError(f"einsum(): subscript {c} is repeated for operand but the "
                                       f"sizes don't match, {t.shape[i]} != {t.shape[j]}")
                t = t.diagonal(0, i, j)
                sub = sub[:i] + sub[i + 1:j] + sub[j + 1:] + c
                break
        else:
            return sub, t


@declare(method=False)
def einsum(equation, *operands):
    """einsum(equation, *operands): torch's subscripts (letters, '...', optional '->')."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    for t in operands:
        if not isinstance(t, Tensor):
            raise TypeError(f"einsum(): operands must be Tensors, not {type(t).__name__}")
    subs, out = _parse(equation, operands)
    pairs = [_unique_letters(s, t) for s, t in zip(subs, operands)]
    subs = [s for s, _ in pairs]
    operands = [t for _, t in pairs]
    dt = D.result_type_of(list(operands))
    operands = [t if t.dtype is dt else t.to(dt) for t in operands]
    sizes = {}
    for k, (s, t) in enumerate(zip(subs, operands)):
        for c, n in zip(s, t.shape):
            if sizes.setdefault(c, n) != n and n != 1 and sizes[c] != 1:
                raise RuntimeError(f"einsum(): subscript {c} has size {n} for operand {k} which "
                                   f"does not broadcast with previously seen size {sizes[c]}")
    return _einsum(subs, out, operands)
