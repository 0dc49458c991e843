"""ember.func against torch.func: transforms, nesting, composition, errors."""
import numpy as np
import pytest
import torch
import torch.func as TF

import ember
import ember.func as EF

rng = np.random.default_rng(3)
X = rng.standard_normal(3)
Y = rng.standard_normal((2, 3))
XB = rng.standard_normal((4, 3))


def E(a):
    return ember.tensor(a)


def T(a):
    return torch.tensor(a)


def assert_same(e, t, requires_grad=True):
    """Same nesting, shapes, dtypes and values (and requires_grad unless told not to)."""
    if isinstance(t, (tuple, list)):
        assert type(e) is type(t) and len(e) == len(t)
        for a, b in zip(e, t):
            assert_same(a, b, requires_grad)
        return
    if isinstance(t, dict):
        assert isinstance(e, dict) and list(e) == list(t)
        for k in t:
            assert_same(e[k], t[k], requires_grad)
        return
    assert isinstance(e, ember.Tensor), type(e)
    assert tuple(e.shape) == tuple(t.shape), (e.shape, t.shape)
    assert str(e.dtype) == str(t.dtype)
    if requires_grad:
        assert e.requires_grad == t.requires_grad
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-10, atol=1e-12)


def f_scalar(m, x):
    return (m.sin(x) * x).sum()


def f_two(m, x, y):
    return (m.tanh(m.matmul(y, x)) * x.sum()).sum()


def f_vec(m, x, y):
    return m.matmul(y, m.exp(x))


def test_grad_and_argnums():
    assert_same(EF.grad(lambda x: f_scalar(ember, x))(E(X)),
                TF.grad(lambda x: f_scalar(torch, x))(T(X)))
    for argnums in (0, 1, (0, 1), (1,), -1):
        assert_same(EF.grad(lambda x, y: f_two(ember, x, y), argnums)(E(X), E(Y)),
                    TF.grad(lambda x, y: f_two(torch, x, y), argnums)(T(X), T(Y)))


def test_grad_and_value_and_has_aux():
    assert_same(EF.grad_and_value(lambda x: f_scalar(ember, x))(E(X)),
                TF.grad_and_value(lambda x: f_scalar(torch, x))(T(X)))

    def aux(m):
        return lambda x: (f_scalar(m, x), {"double": x * 2})
    eg, ea = EF.grad(aux(ember), has_aux=True)(E(X))
    tg, ta = TF.grad(aux(torch), has_aux=True)(T(X))
    assert_same(eg, tg)
    assert_same(ea, ta)
    assert_same(EF.grad_and_value(aux(ember), has_aux=True)(E(X)),
                TF.grad_and_value(aux(torch), has_aux=True)(T(X)))


def test_grad_of_dict_argument():
    def loss(m):
        return lambda p, x: (m.matmul(x, p["w"]) + p["b"]).pow(2).sum()
    w, b = rng.standard_normal((3, 2)), rng.standard_normal(2)
    assert_same(EF.grad(loss(ember))({"w": E(w), "b": E(b)}, E(Y)),
                TF.grad(loss(torch))({"w": T(w), "b": T(b)}, T(Y)))


def test_nested_grad_and_closure():
    assert_same(EF.grad(EF.grad(lambda x: ember.sin(x) * x))(E(np.array(0.7))),
                TF.grad(TF.grad(lambda x: torch.sin(x) * x))(T(np.array(0.7))))

    def outer(m, F):
        return F.grad(lambda x: F.grad(lambda y: (x * y ** 3).sum())(x).sum())
    assert_same(outer(ember, EF)(E(X)), outer(torch, TF)(T(X)))


def test_grad_connects_to_callers_graph():
    xe, xt = E(X).requires_grad_(), T(X).requires_grad_()
    ge = EF.grad(lambda x: f_scalar(ember, x))(xe)
    gt = TF.grad(lambda x: f_scalar(torch, x))(xt)
    assert ge.requires_grad and gt.requires_grad
    ge.sum().backward()
    gt.sum().backward()
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-10)
    w = E(Y).requires_grad_()       # captured by closure, not an argument
    g = EF.grad(lambda x: (ember.matmul(w, x) ** 2).sum())(E(X))
    assert g.requires_grad


def test_vjp_and_jvp():
    eo, efn = EF.vjp(lambda x, y: f_vec(ember, x, y), E(X), E(Y))
    to, tfn = TF.vjp(lambda x, y: f_vec(torch, x, y), T(X), T(Y))
    assert_same(eo, to)
    ct = rng.standard_normal(2)
    assert_same(efn(E(ct)), tfn(T(ct)))
    assert_same(efn(E(ct * 2)), tfn(T(ct * 2)))   # callable more than once
    tx, ty = rng.standard_normal(3), rng.standard_normal((2, 3))
    assert_same(EF.jvp(lambda x, y: f_vec(ember, x, y), (E(X), E(Y)), (E(tx), E(ty))),
                TF.jvp(lambda x, y: f_vec(torch, x, y), (T(X), T(Y)), (T(tx), T(ty))))
    assert_same(EF.jvp(lambda x: (x.sin(), x.sum()), (E(X),), (E(tx),)),
                TF.jvp(lambda x: (x.sin(), x.sum()), (T(X),), (T(tx),)))
    eo, efn, eaux = EF.vjp(lambda x: (x * 3, x.sum()), E(X), has_aux=True)
    to, tfn, taux = TF.vjp(lambda x: (x * 3, x.sum()), T(X), has_aux=True)
    assert_same((eo, efn(E(X)), eaux), (to, tfn(T(X)), taux))
    assert_same(EF.jvp(lambda x: (x * 3, x.sum()), (E(X),), (E(tx),), has_aux=True),
                TF.jvp(lambda x: (x * 3, x.sum()), (T(X),), (T(tx),), has_aux=True))


@pytest.mark.parametrize("jac", ["jacrev", "jacfwd"])
def test_jacobians(jac):
    ej, tj = getattr(EF, jac), getattr(TF, jac)
    assert_same(ej(lambda x: ember.sin(x) * x)(E(X)), tj(lambda x: torch.sin(x) * x)(T(X)))
    assert_same(ej(lambda x, y: f_vec(ember, x, y), argnums=(0, 1))(E(X), E(Y)),
                tj(lambda x, y: f_vec(torch, x, y), argnums=(0, 1))(T(X), T(Y)))
    assert_same(ej(lambda x, y: (f_vec(ember, x, y), x.sum()), argnums=1)(E(X), E(Y)),
                tj(lambda x, y: (f_vec(torch, x, y), x.sum()), argnums=1)(T(X), T(Y)))
    assert_same(ej(lambda x: (x.exp(), x), has_aux=True)(E(X)),
                tj(lambda x: (x.exp(), x), has_aux=True)(T(X)))


def test_hessian_and_jac_nesting():
    assert_same(EF.hessian(lambda x: f_scalar(ember, x))(E(X)),
                TF.hessian(lambda x: f_scalar(torch, x))(T(X)))
    assert_same(EF.hessian(lambda x, y: f_two(ember, x, y), argnums=(0, 1))(E(X), E(Y)),
                TF.hessian(lambda x, y: f_two(torch, x, y), argnums=(0, 1))(T(X), T(Y)))
    assert_same(EF.jacrev(EF.jacrev(lambda x: x.sin() * x.sum()))(E(X)),
                TF.jacrev(TF.jacrev(lambda x: x.sin() * x.sum()))(T(X)))


def test_vmap_basics():
    def f(m):
        return lambda x, y: m.matmul(y, x) * x.sum()
    assert_same(EF.vmap(f(ember), in_dims=(0, None))(E(XB), E(Y)),
                TF.vmap(f(torch), in_dims=(0, None))(T(XB), T(Y)))
    assert_same(EF.vmap(lambda x: x * 2, in_dims=1, out_dims=1)(E(Y)),
                TF.vmap(lambda x: x * 2, in_dims=1, out_dims=1)(T(Y)))
    assert_same(EF.vmap(lambda x: (x.sum(), x * 2), out_dims=(0, 1))(E(XB)),
                TF.vmap(lambda x: (x.sum(), x * 2), out_dims=(0, 1))(T(XB)))
    assert_same(EF.vmap(lambda d: d["a"] + d["b"], in_dims=({"a": 0, "b": None},))(
                    {"a": E(XB), "b": E(X)}),
                TF.vmap(lambda d: d["a"] + d["b"], in_dims=({"a": 0, "b": None},))(
                    {"a": T(XB), "b": T(X)}))
    assert_same(EF.vmap(lambda x: x, in_dims=-1)(E(Y)), TF.vmap(lambda x: x, in_dims=-1)(T(Y)))


def test_vmap_nesting_and_composition():
    assert_same(EF.vmap(EF.vmap(lambda a, b: a * b), in_dims=(0, None))(E(Y), E(X)),
                TF.vmap(TF.vmap(lambda a, b: a * b), in_dims=(0, None))(T(Y), T(X)))
    assert_same(EF.vmap(EF.vmap(lambda a, b: a * b, in_dims=(None, 0)), in_dims=(0, None))(
                    E(X), E(X)),
                TF.vmap(TF.vmap(lambda a, b: a * b, in_dims=(None, 0)), in_dims=(0, None))(
                    T(X), T(X)))
    assert_same(EF.vmap(EF.grad(lambda x: f_scalar(ember, x)))(E(XB)),
                TF.vmap(TF.grad(lambda x: f_scalar(torch, x)))(T(XB)))
    assert_same(EF.grad(lambda x: EF.vmap(lambda r: f_scalar(ember, r))(x).sum())(E(XB)),
                TF.grad(lambda x: TF.vmap(lambda r: f_scalar(torch, r))(x).sum())(T(XB)))
    assert_same(EF.vmap(EF.jacrev(lambda x: x.sin() * x))(E(XB)),
                TF.vmap(TF.jacrev(lambda x: x.sin() * x))(T(XB)))


def test_vmap_keeps_autograd():
    xe, xt = E(XB).requires_grad_(), T(XB).requires_grad_()
    EF.vmap(lambda r: (r * r).sum())(xe).sum().backward()
    TF.vmap(lambda r: (r * r).sum())(xt).sum().backward()
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy())


def test_vmap_randomness():
    x = ember.zeros(3, 2)
    with pytest.raises(RuntimeError, match="vmap: called random operation while in randomness "
                       "error mode"):
        EF.vmap(lambda r: r + ember.rand(2))(x)
    same = EF.vmap(lambda r: r + ember.rand(2), randomness="same")(x).numpy()
    assert np.all(same == same[0])
    diff = EF.vmap(lambda r: r + ember.rand(2), randomness="different")(x).numpy()
    assert not np.all(diff == diff[0])


def _same_error(call_e, call_t, exact=True):
    with pytest.raises(Exception) as t_err:
        call_t()
    with pytest.raises(type(t_err.value)) as e_err:
        call_e()
    if exact:
        assert str(e_err.value) == str(t_err.value)
    else:   # messages that embed torch's pytree TreeSpec repr: compare up to it
        cut = str(t_err.value).index("structure")
        assert str(e_err.value)[:cut] == str(t_err.value)[:cut]


def f(x):
    return x * 2


ERRORS = [
    ("vmap_0dim", lambda F, mk: F.vmap(f)(mk(np.array(1.0))), True),
    ("vmap_sizes", lambda F, mk: F.vmap(lambda a, b: a + b)(mk(Y), mk(XB)), True),
    ("vmap_in_dims_structure", lambda F, mk: F.vmap(lambda a, b: a, in_dims=(0,))(mk(Y), mk(Y)),
     False),
    ("vmap_nothing_batched", lambda F, mk: F.vmap(lambda a: a, in_dims=(None,))(mk(Y)), True),
    ("vmap_non_tensor", lambda F, mk: F.vmap(lambda a, b: a, in_dims=(0, 0))(mk(Y), 3), True),
    ("vmap_dim_range", lambda F, mk: F.vmap(f, in_dims=2)(mk(Y)), True),
    ("vmap_returns_int", lambda F, mk: F.vmap(lambda a: 3)(mk(Y)), True),
    ("vmap_randomness_value", lambda F, mk: F.vmap(f, randomness="foo")(mk(Y)), True),
    ("vmap_out_dims_range", lambda F, mk: F.vmap(f, out_dims=2)(mk(Y)), True),
    ("vmap_in_dims_list", lambda F, mk: F.vmap(f, in_dims=[0])(mk(Y)), True),
    ("grad_not_scalar", lambda F, mk: F.grad(f)(mk(Y)), True),
    ("grad_int", lambda F, mk: F.grad(lambda a: 3)(mk(Y)), True),
    ("grad_argnum_range", lambda F, mk: F.grad(lambda a: a.sum(), argnums=1)(mk(Y)), True),
    ("grad_argnum_type", lambda F, mk: F.grad(lambda a: a.sum(), argnums=1.5)(mk(Y)), True),
    ("grad_argnums_empty", lambda F, mk: F.grad(lambda a: a.sum(), argnums=())(mk(Y)), True),
    ("grad_has_aux", lambda F, mk: F.grad(lambda a: a.sum(), has_aux=True)(mk(Y)), True),
    ("grad_non_tensor_arg", lambda F, mk: F.grad(lambda a: a)(3.0), True),
    ("jvp_primals_not_tuple", lambda F, mk: F.jvp(f, mk(Y), mk(Y)), True),
    ("jvp_structure", lambda F, mk: F.jvp(f, (mk(Y),), (mk(Y), mk(Y))), False),
    ("jvp_size", lambda F, mk: F.jvp(f, (mk(Y),), (mk(XB),)), True),
    ("vjp_returns_int", lambda F, mk: F.vjp(lambda a: 3, mk(Y)), True),
    ("vjp_fn_shape", lambda F, mk: F.vjp(f, mk(Y))[1](mk(XB)), True),
]


@pytest.mark.parametrize("name,call,exact", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_match_torch(name, call, exact):
    _same_error(lambda: call(EF, E), lambda: call(TF, T), exact)


class Affine:
    """A module-like object: named_parameters/named_buffers and attribute assignment."""

    def __init__(self, mod, w, b, scale):
        self.w, self.b, self.scale = mod.tensor(w), mod.tensor(b), mod.tensor(scale)

    def named_parameters(self, remove_duplicate=True):
        return [("w", self.w), ("b", self.b)]

    def named_buffers(self, remove_duplicate=True):
        return [("scale", self.scale)]

    def __call__(self, x):
        return (x @ self.w + self.b) * self.scale


def test_functional_call_on_module_like_object():
    w, b, s = rng.standard_normal((3, 2)), rng.standard_normal(2), np.array(2.0)
    m = Affine(ember, w, b, s)
    new_w = rng.standard_normal((3, 2))
    out = EF.functional_call(m, {"w": E(new_w)}, (E(Y),))
    np.testing.assert_allclose(out.numpy(), (Y @ new_w + b) * 2.0)
    np.testing.assert_array_equal(m.w.numpy(), w)          # restored
    out = EF.functional_call(m, ({"w": E(new_w)}, {"scale": E(np.array(3.0))}), E(Y))
    np.testing.assert_allclose(out.numpy(), (Y @ new_w + b) * 3.0)
    with pytest.raises(ValueError, match=r"\['w'\] appeared in multiple dictionaries; behavior of "
                       "functional call is ambiguous"):
        EF.functional_call(m, ({"w": E(new_w)}, {"w": E(new_w)}), (E(Y),))
    with pytest.raises(RuntimeError) as err:
        EF.functional_call(m, {"w": E(new_w), "foo": E(X)}, (E(Y),), strict=True)
    assert str(err.value) == ("Error(s) in reparametrizing for Affine:\n\tUnexpected key(s): "
                              "'foo'.\n\tMissing key(s): 'b', 'scale'.")
    with pytest.raises(TypeError):      # the call raises: the swap is still undone
        EF.functional_call(m, {"w": E(new_w)}, (E(Y),), {"bad": 1})
    np.testing.assert_array_equal(m.w.numpy(), w)


class TorchAffine(torch.nn.Module):
    def __init__(self, w, b):
        super().__init__()
        self.w = torch.nn.Parameter(torch.tensor(w))
        self.b = torch.nn.Parameter(torch.tensor(b))

    def forward(self, x):
        return x @ self.w + self.b


def test_per_sample_gradients_match_torch():
    """The torch.func recipe: vmap(grad(loss of functional_call)) over a batch."""
    w, b = rng.standard_normal((3, 2)), rng.standard_normal(2)
    em, tm = Affine(ember, w, b, np.array(1.0)), TorchAffine(w, b)

    def per_sample(F, model, mk):
        params = {"w": mk(w), "b": mk(b)}

        def loss(p, x):
            return F.functional_call(model, p, (x.unsqueeze(0),)).pow(2).sum()
        return F.vmap(F.grad(loss), in_dims=(None, 0))(params, mk(XB))
    assert_same(per_sample(EF, em, E), per_sample(TF, tm, T))


def test_functional_call_with_torch_style_parameter_dicts():
    class Holder:
        def __init__(self):
            self._parameters = {"w": E(np.ones((3, 2)))}
            self._buffers = {}

        def __getattr__(self, name):
            if name in self.__dict__.get("_parameters", {}):
                return self.__dict__["_parameters"][name]
            raise AttributeError(name)

        def __setattr__(self, name, value):
            if name in self.__dict__.get("_parameters", {}):
                raise TypeError("cannot assign a plain tensor as a parameter")
            object.__setattr__(self, name, value)

        def named_parameters(self, remove_duplicate=True):
            return list(self._parameters.items())

        def named_buffers(self, remove_duplicate=True):
            return []

        def __call__(self, x):
            return x @ self.w
    h = Holder()
    out = EF.functional_call(h, {"w": E(np.full((3, 2), 2.0))}, (E(Y),))
    np.testing.assert_allclose(out.numpy(), Y @ np.full((3, 2), 2.0))
    np.testing.assert_array_equal(h.w.numpy(), np.ones((3, 2)))
