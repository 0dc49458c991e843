"""The backward of a fused gradient kernel, by replaying the layer it differentiates.

A fused op's first-order backward is one kernel on raw arrays (layer norm's, attention's):
fast, but not itself written in Ember ops.  Its own backward (second derivatives) is rare,
so rather than a second hand-derived kernel it recomputes the layer as Ember ops and
differentiates its vector-Jacobian product twice, which is exact and differentiable again.
"""
from ..autograd import grad_mode


def vjp_of_vjp(fn, g, primals, cotangents, needs):
    """Gradients of ``<cotangents, vjp(fn, primals, g)>`` w.r.t. ``(g, *primals)``.

    ``fn(*primals)`` computes the layer in Ember ops; ``primals`` may hold None (absent
    inputs); ``cotangents`` has one entry per primal (None: not asked for);
    ``needs`` says which of ``(g, *primals)`` want a gradient."""
    from ..autograd import grad as autograd_grad
    create = grad_mode.is_grad_enabled()
    with grad_mode.enable_grad():
        # Fresh aliases stand for the inputs: the gradient must stop at them, not flow on
        # into their histories (g usually depends on the primals: that dependence is the
        # outer graph's to differentiate, through this op's edges).  An alias of a tensor
        # that requires grad keeps the result connected to it for higher orders.
        g = _alias(g)
        leaves = [None if p is None else _alias(p) for p in primals]
        out = fn(*leaves)
        live = [i for i, p in enumerate(leaves) if p is not None and cotangents[i] is not None]
        firsts = autograd_grad([out], [leaves[i] for i in live], [g], create_graph=True,
                               allow_unused=True)
        outs, cots = [], []
        for i, f in zip(live, firsts):
            if f is not None and f.requires_grad:
                outs.append(f)
                cots.append(cotangents[i])
        targets = [t for t, n in zip([g] + leaves, needs) if n]
        found = autograd_grad(outs, targets, cots, create_graph=create,
                              allow_unused=True) if outs and targets else [None] * len(targets)
    result = []
    it = iter(found)
    for n in needs:
        result.append(next(it) if n else None)
    return tuple(result)


def _alias(t):
    return t.view_as(t) if t.requires_grad else t.detach().requires_grad_()
