"""ember.save / ember.load round trips (tensors, state_dicts, containers, optimizer state)."""
import collections
import io
import pickle

import numpy as np
import pytest
import torch

import ember
import ember.nn as nn
from ember.serialization import load, safe_globals, save


Point = collections.namedtuple("Point", "x y")


def _roundtrip(obj, **load_kwargs):
    buf = io.BytesIO()
    save(obj, buf)
    buf.seek(0)
    return load(buf, **load_kwargs)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16", "int64", "int32",
                                   "int16", "int8", "uint8", "bool", "complex64", "complex128"])
@pytest.mark.parametrize("shape", [(), (0,), (3,), (2, 3, 4)])
def test_tensor_roundtrip_keeps_values_dtype_shape(dtype, shape):
    src = ember.arange(int(np.prod(shape)), dtype=ember.float64).reshape(shape) * 1.5 - 2
    t = src.to(getattr(ember, dtype))
    out = _roundtrip(t)
    assert out.dtype is t.dtype and out.shape == t.shape
    assert type(out) is ember.Tensor
    np.testing.assert_array_equal(out.float().numpy() if dtype == "bfloat16" else out.numpy(),
                                  t.float().numpy() if dtype == "bfloat16" else t.numpy())


def test_requires_grad_and_parameters_survive():
    p = nn.Parameter(ember.randn(3))
    leaf = ember.ones(2, requires_grad=True)
    out = _roundtrip({"p": p, "leaf": leaf, "plain": ember.zeros(1)})
    assert isinstance(out["p"], nn.Parameter) and out["p"].requires_grad
    assert out["leaf"].requires_grad and out["leaf"].is_leaf
    assert not out["plain"].requires_grad
    np.testing.assert_array_equal(out["p"].detach().numpy(), p.detach().numpy())


def test_views_share_memory_after_load_like_torch():
    for lib in (ember, torch):
        x = lib.arange(12.0).reshape(3, 4)
        obj = {"x": x, "row": x[1], "t": x.t(), "same": x}
        buf = io.BytesIO()
        (save if lib is ember else torch.save)(obj, buf)
        buf.seek(0)
        out = load(buf) if lib is ember else torch.load(buf)
        assert out["same"] is out["x"]
        out["x"][1, 0] = 100.0
        assert out["row"][0].item() == 100.0
        assert out["t"][0, 1].item() == 100.0


def test_nested_containers_and_python_values():
    obj = {"list": [1, 2.5, "s", None, True, (ember.ones(2), b"raw")],
           "od": collections.OrderedDict(a=ember.zeros(2, 2)), "set": {1, 2}, "c": 1 + 2j,
           "nested": {"deep": [{"t": ember.tensor([1, 2, 3])}]}}
    out = _roundtrip(obj)
    assert out["list"][:5] == [1, 2.5, "s", None, True]
    assert out["list"][5][1] == b"raw" and out["list"][5][0].tolist() == [1.0, 1.0]
    assert isinstance(out["od"], collections.OrderedDict)
    assert out["set"] == {1, 2} and out["c"] == 1 + 2j
    assert out["nested"]["deep"][0]["t"].tolist() == [1, 2, 3]
    with pytest.raises(pickle.UnpicklingError, match="Unsupported global"):
        _roundtrip(Point(1, 2))
    with safe_globals([Point]):
        assert _roundtrip(Point(1, ember.ones(1))).x == 1


def test_path_and_file_object(tmp_path):
    t = ember.randn(4, 5)
    save(t, tmp_path / "t.pt")
    save(t, str(tmp_path / "t2.pt"))
    with open(tmp_path / "t3.pt", "wb") as fh:
        save(t, fh)
    for name in ("t.pt", "t2.pt", "t3.pt"):
        np.testing.assert_array_equal(load(tmp_path / name).numpy(), t.numpy())
    with open(tmp_path / "t3.pt", "rb") as fh:
        np.testing.assert_array_equal(load(fh).numpy(), t.numpy())


def test_weights_only_refuses_modules_but_loads_them_when_disabled():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    buf = io.BytesIO()
    save(model, buf)
    buf.seek(0)
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        load(buf)
    buf.seek(0)
    loaded = load(buf, weights_only=False)
    x = ember.randn(5, 3)
    np.testing.assert_array_equal(loaded(x).detach().numpy(), model(x).detach().numpy())


def test_model_state_dict_roundtrip_into_fresh_model():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    fresh = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    fresh.load_state_dict(_roundtrip(model.state_dict()))
    x = ember.randn(5, 3)
    np.testing.assert_array_equal(fresh(x).detach().numpy(), model(x).detach().numpy())


@pytest.mark.parametrize("name,kwargs", [("SGD", dict(lr=0.1, momentum=0.9)),
                                         ("Adam", dict(lr=0.01, amsgrad=True)),
                                         ("NAdam", dict(lr=0.01)),
                                         ("Adagrad", dict(lr=0.1))])
def test_optimizer_state_roundtrip_continues_identically(name, kwargs):
    start = np.random.default_rng(0).standard_normal((3, 2)).astype(np.float32)

    def make(lib):
        w = lib.tensor(start, requires_grad=True)
        return w, getattr(lib.optim, name)([w], **kwargs)

    def train(w, opt, n):
        for _ in range(n):
            opt.zero_grad()
            ((w * w).sum() + w.sum()).backward()
            opt.step()

    w, opt = make(ember)
    train(w, opt, 5)
    ckpt = _roundtrip({"w": w.detach(), "opt": opt.state_dict()})
    w2, opt2 = make(ember)
    w2.data = ckpt["w"].clone()
    opt2.load_state_dict(ckpt["opt"])
    assert all(isinstance(v, ember.Tensor) for v in ckpt["opt"]["state"][0].values())
    train(w, opt, 5)
    train(w2, opt2, 5)
    # The resumed run is the uninterrupted one, bit for bit, and both follow torch's.
    np.testing.assert_array_equal(w2.detach().numpy(), w.detach().numpy())
    tw, topt = make(torch)
    train(tw, topt, 10)
    np.testing.assert_allclose(w2.detach().numpy(), tw.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_map_location_forms():
    t = ember.ones(2)
    assert _roundtrip(t, map_location="cpu").device == ember.device("cpu")
    assert _roundtrip(t, map_location=ember.device("cpu")).tolist() == [1.0, 1.0]
    assert _roundtrip(t, map_location={"cuda:0": "cpu"}).device.type == "cpu"
    seen = []
    # As torch's: the callable gets each storage (loaded on the CPU) and its saved location.
    out = _roundtrip(t, map_location=lambda s, loc: seen.append((s.dtype, loc)) or s.cpu())
    assert seen == [(ember.float32, "cpu")] and out.tolist() == [1.0, 1.0]
    assert _roundtrip(t, map_location=lambda s, loc: None).tolist() == [1.0, 1.0]


def test_not_a_checkpoint(tmp_path):
    for lib in (torch, ember):
        with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
            lib.load(io.BytesIO(b"garbage that is not a checkpoint"))
    with open(tmp_path / "plain.pkl", "wb") as fh:
        pickle.dump([1, 2], fh, protocol=2)
    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match="Invalid magic number; corrupt file?"):
            lib.load(tmp_path / "plain.pkl")
    with pytest.raises(RuntimeError, match="plain.pkl"):
        ember.load(tmp_path / "plain.pkl")
    with pytest.raises(RuntimeError, match="Can not safely load weights when explicit "
                                           "pickle_module is specified"):
        load(io.BytesIO(), pickle_module=pickle, weights_only=True)


@pytest.mark.parametrize("lib", [torch, ember], ids=["torch", "ember"])
def test_pickle_module_is_used(lib):
    """save pickles with pickle_module.Pickler and load unpickles with its Unpickler.

    Ember writes torch's global names through a pure-Python pickler's dispatch table, so
    its Pickler must derive from pickle._Pickler (as dill's does)."""
    calls = []

    class Pickler(pickle._Pickler):
        def __init__(self, *args, **kwargs):
            calls.append("Pickler")
            super().__init__(*args, **kwargs)

    class Unpickler(pickle.Unpickler):
        def __init__(self, *args, **kwargs):
            calls.append("Unpickler")
            super().__init__(*args, **kwargs)

    module = type("module", (), {"Pickler": Pickler, "Unpickler": Unpickler})
    base = lib.arange(6.0)
    buf = io.BytesIO()
    lib.save({"base": base, "view": base[2:]}, buf, pickle_module=module)
    buf.seek(0)
    out = lib.load(buf, pickle_module=module)
    assert calls == ["Pickler", "Unpickler"]
    assert out["view"].tolist() == [2.0, 3.0, 4.0, 5.0]
    out["base"][3] = 10.0
    assert out["view"][1].item() == 10.0   # the view still shares its base's memory


def test_a_c_pickler_is_refused_with_a_clear_error():
    module = type("module", (), {"Pickler": pickle.Pickler, "Unpickler": pickle.Unpickler})
    with pytest.raises(TypeError, match="pure-Python Pickler"):
        save(ember.ones(1), io.BytesIO(), pickle_module=module)
