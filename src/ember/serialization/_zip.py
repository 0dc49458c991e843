"""The zip container of torch's checkpoints, written and read without torch.

Written as torch's writer (miniz) lays it out, so that torch's reader, including its
mmap path that computes record offsets itself, finds everything where it expects:
stored (uncompressed) records whose local header has zero sizes and a data descriptor
after the payload, an extra field ``FB<len>ZZZ...`` that pads each payload to a multiple
of ``ALIGNMENT`` bytes, and a zip64 end of central directory.
"""
import struct
import zipfile
import zlib

ALIGNMENT = 64
# Sizes and offsets from here on need zip64 fields (a module constant so that the tests
# can exercise the zip64 layout on small files).
ZIP64_LIMIT = 0xFFFFFFFF
_MAX32 = 0xFFFFFFFF      # the value that says "see the zip64 field"
_FLAGS = 0x0808          # bit 3: sizes in a data descriptor; bit 11: UTF-8 names
_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")


class ZipWriter:
    """Appends records to a binary stream ``out``; ``close`` writes the directory."""

    def __init__(self, out):
        self.out = out
        self.pos = 0
        self.entries = []   # (name, crc, size, header offset)

    def _write(self, data):
        self.out.write(data)
        self.pos += len(data)

    def write_record(self, name, data):
        """``data``: bytes or a contiguous array/buffer (written without a copy)."""
        view = memoryview(data).cast("B")
        size = view.nbytes
        name_b = name.encode("utf-8")
        header_at = self.pos
        zip64 = b""
        if size >= ZIP64_LIMIT or header_at >= ZIP64_LIMIT:
            fields = (size, size) if size >= ZIP64_LIMIT else ()
            fields += (header_at,) if header_at >= ZIP64_LIMIT else ()
            zip64 = struct.pack(f"<HH{len(fields)}Q", 1, 8 * len(fields), *fields)
        start = header_at + _LOCAL.size + len(name_b) + len(zip64) + 4
        pad = -start % ALIGNMENT
        extra = zip64 + b"FB" + struct.pack("<H", pad) + b"Z" * pad
        # miniz writes no data descriptor after an empty payload (torch's offset
        # arithmetic counts on it), and then clears the flag that announces one.
        flags = _FLAGS if size else _FLAGS & ~0x8
        self._write(_LOCAL.pack(0x04034B50, 0, flags, 0, 0, 0, 0, 0, 0, len(name_b),
                                len(extra)) + name_b + extra)
        self._write(view)
        crc = zlib.crc32(view)
        if size >= ZIP64_LIMIT or header_at >= ZIP64_LIMIT:
            self._write(struct.pack("<IIQQ", 0x08074B50, crc, size, size))
        elif size:
            self._write(struct.pack("<IIII", 0x08074B50, crc, size, size))
        self.entries.append((name_b, crc, size, header_at))

    def close(self):
        cd_start = self.pos
        for name_b, crc, size, at in self.entries:
            fields = ()
            if size >= ZIP64_LIMIT:
                fields += (size, size)
            if at >= ZIP64_LIMIT:
                fields += (at,)
            extra = struct.pack(f"<HH{len(fields)}Q", 1, 8 * len(fields), *fields) \
                if fields else b""
            small = _MAX32 if size >= ZIP64_LIMIT else size
            self._write(_CENTRAL.pack(0x02014B50, 0, 0, _FLAGS if size else _FLAGS & ~0x8,
                                      0, 0, 0, crc, small, small,
                                      len(name_b), len(extra), 0, 0, 0, 0,
                                      _MAX32 if at >= ZIP64_LIMIT else at) + name_b + extra)
        cd_size = self.pos - cd_start
        n = len(self.entries)
        eocd64_at = self.pos
        self._write(struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 0x031E, 0x2D, 0, 0, n, n,
                                cd_size, cd_start))
        self._write(struct.pack("<IIQI", 0x07064B50, 0, eocd64_at, 1))
        self._write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, min(n, 0xFFFF),
                                min(n, 0xFFFF), _MAX32 if cd_size >= ZIP64_LIMIT else cd_size,
                                _MAX32 if cd_start >= ZIP64_LIMIT else cd_start, 0))


class CorruptFile(Exception):
    """Raised by the reader; ``load`` turns it into torch's RuntimeError naming the file."""


class ZipReader:
    """Records of a zip checkpoint, located through the central directory."""

    def __init__(self, fh):
        self.fh = fh
        try:
            self.zip = zipfile.ZipFile(fh)
        except (zipfile.BadZipFile, ValueError, OSError, EOFError) as e:
            raise CorruptFile("failed finding central directory") from e
        names = self.zip.namelist()
        if not names:
            raise CorruptFile("file not found: data.pkl")
        # torch's reader takes the folder of the first record as the archive's name.
        self.prefix = names[0].split("/", 1)[0] + "/"
        self.names = set(names)

    def has(self, name):
        return self.prefix + name in self.names

    def info(self, name):
        try:
            return self.zip.getinfo(self.prefix + name)
        except KeyError:
            raise CorruptFile(f"failed locating file {name}: file not found") from None

    def data_offset(self, info):
        """Where the payload of ``info`` starts in the file (after its local header)."""
        self.fh.seek(info.header_offset)
        head = self.fh.read(_LOCAL.size)
        if len(head) != _LOCAL.size or head[:4] != b"PK\x03\x04":
            raise CorruptFile(f"invalid local header of {info.filename}")
        name_len, extra_len = struct.unpack("<HH", head[26:30])
        return info.header_offset + _LOCAL.size + name_len + extra_len

    def read_into(self, name, out):
        """Fill the writable buffer ``out`` (exactly the record's size) and check the CRC."""
        info = self.info(name)
        view = memoryview(out).cast("B")
        if info.file_size != view.nbytes:
            raise CorruptFile(f"record {name} holds {info.file_size} bytes, expected "
                              f"{view.nbytes}")
        if info.compress_type != zipfile.ZIP_STORED:
            try:
                view[:] = self.zip.read(info)
            except (zipfile.BadZipFile, zlib.error, EOFError) as e:
                raise CorruptFile(f"failed reading file {name}: {e}") from e
            return
        self.fh.seek(self.data_offset(info))
        got = self.fh.readinto(view)
        if got != view.nbytes:
            raise CorruptFile(f"failed reading file {name}: unexpected end of file")
        if zlib.crc32(view) != info.CRC:
            raise CorruptFile(f"failed reading file {name}: invalid crc32 (the record is "
                              "damaged)")

    def read(self, name):
        buf = bytearray(self.info(name).file_size)
        self.read_into(name, buf)
        return bytes(buf)
