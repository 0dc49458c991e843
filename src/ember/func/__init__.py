"""ember.func: torch.func's composable transforms.

grad, grad_and_value, vjp, jvp, jacrev, jacfwd, hessian and vmap nest and compose
(``vmap(grad(f))``, ``jacfwd(jacrev(f))``); functional_call runs a module with
swapped parameters, e.g. for per-sample gradients:

    grads = vmap(grad(lambda p, x: loss(functional_call(model, p, (x,)))),
                 in_dims=(None, 0))(params, xs)
"""
from ._functional_call import functional_call
from ._transforms import grad, grad_and_value, hessian, jacfwd, jacrev, jvp, vjp
from ._vmap import vmap

__all__ = ["functional_call", "grad", "grad_and_value", "hessian", "jacfwd", "jacrev", "jvp",
           "vjp", "vmap"]
