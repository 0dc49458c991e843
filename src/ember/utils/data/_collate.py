"""default_collate: merge a list of samples into a batch, recursively by type."""
import collections.abc
import re

import numpy as np

from ..._tensor import Tensor

_NP_STR = re.compile(r"[SaUO]")


def _stack(tensors):
    from ... import _ops
    return _ops.stack(tensors, 0)


def default_collate(batch):
    """Tensors are stacked on a new first dim; NumPy arrays and Python numbers become
    tensors; strings stay lists; dicts, named tuples and sequences are collated per field
    (a tuple of fields becomes a list, as in torch)."""
    from ..._creation import as_tensor, tensor
    from ... import _dtype as D
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack(list(batch))
    if type(elem).__module__ == "numpy" and not isinstance(elem, (np.str_, np.bytes_)):
        if isinstance(elem, np.ndarray):
            if _NP_STR.search(elem.dtype.str) is not None:
                raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, "
                                f"numbers, dicts or lists; found {elem.dtype}")
            return _stack([as_tensor(b) for b in batch])
        if elem.shape == ():
            return as_tensor(np.array(batch))
    if isinstance(elem, bool):
        return tensor(batch, dtype=D.bool)
    if isinstance(elem, float):
        return tensor(batch, dtype=D.float64)
    if isinstance(elem, int):
        return tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        try:
            return type(elem)({key: default_collate([d[key] for d in batch]) for key in elem})
        except TypeError:
            return {key: default_collate([d[key] for d in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(samples) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        it = iter(batch)
        elem_size = len(next(it))
        if not all(len(e) == elem_size for e in it):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = list(zip(*batch))
        if isinstance(elem, tuple):
            return [default_collate(samples) for samples in transposed]
        try:
            return type(elem)([default_collate(samples) for samples in transposed])
        except TypeError:
            return [default_collate(samples) for samples in transposed]
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, "
                    f"dicts or lists; found {type(elem)}")


def default_convert(data):
    """Without batching: NumPy arrays become tensors, containers are walked."""
    from ..._creation import as_tensor
    if isinstance(data, Tensor):
        return data
    if type(data).__module__ == "numpy" and not isinstance(data, (np.str_, np.bytes_)):
        if isinstance(data, np.ndarray) and _NP_STR.search(data.dtype.str) is not None:
            return data
        return as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return type(data)({k: default_convert(v) for k, v in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        try:
            return type(data)([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data
