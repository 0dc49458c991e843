"""bfloat16 and complex64/complex128 against torch 2.13: creation, arithmetic and its result
dtypes, complex math and views, reductions, matrix products, printing, conversions, the
ops torch refuses for complex inputs, and gradients of complex functions (torch's
convention: for a real loss L of z = x + iy, z.grad = dL/dx + i dL/dy)."""
import warnings

import numpy as np
import pytest
import torch

import ember

REAL = [[1.5, -2.25, 3.0], [0.5, 4.0, -1.0]]
CPLX = [[1 + 2j, -2.25 + 0.5j, 3j], [0.5, 4 - 1j, -1 - 1j]]
DTYPES = ["bfloat16", "complex64", "complex128"]
# bfloat16 keeps 8 significant bits: results within a rounding step or two of torch's.
TOL = {"bfloat16": 1e-2, "float16": 2e-3, "complex64": 1e-6, "complex128": 1e-12}


def data_for(name):
    return CPLX if name.startswith("complex") else REAL


def make(lib, name, data=None, **kw):
    return lib.tensor(data_for(name) if data is None else data, dtype=getattr(lib, name), **kw)


def to_np(t):
    t = t.detach()
    if isinstance(t, torch.Tensor):
        return (t.float() if t.dtype == torch.bfloat16 else t.resolve_conj()).numpy()
    a = np.asarray(t._data)
    return a.astype(np.float32) if t.dtype is ember.bfloat16 else a


def outcome(fn, lib):
    """('ok', dtype name, shape, values) or (error class name, message)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            r = fn(lib)
        except Exception as e:  # noqa: BLE001 - the class is part of what is compared
            return (type(e).__name__, str(e))
    if isinstance(r, tuple):
        r = r[0]
    return ("ok", str(r.dtype).replace("torch.", ""), tuple(r.shape), to_np(r))


def same(fn, tol=1e-6):
    t, e = outcome(fn, torch), outcome(fn, ember)
    assert e[0] == t[0], f"ember: {e[:2]}, torch: {t[:2]}"
    if t[0] != "ok":
        assert e[1] == t[1]
        return
    assert e[1:3] == t[1:3], f"dtype/shape: ember {e[1:3]}, torch {t[1:3]}"
    np.testing.assert_allclose(e[3], t[3], rtol=tol, atol=tol, equal_nan=True)


# ---- creation ---------------------------------------------------------------------------
CREATORS = {
    "tensor": lambda L, d: L.tensor(data_for(d), dtype=getattr(L, d)),
    "zeros": lambda L, d: L.zeros(2, 3, dtype=getattr(L, d)),
    "ones": lambda L, d: L.ones(4, dtype=getattr(L, d)),
    "full": lambda L, d: L.full((2,), 2.5, dtype=getattr(L, d)),
    "eye": lambda L, d: L.eye(3, dtype=getattr(L, d)),
    "linspace": lambda L, d: L.linspace(0, 1, 5, dtype=getattr(L, d)),
    "zeros_like": lambda L, d: L.zeros_like(L.tensor(data_for(d), dtype=getattr(L, d))),
    "complex_literal": lambda L, d: L.tensor([1 + 1j, 2.5]),
}


@pytest.mark.parametrize("name", DTYPES)
@pytest.mark.parametrize("creator", list(CREATORS))
def test_creation(creator, name):
    same(lambda L: CREATORS[creator](L, name), TOL[name])


@pytest.mark.parametrize("name", DTYPES)
@pytest.mark.parametrize("factory", ["randn", "rand", "empty"])
def test_random_factories_take_the_dtype(factory, name):
    if factory == "rand" and name.startswith("complex"):
        e = getattr(ember, factory)(1000, dtype=getattr(ember, name))
        t = getattr(torch, factory)(1000, dtype=getattr(torch, name))
    else:
        e = getattr(ember, factory)(2, 1000, dtype=getattr(ember, name))
        t = getattr(torch, factory)(2, 1000, dtype=getattr(torch, name))
    assert e.dtype.name == str(t.dtype).replace("torch.", "")
    assert tuple(e.shape) == tuple(t.shape)
    if factory == "randn":  # standard normal: for complex, each part has variance 1/2
        v = to_np(e)
        assert abs(v.mean()) < 0.15 and abs(np.mean(np.abs(v) ** 2) - 1) < 0.15


def test_bfloat16_arange():
    same(lambda L: L.arange(0, 5, dtype=L.bfloat16), 0)
    same(lambda L: L.arange(0.0, 2.0, 0.25, dtype=L.bfloat16), 0)


# ---- arithmetic and result dtypes --------------------------------------------------------
OTHERS = {
    "f32": lambda L: L.tensor([1.5, 2.0, -0.5]),
    "f64": lambda L: L.tensor([1.5, 2.0, -0.5], dtype=L.float64),
    "f16": lambda L: L.tensor([1.5, 2.0, -0.5], dtype=L.float16),
    "bf16": lambda L: L.tensor([1.5, 2.0, -0.5], dtype=L.bfloat16),
    "i64": lambda L: L.tensor([1, 2, 3]),
    "bool": lambda L: L.tensor([True, False, True]),
    "c64": lambda L: L.tensor([1 + 1j, 2, -1j]),
    "0d f32": lambda L: L.tensor(2.5),
    "0d c128": lambda L: L.tensor(2.5 + 1j, dtype=L.complex128),
    "float": lambda L: 2.5,
    "float 1.01": lambda L: 1.01,
    "int": lambda L: 3,
    "complex": lambda L: 1.5 - 2j,
    "bool scalar": lambda L: True,
}
OPS = ["+", "-", "*", "/", "**", "==", "!=", "<", ">=", "//", "%"]


@pytest.mark.parametrize("name", DTYPES)
@pytest.mark.parametrize("other", list(OTHERS))
def test_binary_operators(name, other):
    for op in OPS:
        for expr in (f"a {op} b", f"b {op} a"):
            def fn(L, expr=expr):
                return eval(expr, {"a": make(L, name), "b": OTHERS[other](L)})
            try:
                same(fn, TOL[name] if name == "bfloat16" else 1e-5)
            except AssertionError as err:
                raise AssertionError(f"{expr} with b = {other}: {err}") from None


@pytest.mark.parametrize("name", DTYPES)
def test_inplace_arithmetic(name):
    def fn(L):
        a = make(L, name)
        a += 1.5
        a *= 2
        a -= make(L, name)
        a /= 3
        return a
    same(fn, TOL[name])


def test_bfloat16_keeps_its_dtype_with_python_scalars():
    exprs = [lambda x: x * 2.5, lambda x: 2.5 * x, lambda x: x + 1, lambda x: x - True * 0 + 0.1,
             lambda x: x / 3, lambda x: x ** 2.0, lambda x: 1 / x, lambda x: x < 2.5]
    for expr in exprs:
        same(lambda L: expr(L.tensor([1.5, -2.25], dtype=L.bfloat16)), 0)


def test_float_floor_divide_by_zero_is_inf():
    same(lambda L: L.tensor([7.5, -7.5, 0.0]) // 0)
    same(lambda L: L.tensor([7, -7]) // 0.0)
    same(lambda L: L.tensor([7.5, -7.5]) % 0)
    same(lambda L: L.div(L.tensor([7.5, -7.5]), 0, rounding_mode="trunc"))
    same(lambda L: L.tensor([7, -7]) // 0)  # integers: torch's ZeroDivisionError


@pytest.mark.parametrize("a,b", [(1.0, 0.0), (1, 0), (1, 0.0), (True, False), (1j, 0),
                                 (True, 2)])
def test_where_with_two_scalars(a, b):
    same(lambda L: L.where(L.tensor([True, False, True]), a, b), 0)


@pytest.mark.parametrize("name", DTYPES)
def test_where_and_mixed_ops(name):
    same(lambda L: L.where(L.tensor([True, False, True]), make(L, name), 0.5), TOL[name])
    same(lambda L: L.addcmul(make(L, name), make(L, name), make(L, name), value=0.5), TOL[name])
    same(lambda L: L.lerp(make(L, name), make(L, name) * 2, 0.25), TOL[name])
    same(lambda L: L.cat([make(L, name), L.ones(1, 3)]), TOL[name])
    same(lambda L: L.isclose(make(L, name), make(L, name) + 1e-7), 0)


# ---- complex math --------------------------------------------------------------------------
UNARY = ["exp", "log", "sqrt", "sin", "cos", "tan", "tanh", "sinh", "cosh", "abs", "neg",
         "sigmoid", "reciprocal", "rsqrt", "square", "sgn", "angle", "exp2", "expm1", "log1p",
         "log2", "log10", "asin", "acos", "atan", "asinh", "acosh", "atanh", "isnan", "isinf",
         "isfinite", "nan_to_num"]


@pytest.mark.parametrize("name", DTYPES)
def test_unary_math(name):
    for fn in UNARY:
        try:
            same(lambda L: getattr(L, fn)(make(L, name)), 3e-2 if name == "bfloat16" else 1e-5)
        except AssertionError as err:
            raise AssertionError(f"{fn}: {err}") from None


def test_angle_of_real_and_integer_tensors():
    same(lambda L: L.angle(L.tensor([1.5, -2.0, 0.0, -0.0, float("nan")])))
    same(lambda L: L.angle(L.tensor([1, -2, 0])))
    same(lambda L: L.angle(L.tensor([1.5, -2.0], dtype=L.bfloat16)), 1e-2)


def test_real_and_imag_are_views():
    z = ember.tensor(CPLX)
    re, im = z.real, z.imag
    assert re.dtype is ember.float32 and im.dtype is ember.float32
    assert re._base is z and im._base is z
    re[0, 0] = 10.0
    im[1, 2] = -7.0
    assert z[0, 0].item() == 10 + 2j and z[1, 2].item() == -1 - 7j
    z.real = ember.zeros(2, 3)
    z.imag = 1.0
    np.testing.assert_array_equal(to_np(z), np.full((2, 3), 1j))
    r = ember.tensor([1.0, 2.0])
    assert r.real is r
    same(lambda L: L.tensor([1.0, 2.0]).imag)
    same(lambda L: L.tensor(CPLX, dtype=L.complex128).real.contiguous())
    same(lambda L: L.tensor(CPLX).T.imag)


def test_view_as_real_and_complex():
    same(lambda L: L.view_as_real(L.tensor(CPLX)))
    same(lambda L: L.view_as_real(L.tensor(CPLX).T))
    same(lambda L: L.view_as_complex(L.ones(3, 2)))
    same(lambda L: L.view_as_complex(L.arange(8.0, dtype=L.float64).reshape(2, 2, 2)))
    z = ember.tensor(CPLX)
    v = ember.view_as_real(z)
    v[0, 0, 1] = 5.0
    assert z[0, 0].item() == 1 + 5j and v._base is z
    r = ember.zeros(2, 2)
    assert ember.view_as_complex(r)._base is r   # as torch's: a view of r's memory
    for bad in (lambda L: L.view_as_complex(L.ones(2, 3)),
                lambda L: L.view_as_complex(L.ones(2, 2, dtype=L.float64).t()),
                lambda L: L.view_as_complex(L.ones(2, 2, dtype=L.int64)),
                lambda L: L.view_as_real(L.ones(2))):
        same(bad)


def test_polar_and_complex():
    same(lambda L: L.polar(L.tensor([1.0, 2.0]), L.tensor([0.5, 1.0])))
    same(lambda L: L.complex(L.tensor([1.0, 2.0], dtype=L.float64),
                             L.tensor([0.5, 1.0], dtype=L.float64)))
    same(lambda L: L.complex(L.tensor([1.0, 2.0]), L.tensor([0.5, 1.0], dtype=L.float64)))
    same(lambda L: L.complex(L.tensor([1, 2]), L.tensor([1, 2])))


# ---- ops torch refuses for complex inputs ---------------------------------------------------
REFUSED = {
    "lt": lambda z, L: z < z, "le": lambda z, L: z <= 1, "gt": lambda z, L: z > 1,
    "ge": lambda z, L: z >= z, "rev_lt": lambda z, L: 1 > z,
    "real_vs_complex_scalar": lambda z, L: L.tensor([1.0]) < 1j,
    "lt_": lambda z, L: z.lt_(1),
    "maximum": lambda z, L: L.maximum(z, z), "minimum": lambda z, L: L.minimum(z, z),
    "fmax": lambda z, L: L.fmax(z, z), "fmin": lambda z, L: L.fmin(z, z),
    "clamp": lambda z, L: z.clamp(0, 1), "clamp_min": lambda z, L: z.clamp(min=0),
    "clamp_": lambda z, L: z.clamp_(max=1), "relu": lambda z, L: z.relu(),
    "sign": lambda z, L: z.sign(), "floor": lambda z, L: z.floor(), "ceil": lambda z, L: z.ceil(),
    "trunc": lambda z, L: z.trunc(), "round": lambda z, L: z.round(),
    "round_decimals": lambda z, L: z.round(decimals=1), "frac": lambda z, L: z.frac(),
    "remainder": lambda z, L: z % 2, "rremainder": lambda z, L: 2 % z,
    "floor_divide": lambda z, L: z // 2, "fmod": lambda z, L: z.fmod(2),
    "div_floor": lambda z, L: L.div(z, 2, rounding_mode="floor"),
    "div_trunc": lambda z, L: L.div(z, 2, rounding_mode="trunc"),
    "atan2": lambda z, L: L.atan2(z, z), "hypot": lambda z, L: L.hypot(z, z),
    "copysign": lambda z, L: L.copysign(z, z), "logaddexp2": lambda z, L: L.logaddexp2(z, z),
    "xlogy": lambda z, L: L.xlogy(z, z), "erf": lambda z, L: z.erf(), "erfc": lambda z, L: z.erfc(),
    "erfinv": lambda z, L: z.erfinv(), "lgamma": lambda z, L: z.lgamma(),
    "digamma": lambda z, L: z.digamma(), "polygamma": lambda z, L: z.polygamma(1),
    "logit": lambda z, L: z.logit(), "isposinf": lambda z, L: z.isposinf(),
    "isneginf": lambda z, L: z.isneginf(), "signbit": lambda z, L: z.signbit(),
    "deg2rad": lambda z, L: z.deg2rad(), "rad2deg": lambda z, L: z.rad2deg(),
    "max": lambda z, L: z.max(), "min": lambda z, L: z.min(), "max_dim": lambda z, L: z.max(0),
    "min_dim": lambda z, L: z.min(1), "max_binary": lambda z, L: L.max(z, z),
    "amax": lambda z, L: z.amax(), "amin": lambda z, L: z.amin(0),
    "argmax": lambda z, L: z.argmax(), "argmin": lambda z, L: z.argmin(0),
    "aminmax": lambda z, L: z.aminmax(), "nansum": lambda z, L: z.nansum(),
    "nanmean": lambda z, L: z.nanmean(),
}


@pytest.mark.parametrize("name", ["complex64", "complex128"])
@pytest.mark.parametrize("op", list(REFUSED))
def test_ops_torch_refuses_for_complex(op, name):
    same(lambda L: REFUSED[op](make(L, name), L))


def test_complex_logaddexp():
    same(lambda L: L.logaddexp(L.tensor(CPLX), L.tensor(CPLX).T.conj().T * 2), 1e-5)
    same(lambda L: L.logaddexp(L.tensor([1000 + 1j]), L.tensor([999 - 2j])), 1e-5)


@pytest.mark.parametrize("expr", ["f - True", "True - f", "b - f", "f - b", "b - b", "b - True",
                                  "b - 1", "f.sub_(True)", "torch.rsub(f, True)"])
def test_subtracting_bools_is_refused(expr):
    same(lambda L: eval(expr, {"f": L.tensor([1.5, 2.0]), "b": L.tensor([True, False]),
                               "torch": L}))


# ---- reductions -------------------------------------------------------------------------------
REDUCTIONS = [("sum", {}), ("mean", {}), ("prod", {}), ("norm", {}), ("sum", {"dim": 0}),
              ("mean", {"dim": 1, "keepdim": True}), ("prod", {"dim": 1}), ("norm", {"dim": 1}),
              ("norm", {"p": 1}), ("norm", {"p": float("inf")}), ("var", {}),
              ("std", {"dim": 0}), ("logsumexp", {"dim": 1}), ("all", {}), ("any", {"dim": 0}),
              ("count_nonzero", {}), ("sum", {"dtype": "complex128"}),
              ("mean", {"dtype": "float64"})]


@pytest.mark.parametrize("name", DTYPES)
def test_reductions(name):
    for fn, kw in REDUCTIONS:
        def call(L, fn=fn, kw=kw):
            kw = {k: getattr(L, v) if k == "dtype" else v for k, v in kw.items()}
            return getattr(L, fn)(make(L, name), **kw)
        try:
            same(call, 3e-2 if name == "bfloat16" else 1e-5)
        except AssertionError as err:
            raise AssertionError(f"{fn} {kw}: {err}") from None
    same(lambda L: L.linalg.vector_norm(make(L, name)), TOL[name] + 1e-6)


# ---- matrix products ---------------------------------------------------------------------------
PRODUCTS = {
    "matmul": lambda L, a: a @ a.mT, "mm": lambda L, a: L.mm(a, a.mT),
    "mv": lambda L, a: L.mv(a, a[0]), "dot": lambda L, a: L.dot(a[0], a[1]),
    "vdot": lambda L, a: L.vdot(a[0], a[1]), "bmm": lambda L, a: L.bmm(a[None], a.mT[None]),
    "batched": lambda L, a: a.expand(4, 2, 3) @ a.mT, "outer": lambda L, a: L.outer(a[0], a[1]),
    "H": lambda L, a: a.H @ a, "mixed": lambda L, a: a @ L.ones(3, 2),
}


@pytest.mark.parametrize("name", DTYPES + ["float16"])
@pytest.mark.parametrize("product", list(PRODUCTS))
def test_matrix_products(product, name):
    same(lambda L: PRODUCTS[product](L, make(L, name)), TOL[name] * 2)


def test_bfloat16_matmul_rounds_once_like_torch():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 16, 32)).astype(np.float32)
    same(lambda L: L.tensor(a, dtype=L.bfloat16) @ L.tensor(b.T, dtype=L.bfloat16), 2e-2)


# ---- printing and conversions ------------------------------------------------------------------
REPRS = [("bfloat16", REAL), ("bfloat16", [1e-5, 3.0, 1000.0]), ("bfloat16", 3.5),
         ("bfloat16", [float("nan"), float("inf"), -1.5]), ("complex64", CPLX),
         ("complex64", [1e-5 + 1j, 1000 - 2j]), ("complex128", [1 + 1j, 2 - 2j]),
         ("complex64", 2 - 1j), ("complex64", [float("nan") + 1j, float("inf") - 1j]),
         ("complex64", [1e10 + 1j, 1]), ("complex64", []), ("complex64", [0j, 0j]),
         ("complex128", [[0.1 + 0.2j] * 3] * 2)]


@pytest.mark.parametrize("name,data", REPRS)
def test_repr_matches_torch(name, data):
    assert repr(make(ember, name, data)) == repr(make(torch, name, data))


def test_repr_of_long_and_grad_tensors():
    e = ember.arange(200.0).to(ember.complex64) * (1 + 1j)
    t = torch.arange(200.0).to(torch.complex64) * (1 + 1j)
    assert repr(e) == repr(t)
    assert repr(ember.arange(2000.0).bfloat16()) == repr(torch.arange(2000.0).bfloat16())
    ez, tz = make(ember, "complex64", requires_grad=True), make(torch, "complex64",
                                                                requires_grad=True)
    assert repr(ez * 2) == repr(tz * 2)
    assert repr(ez.real) == repr(tz.real)


CASTS = ["float32", "float64", "float16", "bfloat16", "complex64", "complex128", "int64",
         "int32", "uint8", "bool"]


@pytest.mark.parametrize("name", DTYPES)
def test_to_between_dtypes(name):
    src = [[1.5, 0.0, 2.0], [3.0, 1.0, 0.0]] if name == "bfloat16" else \
        [[1.5 + 2j, 0, 3j], [3.0, 1 - 1j, 0]]
    for target in CASTS:
        same(lambda L: make(L, name, src).to(getattr(L, target)), TOL["bfloat16"])
        same(lambda L: L.tensor([[1, 0, 2], [3, 1, 0]]).to(getattr(L, target))
             .to(getattr(L, name)), 0)


@pytest.mark.parametrize("name", DTYPES)
def test_items_and_lists(name):
    e, t = make(ember, name), make(torch, name)
    assert e.tolist() == t.tolist()
    assert e[0, 1].item() == t[0, 1].item()
    assert type(e[0, 1].item()) is type(t[0, 1].item())


# ---- gradients of complex functions (and of bfloat16) ------------------------------------------
Y = [[0.5 - 1j, 2 + 0.5j, -0.3 - 0.2j], [1, -0.5j, 0.25 + 1j]]
Y_REAL = [[0.5, 2, -0.3], [1, -0.5, 0.25]]
LOSSES = {
    "x_conj_x": lambda L, x, y: (x * x.conj()).real.sum(),
    "abs_of_product": lambda L, x, y: (x * y).abs().sum(),
    "exp_real": lambda L, x, y: x.exp().real.sum(),
    "matmul": lambda L, x, y: (x @ y.mT).abs().sum(),
    "matmul_imag": lambda L, x, y: (x @ y.mT).imag.sum(),
    "matvec": lambda L, x, y: (x @ y[0]).abs().sum(),
    "dot_vdot": lambda L, x, y: L.dot(x[0], y[1]).real + L.vdot(x[0], y[1]).imag,
    "div": lambda L, x, y: (x / y).abs().pow(2).sum(),
    "log_sqrt": lambda L, x, y: (x.log() + x.sqrt()).real.sum(),
    "sin_cos": lambda L, x, y: (x.sin() * x.cos()).imag.sum(),
    "tanh_sigmoid": lambda L, x, y: (x.tanh() + x.sigmoid()).abs().sum(),
    "pow_scalar": lambda L, x, y: (x ** 2.5).abs().sum(),
    "pow_tensor": lambda L, x, y: (x ** y).real.sum(),
    "rpow": lambda L, x, y: (2 ** x).imag.sum(),
    "sum_mean": lambda L, x, y: (x.sum(0) * x.mean(1).sum()).abs().sum(),
    "prod": lambda L, x, y: x.prod(1).abs().sum(),
    "norms": lambda L, x, y: x.norm() + x.norm(p=1) + L.linalg.vector_norm(x, ord=3),
    "angle": lambda L, x, y: x.angle().sum(),
    "view_as_real": lambda L, x, y: (L.view_as_real(x) ** 3).sum(),
    "reciprocal_rsqrt": lambda L, x, y: (x.reciprocal() + x.rsqrt()).real.sum(),
    "sgn": lambda L, x, y: x.sgn().imag.sum(),
    "real_times_complex": lambda L, x, y: (x * y.real).abs().sum(),
    "var_std": lambda L, x, y: x.var() + x.std(0).sum(),
    "logsumexp": lambda L, x, y: x.logsumexp(1).real.sum(),
    "logaddexp": lambda L, x, y: L.logaddexp(x, y).real.sum(),
    "where": lambda L, x, y: L.where(L.tensor([True, False, True]), x, y).abs().sum(),
    "scalars": lambda L, x, y: ((x + (1 + 1j)) * (2 - 1j) - 0.5).abs().sum(),
    "polar_complex": lambda L, x, y: L.polar(x.abs(), y.angle()).real.sum()
    + L.complex(x.real, y.imag).abs().sum(),
    "view_as_complex": lambda L, x, y: L.view_as_complex(L.view_as_real(x) * 2).imag.sum(),
}


@pytest.mark.parametrize("name", ["complex64", "complex128"])
@pytest.mark.parametrize("loss", list(LOSSES))
def test_complex_gradients_match_torch(loss, name):
    grads = []
    for L in (torch, ember):
        x = make(L, name, requires_grad=True)
        y = make(L, name, Y, requires_grad=True)
        LOSSES[loss](L, x, y).backward()
        grads.append([t.grad for t in (x, y)])
    tol = 1e-4 if name == "complex64" else 1e-10
    for (tg, eg) in zip(*grads):
        if tg is None:
            assert eg is None or not to_np(eg).any()
            continue
        assert eg.dtype.name == str(tg.dtype).replace("torch.", "")
        np.testing.assert_allclose(to_np(eg), to_np(tg), rtol=tol, atol=tol)


BF16_LOSSES = ["exp_real", "matmul", "div", "tanh_sigmoid", "sum_mean", "prod", "norms",
               "var_std", "logsumexp", "where", "scalars"]


@pytest.mark.parametrize("loss", BF16_LOSSES)
def test_bfloat16_gradients_match_torch(loss):
    grads = []
    for L in (torch, ember):
        x = make(L, "bfloat16", requires_grad=True)
        y = make(L, "bfloat16", Y_REAL, requires_grad=True)
        LOSSES[loss](L, x, y).backward()
        grads.append([t.grad for t in (x, y)])
    for (tg, eg) in zip(*grads):
        if tg is None:
            assert eg is None or not to_np(eg).any()
            continue
        assert eg.dtype is ember.bfloat16
        np.testing.assert_allclose(to_np(eg), to_np(tg), rtol=3e-2, atol=3e-2)


def test_complex_grad_node_names():
    ez, tz = make(ember, "complex64", requires_grad=True), make(torch, "complex64",
                                                                requires_grad=True)
    for f in (lambda z: z.real, lambda z: z.imag, lambda z: z.angle(), lambda z: z.conj() * 1,
              lambda z: ember.view_as_real(z) if isinstance(z, ember.Tensor)
              else torch.view_as_real(z)):
        assert type(f(ez).grad_fn).__name__ == type(f(tz).grad_fn).__name__


@pytest.mark.parametrize("name", ["bfloat16", "float16"])
def test_half_reductions_accumulate_in_float32(name):
    # A half-precision accumulator would stop at 256 (bfloat16) or 2048 (float16).
    for fn in (lambda x: x.sum(), lambda x: x.mean() * 1000, lambda x: x.norm() ** 2,
               lambda x: x.reshape(100, 100).sum(1), lambda x: x.nansum(),
               lambda x: (x * 0.01).reshape(100, 100).var(1), lambda x: x.sum(dtype=None)):
        same(lambda L: fn(L.ones(10000, dtype=getattr(L, name))), 0)
    same(lambda L: (L.ones(100, 100, dtype=getattr(L, name)) * 0.01).logsumexp(1), 0)
    # prod is the exception: torch rounds every partial product to the half dtype.
    same(lambda L: (L.ones(30, dtype=getattr(L, name)) * 1.01).prod(),
         0 if name == "bfloat16" else TOL[name])


def test_conj_forms():
    same(lambda L: L.conj_physical(L.tensor(CPLX)))
    same(lambda L: L.tensor(CPLX).conj_physical_())
    same(lambda L: L.resolve_conj(L.tensor(CPLX).conj()))
    same(lambda L: L.conj_physical(L.tensor(REAL)))
    r = ember.tensor(REAL)
    assert ember.resolve_conj(r) is r and ember.resolve_neg(r) is r and not r.is_neg()
    # torch's conj is a lazy view with the conjugate bit; NumPy has no such bit, so Ember's
    # conj is a new tensor and is_conj() stays False.
    assert not ember.tensor(CPLX).conj().is_conj()


SECOND_ORDER = {
    "mul": lambda L, x: (x * x * x.conj()).abs().sum(),
    "exp": lambda L, x: x.exp().abs().sum(),
    "matmul": lambda L, x: (x @ x.mT).abs().sum(),
    "div_pow": lambda L, x: ((1 / x) ** 2).real.sum(),
    "angle_real_imag": lambda L, x: (x.angle() * x.real + x.imag ** 2).sum(),
    "prod": lambda L, x: x.prod(1).abs().sum(),
    "sgn": lambda L, x: (x.sgn() * x).abs().sum(),
}


@pytest.mark.parametrize("loss", list(SECOND_ORDER))
def test_complex_second_derivatives_match_torch(loss):
    out = []
    for L in (torch, ember):
        x = L.tensor(CPLX, dtype=L.complex128, requires_grad=True)
        g, = L.autograd.grad(SECOND_ORDER[loss](L, x), x, create_graph=True)
        w = L.tensor([[0.3 - 1j, 1, 2j], [1 + 1j, -1, 0.5]], dtype=L.complex128)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no "discards the imaginary part" on the way
            g2, = L.autograd.grad((g * w).abs().sum(), x)
        out.append(to_np(g2))
    np.testing.assert_allclose(out[1], out[0], rtol=1e-8, atol=1e-10)


BF16_EXACT = {
    "mul": lambda L, x, y: x * 1.01, "rmul": lambda L, x, y: 0.1 * x, "div": lambda L, x, y: x / 3.3,
    "rdiv": lambda L, x, y: 2.3 / x, "add": lambda L, x, y: x + 1.01, "sub": lambda L, x, y: x - 0.1,
    "mul_": lambda L, x, y: x.clone().mul_(0.9), "div_": lambda L, x, y: x.clone().div_(3),
    "mul_int": lambda L, x, y: x * 257, "add_alpha": lambda L, x, y: L.add(x, y, alpha=0.3),
    "sub_alpha_": lambda L, x, y: x.clone().sub_(y, alpha=0.1), "sigmoid": lambda L, x, y: x.sigmoid(),
    "rsqrt": lambda L, x, y: x.abs().rsqrt(), "logit": lambda L, x, y: L.logit(x.sigmoid(), eps=0.3),
    "lerp": lambda L, x, y: L.lerp(x, y, 0.3), "lerp_high": lambda L, x, y: L.lerp(x, y, 0.8),
    "lerp_tensor": lambda L, x, y: L.lerp(x, y, x.sigmoid()), "tensor_ops": lambda L, x, y: x * y + x / y - y,
}


@pytest.mark.parametrize("name", ["bfloat16", "float16"])
@pytest.mark.parametrize("op", list(BF16_EXACT))
def test_half_rounding_matches_torch_exactly(op, name):
    # torch computes half precision in float32 and rounds once; mul/div keep a Python
    # scalar unrounded, add/sub (and alpha) round it to the half dtype first.
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 4000)).astype(np.float32)
    same(lambda L: BF16_EXACT[op](L, L.tensor(a).to(getattr(L, name)),
                                  L.tensor(b).to(getattr(L, name))), 0)


def test_float32_reflected_division_matches_torch_exactly():
    a = np.random.default_rng(1).uniform(0.5, 2.0, 4000).astype(np.float32)
    same(lambda L: 2.3 / L.tensor(a), 0)
    x = ember.tensor(a[:3], requires_grad=True)
    assert type((2 / x).grad_fn).__name__ == "MulBackward0"  # reciprocal(x) * 2, as torch


OPS_ON_CPU_SCALARS = {
    "mul": lambda A, s: A * s,
    "rmul": lambda A, s: s * A,
    "div": lambda A, s: A / s,
    "rdiv": lambda A, s: s / A,
    "mul_": lambda A, s: A.clone().mul_(s),
    "div_": lambda A, s: A.clone().div_(s),
    "add": lambda A, s: A + s,
    "sub": lambda A, s: A - s,
    "zero_dim_both": lambda A, s: A[0] * s,
}


@pytest.mark.parametrize("scalar_dtype", ["float32", "float64"])
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("name", sorted(OPS_ON_CPU_SCALARS))
def test_half_tensor_with_a_zero_dim_float_tensor(name, dtype, scalar_dtype):
    """torch's mul/div read a 0-dim second operand at its own precision (0.37f, not 0.37
    rounded to bfloat16); the other ops and orders round it to the tensor's dtype."""
    a = np.random.default_rng(0).standard_normal(300).astype(np.float32) * 3
    f = OPS_ON_CPU_SCALARS[name]
    results = []
    for lib in (ember, torch):
        A = lib.from_numpy(a).to(getattr(lib, dtype))
        r = f(A, lib.tensor(0.37, dtype=getattr(lib, scalar_dtype)))
        results.append((str(r.dtype), r.float().numpy().tolist()))
    assert results[0] == results[1]
