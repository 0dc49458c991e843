"""ember.cuda: device queries, seeding and memory statistics for CUDA devices (via CuPy).

Without CuPy or a GPU every function behaves as in torch's CPU-only build: queries that
need a device raise ``AssertionError: Torch not compiled with CUDA enabled``, while the
calls scripts make unconditionally (seeding, ``empty_cache``, memory counters) do nothing
or return 0.
"""
from . import _device
from . import _random
from ._device import cuda_device_count, cuda_is_available
from . import cuda_amp as amp  # torch.cuda.amp (deprecated aliases of ember.amp)

_initialized = False
# CuPy's pool keeps no high-water mark, so Ember keeps one per device: see _track_peak.
_peak = {}


def is_available():
    return cuda_is_available()


def device_count():
    return cuda_device_count()


def is_initialized():
    return _initialized


def _cupy():
    """CuPy with at least one visible device, else torch's CPU-build / no-GPU errors."""
    cp = _device._load_cupy()   # AssertionError (torch's CPU build) without CuPy
    if cuda_device_count() == 0:
        raise RuntimeError("No CUDA GPUs are available")
    return cp


def init():
    global _initialized
    cp = _cupy()
    if not _initialized:
        _initialized = True
        _track_peak(cp)
    return None


def _index(dev, optional=False):
    """A CUDA device index from an int, 'cuda:i' string or ember.device (-1/None: none)."""
    if isinstance(dev, str):
        dev = _device.device(dev)
    if isinstance(dev, _device.device):
        if dev.type != "cuda":
            raise ValueError(f"Expected a cuda device, but got: {dev}")
        if dev.index is None:
            if not optional:
                raise ValueError(f"Expected a torch.device with a specified index or an "
                                 f"integer, but got:{dev}")
            return current_device() if cuda_is_available() else None
        return dev.index
    if dev is None:
        if not optional:
            raise ValueError("Expected a torch.device with a specified index or an integer, "
                             "but got:None")
        return current_device()
    return int(dev)


def current_device():
    init()
    return _device._load_cupy().cuda.runtime.getDevice()


def set_device(device):
    idx = _index(device)
    if idx < 0:  # torch: a negative index means "leave the current device alone"
        return
    init()
    _device._load_cupy().cuda.runtime.setDevice(idx)


class device:
    """Context manager that makes ``device`` the current CUDA device inside the block."""

    def __init__(self, device):
        self.idx = _index(device, optional=True) if device is not None else None
        self.prev_idx = -1

    def __enter__(self):
        # no index (None, or a bare 'cuda' with no GPU) or a negative one: nothing to switch;
        # torch fails comparing None with 0 here, Ember treats it as the no-op -1 is
        if self.idx is None or self.idx < 0:
            self.idx = -1
            return
        if not cuda_is_available():
            raise RuntimeError("PyTorch was compiled without CUDA support")
        self.prev_idx = current_device()
        if self.prev_idx != self.idx:
            set_device(self.idx)

    def __exit__(self, exc_type, exc_value, traceback):
        if self.idx != -1 and self.prev_idx != self.idx:
            set_device(self.prev_idx)
        return False


def _props(dev):
    cp = _cupy()
    init()
    idx = _index(dev, optional=True)
    if not 0 <= idx < cuda_device_count():
        raise AssertionError("Invalid device id")
    return cp.cuda.runtime.getDeviceProperties(idx)


class _CudaDeviceProperties:
    """What torch.cuda.get_device_properties reports, read from cudaGetDeviceProperties."""

    def __init__(self, p):
        name = p["name"]
        self.name = name.decode() if isinstance(name, bytes) else name
        self.major, self.minor = p["major"], p["minor"]
        self.total_memory = p["totalGlobalMem"]
        self.multi_processor_count = p["multiProcessorCount"]
        self.is_integrated = p["integrated"]
        self.is_multi_gpu_board = p["isMultiGpuBoard"]

    def __repr__(self):
        return (f"_CudaDeviceProperties(name='{self.name}', major={self.major}, "
                f"minor={self.minor}, total_memory={self.total_memory // (1024 * 1024)}MB, "
                f"multi_processor_count={self.multi_processor_count})")


def get_device_properties(device=None):
    return _CudaDeviceProperties(_props(device))


def get_device_name(device=None):
    return get_device_properties(device).name


def get_device_capability(device=None):
    p = get_device_properties(device)
    return (p.major, p.minor)


def synchronize(device=None):
    cp = _cupy()
    init()
    idx = _index(device, optional=True)
    with cp.cuda.Device(idx):
        cp.cuda.runtime.deviceSynchronize()


# ---- streams and events --------------------------------------------------------------------
# torch.cuda.Stream / Event over CuPy's (cupy.cuda.Stream / Event / get_elapsed_time).  Without
# CUDA they fail as in torch's CPU-only build.
class Stream:
    """A CUDA stream on ``device`` (default: the current device)."""

    device_type = 1   # torch's DeviceType enum value for CUDA

    def __init__(self, device=None, priority=0, **kwargs):
        if not cuda_is_available():
            raise RuntimeError("torch.cuda.Stream requires CUDA support")
        cp = _device._load_cupy()
        stream = kwargs.pop("_cupy_stream", None)
        if kwargs:
            raise TypeError(f"Stream() got an unexpected keyword argument '{next(iter(kwargs))}'")
        idx = _index(device, optional=True)
        if idx < 0:   # torch: a negative index means the current device
            idx = current_device()
        if stream is None:
            with cp.cuda.Device(idx):
                stream = cp.cuda.Stream(non_blocking=True, priority=priority)
        self._cp, self.priority, self.device_index = stream, priority, idx

    @classmethod
    def _of(cls, cp_stream, idx):
        out = cls.__new__(cls)
        out._cp, out.priority, out.device_index = cp_stream, 0, idx
        return out

    @property
    def device(self):
        return _device.device("cuda", self.device_index)

    @property
    def cuda_stream(self):
        return self._cp.ptr

    @property
    def stream_id(self):
        return self._cp.ptr

    def query(self):
        return self._cp.done

    def synchronize(self):
        self._cp.synchronize()

    def wait_event(self, event):
        event.wait(self)

    def wait_stream(self, stream):
        self.wait_event(stream.record_event())

    def record_event(self, event=None):
        if event is None:
            event = Event()
        event.record(self)
        return event

    def __enter__(self):
        self._ctx = StreamContext(self)
        self._ctx.__enter__()
        return self

    def __exit__(self, *exc):
        self._ctx.__exit__(*exc)
        return False

    def __eq__(self, other):
        return isinstance(other, Stream) and other.cuda_stream == self.cuda_stream and \
            other.device_index == self.device_index

    def __hash__(self):
        return hash((self.cuda_stream, self.device))

    def __repr__(self):
        return f"<torch.cuda.Stream device={self.device} cuda_stream={self.cuda_stream:#x}>"


def current_stream(device=None):
    """The stream work is queued on for ``device`` (default: the current device)."""
    cp = _cupy()
    init()
    idx = _index(device, optional=True)
    with cp.cuda.Device(idx):
        return Stream._of(cp.cuda.get_current_stream(), cp.cuda.runtime.getDevice())


def default_stream(device=None):
    """The device's null stream, where work goes outside any ``stream(...)`` block."""
    cp = _cupy()
    init()
    idx = _index(device, optional=True)
    with cp.cuda.Device(idx):
        return Stream._of(cp.cuda.Stream(null=True), cp.cuda.runtime.getDevice())


def set_stream(stream):
    """Make ``stream`` current, and its device the current device (torch's set_stream)."""
    if stream is None:
        return
    set_device(stream.device_index)
    stream._cp.use()


class StreamContext:
    """``with stream(s):`` queues work on ``s``; ``None`` (or no CUDA) does nothing."""

    def __init__(self, stream):
        self.stream = stream
        self.idx = -1 if not cuda_is_available() else current_device()
        self.src_prev_stream = self.dst_prev_stream = None

    def __enter__(self):
        cur = self.stream
        if cur is None or self.idx == -1:
            return
        self.src_prev_stream = current_stream(None)
        if self.src_prev_stream.device != cur.device:
            with device(cur.device):
                self.dst_prev_stream = current_stream(cur.device)
        set_stream(cur)

    def __exit__(self, exc_type, exc_value, traceback):
        cur = self.stream
        if cur is None or self.idx == -1:
            return
        if self.src_prev_stream.device != cur.device:
            set_stream(self.dst_prev_stream)
        set_stream(self.src_prev_stream)


def stream(stream):
    return StreamContext(stream)


class Event:
    """A CUDA event: a marker in a stream, for waiting on or (``enable_timing=True``) timing
    the work between two of them.  Created on its first ``record``, as torch's."""

    def __init__(self, enable_timing=False, blocking=False, interprocess=False,
                 external=False):
        if not cuda_is_available():
            raise RuntimeError("Tried to instantiate dummy base class Event")
        self.enable_timing, self.blocking, self.interprocess = \
            enable_timing, blocking, interprocess
        self._cp = None
        self._idx = None

    def record(self, stream=None):
        if stream is None:
            stream = current_stream()
        cp = _device._load_cupy()
        if self._cp is None:
            self._idx = stream.device_index
            with cp.cuda.Device(self._idx):
                self._cp = cp.cuda.Event(block=self.blocking,
                                         disable_timing=not self.enable_timing,
                                         interprocess=self.interprocess)
        elif self._idx != stream.device_index:
            raise RuntimeError(f"Event device {self._idx} does not match recording stream's "
                               f"device {stream.device_index}.")
        self._cp.record(stream._cp)

    def wait(self, stream=None):
        if stream is None:
            stream = current_stream()
        if self._cp is not None:
            stream._cp.wait_event(self._cp)

    def query(self):
        return True if self._cp is None else self._cp.done

    def synchronize(self):
        if self._cp is not None:
            self._cp.synchronize()

    def elapsed_time(self, end_event):
        """Milliseconds between this event's and ``end_event``'s recorded points."""
        if not (self.enable_timing and end_event.enable_timing):
            raise ValueError("Both events must be created with argument 'enable_timing=True'.")
        if self._cp is None or end_event._cp is None:
            raise ValueError("Both events must be recorded before calculating elapsed time.")
        if not (self.query() and end_event.query()):
            raise RuntimeError("Both events must be completed before calculating elapsed "
                               "time.")
        return _device._load_cupy().cuda.get_elapsed_time(self._cp, end_event._cp)


# ---- seeding ------------------------------------------------------------------------------
# Ember draws random numbers on the host and copies them to the device, so CUDA tensors are
# drawn from ember.default_generator: seeding "the CUDA generator" seeds that one.  Without
# a device torch queues these calls until CUDA starts, which never happens: they do nothing.
def manual_seed(seed):
    seed = int(seed)
    if cuda_is_available():
        _random.default_generator.manual_seed(seed)


def manual_seed_all(seed):
    manual_seed(seed)


def seed():
    if cuda_is_available():
        _random.default_generator.seed()


def seed_all():
    seed()


def initial_seed():
    init()
    return _random.default_generator.initial_seed()


def get_rng_state(device="cuda"):
    init()
    return _random.default_generator.get_state()


def set_rng_state(new_state, device="cuda"):
    init()
    _random.default_generator.set_state(new_state)


# ---- memory -------------------------------------------------------------------------------
def _pool():
    if not cuda_is_available():
        return None
    return _device._load_cupy().get_default_memory_pool()


def _track_peak(cp):
    """Route CuPy's allocations through the pool with a high-water mark taken after each one
    (a peak can only follow an allocation, so this records the true maximum from here on).
    CuPy allocates on the current device, and its pool answers for the current device."""
    pool = cp.get_default_memory_pool()
    runtime = cp.cuda.runtime

    def malloc(size):
        ptr = pool.malloc(size)
        peak = _peak.setdefault(runtime.getDevice(), {"allocated": 0, "reserved": 0})
        peak["allocated"] = max(peak["allocated"], pool.used_bytes())
        peak["reserved"] = max(peak["reserved"], pool.total_bytes())
        return ptr

    cp.cuda.set_allocator(malloc)


def _on(device, fn):
    """``fn(pool)`` with ``device`` (default: the current one) current; 0 without CUDA."""
    pool = _pool()
    if pool is None:
        return 0
    idx = _index(device, optional=True)
    with _device._load_cupy().cuda.Device(idx):
        return fn(pool)


def empty_cache():
    pool = _pool()
    if pool is not None:
        for idx in range(cuda_device_count()):
            with _device._load_cupy().cuda.Device(idx):
                pool.free_all_blocks()


def memory_allocated(device=None):
    return _on(device, lambda pool: pool.used_bytes())


def memory_reserved(device=None):
    return _on(device, lambda pool: pool.total_bytes())


def _high_water(device, key, now):
    """The device's peak of ``key`` since the last reset, or ``now`` if that is higher."""
    if _pool() is None:
        return 0
    init()
    return max(_peak.get(_index(device, optional=True), {}).get(key, 0), now(device))


def max_memory_allocated(device=None):
    return _high_water(device, "allocated", memory_allocated)


def max_memory_reserved(device=None):
    return _high_water(device, "reserved", memory_reserved)


def reset_peak_memory_stats(device=None):
    init()
    idx = _index(device, optional=True)
    _peak[idx] = {"allocated": memory_allocated(idx), "reserved": memory_reserved(idx)}


def is_bf16_supported(including_emulation=True):
    if not cuda_is_available():
        return False
    return get_device_capability()[0] >= 8 or including_emulation
