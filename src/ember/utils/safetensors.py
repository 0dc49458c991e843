"""The safetensors format, read and written directly (no extra dependency), with the
names of the ``safetensors.torch`` API: ``save``/``save_file``/``load``/``load_file``.

A file is an 8-byte little-endian header length, a JSON header (per tensor its dtype,
shape and ``data_offsets`` into the data; optional ``__metadata__`` of strings) padded
with spaces to a multiple of 8 bytes, then the tensors' raw little-endian bytes.
"""
import json
import os
import struct

import numpy as np

from .. import _dtype as D
from .._device import data_ptr, device as _device
from .._tensor import Tensor, _host, _make

__all__ = ["save", "save_file", "load", "load_file", "SafetensorError"]

_CODES = {D.float64: "F64", D.float32: "F32", D.float16: "F16", D.bfloat16: "BF16",
          D.int64: "I64", D.int32: "I32", D.int16: "I16", D.int8: "I8", D.uint8: "U8",
          D.bool: "BOOL", D.complex64: "C64"}
_DTYPES = {code: dt for dt, code in _CODES.items()}
# The format's dtype order (its Rust enum's); files list tensors by it, largest first.
_ORDER = ["BOOL", "U8", "I8", "I16", "F16", "BF16", "I32", "F32", "C64", "F64", "I64"]
_MAX_HEADER = 100_000_000   # the safetensors package's limit too


class SafetensorError(Exception):
    """A malformed safetensors file (the package raises its own class of this name)."""


def _check(tensors, metadata):
    if metadata is not None:
        for k, v in metadata.items():
            if type(k) is not str or type(v) is not str:
                bad = k if type(k) is not str else v
                raise TypeError(f"argument 'metadata': '{type(bad).__name__}' object is not "
                                "an instance of 'str'")
    for k, v in tensors.items():
        if type(k) is not str:
            raise TypeError(f"argument 'tensor_dict': '{type(k).__name__}' object is not an "
                            "instance of 'str'")
        if not isinstance(v, Tensor):
            raise ValueError(f"Key `{k}` is invalid, expected torch.Tensor but received "
                             f"{type(v)}")
        if v.dtype not in _CODES:
            raise ValueError(f"ember.utils.safetensors: dtype {v.dtype} of `{k}` has no "
                             "safetensors code")
    shared = _shared(tensors)
    if shared:
        raise RuntimeError(
            f"\n            Some tensors share memory, this will lead to duplicate memory on "
            f"disk and potential differences when loading them again: {shared}.\n"
            "            A potential way to correctly save your model is to use "
            "`save_model`.\n            More information at "
            "https://huggingface.co/docs/safetensors/torch_shared_tensors\n            ")
    for k, v in tensors.items():
        if not v.is_contiguous():
            raise ValueError(
                f"You are trying to save a non contiguous tensor: `{k}` which is not allowed. "
                "It either means you are trying to save tensors which are reference of each "
                "other in which case it's recommended to save only the full tensors, and "
                "reslice at load time, or simply call `.contiguous()` on your tensor to pack "
                "it before saving.")


def _shared(tensors):
    """Groups of names whose tensors overlap in memory (the package refuses them)."""
    from ..serialization._save import _root
    by_block = {}
    for k, v in tensors.items():
        if v.numel():
            by_block.setdefault(id(_root(v._data)), []).append(k)
    groups = []
    for names in by_block.values():
        if len(names) < 2:
            continue
        spans = sorted((data_ptr(tensors[k]._data), k) for k in names)
        group = set()
        for (a, ka), (b, kb) in zip(spans, spans[1:]):
            if b < a + tensors[ka]._data.nbytes:
                group |= {ka, kb}
        if group:
            groups.append(group)
    return groups


def save(tensors, metadata=None):
    """The bytes of a safetensors file holding ``tensors`` (a dict name -> tensor)."""
    _check(tensors, metadata)
    # The package's order: by dtype, descending (larger elements first, keeping the data
    # aligned), then by name.
    names = sorted(tensors, key=lambda k: (-_ORDER.index(_CODES[tensors[k].dtype]), k))
    header = {} if metadata is None else {"__metadata__": dict(metadata)}
    chunks, at = [], 0
    for k in names:
        a = np.ascontiguousarray(_host(tensors[k].detach()._data))
        if a.dtype.byteorder == ">":
            a = a.astype(a.dtype.newbyteorder("<"))
        header[k] = {"dtype": _CODES[tensors[k].dtype], "shape": list(a.shape),
                     "data_offsets": [at, at + a.nbytes]}
        chunks.append(a.reshape(-1).view(np.uint8))
        at += a.nbytes
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    head += b" " * (-len(head) % 8)
    out = bytearray(struct.pack("<Q", len(head)) + head)
    for c in chunks:
        out += c.tobytes()
    return bytes(out)


def save_file(tensors, filename, metadata=None):
    """Write ``tensors`` to ``filename`` (atomically: a temporary file, then a rename)."""
    data = save(tensors, metadata)
    path = os.fspath(filename)
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _parse(buf):
    """(header, data start) of the safetensors bytes ``buf``, checked as the package does."""
    if len(buf) < 8:
        raise SafetensorError("Error while deserializing: header too small")
    n = struct.unpack("<Q", bytes(buf[:8]))[0]
    if n > _MAX_HEADER or 8 + n > len(buf):
        raise SafetensorError("Error while deserializing: invalid header length")
    try:
        header = json.loads(bytes(buf[8:8 + n]).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise SafetensorError(f"Error while deserializing: invalid JSON in header: {e}") \
            from None
    if not isinstance(header, dict):
        raise SafetensorError("Error while deserializing: invalid JSON in header: expected "
                              "an object")
    header.pop("__metadata__", None)
    size = len(buf) - 8 - n
    spans = []
    for k, info in header.items():
        try:
            dt = _DTYPES[info["dtype"]]
            shape = [int(s) for s in info["shape"]]
            begin, end = (int(o) for o in info["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise SafetensorError("Error while deserializing: invalid JSON in header: bad "
                                  f"entry for tensor {k!r}") from None
        if any(s < 0 for s in shape) or not 0 <= begin <= end or \
                end - begin != int(np.prod(shape, dtype=np.int64)) * dt.itemsize:
            raise SafetensorError("Error while deserializing: invalid shape, data type, or "
                                  "offset for tensor")
        spans.append((begin, end))
        header[k] = (dt, shape, begin, end)
    at = 0
    for begin, end in sorted(spans):
        if begin != at:
            break
        at = end
    if at != size:
        raise SafetensorError("Error while deserializing: incomplete metadata, file not "
                              "fully covered")
    return header, 8 + n


def _tensors(buf, device):
    header, start = _parse(buf)
    dev = _device(f"cuda:{device}" if isinstance(device, int) else device)
    out = {}
    for k, (dt, shape, begin, end) in header.items():
        a = np.frombuffer(buf, dtype=dt.np, count=(end - begin) // dt.itemsize,
                          offset=start + begin).reshape(shape)
        t = _make(a)
        out[k] = t if dev.type == "cpu" else t.to(dev)
    return out


def load(data):
    """The tensors in the safetensors bytes ``data`` (each a copy, writable)."""
    return _tensors(bytearray(data), "cpu")


def load_file(filename, device="cpu"):
    """The tensors of the safetensors file ``filename``, placed on ``device``."""
    with open(filename, "rb") as f:
        buf = bytearray(f.read())
    return _tensors(buf, device)


def metadata(data):
    """The ``__metadata__`` of safetensors bytes (None if absent)."""
    n = struct.unpack("<Q", bytes(data[:8]))[0]
    return json.loads(bytes(data[8:8 + n]).decode("utf-8")).get("__metadata__")
