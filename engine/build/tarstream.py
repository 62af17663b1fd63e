"""Layer tars written straight from a list of entries (COPY, ADD, WORKDIR), read as a stream.

The builder knows exactly which files a COPY puts where, with which owner and mode, so it writes the layer
tar itself instead of copying into a container and diffing. The output is deterministic: entries sorted by
path (parents first), PAX format, numeric owners only, whole-second mtimes, the same header fields as
``engine.store.tar.writer.write_layer_tar`` (so the blob of a layer can be made again from its unpacked
directory, byte for byte). :class:`StreamReader` turns the chunks into a file-like object
that ``Images.add_layer_from_tar`` reads, with no thread and no temporary file.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator

from engine.errors import BuildError
from engine.store.tar.writer import tar_header

__all__ = [
    "BLOCKDEV",
    "CHARDEV",
    "DIR",
    "FIFO",
    "FILE",
    "SYMLINK",
    "LayerEntry",
    "StreamReader",
    "tar_chunks",
]

DIR, FILE, SYMLINK = "dir", "file", "symlink"
FIFO, CHARDEV, BLOCKDEV = "fifo", "char", "block"
_BLOCK = 512
_TYPES = {DIR: b"5", FILE: b"0", SYMLINK: b"2", FIFO: b"6", CHARDEV: b"3", BLOCKDEV: b"4"}  # tar type flags
_CHUNK = 1 << 20


class LayerEntry:
    """One path of a layer being written: ``path`` relative to the image root (no leading slash), ``kind``
    (DIR, FILE, SYMLINK, FIFO, CHARDEV, BLOCKDEV), mode, owner, mtime; a file's content comes from
    ``source`` (a host file) or ``data``, and ``digest`` is its sha256 (for cache keys); ``dev`` is a device
    node's (major, minor)."""

    __slots__ = (
        "path",
        "kind",
        "mode",
        "uid",
        "gid",
        "mtime",
        "size",
        "source",
        "data",
        "linkname",
        "xattrs",
        "digest",
        "dev",
    )

    def __init__(
        self,
        path: str,
        kind: str,
        mode: int,
        uid: int = 0,
        gid: int = 0,
        mtime: int = 0,
        size: int = 0,
        source: str | None = None,
        data: bytes | None = None,
        linkname: str = "",
        xattrs: dict[str, bytes] | None = None,
        digest: str = "",
        dev: tuple[int, int] = (0, 0),
    ) -> None:
        self.path = path
        self.kind = kind
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.mtime = mtime
        self.size = size
        self.source = source
        self.data = data
        self.linkname = linkname
        self.xattrs = xattrs or {}
        self.digest = digest
        self.dev = dev

    def __repr__(self) -> str:
        return f"LayerEntry({self.path!r}, {self.kind}, {self.mode:o}, {self.uid}:{self.gid})"

    def describe(self) -> str:
        """What a cache key needs of this entry: everything but the modification time."""
        if self.kind == SYMLINK:
            what = self.linkname
        elif self.kind in (CHARDEV, BLOCKDEV):
            what = f"{self.dev[0]}:{self.dev[1]}"
        else:
            what = self.digest
        return f"{self.path}\0{self.kind}\0{self.mode:o}\0{self.uid}:{self.gid}\0{what}"


def _sort_key(path: str) -> list[bytes]:
    return [os.fsencode(part) for part in path.split("/")]


def _header(entry: LayerEntry) -> bytes:
    """The header block(s) of an entry: byte for byte what write_layer_tar writes (one header writer)."""
    return tar_header(
        entry.path,
        _TYPES[entry.kind],
        stat.S_IMODE(entry.mode),
        entry.uid,
        entry.gid,
        entry.mtime,
        size=entry.size if entry.kind == FILE else 0,
        linkname=entry.linkname,
        xattrs=entry.xattrs,
        dev=entry.dev,
    )


def _content(entry: LayerEntry) -> Iterator[bytes]:
    """Exactly ``entry.size`` bytes (zero-filled if the file shrank meanwhile) and the block padding."""
    remaining = entry.size
    if entry.data is not None:
        yield entry.data[:remaining]
        remaining -= min(remaining, len(entry.data))
    elif entry.source is not None:
        try:
            fd = os.open(entry.source, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
        except OSError as exc:
            raise BuildError(f"cannot read {entry.source}: {exc.strerror or exc}") from None
        try:
            while remaining > 0:
                chunk = os.read(fd, min(remaining, _CHUNK))
                if not chunk:
                    break
                remaining -= len(chunk)
                yield chunk
        finally:
            os.close(fd)
    if remaining > 0:
        yield bytes(remaining)
    pad = -entry.size % _BLOCK
    if pad:
        yield bytes(pad)


def tar_chunks(entries: Iterable[LayerEntry]) -> Iterator[bytes]:
    """The layer tar of ``entries`` (sorted here), chunk by chunk, with the end-of-archive blocks."""
    pending = bytearray()
    for entry in sorted(entries, key=lambda e: _sort_key(e.path)):
        pending += _header(entry)
        if entry.kind == FILE:
            for chunk in _content(entry):
                pending += chunk
                if len(pending) >= _CHUNK:
                    yield bytes(pending)
                    pending = bytearray()
    pending += bytes(2 * _BLOCK)
    yield bytes(pending)


class StreamReader:
    """A read-only file object over an iterator of byte chunks."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._cur = b""
        self._pos = 0

    def read(self, size: int = -1) -> bytes:
        out: list[bytes] = []
        need = size if size is not None and size >= 0 else -1
        while need != 0:
            if self._pos >= len(self._cur):
                try:
                    self._cur = next(self._chunks)
                except StopIteration:
                    break
                self._pos = 0
                continue
            end = len(self._cur) if need < 0 else self._pos + need
            piece = self._cur[self._pos : end]
            self._pos += len(piece)
            if need > 0:
                need -= len(piece)
            out.append(piece)
        return b"".join(out)

    def readable(self) -> bool:
        return True
