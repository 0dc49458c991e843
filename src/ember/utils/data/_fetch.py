"""Fetching batches, shared by the main process and the workers, and the iterators'
common part: the index stream, pinning and torch's pin_memory warnings."""
import collections.abc
import copy
import itertools
import warnings

from ..._device import cuda_is_available


class MapFetcher:
    """Batches of a map-style data set, for the indices the sampler gave."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn

    def fetch(self, index):
        if not self.auto_collation:
            return self.collate_fn(self.dataset[index])
        getitems = getattr(self.dataset, "__getitems__", None)
        if callable(getitems):
            return self.collate_fn(getitems(index))
        return self.collate_fn([self.dataset[i] for i in index])


class IterableFetcher:
    """Batches of an iterable data set; ``index`` is the batch size, or None when
    batching is off.  StopIteration marks the end of this copy of the data set."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.items = iter(dataset)
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        self.ended = False

    def fetch(self, index):
        if self.ended:
            raise StopIteration
        if index is None:
            return self.collate_fn(next(self.items))
        batch = list(itertools.islice(self.items, index))
        if len(batch) < index:
            self.ended = True
            if not batch or self.drop_last:
                raise StopIteration
        return self.collate_fn(batch)


def make_fetcher(is_iterable, dataset, auto_collation, collate_fn, drop_last):
    kind = IterableFetcher if is_iterable else MapFetcher
    return kind(dataset, auto_collation, collate_fn, drop_last)


def pin_memory(data):
    """The batch with its tensors in pinned memory; containers are rebuilt as torch's
    ``_utils.pin_memory.pin_memory`` rebuilds them."""
    if hasattr(data, "pin_memory"):   # tensors, and objects that pin themselves
        return data.pin_memory()
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, collections.abc.Mapping):
        try:
            if isinstance(data, collections.abc.MutableMapping):
                clone = copy.copy(data)   # keeps the mapping type's extra attributes
                clone.update({k: pin_memory(v) for k, v in data.items()})
                return clone
            return type(data)({k: pin_memory(v) for k, v in data.items()})
        except TypeError:
            return {k: pin_memory(v) for k, v in data.items()}
    if isinstance(data, tuple):
        if hasattr(data, "_fields"):
            return type(data)(*(pin_memory(v) for v in data))
        return type(data)(pin_memory(v) for v in data)
    if isinstance(data, collections.abc.Sequence):
        try:
            if isinstance(data, collections.abc.MutableSequence):
                clone = copy.copy(data)
                for i, v in enumerate(data):
                    clone[i] = pin_memory(v)
                return clone
            return type(data)([pin_memory(v) for v in data])
        except TypeError:
            return [pin_memory(v) for v in data]
    return data


def _draw_base_seed(generator):
    """torch's ``empty((), dtype=int64).random_(generator=...)``: one 63-bit draw."""
    from ... import _dtype, _random
    return int(_random._int_full(_random._gen(generator), 1, _dtype.int64)[0])


class BaseIter:
    """One pass over a DataLoader's data; the parts that do not depend on where
    loading runs."""

    def __init__(self, loader):
        self._dataset = loader.dataset
        self._is_iterable = loader._is_iterable
        self._auto_collation = loader._auto_collation
        self._batch_size = loader.batch_size
        self._drop_last = loader.drop_last
        self._collate_fn = loader.collate_fn
        self._index_sampler = loader._index_sampler
        self._num_workers = loader.num_workers
        self._timeout = loader.timeout
        self._persistent_workers = loader.persistent_workers
        if loader.pin_memory and loader.pin_memory_device:
            warnings.warn(f"pin_memory_device is deprecated, the current accelerator will be "
                          f"used as the device,ignore pin_memory_device="
                          f"'{loader.pin_memory_device}'.", stacklevel=3)
        self._pin_memory = loader.pin_memory and cuda_is_available()
        if loader.pin_memory and not self._pin_memory:
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, "
                          "then device pinned memory won't be used.", stacklevel=3)
        self._sampler_iter = self._new_sampler_iter()
        # torch draws the workers' base seed here, with or without workers, so that the
        # random stream after a loader is the same either way
        self._base_seed = _draw_base_seed(loader.generator)

    def _new_sampler_iter(self):
        if self._is_iterable:  # each worker's copy decides what it yields
            return itertools.repeat(self._batch_size if self._auto_collation else None)
        return iter(self._index_sampler)

    def _next_index(self):
        return next(self._sampler_iter)

    def __iter__(self):
        return self

    def __next__(self):
        data = self._next_data()
        return pin_memory(data) if self._pin_memory else data

    def __len__(self):
        return len(self._index_sampler)

    def __getstate__(self):
        raise NotImplementedError("{} cannot be pickled", type(self).__name__)


class SingleProcessIter(BaseIter):
    def __init__(self, loader):
        super().__init__(loader)
        self._fetcher = make_fetcher(self._is_iterable, self._dataset, self._auto_collation,
                                     self._collate_fn, self._drop_last)

    def _next_data(self):
        return self._fetcher.fetch(self._next_index())
