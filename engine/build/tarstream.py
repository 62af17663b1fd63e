"""Layer tars written straight from a list of entries (COPY, ADD, WORKDIR), read as a stream.

The builder knows exactly which files a COPY puts where, with which owner and mode, so it writes the layer
tar itself instead of copying into a container and diffing. The output is deterministic: entries sorted by
path (parents first), PAX format, numeric owners only, whole-second mtimes, the same header fields as
``engine.store.layertar.write_layer_tar`` (so the blob of a layer can be made again from its unpacked
directory, byte for byte). :class:`StreamReader` turns the chunks into a file-like object
that ``Images.add_layer_from_tar`` reads, with no thread and no temporary file.
"""

from __future__ import annotations

import os
import stat
import tarfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from engine.errors import BuildError

__all__ = ["DIR", "FILE", "SYMLINK", "LayerEntry", "StreamReader", "tar_chunks"]

DIR, FILE, SYMLINK = "dir", "file", "symlink"
_BLOCK = 512
_CHUNK = 1 << 20


@dataclass
class LayerEntry:
    """One path of a layer being written. Content comes from ``source`` (a host file) or ``data``."""

    path: str  # relative to the image root, no leading slash
    kind: str
    mode: int
    uid: int = 0
    gid: int = 0
    mtime: int = 0
    size: int = 0
    source: str | None = None
    data: bytes | None = None
    linkname: str = ""
    xattrs: dict[str, bytes] = field(default_factory=dict)
    digest: str = ""  # sha256 of the content (files), for cache keys

    def describe(self) -> str:
        """What a cache key needs of this entry: everything but the modification time."""
        what = self.linkname if self.kind == SYMLINK else self.digest
        return f"{self.path}\0{self.kind}\0{self.mode:o}\0{self.uid}:{self.gid}\0{what}"


def _sort_key(path: str) -> list[bytes]:
    return [os.fsencode(part) for part in path.split("/")]


def _pax_record(key: bytes, value: bytes) -> bytes:
    """One ``"%d %s=%s\n"`` PAX record; the length counts its own digits."""
    body = b" " + key + b"=" + value + b"\n"
    length = len(body) + len(str(len(body)))
    if len(str(length)) != len(str(len(body))):
        length = len(body) + len(str(length))
    return str(length).encode() + body


def _ustar(
    name: bytes, kind: bytes, mode: int, uid: int, gid: int, size: int, mtime: int, link: bytes
) -> bytes:
    block = bytearray(_BLOCK)
    block[0 : len(name)] = name
    block[100:108] = b"%07o\0" % mode
    block[108:116] = b"%07o\0" % uid
    block[116:124] = b"%07o\0" % gid
    block[124:136] = b"%011o\0" % size
    block[136:148] = b"%011o\0" % mtime
    block[148:156] = b"        "
    block[156:157] = kind
    block[157 : 157 + len(link)] = link
    block[257:265] = b"ustar\x0000"
    block[329:337] = b"%07o\0" % 0
    block[337:345] = b"%07o\0" % 0
    block[148:156] = b"%06o\0 " % sum(block)
    return bytes(block)


def _header(entry: LayerEntry) -> bytes:
    """The header block(s) of an entry: a ustar block, after a PAX header when a value does not fit (long or
    non-ASCII names, big numbers) or there are xattrs; byte for byte what write_layer_tar writes."""
    kind = {DIR: tarfile.DIRTYPE, FILE: tarfile.REGTYPE, SYMLINK: tarfile.SYMTYPE}[entry.kind]
    name = entry.path + ("/" if entry.kind == DIR else "")
    raw_name = name.encode("utf-8", "surrogateescape")
    raw_link = entry.linkname.encode("utf-8", "surrogateescape")
    uid, gid, mtime = entry.uid, entry.gid, entry.mtime
    size = entry.size if entry.kind == FILE else 0
    records: list[bytes] = []
    if len(raw_name) > 100 or not raw_name.isascii():
        records.append(_pax_record(b"path", raw_name))
        raw_name = raw_name[:100]
    if len(raw_link) > 100 or not raw_link.isascii():
        records.append(_pax_record(b"linkpath", raw_link))
        raw_link = raw_link[:100]
    if not 0 <= uid < 8**7:
        records.append(_pax_record(b"uid", b"%d" % uid))
        uid = 0
    if not 0 <= gid < 8**7:
        records.append(_pax_record(b"gid", b"%d" % gid))
        gid = 0
    if not 0 <= size < 8**11:
        records.append(_pax_record(b"size", b"%d" % size))
    if not 0 <= mtime < 8**11:
        records.append(_pax_record(b"mtime", b"%d" % mtime))
        mtime = 0
    for key in sorted(entry.xattrs):
        records.append(
            _pax_record(b"SCHILY.xattr." + key.encode("utf-8", "surrogateescape"), entry.xattrs[key])
        )
    block = _ustar(
        raw_name, kind, stat.S_IMODE(entry.mode), uid, gid, size if size < 8**11 else 0, mtime, raw_link
    )
    if not records:
        return block
    try:
        (name + entry.linkname).encode("utf-8")
    except UnicodeEncodeError:
        records.insert(0, _pax_record(b"hdrcharset", b"BINARY"))
    data = b"".join(records)
    pax = _ustar(b"././@PaxHeader", tarfile.XHDTYPE, 0, 0, 0, len(data), 0, b"")
    return pax + data + bytes(-len(data) % _BLOCK) + block


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
