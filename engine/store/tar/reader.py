"""A forward-only tar reader: POSIX ustar and PAX headers (long names, times in nanoseconds, xattrs), GNU long
names, one entry at a time from a stream that is never seeked."""

from __future__ import annotations

import os
import tarfile
from collections.abc import Callable
from typing import Any

from engine.errors import UnsafeArchive
from engine.lean.record import record

from . import limits
from .compression import CHUNK

BLOCK = 512
_ZERO_BLOCK = bytes(BLOCK)

# Tar type flags (bytes of length 1, as tarfile.TarInfo.type holds them).
REGULAR = (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.CONTTYPE)
_HEADER_ONLY = (
    tarfile.LNKTYPE,
    tarfile.SYMTYPE,
    tarfile.CHRTYPE,
    tarfile.BLKTYPE,
    tarfile.DIRTYPE,
    tarfile.FIFOTYPE,
)

# --------------------------------------------------------------------------------------------------------
# Reading tar entries


class TarStream:
    """Forward-only reader of the uncompressed tar bytes, with large reads and no extra copies.

    Every byte read counts against ``budget`` when one is given (``limits.Budget``: the archive's unpacked
    size). With ``seek`` (a relative seek of the underlying file), ``skip`` jumps over content instead of
    reading it: for indexing an archive on disk, whose entries are read later by their offsets.
    """

    def __init__(
        self,
        read: Callable[[int], bytes],
        hasher: Any = None,
        budget: limits.Budget | None = None,
        seek: Callable[[int], object] | None = None,
    ) -> None:
        self._read = read
        self._buf = memoryview(b"")
        self._hasher = hasher
        self._budget = budget
        self._seek = seek
        self.total = 0
        self.eof = False
        self.split: Any = None  # a split.Recorder: every byte but files' content recorded

    @property
    def position(self) -> int:
        """Bytes of the stream consumed so far (where the next read starts)."""
        return self.total - len(self._buf)

    def _fill(self) -> bool:
        if self.eof:
            return False
        data = self._read(CHUNK)
        if not data:
            self.eof = True
            return False
        self.total += len(data)
        if self._budget is not None:
            self._budget.charge(len(data))
        if self._hasher is not None:
            self._hasher.update(data)
        self._buf = memoryview(data)
        return True

    def expect(self, n: int, what: str) -> None:
        """Refuse at once an entry of ``n`` more bytes that would take the stream beyond its budget (part of
        it may already be read ahead, and counted)."""
        if self._budget is not None:
            self._budget.check(n - len(self._buf), what)

    def read_exact(self, n: int) -> bytes:
        data = self._read_exact(n)
        if self.split is not None:
            self.split.raw(data)
        return data

    def _read_exact(self, n: int) -> bytes:
        buf = self._buf
        if len(buf) >= n:
            self._buf = buf[n:]
            return bytes(buf[:n])
        parts = [bytes(buf)]
        have = len(buf)
        self._buf = memoryview(b"")
        while have < n:
            if not self._fill():
                raise UnsafeArchive("unexpected end of archive (the tar stream is truncated)")
            take = min(n - have, len(self._buf))
            parts.append(bytes(self._buf[:take]))
            self._buf = self._buf[take:]
            have += take
        return b"".join(parts)

    def read_block(self) -> bytes:
        """The next 512-byte block, or b"" at the end of the stream."""
        if len(self._buf) >= BLOCK:
            block = bytes(self._buf[:BLOCK])
            self._buf = self._buf[BLOCK:]
            if self.split is not None:
                self.split.raw(block)
            return block
        if not self._buf and not self._fill():
            return b""
        return self.read_exact(BLOCK)

    def copy_to(self, fd: int, n: int) -> None:
        while n > 0:
            if not self._buf and not self._fill():
                raise UnsafeArchive("unexpected end of archive (the tar stream is truncated)")
            take = min(n, len(self._buf))
            chunk = self._buf[:take]
            while chunk:
                written = os.write(fd, chunk)
                chunk = chunk[written:]
            self._buf = self._buf[take:]
            n -= take

    def skip(self, n: int) -> None:
        if self._seek is not None and n > len(self._buf):
            n -= len(self._buf)
            self._buf = memoryview(b"")
            self._seek(n)
            self.total += n
            return
        while n > 0:
            if not self._buf and not self._fill():
                raise UnsafeArchive("unexpected end of archive (the tar stream is truncated)")
            take = min(n, len(self._buf))
            if self.split is not None:
                self.split.raw(self._buf[:take])
            self._buf = self._buf[take:]
            n -= take

    def drain(self) -> None:
        """Read (and hash) whatever follows the end-of-archive marker."""
        if self.split is not None:
            self.split.raw(self._buf)
        self._buf = memoryview(b"")
        while self._fill():
            if self.split is not None:
                self.split.raw(self._buf)
        self._buf = memoryview(b"")


def padding(size: int) -> int:
    return -size % BLOCK


@record
class Entry:
    name: str
    type: bytes
    mode: int
    uid: int
    gid: int
    size: int
    mtime_ns: int
    linkname: str
    devmajor: int
    devminor: int
    xattrs: dict[str, bytes]


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _parse_pax(data: bytes) -> dict[str, bytes]:
    records: dict[str, bytes] = {}
    pos = 0
    end = len(data)
    while pos < end and data[pos] != 0:
        space = data.find(b" ", pos)
        try:
            length = int(data[pos:space])
        except ValueError:
            raise UnsafeArchive("invalid PAX extended header in the archive") from None
        stop = pos + length
        if space < 0 or length < 5 or stop > end or data[stop - 1] != 0x0A:
            raise UnsafeArchive("invalid PAX extended header in the archive")
        key, eq, value = data[space + 1 : stop - 1].partition(b"=")
        if not eq or not key:
            raise UnsafeArchive("invalid PAX extended header in the archive")
        records[_decode(key)] = value
        pos = stop
    return records


def _pax_time_ns(value: bytes) -> int:
    text = value.decode("ascii", "replace").strip()
    try:
        neg = text.startswith("-")
        whole, _, frac = text.lstrip("-").partition(".")
        ns = int(whole or "0") * 1_000_000_000 + int((frac + "000000000")[:9] or "0")
    except ValueError:
        raise UnsafeArchive(f"invalid PAX mtime {text!r} in the archive") from None
    return -ns if neg else ns


def _pax_int(value: bytes, key: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise UnsafeArchive(f"invalid PAX {key} {value!r} in the archive") from None
    if number < 0:
        raise UnsafeArchive(f"invalid PAX {key} {value!r} in the archive")
    return number


def _octal(field: bytes) -> int:
    """A numeric header field: NUL/space-terminated octal, or GNU base-256 when the high bit is set."""
    if field[0] in (0x80, 0xFF):
        number = int.from_bytes(field[1:], "big")
        return number - 256 ** (len(field) - 1) if field[0] == 0xFF else number
    text = field.split(b"\0", 1)[0].strip()
    return int(text, 8) if text else 0


def _text(field: bytes) -> str:
    return field.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _parse_header(block: bytes, offset: int) -> tuple[str, bytes, int, int, int, int, int, str, int, int]:
    """Parse a 512-byte ustar/GNU/v7 header: name, type, mode, uid, gid, size, mtime, linkname, devmajor,
    devminor."""
    try:
        chksum = _octal(block[148:156])
        unsigned = sum(block) - sum(block[148:156]) + 256
        if chksum != unsigned:
            signed = (
                unsigned
                - 2 * sum(b for b in block if b > 127)
                + 2 * sum(b for b in block[148:156] if b > 127)
            )
            if chksum != signed:
                raise ValueError("bad checksum")
        name = _text(block[0:100])
        kind = block[156:157]
        if block[257:263] == b"ustar\0" and block[345] != 0 and kind not in (b"L", b"K"):
            name = _text(block[345:500]) + "/" + name  # POSIX ustar name prefix
        if kind == tarfile.AREGTYPE and name.endswith("/"):
            kind = tarfile.DIRTYPE
        return (
            name,
            kind,
            _octal(block[100:108]),
            _octal(block[108:116]),
            _octal(block[116:124]),
            _octal(block[124:136]),
            _octal(block[136:148]),
            _text(block[157:257]),
            _octal(block[329:337]) if kind in (tarfile.CHRTYPE, tarfile.BLKTYPE) else 0,
            _octal(block[337:345]) if kind in (tarfile.CHRTYPE, tarfile.BLKTYPE) else 0,
        )
    except (ValueError, tarfile.HeaderError) as e:
        reason = str(e) if str(e) == "bad checksum" else "a numeric field is not a number"
        raise UnsafeArchive(
            f"invalid tar header at byte {offset}: {reason} (is this a tar archive?)"
        ) from None


_UID_LIMIT = (1 << 32) - 1  # uid_t; (uid_t)-1 means "no change" to chown
_MAJOR_LIMIT = 1 << 12  # Linux's dev_t: 12 bits of major, 20 of minor
_MINOR_LIMIT = 1 << 20
_NS_LIMIT = 1 << 63  # a timespec in nanoseconds


def _too_long(text: str) -> bool:
    return len(text) > limits.MAX_NAME_BYTES // 4 and (
        len(text.encode("utf-8", "surrogateescape")) > limits.MAX_NAME_BYTES
    )


def _check(e: Entry, offset: int) -> None:
    """Refuse values no file can have (they would fail deep in a system call): names longer than PATH_MAX,
    negative sizes, owners beyond uid_t, times beyond a timespec, device numbers beyond Linux's dev_t."""
    shown = e.name if len(e.name) <= 80 else e.name[:80] + "..."
    if _too_long(e.name):
        raise UnsafeArchive(f"refusing {shown!r}: the name is longer than {limits.MAX_NAME_BYTES} bytes")
    if _too_long(e.linkname):
        raise UnsafeArchive(
            f"refusing {shown!r}: the link target is longer than {limits.MAX_NAME_BYTES} bytes"
        )
    if e.size < 0:
        raise UnsafeArchive(f"invalid tar header at byte {offset}: {shown!r} has a negative size")
    if not (0 <= e.uid < _UID_LIMIT and 0 <= e.gid < _UID_LIMIT):
        raise UnsafeArchive(f"invalid tar header at byte {offset}: {shown!r} has an invalid owner")
    if not -_NS_LIMIT < e.mtime_ns < _NS_LIMIT:
        raise UnsafeArchive(f"invalid tar header at byte {offset}: {shown!r} has an invalid mtime")
    if not (0 <= e.devmajor < _MAJOR_LIMIT and 0 <= e.devminor < _MINOR_LIMIT):
        raise UnsafeArchive(f"invalid tar header at byte {offset}: {shown!r} has an invalid device number")


def next_entry(stream: TarStream) -> Entry | None:
    """The next real entry with its PAX/GNU extensions folded in; None at the end of the archive.

    Extension headers (PAX, GNU long names) are held in memory, so together they may not exceed
    ``limits.MAX_HEADER_BYTES`` for one entry; names, owners, times and device numbers are checked."""
    pax: dict[str, bytes] = {}
    longname: str | None = None
    longlink: str | None = None
    extended = 0
    while True:
        offset = stream.position
        block = stream.read_block()
        if not block or block == _ZERO_BLOCK:
            return None
        name, kind, mode, uid, gid, size, mtime, linkname, devmajor, devminor = _parse_header(block, offset)
        if kind in (
            tarfile.XHDTYPE,
            tarfile.SOLARIS_XHDTYPE,
            tarfile.XGLTYPE,
            tarfile.GNUTYPE_LONGNAME,
            tarfile.GNUTYPE_LONGLINK,
        ):
            extended += max(size, 0)
            if size < 0 or extended > limits.MAX_HEADER_BYTES:
                raise UnsafeArchive(
                    f"invalid tar header at byte {offset}: extended headers of {extended} bytes "
                    f"(more than {limits.MAX_HEADER_BYTES})"
                )
            data = stream.read_exact(size)
            stream.skip(padding(size))
            if kind in (tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK):
                text = _decode(data.split(b"\0", 1)[0])
                if kind == tarfile.GNUTYPE_LONGNAME:
                    longname = text
                else:
                    longlink = text
            elif kind != tarfile.XGLTYPE:  # global headers are ignored, as Docker does
                pax.update(_parse_pax(data))
            continue
        mtime_ns = mtime * 1_000_000_000
        if longname is not None:
            name = longname
        if longlink is not None:
            linkname = longlink
        xattrs: dict[str, bytes] = {}
        if pax:
            for key, value in pax.items():
                if key == "path":
                    name = _decode(value)
                elif key == "linkpath":
                    linkname = _decode(value)
                elif key == "size":
                    size = _pax_int(value, key)
                elif key == "uid":
                    uid = _pax_int(value, key)
                elif key == "gid":
                    gid = _pax_int(value, key)
                elif key == "mtime":
                    mtime_ns = _pax_time_ns(value)
                elif key.startswith("SCHILY.xattr."):
                    xattrs[key[len("SCHILY.xattr.") :]] = value
                elif key.startswith("LIBARCHIVE.xattr."):
                    import base64  # here: a libarchive xattr is rare, and these cost ~2.5 ms to load
                    import urllib.parse

                    attr = urllib.parse.unquote(key[len("LIBARCHIVE.xattr.") :])
                    try:
                        xattrs[attr] = base64.b64decode(value + b"=" * (-len(value) % 4))
                    except ValueError:
                        raise UnsafeArchive(f"invalid xattr {attr!r} in the archive") from None
                elif key.startswith("GNU.sparse."):
                    raise UnsafeArchive(f"{name!r}: sparse files are not supported in layers")
        if kind == tarfile.GNUTYPE_SPARSE:
            raise UnsafeArchive(f"{name!r}: sparse files are not supported in layers")
        if kind in _HEADER_ONLY:
            size = 0
        entry = Entry(
            name, kind, mode & 0o7777, uid, gid, size, mtime_ns, linkname, devmajor, devminor, xattrs
        )
        _check(entry, offset)
        return entry
