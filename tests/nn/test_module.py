"""Module system: registration, traversal, state_dict, hooks, repr — against torch."""
from collections import OrderedDict

import numpy as np
import pytest
import torch

import ember
import ember.nn as nn

from .helpers import sync


class Net:
    def __init__(self, lib):
        lib.nn.Module.__init__(self)
        self.fc1 = lib.nn.Linear(3, 4)
        self.act = lib.nn.ReLU()
        self.block = lib.nn.Sequential(lib.nn.Linear(4, 4), lib.nn.BatchNorm1d(4))
        self.register_buffer("scale", lib.ones(2))
        self.register_buffer("tmp", lib.zeros(1), persistent=False)
        self.extra = lib.nn.Parameter(lib.zeros(2))

    def forward(self, x):
        return self.block(self.act(self.fc1(x)))


def make_net(lib):
    # Same class body for both libraries: the nn base class is the one thing that differs.
    cls = type("Net", (lib.nn.Module,), {k: v for k, v in Net.__dict__.items()
                                           if k in ("__init__", "forward")})
    return cls(lib)


def test_names_and_order_match_torch():
    e, t = make_net(ember), make_net(torch)
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in e.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert [n for n, _ in e.named_modules()] == [n for n, _ in t.named_modules()]
    assert [n for n, _ in e.named_children()] == [n for n, _ in t.named_children()]
    assert list(e.state_dict()) == list(t.state_dict())
    assert [n for n, _ in e.named_parameters(prefix="m", recurse=False)] == \
        [n for n, _ in t.named_parameters(prefix="m", recurse=False)]


def test_shared_parameters_and_remove_duplicate():
    def build(lib):
        lin = lib.nn.Linear(2, 2)
        return lib.nn.Sequential(lin, lin)
    e, t = build(ember), build(torch)
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in e.named_parameters(remove_duplicate=False)] == \
        [n for n, _ in t.named_parameters(remove_duplicate=False)]
    assert [n for n, _ in e.named_modules(remove_duplicate=False)] == \
        [n for n, _ in t.named_modules(remove_duplicate=False)]
    assert list(e.state_dict()) == list(t.state_dict())


def test_state_dict_roundtrip_and_keep_vars():
    e, t = make_net(ember), make_net(torch)
    sync(e, t)
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_allclose(e(ember.tensor(x)).detach().numpy(),
                               t(torch.from_numpy(x)).detach().numpy(), atol=1e-5)
    sd = e.state_dict()
    assert not sd["fc1.weight"].requires_grad
    assert sd["fc1.weight"]._data is e.fc1.weight._data
    kv = e.state_dict(keep_vars=True)
    assert kv["fc1.weight"] is e.fc1.weight
    assert "tmp" not in sd and "block.1.num_batches_tracked" in sd
    assert sd["block.1.num_batches_tracked"].dtype is ember.int64


def test_load_state_dict_errors_match_torch():
    e, t = ember.nn.Linear(2, 3), torch.nn.Linear(2, 3)
    e.register_buffer("bb", ember.ones(1))
    t.register_buffer("bb", torch.ones(1))
    bad_e = {"weight": ember.ones(3, 3), "zz": ember.ones(1)}
    bad_t = {"weight": torch.ones(3, 3), "zz": torch.ones(1)}
    with pytest.raises(RuntimeError) as te:
        t.load_state_dict(bad_t)
    with pytest.raises(RuntimeError) as ee:
        e.load_state_dict(bad_e)
    assert str(ee.value) == str(te.value)
    r_e = e.load_state_dict({"weight": ember.ones(3, 2)}, strict=False)
    r_t = t.load_state_dict({"weight": torch.ones(3, 2)}, strict=False)
    assert r_e.missing_keys == r_t.missing_keys and r_e.unexpected_keys == r_t.unexpected_keys
    assert repr(e.load_state_dict(e.state_dict())) == repr(t.load_state_dict(t.state_dict()))
    assert (e.weight._data == 1).all()


def _err(fn):
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - comparing exception class and text
        return type(exc), str(exc)
    return None


@pytest.mark.parametrize("action", [
    lambda lib, m: m.register_parameter(1, None),
    lambda lib, m: m.register_parameter("a.b", None),
    lambda lib, m: m.register_parameter("", None),
    lambda lib, m: m.register_parameter("foo", None),
    lambda lib, m: m.register_parameter("p", lib.ones(2)),
    lambda lib, m: m.register_buffer(1, None),
    lambda lib, m: m.register_buffer("a.b", None),
    lambda lib, m: m.register_buffer("", None),
    lambda lib, m: m.register_buffer("foo", None),
    lambda lib, m: m.register_buffer("b", 3),
    lambda lib, m: m.add_module("x", 3),
    lambda lib, m: m.add_module(1, lib.nn.ReLU()),
    lambda lib, m: m.add_module("a.b", lib.nn.ReLU()),
    lambda lib, m: m.add_module("", lib.nn.ReLU()),
    lambda lib, m: m.add_module("foo", lib.nn.ReLU()),
    lambda lib, m: setattr(m, "weight", lib.ones(2)),
    lambda lib, m: setattr(m, "bb", 3),
    lambda lib, m: setattr(m, "c", 3),
    lambda lib, m: m.nope,
    lambda lib, m: m.register_parameter("q", lib.nn.Parameter(lib.ones(2)) * 2),
])
def test_registration_errors_match_torch(action):
    def run(lib):
        m = lib.nn.Linear(2, 3)
        m.foo = 3
        m.register_buffer("bb", lib.ones(1))
        m.c = lib.nn.ReLU()
        return _err(lambda: action(lib, m))
    te, ee = run(torch), run(ember)
    assert te is not None and ee == te


def test_assignment_before_init_errors():
    for what in ("param", "module", "buffer"):
        def run(lib):
            class M(lib.nn.Module):
                def __init__(self):
                    if what == "param":
                        self.x = lib.nn.Parameter(lib.ones(1))
                    elif what == "module":
                        self.x = lib.nn.ReLU()
                    else:
                        self.register_buffer("x", None)
            return _err(M)
        assert run(ember) == run(torch)


def test_setattr_getattr_delattr_dir():
    m = nn.Linear(2, 2)
    p = nn.Parameter(ember.zeros(3))
    m.extra = p
    assert m._parameters["extra"] is p and "extra" not in m.__dict__
    m.extra = None
    assert m._parameters["extra"] is None and m.extra is None
    m.sub = nn.ReLU()
    assert "sub" in m._modules
    del m.sub
    assert "sub" not in m._modules
    m.register_buffer("buf", ember.ones(1))
    m.buf = ember.zeros(1)
    assert m._buffers["buf"]._data[0] == 0
    assert {"weight", "bias", "buf"} <= set(dir(m))
    with pytest.raises(AttributeError):
        _ = m.missing


def test_parameter_basics():
    p = nn.Parameter(ember.ones(2, 2))
    tp = torch.nn.Parameter(torch.ones(2, 2))
    assert isinstance(p, ember.Tensor) and p.requires_grad and p.is_leaf
    assert repr(p) == repr(tp)
    q = nn.Parameter(ember.ones(2), requires_grad=False)
    assert not q.requires_grad
    assert repr(nn.Parameter()) == repr(torch.nn.Parameter())
    y = (p * 2).sum()
    y.backward()
    assert (p.grad._data == 2).all()
    # Parameters keep working with ops; results are plain tensors.
    assert type(p + 1) is ember.Tensor
    import copy
    c = copy.deepcopy(p)
    assert type(c) is nn.Parameter and c._data is not p._data


def test_train_eval_requires_grad_zero_grad_apply():
    m = make_net(ember)
    m.eval()
    assert not m.training and not m.block[1].training
    m.train()
    assert m.block[1].training
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())
    m.requires_grad_(True)
    out = m(ember.randn(4, 3)).sum()
    out.backward()
    assert m.fc1.weight.grad is not None
    m.zero_grad(set_to_none=False)
    assert (m.fc1.weight.grad._data == 0).all()
    m.zero_grad()
    assert m.fc1.weight.grad is None
    seen = []
    m.apply(lambda mod: seen.append(type(mod).__name__))
    t = make_net(torch)
    tseen = []
    t.apply(lambda mod: tseen.append(type(mod).__name__))
    assert seen == tseen


def test_to_dtype_float_double_keeps_parameter_identity():
    m = nn.Linear(2, 3)
    w = m.weight
    m.double()
    assert m.weight is w and m.weight.dtype is ember.float64
    m.to(ember.float32)
    assert m.weight.dtype is ember.float32
    bn = nn.BatchNorm1d(2).double()
    assert bn.num_batches_tracked.dtype is ember.int64
    assert bn.running_mean.dtype is ember.float64
    m.float()
    assert m.to("cpu") is m


def test_forward_hooks():
    for lib in (ember, torch):
        m = lib.nn.Linear(2, 2)
        calls = []
        h1 = m.register_forward_pre_hook(lambda mod, args: calls.append("pre") or (args[0] * 0,))
        h2 = m.register_forward_hook(lambda mod, args, out: out + 1)
        out = m(lib.ones(1, 2))
        np.testing.assert_allclose(np.asarray(out.detach().numpy()),
                                   (m.bias.detach().numpy() + 1)[None], rtol=1e-6)
        assert calls == ["pre"]
        h1.remove()
        h2.remove()
        m(lib.ones(1, 2))
        assert calls == ["pre"]


def test_full_backward_hook_matches_torch():
    def run(lib):
        m = lib.nn.Linear(3, 2)
        with lib.no_grad():
            m.weight.copy_(lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
        seen = {}

        def hook(mod, gin, gout):
            seen["gin"] = [None if g is None else g.detach().numpy().copy() for g in gin]
            seen["gout"] = [g.detach().numpy().copy() for g in gout]
        m.register_full_backward_hook(hook)
        x = lib.ones(1, 3, requires_grad=True)
        m(x).sum().backward()
        return seen, m.weight.detach().numpy()

    te, tw = run(torch)
    ee, ew = run(ember)
    np.testing.assert_array_equal(ew, tw)
    np.testing.assert_allclose(ee["gout"][0], te["gout"][0])
    assert len(ee["gin"]) == len(te["gin"])
    np.testing.assert_allclose(ee["gin"][0], te["gin"][0], rtol=1e-6)


def test_repr_matches_torch():
    def build(lib):
        return lib.nn.Sequential(OrderedDict([
            ("conv", lib.nn.Conv2d(1, 4, 3, padding=1, bias=False)),
            ("seq", lib.nn.Sequential(lib.nn.ReLU(inplace=True), lib.nn.Dropout(0.2))),
            ("list", lib.nn.ModuleList([lib.nn.ReLU(), lib.nn.ReLU(), lib.nn.Linear(1, 2)])),
            ("dict", lib.nn.ModuleDict({"a": lib.nn.Tanh()})),
            ("bn", lib.nn.BatchNorm2d(4)),
        ]))
    assert repr(build(ember)) == repr(build(torch))
    assert repr(nn.ModuleList()) == repr(torch.nn.ModuleList())
    assert repr(nn.Sequential()) == repr(torch.nn.Sequential())


def test_parameter_containers():
    for lib in (ember, torch):
        pl = lib.nn.ParameterList([lib.nn.Parameter(lib.ones(2)), lib.ones(2, 3).double()])
        pd = lib.nn.ParameterDict({"a": lib.nn.Parameter(lib.ones(2)), "b": lib.zeros(3)})
        assert len(pl) == 2 and isinstance(pl[1], lib.nn.Parameter)
        assert list(pd.keys()) == ["a", "b"] and isinstance(pd["b"], lib.nn.Parameter)
    e_pl = nn.ParameterList([nn.Parameter(ember.ones(2)), ember.ones(2, 3).double()])
    t_pl = torch.nn.ParameterList([torch.nn.Parameter(torch.ones(2)), torch.ones(2, 3).double()])
    assert repr(e_pl) == repr(t_pl)
    e_pd = nn.ParameterDict({"a": nn.Parameter(ember.ones(2))})
    t_pd = torch.nn.ParameterDict({"a": torch.nn.Parameter(torch.ones(2))})
    assert repr(e_pd) == repr(t_pd)
    m = nn.Module()
    m.pl = e_pl
    assert [n for n, _ in m.named_parameters()] == ["pl.0", "pl.1"]


def test_sequential_and_modulelist_ops():
    s = nn.Sequential(nn.ReLU(), nn.Tanh(), nn.Sigmoid())
    assert len(s) == 3 and isinstance(s[1], nn.Tanh) and isinstance(s[-1], nn.Sigmoid)
    sub = s[1:]
    assert isinstance(sub, nn.Sequential) and len(sub) == 2
    assert list(sub._modules) == ["1", "2"]
    s.append(nn.Identity())
    assert len(s) == 4 and [type(m).__name__ for m in s][-1] == "Identity"
    with pytest.raises(IndexError, match="index 7 is out of range"):
        s[7]
    del s[0]
    assert list(s._modules) == ["0", "1", "2"]
    ml = nn.ModuleList([nn.ReLU()])
    ml.append(nn.Tanh())
    ml.extend([nn.Sigmoid()])
    ml.insert(0, nn.Identity())
    assert [type(m).__name__ for m in ml] == ["Identity", "ReLU", "Tanh", "Sigmoid"]
    md = nn.ModuleDict({"a": nn.ReLU()})
    md["b"] = nn.Tanh()
    assert list(md.keys()) == ["a", "b"] and "a" in md and len(md) == 2


def test_deepcopy_and_pickle_keep_parameters():
    import copy
    import pickle
    m = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.LSTM(3, 4))
    for c in (copy.deepcopy(m), pickle.loads(pickle.dumps(m))):
        assert repr(c) == repr(m)
        assert type(c[0].weight) is nn.Parameter and c[0].weight.requires_grad
        assert c[0].weight is not m[0].weight
        assert (c[0].weight._data == m[0].weight._data).all()
        assert c[1].num_batches_tracked.dtype is ember.int64
        assert list(c.state_dict()) == list(m.state_dict())


def test_extra_state_and_hooks_with_kwargs():
    def build(lib):
        class WithExtra(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = lib.nn.Linear(2, 2)
                self.count = 3

            def get_extra_state(self):
                return {"count": self.count}

            def set_extra_state(self, state):
                self.count = state["count"]
        return WithExtra()
    e, t = build(ember), build(torch)
    assert list(e.state_dict()) == list(t.state_dict())
    sd = e.state_dict()
    e2 = build(ember)
    e2.count = 0
    e2.load_state_dict(sd)
    assert e2.count == 3
    for lib in (ember, torch):
        m = lib.nn.Linear(2, 2)
        seen = {}

        def pre(mod, args, kwargs):
            seen["pre"] = sorted(kwargs)
            return args, kwargs

        def post(mod, args, kwargs, out):
            seen["post"] = sorted(kwargs)
        m.register_forward_pre_hook(pre, with_kwargs=True)
        m.register_forward_hook(post, with_kwargs=True)
        m(input=lib.ones(1, 2))
        assert seen == {"pre": ["input"], "post": ["input"]}
