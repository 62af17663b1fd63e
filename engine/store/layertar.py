"""Layer tarballs: safe streaming extraction and deterministic creation.

``extract_layer`` unpacks an OCI layer (plain, gzip, bzip2, xz, or zstd when the ``zstandard`` package is
installed; detected from the magic bytes) read forward only, below a destination directory, without ever
writing outside it: every entry name is cleaned lexically (a leading ``/`` is dropped, a ``..`` that climbs
out is refused), parent directories are opened one component at a time with O_NOFOLLOW (nothing is written
through a symlink, whether the archive made it or it was already there), hardlinks to paths outside it are
refused, and files are created with O_EXCL|O_NOFOLLOW. A symlink's target is data, kept as written (as in
Docker, ``x -> ../../etc`` is legal: in a container ``/..`` is ``/``); since nothing here follows a symlink,
where one points cannot lead a write out. A refusal raises ``UnsafeArchive`` naming the entry; the entries
before it stay extracted (callers unpack into a temporary directory and delete it on error).

Whiteouts become overlayfs whiteouts (``overlay_whiteouts=True``: layer directories stacked as lowerdirs),
are applied by deleting (``overlay_whiteouts=False``: a layer applied onto a full tree), or are plain names
(``interpret_whiteouts=False``: ordinary archives for ``cp`` and ``ADD``).

``write_layer_tar`` writes a directory as a reproducible PAX tar: sorted entries, numeric owners, whole-second
mtimes, xattrs (never overlayfs' own), hardlinks detected by inode; from an overlayfs upper directory it turns
whiteouts and opaque directories back into their OCI form. The same tree always gives the same bytes, hence
the same diff_id. ``write_tree_tar`` does the same for a whole root filesystem (export), staying on one
filesystem.

Nothing here needs /proc except setting xattrs on symlinks and device nodes (skipped without it), so both
directions also work inside a container's mount namespace.
"""

from __future__ import annotations

import base64
import bz2
import errno
import gzip
import hashlib
import lzma
import os
import queue
import shutil
import stat
import tarfile
import threading
import urllib.parse
import zlib
from collections.abc import Callable
from typing import Any, BinaryIO, Protocol, cast

from engine.errors import InvalidArgument, NotFound, RuntimeFailure, UnsafeArchive
from engine.record import record
from engine.store import whiteouts as wh

BLOCK = 512
_CHUNK = 1 << 20
_ZERO_BLOCK = bytes(BLOCK)
_DIR_CACHE_SIZE = 64

_O_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_O_PATHDIR = os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_O_NEWFILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC

# Tar type flags (bytes of length 1, as tarfile.TarInfo.type holds them).
_REGULAR = (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.CONTTYPE)
_HEADER_ONLY = (
    tarfile.LNKTYPE,
    tarfile.SYMTYPE,
    tarfile.CHRTYPE,
    tarfile.BLKTYPE,
    tarfile.DIRTYPE,
    tarfile.FIFOTYPE,
)

COMPRESSIONS = ("none", "gzip", "zstd", "bzip2", "xz")


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


@record
class ExtractResult:
    """What one extraction did."""

    entries: int = 0
    """Archive entries applied (files, directories, links, devices, whiteouts)."""
    bytes: int = 0
    """Bytes of regular-file content written."""
    tar_bytes: int = 0
    """Length of the uncompressed tar stream read."""
    whiteouts: int = 0
    """Whiteout and opaque-directory markers applied."""
    compression: str = "none"
    """Compression detected on the input: one of COMPRESSIONS."""
    diff_id: str | None = None
    """``sha256:<hex>`` of the uncompressed stream when ``compute_diff_id`` was asked for."""


# --------------------------------------------------------------------------------------------------------
# Decompression


def detect_compression(head: bytes) -> str:
    """The compression of a stream from its first bytes (10 are needed to recognise bzip2)."""
    if head.startswith(b"\x1f\x8b\x08"):
        return "gzip"
    if head.startswith(b"\x28\xb5\x2f\xfd"):
        return "zstd"
    if head[:3] == b"BZh" and head[3:4].isdigit() and head[4:10] == b"\x31\x41\x59\x26\x53\x59":
        return "bzip2"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    return "none"


class _Prefixed:
    """A forward-only reader that first returns bytes already read from ``f`` (to sniff the magic)."""

    def __init__(self, head: bytes, f: Readable) -> None:
        self._head = head
        self._f = f

    def read(self, size: int = -1, /) -> bytes:
        if self._head:
            if size < 0 or size >= len(self._head):
                data, self._head = self._head, b""
                if size < 0:
                    return data + self._f.read()
                return data
            data, self._head = self._head[:size], self._head[size:]
            return data
        return self._f.read(size)


class _Prefetcher:
    """Runs ``read`` (a decompressor) in a thread, one chunk ahead, so decompression overlaps writing.

    zlib, bz2 and lzma release the GIL while they work, so this uses the second core the way ``tar | gzip``
    does.
    """

    def __init__(self, read: Callable[[int], bytes], depth: int = 4) -> None:
        self._read = read
        self._q: queue.Queue[bytes | BaseException] = queue.Queue(depth)
        self._stop = threading.Event()
        self._eof = False
        self._thread = threading.Thread(target=self._run, name="layer-decompress", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                data = self._read(_CHUNK)
                self._put(data)
                if not data:
                    return
        except BaseException as e:  # handed to the reading thread
            self._put(e)

    def _put(self, item: bytes | BaseException) -> None:
        while not self._stop.is_set():
            try:
                self._q.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def read(self, size: int = -1, /) -> bytes:
        if self._eof:
            return b""
        item = self._q.get()
        if isinstance(item, BaseException):
            self._eof = True
            raise item
        if not item:
            self._eof = True
        return item

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


def _guarded(read: Callable[[int], bytes], compression: str) -> Callable[[int], bytes]:
    """``read`` with a decompressor's complaints about corrupt data turned into UnsafeArchive."""
    if compression == "none":
        return read

    def guarded(size: int) -> bytes:
        try:
            return read(size)
        except (EOFError, zlib.error, lzma.LZMAError, gzip.BadGzipFile) as e:
            raise UnsafeArchive(f"the {compression} stream is corrupt or truncated: {e}") from None
        except Exception as e:
            if type(e).__name__ == "ZstdError":
                raise UnsafeArchive(f"the zstd stream is corrupt or truncated: {e}") from None
            if isinstance(e, OSError) and compression == "bzip2" and "Invalid data stream" in str(e):
                raise UnsafeArchive(f"the bzip2 stream is corrupt: {e}") from None
            raise

    return guarded


def open_decompressed(fileobj: Readable) -> tuple[Readable, str]:
    """Wrap a forward-only byte stream in the decompressor its magic bytes call for.

    Returns the reader of uncompressed bytes and the compression name (one of COMPRESSIONS).
    """
    head = b""
    while len(head) < 10:
        part = fileobj.read(10 - len(head))
        if not part:
            break
        head += part
    kind = detect_compression(head)
    raw = _Prefixed(head, fileobj)
    if kind == "none":
        return raw, kind
    if kind == "gzip":
        return gzip.GzipFile(fileobj=cast(Any, raw), mode="rb"), kind
    if kind == "bzip2":
        return bz2.BZ2File(cast(Any, raw)), kind
    if kind == "xz":
        return lzma.LZMAFile(cast(Any, raw)), kind
    try:
        import zstandard
    except ImportError:
        raise InvalidArgument(
            "this layer is compressed with zstd, which needs the Python package 'zstandard' "
            "(pip install zstandard)"
        ) from None
    reader: Readable = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)  # type: ignore[arg-type]
    return reader, kind


# --------------------------------------------------------------------------------------------------------
# Reading tar entries


class _Stream:
    """Forward-only reader of the uncompressed tar bytes, with large reads and no extra copies."""

    def __init__(self, read: Callable[[int], bytes], hasher: Any = None) -> None:
        self._read = read
        self._buf = memoryview(b"")
        self._hasher = hasher
        self.total = 0
        self.eof = False

    def _fill(self) -> bool:
        if self.eof:
            return False
        data = self._read(_CHUNK)
        if not data:
            self.eof = True
            return False
        self.total += len(data)
        if self._hasher is not None:
            self._hasher.update(data)
        self._buf = memoryview(data)
        return True

    def read_exact(self, n: int) -> bytes:
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
        while n > 0:
            if not self._buf and not self._fill():
                raise UnsafeArchive("unexpected end of archive (the tar stream is truncated)")
            take = min(n, len(self._buf))
            self._buf = self._buf[take:]
            n -= take

    def drain(self) -> None:
        """Read (and hash) whatever follows the end-of-archive marker."""
        self._buf = memoryview(b"")
        while self._fill():
            pass


def _padding(size: int) -> int:
    return -size % BLOCK


@record
class _Entry:
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
        raise UnsafeArchive(f"invalid tar header at byte {offset}: {e} (is this a tar archive?)") from None


def _next_entry(stream: _Stream) -> _Entry | None:
    """The next real entry with its PAX/GNU extensions folded in; None at the end of the archive."""
    pax: dict[str, bytes] = {}
    longname: str | None = None
    longlink: str | None = None
    while True:
        block = stream.read_block()
        if not block or block == _ZERO_BLOCK:
            return None
        name, kind, mode, uid, gid, size, mtime, linkname, devmajor, devminor = _parse_header(
            block, stream.total
        )
        if kind in (tarfile.XHDTYPE, tarfile.SOLARIS_XHDTYPE, tarfile.XGLTYPE):
            data = stream.read_exact(size)
            stream.skip(_padding(size))
            if kind != tarfile.XGLTYPE:  # global headers are ignored, as Docker does
                pax.update(_parse_pax(data))
            continue
        if kind in (tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK):
            data = stream.read_exact(size)
            stream.skip(_padding(size))
            text = _decode(data.split(b"\0", 1)[0])
            if kind == tarfile.GNUTYPE_LONGNAME:
                longname = text
            else:
                longlink = text
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
        return _Entry(
            name, kind, mode & 0o7777, uid, gid, size, mtime_ns, linkname, devmajor, devminor, xattrs
        )


# --------------------------------------------------------------------------------------------------------
# Paths


class _Escape(Exception):
    pass


def _clean(name: str) -> str:
    """``name`` as a relative path without ``.``, ``..`` or empty parts; "" for the root.

    A leading ``/`` is dropped (the path is taken inside the destination); a ``..`` climbing above the
    root raises _Escape.
    """
    if "\0" in name:
        raise _Escape
    parts: list[str] = []
    for part in name.split("/"):
        if part == "" or part == ".":
            continue
        if part == "..":
            if not parts:
                raise _Escape
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts)


def _proc(fd: int, name: str | None = None) -> str:
    return f"/proc/self/fd/{fd}" if name is None else f"/proc/self/fd/{fd}/{name}"


def _listdir(dfd: int) -> list[str]:
    """The names in the directory ``dfd`` (an O_PATH descriptor is fine)."""
    fd = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=dfd)
    try:
        return os.listdir(fd)
    finally:
        os.close(fd)


def _join(parent: str, name: str) -> str:
    return f"{parent}/{name}" if parent else name


# --------------------------------------------------------------------------------------------------------
# Extraction


class _Extractor:
    def __init__(self, dest: str, overlay_whiteouts: bool, interpret_whiteouts: bool = True) -> None:
        try:
            self.root_fd = os.open(dest, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except FileNotFoundError:
            raise NotFound(f"extraction destination {dest!r} does not exist") from None
        except NotADirectoryError:
            raise InvalidArgument(f"extraction destination {dest!r} is not a directory") from None
        self.dest = dest
        self.overlay = overlay_whiteouts
        self.interpret = interpret_whiteouts
        self.is_root = os.geteuid() == 0
        self.dirs: dict[str, int] = {}
        self.deferred: list[tuple[str, int, int]] = []
        # Paths this archive created, to tell them from lower content when an opaque marker empties a
        # directory (only needed when whiteouts are applied by deleting).
        self.written: set[str] | None = None if overlay_whiteouts else set()
        self.result = ExtractResult()

    def close(self) -> None:
        for fd in self.dirs.values():
            os.close(fd)
        self.dirs.clear()
        os.close(self.root_fd)

    # -- directory descriptors -------------------------------------------------------------------------

    def dirfd(self, rel: str, entry: str, create: bool = True) -> int | None:
        """An O_PATH descriptor of the directory ``rel``, reached without following any symlink.

        Missing directories are created (mode 0755) when ``create``, else None is returned. The descriptor
        stays valid until the next call (the cache may close it then).
        """
        if not rel:
            return self.root_fd
        cached = self.dirs.pop(rel, None)
        if cached is not None:
            self.dirs[rel] = cached
            return cached
        parts = rel.split("/")
        depth = len(parts) - 1
        fd = self.root_fd
        while depth > 0:
            found = self.dirs.get("/".join(parts[:depth]))
            if found is not None:
                fd = found
                break
            depth -= 1
        for i in range(depth, len(parts)):
            sub = "/".join(parts[: i + 1])
            name = parts[i]
            try:
                fd = os.open(name, _O_PATHDIR, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    return None
                try:
                    os.mkdir(name, 0o755, dir_fd=fd)
                except FileExistsError:
                    pass
                if self.written is not None:
                    self.written.add(sub)
                fd = self._open_dir_component(name, fd, sub, entry)
            except OSError as e:
                if e.errno not in (errno.ELOOP, errno.ENOTDIR):
                    raise
                fd = self._open_dir_component(name, fd, sub, entry)
            self.dirs[sub] = fd
        while len(self.dirs) > _DIR_CACHE_SIZE:
            oldest = next(iter(self.dirs))
            os.close(self.dirs.pop(oldest))
        return fd

    def _open_dir_component(self, name: str, pfd: int, rel: str, entry: str) -> int:
        try:
            return os.open(name, _O_PATHDIR, dir_fd=pfd)
        except OSError as e:
            if e.errno not in (errno.ELOOP, errno.ENOTDIR):
                raise
        st = os.stat(name, dir_fd=pfd, follow_symlinks=False)
        if stat.S_ISLNK(st.st_mode):
            raise UnsafeArchive(
                f"refusing to extract {entry!r}: {rel!r} is a symbolic link and writing through it "
                "could leave the destination"
            )
        raise UnsafeArchive(f"cannot extract {entry!r}: {rel!r} is not a directory")

    def forget(self, rel: str) -> None:
        """Drop cached descriptors of ``rel`` and everything below it (it was removed or replaced)."""
        prefix = rel + "/"
        for key in [k for k in self.dirs if k == rel or k.startswith(prefix)]:
            os.close(self.dirs.pop(key))

    # -- removal ---------------------------------------------------------------------------------------

    def remove(self, pfd: int, name: str, rel: str) -> bool:
        """Remove ``name`` in ``pfd`` whatever it is (a directory with its content); False if absent."""
        try:
            st = os.stat(name, dir_fd=pfd, follow_symlinks=False)
        except FileNotFoundError:
            return False
        if stat.S_ISDIR(st.st_mode):
            self.forget(rel)
            shutil.rmtree(name, dir_fd=pfd)
        else:
            os.unlink(name, dir_fd=pfd)
        return True

    # -- one entry -------------------------------------------------------------------------------------

    def apply(self, e: _Entry, stream: _Stream) -> None:
        try:
            rel = _clean(e.name)
        except _Escape:
            raise UnsafeArchive(f"refusing to extract {e.name!r}: the path leaves the destination") from None
        if not rel:
            if e.type != tarfile.DIRTYPE:
                raise UnsafeArchive(f"refusing to extract {e.name!r}: it would replace the destination")
            stream.skip(e.size + _padding(e.size))  # like Docker, the root's own metadata is not applied
            return
        parent, _, base = rel.rpartition("/")
        if self.interpret and ".wh." in rel:
            if self._whiteout_entry(e, rel, parent, base, stream):
                return
        pfd = self.dirfd(parent, e.name)
        assert pfd is not None
        kind = e.type
        if kind in _REGULAR:
            self._file(pfd, base, rel, e, stream)
        elif kind == tarfile.DIRTYPE:
            self._dir(pfd, base, rel, e)
        elif kind == tarfile.SYMTYPE:
            self._symlink(pfd, base, rel, e)
        elif kind == tarfile.LNKTYPE:
            self._hardlink(pfd, base, rel, e)
        elif kind in (tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE):
            self._node(pfd, base, rel, e)
        else:
            raise UnsafeArchive(f"refusing to extract {e.name!r}: unsupported tar entry type {kind!r}")
        if self.written is not None:
            self.written.add(rel)
        self.result.entries += 1

    def _whiteout_entry(self, e: _Entry, rel: str, parent: str, base: str, stream: _Stream) -> bool:
        """Handle whiteout markers and AUFS metadata; True when the entry was consumed."""
        for part in parent.split("/"):
            if part.startswith(wh.WHITEOUT_META_PREFIX):
                stream.skip(e.size + _padding(e.size))  # AUFS bookkeeping (.wh..wh.plnk/...)
                return True
            if part.startswith(wh.WHITEOUT_PREFIX):
                raise UnsafeArchive(f"refusing to extract {e.name!r}: a whiteout cannot be a directory")
        if not base.startswith(wh.WHITEOUT_PREFIX):
            return False
        stream.skip(e.size + _padding(e.size))
        if wh.is_opaque_marker(base):
            self._opaque(parent, e)
        elif wh.is_meta_name(base):
            return True
        else:
            try:
                target = wh.whiteout_target(base)
            except UnsafeArchive:
                raise UnsafeArchive(f"refusing to extract {e.name!r}: invalid whiteout name") from None
            self._whiteout(parent, target, e)
        self.result.entries += 1
        self.result.whiteouts += 1
        return True

    def _whiteout(self, parent: str, target: str, e: _Entry) -> None:
        target_rel = _join(parent, target)
        if self.overlay:
            pfd = self.dirfd(parent, e.name)
            assert pfd is not None
            self.remove(pfd, target, target_rel)
            try:
                wh.make_overlay_whiteout(target, dir_fd=pfd)
            except PermissionError:
                raise RuntimeFailure(
                    f"cannot unpack whiteout {e.name!r}: overlay whiteouts are device nodes and need root"
                ) from None
            os.utime(target, ns=(e.mtime_ns, e.mtime_ns), dir_fd=pfd, follow_symlinks=False)
        else:
            found = self.dirfd(parent, e.name, create=False)
            if found is not None:
                self.remove(found, target, target_rel)

    def _opaque(self, parent: str, e: _Entry) -> None:
        dfd = self.dirfd(parent, e.name)
        assert dfd is not None
        if self.overlay:
            fd = os.open(".", _O_DIR, dir_fd=dfd)
            try:
                wh.set_opaque(fd)
            except PermissionError:
                raise RuntimeFailure(
                    f"cannot unpack opaque marker {e.name!r}: trusted.overlay xattrs need root"
                ) from None
            finally:
                os.close(fd)
            return
        assert self.written is not None
        self._clear_lower(dfd, parent)

    def _clear_lower(self, dfd: int, rel: str) -> None:
        """Remove what below ``rel`` was not written by this archive (an opaque directory's lower content)."""
        assert self.written is not None
        for name in _listdir(dfd):
            child = _join(rel, name)
            if child not in self.written:
                self.remove(dfd, name, child)
                continue
            st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
            if stat.S_ISDIR(st.st_mode):
                cfd = os.open(name, _O_PATHDIR, dir_fd=dfd)
                try:
                    self._clear_lower(cfd, child)
                finally:
                    os.close(cfd)

    def _create(self, pfd: int, name: str, rel: str, make: Callable[[], None]) -> None:
        try:
            make()
        except FileExistsError:
            self.remove(pfd, name, rel)
            make()

    def _file(self, pfd: int, name: str, rel: str, e: _Entry, stream: _Stream) -> None:
        try:
            fd = os.open(name, _O_NEWFILE, 0o600, dir_fd=pfd)
        except FileExistsError:
            self.remove(pfd, name, rel)
            fd = os.open(name, _O_NEWFILE, 0o600, dir_fd=pfd)
        try:
            stream.copy_to(fd, e.size)
            if self.is_root:
                os.fchown(fd, e.uid, e.gid)
            os.fchmod(fd, e.mode)
            self._xattrs(fd, e)
            os.utime(fd, ns=(e.mtime_ns, e.mtime_ns))
        finally:
            os.close(fd)
        stream.skip(_padding(e.size))
        self.result.bytes += e.size

    def _dir(self, pfd: int, name: str, rel: str, e: _Entry) -> None:
        try:
            os.mkdir(name, 0o700, dir_fd=pfd)
        except FileExistsError:
            st = os.stat(name, dir_fd=pfd, follow_symlinks=False)
            if not stat.S_ISDIR(st.st_mode):
                self.remove(pfd, name, rel)
                os.mkdir(name, 0o700, dir_fd=pfd)
        if self.is_root:
            os.chown(name, e.uid, e.gid, dir_fd=pfd, follow_symlinks=False)
        if e.xattrs:
            fd = os.open(name, _O_DIR, dir_fd=pfd)
            try:
                self._xattrs(fd, e)
            finally:
                os.close(fd)
        self.deferred.append((rel, e.mode, e.mtime_ns))

    def _symlink(self, pfd: int, name: str, rel: str, e: _Entry) -> None:
        target = e.linkname  # kept verbatim: extraction never follows it
        if not target or "\0" in target:
            raise UnsafeArchive(f"refusing to extract symlink {e.name!r}: invalid target {target!r}")
        self._create(pfd, name, rel, lambda: os.symlink(target, name, dir_fd=pfd))
        if self.is_root:
            os.chown(name, e.uid, e.gid, dir_fd=pfd, follow_symlinks=False)
        self._path_xattrs(pfd, name, e)
        os.utime(name, ns=(e.mtime_ns, e.mtime_ns), dir_fd=pfd, follow_symlinks=False)

    def _hardlink(self, pfd: int, name: str, rel: str, e: _Entry) -> None:
        try:
            target = _clean(e.linkname)
        except _Escape:
            target = ""
        if not target:
            raise UnsafeArchive(
                f"refusing to extract hardlink {e.name!r} -> {e.linkname!r}: it points outside the destination"
            )
        if target == rel:
            return
        if target.startswith(rel + "/"):
            raise UnsafeArchive(f"cannot extract hardlink {e.name!r}: its target {e.linkname!r} is inside it")
        tparent, _, tname = target.rpartition("/")
        tfd = self.dirfd(tparent, e.name, create=False)
        if tfd is None:
            raise UnsafeArchive(
                f"cannot extract hardlink {e.name!r}: its target {e.linkname!r} does not exist"
            )
        tfd = os.dup(tfd)
        try:
            pfd2 = self.dirfd(rel.rpartition("/")[0], e.name)
            assert pfd2 is not None
            try:
                tst = os.stat(tname, dir_fd=tfd, follow_symlinks=False)
            except FileNotFoundError:
                raise UnsafeArchive(
                    f"cannot extract hardlink {e.name!r}: its target {e.linkname!r} does not exist"
                ) from None
            if stat.S_ISDIR(tst.st_mode):
                raise UnsafeArchive(
                    f"refusing to extract hardlink {e.name!r}: its target {e.linkname!r} is a directory"
                )
            try:
                os.link(tname, name, src_dir_fd=tfd, dst_dir_fd=pfd2, follow_symlinks=False)
            except FileExistsError:
                st = os.stat(name, dir_fd=pfd2, follow_symlinks=False)
                if (st.st_dev, st.st_ino) == (tst.st_dev, tst.st_ino):
                    return
                self.remove(pfd2, name, rel)
                os.link(tname, name, src_dir_fd=tfd, dst_dir_fd=pfd2, follow_symlinks=False)
        finally:
            os.close(tfd)

    def _node(self, pfd: int, name: str, rel: str, e: _Entry) -> None:
        if e.type == tarfile.FIFOTYPE:
            fmt = stat.S_IFIFO
            device = 0
        else:
            if not self.is_root:
                raise UnsafeArchive(
                    f"cannot extract device node {e.name!r}: device nodes can only be created by root"
                )
            fmt = stat.S_IFCHR if e.type == tarfile.CHRTYPE else stat.S_IFBLK
            device = os.makedev(e.devmajor, e.devminor)
        self._create(pfd, name, rel, lambda: os.mknod(name, fmt | 0o600, device, dir_fd=pfd))
        if fmt == stat.S_IFIFO:
            # A FIFO opened for reading without blocking gives a descriptor to set everything through.
            fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=pfd)
            try:
                if not stat.S_ISFIFO(os.fstat(fd).st_mode):
                    raise UnsafeArchive(f"{e.name!r} was replaced while it was being extracted")
                if self.is_root:
                    os.fchown(fd, e.uid, e.gid)
                os.fchmod(fd, e.mode)
                self._xattrs(fd, e)
                os.utime(fd, ns=(e.mtime_ns, e.mtime_ns))
            finally:
                os.close(fd)
            return
        # Device nodes are never opened (that can have side effects); they are set by name in their
        # directory, after checking that the name still is the node just made.
        st = os.stat(name, dir_fd=pfd, follow_symlinks=False)
        if stat.S_IFMT(st.st_mode) != fmt or st.st_rdev != device:
            raise UnsafeArchive(f"{e.name!r} was replaced while it was being extracted")
        os.chown(name, e.uid, e.gid, dir_fd=pfd, follow_symlinks=False)
        os.chmod(name, e.mode, dir_fd=pfd)
        self._path_xattrs(pfd, name, e)
        os.utime(name, ns=(e.mtime_ns, e.mtime_ns), dir_fd=pfd, follow_symlinks=False)

    def _path_xattrs(self, pfd: int, name: str, e: _Entry) -> None:
        """Set xattrs on an entry that cannot be opened (a symlink, a device), through /proc/self/fd."""
        if not e.xattrs:
            return
        try:
            self._xattrs(_proc(pfd, name), e)
        except FileNotFoundError:
            if os.path.isdir("/proc/self/fd"):
                raise
            # No /proc in this mount namespace: attributes on symlinks and devices cannot be set safely.

    def _xattrs(self, target: int | str, e: _Entry, follow: bool = False) -> None:
        for key, value in e.xattrs.items():
            if wh.is_overlay_xattr(key):
                continue  # never trust overlayfs' own attributes from an archive
            try:
                if isinstance(target, int):
                    os.setxattr(target, key, value)
                else:
                    os.setxattr(target, key, value, follow_symlinks=follow)
            except OSError as err:
                # Like tar: an attribute the filesystem or our privileges cannot hold is skipped.
                if err.errno not in (
                    errno.ENOTSUP,
                    errno.EOPNOTSUPP,
                    errno.EPERM,
                    errno.EACCES,
                    errno.EINVAL,
                ):
                    raise

    def finish(self) -> None:
        """Set directory modes and mtimes, now that their content is complete."""
        for rel, mode, mtime_ns in self.deferred:
            parent, _, name = rel.rpartition("/")
            try:
                pfd = self.dirfd(parent, rel, create=False)
            except UnsafeArchive:
                continue  # a parent was replaced by a symlink later in the archive
            if pfd is None:
                continue
            try:
                fd = os.open(name, _O_DIR, dir_fd=pfd)
            except (FileNotFoundError, NotADirectoryError):
                continue  # removed or replaced later in the archive
            except OSError as e:
                if e.errno == errno.ELOOP:
                    continue
                raise
            try:
                os.fchmod(fd, mode)
                os.utime(fd, ns=(mtime_ns, mtime_ns))
            finally:
                os.close(fd)


def extract_layer(
    fileobj: Readable | BinaryIO,
    dest: str,
    *,
    overlay_whiteouts: bool = True,
    interpret_whiteouts: bool = True,
    compute_diff_id: bool = False,
) -> ExtractResult:
    """Extract the tar stream ``fileobj`` (plain or compressed) below the existing directory ``dest``.

    The stream is read forward only. With ``overlay_whiteouts`` OCI whiteouts become overlayfs ones (a
    char device 0/0 for ``.wh.NAME``, ``trusted.overlay.opaque=y`` for ``.wh..wh..opq``); without, they
    delete from ``dest`` (an opaque marker removes what this archive did not write in its directory).
    ``interpret_whiteouts=False`` is for ordinary archives (``docker cp``, ``ADD``): ``.wh.`` names are
    then plain names, extracted as they are.
    ``compute_diff_id`` hashes the uncompressed stream (including anything after the end-of-archive
    marker, which is read to the end). Raises UnsafeArchive on an entry that would leave ``dest`` or is
    malformed; what was extracted before it stays in place.
    """
    x = _Extractor(dest, overlay_whiteouts, interpret_whiteouts)
    prefetch: _Prefetcher | None = None
    try:
        reader, compression = open_decompressed(fileobj)
        read = _guarded(reader.read, compression)
        prefetch = _Prefetcher(read) if compression != "none" else None
        hasher = hashlib.sha256() if compute_diff_id else None
        stream = _Stream(prefetch.read if prefetch else read, hasher)
        while (entry := _next_entry(stream)) is not None:
            x.apply(entry, stream)
        x.finish()
        stream.drain()
    finally:
        x.close()
        if prefetch is not None:
            prefetch.close()
    result = x.result
    result.tar_bytes = stream.total
    result.compression = compression
    if hasher is not None:
        result.diff_id = "sha256:" + hasher.hexdigest()
    return result


# --------------------------------------------------------------------------------------------------------
# Writing


class _Writer:
    """Buffers headers and small files so that ``out`` sees few, large writes."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.pending = bytearray()
        self.big = bytearray(_CHUNK)

    def write(self, data: bytes) -> None:
        self.pending += data
        if len(self.pending) >= _CHUNK:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.out.write(self.pending)
            self.pending = bytearray()

    def file_data(self, fd: int, size: int) -> None:
        """Copy exactly ``size`` bytes of ``fd`` (zero-filled if the file shrank) plus the block padding."""
        remaining = size
        if size <= 64 * 1024:
            data = os.read(fd, size)
            while data and len(data) < size:
                more = os.read(fd, size - len(data))
                if not more:
                    break
                data += more
            self.pending += data
            remaining -= len(data)
        else:
            self.flush()
            view = memoryview(self.big)
            while remaining > 0:
                n = os.readv(fd, [view[: min(remaining, _CHUNK)]])
                if n == 0:
                    break
                self.out.write(view[:n])
                remaining -= n
        if remaining > 0:
            self.pending += bytes(remaining)
        self.pending += bytes(_padding(size))
        if len(self.pending) >= _CHUNK:
            self.flush()

    def close(self) -> None:
        self.pending += bytes(2 * BLOCK)
        self.flush()


def _pax_record(key: bytes, value: bytes) -> bytes:
    """One ``"%d %s=%s\n"`` record; the length counts its own digits."""
    body = b" " + key + b"=" + value + b"\n"
    length = len(body) + len(str(len(body)))
    if len(str(length)) != len(str(len(body))):
        length = len(body) + len(str(length))
    return str(length).encode() + body


def _ustar(
    name: bytes,
    kind: bytes,
    mode: int,
    uid: int,
    gid: int,
    size: int,
    mtime: int,
    link: bytes,
    dev: tuple[int, int],
) -> bytes:
    block = bytearray(BLOCK)
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
    block[329:337] = b"%07o\0" % dev[0]
    block[337:345] = b"%07o\0" % dev[1]
    block[148:156] = b"%06o\0 " % sum(block)
    return bytes(block)


def _header(
    name: str,
    st: os.stat_result,
    kind: bytes,
    xattrs: dict[str, bytes],
    *,
    size: int = 0,
    linkname: str = "",
    dev: tuple[int, int] = (0, 0),
) -> bytes:
    return tar_header(
        name,
        kind,
        stat.S_IMODE(st.st_mode),
        st.st_uid,
        st.st_gid,
        st.st_mtime_ns // 1_000_000_000,
        size=size,
        linkname=linkname,
        xattrs=xattrs,
        dev=dev,
    )


def tar_header(
    name: str,
    kind: bytes,
    mode: int,
    uid: int,
    gid: int,
    mtime: int,
    *,
    size: int = 0,
    linkname: str = "",
    xattrs: dict[str, bytes] | None = None,
    dev: tuple[int, int] = (0, 0),
) -> bytes:
    """The header block(s) of one entry: a POSIX ustar block, preceded by a PAX extended header when a
    value does not fit (long or non-ASCII names, big numbers) or there are xattrs. Owners are numeric only
    and mtimes whole seconds, so equal trees give equal bytes (the builder writes its layers with it too)."""
    if kind == tarfile.DIRTYPE:
        name += "/"
    raw_name = name.encode("utf-8", "surrogateescape")
    raw_link = linkname.encode("utf-8", "surrogateescape")
    xattrs = xattrs or {}
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
    for key in sorted(xattrs):
        records.append(_pax_record(b"SCHILY.xattr." + key.encode("utf-8", "surrogateescape"), xattrs[key]))
    block = _ustar(raw_name, kind, mode, uid, gid, size if size < 8**11 else 0, mtime, raw_link, dev)
    if not records:
        return block
    try:
        (name + linkname).encode("utf-8")
    except UnicodeEncodeError:
        records.insert(0, _pax_record(b"hdrcharset", b"BINARY"))
    data = b"".join(records)
    pax = _ustar(b"././@PaxHeader", tarfile.XHDTYPE, 0, 0, 0, len(data), 0, b"", (0, 0))
    return pax + data + bytes(_padding(len(data))) + block


def _read_xattrs(target: int | str) -> dict[str, bytes]:
    try:
        if isinstance(target, int):
            names = os.listxattr(target)
        else:
            names = os.listxattr(target, follow_symlinks=False)
    except OSError as e:
        if e.errno in (errno.ENOTSUP, errno.EOPNOTSUPP):
            return {}
        raise
    found: dict[str, bytes] = {}
    for key in names:
        if wh.is_overlay_xattr(key):
            continue
        try:
            if isinstance(target, int):
                found[key] = os.getxattr(target, key)
            else:
                found[key] = os.getxattr(target, key, follow_symlinks=False)
        except OSError as e:
            if e.errno != errno.ENODATA:
                raise
    return found


def _sorted_names(dfd: int) -> list[str]:
    return sorted(os.listdir(dfd), key=os.fsencode)


def _name_xattrs(dfd: int, name: str) -> dict[str, bytes]:
    """Xattrs of an entry that cannot be opened (a symlink, a device), read through /proc/self/fd."""
    try:
        return _read_xattrs(_proc(dfd, name))
    except FileNotFoundError:
        return {}  # gone meanwhile, or no /proc in this mount namespace


def write_layer_tar(src_dir: str, out: BinaryIO, *, overlay_upper: bool = True) -> None:
    """Write the tree below ``src_dir`` to ``out`` as a deterministic PAX tar (the root itself excluded).

    With ``overlay_upper`` the tree is an overlayfs upper directory: whiteouts (char devices 0/0) become
    empty ``.wh.NAME`` files and an opaque directory is followed by a ``DIR/.wh..wh..opq`` entry. Symlinks
    are never followed and sockets are skipped.
    """
    _write_tree(src_dir, out, overlay_upper=overlay_upper, one_file_system=False)


def write_tree_tar(src_dir: str, out: BinaryIO, *, one_file_system: bool = True) -> None:
    """Write a full filesystem tree (an export, a rootfs) as a deterministic tar, with no whiteout
    conversion: device nodes, including 0/0 ones, are archived as devices.

    With ``one_file_system`` (the default) directories that are mount points of another filesystem
    (``/proc``, ``/sys``, volumes) are archived as empty directories, like ``docker export``.
    """
    _write_tree(src_dir, out, overlay_upper=False, one_file_system=one_file_system)


def _write_tree(src_dir: str, out: BinaryIO, *, overlay_upper: bool, one_file_system: bool) -> None:
    try:
        root_fd = os.open(src_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise NotFound(f"directory {src_dir!r} does not exist") from None
    root_dev = os.fstat(root_fd).st_dev
    writer = _Writer(out)
    links: dict[tuple[int, int], str] = {}
    stack: list[tuple[int, str, list[str]]] = [(root_fd, "", _sorted_names(root_fd)[::-1])]
    try:
        while stack:
            dfd, prefix, names = stack[-1]
            if not names:
                stack.pop()
                os.close(dfd)
                continue
            name = names.pop()
            rel = prefix + name
            try:
                st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
            except FileNotFoundError:
                continue
            mode = st.st_mode
            if stat.S_ISDIR(mode):
                try:
                    cfd = os.open(name, _O_DIR, dir_fd=dfd)
                except (FileNotFoundError, NotADirectoryError):
                    continue
                writer.write(_header(rel, st, tarfile.DIRTYPE, _read_xattrs(cfd)))
                if overlay_upper and wh.is_opaque_dir(cfd):
                    writer.write(_header(f"{rel}/{wh.OPAQUE_MARKER}", st, tarfile.REGTYPE, {}))
                if one_file_system and st.st_dev != root_dev:
                    os.close(cfd)  # a mount point: its content belongs to another filesystem
                    continue
                stack.append((cfd, rel + "/", _sorted_names(cfd)[::-1]))
                continue
            if overlay_upper and wh.is_overlay_whiteout(st):
                wname = prefix + wh.whiteout_name(name)
                writer.write(_header(wname, st, tarfile.REGTYPE, {}))
                continue
            if stat.S_ISSOCK(mode):
                continue
            key = (st.st_dev, st.st_ino)
            if st.st_nlink > 1:
                first = links.get(key)
                if first is not None:
                    writer.write(_header(rel, st, tarfile.LNKTYPE, {}, linkname=first))
                    continue
            if stat.S_ISREG(mode):
                if not _write_file(writer, dfd, name, rel):
                    continue
            elif stat.S_ISLNK(mode):
                try:
                    target = os.readlink(name, dir_fd=dfd)
                except FileNotFoundError:
                    continue
                writer.write(_header(rel, st, tarfile.SYMTYPE, _name_xattrs(dfd, name), linkname=target))
            else:
                kind = {
                    stat.S_IFCHR: tarfile.CHRTYPE,
                    stat.S_IFBLK: tarfile.BLKTYPE,
                    stat.S_IFIFO: tarfile.FIFOTYPE,
                }[stat.S_IFMT(mode)]
                dev = (os.major(st.st_rdev), os.minor(st.st_rdev)) if kind != tarfile.FIFOTYPE else (0, 0)
                writer.write(_header(rel, st, kind, _name_xattrs(dfd, name), dev=dev))
            if st.st_nlink > 1:
                links[key] = rel
        writer.close()
    finally:
        for dfd, _prefix, _names in stack:
            os.close(dfd)


def _write_file(writer: _Writer, dfd: int, name: str, rel: str) -> bool:
    """Archive one regular file; False when it disappeared before it could be opened."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, dir_fd=dfd)
    except FileNotFoundError:
        return False
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InvalidArgument(f"{rel!r} changed while it was being archived")
        writer.write(_header(rel, st, tarfile.REGTYPE, _read_xattrs(fd), size=st.st_size))
        writer.file_data(fd, st.st_size)
    finally:
        os.close(fd)
    return True
