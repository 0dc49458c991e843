"""grad, grad_and_value, vjp, jvp, jacrev, jacfwd, hessian: torch.func's transforms.

Each transform runs the function on stand-ins for the differentiated arguments
and differentiates the recorded graph with ``create_graph=True``, so transforms
nest (``grad(grad(f))``, ``jacfwd(jacrev(f))``) and compose with ``vmap``.

A stand-in is an alias of the argument when the argument already requires grad
(the result stays differentiable for the caller, as torch's does), and otherwise a
fresh private leaf.  When the outermost transform returns, results that depend
on nothing but private leaves are detached, so they look as torch's do.

Forward mode (``jvp``, ``jacfwd``) uses the double-vjp trick, see
``ember.autograd.forward_ad``.
"""
import functools

from ..autograd import grad_mode
from ..autograd.forward_ad import reaches_leaf_outside
from .._tensor import Tensor
from ._pytree import tree_flatten, tree_unflatten

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian"]

_private = None  # ids of the stand-in leaves of the outermost running transform


class _Transform:
    """Grad mode on; the outermost one owns the private-leaf set and finalizes."""

    def __enter__(self):
        global _private
        self.outermost = _private is None
        if self.outermost:
            _private = set()
        self.private = _private
        self._grad = grad_mode.enable_grad()
        self._grad.__enter__()
        return self

    def __exit__(self, *exc):
        global _private
        self._grad.__exit__(*exc)
        if self.outermost:
            _private = None

    def leaf(self, x):
        """A stand-in for ``x`` that autograd differentiates with respect to."""
        if not isinstance(x, Tensor):
            raise ValueError(f"Thing passed to transform API must be Tensor, got {type(x)}")
        if x.requires_grad:
            return x.view_as(x)
        t = x.detach().requires_grad_(True)
        self.private.add(id(t))
        return t

    def new_leaf(self, t):
        t.requires_grad_(True)
        self.private.add(id(t))
        return t

    def finalize(self, tree):
        """Detach results of the outermost transform that reach only private leaves."""
        if not self.outermost:
            return tree
        leaves, spec = tree_flatten(tree)
        out = [x.detach() if isinstance(x, Tensor) and not reaches_leaf_outside(x, self.private)
               else x for x in leaves]
        return tree_unflatten(out, spec)


def _check_argnums(argnums, n):
    if isinstance(argnums, int) and not isinstance(argnums, bool):
        nums = (argnums,)
    elif isinstance(argnums, tuple) and all(isinstance(a, int) for a in argnums):
        if not argnums:
            raise RuntimeError("argnums must be non-empty")
        nums = argnums
    else:
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
    for a in nums:
        if not -n <= a < n:
            raise RuntimeError(f"Got argnum={a}, but only {n} positional inputs")
    return tuple(a % n for a in nums)


def _lift_args(tr, args, argnums):
    """Args with stand-ins at ``argnums``; the differentiated part as a tree and its leaves."""
    nums = _check_argnums(argnums, len(args))
    args = list(args)
    for a in nums:
        leaves, spec = tree_flatten(args[a])
        args[a] = tree_unflatten([tr.leaf(x) for x in leaves], spec)
    diff = args[argnums] if isinstance(argnums, int) else tuple(args[a] for a in nums)
    leaves, spec = tree_flatten(diff)
    return args, leaves, spec


def _grad_list(outputs, inputs, grad_outputs, retain_graph=True):
    """autograd.grad with create_graph; zeros for inputs the outputs do not reach."""
    from ..autograd.functional import _autograd_grad
    from .._creation import zeros_like
    grads = _autograd_grad(outputs, inputs, grad_outputs, create_graph=True,
                           retain_graph=retain_graph)
    return [zeros_like(x) if g is None else g for g, x in zip(grads, inputs)]


def grad_and_value(func, argnums=0, has_aux=False):
    """``(grad, value)`` of a scalar function; ``(grad, (value, aux))`` with ``has_aux``."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with _Transform() as tr:
            args, leaves, spec = _lift_args(tr, args, argnums)
            output = func(*args, **kwargs)
            aux = None
            if has_aux:
                if not (isinstance(output, tuple) and len(output) == 2):
                    raise RuntimeError("grad_and_value(f)(*args): output of function f should be "
                                       "a tuple: (output, aux) if has_aux is True")
                output, aux = output
            if not isinstance(output, Tensor):
                raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a "
                                   f"Tensor, got {type(output)}")
            if output.dim() != 0:
                raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a "
                                   f"scalar Tensor, got tensor with {output.dim()} dims. Maybe "
                                   "you wanted to use the vjp or jacrev APIs instead?")
            grads = tree_unflatten(_grad_list((output,), leaves, None), spec)
            if has_aux:
                return tr.finalize((grads, (output, aux)))
            return tr.finalize((grads, output))
    return wrapper


def grad(func, argnums=0, has_aux=False):
    """The gradient of a scalar function with respect to the args at ``argnums``."""
    gv = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        g, value = gv(*args, **kwargs)
        if has_aux:
            return g, value[1]
        return g
    return wrapper


def _check_outputs(leaves, api):
    for x in leaves:
        if not isinstance(x, Tensor):
            raise RuntimeError(f"{api}: expected f(*primals) to return only tensors, got "
                               f"unsupported type {type(x)}")


def vjp(func, *primals, has_aux=False):
    """``(func(*primals), vjp_fn)``; ``vjp_fn(cotangents)`` returns one gradient per primal."""
    with _Transform() as tr:
        p_leaves, in_spec = tree_flatten(primals)
        in_leaves = [tr.leaf(x) for x in p_leaves]
        lifted = tree_unflatten(in_leaves, in_spec)
        output = func(*lifted)
        aux = None
        if has_aux:
            if not (isinstance(output, tuple) and len(output) == 2):
                raise RuntimeError("vjp(f, *primals): output of function f should be a tuple: "
                                   "(output, aux) if has_aux is True")
            output, aux = output
        out_leaves, out_spec = tree_flatten(output)
        _check_outputs(out_leaves, "vjp(f, *primals)")
        result = tr.finalize(output)
        outermost, private = tr.outermost, tr.private

    def vjp_fn(cotangents):
        cot_leaves, cot_spec = tree_flatten(cotangents)
        if cot_spec != out_spec:
            raise RuntimeError(f"Expected pytree structure of cotangents to be the same as "
                               f"pytree structure of outputs to the function. cotangents: "
                               f"{cot_spec!r}, primal output: {out_spec!r}")
        with grad_mode.enable_grad():
            from ..autograd import _make_grads
            _make_grads(out_leaves, cot_leaves)  # torch's shape/dtype checks and messages
            grads = _grad_list(out_leaves, in_leaves, cot_leaves)
        if outermost:
            grads = [g if reaches_leaf_outside(g, private) else g.detach() for g in grads]
        return tree_unflatten(grads, in_spec)

    if has_aux:
        return result, vjp_fn, tr.finalize(aux)
    return result, vjp_fn


def _double_vjp_columns(tr, out_leaves, in_leaves, tangent_sets):
    """For each tangent set (one tangent per input leaf), J t for every output leaf."""
    from .._creation import zeros_like
    us = [tr.new_leaf(zeros_like(o)) for o in out_leaves]
    gs = _grad_list(out_leaves, in_leaves, us)
    return [_grad_list(gs, us, tangents) for tangents in tangent_sets]


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """``(func(*primals), J @ tangents)``: forward-mode product by the double-vjp trick.

    ``strict`` is accepted for torch's signature; as in torch it raises nothing.
    """
    if not isinstance(primals, tuple):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals to be a tuple. E.g. it "
                           "should be valid to call f(*primals).")
    p_leaves, p_spec = tree_flatten(primals)
    t_leaves, t_spec = tree_flatten(tangents)
    if p_spec != t_spec:
        raise RuntimeError(f"jvp(f, primals, tangents): Expected primals and tangents to have the "
                           f"same python structure. For example, if primals is a tuple of 3 "
                           f"tensors, tangents also must be. Got primals with structure "
                           f"{p_spec!r} and tangents with structure {t_spec!r}")
    for p, t in zip(p_leaves, t_leaves):
        if p.shape != t.shape:
            raise RuntimeError("Trying to set a forward gradient that has a different size than "
                               "that of the original Tensor, this is not supported. Tensor is of "
                               f"size {list(p.shape)} while the given forward gradient is of "
                               f"size {list(t.shape)}.")
    with _Transform() as tr:
        lifted = [tr.leaf(x) for x in p_leaves]
        output = func(*tree_unflatten(lifted, p_spec))
        aux = None
        if has_aux:
            if not (isinstance(output, tuple) and len(output) == 2):
                raise RuntimeError("jvp(f, primals, tangents): output of function f should be a "
                                   "tuple: (output, aux) if has_aux is True")
            output, aux = output
        out_leaves, out_spec = tree_flatten(output)
        _check_outputs(out_leaves, "jvp(f, primals, tangents)")
        (cols,) = _double_vjp_columns(tr, out_leaves, lifted, [t_leaves])
        res = (output, tree_unflatten(cols, out_spec))
        if has_aux:
            res = res + (aux,)
        return tr.finalize(res)


def _jac_layout(out_leaves, out_spec, in_leaves, in_spec, blocks):
    """blocks[i][j]: Jacobian of output leaf i w.r.t. input leaf j -> torch's nesting."""
    per_out = [tree_unflatten(blocks[i], in_spec) for i in range(len(out_leaves))]
    return tree_unflatten(per_out, out_spec)


def _has_aux_split(output, has_aux, name):
    if not has_aux:
        return output, None
    if not (isinstance(output, tuple) and len(output) == 2):
        raise RuntimeError(f"{name}(f, ...)(*args): output of function f should be a tuple: "
                           "(output, aux) if has_aux is True")
    return output


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None, _preallocate_and_copy=False):
    """The Jacobian by reverse mode: one vjp per output element.

    ``chunk_size`` is accepted for torch's signature; rows are computed one at a time.
    """
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from .._creation import zeros
        from ._stack import stack
        with _Transform() as tr:
            args, in_leaves, in_spec = _lift_args(tr, args, argnums)
            output, aux = _has_aux_split(func(*args, **kwargs), has_aux, "jacrev")
            out_leaves, out_spec = tree_flatten(output)
            _check_outputs(out_leaves, "jacrev(f, ...)(*args)")
            blocks = []
            for out in out_leaves:
                n = out.nelement()
                rows = [[] for _ in in_leaves]
                for k in range(n):
                    e = zeros(n, dtype=out.dtype)
                    e._data[k] = 1
                    gs = _grad_list((out,), in_leaves, (e.reshape(out.shape),))
                    for r, g in zip(rows, gs):
                        r.append(g.reshape(-1))
                blocks.append([_rows_to_jac(r, out, x, stack, zeros)
                               for r, x in zip(rows, in_leaves)])
            jac = _jac_layout(out_leaves, out_spec, in_leaves, in_spec, blocks)
            return tr.finalize((jac, aux) if has_aux else jac)
    return wrapper


def _rows_to_jac(rows, out, inp, stack, zeros):
    shape = tuple(out.shape) + tuple(inp.shape)
    if not rows:
        return zeros(shape, dtype=inp.dtype)
    return stack(rows, 0).reshape(shape)


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """The Jacobian by forward mode: one jvp per input element (double-vjp trick).

    ``randomness`` is accepted for torch's signature: the function runs once, so
    random ops inside it need no special handling.
    """
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or "
                           f"'same'. Got {randomness}")

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from .._creation import zeros, zeros_like
        from ._stack import stack
        with _Transform() as tr:
            args, in_leaves, in_spec = _lift_args(tr, args, argnums)
            output, aux = _has_aux_split(func(*args, **kwargs), has_aux, "jacfwd")
            out_leaves, out_spec = tree_flatten(output)
            _check_outputs(out_leaves, "jacfwd(f, ...)(*args)")
            tangent_sets, owner = [], []
            for j, x in enumerate(in_leaves):
                for k in range(x.nelement()):
                    e = zeros(x.nelement(), dtype=x.dtype)
                    e._data[k] = 1
                    tangent_sets.append([e.reshape(x.shape) if i == j else zeros_like(y)
                                         for i, y in enumerate(in_leaves)])
                    owner.append(j)
            cols = _double_vjp_columns(tr, out_leaves, in_leaves, tangent_sets)
            blocks = []
            for i, out in enumerate(out_leaves):
                row = []
                for j, x in enumerate(in_leaves):
                    mine = [c[i].reshape(-1) for c, o in zip(cols, owner) if o == j]
                    shape = tuple(out.shape) + tuple(x.shape)
                    if not mine or out.nelement() == 0:
                        row.append(zeros(shape, dtype=out.dtype))
                    else:
                        row.append(stack(mine, -1).reshape(shape))
                blocks.append(row)
            jac = _jac_layout(out_leaves, out_spec, in_leaves, in_spec, blocks)
            return tr.finalize((jac, aux) if has_aux else jac)
    return wrapper


def hessian(func, argnums=0):
    """The Hessian of a scalar function: ``jacfwd(jacrev(func, argnums), argnums)``."""
    return jacfwd(jacrev(func, argnums), argnums)
