"""dtypes and type promotion, checked exhaustively against torch 2.13."""
import itertools

import numpy as np
import pytest
import torch

import ember

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
         "float64", "complex64", "complex128"]
PAIRS = list(itertools.product(NAMES, NAMES))


def E(name):
    return getattr(ember, name)


def T(name):
    return getattr(torch, name)


def tname(torch_dtype):
    # NumPy has no complex32 (torch.chalf), so Ember has none: where torch gives
    # complex32 (float16 meeting a complex scalar), Ember gives complex64.
    name = str(torch_dtype).replace("torch.", "")
    return "complex64" if name == "complex32" else name


@pytest.fixture
def default_float64():
    ember.set_default_dtype(ember.float64)
    torch.set_default_dtype(torch.float64)
    yield
    ember.set_default_dtype(ember.float32)
    torch.set_default_dtype(torch.float32)


# ---- the dtype objects ------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_dtype_attributes(name):
    e, t = E(name), T(name)
    assert repr(e) == repr(t) and str(e) == str(t)
    assert e.is_floating_point == t.is_floating_point
    assert e.is_complex == t.is_complex
    assert e.is_signed == t.is_signed
    assert e.itemsize == t.itemsize


@pytest.mark.parametrize("alias", ["half", "float", "double", "cfloat", "cdouble", "short",
                                   "int", "long"])
def test_dtype_aliases(alias):
    assert tname(getattr(torch, alias)) == getattr(ember, alias).name
    assert getattr(ember, alias) is E(tname(getattr(torch, alias)))


def test_dtype_identity_hash_and_pickle():
    import copy
    import pickle
    assert ember.float32 == ember.float and ember.float32 != ember.float64
    assert len({ember.float32, ember.float, ember.int64}) == 2
    assert pickle.loads(pickle.dumps(ember.bfloat16)) is ember.bfloat16
    assert copy.deepcopy(ember.int16) is ember.int16
    assert isinstance(ember.float32, ember.dtype)


def test_dtype_to_real_and_complex():
    assert ember.complex64.to_real() is ember.float32
    assert ember.complex128.to_real() is ember.float64
    assert ember.float64.to_complex() is ember.complex128
    assert ember.float32.to_complex() is ember.complex64


# ---- promote_types / result_type / can_cast over every pair -----------------------------
@pytest.mark.parametrize("a,b", PAIRS)
def test_promote_types(a, b):
    assert ember.promote_types(E(a), E(b)).name == tname(torch.promote_types(T(a), T(b)))


@pytest.mark.parametrize("a,b", PAIRS)
def test_can_cast(a, b):
    assert ember.can_cast(E(a), E(b)) == torch.can_cast(T(a), T(b))


def _values(name, zero_dim):
    shape = () if zero_dim else (2,)
    return (torch.ones(shape, dtype=T(name)), ember.ones(shape, dtype=E(name)))


SCALARS = [True, 3, 2.5, 1 + 2j]


@pytest.mark.parametrize("a,b", PAIRS)
def test_result_type_tensor_pairs(a, b):
    for za, zb in [(False, False), (False, True), (True, False), (True, True)]:
        ta, ea = _values(a, za)
        tb, eb = _values(b, zb)
        assert ember.result_type(ea, eb).name == tname(torch.result_type(ta, tb)), (za, zb)


@pytest.mark.parametrize("a", NAMES)
@pytest.mark.parametrize("scalar", SCALARS, ids=["bool", "int", "float", "complex"])
def test_result_type_tensor_scalar(a, scalar):
    for zero_dim in (False, True):
        ta, ea = _values(a, zero_dim)
        assert ember.result_type(ea, scalar).name == tname(torch.result_type(ta, scalar))
        assert ember.result_type(scalar, ea).name == tname(torch.result_type(scalar, ta))


def test_result_type_default_float64(default_float64):
    for a in NAMES:
        for s in SCALARS:
            ta, ea = _values(a, False)
            assert ember.result_type(ea, s).name == tname(torch.result_type(ta, s))


# ---- result dtypes of binary ops --------------------------------------------------------
def _op_dtype(fn_t, fn_e, ta, ea, tb, eb):
    """The result dtype names of an op in torch and Ember ("error" where it raises)."""
    try:
        rt = str(fn_t(ta, tb).dtype).replace("torch.", "")
    except RuntimeError:  # torch's NotImplementedError for complex `<` is a RuntimeError
        rt = "error"
    if rt == "error" and torch.result_type(ta, tb) == torch.complex32:
        # torch has no kernels for complex32; Ember computes it in complex64.  Ordering
        # comparisons refuse complex operands anyway, so they stay errors.
        is_cmp = fn_t(torch.ones(1), torch.ones(1)).dtype == torch.bool
        if not is_cmp:
            rt = "complex64"
        else:
            try:
                fn_t(torch.ones(1, dtype=torch.complex64), torch.ones(1, dtype=torch.complex64))
                rt = "bool"
            except RuntimeError:
                pass
    try:
        re = fn_e(ea, eb).dtype.name
    except RuntimeError:
        re = "error"
    return tname(rt) if rt != "error" else rt, re


BINOPS = {
    "add": lambda x, y: x + y,
    "mul": lambda x, y: x * y,
    "div": lambda x, y: x / y,
    "lt": lambda x, y: x < y,
    "eq": lambda x, y: x == y,
}


@pytest.mark.parametrize("opname", list(BINOPS))
def test_binary_op_dtypes_tensor_tensor(opname):
    fn = BINOPS[opname]
    mismatches = []
    for a, b in PAIRS:
        for za, zb in [(False, False), (False, True), (True, False)]:
            ta, ea = _values(a, za)
            tb, eb = _values(b, zb)
            rt, re = _op_dtype(fn, fn, ta, ea, tb, eb)
            if rt != re:
                mismatches.append((a, b, za, zb, rt, re))
    assert not mismatches


@pytest.mark.parametrize("opname", list(BINOPS))
def test_binary_op_dtypes_tensor_scalar(opname):
    fn = BINOPS[opname]
    mismatches = []
    for a in NAMES:
        for s in SCALARS:
            for zero_dim in (False, True):
                ta, ea = _values(a, zero_dim)
                for left in (True, False):
                    if left:
                        rt, re = _op_dtype(fn, fn, ta, ea, s, s)
                    else:
                        rt, re = _op_dtype(fn, fn, s, s, ta, ea)
                    if rt != re:
                        mismatches.append((a, s, zero_dim, left, rt, re))
    assert not mismatches


def test_binary_op_dtypes_default_float64(default_float64):
    for a in NAMES:
        ta, ea = _values(a, False)
        for s in (2.5, 1j):
            assert (ea * s).dtype.name == tname((ta * s).dtype)
            assert (ea / 2).dtype.name == tname((ta / 2).dtype)


# ---- default dtype ---------------------------------------------------------------------
def test_default_dtype_changes_factories(default_float64):
    assert ember.get_default_dtype() is ember.float64
    assert ember.zeros(2).dtype is ember.float64
    assert ember.tensor([1.5]).dtype is ember.float64
    assert ember.tensor([1j]).dtype is ember.complex128
    assert ember.arange(0.0, 1.0, 0.5).dtype is ember.float64
    assert ember.rand(2).dtype is ember.float64
    assert ember.tensor([1, 2]).dtype is ember.int64
    assert (ember.tensor([1, 2]) / 2).dtype is ember.float64
    assert (ember.ones(2, dtype=ember.float32) * 2.5).dtype is ember.float32


def test_default_dtype_float32():
    assert ember.get_default_dtype() is ember.float32
    assert ember.tensor([1j]).dtype is ember.complex64


def test_set_default_dtype_rejects_non_float():
    for name in ("int64", "bool", "complex64"):
        with pytest.raises(TypeError) as te:
            torch.set_default_dtype(T(name))
        with pytest.raises(TypeError) as ee:
            ember.set_default_dtype(E(name))
        assert str(ee.value) == str(te.value)
    assert ember.get_default_dtype() is ember.float32


def test_set_default_dtype_half(request):
    ember.set_default_dtype(ember.float16)
    torch.set_default_dtype(torch.float16)
    try:
        assert ember.zeros(1).dtype.name == tname(torch.zeros(1).dtype)
        assert ember.tensor([1j]).dtype.name == tname(torch.tensor([1j]).dtype)
    finally:
        ember.set_default_dtype(ember.float32)
        torch.set_default_dtype(torch.float32)


# ---- integer arithmetic ------------------------------------------------------------------
def test_integer_division_values():
    a = [7, -7, 7, -7, 0, 5]
    b = [2, 2, -2, -2, 3, 5]
    ta, tb = torch.tensor(a), torch.tensor(b)
    ea, eb = ember.tensor(a), ember.tensor(b)
    for f in (lambda x, y: x / y, lambda x, y: x // y, lambda x, y: x % y):
        rt, re = f(ta, tb), f(ea, eb)
        assert re.dtype.name == tname(rt.dtype)
        np.testing.assert_array_equal(re.numpy(), rt.numpy())
    for s in (2, -3):
        for f in (lambda x, y: x / y, lambda x, y: x // y, lambda x, y: x % y):
            rt, re = f(ta, s), f(ea, s)
            assert re.dtype.name == tname(rt.dtype)
            np.testing.assert_array_equal(re.numpy(), rt.numpy())


def test_float_floor_div_and_mod_signs():
    a = [7.5, -7.5, 7.5, -7.5]
    b = [2.0, 2.0, -2.0, -2.0]
    for f in (lambda x, y: x // y, lambda x, y: x % y):
        np.testing.assert_array_equal(f(ember.tensor(a), ember.tensor(b)).numpy(),
                                      f(torch.tensor(a), torch.tensor(b)).numpy())


@pytest.mark.parametrize("name", ["int64", "int32", "uint8", "bool"])
def test_inplace_mul_float_into_int_raises(name):
    t, e = torch.ones(3, dtype=T(name)), ember.ones(3, dtype=E(name))
    with pytest.raises(RuntimeError) as te:
        t *= 1.5
    with pytest.raises(RuntimeError) as ee:
        e *= 1.5
    assert str(ee.value) == str(te.value)


def test_inplace_ops_keep_dtype_when_castable():
    from _compare import same

    def run(lib):
        e = lib.ones(3, dtype=lib.float16)
        e += lib.ones(3, dtype=lib.float64)
        i = lib.ones(3, dtype=lib.int32)
        i += 5
        return e, i
    same(run)


@pytest.mark.parametrize("name", NAMES)
def test_comparisons_return_bool(name):
    e = ember.ones(2, dtype=E(name))
    for r in (e == e, e != 1):
        assert r.dtype is ember.bool
    if E(name).is_complex:
        # torch has no ordering on complex numbers: each of these raises, in both libraries
        t = torch.ones(2, dtype=T(name))
        for op in ("__lt__", "__le__", "__gt__", "__ge__"):
            with pytest.raises(RuntimeError) as te:
                getattr(t, op)(t)
            with pytest.raises(RuntimeError) as ee:
                getattr(e, op)(e)
            assert type(ee.value) is type(te.value) and str(ee.value) == str(te.value)
        return
    for r in (e < 2, e <= e, e > 0, e >= 1):
        assert r.dtype is ember.bool


# ---- finfo / iinfo ---------------------------------------------------------------------
@pytest.mark.parametrize("name", ["float16", "bfloat16", "float32", "float64", "complex64",
                                  "complex128"])
def test_finfo(name):
    e, t = ember.finfo(E(name)), torch.finfo(T(name))
    assert repr(e) == repr(t)
    for attr in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(e, attr) == getattr(t, attr), attr


def test_finfo_default_and_errors(default_float64):
    assert repr(ember.finfo()) == repr(torch.finfo())
    with pytest.raises(TypeError) as te:
        torch.finfo(torch.int32)
    with pytest.raises(TypeError) as ee:
        ember.finfo(ember.int32)
    assert str(ee.value) == str(te.value)


@pytest.mark.parametrize("name", ["uint8", "int8", "int16", "int32", "int64", "bool",
                                  "float32"])
def test_iinfo(name):
    try:
        t = torch.iinfo(T(name))
    except TypeError as err:
        with pytest.raises(TypeError) as ee:
            ember.iinfo(E(name))
        assert str(ee.value) == str(err)
        return
    e = ember.iinfo(E(name))
    assert repr(e) == repr(t)
    assert (e.bits, e.min, e.max, e.dtype) == (t.bits, t.min, t.max, t.dtype)


@pytest.mark.parametrize("expr", [
    lambda m: m.tensor([1, -1, 0]) / 0,
    lambda m: m.tensor([1, -1]) // 0,
    lambda m: m.tensor([1, -1]) % 0,
    lambda m: m.tensor([7, -7]) // m.tensor([0, 2]),
    lambda m: m.tensor([7.5, -7.5]) // 0,
    lambda m: m.tensor([7.5, -7.5]) % 0,
    lambda m: m.tensor([5], dtype=m.uint8) - 6,
    lambda m: m.tensor([100], dtype=m.int8) + 100,
    lambda m: m.tensor([True, False]) + True,
    lambda m: m.tensor([True]) - m.tensor([True]),
    lambda m: -m.tensor([True]),
    lambda m: m.tensor([3]) ** -1,
    lambda m: m.tensor([3]) ** 2.0,
    lambda m: 2 ** m.tensor([3]),
    lambda m: m.tensor([3], dtype=m.int32) // 2.0,
    lambda m: m.tensor([3], dtype=m.int32) % 2.5,
])
def test_integer_and_bool_arithmetic_edges(expr):
    import warnings
    from _compare import same
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        same(expr)


def _run_fresh(code):
    """Run ``code`` in a fresh interpreter that imports this checkout's ember."""
    import os
    import subprocess
    import sys
    src = os.path.dirname(os.path.dirname(os.path.abspath(ember.__file__)))
    env = dict(os.environ, PYTHONPATH=src)
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


def test_import_leaves_heavy_modules_unloaded():
    # ml_dtypes (half a second) and scipy load on first use: a bfloat16 tensor, finfo, or a
    # special function, not at import.
    out = _run_fresh("import sys, ember\n"
                     "print('ml_dtypes' in sys.modules, 'scipy' in sys.modules)\n"
                     "print(ember.bfloat16, ember.bfloat16.itemsize, ember.bfloat16.is_floating_point)\n"
                     "print(ember.promote_types(ember.bfloat16, ember.float16))\n"
                     "print('ml_dtypes' in sys.modules)\n"
                     "t = ember.ones(2, dtype=ember.bfloat16) * 3\n"
                     "print('ml_dtypes' in sys.modules, t.dtype, t.tolist())\n"
                     "print(ember.special.erfcx(ember.zeros(1)).tolist(), 'scipy' in sys.modules)\n")
    assert out == ["False", "False", "torch.bfloat16", "2", "True", "torch.float32", "False",
                   "True", "torch.bfloat16", "[3.0,", "3.0]", "[1.0]", "True"]


def test_bfloat16_array_made_before_ember_loads_ml_dtypes():
    out = _run_fresh("import ml_dtypes, numpy as np, ember\n"
                     "a = np.ones(2, dtype=ml_dtypes.bfloat16)\n"
                     "print(ember.from_numpy(a).dtype, ember.tensor(a).dtype, ember.finfo(ember.bfloat16).bits)\n")
    assert out == ["torch.bfloat16", "torch.bfloat16", "16"]
