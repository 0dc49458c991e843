"""Loading in worker processes: the main process hands out sampler indices, round robin,
keeping ``prefetch_factor`` tasks per worker in flight, and hands back the batches in
sampler order (or as they come, with ``in_order=False``)."""
import multiprocessing
import os
import pickle
import queue
import time
import weakref


from . import _shared
from ._fetch import BaseIter
from ._worker import ExceptionWrapper, Resume, WorkerDone, worker_loop

# How often a wait for a batch checks that the workers are still alive.
_POLL_INTERVAL = 0.1
# How long shutdown waits for workers to leave by themselves before terminating them.
_JOIN_GRACE = 1.0


class _Workers:
    """The processes and queues of one iterator.  ``close`` runs from a weakref finalizer
    (when the iterator is collected, or at interpreter exit), so this holds no reference
    back to the iterator."""

    def __init__(self, ctx, tag):
        self.owner = os.getpid()
        self.tag = tag
        self.processes = []
        self.index_queues = []
        self.result_queue = ctx.Queue()
        self.done_event = ctx.Event()

    def close(self):
        if os.getpid() != self.owner:  # a forked child inherited the iterator
            return
        self.done_event.set()
        for q in self.index_queues:
            q.put(None)
        deadline = time.monotonic() + _JOIN_GRACE
        for p in self.processes:
            p.join(max(0.0, deadline - time.monotonic()))
        for p in self.processes:
            if p.is_alive():  # busy in a long __getitem__, or hung
                p.terminate()
                p.join(_JOIN_GRACE)
                if p.is_alive():
                    p.kill()
                    p.join()
        for q in self.index_queues:
            q.cancel_join_thread()
            q.close()
        self.result_queue.cancel_join_thread()
        self.result_queue.close()
        _shared.remove_segments(self.tag)


def _decode(payload):
    """A worker's reply: bytes are a pickled batch (or error), mapped from shared memory."""
    return pickle.loads(payload) if isinstance(payload, bytes) else payload


class MultiProcessIter(BaseIter):
    def __init__(self, loader):
        super().__init__(loader)
        self._prefetch_factor = loader.prefetch_factor
        self._in_order = loader.in_order
        if self._prefetch_factor <= 0:
            raise AssertionError("prefetch_factor must be greater than 0 for "
                                 "MultiProcessingDataLoaderIter")
        ctx = loader.multiprocessing_context or multiprocessing
        self._pool = pool = _Workers(ctx, _shared.new_tag())
        self._finalizer = weakref.finalize(self, pool.close)
        for worker_id in range(self._num_workers):
            index_queue = ctx.Queue()
            index_queue.cancel_join_thread()
            process = ctx.Process(
                target=worker_loop, daemon=True,
                args=(self._is_iterable, self._dataset, index_queue, pool.result_queue,
                      pool.done_event, self._auto_collation, self._collate_fn,
                      self._drop_last, self._base_seed, loader.worker_init_fn, worker_id,
                      self._num_workers, pool.tag))
            process.start()
            pool.index_queues.append(index_queue)
            pool.processes.append(process)
        self._reset(loader, first_iter=True)

    def _reset(self, loader, first_iter=False):
        self._sampler_iter = self._new_sampler_iter()
        self._send_idx = 0  # next task to hand out
        self._rcvd_idx = 0  # next task to return, in order
        self._task_info = {}  # task -> (worker,) while pending, (worker, batch) once here
        self._workers_status = [True] * self._num_workers
        self._workers_num_tasks = [0] * self._num_workers
        self._next_worker = 0
        if not first_iter:
            for q in self._pool.index_queues:
                q.put(Resume())
            waiting = self._num_workers
            while waiting:  # replies to the last epoch's tasks are dropped on the way
                task, _ = self._get_data()
                waiting -= isinstance(task, Resume)
        for _ in range(self._prefetch_factor * self._num_workers):
            self._try_put_index()

    def _get_data(self):
        """The next reply from any worker; a dead worker or the timeout raises."""
        deadline = time.monotonic() + self._timeout if self._timeout > 0 else None
        while True:
            wait = _POLL_INTERVAL
            if deadline is not None:
                wait = min(wait, max(0.0, deadline - time.monotonic()))
            try:
                task, payload = self._pool.result_queue.get(timeout=wait)
                return task, _decode(payload)
            except queue.Empty:
                pass
            dead = [w for w, p in enumerate(self._pool.processes)
                    if self._workers_status[w] and not p.is_alive()]
            if dead:
                for w in dead:
                    self._workers_status[w] = False
                pids = ", ".join(str(self._pool.processes[w].pid) for w in dead)
                self._shutdown_workers()
                raise RuntimeError(f"DataLoader worker (pid(s) {pids}) exited unexpectedly")
            if deadline is not None and time.monotonic() >= deadline:
                raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")

    @property
    def closed(self):
        return not self._finalizer.alive

    def _next_data(self):
        if self.closed:  # after the end of the data, or a worker's death
            raise StopIteration
        while True:
            # Skip tasks that will never be answered: their worker's data ran out.
            while self._rcvd_idx < self._send_idx:
                info = self._task_info.get(self._rcvd_idx)
                if info is not None and (len(info) == 2 or self._workers_status[info[0]]):
                    break
                self._task_info.pop(self._rcvd_idx, None)
                self._rcvd_idx += 1
            else:
                if not self._persistent_workers:
                    self._shutdown_workers()
                raise StopIteration
            info = self._task_info[self._rcvd_idx]
            if len(info) == 2:
                del self._task_info[self._rcvd_idx]
                self._rcvd_idx += 1
                return self._process_data(*info)
            task, data = self._get_data()
            if isinstance(task, Resume):  # a stray echo; nothing to count
                continue
            if isinstance(data, WorkerDone):
                self._worker_ended(data.worker_id)
                self._try_put_index()
                continue
            if task == self._rcvd_idx or not self._in_order:
                worker = self._task_info.pop(task)[0]
                if task == self._rcvd_idx:
                    self._rcvd_idx += 1
                return self._process_data(worker, data)
            self._task_info[task] += (data,)

    def _worker_ended(self, worker):
        # Its other tasks will get no reply: none of them is in flight any more.
        self._workers_num_tasks[worker] = 0
        self._workers_status[worker] = False
        if not self._persistent_workers:
            self._pool.index_queues[worker].put(None)

    def _try_put_index(self):
        try:
            index = self._next_index()
        except StopIteration:
            return
        active = [w for w in range(self._num_workers) if self._workers_status[w]]
        if not active:
            return
        if self._in_order:  # round robin, so that the order of the batches is fixed
            n = self._num_workers
            worker = next(w % n for w in range(self._next_worker, self._next_worker + n)
                          if self._workers_status[w % n])
            self._next_worker = (worker + 1) % n
        else:  # the least busy worker
            worker = min(active, key=self._workers_num_tasks.__getitem__)
        self._pool.index_queues[worker].put((self._send_idx, index))
        self._task_info[self._send_idx] = (worker,)
        self._workers_num_tasks[worker] += 1
        self._send_idx += 1

    def _process_data(self, worker, data):
        self._workers_num_tasks[worker] -= 1
        self._try_put_index()
        if isinstance(data, ExceptionWrapper):
            data.reraise()
        return data

    def _shutdown_workers(self):
        self._finalizer()
