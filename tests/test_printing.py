"""repr/str of Ember tensors must equal torch's, character for character."""
import math

import numpy as np
import pytest
import torch

import ember
from ember import _tensor_str as ts


@pytest.fixture(autouse=True)
def _reset_printoptions():
    yield
    ts.set_printoptions(profile="default")
    torch.set_printoptions(profile="default")


def _pair(data, dtype="float32", requires_grad=False):
    arr = np.asarray(data)
    tt = torch.tensor(arr).to(getattr(torch, dtype))
    et = ember.tensor(arr, dtype=getattr(ember, dtype))
    if requires_grad:
        tt.requires_grad_(True)
        et.requires_grad_(True)
    return tt, et


def _both_repr(tt, et, opts=None):
    opts = opts or {}
    torch.set_printoptions(**opts)
    ts.set_printoptions(**opts)
    try:
        return repr(tt), repr(et)
    finally:
        torch.set_printoptions(profile="default")
        ts.set_printoptions(profile="default")


_rng = np.random.default_rng(1234)
_randn = _rng.standard_normal
NAN, INF = math.nan, math.inf

# (id, data, dtype, print options, requires_grad)
CASES = [
    ("float_1d", [1.5, 2.25, -3.125], "float32", None, False),
    ("float_intvalued", [1.0, 2.0, -30.0], "float32", None, False),
    ("float_0d", 3.5, "float32", None, False),
    ("float_0d_intvalued", -2.0, "float32", None, False),
    ("float_0d_nan", NAN, "float32", None, False),
    ("float_0d_neg_inf", -INF, "float64", None, False),
    ("int_0d", 7, "int64", None, False),
    ("bool_0d", True, "bool", None, False),
    ("int64_1d", [1, -20, 300], "int64", None, False),
    ("int64_big", [2**62, -5, 17], "int64", None, False),
    ("int32", [1, 2, 3], "int32", None, False),
    ("int16", [-4, 5], "int16", None, False),
    ("int8", [-128, 127], "int8", None, False),
    ("uint8", [0, 255, 7], "uint8", None, False),
    ("bool_1d", [True, False, True], "bool", None, False),
    ("float64", [1.5, -2.0], "float64", None, False),
    ("float16", [0.1, 2.5, 65504.0], "float16", None, False),
    ("float16_overflow_inf", [1e5, 1.0], "float16", None, False),
    ("bfloat16", [0.1, 3.0, -1e3], "bfloat16", None, False),
    ("complex64", [1 + 2j, -3.5 - 0.25j], "complex64", None, False),
    ("complex128", [1e-6 + 1j, 2 - 3j], "complex128", None, False),
    ("complex_nan_inf", [complex(NAN, 1), complex(1, INF), complex(0, -0.0)], "complex64", None, False),
    ("complex_0d", 1.5 - 2j, "complex64", None, False),
    ("complex_long_row", _randn(20) + 1j * _randn(20), "complex64", None, False),
    ("empty_1d", [], "float32", None, False),
    ("empty_0x3", np.zeros((0, 3)), "float32", None, False),
    ("empty_int64", np.zeros(0, dtype=np.int64), "int64", None, False),
    ("empty_bool_2x0", np.zeros((2, 0), dtype=bool), "bool", None, False),
    ("empty_complex", np.zeros((0,), dtype=np.complex64), "complex64", None, False),
    ("empty_float64_3d", np.zeros((1, 0, 2)), "float64", None, False),
    ("summarized_1d", _randn(2000), "float32", None, False),
    ("summarized_2d", _randn((50, 50)), "float32", None, False),
    ("summarized_3d", _randn((12, 12, 12)), "float32", None, False),
    ("summarized_int", np.arange(5000).reshape(50, 100), "int64", None, False),
    ("nested_3d", _randn((2, 3, 4)), "float32", None, False),
    ("nested_4d", np.arange(16.0).reshape(2, 2, 2, 2), "float32", None, False),
    ("sci_small", [1e-5, 1.0, 0.5], "float32", None, False),
    ("sci_large", [1e9, 1.5], "float32", None, False),
    ("sci_intvalued_ratio", [1.0, 1e5], "float32", None, False),
    ("not_sci_1e8", [1e8, 3.0], "float64", None, False),
    ("sci_mixed_magnitudes", _randn(8) * 10.0 ** _rng.integers(-8, 8, 8), "float64", None, False),
    ("nan_inf_mixed", [NAN, INF, -INF, 1.5, 0.0], "float32", None, False),
    ("nan_inf_intvalued", [NAN, -INF, 2.0, 100.0], "float32", None, False),
    ("all_nan", [NAN, NAN], "float32", None, False),
    ("zeros", [0.0, 0.0], "float32", None, False),
    ("negative_zero", [-0.0, 0.0], "float32", None, False),
    ("negative_zero_with_frac", [-0.0, 1.5], "float32", None, False),
    ("long_row_wrap", _randn(30), "float32", None, False),
    ("long_int_row_wrap", np.arange(100), "int64", None, False),
    ("wide_2d_rows", _randn((3, 20)), "float32", None, False),
    ("requires_grad", [1.0, 2.0], "float32", None, True),
    ("requires_grad_suffix_wraps", _randn((2, 7)), "float64", None, True),
    ("requires_grad_0d", 2.5, "float32", None, True),
    ("opt_precision_2", [1.23456, -7.891], "float32", {"precision": 2}, False),
    ("opt_precision_6_f64", [1 / 3, 2 / 3], "float64", {"precision": 6}, False),
    ("opt_sci_true", [-1.5, 2.5], "float32", {"sci_mode": True}, False),
    ("opt_sci_true_zeros_only", [0.0, -0.0], "float32", {"sci_mode": True}, False),
    ("opt_sci_false_tiny", [1e-5, 1e5], "float32", {"sci_mode": False}, False),
    ("opt_linewidth_40", _randn(20), "float32", {"linewidth": 40}, False),
    ("opt_linewidth_tiny", [1, 2, 3], "int64", {"linewidth": 5}, False),
    ("opt_threshold_edgeitems", _randn((6, 6)), "float32", {"threshold": 10, "edgeitems": 2}, False),
    ("opt_edgeitems_0", _randn((4, 5)), "float32", {"threshold": 5, "edgeitems": 0}, False),
    ("opt_edgeitems_0_small", [1.0, 2.0], "float32", {"edgeitems": 0}, False),
    ("opt_profile_short", _randn((10, 10)), "float32", {"profile": "short", "threshold": 20}, False),
    ("opt_profile_full", _randn(1500), "float32", {"profile": "full"}, False),
    ("opt_complex_summarized", _randn(30) + 1j, "complex64", {"threshold": 8}, False),
]


# Ember's float16 cast of 1e5 warns about the overflow to inf; torch does not.
@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")
@pytest.mark.parametrize("data,dtype,opts,grad", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_repr_matches_torch(data, dtype, opts, grad):
    tt, et = _pair(data, dtype, grad)
    expected, got = _both_repr(tt, et, opts)
    assert got == expected


def test_str_equals_repr():
    tt, et = _pair(_randn((3, 4)))
    assert str(et) == repr(et) == str(tt)


def test_non_contiguous_view():
    arr = _randn((4, 6)).astype(np.float32)
    tt, et = torch.tensor(arr).t(), ember.tensor(arr).t()
    assert repr(et) == repr(tt)


def test_grad_fn_suffix():
    tx, ex = _pair([1.0, -2.0, 3.5], requires_grad=True)
    assert repr(ex * 2) == repr(tx * 2)
    assert repr((ex * 2).sum()) == repr((tx * 2).sum())


def test_grad_fn_suffix_wraps_to_new_line():
    tx, ex = _pair(_randn((3, 6)), requires_grad=True)
    expected = repr(tx * 3)
    assert "\n       grad_fn=<MulBackward0>)" in expected
    assert repr(ex * 3) == expected


@pytest.mark.parametrize("dtype,data", [
    ("float64", [1.5, 2.0]), ("float32", [1.5, 2.0]), ("complex128", [1j]),
    ("complex64", [1j]), ("float32", []), ("float64", []), ("int64", [3]),
])
def test_default_dtype_float64(dtype, data):
    torch.set_default_dtype(torch.float64)
    ember.set_default_dtype(ember.float64)
    try:
        tt, et = _pair(data, dtype)
        assert repr(et) == repr(tt)
    finally:
        torch.set_default_dtype(torch.float32)
        ember.set_default_dtype(ember.float32)


def test_tensor_contents():
    tt, et = _pair([1.0, 2.0], requires_grad=True)
    assert et.__repr__(tensor_contents="[...]") == tt.__repr__(tensor_contents="[...]")


@pytest.mark.parametrize("dtype,data,expected", [
    ("float32", [1.0, 2.5], "tensor([1.0000, 2.5000], device='cuda:0')"),
    ("int32", [1, 2], "tensor([1, 2], device='cuda:0', dtype=torch.int32)"),
])
def test_device_suffix(monkeypatch, dtype, data, expected):
    # No GPU is needed: the printer only reads t.device, so a CUDA device is faked.
    # The expected strings are torch's output for the same tensors on cuda:0.
    _, et = _pair(data, dtype)
    monkeypatch.setattr(type(et), "device", property(lambda self: ember.device("cuda:0")))
    assert repr(et) == expected


# ------------------------------------------------------------------ print options

def test_printoptions_defaults_match_torch():
    assert ts.get_printoptions() == torch._tensor_str.get_printoptions()
    assert ts.get_printoptions() == {"precision": 4, "threshold": 1000, "edgeitems": 3,
                                     "linewidth": 80, "sci_mode": None}


@pytest.mark.parametrize("calls", [
    [dict(precision=2, linewidth=50)],
    [dict(sci_mode=True), dict(precision=3)],          # sci_mode falls back to None
    [dict(profile="short")],
    [dict(profile="full", precision=6)],
    [dict(precision=2, linewidth=50), dict(profile="default")],
    [dict(linewidth=60), dict(profile="unknown")],      # unknown profiles are ignored
    [dict(threshold=5, edgeitems=1, sci_mode=False)],
])
def test_set_printoptions_round_trip(calls):
    for kwargs in calls:
        torch.set_printoptions(**kwargs)
        ts.set_printoptions(**kwargs)
    assert ts.get_printoptions() == torch._tensor_str.get_printoptions()


def test_get_printoptions_returns_copy():
    opts = ts.get_printoptions()
    opts["precision"] = 99
    assert ts.get_printoptions()["precision"] == 4


def test_printoptions_context_restores():
    ts.set_printoptions(linewidth=70, sci_mode=True)
    before = ts.get_printoptions()
    tt, et = _pair([1.23456, 2.5])
    with ts.printoptions(precision=2, sci_mode=False):
        assert ts.get_printoptions()["precision"] == 2
        with torch._tensor_str.printoptions(precision=2, sci_mode=False):
            assert repr(et) == repr(tt)
    assert ts.get_printoptions() == before
    with pytest.raises(KeyError):
        with ts.printoptions(edgeitems=1):
            raise KeyError
    assert ts.get_printoptions() == before


def test_public_names_exported():
    for name in ("set_printoptions", "get_printoptions", "printoptions"):
        assert getattr(ember, name) is getattr(ts, name)
    assert callable(ts.tensor_repr)
