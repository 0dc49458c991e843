"""torch.autograd.functional: Jacobians, Hessians and vector products of a function.

Every function here takes ``func`` and ``inputs`` (a Tensor or a tuple of Tensors)
and returns results whose nesting follows torch's exactly: a Tensor where the user
gave a Tensor, a tuple where the user gave a tuple.

Forward-mode products (``jvp``, ``hvp``) use the double-vjp trick: the vjp
``u -> J^T u`` is linear in the cotangent ``u``, so differentiating
``<J^T u, v>`` with respect to ``u`` gives ``J v``.  This needs only reverse mode,
and works for every op because Ember's backward formulas are themselves
differentiable Ember ops.

``vectorize=True`` is accepted and gives the same results as ``vectorize=False``:
Ember computes the Jacobian rows with a Python loop either way.  The
``strategy="forward-mode"`` Jacobian builds columns from jvps.

    >>> jacobian(lambda x: x * x, ember.tensor([1., 2.]))
    tensor([[2., 0.],
            [0., 4.]])
"""
from .. import _creation
from .._tensor import Tensor
from . import grad_mode

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


# --- argument handling -------------------------------------------------------------

def _as_tuple(inp, arg_name, fn_name):
    """(tuple_of_tensors, was_a_tuple); torch's TypeError for anything else."""
    if isinstance(inp, Tensor):
        return (inp,), False
    if not isinstance(inp, tuple):
        raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple "
                        f"of Tensors but the given {arg_name} has type {type(inp)}.")
    for i, el in enumerate(inp):
        if not isinstance(el, Tensor):
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a "
                            f"tuple of Tensors but the value at index {i} has type {type(el)}.")
    return inp, True


def _tuple_postprocess(res, to_unpack):
    """Undo ``_as_tuple``: ``to_unpack`` is one flag, or two for nested results."""
    if isinstance(to_unpack, tuple):
        if not to_unpack[1]:
            res = tuple(el[0] for el in res)
        if not to_unpack[0]:
            res = res[0]
    elif not to_unpack:
        res = res[0]
    return res


def _grad_preprocess(inputs, create_graph, need_graph):
    """Fresh differentiable stand-ins for the inputs.

    With ``create_graph`` an input that already requires grad is aliased rather
    than detached, so the result stays connected to the caller's graph.
    """
    res = []
    for inp in inputs:
        if create_graph and inp.requires_grad:
            res.append(inp.view_as(inp))
        else:
            res.append(inp.detach().requires_grad_(need_graph))
    return tuple(res)


def _grad_postprocess(inputs, create_graph):
    if isinstance(inputs[0], Tensor):
        if not create_graph:
            return tuple(inp.detach() for inp in inputs)
        return inputs
    return tuple(_grad_postprocess(inp, create_graph) for inp in inputs)


def _validate_v(v, other, is_other_tuple):
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but got "
                               f"{len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for idx, (el_v, el_other) in enumerate(zip(v, other)):
        if el_v.shape != el_other.shape:
            prepend = f"Entry {idx} in " if is_other_tuple else ""
            raise RuntimeError(f"{prepend}v has invalid size: should be {el_other.shape} but "
                               f"got {el_v.shape}.")


def _check_requires_grad(inputs, input_type, strict):
    if not strict:
        return
    for i, inp in enumerate(inputs):
        if inp is None:
            raise RuntimeError(f"The output of the user-provided function is independent of "
                               f"input {i}. This is not allowed in strict mode.")
        if not inp.requires_grad:
            if input_type == "hessian":
                raise RuntimeError(
                    f"While computing the hessian, found that the jacobian of the user-provided "
                    f"function with respect to input {i} is independent of the input. This is "
                    "not allowed in strict mode. You should ensure that your function is twice "
                    "differentiable and that the jacobian depends on the inputs (this would be "
                    "violated by a linear function for example).")
            if input_type == "jacobian":
                raise RuntimeError(f"While computing the hessian, found that the jacobian of the "
                                   f"user-provided function with respect to input {i} is "
                                   "independent of the input. This is not allowed in strict "
                                   "mode.")
            if input_type == "grad_inputs":
                raise RuntimeError(f"The gradient with respect to input {i} is independent of the "
                                   "inputs of the user-provided function. This is not allowed in "
                                   "strict mode.")
            raise RuntimeError(f"Output {i} of the user-provided function does not require "
                               "gradients. The outputs must be computed in a differentiable "
                               "manner from the input when running in strict mode.")


def _autograd_grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """autograd.grad over the outputs that require grad; None for unreached inputs."""
    from . import grad as _grad
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    new_outputs, new_grad_outputs = [], []
    for out, g in zip(outputs, grad_outputs):
        if out is not None and out.requires_grad:
            new_outputs.append(out)
            new_grad_outputs.append(g)
    if not new_outputs or not any(i.requires_grad for i in inputs):
        return (None,) * len(inputs)
    # Inputs that do not require grad get None; autograd.grad rejects them.
    wanted = [i for i, inp in enumerate(inputs) if inp.requires_grad]
    grads = _grad(new_outputs, [inputs[i] for i in wanted], new_grad_outputs,
                  retain_graph=retain_graph, create_graph=create_graph, allow_unused=True)
    res = [None] * len(inputs)
    for i, g in zip(wanted, grads):
        res[i] = g
    return tuple(res)


def _fill_in_zeros(grads, refs, strict, create_graph, stage):
    """Zeros where a gradient is None; in strict mode, torch's error instead."""
    res = []
    for i, (g, ref) in enumerate(zip(grads, refs)):
        if g is None:
            if strict:
                if stage == "back":
                    raise RuntimeError(f"The output of the user-provided function is independent "
                                       f"of input {i}. This is not allowed in strict mode.")
                if stage == "back_trick":
                    raise RuntimeError(f"The gradient with respect to the input is independent of "
                                       f"entry {i} in the grad_outputs when using the double "
                                       "backward trick to compute forward mode gradients. This is "
                                       "not allowed in strict mode.")
                if stage == "double_back":
                    raise RuntimeError(f"The jacobian of the user-provided function is independent "
                                       f"of input {i}. This is not allowed in strict mode.")
                raise RuntimeError(f"The hessian of the user-provided function is independent of "
                                   f"entry {i} in the grad_jacobian. This is not allowed in strict "
                                   "mode as it prevents from using the double backward trick to "
                                   "replace forward mode AD.")
            g = _creation.zeros_like(ref)
        elif strict and create_graph and not g.requires_grad:
            if "double" not in stage:
                raise RuntimeError(f"The jacobian of the user-provided function is independent of "
                                   f"input {i}. This is not allowed in strict mode when "
                                   "create_graph=True.")
            raise RuntimeError(f"The hessian of the user-provided function is independent of input "
                               f"{i}. This is not allowed in strict mode when create_graph=True.")
        res.append(g)
    return tuple(res)


def _prepare_v(v, against, is_against_tuple, create_graph, fn_name,
               none_needs="the input to the user-provided function is"):
    """The vector of a vector product, checked against what it multiplies; it may be left
    out only where that is a single one-element Tensor (then None is returned)."""
    if v is not None:
        v, _ = _as_tuple(v, "v", fn_name)
        v = _grad_preprocess(v, create_graph, False)
        _validate_v(v, against, is_against_tuple)
        return v
    if len(against) != 1 or against[0].nelement() != 1:
        raise RuntimeError(f"The vector v can only be None if {none_needs} a single Tensor "
                           "with a single element.")
    return None


def _check_scalar_output(is_outputs_tuple, out, fn_name):
    if is_outputs_tuple or not isinstance(out, Tensor):
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
    if out.nelement() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fn_name} should "
                           "contain a single element")


def _last_grad(outputs, inputs, v, create_graph, strict, stage, refs=None):
    """The final product's differentiation; zeros (or strict's error) where ``refs`` (by
    default ``inputs``) got no gradient."""
    enable = create_graph or grad_mode.is_grad_enabled()
    with grad_mode.set_grad_enabled(enable):
        grad_res = _autograd_grad(outputs, inputs, v, create_graph=create_graph)
        return _fill_in_zeros(grad_res, inputs if refs is None else refs, strict,
                              create_graph, stage)


def _results(outputs, is_outputs_tuple, res, is_res_tuple, create_graph):
    """(outputs, result), detached unless ``create_graph``, nested as the user gave them."""
    outputs = _grad_postprocess(outputs, create_graph)
    res = _grad_postprocess(res, create_graph)
    return (_tuple_postprocess(outputs, is_outputs_tuple),
            _tuple_postprocess(res, is_res_tuple))


def _call(func, inputs, fn_name):
    outputs = func(*inputs)
    return _as_tuple(outputs, "outputs of the user-provided function", fn_name)


# --- vector products ----------------------------------------------------------------

def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J): the vector-Jacobian product at ``inputs``."""
    with grad_mode.enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")[::-1]
        inputs = _grad_preprocess(inputs, create_graph, True)
        outputs, is_outputs_tuple = _call(func, inputs, "vjp")
        _check_requires_grad(outputs, "outputs", strict)
        v = _prepare_v(v, outputs, is_outputs_tuple, create_graph, "vjp",
                       "the user-provided function returns")
        vjp_res = _last_grad(outputs, inputs, v, create_graph, strict, "back")
    return _results(outputs, is_outputs_tuple, vjp_res, is_inputs_tuple, create_graph)


def _double_vjp(outputs, inputs, v, create_graph, strict):
    """J v by differentiating the (linear) vjp with respect to its cotangent."""
    grad_outputs = tuple(_creation.zeros_like(out).requires_grad_(True) for out in outputs)
    grad_inputs = _autograd_grad(outputs, inputs, grad_outputs, create_graph=True)
    _check_requires_grad(grad_inputs, "grad_inputs", strict)
    grad_res = _autograd_grad(grad_inputs, grad_outputs, v, create_graph=create_graph)
    return _fill_in_zeros(grad_res, outputs, strict, create_graph, "back_trick")


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v): the Jacobian-vector product at ``inputs`` (double-vjp trick)."""
    with grad_mode.enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")[::-1]
        inputs = _grad_preprocess(inputs, create_graph, True)
        v = _prepare_v(v, inputs, is_inputs_tuple, create_graph, "jvp")
        outputs, is_outputs_tuple = _call(func, inputs, "jvp")
        _check_requires_grad(outputs, "outputs", strict)
        if v is None:
            v = (_creation.ones_like(inputs[0]),)
        if strict:
            # torch reports an input the outputs ignore before anything else.
            probe = _autograd_grad(outputs, inputs, tuple(_creation.ones_like(o)
                                                           for o in outputs), True, True)
            _fill_in_zeros(probe, inputs, True, False, "back")
        jvp_res = _double_vjp(outputs, inputs, v, create_graph, strict)
    return _results(outputs, is_outputs_tuple, jvp_res, is_outputs_tuple, create_graph)


# --- Jacobian and Hessian -----------------------------------------------------------

def _stack_rows(rows, out, inp):
    """Rows (one flattened gradient per output element) -> out.shape + inp.shape."""
    from .._ops.shape import reshape
    from ..func._stack import stack
    if not rows:
        return _creation.zeros(tuple(out.shape) + tuple(inp.shape), dtype=inp.dtype)
    return reshape(stack(rows, 0), tuple(out.shape) + tuple(inp.shape))


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: entry [i][j] has shape out_i.shape + in_j.shape."""
    assert strategy in ("forward-mode", "reverse-mode"), (
        'Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
        'function has more outputs than inputs, "forward-mode" tends to be more performant. '
        'Otherwise, prefer to use "reverse-mode".')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError("torch.autograd.functional.jacobian: `create_graph=True` "
                                      "and `strategy=\"forward-mode\"` are not supported together "
                                      "(yet). Please either set `create_graph=False` or "
                                      "`strategy=\"reverse-mode\"`.")
        if not vectorize:
            raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse "
                                      "Hessian isonly implemented for `vectorize=True`.")
        if strict:
            raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and "
                               "`strategy=\"forward-mode\"` are not supported together (yet). "
                               "Please either set `strict=False` or `strategy=\"reverse-mode\"`.")
    elif vectorize and strict:
        raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and "
                           "`vectorized=True` are not supported together. Please either set "
                           "`strict=False` or `vectorize=False`.")
    return _jacobian(func, inputs, create_graph, strict, strategy)


def _jacobian(func, inputs, create_graph, strict, strategy, tangent_graph=False):
    """jacobian after its argument checks.  ``tangent_graph`` (forward mode only) keeps the
    columns' graph: torch's forward-over-reverse Hessian returns a tensor that requires grad
    (through the inner Jacobian's own graph, not to the caller's inputs)."""
    with grad_mode.enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")[::-1]
        inputs = _grad_preprocess(inputs, create_graph, True)
        outputs, is_outputs_tuple = _call(func, inputs, "jacobian")
        _check_requires_grad(outputs, "outputs", strict)
        if strategy == "forward-mode":
            jac = _jacobian_forward(outputs, inputs, tangent_graph)
        else:
            jac = _jacobian_reverse(outputs, inputs, create_graph, strict)
        if not tangent_graph:
            jac = _grad_postprocess(jac, create_graph)
    res = _tuple_postprocess(jac, (is_outputs_tuple, is_inputs_tuple))
    if strategy == "forward-mode" and is_inputs_tuple:
        # torch's forward-mode Jacobian nests in lists when the inputs are a tuple.
        res = [list(r) for r in res] if is_outputs_tuple else list(res)
    return res


def _jacobian_reverse(outputs, inputs, create_graph, strict):
    jac = []
    for i, out in enumerate(outputs):
        rows = [[] for _ in inputs]
        flat = out.reshape(-1)
        n = flat.nelement()
        for j in range(n):
            onehot = _creation.zeros(n, dtype=out.dtype)
            onehot._data[j] = 1
            gs = _autograd_grad((out,), inputs, (onehot.reshape(out.shape),), create_graph,
                                retain_graph=True)
            for k, (g, inp) in enumerate(zip(gs, inputs)):
                if g is None:
                    if strict:
                        raise RuntimeError(f"Output {i} of the user-provided function is "
                                           f"independent of input {k}. This is not allowed in "
                                           "strict mode.")
                    g = _creation.zeros_like(inp)
                elif strict and create_graph and not g.requires_grad:
                    raise RuntimeError(f"The jacobian of the user-provided function is "
                                       f"independent of input {k}. This is not allowed in strict "
                                       "mode when create_graph=True.")
                rows[k].append(g.reshape(-1))
        jac.append(tuple(_stack_rows(r, out, inp) for r, inp in zip(rows, inputs)))
    return tuple(jac)


def _jacobian_forward(outputs, inputs, keep_graph=False):
    """Columns J e_k (jvps of unit tangents), gathered into torch's layout."""
    from .._ops.shape import permute, reshape
    from ..func._stack import stack
    jac = []
    for out in outputs:
        per_input = []
        for inp in inputs:
            cols = []
            m = inp.nelement()
            for k in range(m):
                e = _creation.zeros(m, dtype=inp.dtype)
                e._data[k] = 1
                v = tuple(e.reshape(inp.shape) if x is inp else _creation.zeros_like(x)
                          for x in inputs)
                (col,) = _double_vjp((out,), inputs, v, keep_graph, False)
                cols.append(col.reshape(-1))
            if not cols:
                per_input.append(_creation.zeros(tuple(out.shape) + tuple(inp.shape),
                                                 dtype=out.dtype))
                continue
            j = permute(stack(cols, 0), (1, 0))
            per_input.append(reshape(j, tuple(out.shape) + tuple(inp.shape)))
        jac.append(tuple(per_input))
    return tuple(jac)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The Hessian of scalar ``func``: entry [i][j] has shape in_i.shape + in_j.shape."""
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")[::-1]
    assert outer_jacobian_strategy in ("forward-mode", "reverse-mode"), (
        'Expected strategy to be either "forward-mode" or "reverse-mode".')

    def ensure_single_output_function(*inp):
        out = func(*inp)
        is_out_tuple, t_out = _as_tuple(out, "outputs of the user-provided function",
                                        "hessian")[::-1]
        _check_requires_grad(t_out, "outputs", strict)
        _check_scalar_output(is_out_tuple, out, "hessian")
        return out.squeeze()

    def jac_func(*inp):
        jac = jacobian(ensure_single_output_function, inp, create_graph=True)
        _check_requires_grad(jac, "hessian", strict)
        return jac

    res = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict,
                   vectorize=vectorize, strategy=outer_jacobian_strategy) \
        if outer_jacobian_strategy == "reverse-mode" or create_graph or not vectorize else \
        _jacobian(jac_func, inputs, False, strict, "forward-mode", tangent_graph=True)
    return _tuple_postprocess(res, (is_inputs_tuple, is_inputs_tuple))


def _scalar_and_grad(func, inputs, v, create_graph, strict, fn_name):
    """What vhp and hvp start from: their prepared inputs and v, the scalar output and its
    gradient (with a graph, to differentiate again)."""
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", fn_name)[::-1]
    inputs = _grad_preprocess(inputs, create_graph, True)
    v = _prepare_v(v, inputs, is_inputs_tuple, create_graph, fn_name)
    outputs, is_outputs_tuple = _call(func, inputs, fn_name)
    _check_requires_grad(outputs, "outputs", strict)
    _check_scalar_output(is_outputs_tuple, outputs[0], fn_name)
    jac = _autograd_grad(outputs, inputs, create_graph=True)
    _check_requires_grad(jac, "hessian", strict)
    return is_inputs_tuple, inputs, v, outputs, jac


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H): vector-Hessian product of a scalar function."""
    with grad_mode.enable_grad():
        is_inputs_tuple, inputs, v, outputs, jac = _scalar_and_grad(func, inputs, v,
                                                                     create_graph, strict, "vhp")
        res = _last_grad(jac, inputs, v, create_graph, strict, "double_back")
    return _results(outputs, False, res, is_inputs_tuple, create_graph)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v): Hessian-vector product of a scalar function (double-vjp trick)."""
    with grad_mode.enable_grad():
        is_inputs_tuple, inputs, v, outputs, jac = _scalar_and_grad(func, inputs, v,
                                                                     create_graph, strict, "hvp")
        grad_jac = tuple(_creation.zeros_like(inp).requires_grad_(True) for inp in inputs)
        double_back = _autograd_grad(jac, inputs, grad_jac, create_graph=True)
        _check_requires_grad(jac, "hessian", strict)
        res = _last_grad(double_back, grad_jac, v, create_graph, strict, "double_back_trick",
                         refs=inputs)
    return _results(outputs, False, res, is_inputs_tuple, create_graph)


