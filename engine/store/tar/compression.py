"""Reading a layer whatever its compression: plain, gzip, bzip2, xz or zstd, told by the first bytes
(``detect_compression``), decompressed by a reader thread ahead of the consumer (``open_decompressed``)."""

from __future__ import annotations

import bz2
import gzip
import lzma
import queue
import threading
import zlib
from collections.abc import Callable
from typing import Any, Protocol, cast

from engine.errors import UnsafeArchive

CHUNK = 1 << 20  # bytes read and handed on at a time
COMPRESSIONS = ("none", "gzip", "zstd", "bzip2", "xz")


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


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


class Prefetcher:
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
                data = self._read(CHUNK)
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


def guarded(read: Callable[[int], bytes], compression: str) -> Callable[[int], bytes]:
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
    import zstandard  # a declared dependency, imported only for a zstd layer

    reader: Readable = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)  # type: ignore[arg-type]
    return reader, kind
