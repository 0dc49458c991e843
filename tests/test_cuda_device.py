"""The CUDA device model on the CPU stand-in for CuPy (``ember._standin``): devices,
transfers, mixing rules, ``ember.cuda``, module and optimizer moves, checkpoints and pinned
memory.  The stand-in refuses host arrays where CuPy does, so these run everywhere and catch
host/device mix-ups; torch's CPU build is the oracle wherever it can show the behaviour
(errors, signatures, checkpoint files)."""
import copy
import gc
import inspect
import io
import pickle
import sys
import warnings
import zipfile

import numpy as np
import pytest
import torch

import ember
from ember import _device, _standin, nn
from ember.utils.data import DataLoader, TensorDataset
from tests._devices import cuda_backend

CUDA0 = ember.device("cuda", 0)
CUDA1 = ember.device("cuda", 1)


@pytest.fixture
def cuda():
    """cuda backed by the stand-in (two devices) for one test; everything restored after."""
    with cuda_backend("standin"):
        yield


@pytest.fixture
def nocuda(monkeypatch):
    """No CuPy at all, as on a machine without the GPU stack (torch's CPU build)."""
    monkeypatch.setattr(_device, "_cupy", None)
    monkeypatch.setattr(_device, "_cupyx", None)
    monkeypatch.setattr(ember.cuda, "_initialized", ember.cuda._initialized)
    monkeypatch.delenv("EMBER_CUDA_STANDIN", raising=False)
    monkeypatch.setitem(sys.modules, "cupy", None)   # import cupy raises ImportError


def _outcome(fn, lib):
    try:
        return ("ok", fn(lib))
    except Exception as e:  # the error itself is compared
        return ("error", type(e).__name__, str(e))


def _same_error(fn_torch, fn_ember):
    t, e = _outcome(fn_torch, torch), _outcome(fn_ember, ember)
    assert t[0] == "error" and e == t


# ---- devices and creation ------------------------------------------------------------------
@pytest.mark.parametrize("args", [("cuda",), ("cuda:1",), ("cuda", 1), ("cuda:0",)])
def test_device_objects_as_torch(args):
    assert repr(ember.device(*args)) == repr(torch.device(*args))
    assert str(ember.device(*args)) == str(torch.device(*args))


_FACTORIES = {
    "zeros": lambda m, d: m.zeros(2, 3, device=d),
    "ones": lambda m, d: m.ones((2, 3), device=d, dtype=m.float64),
    "empty": lambda m, d: m.empty(4, device=d).zero_(),
    "full": lambda m, d: m.full((2,), 3.5, device=d),
    "arange": lambda m, d: m.arange(0, 5, 2, device=d),
    "arange_float": lambda m, d: m.arange(0.0, 1.0, 0.25, device=d),
    "linspace": lambda m, d: m.linspace(0, 1, 5, device=d),
    "logspace": lambda m, d: m.logspace(0, 2, 3, device=d),
    "eye": lambda m, d: m.eye(3, 2, device=d),
    "tensor": lambda m, d: m.tensor([[1, 2], [3, 4]], device=d),
    "tensor_float": lambda m, d: m.tensor([1.5, 2.5], dtype=m.float16, device=d),
    "as_tensor": lambda m, d: m.as_tensor(np.arange(3.0), device=d),
    "asarray": lambda m, d: m.asarray([1.0, 2.0], device=d),
    "scalar_tensor": lambda m, d: m.scalar_tensor(2.0, device=d),
    "zeros_like": lambda m, d: m.zeros_like(m.ones(2, 2), device=d),
    "ones_like": lambda m, d: m.ones_like(m.ones(2, 2), device=d),
    "empty_like": lambda m, d: m.empty_like(m.ones(2, 2), device=d).zero_(),
    "full_like": lambda m, d: m.full_like(m.ones(2, 2), 7, device=d),
}


@pytest.mark.parametrize("name", sorted(_FACTORIES))
@pytest.mark.parametrize("dev", ["cuda", "cuda:1"])
def test_factories_on_cuda(cuda, name, dev):
    make = _FACTORIES[name]
    t = make(ember, dev)
    assert t.device == ember.device(dev if dev != "cuda" else "cuda:0")
    assert t.is_cuda and not t.is_cpu
    ref = make(torch, "cpu")
    assert str(t.dtype) == str(ref.dtype) and tuple(t.shape) == tuple(ref.shape)
    assert t.cpu().tolist() == ref.tolist()


_SAMPLERS = {
    "rand": lambda m, d: m.rand(2, 3, device=d),
    "randn": lambda m, d: m.randn(4, device=d),
    "randint": lambda m, d: m.randint(0, 5, (3,), device=d),
    "randperm": lambda m, d: m.randperm(6, device=d),
    "normal": lambda m, d: m.normal(0.0, 1.0, (3,), device=d),
    "rand_like": lambda m, d: m.rand_like(m.ones(2, device=d)),
    "randn_like": lambda m, d: m.randn_like(m.ones(2, device=d)),
    "randint_like": lambda m, d: m.randint_like(m.ones(2, device=d), 4),
}


@pytest.mark.parametrize("name", sorted(_SAMPLERS))
@pytest.mark.parametrize("dev", ["cuda:0", "cuda:1"])
def test_samplers_on_cuda(cuda, name, dev):
    # Ember draws CUDA random numbers from the host generator (see ember.cuda): same seed,
    # same values as on the CPU
    ember.manual_seed(3)
    t = _SAMPLERS[name](ember, dev)
    ember.manual_seed(3)
    ref = _SAMPLERS[name](ember, "cpu")
    assert t.device == ember.device(dev)
    assert t.dtype is ref.dtype and t.cpu().tolist() == ref.tolist()


@pytest.mark.parametrize("method", ["new_zeros", "new_ones", "new_empty", "new_full",
                                    "new_tensor"])
def test_new_methods_keep_the_device(cuda, method):
    x = ember.ones(2, device="cuda:1", dtype=ember.float64)
    args = {"new_full": ((3,), 2.0), "new_tensor": ([1.0, 2.0],)}.get(method, ((3,),))
    out = getattr(x, method)(*args)
    assert out.device == CUDA1 and out.dtype is ember.float64
    assert getattr(x, method)(*args, device="cpu").device == ember.device("cpu")


def test_bare_cuda_is_the_current_device(cuda):
    ember.cuda.set_device(1)
    assert ember.zeros(2, device="cuda").device == CUDA1
    assert ember.tensor([1.0], device="cuda").device == CUDA1
    assert ember.ones(2).to("cuda").device == CUDA1
    assert ember.ones(2).cuda().device == CUDA1
    x = ember.ones(2, device="cuda:1")
    assert x.to("cuda") is x     # already there: no copy, as torch
    ember.cuda.set_device(0)
    assert x.to("cuda").device == CUDA0


def test_default_device(cuda):
    ember.set_default_device("cuda")
    assert ember.zeros(2).device == CUDA0
    assert ember.get_default_device() == CUDA0
    ember.set_default_device(None)
    assert ember.zeros(2).device == ember.device("cpu")


def test_from_numpy_stays_on_the_cpu(cuda):
    a = np.arange(3.0)
    t = ember.from_numpy(a)
    assert t.device == ember.device("cpu")
    a[0] = 7.0
    assert t[0].item() == 7.0


def test_tensor_of_a_cuda_tensor_keeps_its_device(cuda):
    x = ember.arange(3.0, device="cuda:1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert ember.tensor(x).device == CUDA1
        assert ember.tensor(x, device="cpu").device == ember.device("cpu")
        assert ember.tensor(x, dtype=ember.float16).device == CUDA1


# ---- transfers ---------------------------------------------------------------------------
def test_to_forms(cuda):
    x = ember.arange(4.0)
    assert x.to("cuda").device == CUDA0
    y = x.to("cuda", ember.float64)
    assert (y.device, y.dtype) == (CUDA0, ember.float64)
    y = x.to(device="cuda:1", dtype=ember.float16, non_blocking=True)
    assert (y.device, y.dtype) == (CUDA1, ember.float16)
    other = ember.zeros(1, device="cuda:1", dtype=ember.int32)
    y = x.to(other)
    assert (y.device, y.dtype) == (CUDA1, ember.int32)
    assert y.to("cuda:1") is y
    g = x.to("cuda")
    assert g.to(ember.float64).device == CUDA0     # a dtype change keeps the device
    c = g.to("cuda", copy=True)
    assert c is not g and c.device == CUDA0 and c.tolist() == g.tolist()
    assert x.to(CUDA0, ember.float32, True, True).device == CUDA0   # non_blocking, copy


def test_to_dtype_on_cuda1(cuda):
    y = ember.arange(4, device="cuda:1")
    assert y.to(ember.float32).device == CUDA1
    c = y.to("cuda:1", copy=True)
    assert c is not y and c.device == CUDA1 and c.tolist() == y.tolist()


def test_cuda_and_cpu_methods(cuda):
    x = ember.tensor([1.0, 2.0])
    assert x.cuda().device == CUDA0
    assert x.cuda(1).device == CUDA1
    assert x.cuda("cuda:1").device == CUDA1
    assert x.cuda(CUDA1, non_blocking=True).device == CUDA1
    g = x.cuda(1)
    assert g.cuda(1) is g
    assert g.cpu().device == ember.device("cpu") and g.cpu().tolist() == [1.0, 2.0]
    assert x.cpu() is x


def test_cuda_to_a_cpu_device_raises_as_torch(cuda):
    _same_error(lambda m: m.ones(2).cuda("cpu"), lambda m: m.ones(2).cuda("cpu"))


def test_device_properties(cuda):
    x = ember.ones(2, device="cuda:1")
    assert (x.is_cuda, x.get_device(), str(x.device)) == (True, 1, "cuda:1")
    c = ember.ones(2)
    assert (c.is_cuda, c.get_device()) == (False, torch.ones(2).get_device())
    assert x.type() == "torch.cuda.FloatTensor"
    d = c.type("torch.cuda.DoubleTensor")
    assert (d.device, d.dtype) == (CUDA0, ember.float64)


def test_numpy_of_a_cuda_tensor_raises_torchs_type_error(cuda):
    x = ember.ones(2, device="cuda")
    msg = ("can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu() to copy the "
           "tensor to host memory first.")
    with pytest.raises(TypeError) as e:
        x.numpy()
    assert str(e.value) == msg
    with pytest.raises(TypeError) as e:
        np.asarray(x)
    assert str(e.value) == msg
    assert x.cpu().numpy().tolist() == [1.0, 1.0]


def test_python_values_of_cuda_tensors(cuda):
    x = ember.tensor([[1.5, 2.0], [3.0, 4.0]], device="cuda:1")
    assert x.tolist() == [[1.5, 2.0], [3.0, 4.0]]
    assert x[0, 0].item() == 1.5
    s = ember.tensor(3, device="cuda")
    assert (float(s), int(s), bool(s), s.item()) == (3.0, 3, True, 3)


def test_printing_shows_the_device(cuda):
    assert repr(ember.tensor([1.0, 2.0], device="cuda")) == \
        "tensor([1., 2.], device='cuda:0')"
    assert repr(ember.tensor([1, 2], dtype=ember.int32, device="cuda:1")) == \
        "tensor([1, 2], device='cuda:1', dtype=torch.int32)"
    assert repr(ember.ones(2, device="cuda", requires_grad=True)) == \
        "tensor([1., 1.], device='cuda:0', requires_grad=True)"


def test_pickle_and_deepcopy_keep_the_device(cuda):
    x = ember.arange(3.0, device="cuda:1")
    y = pickle.loads(pickle.dumps(x))
    assert y.device == CUDA1 and y.tolist() == x.tolist()
    p = nn.Parameter(ember.ones(2, device="cuda:1"))
    q = copy.deepcopy(p)
    assert q.device == CUDA1 and isinstance(q, nn.Parameter)


def test_autograd_across_devices(cuda):
    a = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = a.to("cuda")
    assert type(b.grad_fn).__name__ == "ToCopyBackward0"
    (b * b).sum().backward()
    assert a.grad.device == ember.device("cpu") and a.grad.tolist() == [2.0, 4.0, 6.0]

    w = ember.tensor([1.0, -1.0], device="cuda", requires_grad=True)
    (w.cpu() * 3).sum().backward()
    assert w.grad.device == CUDA0 and w.grad.tolist() == [3.0, 3.0]



def test_autograd_across_devices_cuda1(cuda):
    # the two gradient paths meet on cuda:1 (the leaf's device) and are summed there
    v = ember.tensor([2.0], device="cuda:1", requires_grad=True)
    (v.to("cuda:0") * v.cpu().to("cuda:0")).sum().backward()
    assert v.grad.device == CUDA1 and v.grad.tolist() == [4.0]


# ---- mixing devices in one op ---------------------------------------------------------------
_MIXED = "Expected all tensors to be on the same device, but found at least two devices, "


def test_cpu_and_cuda_in_one_elementwise_op(cuda):
    g, c = ember.ones(2, 3, device="cuda"), ember.ones(2, 3)
    # torch's TensorIterator names the first non-CPU device first
    for fn in (lambda: g + c, lambda: g * c, lambda: ember.maximum(g, c)):
        with pytest.raises(RuntimeError) as e:
            fn()
        assert str(e.value) == _MIXED + "cuda:0 and cpu!"


def test_two_cuda_devices_in_one_op(cuda):
    a, b = ember.ones(2, device="cuda:0"), ember.ones(2, device="cuda:1")
    with pytest.raises(RuntimeError) as e:
        a + b
    assert str(e.value) == _MIXED + "cuda:0 and cuda:1!"
    with pytest.raises(RuntimeError) as e:
        b - a
    assert str(e.value) == _MIXED + "cuda:1 and cuda:0!"


def test_copy_between_devices(cuda):
    # copy_ is the one op that takes its source from any device (torch)
    for dst, src in (("cuda", "cpu"), ("cpu", "cuda"), ("cuda:0", "cuda:1"),
                     ("cuda:1", "cpu")):
        t = ember.zeros(3, device=dst)
        t.copy_(ember.arange(3.0, device=src))
        assert t.device == ember.device(dst if dst != "cuda" else "cuda:0")
        assert t.cpu().tolist() == [0.0, 1.0, 2.0]


def test_cpu_index_tensors_index_cuda_tensors(cuda):
    g = ember.arange(12.0, device="cuda").reshape(3, 4)
    idx = ember.tensor([2, 0])
    assert g[idx].device == CUDA0 and g[idx].tolist() == [[8, 9, 10, 11], [0, 1, 2, 3]]
    mask = ember.tensor([True, False, True])
    assert g[mask].tolist() == [[0, 1, 2, 3], [8, 9, 10, 11]]
    g[idx] = 0.0
    assert g.device == CUDA0 and g.sum().item() == sum(range(4, 8))


# ---- tensors on cuda:1 with cuda:0 current ------------------------------------------------
@pytest.mark.parametrize("name, fn", [
    ("add", lambda x: x + 1), ("mul", lambda x: x * x), ("sum", lambda x: x.sum()),
    ("matmul", lambda x: x @ x.T), ("getitem", lambda x: x[0]), ("view", lambda x: x.view(-1)),
    ("clone", lambda x: x.clone()), ("exp", lambda x: x.exp()),
    ("softmax", lambda x: ember.softmax(x, 1)), ("uniform_", lambda x: x.uniform_()),
])
def test_ops_on_cuda1_stay_on_cuda1(cuda, name, fn):
    x = ember.ones(2, 3, device="cuda:1")
    assert ember.cuda.current_device() == 0
    out = fn(x)
    assert out.device == CUDA1


def test_backward_on_cuda1(cuda):
    w = ember.ones(3, device="cuda:1", requires_grad=True)
    (w * w).sum().backward()
    assert w.grad.device == CUDA1 and w.grad.tolist() == [2.0, 2.0, 2.0]


# ---- ember.cuda ---------------------------------------------------------------------------
def test_cuda_queries_and_current_device(cuda):
    assert ember.cuda.is_available() and ember.cuda.device_count() == 2
    assert ember.cuda.current_device() == 0
    ember.cuda.set_device(1)
    assert ember.cuda.current_device() == 1
    ember.cuda.set_device(CUDA0)
    assert ember.cuda.current_device() == 0
    with ember.cuda.device(1):
        assert ember.cuda.current_device() == 1
        assert ember.zeros(1, device="cuda").device == CUDA1
        with ember.cuda.device("cuda:0"):
            assert ember.cuda.current_device() == 0
        assert ember.cuda.current_device() == 1
    assert ember.cuda.current_device() == 0
    ember.cuda.synchronize()
    ember.cuda.synchronize(1)
    assert ember.cuda.current_device() == 0


def test_cuda_seeding(cuda):
    ember.cuda.manual_seed(5)
    a = ember.rand(4, device="cuda")
    ember.cuda.manual_seed_all(5)
    b = ember.rand(4, device="cuda")
    assert a.tolist() == b.tolist()


def test_memory_statistics(cuda):
    gc.collect()    # arrays of earlier tests, freed now rather than in the middle
    ember.cuda.reset_peak_memory_stats()
    before = ember.cuda.memory_allocated()
    x = ember.zeros(1024, device="cuda")
    assert ember.cuda.memory_allocated() - before >= 4096
    assert ember.cuda.max_memory_allocated() >= before + 4096
    del x
    gc.collect()
    assert ember.cuda.memory_allocated() == before
    assert ember.cuda.max_memory_allocated() >= before + 4096
    ember.cuda.reset_peak_memory_stats()
    assert ember.cuda.max_memory_allocated() == ember.cuda.memory_allocated()
    ember.cuda.empty_cache()
    assert ember.cuda.memory_reserved() >= ember.cuda.memory_allocated()


def test_event_timing(cuda):
    start = ember.cuda.Event(enable_timing=True)
    end = ember.cuda.Event(enable_timing=True)
    assert start.query()          # nothing recorded yet: done
    start.record()
    y = (ember.ones(256, 256, device="cuda") @ ember.ones(256, 256, device="cuda")).sum()
    end.record()
    end.synchronize()
    assert end.query() and y.item() == 256.0 ** 3
    ms = start.elapsed_time(end)
    assert isinstance(ms, float) and ms >= 0.0


def test_event_errors_as_torch(cuda):
    # torch's CUDAEvent checks timing first, then that both were recorded (ValueErrors)
    a, b = ember.cuda.Event(), ember.cuda.Event()
    with pytest.raises(ValueError, match=r"^Both events must be created with argument "
                                         r"'enable_timing=True'\.$"):
        a.elapsed_time(b)
    a, b = ember.cuda.Event(enable_timing=True), ember.cuda.Event(enable_timing=True)
    with pytest.raises(ValueError, match=r"^Both events must be recorded before calculating "
                                         r"elapsed time\.$"):
        a.elapsed_time(b)
    a.record()
    with pytest.raises(RuntimeError, match=r"^Event device 0 does not match recording "
                                           r"stream's device 1\.$"):
        a.record(ember.cuda.Stream(1))


def test_streams(cuda):
    s = ember.cuda.Stream()
    assert s.device == CUDA0 and s.device_index == 0
    assert ember.cuda.current_stream() == ember.cuda.default_stream()
    assert s != ember.cuda.default_stream()
    with ember.cuda.stream(s):
        assert ember.cuda.current_stream() == s
        x = ember.ones(4, device="cuda") * 2
    assert ember.cuda.current_stream() == ember.cuda.default_stream()
    s.wait_stream(ember.cuda.current_stream())
    e = s.record_event()
    assert isinstance(e, ember.cuda.Event) and e.query()
    ember.cuda.current_stream().wait_event(e)
    s.synchronize()
    assert s.query() and x.tolist() == [2.0] * 4
    assert repr(s).startswith("<torch.cuda.Stream device=cuda:0 cuda_stream=0x")
    with ember.cuda.stream(None):
        assert ember.cuda.current_stream() == ember.cuda.default_stream()


def test_stream_on_another_device_switches_the_device(cuda):
    s1 = ember.cuda.Stream(device=1)
    assert s1.device == CUDA1
    with ember.cuda.stream(s1):      # as torch.cuda.set_stream, the device follows
        assert ember.cuda.current_device() == 1
        assert ember.cuda.current_stream() == s1
    assert ember.cuda.current_device() == 0
    assert ember.cuda.current_stream() == ember.cuda.default_stream(0)


@pytest.mark.parametrize("name", [
    "is_available", "device_count", "current_device", "set_device", "synchronize",
    "manual_seed", "manual_seed_all", "memory_allocated", "max_memory_allocated",
    "reset_peak_memory_stats", "empty_cache", "current_stream", "default_stream", "stream",
    "set_stream"])
def test_cuda_function_signatures_as_torch(name):
    names = list(inspect.signature(getattr(torch.cuda, name)).parameters)
    assert list(inspect.signature(getattr(ember.cuda, name)).parameters) == names


@pytest.mark.parametrize("name", ["Event", "Stream"])
def test_cuda_class_signatures_as_torch(name):
    t = list(inspect.signature(getattr(torch.cuda, name).__new__).parameters)[1:]
    e = list(inspect.signature(getattr(ember.cuda, name)).parameters)
    assert e == t


@pytest.mark.parametrize("expr", [
    "m.cuda.Event()", "m.cuda.Event(enable_timing=True)", "m.cuda.Stream()",
    "m.cuda.current_stream()", "m.cuda.default_stream()", "m.cuda.stream(None).__enter__()",
    "m.cuda.set_stream(None)", "m.ones(2).cuda()", "m.ones(2).to('cuda')",
    "m.zeros(2, device='cuda')", "m.ones(2).pin_memory()", "m.ones(2).is_pinned()",
    "m.empty(2, pin_memory=True)", "m.rand(2, pin_memory=True)",
    "m.zeros_like(m.ones(2), pin_memory=True)", "m.linspace(0, 1, 3, pin_memory=True)",
])
def test_without_cuda_as_torchs_cpu_build(nocuda, expr):
    t = _outcome(lambda m: eval(expr, {"m": m}), torch)
    e = _outcome(lambda m: eval(expr, {"m": m}), ember)
    assert e == t


# ---- modules ------------------------------------------------------------------------------
def _net():
    return nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))


@pytest.mark.parametrize("move, dev, dtype", [
    (lambda m: m.cuda(), CUDA0, ember.float32),
    (lambda m: m.cuda(1), CUDA1, ember.float32),
    (lambda m: m.to("cuda"), CUDA0, ember.float32),
    (lambda m: m.to("cuda:1", ember.float64), CUDA1, ember.float64),
    (lambda m: m.to(device=CUDA0, dtype=ember.float16, non_blocking=True), CUDA0,
     ember.float16),
    (lambda m: m.to(ember.ones(1, device="cuda:1", dtype=ember.float64)), CUDA1, ember.float64),
])
def test_module_moves(cuda, move, dev, dtype):
    m = _net()
    params = list(m.parameters())
    m(ember.randn(5, 4)).sum().backward()
    assert move(m) is m
    assert list(m.parameters()) == params and all(isinstance(p, nn.Parameter) for p in params)
    for p in m.parameters():
        assert (p.device, p.dtype, p.is_leaf) == (dev, dtype, True)
        assert (p.grad.device, p.grad.dtype) == (dev, dtype)
    bn = m[1]
    assert bn.running_mean.device == dev and bn.running_mean.dtype is dtype
    assert bn.num_batches_tracked.device == dev and bn.num_batches_tracked.dtype is ember.int64
    m.cpu()
    assert all(p.device == ember.device("cpu") for p in m.parameters())
    assert bn.running_var.device == ember.device("cpu")


def _train(dev, make_opt, steps=4):
    ember.manual_seed(0)
    m = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 4)).to(dev)
    opt = make_opt(m.parameters())
    ember.manual_seed(1)
    x, y = ember.randn(32, 6).to(dev), ember.randint(0, 4, (32,)).to(dev)
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(m(x), y)
        loss.backward()
        opt.step()
    return m, opt, loss


_OPTIMIZERS = {
    "SGD": lambda p: ember.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
    "Adam": lambda p: ember.optim.Adam(p, lr=0.01),
    "AdamW_amsgrad": lambda p: ember.optim.AdamW(p, lr=0.01, amsgrad=True),
    "RMSprop": lambda p: ember.optim.RMSprop(p, lr=0.01, momentum=0.5),
    "Adagrad": lambda p: ember.optim.Adagrad(p, lr=0.1),
}


@pytest.mark.parametrize("name", sorted(_OPTIMIZERS))
def test_training_on_cuda_matches_the_cpu(cuda, name):
    mc, oc, lc = _train("cpu", _OPTIMIZERS[name])
    mg, og, lg = _train("cuda", _OPTIMIZERS[name])
    assert lg.device == CUDA0 and lg.item() == lc.item()
    for a, b in zip(mc.parameters(), mg.parameters()):
        assert b.device == CUDA0
        assert np.array_equal(a.detach().numpy(), b.detach().cpu().numpy())
    for p in mg.parameters():
        for key, v in og.state[p].items():
            # torch keeps 'step' a CPU scalar (unless capturable/fused); the rest follow p
            want = ember.device("cpu") if key == "step" else CUDA0
            assert v.device == want, key


def test_optimizer_state_on_the_parameters_device(cuda):
    m, opt, _ = _train("cuda:1", _OPTIMIZERS["Adam"], steps=2)
    for p in m.parameters():
        assert opt.state[p]["exp_avg"].device == CUDA1
        assert opt.state[p]["exp_avg_sq"].device == CUDA1
        assert p.device == CUDA1


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad"])
def test_optimizer_over_two_devices(cuda, name):
    # one group with parameters on cuda:0, cuda:1 and the CPU: each keeps its state (and
    # its update) on its own device, with the same numbers as on the CPU
    def run(devs):
        ember.manual_seed(0)
        ps = [nn.Parameter(ember.randn(3, 2).to(d)) for d in devs]
        opt = _OPTIMIZERS[name](ps)
        for step in range(3):
            for k, p in enumerate(ps):
                p.grad = ember.full((3, 2), 0.5 * (k + 1) - step).to(p.device)
            opt.step()
        return ps, opt
    ref, _ = run(["cpu"] * 3)
    ps, opt = run(["cuda:0", "cuda:1", "cpu"])
    for p, r, dev in zip(ps, ref, [CUDA0, CUDA1, ember.device("cpu")]):
        assert p.device == dev
        assert np.array_equal(p.detach().cpu().numpy(), r.detach().numpy())
        for key, v in opt.state[p].items():
            assert v.device == (ember.device("cpu") if key == "step" else dev), key


def test_init_on_cuda_draws_the_cpu_values(cuda):
    for init in (nn.init.kaiming_uniform_, nn.init.xavier_normal_, nn.init.orthogonal_,
                 nn.init.trunc_normal_, nn.init.eye_, lambda t: nn.init.constant_(t, 0.25)):
        ember.manual_seed(7)
        want = init(ember.empty(4, 3)).tolist()
        ember.manual_seed(7)
        w = init(ember.empty(4, 3, device="cuda:1"))
        assert w.device == CUDA1 and w.cpu().tolist() == want


def test_clip_grad_norm_on_cuda(cuda):
    grads = [ember.tensor([3.0, 0.0]), ember.tensor([[4.0]])]

    def params(devs):
        ps = [nn.Parameter(ember.zeros(g.shape, device=d)) for g, d in zip(grads, devs)]
        for p, g in zip(ps, grads):
            p.grad = g.to(p.device, copy=True)
        return ps
    ref = params(["cpu", "cpu"])
    want = nn.utils.clip_grad_norm_(ref, 1.0)
    for devs in (["cuda", "cuda"], ["cuda:1", "cuda:0"]):
        ps = params(devs)
        total = nn.utils.clip_grad_norm_(ps, 1.0)
        assert total.device == (CUDA1 if devs[0] == "cuda:1" else CUDA0)
        assert total.item() == want.item() == 5.0
        for p, r in zip(ps, ref):
            assert p.grad.device == p.device and p.grad.cpu().tolist() == r.grad.tolist()


def test_optimizer_load_state_dict_moves_state_to_the_parameters(cuda):
    mc, oc, _ = _train("cpu", _OPTIMIZERS["Adam"], steps=2)
    mg = copy.deepcopy(mc).cuda()
    og = ember.optim.Adam(mg.parameters(), lr=0.01)
    og.load_state_dict(oc.state_dict())
    for pc, pg in zip(mc.parameters(), mg.parameters()):
        s = og.state[pg]
        assert s["exp_avg"].device == CUDA0 and s["exp_avg_sq"].device == CUDA0
        assert s["step"].device == ember.device("cpu")
        assert s["exp_avg"].cpu().tolist() == oc.state[pc]["exp_avg"].tolist()
    # and back: a CUDA optimizer's state into a CPU one
    oc2 = ember.optim.Adam(mc.parameters(), lr=0.01)
    oc2.load_state_dict(copy.deepcopy(og.state_dict()))   # not sharing og's 'step'
    assert all(v.device == ember.device("cpu") for s in oc2.state.values() for v in s.values())
    # the same steps follow on both
    x = ember.randn(8, 6)
    for m, o, d in ((mc, oc2, "cpu"), (mg, og, "cuda")):
        o.zero_grad()
        (m(x.to(d)) ** 2).sum().backward()
        o.step()
    for a, b in zip(mc.parameters(), mg.parameters()):
        assert np.array_equal(a.detach().numpy(), b.detach().cpu().numpy())


def test_optimizer_load_state_dict_casts_as_torch():
    # the policy on the CPU, against torch: floating state to the parameter's dtype, 'step'
    # left alone, integer state of a floating parameter cast too
    def run(m):
        p = m.nn.Parameter(m.ones(2, dtype=m.float64))
        opt = m.optim.SGD([p], lr=0.1, momentum=0.9)
        opt.load_state_dict({"state": {0: {"momentum_buffer": m.ones(2, dtype=m.float32),
                                           "step": m.tensor(3.0),
                                           "count": m.tensor([1, 2])}},
                             "param_groups": opt.state_dict()["param_groups"]})
        return {k: str(v.dtype) for k, v in opt.state[p].items()}
    assert run(ember) == run(torch)


# ---- checkpoints ----------------------------------------------------------------------------
def _saved(obj):
    buf = io.BytesIO()
    ember.save(obj, buf)
    return buf.getvalue()


def test_saved_cuda_tensors_record_their_location(cuda):
    data = _saved({"a": ember.ones(2, device="cuda"), "b": ember.ones(2, device="cuda:1"),
                   "c": ember.ones(2)})
    pkl = zipfile.ZipFile(io.BytesIO(data)).read("archive/data.pkl")
    assert b"cuda:0" in pkl and b"cuda:1" in pkl and b"cpu" in pkl
    # torch reads it, mapping the storages to the CPU
    got = torch.load(io.BytesIO(data), map_location="cpu")
    assert {k: v.tolist() for k, v in got.items()} == {k: [1.0, 1.0] for k in "abc"}


@pytest.mark.parametrize("map_location, want", [
    (None, {"a": CUDA0, "b": CUDA1}),
    ("cpu", {"a": ember.device("cpu"), "b": ember.device("cpu")}),
    (ember.device("cpu"), {"a": ember.device("cpu"), "b": ember.device("cpu")}),
    ({"cuda:1": "cuda:0"}, {"a": CUDA0, "b": CUDA0}),
    ({"cuda:0": "cpu", "cuda:1": "cpu"}, {"a": ember.device("cpu"), "b": ember.device("cpu")}),
    (lambda storage, loc: storage, {"a": ember.device("cpu"), "b": ember.device("cpu")}),
    (lambda storage, loc: storage.cuda(1), {"a": CUDA1, "b": CUDA1}),
    ("cuda:1", {"a": CUDA1, "b": CUDA1}),
    ("cuda", {"a": CUDA0, "b": CUDA0}),
])
def test_load_with_map_location(cuda, map_location, want):
    data = _saved({"a": ember.arange(4.0, device="cuda")[1:] - 1,
                   "b": ember.arange(1.0, 4.0, device="cuda:1")})
    got = ember.load(io.BytesIO(data), map_location=map_location)
    assert {k: v.device for k, v in got.items()} == want
    assert got["a"].tolist() == [0.0, 1.0, 2.0] and got["b"].tolist() == [1.0, 2.0, 3.0]


def test_loading_cuda_tensors_without_cuda_raises_torchs_error(cuda, monkeypatch):
    data = _saved({"w": ember.ones(2, device="cuda")})
    monkeypatch.setitem(_standin._state, "count", 0)   # a machine with no CUDA device
    assert not ember.cuda.is_available()
    with pytest.raises(RuntimeError) as e:
        ember.load(io.BytesIO(data))
    with pytest.raises(RuntimeError) as t:
        torch.load(io.BytesIO(data))
    assert str(e.value) == str(t.value)
    assert str(e.value).startswith("Attempting to deserialize object on a CUDA device but "
                                   "torch.cuda.is_available() is False.")
    assert ember.load(io.BytesIO(data), map_location="cpu")["w"].tolist() == [1.0, 1.0]


def test_cuda_model_state_dict_round_trip(cuda):
    ember.manual_seed(0)
    mg = _net().cuda()
    mg(ember.randn(6, 4, device="cuda"))   # batch-norm statistics move off their defaults
    data = _saved(mg.state_dict())
    mc = _net()
    mc.load_state_dict(ember.load(io.BytesIO(data), map_location="cpu"))
    for (k, a), b in zip(mg.state_dict().items(), mc.state_dict().values()):
        assert b.device == ember.device("cpu") and a.cpu().tolist() == b.tolist(), k
    # a CPU state dict loaded straight into a CUDA model, and the file back onto cuda:1
    mg2 = _net().cuda(1)
    mg2.load_state_dict(mc.state_dict())
    mg3 = _net().cuda()
    mg3.load_state_dict(ember.load(io.BytesIO(data)))
    for a, b, c in zip(mg.state_dict().values(), mg2.state_dict().values(),
                       mg3.state_dict().values()):
        assert (b.device, c.device) == (CUDA1, CUDA0)
        assert a.cpu().tolist() == b.cpu().tolist() == c.cpu().tolist()
    mg.eval(), mg2.eval()
    x = ember.randn(3, 4)
    assert mg(x.cuda()).cpu().tolist() == mg2(x.cuda(1)).cpu().tolist()


# ---- pinned memory and the data loader -------------------------------------------------------
def test_pin_memory(cuda):
    x = ember.arange(4.0)
    assert not x.is_pinned()
    p = x.pin_memory()
    assert p.is_pinned() and p is not x and p.device == ember.device("cpu")
    assert p.pin_memory() is p
    # pinning belongs to the memory: views and detached tensors share it, copies do not
    assert p[1:].is_pinned() and p.detach().is_pinned() and p.view(2, 2).is_pinned()
    assert not p.clone().is_pinned() and not (p + 1).is_pinned()
    assert p.tolist() == x.tolist()
    assert ember.empty(3, pin_memory=True).is_pinned()
    assert ember.tensor([1.0], pin_memory=True).is_pinned()
    g = p.to("cuda", non_blocking=True)
    assert g.device == CUDA0 and not g.is_pinned()
    with pytest.raises(RuntimeError, match="^cannot pin 'torch.cuda.FloatTensor' only dense "
                                           "CPU tensors can be pinned$"):
        g.pin_memory()


def test_dataloader_pin_memory(cuda):
    ds = TensorDataset(ember.arange(20.0).reshape(10, 2), ember.arange(10))
    seen = []
    for xb, yb in DataLoader(ds, batch_size=4, pin_memory=True):
        assert xb.is_pinned() and yb.is_pinned()
        xg, yg = xb.to("cuda", non_blocking=True), yb.cuda(non_blocking=True)
        assert (xg.device, yg.device) == (CUDA0, CUDA0)
        seen += yg.tolist()
    assert seen == list(range(10))
    batch = next(iter(DataLoader([{"a": ember.ones(2), "b": "s"}], batch_size=None,
                                 pin_memory=True)))
    assert batch["a"].is_pinned() and batch["b"] == "s"
    assert not next(iter(DataLoader(ds, batch_size=4)))[0].is_pinned()


def test_dataloader_pin_memory_without_cuda_warns_as_torch(nocuda):
    msgs = []
    for m in (torch, ember):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            xb = next(iter(m.utils.data.DataLoader(m.arange(4.0), batch_size=2,
                                                   pin_memory=True)))
        msgs.append([str(x.message) for x in w])
        assert not xb.is_pinned()
    assert msgs[0] == msgs[1]


# ---- mixed precision ----------------------------------------------------------------------
def test_autocast_on_cuda(cuda):
    m = nn.Linear(4, 3).cuda()
    with ember.autocast("cuda", dtype=ember.float16):
        y = m(ember.ones(2, 4, device="cuda"))
    assert (y.device, y.dtype) == (CUDA0, ember.float16)


def test_grad_scaler_keeps_its_scale_on_the_outputs_device(cuda):
    ember.manual_seed(0)
    ref = nn.Linear(4, 1)
    m = copy.deepcopy(ref).cuda()
    x = ember.randn(2, 4)
    opt = ember.optim.SGD(m.parameters(), lr=0.1)
    scaler = ember.amp.GradScaler("cuda", init_scale=1024.0)
    scaled = scaler.scale((m(x.cuda()) ** 2).sum())
    assert scaled.device == CUDA0 and scaler._scale.device == CUDA0
    scaled.backward()
    scaler.step(opt)
    scaler.update()
    assert scaler.get_scale() == 1024.0 and scaler._scale.device == CUDA0
    # the gradients were unscaled before the step: as one plain step on the CPU
    ref_opt = ember.optim.SGD(ref.parameters(), lr=0.1)
    (ref(x) ** 2).sum().backward()
    ref_opt.step()
    for a, b in zip(ref.parameters(), m.parameters()):
        assert b.device == CUDA0
        np.testing.assert_allclose(b.detach().cpu().numpy(), a.detach().numpy(), rtol=1e-6)


# ---- the dispatcher's device rules ----------------------------------------------------------
def test_cpu_and_cuda_in_one_elementwise_op_cpu_first(cuda):
    g, c = ember.ones(2, 3, device="cuda"), ember.ones(2, 3)
    for fn in (lambda: c + g, lambda: c * g, lambda: ember.maximum(c, g)):
        with pytest.raises(RuntimeError) as e:
            fn()
        assert str(e.value) == _MIXED + "cuda:0 and cpu!"


@pytest.mark.parametrize("fn", [lambda g, c: g @ c, lambda g, c: ember.cat([g, c]),
                                lambda g, c: ember.stack([c, g])])
def test_cpu_and_cuda_in_other_ops(cuda, fn):
    g, c = ember.ones(3, 3, device="cuda"), ember.ones(3, 3)
    with pytest.raises(RuntimeError, match="^Expected all tensors to be on the same device"):
        fn(g, c)


def test_zero_dim_cpu_tensors_combine_with_cuda(cuda):
    g = ember.tensor([1.0, 2.0], device="cuda")
    s = ember.tensor(3.0)
    for out, want in ((g + s, [4.0, 5.0]), (s * g, [3.0, 6.0]), (g / s, [1 / 3, 2 / 3]),
                      (ember.where(g > 1, g, s), [3.0, 2.0])):
        assert out.device == CUDA0 and out.cpu().tolist() == pytest.approx(want)


def test_linear_backward_of_a_sum_on_cuda(cuda):
    m = nn.Linear(3, 2)
    x = ember.randn(4, 3)
    m(x).sum().backward()
    want = m.weight.grad.tolist()
    m.zero_grad()
    m.cuda()
    m(x.cuda()).sum().backward()
    assert m.weight.grad.device == CUDA0 and m.weight.grad.cpu().tolist() == want


def test_custom_function_unused_output_gets_zero_grad_on_its_device(cuda):
    class Two(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, ga, gb):
            assert ga.device == gb.device == CUDA0
            return ga * 2 + gb * 3

    x = ember.ones(3, device="cuda", requires_grad=True)
    a, _ = Two.apply(x)
    a.sum().backward()
    assert x.grad.device == CUDA0 and x.grad.cpu().tolist() == [2.0, 2.0, 2.0]


def test_memory_counters_are_per_device(cuda):
    gc.collect()
    gc.disable()   # no collection of other tests' arrays between the readings
    try:
        before0, before1 = ember.cuda.memory_allocated(0), ember.cuda.memory_allocated("cuda:1")
        x = ember.zeros(1 << 18, device="cuda:1")             # 1 MiB of float32 on device 1
        assert ember.cuda.memory_allocated(1) == before1 + (1 << 20)
        assert ember.cuda.memory_allocated(0) == before0
        assert ember.cuda.max_memory_allocated(1) >= before1 + (1 << 20)
        del x
        assert ember.cuda.memory_allocated(1) == before1
        ember.cuda.reset_peak_memory_stats(1)
        assert ember.cuda.max_memory_allocated(1) == before1
    finally:
        gc.enable()


@pytest.mark.parametrize("expr", [
    "ember.rand(2, pin_memory=True)", "ember.randn(2, pin_memory=True)",
    "ember.randperm(3, pin_memory=True)", "ember.zeros_like(ember.ones(2), pin_memory=True)",
    "ember.empty_like(ember.ones(2), pin_memory=True)",
    "ember.full_like(ember.ones(2), 3.0, pin_memory=True)",
    "ember.rand_like(ember.ones(2), pin_memory=True)",
    "ember.randint_like(ember.ones(2), 5, pin_memory=True)",
    "ember.linspace(0, 1, 3, pin_memory=True)", "ember.logspace(0, 1, 3, pin_memory=True)",
])
def test_factories_pin_memory(cuda, expr):
    t = eval(expr)
    assert t.is_pinned() and t.device == ember.device("cpu")
