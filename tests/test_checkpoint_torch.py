"""Checkpoints shared with real torch, both ways: torch.save -> ember.load and
ember.save -> torch.load(weights_only=True); the zip layout, the legacy format, mmap,
safety, atomic saving, damaged files, and safetensors against the safetensors package."""
import collections
import io
import os
import pickle
import struct
import zipfile

import numpy as np
import pytest
import torch

import ember
import ember.nn as nn
from ember import serialization
from ember.serialization import _zip
from ember.utils import safetensors as est

DTYPES = ["float32", "float64", "float16", "bfloat16", "complex64", "complex128", "int64",
          "int32", "int16", "int8", "uint8", "bool"]


def _np(t):
    """A tensor's values as NumPy (bfloat16 through float32), for either library."""
    if isinstance(t, torch.Tensor):
        t = t.detach()
        return t.float().numpy() if t.dtype == torch.bfloat16 else t.numpy()
    t = t.detach()
    return t.float().numpy() if t.dtype is ember.bfloat16 else t.numpy()


def _same(e, t):
    assert str(e.dtype) == str(t.dtype) and tuple(e.shape) == tuple(t.shape)
    if t.numel():    # (Ember reports an empty tensor's strides as contiguous, always)
        assert e.stride() == t.stride()
    np.testing.assert_array_equal(_np(e), _np(t))


def _values(dtype, shape):
    data = np.arange(int(np.prod(shape))).reshape(shape) * 1.5 - 3
    if dtype == "bool":
        return data > 0
    if dtype.startswith("complex"):
        return data + 0.5j * data
    return data


def _to_bytes(save, obj, **kwargs):
    buf = io.BytesIO()
    save(obj, buf, **kwargs)
    return buf.getvalue()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(), (0,), (5,), (2, 3, 4)])
def test_every_dtype_both_ways(dtype, shape):
    values = _values(dtype, shape)
    e = ember.tensor(values).to(getattr(ember, dtype))
    t = torch.tensor(values).to(getattr(torch, dtype))
    from_ember = torch.load(io.BytesIO(_to_bytes(ember.save, e)), weights_only=True)
    from_torch = ember.load(io.BytesIO(_to_bytes(torch.save, t)))
    assert type(from_torch) is ember.Tensor and type(from_ember) is torch.Tensor
    _same(e, from_ember)
    _same(from_torch, t)


def test_views_share_one_storage_both_ways():
    e = ember.arange(24.0).reshape(4, 6)
    obj = {"base": e, "row": e[1], "cols": e[:, 1::2], "t": e.t(), "flat": e.view(-1)[5:]}
    data = _to_bytes(ember.save, obj)
    assert [n for n in zipfile.ZipFile(io.BytesIO(data)).namelist() if "/data/" in n] == \
        ["archive/data/0"]
    out = torch.load(io.BytesIO(data), weights_only=True)
    for k in obj:
        _same(obj[k], out[k])
        assert out[k].untyped_storage().data_ptr() == out["base"].untyped_storage().data_ptr()
    assert out["cols"].storage_offset() == 1 and out["flat"].storage_offset() == 5
    out["base"][1, 1] = -1.0
    assert out["row"][1].item() == -1.0 and out["cols"][1, 0].item() == -1.0

    t = torch.arange(24.0).reshape(4, 6)
    back = ember.load(io.BytesIO(_to_bytes(torch.save, {"base": t, "cols": t[:, 1::2],
                                                         "t": t.t()})))
    _same(back["cols"], t[:, 1::2])
    _same(back["t"], t.t())
    back["base"][1, 1] = -1.0
    assert back["cols"][1, 0].item() == -1.0 and back["t"][1, 1].item() == -1.0
    # Re-saving what was loaded keeps the sharing.
    again = torch.load(io.BytesIO(_to_bytes(ember.save, back)), weights_only=True)
    assert again["t"].untyped_storage().data_ptr() == again["base"].untyped_storage().data_ptr()


def test_objects_besides_tensors_both_ways():
    e = {"size": ember.Size([2, 3]), "dtype": ember.bfloat16, "device": ember.device("cpu"),
         "od": collections.OrderedDict(a=1), "nested": [(1, 2.5, "s", None, True), {"x": b"b"}],
         "set": {1, 2}, "complex": 1 - 2j, "p": nn.Parameter(ember.ones(2))}
    out = torch.load(io.BytesIO(_to_bytes(ember.save, e)), weights_only=True)
    assert out["size"] == torch.Size([2, 3]) and type(out["size"]) is torch.Size
    assert out["dtype"] is torch.bfloat16 and out["device"] == torch.device("cpu")
    assert isinstance(out["p"], torch.nn.Parameter) and out["p"].requires_grad
    assert {k: out[k] for k in ("od", "nested", "set", "complex")} == \
        {k: e[k] for k in ("od", "nested", "set", "complex")}
    back = ember.load(io.BytesIO(_to_bytes(torch.save, out)))
    assert type(back["size"]) is ember.Size and back["size"] == (2, 3)
    assert back["dtype"] is ember.bfloat16 and back["device"] == ember.device("cpu")
    assert isinstance(back["p"], nn.Parameter) and back["p"].requires_grad
    assert back["nested"] == e["nested"] and back["set"] == {1, 2}


class _Tagged(ember.Tensor):
    pass


def test_tensor_attributes_and_subclasses():
    x = ember.ones(2)
    x.note = 5
    p = nn.Parameter(ember.zeros(1))
    p.note = 6
    out = torch.load(io.BytesIO(_to_bytes(ember.save, [x, p])), weights_only=True)
    assert type(out[0]) is torch.Tensor and out[0].note == 5
    assert isinstance(out[1], torch.nn.Parameter) and out[1].note == 6
    back = ember.load(io.BytesIO(_to_bytes(torch.save, out)))
    assert back[0].note == 5 and isinstance(back[1], nn.Parameter) and back[1].note == 6
    from ember._tensor import _new
    sub = _new(_Tagged)
    sub.__dict__.update(ember.arange(3.0).__dict__)
    data = _to_bytes(ember.save, sub)
    with pytest.raises(pickle.UnpicklingError, match="_Tagged"):
        ember.load(io.BytesIO(data))
    with serialization.safe_globals([_Tagged]):
        assert type(ember.load(io.BytesIO(data))) is _Tagged


def _models(seed=0):
    rng = np.random.default_rng(seed)
    # (A bias right before BatchNorm has no gradient but rounding noise, which Adam
    # magnifies: the Tanh between them keeps the comparison meaningful.)
    em = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.BatchNorm1d(8), nn.Linear(8, 3))
    tm = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.BatchNorm1d(8),
                             torch.nn.Linear(8, 3))
    x = rng.standard_normal((16, 4)).astype(np.float32)
    y = rng.standard_normal((16, 3)).astype(np.float32)
    return em, tm, x, y


def _train(lib, model, opt, x, y, steps):
    for _ in range(steps):
        opt.zero_grad()
        loss = ((model(lib.tensor(x)) - lib.tensor(y)) ** 2).mean()
        loss.backward()
        opt.step()


def test_module_and_adam_state_from_ember_continue_in_torch():
    em, tm, x, y = _models()
    eopt = ember.optim.Adam(em.parameters(), lr=0.01)
    _train(ember, em, eopt, x, y, 2)
    data = _to_bytes(ember.save, {"model": em.state_dict(), "opt": eopt.state_dict()})
    ckpt = torch.load(io.BytesIO(data), weights_only=True)
    assert ckpt["model"]._metadata == em.state_dict()._metadata
    tm.load_state_dict(ckpt["model"])
    topt = torch.optim.Adam(tm.parameters(), lr=0.01)
    topt.load_state_dict(ckpt["opt"])
    _train(ember, em, eopt, x, y, 3)
    _train(torch, tm, topt, x, y, 3)
    for (k, ev), tv in zip(em.state_dict().items(), tm.state_dict().values()):
        np.testing.assert_allclose(_np(ev), _np(tv), rtol=1e-5, atol=1e-6, err_msg=k)


def test_module_and_adam_state_from_torch_continue_in_ember():
    em, tm, x, y = _models(1)
    topt = torch.optim.Adam(tm.parameters(), lr=0.01)
    _train(torch, tm, topt, x, y, 2)
    data = _to_bytes(torch.save, {"model": tm.state_dict(), "opt": topt.state_dict()})
    ckpt = ember.load(io.BytesIO(data))
    em.load_state_dict(ckpt["model"])
    eopt = ember.optim.Adam(em.parameters(), lr=0.01)
    eopt.load_state_dict(ckpt["opt"])
    _train(torch, tm, topt, x, y, 3)
    _train(ember, em, eopt, x, y, 3)
    for (k, ev), tv in zip(em.state_dict().items(), tm.state_dict().values()):
        np.testing.assert_allclose(_np(ev), _np(tv), rtol=1e-5, atol=1e-6, err_msg=k)


def test_whole_torch_module_with_weights_only_false():
    tm = torch.nn.Sequential(torch.nn.Linear(3, 2))
    data = _to_bytes(torch.save, tm)
    with pytest.raises(pickle.UnpicklingError, match="GLOBAL torch.nn.modules.container"):
        ember.load(io.BytesIO(data))
    em = ember.load(io.BytesIO(data), weights_only=False)
    x = np.ones((1, 3), np.float32)
    np.testing.assert_allclose(_np(em(ember.tensor(x))), _np(tm(torch.tensor(x))), rtol=1e-6)


def test_zip_layout_is_torchs(tmp_path):
    e = {"a": ember.ones(3), "b": ember.zeros(0), "c": ember.arange(5)}
    ember.save(e, tmp_path / "my.model.pt")
    torch.save({"a": torch.ones(3), "b": torch.zeros(0), "c": torch.arange(5)},
               tmp_path / "t.pt")
    ours = zipfile.ZipFile(tmp_path / "my.model.pt")
    theirs = zipfile.ZipFile(tmp_path / "t.pt")
    strip = [n.split("/", 1)[1] for n in ours.namelist()]
    assert strip == [n.split("/", 1)[1] for n in theirs.namelist()]
    assert ours.namelist()[0] == "my.model/data.pkl"
    assert ours.read("my.model/byteorder") == b"little"
    assert ours.read("my.model/version") == theirs.read("t/version")
    raw = (tmp_path / "my.model.pt").read_bytes()
    for info in ours.infolist():
        n, extra = struct.unpack("<HH", raw[info.header_offset + 26:info.header_offset + 30])
        assert (info.header_offset + 30 + n + extra) % 64 == 0, info.filename
    assert len(ours.read("my.model/.data/serialization_id")) == 40
    # torch's mmap path computes record offsets from miniz's layout, not the directory.
    from torch.utils.serialization import config
    old = config.load.calculate_storage_offsets
    config.load.calculate_storage_offsets = True
    try:
        out = torch.load(tmp_path / "my.model.pt", mmap=True, weights_only=True)
    finally:
        config.load.calculate_storage_offsets = old
    assert out["c"].tolist() == [0, 1, 2, 3, 4] and out["b"].shape == (0,)
    assert zipfile.ZipFile(io.BytesIO(_to_bytes(ember.save, 1))).namelist()[0] == \
        "archive/data.pkl"


def test_zip64_records(monkeypatch):
    monkeypatch.setattr(_zip, "ZIP64_LIMIT", 100)
    e = {"big": ember.arange(64.0), "small": ember.ones(2)}
    data = _to_bytes(ember.save, e)
    out = torch.load(io.BytesIO(data), weights_only=True)
    assert out["big"].tolist() == list(range(64)) and out["small"].tolist() == [1.0, 1.0]
    assert ember.load(io.BytesIO(data))["big"].tolist() == list(range(64))


@pytest.mark.parametrize("direction", ["torch->ember", "ember->torch"])
def test_legacy_format(direction):
    e = ember.arange(12.0).reshape(3, 4)
    t = torch.arange(12.0).reshape(3, 4)
    if direction == "torch->ember":
        data = _to_bytes(torch.save, {"x": t, "v": t[1], "i": torch.tensor([1, 2], dtype=torch.int16)},
                         _use_new_zipfile_serialization=False)
        out = ember.load(io.BytesIO(data))
        _same(out["v"], t[1])
        out["x"][1, 0] = 50.0
        assert out["v"][0].item() == 50.0 and out["i"].dtype is ember.int16
    else:
        data = _to_bytes(ember.save, {"x": e, "v": e[1], "i": ember.tensor([1, 2], dtype=ember.int16)},
                         _use_new_zipfile_serialization=False)
        out = torch.load(io.BytesIO(data), weights_only=True)
        _same(e[1], out["v"])
        out["x"][1, 0] = 50.0
        assert out["v"][0].item() == 50.0 and out["i"].dtype is torch.int16
    assert not data.startswith(b"PK")


def test_map_location_forms_on_torch_files():
    data = _to_bytes(torch.save, {"w": torch.ones(2)})
    for loc in ("cpu", ember.device("cpu"), {"cpu": "cpu"}, lambda s, loc: s,
                lambda s, loc: None, b"cpu"):
        out = ember.load(io.BytesIO(data), map_location=loc)
        assert out["w"].device == ember.device("cpu") and out["w"].tolist() == [1.0, 1.0]
    if not ember.cuda.is_available():
        with pytest.raises(RuntimeError, match="torch.cuda.is_available\\(\\) is False"):
            ember.load(io.BytesIO(data), map_location={"cpu": "cuda:0"})


def test_mmap_is_zero_copy_and_copy_on_write(tmp_path):
    import mmap
    path = tmp_path / "t.pt"
    torch.save({"a": torch.arange(6.0).reshape(2, 3), "b": torch.ones(4)}, path)
    out = ember.load(path, mmap=True)
    base = out["a"]._data
    while not isinstance(base, mmap.mmap):
        base = base.obj if isinstance(base, memoryview) else base.base
    out["a"][0, 0] = 100.0                       # writable, as torch's (MAP_PRIVATE)
    assert out["a"][0, 0].item() == 100.0
    assert ember.load(path)["a"][0, 0].item() == 0.0    # the file never changes
    torch_out = torch.load(path, mmap=True)
    torch_out["a"][0, 0] = 100.0
    assert torch.load(path)["a"][0, 0].item() == 0.0
    with pytest.raises(ValueError, match="f must be a file path in order to use the mmap"):
        ember.load(io.BytesIO(path.read_bytes()), mmap=True)
    legacy = tmp_path / "legacy.pt"
    torch.save(torch.ones(1), legacy, _use_new_zipfile_serialization=False)
    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match="mmap can only be used with files saved with"):
            lib.load(str(legacy), mmap=True)


def _malicious_zip(module, name, arg):
    """A checkpoint whose data.pkl calls ``module.name(arg)`` when unpickled."""
    pkl = (b"\x80\x02c" + f"{module}\n{name}\n".encode() + b"X" +
           struct.pack("<I", len(arg)) + arg.encode() + b"\x85R.")
    buf = io.BytesIO()
    w = _zip.ZipWriter(buf)
    w.write_record("archive/data.pkl", pkl)
    w.write_record("archive/version", b"3\n")
    w.close()
    return buf.getvalue()


@pytest.mark.parametrize("module,name", [("os", "system"), ("subprocess", "getoutput")])
def test_malicious_pickle_runs_nothing(tmp_path, module, name):
    marker = tmp_path / "pwned"
    data = _malicious_zip(module, name, f"touch {marker}")
    errors = []
    for lib in (torch, ember):
        with pytest.raises(pickle.UnpicklingError) as info:
            lib.load(io.BytesIO(data))
        errors.append(str(info.value))
        assert not marker.exists()
    assert errors[0] == errors[1]     # torch's message, word for word
    assert f"GLOBAL {module}.{name}" in errors[1]
    if module == "os":   # blocked even when allowlisted, as in torch
        with serialization.safe_globals([os.system]):
            with pytest.raises(pickle.UnpicklingError, match="whose module os is blocked"):
                ember.load(io.BytesIO(data))
        assert not marker.exists()
    ember.load(io.BytesIO(data), weights_only=False)   # the payload is real
    assert marker.exists()


def test_a_pickle_cannot_rewrite_a_storage_or_read_past_it():
    def archive(pkl):
        buf = io.BytesIO()
        w = _zip.ZipWriter(buf)
        w.write_record("archive/data.pkl", pkl)
        w.write_record("archive/data/0", np.ones(4, np.float32))
        w.write_record("archive/version", b"3\n")
        w.close()
        return io.BytesIO(buf.getvalue())

    storage = b"(X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000" \
              b"X\x03\x00\x00\x00cpuK\x04tQ"
    with pytest.raises(pickle.UnpicklingError, match="Can only build"):
        ember.load(archive(b"\x80\x02" + storage + b"}b."))
    # _rebuild_tensor_v2(storage, offset=2, size=(8,), stride=(1,)): past the 4 elements.
    past = (b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n(" + storage +
            b"K\x02K\x08\x85K\x01\x85\x89ccollections\nOrderedDict\n)RtR.")
    with pytest.raises(RuntimeError, match="reaches past the end of its storage"):
        ember.load(archive(past))
    with pytest.raises(RuntimeError):
        torch.load(archive(past))
    # Setting attributes of an allowlisted class or dtype (BUILD) or appending to anything
    # but a list is refused, as torch's unpickler refuses it.
    for pkl in (b"\x80\x02ctorch\nSize\n}X\x01\x00\x00\x00aK\x01sb.",
                b"\x80\x02ctorch\nfloat32\nN}X\x02\x00\x00\x00npK\x01s\x86b.",
                b"\x80\x02ctorch\nSize\n)RK\x01a."):
        for lib in (torch, ember):
            with pytest.raises(pickle.UnpicklingError, match="Can only"):
                lib.load(archive(pkl))
    assert ember.float32.np == np.float32 and not hasattr(ember.Size, "a")


def test_safe_globals_api():
    Point = collections.namedtuple("Point", "x y")
    Point.__module__ = __name__
    globals()["Point"] = Point
    data = _to_bytes(ember.save, Point(1, ember.ones(1)))
    serialization.clear_safe_globals()
    with pytest.raises(pickle.UnpicklingError, match="Unsupported global"):
        ember.load(io.BytesIO(data))
    with serialization.safe_globals([Point]):
        assert serialization.get_safe_globals() == [Point]
        assert ember.load(io.BytesIO(data)).x == 1
    assert serialization.get_safe_globals() == []
    serialization.add_safe_globals([(Point, f"{__name__}.Point")])
    try:
        assert ember.load(io.BytesIO(data)).y.tolist() == [1.0]
    finally:
        serialization.clear_safe_globals()


def test_save_is_atomic(tmp_path):
    path = tmp_path / "ckpt.pt"
    ember.save({"w": ember.ones(2)}, path)
    before = path.read_bytes()
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
        ember.save({"w": ember.zeros(2), "bad": lambda: 0}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.pt"]
    ember.save({"w": ember.zeros(2)}, str(path))
    assert torch.load(path)["w"].tolist() == [0.0, 0.0]
    assert os.listdir(tmp_path) == ["ckpt.pt"]
    umask = os.umask(0)
    os.umask(umask)
    ember.save(1, tmp_path / "new.pt")     # a new file gets the usual mode, not mkstemp's
    assert (tmp_path / "new.pt").stat().st_mode & 0o777 == 0o666 & ~umask


def test_truncated_or_damaged_files_raise_naming_the_file(tmp_path):
    path = tmp_path / "damaged.pt"
    ember.save({"w": ember.arange(100.0), "sd": nn.Linear(3, 2).state_dict()}, path)
    good = path.read_bytes()
    for cut in (0, 3, 10, 100, len(good) // 2, len(good) - 200, len(good) - 1):
        path.write_bytes(good[:cut])
        with pytest.raises((RuntimeError, pickle.UnpicklingError)) as info:
            ember.load(path)
        assert str(path) in str(info.value), cut
    data_at = good.index(np.arange(100.0, dtype=np.float32).tobytes()[:32])
    for at in (data_at + 7, 70):        # a tensor's bytes; the pickle's
        bad = bytearray(good)
        bad[at] ^= 0xFF
        path.write_bytes(bytes(bad))
        with pytest.raises(RuntimeError, match="crc32") as info:
            ember.load(path)
        assert str(path) in str(info.value)
    legacy = io.BytesIO()
    torch.save({"w": torch.arange(10.0)}, legacy, _use_new_zipfile_serialization=False)
    for cut in (5, 50, len(legacy.getvalue()) - 4):
        with pytest.raises((RuntimeError, pickle.UnpicklingError), match="BytesIO"):
            ember.load(io.BytesIO(legacy.getvalue()[:cut]))


def test_file_objects(tmp_path):
    e = {"w": ember.randn(3, 2)}
    with open(tmp_path / "f.pt", "wb") as fh:
        ember.save(e, fh)
    with open(tmp_path / "f.pt", "rb") as fh:
        out = torch.load(fh, weights_only=True)
    with open(tmp_path / "f.pt", "rb") as fh:
        back = ember.load(fh)
    _same(back["w"], out["w"])
    assert zipfile.ZipFile(tmp_path / "f.pt").namelist()[0] == "archive/data.pkl"
    with pytest.raises(AttributeError, match="file-like object with a 'write' attribute"):
        ember.save(e, 3)
    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match="Parent directory .*nowhere does not exist"):
            lib.save(1, tmp_path / "nowhere" / "x.pt")
    ember.save(1, tmp_path / "n\u00e4me.pt")    # a name torch's writer cannot take in ASCII
    assert zipfile.ZipFile(tmp_path / "n\u00e4me.pt").namelist()[0] == "archive/data.pkl"


# ---- safetensors ----------------------------------------------------------------------
def _st_pair():
    rng = np.random.default_rng(0)
    values = {"w": rng.standard_normal((3, 4)), "i": np.arange(5), "b": np.array([True, False]),
              "h": rng.standard_normal(3), "bf": rng.standard_normal((2, 2)),
              "c": rng.standard_normal(2) + 1j, "e": np.zeros((0, 3))}
    dtypes = {"w": "float32", "i": "int64", "b": "bool", "h": "float16", "bf": "bfloat16",
              "c": "complex64", "e": "float64"}
    e = {k: ember.tensor(v).to(getattr(ember, dtypes[k])) for k, v in values.items()}
    t = {k: torch.tensor(v).to(getattr(torch, dtypes[k])) for k, v in values.items()}
    return e, t


def test_safetensors_against_the_package(tmp_path):
    st = pytest.importorskip("safetensors.torch")
    e, t = _st_pair()
    meta = {"format": "pt", "note": "ember"}
    # Byte for byte (the package orders several metadata keys by hash, so one key here).
    assert est.save(e, metadata={"format": "pt"}) == st.save(t, metadata={"format": "pt"})
    assert est.save(e) == st.save(t)
    est.save_file(e, tmp_path / "e.safetensors", metadata=meta)
    st.save_file(t, tmp_path / "t.safetensors", metadata=meta)
    from_ember = st.load_file(tmp_path / "e.safetensors")
    from_torch = est.load_file(tmp_path / "t.safetensors")
    for k in e:
        _same(e[k], from_ember[k])
        _same(from_torch[k], t[k])
    assert est.metadata((tmp_path / "t.safetensors").read_bytes()) == meta
    # ember.load, as torch.load, reads a path ending in .safetensors as safetensors.
    via_load = ember.load(tmp_path / "t.safetensors", map_location="cpu")
    _same(via_load["bf"], torch.load(tmp_path / "t.safetensors")["bf"])
    with pytest.raises(RuntimeError, match="dict map_location is not supported"):
        ember.load(tmp_path / "t.safetensors", map_location={"cpu": "cpu"})
    loaded = est.load(st.save(t))
    loaded["w"][0, 0] = 5.0       # writable
    _same(loaded["bf"], t["bf"])


def test_safetensors_refuses_what_the_package_refuses():
    st = pytest.importorskip("safetensors.torch")
    x, tx = ember.zeros(4), torch.zeros(4)
    cases = [({"a": x, "b": x}, {"a": tx, "b": tx}),
             ({"a": x, "b": x[:2]}, {"a": tx, "b": tx[:2]}),
             ({"t": ember.zeros(3, 4).t()}, {"t": torch.zeros(3, 4).t()}),
             ({"a": 1}, {"a": 1})]
    for ours, theirs in cases:
        with pytest.raises(Exception) as mine:
            est.save(ours)
        with pytest.raises(Exception) as ref:
            st.save(theirs)
        assert type(mine.value) is type(ref.value)
        assert str(mine.value).split(":")[0] == str(ref.value).split(":")[0]
    assert set(est.load(est.save({"a": x[:2], "b": x[2:]}))) == {"a", "b"}   # no overlap
    good = est.save({"a": x})
    for bad in (good[:4], good[:-3], struct.pack("<Q", 500) + b"{}"):
        with pytest.raises(est.SafetensorError, match="Error while deserializing"):
            est.load(bad)
