"""ember.save / ember.load in PyTorch's own checkpoint format, both ways, without torch.

``save`` writes torch's zip format (``<name>/data.pkl``, one ``<name>/data/<key>``
record per storage, aligned to 64 bytes, ``byteorder``, ``version``...), so
``torch.load(path, weights_only=True)`` reads Ember's files; ``load`` reads torch's
(zip and the legacy pre-1.6 format).  Loading is safe by default (``weights_only=True``,
torch's allowlist plus ``add_safe_globals``); saving to a path is atomic.
"""
import contextlib
import io
import os
import pickle
import sys
import tempfile

from .._device import device as _device
from . import _load, _save
from ._load import Storage, StorageType
from ._zip import CorruptFile, ZipReader, ZipWriter

__all__ = ["save", "load", "add_safe_globals", "get_safe_globals", "clear_safe_globals",
           "safe_globals", "DEFAULT_PROTOCOL", "Storage", "StorageType"]

DEFAULT_PROTOCOL = 2
MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001
_FORMAT_VERSION = "3\n"


# ---- the allowlist --------------------------------------------------------------------
def add_safe_globals(safe_globals):
    """Allow these classes/functions (or ``(obj, "module.name")`` pairs) when loading
    with ``weights_only=True``."""
    _load._user_safe_globals.update(safe_globals)


def get_safe_globals():
    return list(_load._user_safe_globals)


def clear_safe_globals():
    _load._user_safe_globals.clear()


class safe_globals:
    """Context manager: ``add_safe_globals`` for the duration of a ``with`` block."""

    def __init__(self, safe_globals):
        self.safe_globals = safe_globals

    def __enter__(self):
        add_safe_globals(self.safe_globals)

    def __exit__(self, *exc):
        _load._user_safe_globals.difference_update(self.safe_globals)


# ---- saving ---------------------------------------------------------------------------
def _archive_name(path):
    """The folder inside the zip: the file's name without its extension, as torch's
    writer names it ("archive" for file objects and names it cannot encode in ASCII)."""
    if path is None:
        return "archive"
    base = os.path.basename(path)
    try:
        base.encode("ascii")
    except UnicodeEncodeError:
        return "archive"
    stem, dot, _ = base.rpartition(".")
    return stem if dot else base


def _serialization_id():
    return "".join(str(b % 10) for b in os.urandom(40))


def _write_zip(obj, out, archive, pickle_module, pickle_protocol, byteorder_record):
    data = io.BytesIO()
    pickler = _save.pickler_class(pickle_module)(data, protocol=pickle_protocol)
    pickler.dump(obj)
    writer = ZipWriter(out)
    prefix = archive + "/"
    writer.write_record(prefix + "data.pkl", data.getbuffer())
    writer.write_record(prefix + ".format_version", b"1")
    writer.write_record(prefix + ".storage_alignment", b"64")
    if byteorder_record:
        writer.write_record(prefix + "byteorder", b"little")
    for ref in pickler.storages.order:
        writer.write_record(f"{prefix}data/{ref.key}", ref.payload())
    writer.write_record(prefix + "version", _FORMAT_VERSION.encode())
    writer.write_record(prefix + ".data/serialization_id", _serialization_id().encode())
    writer.close()


def _write_legacy(obj, out, pickle_module, pickle_protocol):
    data = io.BytesIO()
    for header in (MAGIC_NUMBER, PROTOCOL_VERSION,
                   {"protocol_version": PROTOCOL_VERSION, "little_endian": True,
                    "type_sizes": {"short": 2, "int": 4, "long": 4}}):
        pickle.dump(header, data, protocol=pickle_protocol)
    pickler = _save.pickler_class(pickle_module)(data, protocol=pickle_protocol, legacy=True)
    pickler.dump(obj)
    refs = sorted(pickler.storages.order, key=lambda r: r.key)
    pickle.dump([r.key for r in refs], data, protocol=pickle_protocol)
    out.write(data.getbuffer())
    for ref in refs:
        out.write(ref.numel.to_bytes(8, "little"))
        out.write(ref.payload())


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def save(obj, f, pickle_module=pickle, pickle_protocol=DEFAULT_PROTOCOL,
         _use_new_zipfile_serialization=True, _disable_byteorder_record=False):
    """Save ``obj`` (tensors, state_dicts, containers...) in torch's checkpoint format to
    a path or a binary file object; ``torch.load`` reads the result.

    A path is written atomically: to a temporary file in the same folder, flushed and
    fsynced, then renamed over ``f``, so a failure leaves an existing file as it was.

    >>> buf = io.BytesIO(); ember.save({'w': ember.ones(2)}, buf); _ = buf.seek(0)
    >>> ember.load(buf)
    {'w': tensor([1., 1.])}
    """
    if not isinstance(f, (str, os.PathLike)) and not hasattr(f, "write"):
        raise AttributeError("expected 'f' to be string, path, or a file-like object with "
                             "a 'write' attribute")

    def write(out, path):
        if _use_new_zipfile_serialization:
            _write_zip(obj, out, _archive_name(path), pickle_module, pickle_protocol,
                       not _disable_byteorder_record)
        else:
            _write_legacy(obj, out, pickle_module, pickle_protocol)

    if not isinstance(f, (str, os.PathLike)):
        write(f, None)
        f.flush()
        return
    path = os.fspath(f)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise RuntimeError(f"Parent directory {os.path.dirname(path) or folder} does not "
                           "exist.")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".",
                               suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            write(out, path)
            out.flush()
            os.fsync(out.fileno())
        mode = os.stat(path).st_mode & 0o7777 if os.path.exists(path) else \
            0o666 & ~_umask()
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# ---- loading --------------------------------------------------------------------------
def _describe(f):
    if isinstance(f, (str, os.PathLike)):
        return repr(os.fspath(f))
    name = getattr(f, "name", None)
    return repr(name) if isinstance(name, str) else f"a {type(f).__name__} object"


def _corrupt(f, what):
    return RuntimeError(
        f"PytorchStreamReader failed reading zip archive: {what}. This file is "
        f"{_describe(f)}. It is most likely corrupted: it was not saved completely, was "
        "transferred incorrectly, or was modified after saving.")


class _Placer:
    """Where storages go: ``map_location`` applied to a storage loaded on the CPU."""

    def __init__(self, map_location):
        loc = map_location
        if isinstance(loc, (str, bytes)):
            loc = loc.decode() if isinstance(loc, bytes) else loc
            _device(loc)    # a bad string fails now, with the device's own error
        self.loc = loc

    def __call__(self, storage, location):
        loc = self.loc
        if loc is None:
            target = location
        elif isinstance(loc, dict):
            target = loc.get(location, location)
        elif isinstance(loc, (str, _device)):
            target = str(loc)
        else:
            out = loc(storage, location)
            if out is not None:
                return out
            target = location
        dev = _device(target)
        if dev.type == "cuda":
            from .. import cuda
            if not cuda.is_available():
                raise RuntimeError(
                    "Attempting to deserialize object on a CUDA device but "
                    "torch.cuda.is_available() is False. If you are running on a CPU-only "
                    "machine, please use torch.load with map_location=torch.device('cpu') "
                    "to map your storages to the CPU.")
        return storage.to(dev)


def _byteswapped(array, order):
    if order == sys.byteorder:
        return array
    return array.byteswap(inplace=True) if array.flags.writeable else array.byteswap()


def _load_zip(fh, f, place, pickle_module, weights_only, mmap_file, pickle_load_args):
    import numpy as np
    reader = ZipReader(fh)
    if reader.has("constants.pkl"):
        if weights_only:
            raise RuntimeError("Cannot use ``weights_only=True`` with TorchScript archives "
                               "passed to ``torch.load``. " + _load.UNSAFE_MESSAGE)
        raise RuntimeError("ember.load: TorchScript archives are not supported")
    order = "little"
    if reader.has("byteorder"):
        order = reader.read("byteorder").decode("ascii", "replace")
        if order not in ("little", "big"):
            raise ValueError("Unknown endianness type: " + order)
    storages = {}

    def storage_for(dtype, key, location, numel, _view):
        if key in storages:
            return storages[key]
        name = f"data/{key}"
        nbytes = numel * dtype.itemsize
        info = reader.info(name)
        if info.file_size != nbytes:    # checked before allocating what the pickle claims
            raise CorruptFile(f"record {name} holds {info.file_size} bytes, expected {nbytes}")
        if mmap_file is not None and info.compress_type == 0:
            array = np.frombuffer(mmap_file, dtype=dtype.np, count=numel,
                                  offset=reader.data_offset(info))
        else:
            array = np.empty(numel, dtype=dtype.np)
            reader.read_into(name, array.view(np.uint8))
        storage = place(Storage(_byteswapped(array, order), dtype, _device("cpu")), location)
        storages[key] = storage
        return storage

    data = reader.read("data.pkl")
    mixin = _load.WeightsOnlyMixin if weights_only else _load.FullMixin
    up = _load.unpickler(pickle_module, mixin, storage_for, io.BytesIO(data),
                         **pickle_load_args)
    return up.load()


def _load_legacy(fh, place, pickle_module, weights_only, pickle_load_args):
    """torch's pre-zip format: pickles of the magic number, the protocol version and
    system info, the object's pickle, the storage keys, then each storage as its element
    count (8 bytes) and raw bytes.  Storages follow the pickle that uses them, so a
    first pass over the pickle (running nothing) learns their dtypes."""
    import numpy as np
    mixin = _load.WeightsOnlyMixin if weights_only else _load.FullMixin

    def header():
        return _load.unpickler(pickle_module, mixin, _no_storage, fh,
                               **pickle_load_args).load()

    if header() != MAGIC_NUMBER:
        raise _load.CorruptRecord("Invalid magic number; corrupt file?")
    version = header()
    if version != PROTOCOL_VERSION:
        raise _load.CorruptRecord(f"Invalid protocol version: {version}")
    header()   # system info: sizes and byte order (Ember reads little-endian files)
    start = fh.tell()
    seen = {}

    def note(dtype, key, location, numel, view):
        seen.setdefault(key, (dtype, location, numel))
        return _load._Anything()

    _load.unpickler(None, _load.ScanMixin, note, fh, **pickle_load_args).load()
    keys = header()
    storages = {}
    here = fh.tell()
    left = fh.seek(0, os.SEEK_END) - here
    fh.seek(here)
    for key in keys:
        if key not in seen:
            raise CorruptFile(f"storage {key!r} is not used by the pickle")
        dtype, location, _ = seen[key]
        count = int.from_bytes(_read_exact(fh, 8), "little")
        left -= 8 + count * dtype.itemsize
        if left < 0:
            raise EOFError("unexpected end of file in a storage")
        array = np.empty(count, dtype=dtype.np)
        if fh.readinto(array.view(np.uint8)) != array.nbytes:
            raise EOFError("unexpected end of file in a storage")
        storages[key] = place(Storage(array, dtype, _device("cpu")), location)
    end = fh.tell()

    def storage_for(dtype, key, location, numel, view):
        storage = storages.get(key)
        if storage is None:
            raise CorruptFile(f"storage {key!r} is missing")
        if view is not None:
            view_key, offset, size = view
            if view_key not in storages:
                storages[view_key] = Storage(storage.array[offset:offset + size], dtype,
                                             storage.device)
            return storages[view_key]
        return storage

    fh.seek(start)
    result = _load.unpickler(pickle_module, mixin, storage_for, fh, **pickle_load_args).load()
    fh.seek(end)
    return result


def _no_storage(*args):
    raise pickle.UnpicklingError("unsupported persistent id encountered")


def _read_exact(fh, n):
    data = fh.read(n)
    if len(data) != n:
        raise EOFError(f"unexpected EOF, expected {n - len(data)} more bytes")
    return data


def _load_safetensors(f, map_location):
    """As torch.load: a path ending in .safetensors is read as safetensors."""
    if isinstance(map_location, dict):
        raise RuntimeError("Loading safetensors file with dict map_location is not supported. "
                           "Use a device string or torch.device instead.")
    if callable(map_location) and not isinstance(map_location, _device):
        raise RuntimeError("Loading safetensors file with callable map_location is not "
                           "supported. Use a device string or torch.device instead.")
    from ..utils.safetensors import load_file
    return load_file(f, device="cpu" if map_location is None else str(map_location))


@contextlib.contextmanager
def _opened(f):
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            yield fh
    else:
        yield f


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None,
         **pickle_load_args):
    """Load what ``torch.save`` or ``ember.save`` wrote, from a path or a file object.

    ``map_location``: a device, a string, a ``{saved: target}`` dict or a callable
    ``(storage, saved_location) -> storage or None``.  ``weights_only`` (default True
    unless a ``pickle_module`` is given) refuses every global outside torch's allowlist
    and ``add_safe_globals``.  ``mmap=True`` maps the file (copy-on-write, as torch) and
    makes tensors views of it instead of reading them.
    """
    if weights_only is None:
        weights_only = pickle_module is None
    if weights_only and pickle_module is not None:
        raise RuntimeError("Can not safely load weights when explicit pickle_module is "
                           "specified")
    if pickle_load_args and weights_only:
        import warnings
        warnings.warn("pickle_load_args only works if `weights_only=False`.", stacklevel=2)
        pickle_load_args = {}
    pickle_load_args.setdefault("encoding", "utf-8")
    if isinstance(f, (str, os.PathLike)) and os.fspath(f).endswith(".safetensors"):
        return _load_safetensors(f, map_location)
    place = _Placer(map_location)
    with _opened(f) as fh:
        start = fh.tell()
        is_zip = fh.read(4) == b"PK\x03\x04"
        fh.seek(start)
        if mmap and not is_zip:
            f_name = f"{f}, " if isinstance(f, str) else ""
            raise RuntimeError(
                "mmap can only be used with files saved with "
                f"`torch.save({f_name}_use_new_zipfile_serialization=True), "
                "please torch.save your checkpoint with this option in order to use mmap.")
        if mmap and not isinstance(f, (str, os.PathLike)):
            raise ValueError("f must be a file path in order to use the mmap argument")
        try:
            if is_zip:
                mapped = None
                if mmap:
                    import mmap as _mmap
                    # Copy-on-write, as torch maps by default: tensors are writable and
                    # the file never changes.
                    mapped = _mmap.mmap(fh.fileno(), 0, access=_mmap.ACCESS_COPY)
                return _load_zip(fh, f, place, pickle_module, weights_only, mapped,
                                 pickle_load_args)
            return _load_legacy(fh, place, pickle_module, weights_only, pickle_load_args)
        except CorruptFile as e:
            raise _corrupt(f, str(e)) from None
        except _load.CorruptRecord as e:
            raise RuntimeError(f"{e} (in {_describe(f)})") from None
        except (EOFError, ValueError) as e:
            if isinstance(e, ValueError) and "endianness" in str(e):
                raise
            raise RuntimeError(f"unexpected end of file or invalid data while loading "
                               f"{_describe(f)} ({type(e).__name__}: {e}). The file might be "
                               "corrupted.") from None
        except pickle.UnpicklingError as e:
            if not weights_only:
                raise
            message = _load.unwrap_error(e)
            if "allowed global by default" not in message and "is blocked" not in message:
                message += f"\n\nThe file is {_describe(f)}."
            raise pickle.UnpicklingError(message) from None
