"""Batches cross from DataLoader workers to the main process through shared memory.

A worker pickles each batch itself with ``dumps``: the array of every CPU Tensor goes
into a file of its own under /dev/shm (a RAM-backed file system; elsewhere the temp
directory), and the pickle carries only that file's name, dtype and shape.  The main
process maps the file, unlinks its name at once and wraps the mapping as the Tensor's
array: no copy is made, and the memory goes back to the system when the last array over
the mapping is collected.  Files whose names never reach the main process (a worker
killed mid-batch, batches still queued at shutdown) are removed by ``remove_segments``,
by the name prefix each iterator gives its workers.
"""
import glob
import io
import itertools
import mmap
import os
import pickle
import secrets
import tempfile
from multiprocessing.reduction import ForkingPickler

import numpy as np

from ..._tensor import Tensor, _make

SEGMENT_DIR = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()

_NON_LEAF = ("Cowardly refusing to serialize non-leaf tensor which requires_grad, since "
             "autograd does not support crossing process boundaries.  If you just want to "
             "transfer the data, call detach() on the tensor before serializing (e.g., "
             "putting it on the queue).")

_serial = itertools.count()


def new_tag():
    """A name prefix unique to one iterator's workers, so its leftovers can be found."""
    return os.path.join(SEGMENT_DIR, f"ember-dl-{os.getpid()}-{secrets.token_hex(6)}")


class _SharingPickler(ForkingPickler):
    def __init__(self, file, tag):
        super().__init__(file, pickle.HIGHEST_PROTOCOL)
        self._tag = tag
        self.paths = []

    def reducer_override(self, obj):
        # Subclasses (Parameter) keep their own pickling, which rebuilds their type.
        if type(obj) is not Tensor:
            return NotImplemented
        if obj._requires_grad and obj._grad_fn is not None:
            raise RuntimeError(_NON_LEAF)
        arr = obj._data
        if not isinstance(arr, np.ndarray) or arr.nbytes == 0 or arr.dtype.hasobject:
            return NotImplemented
        path = f"{self._tag}-{os.getpid()}-{next(_serial)}"
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        self.paths.append(path)
        try:
            view = memoryview(np.ascontiguousarray(arr).reshape(-1).view(np.uint8))
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        return _attach, (path, arr.dtype, arr.shape, obj._requires_grad)


def dumps(obj, tag):
    """Pickle ``obj`` with its Tensors' arrays placed in shared-memory files."""
    buf = io.BytesIO()
    pickler = _SharingPickler(buf, tag)
    try:
        pickler.dump(obj)
    except BaseException:
        for path in pickler.paths:
            _unlink(path)
        raise
    return buf.getvalue()


def _attach(path, dtype, shape, requires_grad):
    fd = os.open(path, os.O_RDWR)
    try:
        os.unlink(path)  # the mapping outlives the name; nothing is left to clean up
        mapping = mmap.mmap(fd, 0)
    finally:
        os.close(fd)
    t = _make(np.frombuffer(mapping, dtype=dtype).reshape(shape))
    t._requires_grad = requires_grad
    return t


def remove_segments(tag):
    for path in glob.glob(glob.escape(tag) + "-*"):
        _unlink(path)


def _unlink(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
