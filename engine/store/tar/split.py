"""A layer tar kept as its unpacked directory plus a small record of everything else (as containers-storage's
tar-split does): the bytes of every header, extended header, padding block and the end of the archive are
kept verbatim, a regular file's content only as a reference (its path in the layer's directory and its
length). ``regenerate`` reads the directory back through the record and gives the very same tar bytes.

The record is ``TAR_SPLIT`` in the layer's directory: a first line ``dockyard-tar-split 1 <json>`` (the
DiffID and the tar's length), then a zlib stream of items: ``R`` + 4-byte length + raw bytes, or ``F`` +
2-byte length + path + 8-byte length of content.
"""

from __future__ import annotations

import os
import struct
import zlib

from engine.errors import StoreError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

TAR_SPLIT = "tar-split"
_MAGIC = b"dockyard-tar-split 1 "
_CHUNK = 1 << 20


class Recorder:
    """Collects a tar stream's raw bytes and file references while the extractor reads it.

    ``broken`` is set when the extraction removed or replaced a file whose content the record points at (a
    name twice in one archive, a whiteout of a file of the same layer): the directory then no longer holds
    every byte and the tar cannot be regenerated from it."""

    def __init__(self) -> None:
        self._out = zlib.compressobj(6)
        self._parts: list[bytes] = []
        self._raw = bytearray()
        self.files: dict[str, int] = {}
        self.total = 0
        self.broken = False

    def raw(self, data: bytes | memoryview) -> None:
        self._raw += data
        self.total += len(data)
        if len(self._raw) >= _CHUNK:
            self._flush_raw()

    def _flush_raw(self) -> None:
        if self._raw:
            self._parts.append(
                self._out.compress(b"R" + struct.pack("<I", len(self._raw)) + bytes(self._raw))
            )
            self._raw.clear()

    def file(self, rel: str, size: int) -> None:
        if rel in self.files:
            self.broken = True
        self._flush_raw()
        name = rel.encode("utf-8", "surrogateescape")
        self._parts.append(
            self._out.compress(b"F" + struct.pack("<H", len(name)) + name + struct.pack("<Q", size))
        )
        self.files[rel] = size
        self.total += size

    def removed(self, rel: str) -> None:
        """``rel`` (and all below it) was removed from the directory being extracted."""
        if not self.files or self.broken:
            return
        if rel in self.files:
            self.broken = True
            return
        prefix = rel + "/"
        if any(p.startswith(prefix) for p in self.files):
            self.broken = True

    def finish(self, diff_id: str) -> bytes:
        """The record's bytes."""
        from engine.lean import jsonio

        self._flush_raw()
        body = b"".join(self._parts) + self._out.flush()
        head = jsonio.dumps({"diff_id": diff_id, "size": self.total}, sort_keys=True).encode()
        return _MAGIC + head + b"\n" + body


def complete(rec: Recorder, diff: str) -> bool:
    """Whether every file the record points at is in ``diff`` with its length (a cheap check after an
    extraction that nothing replaced them)."""
    import stat

    if rec.broken:
        return False
    for rel, size in rec.files.items():
        try:
            st = os.stat(os.path.join(diff, rel), follow_symlinks=False)
        except OSError:
            return False
        if not stat.S_ISREG(st.st_mode) or st.st_size != size:
            return False
    return True


def _items(path: str) -> Iterator[tuple[bytes | memoryview, str, int]]:
    """(raw bytes, "", 0) or (b"", path, length), in order."""
    with open(path, "rb") as f:
        line = f.readline(4096)
        if not line.startswith(_MAGIC):
            raise StoreError(f"{path} is not a tar-split record")
        try:
            data = zlib.decompress(f.read())
        except zlib.error:
            raise StoreError(f"the tar-split record {path} is damaged") from None
    view = memoryview(data)
    pos, end = 0, len(data)
    unpack = struct.unpack_from
    try:
        while pos < end:
            kind = data[pos]
            if kind == 0x52:  # R
                (n,) = unpack("<I", data, pos + 1)
                pos += 5 + n
                if pos > end:
                    break
                yield view[pos - n : pos], "", 0
            elif kind == 0x46:  # F
                (n,) = unpack("<H", data, pos + 1)
                name = data[pos + 3 : pos + 3 + n].decode("utf-8", "surrogateescape")
                (size,) = unpack("<Q", data, pos + 3 + n)
                pos += 11 + n
                yield b"", name, size
            else:
                break
        else:
            return
    except struct.error:
        pass
    raise StoreError(f"the tar-split record {path} is damaged")


def regenerate(diff: str, record: str) -> Iterator[bytes | bytearray | memoryview]:
    """The layer's tar, chunk by chunk, from its directory and its record. A file shorter than recorded is a
    StoreError (the layer was changed on disk); the caller checks the digest of the whole. Headers and small
    files are gathered into chunks of about 1 MiB (fewer hash updates and writes)."""
    try:
        dfd = os.open(diff, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as e:
        raise StoreError(f"the layer directory {diff} cannot be read: {e.strerror}") from None
    try:
        yield from _regenerate(dfd, record)
    finally:
        os.close(dfd)


def _regenerate(dfd: int, record: str) -> Iterator[bytes | bytearray | memoryview]:
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
    buf = bytearray()
    for raw, name, size in _items(record):
        if raw:
            buf += raw
            if len(buf) >= _CHUNK:
                yield buf
                buf = bytearray()
            continue
        try:
            fd = os.open(name, flags, dir_fd=dfd)
        except OSError as e:
            raise StoreError(
                f"layer file {name!r} cannot be read to rebuild the layer's tar: {e.strerror}"
            ) from None
        try:
            if size >= _CHUNK and buf:
                yield buf
                buf = bytearray()
            left = size
            while left:
                data = os.read(fd, min(left, _CHUNK))
                if not data:
                    raise StoreError(f"layer file {name!r} is shorter than when it was unpacked")
                left -= len(data)
                if size >= _CHUNK:
                    yield data
                else:
                    buf += data
        finally:
            os.close(fd)
        if len(buf) >= _CHUNK:
            yield buf
            buf = bytearray()
    if buf:
        yield buf
