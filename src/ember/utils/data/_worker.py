"""What runs inside a DataLoader worker process, and the messages it sends back."""
import os
import pickle
import queue
import random
import sys
import traceback
from dataclasses import dataclass

import numpy as np

from . import _shared
from ._fetch import make_fetcher

# How often an idle worker checks that the process that started it is still there.
_WATCHDOG_INTERVAL = 1.0


@dataclass(frozen=True, slots=True)
class WorkerInfo:
    """The current worker: ``id``, ``num_workers``, ``seed`` and this process's copy of
    the ``dataset``."""
    id: int
    num_workers: int
    seed: int
    dataset: object
    rng: object = None
    worker_method: str = "multiprocessing"


_worker_info = None


def get_worker_info():
    """The WorkerInfo of this DataLoader worker process; None in the main process.

    An IterableDataset uses it to yield only its own share in each worker, e.g.
    ``itertools.islice(stream, info.id, None, info.num_workers)``.
    """
    return _worker_info


class _KeyErrorMessage(str):
    """KeyError's str() is the repr of its argument; this keeps the traceback readable."""

    def __repr__(self):
        return self


class ExceptionWrapper:
    """The exception being handled, as its class and formatted traceback, which cross
    process boundaries where tracebacks cannot."""

    def __init__(self, where):
        exc_type, exc, tb = sys.exc_info()
        self.exc_type = exc_type
        self.exc_msg = "".join(traceback.format_exception(exc_type, exc, tb))
        self.where = where

    def reraise(self):
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = _KeyErrorMessage(msg)
        elif getattr(self.exc_type, "message", None):  # classes that take message=
            raise self.exc_type(message=msg)
        try:
            exc = self.exc_type(msg)
        except Exception:  # a constructor that wants other arguments
            raise RuntimeError(msg) from None
        raise exc


@dataclass(frozen=True)
class WorkerDone:
    """A worker's copy of an IterableDataset is exhausted."""
    worker_id: int


@dataclass(frozen=True)
class Resume:
    """Start a new epoch with persistent workers; echoed back once the worker is ready."""


def _setup_worker(base_seed, worker_id):
    """torch's worker setup: one BLAS thread (the workers are the parallelism) and seeds."""
    from ... import _random, _runtime
    if _runtime._threadpoolctl is not None:  # without it, set_num_threads only warns
        _runtime.set_num_threads(1)
    seed = base_seed + worker_id
    random.seed(seed)
    _random.manual_seed(seed)
    # As torch: NumPy's global RNG gets a state mixed from the base seed and worker id,
    # so forked workers do not all draw the numbers the parent would have.
    np.random.seed(np.random.SeedSequence(
        [worker_id, base_seed & 0xFFFF_FFFF, base_seed >> 32, 0]).generate_state(4))
    return seed


def _pack(obj, tag, where):
    """``obj`` pickled for the main process; if it cannot be, the reason, pickled."""
    try:
        return _shared.dumps(obj, tag)
    except Exception:
        if not isinstance(obj, ExceptionWrapper):
            obj = ExceptionWrapper(where)
    try:
        return pickle.dumps(obj, pickle.HIGHEST_PROTOCOL)
    except Exception:  # an exception class the main process could not import
        obj.exc_type = RuntimeError
        return pickle.dumps(obj, pickle.HIGHEST_PROTOCOL)


def worker_loop(is_iterable, dataset, index_queue, result_queue, done_event, auto_collation,
                collate_fn, drop_last, base_seed, init_fn, worker_id, num_workers, tag):
    """Serve ``(task index, sampler index)`` requests until told to stop (None) or until
    the main process is gone.  Each reply is ``(task index, pickled batch)``."""
    global _worker_info
    try:
        seed = _setup_worker(base_seed, worker_id)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed,
                                  dataset=dataset)
        where = f"in DataLoader worker process {worker_id}"
        init_error = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = make_fetcher(is_iterable, dataset, auto_collation, collate_fn, drop_last)
        except Exception:
            init_error = ExceptionWrapper(where)  # reported as the first task's result
        ended = False
        parent = os.getppid()
        while os.getppid() == parent:
            try:
                request = index_queue.get(timeout=_WATCHDOG_INTERVAL)
            except queue.Empty:
                continue
            if request is None:
                break
            if isinstance(request, Resume):
                ended = False
                try:  # a new pass over an IterableDataset calls its __iter__ again
                    fetcher = make_fetcher(is_iterable, dataset, auto_collation, collate_fn,
                                           drop_last)
                except Exception:
                    init_error = ExceptionWrapper(where)
                result_queue.put((request, None))
                continue
            if done_event.is_set() or ended:
                continue
            task, index = request
            if init_error is not None:
                payload, init_error = _pack(init_error, tag, where), None
            else:
                try:
                    payload = _pack(fetcher.fetch(index), tag, where)
                except StopIteration:
                    if not is_iterable:
                        payload = _pack(ExceptionWrapper(where), tag, where)
                    else:
                        payload, ended = WorkerDone(worker_id), True
                except Exception:
                    payload = _pack(ExceptionWrapper(where), tag, where)
            result_queue.put((task, payload))
            del payload, request, index
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group; the main handles it
        pass
    if done_event.is_set():
        # Nobody reads the results any more: do not wait on a full pipe at exit.
        result_queue.cancel_join_thread()
        result_queue.close()
