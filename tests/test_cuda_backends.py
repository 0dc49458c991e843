"""ember.cuda and ember.backends against torch's CPU build, plus the CuPy paths on a fake CuPy."""
import types

import pytest
import torch

import ember
from ember import _device


def _same_outcome(expr):
    """``expr`` evaluated with torch and with ember: equal results, or the same exception."""
    out = []
    for mod in (torch, ember):
        try:
            out.append(("ok", eval(expr, {"m": mod})))
        except Exception as e:
            out.append(("err", type(e).__name__, str(e)))
    return out


pytestmark = pytest.mark.skipif(torch.cuda.is_available() or ember.cuda.is_available(),
                                reason="these compare with a machine that has no GPU")


@pytest.mark.parametrize("expr", [
    "m.cuda.is_available()", "m.cuda.device_count()", "m.cuda.is_initialized()",
    "m.cuda.current_device()", "m.cuda.get_device_name()", "m.cuda.get_device_name(0)",
    "m.cuda.get_device_properties(0)", "m.cuda.get_device_capability()",
    "m.cuda.synchronize()", "m.cuda.synchronize('cpu')", "m.cuda.init()",
    "m.cuda.manual_seed(1)", "m.cuda.manual_seed_all(1)", "m.cuda.manual_seed('x')",
    "m.cuda.manual_seed(2**70)", "m.cuda.seed()", "m.cuda.seed_all()", "m.cuda.initial_seed()",
    "m.cuda.get_rng_state()", "m.cuda.empty_cache()",
    "m.cuda.memory_allocated()", "m.cuda.memory_allocated(0)", "m.cuda.max_memory_allocated()",
    "m.cuda.memory_reserved()", "m.cuda.max_memory_reserved()", "m.cuda.is_bf16_supported()",
    "m.cuda.set_device(-1)", "m.cuda.set_device('cpu')", "m.cuda.set_device(None)",
    "m.cuda.device('cpu')", "m.cuda.device('cuda:1').idx", "m.cuda.device('cuda').idx",
    "m.cuda.device(m.device('cuda', 2)).idx", "m.cuda.device(0).__enter__()",
    "m.cuda.device(-1).__enter__()",
    "m.backends.cudnn.enabled", "m.backends.cudnn.benchmark", "m.backends.cudnn.deterministic",
    "m.backends.cudnn.allow_tf32", "m.backends.cudnn.benchmark_limit",
    "m.backends.cudnn.is_available()", "m.backends.cudnn.version()",
    "m.backends.cudnn.is_acceptable(m.zeros(1))",
    "m.backends.mps.is_available()", "m.backends.mps.is_built()",
    "m.backends.cuda.is_built()", "m.backends.cuda.matmul.allow_tf32",
    "m.backends.cuda.matmul.allow_fp16_reduced_precision_reduction",
    "m.backends.cuda.matmul.allow_bf16_reduced_precision_reduction",
    "m.backends.mkldnn.enabled",
])
def test_matches_torch_cpu_build(expr):
    t, e = _same_outcome(expr)
    assert e == t


def test_set_device_without_cuda_raises_not_compiled():
    # torch's CPU build fails here with an AttributeError naming a missing torch._C
    # function; Ember gives the same error as every other device query instead.
    with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
        ember.cuda.set_device(0)
    with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
        ember.cuda.reset_peak_memory_stats()


def test_mkldnn_reports_unavailable():
    assert ember.backends.mkldnn.is_available() is False  # Ember has no to_mkldnn path


def test_cuda_seeding_without_device_leaves_cpu_stream_alone():
    # The streams differ (Ember's is NumPy's): each library is checked against itself.
    for lib in (torch, ember):
        lib.manual_seed(5)
        a = lib.rand(3)
        lib.manual_seed(5)
        lib.cuda.manual_seed_all(123)
        lib.cuda.seed()
        assert lib.equal(lib.rand(3), a), lib.__name__


def test_backend_flags_are_settable_and_tf32_follows_matmul_precision():
    try:
        ember.backends.cudnn.benchmark = True
        assert ember.backends.cudnn.benchmark is True
        torch.set_float32_matmul_precision("high")
        ember.set_float32_matmul_precision("high")
        assert ember.backends.cuda.matmul.allow_tf32 == torch.backends.cuda.matmul.allow_tf32
        ember.backends.cuda.matmul.allow_tf32 = False
        assert ember.get_float32_matmul_precision() == "highest"
        ember.backends.cuda.matmul.allow_tf32 = True
        assert ember.get_float32_matmul_precision() == "high"
        with pytest.raises(AttributeError):
            ember.backends.cuda.matmul.allow_tf64 = True
    finally:
        ember.backends.cudnn.benchmark = False
        torch.set_float32_matmul_precision("highest")
        ember.set_float32_matmul_precision("highest")


# ---- CuPy paths, on a stand-in for cupy with two devices ----------------------------------
class _FakePool:
    def __init__(self):
        self.used, self.total, self.freed = 0, 0, False

    def malloc(self, size):
        self.used += size
        self.total = max(self.total, self.used)
        return size

    def used_bytes(self):
        return self.used

    def total_bytes(self):
        return self.total

    def free_all_blocks(self):
        self.freed = True
        self.total = self.used


def _fake_cupy():
    state = {"device": 0, "synced": [], "allocator": None}
    pool = _FakePool()

    class Device:
        def __init__(self, i):
            self.i = i

        def __enter__(self):
            self.prev, state["device"] = state["device"], self.i

        def __exit__(self, *a):
            state["device"] = self.prev

    runtime = types.SimpleNamespace(
        getDeviceCount=lambda: 2,
        getDevice=lambda: state["device"],
        setDevice=lambda i: state.update(device=i),
        deviceSynchronize=lambda: state["synced"].append(state["device"]),
        getDeviceProperties=lambda i: {
            "name": f"Fake GPU {i}".encode(), "major": 8, "minor": 0,
            "totalGlobalMem": 80 * 2**30, "multiProcessorCount": 108, "integrated": 0,
            "isMultiGpuBoard": 0})
    cuda = types.SimpleNamespace(runtime=runtime, Device=Device,
                                 set_allocator=lambda f: state.update(allocator=f))
    cp = types.SimpleNamespace(cuda=cuda, get_default_memory_pool=lambda: pool)
    return cp, state, pool


@pytest.fixture
def fake_gpu(monkeypatch):
    cp, state, pool = _fake_cupy()
    monkeypatch.setattr(_device, "_cupy", cp)
    monkeypatch.setattr(ember.cuda, "_initialized", False)
    monkeypatch.setattr(ember.cuda, "_peak", {})
    return cp, state, pool


def test_fake_gpu_queries(fake_gpu):
    cp, state, pool = fake_gpu
    assert ember.cuda.is_available() and ember.cuda.device_count() == 2
    assert not ember.cuda.is_initialized()
    assert ember.cuda.current_device() == 0 and ember.cuda.is_initialized()
    ember.cuda.set_device("cuda:1")
    assert ember.cuda.current_device() == 1
    assert ember.cuda.get_device_name() == "Fake GPU 1"
    assert ember.cuda.get_device_name(0) == "Fake GPU 0"
    props = ember.cuda.get_device_properties(ember.device("cuda", 0))
    assert props.total_memory == 80 * 2**30 and props.multi_processor_count == 108
    assert ember.cuda.get_device_capability() == (8, 0)
    with pytest.raises(AssertionError, match="Invalid device id"):
        ember.cuda.get_device_name(5)
    with ember.cuda.device(0):
        assert ember.cuda.current_device() == 0
        ember.cuda.synchronize()
    assert ember.cuda.current_device() == 1
    ember.cuda.synchronize(0)
    assert state["synced"] == [0, 0]


def test_fake_gpu_memory_counters_and_peak(fake_gpu):
    cp, state, pool = fake_gpu
    ember.cuda.init()
    malloc = state["allocator"]
    assert malloc is not None
    malloc(100)
    malloc(50)
    assert ember.cuda.memory_allocated() == 150 and ember.cuda.memory_reserved() == 150
    pool.used = 20  # blocks handed back to the pool
    assert ember.cuda.memory_allocated() == 20
    assert ember.cuda.max_memory_allocated() == 150
    ember.cuda.empty_cache()
    assert pool.freed and ember.cuda.memory_reserved() == 20
    assert ember.cuda.max_memory_reserved() == 150
    ember.cuda.reset_peak_memory_stats()
    assert ember.cuda.max_memory_allocated() == 20


def test_fake_gpu_seeding_reaches_the_generator_cuda_tensors_use(fake_gpu):
    ember.cuda.manual_seed_all(7)
    assert ember.cuda.initial_seed() == 7 == ember.initial_seed()
    a = ember.rand(3)
    ember.cuda.manual_seed(7)
    assert ember.equal(ember.rand(3), a)
    state = ember.cuda.get_rng_state()
    b = ember.rand(2)
    ember.cuda.set_rng_state(state)
    assert ember.equal(ember.rand(2), b)
