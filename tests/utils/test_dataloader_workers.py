"""DataLoader with worker processes, against torch's where torch can be the reference:
batch contents and order, IterableDataset sharding, worker info and seeds, errors; and
Ember's own guarantees: shared-memory transfer, no leaked segments or processes."""
import gc
import glob
import importlib
import mmap
import multiprocessing
import os
import random
import re
import signal
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest
import torch

import ember
from ember.utils import data as edata
from ember.utils.data import _shared
from torch.utils import data as tdata

LIBS = [(ember, edata), (torch, tdata)]

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="fork-based tests")


def _as_py(x):
    if isinstance(x, (ember.Tensor, torch.Tensor)):
        return ("T", str(x.dtype), tuple(x.shape), x.tolist())
    if isinstance(x, (list, tuple)):
        return [_as_py(v) for v in x]
    return x


def _lib(name):
    return importlib.import_module(name)


# Data sets live at module level so that the spawn start method can pickle them; they
# return NumPy arrays and Python numbers, which each library's collate turns into its own
# tensors.

class Squares(edata.Dataset):
    def __init__(self, n=10):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.array([i, i * i], dtype=np.float32), i


class Probe(edata.Dataset):
    """Reports where and how each item was loaded: worker info, pid, seeds, RNG draws."""

    def __init__(self, lib, n=8):
        self.lib, self.n = lib, n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        lib = _lib(self.lib)
        info = lib.utils.data.get_worker_info()
        return {"i": i, "id": info.id, "num_workers": info.num_workers, "seed": info.seed,
                "same_type": type(info.dataset) is Probe, "pid": os.getpid(),
                "initial_seed": lib.initial_seed(), "py_random": random.random(),
                "np_random": float(np.random.random()),
                "draw": float(lib.rand(1)[0]), "threads": lib.get_num_threads()}


class _Stream:
    """Each worker yields its own share, chosen through get_worker_info."""

    def __init__(self, lib, n=11):
        self.lib, self.n = lib, n

    def __iter__(self):
        info = _lib(self.lib).utils.data.get_worker_info()
        if info is None:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))


class _Uneven:
    """Worker 0 holds 7 items, worker 1 holds 3: the shorter copy runs out first."""

    def __init__(self, lib):
        self.lib = lib

    def __iter__(self):
        info = _lib(self.lib).utils.data.get_worker_info()
        wid = 0 if info is None else info.id
        return iter(range(100 * wid, 100 * wid + (7, 3)[wid]))


class EmberStream(_Stream, edata.IterableDataset):
    pass


class TorchStream(_Stream, tdata.IterableDataset):
    pass


class EmberUneven(_Uneven, edata.IterableDataset):
    pass


class TorchUneven(_Uneven, tdata.IterableDataset):
    pass


def Stream(lib):
    return {"ember": EmberStream, "torch": TorchStream}[lib](lib)


def Uneven(lib):
    return {"ember": EmberUneven, "torch": TorchUneven}[lib](lib)


class Failing(edata.Dataset):
    """Item 5 fails: by raising ``exc``, exiting, being killed or hanging."""

    def __init__(self, how, exc=ValueError):
        self.how, self.exc = how, exc

    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == 5:
            if self.how == "raise":
                raise self.exc("bad item 5")
            if self.how == "exit":
                os._exit(3)
            if self.how == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            if self.how == "hang":
                time.sleep(30)
        return i


class Slow(edata.Dataset):
    """Item 0 takes much longer than the others."""

    def __len__(self):
        return 6

    def __getitem__(self, i):
        time.sleep(0.4 if i == 0 else 0.01)
        return i


class Noisy(edata.Dataset):
    """A random augmentation drawn with Ember's RNG inside __getitem__."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        return ember.rand(2) + i


class Typed(edata.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        return (ember.tensor([i % 2 == 0]), ember.tensor([i], dtype=ember.int8),
                ember.tensor(float(i), dtype=ember.float64), ember.zeros(0, 3),
                ember.full((2, 2), i, dtype=ember.bfloat16))


class NonLeaf(edata.Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        return ember.ones(2, requires_grad=True) * 2


def _init_fails(worker_id):
    raise ValueError(f"init of worker {worker_id} failed")


def _error_of(fn):
    """The class and message of what ``fn`` raises.  The traceback is dropped at once:
    its frames hold the iterator, whose collection shuts the workers down."""
    try:
        fn()
    except Exception as e:
        e.__traceback__ = None
        return type(e), str(e)
    raise AssertionError("no exception raised")


def _our_segments():
    return glob.glob(os.path.join(_shared.SEGMENT_DIR, f"ember-dl-{os.getpid()}-*"))


def _workers_gone():
    gc.collect()
    return multiprocessing.active_children() == [] and _our_segments() == []


@pytest.fixture(autouse=True)
def _no_leftovers():
    yield
    assert _workers_gone()


@pytest.mark.parametrize("kwargs", [dict(batch_size=3), dict(batch_size=4, drop_last=True),
                                    dict(batch_size=None), dict(sampler=[7, 2, 9, 0, 4]),
                                    dict(batch_sampler=[[3, 1], [0], [9, 8, 7]]),
                                    dict(batch_size=2, prefetch_factor=1)])
def test_batches_equal_torch(kwargs):
    out = [[_as_py(b) for b in data.DataLoader(Squares(), num_workers=2, **kwargs)]
           for lib, data in LIBS]
    assert out[0] == out[1]
    kwargs.pop("prefetch_factor", None)
    assert out[0] == [_as_py(b) for b in edata.DataLoader(Squares(), **kwargs)]


def test_shuffle_order_is_the_same_with_and_without_workers():
    def run(workers):
        g = ember.Generator().manual_seed(7)
        loader = edata.DataLoader(Squares(20), batch_size=3, shuffle=True, generator=g,
                                  num_workers=workers)
        return [b[1].tolist() for b in loader]
    order = run(0)
    assert sorted(sum(order, [])) == list(range(20))
    assert run(2) == order
    ember.manual_seed(3)  # the default generator seeds the sampler and the workers alike
    first = [b[1].tolist() for b in edata.DataLoader(Squares(20), batch_size=3, shuffle=True,
                                                     num_workers=2)]
    ember.manual_seed(3)
    assert [b[1].tolist() for b in edata.DataLoader(Squares(20), batch_size=3,
                                                    shuffle=True)] == first


def test_random_augmentations_repeat_with_the_same_seed():
    def run():
        ember.manual_seed(11)
        return [b.tolist() for b in edata.DataLoader(Noisy(), batch_size=2, num_workers=2)]
    first = run()
    assert run() == first
    rows = [tuple(np.round(np.array(r) % 1, 6)) for b in first for r in b]
    assert len(set(rows)) == len(rows)  # the workers do not repeat each other's draws


def _blas_pools():
    try:
        import threadpoolctl
    except ImportError:
        return False
    return any(p.get("user_api") == "blas" for p in threadpoolctl.threadpool_info())


def _probe_pass(lib, data, seed):
    loader = data.DataLoader(Probe(lib.__name__), batch_size=None, num_workers=2,
                             generator=lib.Generator().manual_seed(seed))
    return loader, list(loader)


def test_worker_info_and_seeds_like_torch():
    assert edata.get_worker_info() is None
    assert [f for f in edata._worker.WorkerInfo.__dataclass_fields__] == \
        [f for f in tdata._utils.worker.WorkerInfo.__dataclass_fields__]
    for lib, data in LIBS:
        loader, items = _probe_pass(lib, data, 5)
        assert [it["i"] for it in items] == list(range(8))
        assert [it["id"] for it in items] == [0, 1] * 4
        base = items[0]["seed"]
        for it in items:
            seed = base + it["id"]
            assert it["num_workers"] == 2 and it["same_type"]
            assert it["seed"] == seed and it["initial_seed"] == seed
            assert it["pid"] != os.getpid()
            assert it["threads"] == 1 or not _blas_pools()
        first = {it["id"]: it for it in reversed(items)}  # each worker's first item
        for wid, it in first.items():
            seed = base + wid
            assert it["py_random"] == random.Random(seed).random()
            assert it["draw"] == float(lib.rand(1, generator=lib.Generator().manual_seed(seed))[0])
            # NumPy's global RNG is seeded from the base seed and worker id, as torch does
            state = tdata._utils.worker._generate_state(base, wid)
            assert it["np_random"] == np.random.RandomState(state).random()
        # The generator decides the seeds: the same seed repeats them, every pass has new ones
        assert _probe_pass(lib, data, 5)[1][0]["seed"] == base
        assert _probe_pass(lib, data, 6)[1][0]["seed"] != base
        assert next(iter(loader))["seed"] != base
        if lib is torch:
            replay = torch.Generator().manual_seed(5)
            assert base == torch.empty((), dtype=torch.int64).random_(generator=replay).item()


def test_workers_do_not_shift_the_random_stream():
    """Unlike torch's, Ember's loader does not draw the workers' seed from the generator,
    so what is drawn after a pass is the same with workers as without."""
    def after_two_passes(workers):
        ember.manual_seed(0)
        loader = edata.DataLoader(Squares(12), batch_size=5, shuffle=True, num_workers=workers)
        orders = [[b[1].tolist() for b in loader] for _ in range(2)]
        return orders, ember.rand(3).tolist()
    assert after_two_passes(2) == after_two_passes(0)


@pytest.mark.parametrize("kwargs", [dict(batch_size=2), dict(batch_size=2, drop_last=True),
                                    dict(batch_size=None), dict(batch_size=4)])
def test_iterable_dataset_sharding_like_torch(kwargs):
    out = []
    for lib, data in LIBS:
        out.append([[_as_py(b) for b in data.DataLoader(Stream(lib.__name__), num_workers=2,
                                                        **kwargs)],
                    [_as_py(b) for b in data.DataLoader(Uneven(lib.__name__), num_workers=2,
                                                        **kwargs)]])
    assert out[0] == out[1]


@pytest.mark.parametrize("exc", [ValueError, KeyError, IndexError])
def test_worker_exception_reraised_like_torch(exc):
    messages = []
    for _lib, data in LIBS:
        loader = data.DataLoader(Failing("raise", exc), batch_size=2, num_workers=2)
        err_type, msg = _error_of(lambda: list(loader))
        assert err_type is exc
        head = "Caught " + exc.__name__ + " in DataLoader worker process 0.\nOriginal " \
               "Traceback (most recent call last):\n"
        assert msg.startswith(head)
        assert 'raise self.exc("bad item 5")' in msg
        assert msg.rstrip().endswith(f"{exc.__name__}: {exc('bad item 5')}")
        messages.append(msg.splitlines()[0])
    assert messages[0] == messages[1]


def test_worker_init_fn_error_and_iteration_goes_on_after_an_error():
    for _lib, data in LIBS:
        err = _error_of(lambda: list(data.DataLoader(Squares(), batch_size=2, num_workers=2,
                                                     worker_init_fn=_init_fails)))
        assert err[0] is ValueError
        assert err[1].startswith("Caught ValueError in DataLoader worker process 0.\n")
        assert err[1].endswith("ValueError: init of worker 0 failed\n")
        it = iter(data.DataLoader(Failing("raise"), batch_size=2, num_workers=2))
        got = [next(it).tolist(), next(it).tolist()]
        assert _error_of(lambda: next(it))[0] is ValueError
        got.append(next(it).tolist())
        assert got == [[0, 1], [2, 3], [6, 7]]
        it = None  # drop the iterator (and its workers) before the next library


@pytest.mark.parametrize("how", ["exit", "kill"])
def test_dead_worker_raises_promptly_like_torch(how):
    for lib, data in LIBS:
        start = time.monotonic()
        it = iter(data.DataLoader(Failing(how), batch_size=2, num_workers=2))
        err = _error_of(lambda: list(it))
        assert err[0] is RuntimeError
        assert re.fullmatch(r"DataLoader worker \(pid\(s\) \d+\) exited unexpectedly", err[1])
        assert time.monotonic() - start < 3
        if lib is ember:  # the pool is gone; the pass is over
            assert next(it, None) is None and multiprocessing.active_children() == []
        it = None  # drop the iterator (and its workers) before the next library


def test_persistent_loader_restarts_after_a_dead_worker():
    loader = edata.DataLoader(Failing("exit"), batch_size=2, num_workers=2,
                              persistent_workers=True)
    first = _error_of(lambda: list(loader))
    again = _error_of(lambda: list(loader))  # from a new pool, not the closed one
    assert first[0] is again[0] is RuntimeError and first[1] != again[1]
    assert "exited unexpectedly" in again[1]
    loader = None  # the persistent pool goes with the loader


def test_hanging_worker_times_out():
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=r"^DataLoader timed out after 0.5 seconds$"):
        list(edata.DataLoader(Failing("hang"), batch_size=2, num_workers=2, timeout=0.5))
    gc.collect()  # the hung worker is terminated at shutdown, not waited for
    assert time.monotonic() - start < 4


def test_in_order_false_returns_ready_batches_first():
    loader = edata.DataLoader(Slow(), batch_size=1, num_workers=2, in_order=False)
    got = [b.item() for b in loader]
    assert sorted(got) == list(range(6)) and got[0] != 0
    assert [b.item() for b in edata.DataLoader(Slow(), num_workers=2)] == list(range(6))


def test_persistent_workers_serve_every_epoch_like_torch():
    for lib, data in LIBS:
        loader = data.DataLoader(Probe(lib.__name__, 4), batch_size=None, num_workers=2,
                                 persistent_workers=True)
        epochs = [[(it["i"], it["pid"]) for it in loader] for _ in range(3)]
        assert [i for i, _ in epochs[0]] == list(range(4)) and epochs[0] == epochs[1]
        assert epochs[2] == epochs[0]
        it = iter(loader)
        next(it)  # an epoch left half way; the next one starts afresh
        assert [b["i"] for b in loader] == list(range(4))
        del loader, it
        fresh = data.DataLoader(Probe(lib.__name__, 4), batch_size=None, num_workers=2)
        pids = [{it["pid"] for it in fresh} for _ in range(2)]
        assert pids[0].isdisjoint(pids[1])  # without persistence every epoch starts anew


def test_persistent_iterable_dataset_restarts():
    loader = edata.DataLoader(Uneven("ember"), batch_size=2, num_workers=2,
                              persistent_workers=True)
    first = [b.tolist() for b in loader]
    assert first == [[0, 1], [100, 101], [2, 3], [102], [4, 5], [6]]
    assert [b.tolist() for b in loader] == first


def test_tensors_arrive_in_shared_memory_and_are_released():
    loader = edata.DataLoader(Squares(6), batch_size=3, num_workers=2)
    x, y = next(iter(loader))
    base = x._data
    while not isinstance(base, mmap.mmap):
        base = base.obj if isinstance(base, memoryview) else base.base
    assert x._data.flags.writeable
    x.add_(1)
    assert x.tolist()[1] == [2.0, 2.0]
    if os.path.exists("/proc/self/maps"):
        def mapped():
            with open("/proc/self/maps") as f:
                return sum(f"ember-dl-{os.getpid()}-" in line for line in f)
        assert mapped() == 2  # x and y, their names already unlinked
        del x, y, base
        gc.collect()
        assert mapped() == 0
    assert _our_segments() == []


def test_abandoned_iterator_leaves_no_processes_or_segments():
    it = iter(edata.DataLoader(Squares(40), batch_size=2, num_workers=2, prefetch_factor=4))
    next(it)
    time.sleep(0.2)  # let the workers fill the queue with batches nobody will read
    assert len(multiprocessing.active_children()) == 2
    del it
    assert _workers_gone()


def test_dtypes_and_odd_shapes_cross_intact():
    got = list(edata.DataLoader(Typed(), batch_size=2, num_workers=2))
    want = list(edata.DataLoader(Typed(), batch_size=2))
    for a, b in zip(got, want):
        assert [(t.dtype, tuple(t.shape), t.tolist()) for t in a] == \
            [(t.dtype, tuple(t.shape), t.tolist()) for t in b]


def test_non_leaf_tensor_refused_with_torch_message():
    with pytest.raises(RuntimeError, match="Caught RuntimeError in DataLoader worker process "
                                           "0(.|\n)*Cowardly refusing to serialize non-leaf"):
        list(edata.DataLoader(NonLeaf(), batch_size=None, num_workers=1))


def test_spawn_context():
    loader = edata.DataLoader(Squares(4), batch_size=2, num_workers=1,
                              multiprocessing_context="spawn")
    assert [b[1].tolist() for b in loader] == [[0, 1], [2, 3]]
    ctx = multiprocessing.get_context("fork")
    loader = edata.DataLoader(Squares(4), batch_size=2, num_workers=2,
                              multiprocessing_context=ctx)
    assert loader.multiprocessing_context is ctx
    assert [b[1].tolist() for b in loader] == [[0, 1], [2, 3]]


@pytest.mark.parametrize("kwargs,exc", [
    (dict(num_workers=0, multiprocessing_context="fork"), ValueError),
    (dict(num_workers=2, multiprocessing_context="nope"), ValueError),
    (dict(num_workers=2, multiprocessing_context=3), TypeError),
    (dict(num_workers=0, prefetch_factor=2), ValueError),
    (dict(num_workers=2, prefetch_factor=-1), ValueError),
    (dict(num_workers=0, persistent_workers=True), ValueError),
])
def test_option_errors_equal_torch(kwargs, exc):
    messages = []
    for _lib, data in LIBS:
        with pytest.raises(exc) as info:
            data.DataLoader(Squares(), **kwargs)
        messages.append(str(info.value))
    assert messages[0] == messages[1]


def test_defaults_warnings_and_frozen_attributes_like_torch():
    out = []
    for _lib, data in LIBS:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            loader = data.DataLoader(Squares(4), batch_size=2, num_workers=2, pin_memory=True)
            batches = [_as_py(b) for b in loader]
            too_many = data.DataLoader(Squares(4), num_workers=os.cpu_count() + 1)
        with pytest.raises(ValueError) as info:
            loader.batch_size = 3
        out.append((loader.prefetch_factor, loader.in_order, loader.timeout,
                    data.DataLoader(Squares()).prefetch_factor, batches,
                    sorted(str(w.message) for w in caught), str(info.value)))
        del too_many
    assert out[0] == out[1]


def test_interpreter_exit_with_a_live_iterator_cleans_up(tmp_path):
    script = tmp_path / "live.py"
    script.write_text(
        "import os, numpy as np\n"
        "from ember.utils.data import DataLoader, Dataset\n"
        "class D(Dataset):\n"
        "    def __len__(self): return 64\n"
        "    def __getitem__(self, i): return np.full(1000, i)\n"
        "it = iter(DataLoader(D(), batch_size=2, num_workers=2, prefetch_factor=4))\n"
        "keep = DataLoader(D(), batch_size=2, num_workers=2, persistent_workers=True)\n"
        "next(it), next(iter(keep))\n"
        "workers = it._pool.processes + keep._iterator._pool.processes\n"
        "print(os.getpid(), *[p.pid for p in workers])\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=30, env=env)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "leaked" not in done.stderr
    pid, *workers = done.stdout.split()
    assert len(workers) == 4
    for worker in workers:  # stopped and reaped, not left running or as zombies
        with pytest.raises(ProcessLookupError):
            os.kill(int(worker), 0)
    assert glob.glob(os.path.join(_shared.SEGMENT_DIR, f"ember-dl-{pid}-*")) == []
