"""ember.utils.data against torch.utils.data: batching, collation, samplers, splits."""
import collections

import numpy as np
import pytest
import torch

import ember
from ember.utils import data as edata
from torch.utils import data as tdata

LIBS = [(ember, edata), (torch, tdata)]


def _as_py(x):
    """A structure of tensors as plain Python, with dtypes, for comparing the two libraries."""
    if isinstance(x, (ember.Tensor, torch.Tensor)):
        return ("T", str(x.dtype), tuple(x.shape), x.tolist())
    if isinstance(x, dict):
        return {k: _as_py(v) for k, v in x.items()}
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return (type(x).__name__, tuple(_as_py(v) for v in x))
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [_as_py(v) for v in x])
    return x


@pytest.mark.parametrize("batch_size,drop_last", [(1, False), (4, False), (4, True), (10, False),
                                                  (16, True)])
def test_sequential_batches_equal_torch(batch_size, drop_last):
    out = []
    for lib, data in LIBS:
        x = lib.arange(30, dtype=lib.float32).reshape(10, 3)
        y = lib.arange(10)
        loader = data.DataLoader(data.TensorDataset(x, y), batch_size=batch_size,
                                 drop_last=drop_last)
        out.append((len(loader), [_as_py(b) for b in loader]))
    assert out[0] == out[1]


Point = collections.namedtuple("Point", "x y")


class _Samples:
    """A data set of assorted Python and NumPy samples (collated per type)."""

    def __init__(self, kind):
        self.kind = kind

    def __len__(self):
        return 5

    def __getitem__(self, i):
        if self.kind == "dict":
            return {"a": float(i), "b": i, "name": f"s{i}", "flag": i % 2 == 0}
        if self.kind == "numpy":
            return np.full((2, 2), i, dtype=np.float32), np.int64(i), np.float64(i / 2)
        if self.kind == "namedtuple":
            return Point(i, [i, i + 1])
        if self.kind == "nested":
            return {"pair": (i, float(i)), "list": [i, 2 * i]}
        raise AssertionError(self.kind)


@pytest.mark.parametrize("kind", ["dict", "numpy", "namedtuple", "nested"])
def test_default_collate_types_equal_torch(kind):
    out = []
    for _lib, data in LIBS:
        loader = data.DataLoader(_Samples(kind), batch_size=3)
        out.append([_as_py(b) for b in loader])
    assert out[0] == out[1]


def test_batch_size_none_converts_without_batching():
    out = []
    for _lib, data in LIBS:
        loader = data.DataLoader(_Samples("numpy"), batch_size=None)
        out.append([_as_py(b) for b in loader])
    assert out[0] == out[1]


def test_shuffle_is_a_permutation_reproducible_with_generator_and_manual_seed():
    # Ember's generator stream is NumPy's, not torch's: reproducibility is checked on Ember.
    x = ember.arange(50)
    ds = edata.TensorDataset(x)

    def order(**kw):
        loader = edata.DataLoader(ds, batch_size=7, shuffle=True, **kw)
        return [int(v) for (b,) in loader for v in b]

    a = order(generator=ember.Generator().manual_seed(3))
    b = order(generator=ember.Generator().manual_seed(3))
    assert a == b and sorted(a) == list(range(50)) and a != list(range(50))
    ember.manual_seed(7)
    c = order()
    ember.manual_seed(7)
    assert order() == c
    assert order() != c   # the default generator advanced


def test_random_split_lengths_and_disjointness_like_torch():
    for lengths in ([0.7, 0.2, 0.1], [3, 7], [0.5, 0.5], [0.33, 0.33, 0.34]):
        mine = edata.random_split(range(10), lengths, generator=ember.Generator().manual_seed(0))
        ref = tdata.random_split(range(10), lengths, generator=torch.Generator().manual_seed(0))
        assert [len(s) for s in mine] == [len(s) for s in ref]
        items = [v for s in mine for v in s]
        assert sorted(items) == list(range(10))
    for _lib, data in LIBS:
        with pytest.raises(ValueError, match="Sum of input lengths does not equal"):
            data.random_split(range(10), [3, 3])


def test_subset_and_concat_dataset_indexing_equal_torch():
    out = []
    for lib, data in LIBS:
        a = data.TensorDataset(lib.arange(5))
        b = data.TensorDataset(lib.arange(10, 13))
        cat = data.ConcatDataset([a, b])
        sub = data.Subset(cat, [7, 0, 5, -1])
        plus = a + b
        out.append((len(cat), cumulative := cat.cumulative_sizes,
                    [_as_py(cat[i]) for i in (0, 4, 5, 7, -1, -8)],
                    [_as_py(s) for s in sub], len(plus), _as_py(plus[6]),
                    [_as_py(batch) for batch in data.DataLoader(sub, batch_size=3)]))
        del cumulative
    assert out[0] == out[1]


def test_iterable_dataset_batches_like_torch():
    out = []
    for _lib, data in LIBS:
        class Stream(data.IterableDataset):
            def __iter__(self):
                return iter(range(11))

            def __len__(self):
                return 11
        out.append([[_as_py(b) for b in data.DataLoader(Stream(), batch_size=4,
                                                         drop_last=dl)]
                    for dl in (False, True)]
                   + [len(data.DataLoader(Stream(), batch_size=4)),
                      [_as_py(b) for b in data.DataLoader(Stream(), batch_size=None)]])
    assert out[0] == out[1]


def test_samplers():
    ember.manual_seed(0)
    sub = list(edata.SubsetRandomSampler([3, 5, 9, 11]))
    assert sorted(sub) == [3, 5, 9, 11]
    rs = list(edata.RandomSampler(range(4), replacement=True, num_samples=100))
    assert len(rs) == 100 and set(rs) <= {0, 1, 2, 3}
    longer = list(edata.RandomSampler(range(4), num_samples=10))
    assert len(longer) == 10 and sorted(longer[:4]) == [0, 1, 2, 3]
    w = list(edata.WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 400))
    assert set(w) <= {1, 3} and 200 < w.count(3) < 380
    once = list(edata.WeightedRandomSampler([1, 1, 1, 1, 1], 5, replacement=False))
    assert sorted(once) == [0, 1, 2, 3, 4]
    for lib, data in LIBS:
        batches = list(data.BatchSampler(data.SequentialSampler(range(10)), 3, False))
        assert batches == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
        assert len(data.BatchSampler(range(10), 3, True)) == 3
        loader = data.DataLoader(data.TensorDataset(lib.arange(6)),
                                 batch_sampler=[[0, 5], [2, 3, 4]])
        assert [b[0].tolist() for b in loader] == [[0, 5], [2, 3, 4]]


@pytest.mark.parametrize("kwargs,msg", [
    (dict(shuffle=True, sampler=[0, 1]), "sampler option is mutually exclusive with shuffle"),
    (dict(batch_sampler=[[0]], batch_size=2),
     "batch_sampler option is mutually exclusive with batch_size"),
    (dict(batch_size=None, drop_last=True),
     "batch_size=None option disables auto-batching and is mutually exclusive with drop_last"),
    (dict(num_workers=-1), "num_workers option should be non-negative"),
])
def test_dataloader_errors_equal_torch(kwargs, msg):
    for lib, data in LIBS:
        with pytest.raises(ValueError, match=msg):
            data.DataLoader(data.TensorDataset(lib.arange(4)), **kwargs)


def test_collate_errors_equal_torch():
    for lib, data in LIBS:
        with pytest.raises(RuntimeError, match="each element in list of batch should be of "
                                               "equal size"):
            data.default_collate([[1, 2], [3]])
        with pytest.raises(TypeError, match="default_collate: batch must contain"):
            data.default_collate([object(), object()])
        with pytest.raises(AssertionError, match="Size mismatch between tensors"):
            data.TensorDataset(lib.zeros(3), lib.zeros(4))
