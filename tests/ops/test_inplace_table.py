"""Every in-place activation and dropout (``inplace=True``, the ``xxx_`` forms, the layers
with ``inplace=True``) against torch: values, version bumps, grad_fn names, gradients
through an in-place write on a view of a non-leaf (torch's CopySlices), and torch's
errors for leaves, views of leaves, multi-output views, inference tensors and saved
tensors modified in place.

Random entries (dropout with 0 < p < 1, rrelu in training) cannot draw torch's masks;
their gradients are checked against Ember's out-of-place form under the same seed, and
against the mask itself (zero gradient exactly where the output was zeroed).
"""
import dataclasses
from typing import Callable

import numpy as np
import pytest
import torch

import ember

# dropout2d/3d warn about unusual input ranks, in torch and in Ember alike.
pytestmark = pytest.mark.filterwarnings("ignore:dropout:UserWarning")

@dataclasses.dataclass
class Case:
    name: str
    inplace: Callable          # (lib, x) -> result, writing into x
    plain: Callable            # (lib, x) -> the out-of-place result
    shape: tuple = (8,)
    random: bool = False
    zeroes: bool = False       # a dropout: the gradient is 0 exactly where the output is


def _fn(name, *args, **kwargs):
    """F.name(x, *args, inplace=True) and its out-of-place form."""
    return (lambda L, x: getattr(L.nn.functional, name)(x, *args, inplace=True, **kwargs),
            lambda L, x: getattr(L.nn.functional, name)(x, *args, **kwargs))


def _underscore(name, *args):
    """F.name_(x, *args) and F.name(x, *args)."""
    return (lambda L, x: getattr(L.nn.functional, name + "_")(x, *args),
            lambda L, x: getattr(L.nn.functional, name)(x, *args))


def _layer(name, *args, train=None, **kwargs):
    """nn.Name(*args, inplace=True)(x) and the layer without inplace."""
    def make(L, inplace):
        m = getattr(L.nn, name)(*args, inplace=inplace, **kwargs)
        return m if train is None else m.train(train)
    return (lambda L, x: make(L, True)(x), lambda L, x: make(L, False)(x))


def case(name, fns, **kw):
    return Case(name, fns[0], fns[1], **kw)


D = dict(random=True, zeroes=True)
CASES = [
    case("relu", _fn("relu")),
    case("relu_", _underscore("relu")),
    case("threshold", _fn("threshold", 0.5, -2.0)),
    case("threshold_", _underscore("threshold", 0.5, -2.0)),
    case("hardtanh", _fn("hardtanh", -1.5, 2.0)),
    case("hardtanh_", _underscore("hardtanh", -1.5, 2.0)),
    case("relu6", _fn("relu6")),
    case("leaky_relu", _fn("leaky_relu", 0.1)),
    case("leaky_relu_", _underscore("leaky_relu", 0.1)),
    case("rrelu-eval", _fn("rrelu", 0.1, 0.3, False)),
    case("rrelu_-eval", _underscore("rrelu", 0.1, 0.3, False)),
    case("rrelu-train", _fn("rrelu", 0.1, 0.3, True), random=True),
    case("rrelu_-train", _underscore("rrelu", 0.1, 0.3, True), random=True),
    case("elu", _fn("elu", 1.5)),
    case("elu_", _underscore("elu", 1.5)),
    case("celu", _fn("celu", 2.0)),
    case("celu_", _underscore("celu", 2.0)),
    case("selu", _fn("selu")),
    case("selu_", _underscore("selu")),
    case("silu", _fn("silu")),
    case("mish", _fn("mish")),
    case("hardsigmoid", _fn("hardsigmoid")),
    case("hardswish", _fn("hardswish")),
    case("dropout-p0", _fn("dropout", 0.0)),
    case("dropout-p1", _fn("dropout", 1.0)),
    case("dropout-eval", _fn("dropout", 0.5, False)),
    case("dropout", _fn("dropout", 0.4), **D),
    case("dropout1d-p1", _fn("dropout1d", 1.0), shape=(2, 3, 4)),
    case("dropout1d", _fn("dropout1d", 0.5), shape=(2, 3, 4), **D),
    case("dropout1d-unbatched", _fn("dropout1d", 0.5), shape=(3, 4), **D),
    case("dropout1d-unbatched-eval", _fn("dropout1d", 0.5, False), shape=(3, 4)),
    case("dropout2d-p1", _fn("dropout2d", 1.0), shape=(2, 3, 2, 2)),
    case("dropout2d", _fn("dropout2d", 0.5), shape=(2, 3, 2, 2), **D),
    case("dropout3d-p1", _fn("dropout3d", 1.0), shape=(2, 2, 1, 2, 2)),
    case("dropout3d", _fn("dropout3d", 0.5), shape=(2, 2, 1, 2, 2), **D),
    case("dropout3d-unbatched", _fn("dropout3d", 0.5), shape=(2, 1, 2, 2), **D),
    case("alpha_dropout-p1", _fn("alpha_dropout", 1.0, True)),
    case("alpha_dropout-eval", _fn("alpha_dropout", 0.5)),
    case("alpha_dropout", _fn("alpha_dropout", 0.3, True), random=True),
    case("feature_alpha_dropout-p1", _fn("feature_alpha_dropout", 1.0, True), shape=(2, 3, 4)),
    case("feature_alpha_dropout", _fn("feature_alpha_dropout", 0.3, True), shape=(2, 3, 4),
         random=True),
    case("ReLU", _layer("ReLU")),
    case("ReLU6", _layer("ReLU6")),
    case("LeakyReLU", _layer("LeakyReLU", 0.2)),
    case("ELU", _layer("ELU", 0.5)),
    case("CELU", _layer("CELU", 1.5)),
    case("SELU", _layer("SELU")),
    case("SiLU", _layer("SiLU")),
    case("Mish", _layer("Mish")),
    case("Hardswish", _layer("Hardswish")),
    case("Hardsigmoid", _layer("Hardsigmoid")),
    case("Hardtanh", _layer("Hardtanh", -0.5, 0.5)),
    case("Threshold", _layer("Threshold", 0.1, 20.0)),
    case("RReLU-eval", _layer("RReLU", 0.1, 0.3, train=False)),
    case("RReLU-train", _layer("RReLU", 0.1, 0.3, train=True), random=True),
    case("Dropout", _layer("Dropout", 0.5), **D),
    case("Dropout-eval", _layer("Dropout", 0.5, train=False)),
    case("Dropout1d", _layer("Dropout1d", 0.5), shape=(2, 3, 4), **D),
    case("Dropout2d-p1", _layer("Dropout2d", 1.0), shape=(2, 3, 2, 2)),
    case("Dropout3d", _layer("Dropout3d", 0.5), shape=(2, 2, 1, 2, 2), **D),
]
IDS = [c.name for c in CASES]
DETERMINISTIC = [c for c in CASES if not c.random]
RANDOM = [c for c in CASES if c.random]

# The kernels' branch points (0, +-3, 6, the cases' bounds and thresholds) and beyond.
_POOL = np.array([-4.0, -3.0, -1.5, -1.0, -0.5, 0.0, 0.1, 0.5, 1.0, 2.0, 3.0, 6.0, 7.5,
                  -0.3, 0.25, 2.5, -2.0, 4.0, -6.5, 0.75], dtype=np.float32)


def _data(shape, seed=0, zero=True):
    n = int(np.prod(shape))
    rng = np.random.default_rng(seed)
    pool = _POOL if zero else _POOL[_POOL != 0]
    return rng.permutation(np.resize(pool, n)).reshape(shape).astype(np.float32)


def _weights(shape):
    return np.random.default_rng(1).uniform(0.5, 1.5, (2 * shape[0],) + shape[1:]).astype(
        np.float32)


def _np(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t.detach().cpu()._data)


def _tensor(L, a, requires_grad=False):
    t = L.tensor(a.copy())
    return t.requires_grad_() if requires_grad else t


def _outcome(fn):
    try:
        return ("ok", fn())
    except Exception as e:  # the error itself is compared
        return ("error", type(e).__name__, str(e))


def _name(t):
    return None if t.grad_fn is None else type(t.grad_fn).__name__


# ---- values, version bump and grad_fn on a plain non-leaf ---------------------------------

def _run_plain(L, c, a):
    leaf = _tensor(L, a, True)
    x = leaf * 1
    v0 = x._version
    out = c.inplace(L, x)
    return out is x, x._version - v0, _name(x), _np(x)


@pytest.mark.parametrize("c", CASES, ids=IDS)
def test_values_version_and_grad_fn_match_torch(c):
    a = _data(c.shape, zero=not c.random)
    t_same, t_bump, t_name, t_val = _run_plain(torch, c, a)
    e_same, e_bump, e_name, e_val = _run_plain(ember, c, a)
    assert (e_same, e_bump, e_name) == (t_same, t_bump, t_name)
    if not c.random:
        np.testing.assert_allclose(e_val, t_val, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("c", CASES, ids=IDS)
def test_inplace_equals_out_of_place(c):
    a = _data(c.shape, zero=not c.random)
    ember.manual_seed(3)
    expected = _np(c.plain(ember, _tensor(ember, a)))
    ember.manual_seed(3)
    x = _tensor(ember, a)
    assert c.inplace(ember, x) is x
    np.testing.assert_allclose(_np(x), expected, rtol=1e-6, atol=1e-6)


# ---- gradients through an in-place write on a strided view of a non-leaf -------------------

def _through_view(L, c, a, seed=None):
    """a's gradient after writing in place through b[::2], b = leaf * 2 (torch's example)."""
    base = np.repeat(a, 2, axis=0)
    leaf = _tensor(L, base, True)
    b = leaf * 2
    v = b[::2]
    if seed is not None:
        L.manual_seed(seed)
    c.inplace(L, v)
    (b * L.tensor(_weights(c.shape))).sum().backward()
    return _np(leaf.grad), _np(v), _name(b), _name(v)


@pytest.mark.parametrize("c", DETERMINISTIC, ids=[c.name for c in DETERMINISTIC])
def test_grad_through_view_matches_torch(c):
    a = _data(c.shape)
    t_grad, t_v, t_bname, t_vname = _through_view(torch, c, a / 2)
    e_grad, e_v, e_bname, e_vname = _through_view(ember, c, a / 2)
    np.testing.assert_allclose(e_v, t_v, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(e_grad, t_grad, rtol=1e-5, atol=1e-6)
    assert (e_bname, e_vname) == (t_bname, t_vname)


# The same on the cuda device (the stand-in everywhere, a real GPU where there is one): the
# fixture makes cuda the default device, so every tensor the cases make lives there.
@pytest.mark.parametrize("c", CASES, ids=IDS)
def test_values_version_and_grad_fn_on_cuda(cuda_device, c):
    test_values_version_and_grad_fn_match_torch(c)


@pytest.mark.parametrize("c", DETERMINISTIC, ids=[c.name for c in DETERMINISTIC])
def test_grad_through_view_on_cuda(cuda_device, c):
    test_grad_through_view_matches_torch(c)


@pytest.mark.parametrize("c", RANDOM, ids=[c.name for c in RANDOM])
def test_random_grad_through_view_follows_the_drawn_mask(c):
    a = _data(c.shape, zero=False)
    e_grad, e_v, e_bname, e_vname = _through_view(ember, c, a / 2, seed=5)
    # The same draw out of place: its gradient is the expected one for the view's region.
    x = _tensor(ember, a, True)
    ember.manual_seed(5)
    out = c.plain(ember, x * 1)
    w = _weights(c.shape)
    (out * ember.tensor(w[::2] * 2)).sum().backward()
    np.testing.assert_allclose(e_v, _np(out), rtol=1e-6)
    np.testing.assert_allclose(e_grad[::2], _np(x.grad), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(e_grad[1::2], 2 * w[1::2], rtol=1e-6)
    if c.zeroes:
        np.testing.assert_array_equal(e_grad[::2] == 0, e_v == 0)
    t_grad, t_v, t_bname, t_vname = _through_view(torch, c, a / 2)
    assert (e_bname, e_vname) == (t_bname, t_vname)


def test_the_reported_example():
    for lib in (torch, ember):
        a = lib.tensor([-1., 2, 3, 4], requires_grad=True)
        b = a * 1
        lib.nn.functional.relu(b[0:2], inplace=True)
        b.sum().backward()
        assert a.grad.tolist() == [0., 1., 1., 1.]


def test_copy_slices_names_as_torch():
    got = []
    for lib in (torch, ember):
        b = lib.tensor([-1., 2, 3, 4], requires_grad=True) * 1
        lib.nn.functional.leaky_relu(b[0:2], inplace=True)
        got.append((repr(b).split("grad_fn=")[1], b.grad_fn.name(), b[0:2].grad_fn.name()))
    assert got[1] == got[0]


# ---- torch's errors ------------------------------------------------------------------------

def _errors(L, c, a):
    def run(x):
        return _outcome(lambda: c.inplace(L, x) is x)
    leaf = _tensor(L, a, True)
    results = [run(leaf), run(leaf[:])]
    y = _tensor(L, np.stack([a, a]), True) * 1
    results.append(run(y.unbind(0)[0]))
    with L.inference_mode():
        inf = _tensor(L, a)
    results.append(run(inf))
    x = _tensor(L, a, True) * 1
    saved = x * x                                   # saves x
    c.inplace(L, x)
    results.append(_outcome(lambda: saved.sum().backward()))
    # torch's kernels that keep their result (relu_, leaky_relu_, elu_...) see a later write.
    x = _tensor(L, a, True) * 1
    c.inplace(L, x).mul_(2)
    results.append(_outcome(lambda: x.sum().backward()))
    return results


@pytest.mark.parametrize("c", CASES, ids=IDS)
def test_errors_match_torch(c):
    a = _data(c.shape)
    t = _errors(torch, c, a)
    e = _errors(ember, c, a)
    assert e == t


NEGATIVE = [case("leaky_relu", _fn("leaky_relu", -0.1)),
            case("leaky_relu_", _underscore("leaky_relu", -0.1)),
            case("rrelu-eval", _fn("rrelu", -0.5, -0.1)),
            case("rrelu-train", _fn("rrelu", -0.5, -0.1, True)),
            case("elu", _fn("elu", -1.0)),
            case("celu_", _underscore("celu", -1.0))]


@pytest.mark.parametrize("c", NEGATIVE, ids=[c.name for c in NEGATIVE])
def test_negative_slope_in_place_backward_raises_as_torch(c):
    a = _data(c.shape)
    got = []
    for L in (torch, ember):
        x = _tensor(L, a, True)
        y = c.inplace(L, x * 1)
        got.append(_outcome(lambda: L.autograd.grad(y.sum(), x) and None))
    assert got[1] == got[0]


@pytest.mark.parametrize("name", ["AlphaDropout", "FeatureAlphaDropout"])
def test_alpha_dropout_layers_ignore_inplace_as_torch(name):
    a = _data((2, 3, 4), zero=False)
    for L in (torch, ember):
        x = _tensor(L, a)
        out = getattr(L.nn, name)(0.3, inplace=True)(x)
        assert out is not x and x._version == 0
        np.testing.assert_array_equal(_np(x), a)


def test_nan_and_zero_match_torch():
    a = np.array([np.nan, 0.0, -0.0, 1.0, -1.0, -3.0, 3.0, 6.0], dtype=np.float32)
    for c in DETERMINISTIC:
        if "dropout" in c.name.lower():
            continue
        got = []
        for L in (torch, ember):
            x = _tensor(L, a, True)
            y = c.inplace(L, x * 1)
            g, = L.autograd.grad(y.sum(), x)
            got.append((_np(y), _np(g)))
        (tv, tg), (ev, eg) = got
        np.testing.assert_allclose(ev, tv, rtol=1e-6, err_msg=c.name)
        np.testing.assert_allclose(eg, tg, rtol=1e-5, err_msg=c.name)


@pytest.mark.parametrize("c", [c for c in CASES if "ropout" not in c.name],
                         ids=[c.name for c in CASES if "ropout" not in c.name])
def test_integer_input_as_torch(c):
    """Integer kernels exist for relu, threshold and hardtanh only; the others refuse."""
    a = np.array([-3, -1, 0, 2, 5, 7, 1, -2], dtype=np.int64).reshape(c.shape)
    got = []
    for L in (torch, ember):
        x, y = _tensor(L, a), _tensor(L, a)
        got.append((_outcome(lambda: _np(c.inplace(L, x)).tolist()),
                    _outcome(lambda: _np(c.plain(L, y)).tolist())))
    assert got[1] == got[0]
