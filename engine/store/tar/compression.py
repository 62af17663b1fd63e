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


class _Guarded:
    """A decompressor's reader whose complaints about corrupt or truncated data are UnsafeArchive."""

    def __init__(self, reader: Readable, compression: str) -> None:
        self._reader = reader
        self._read = guarded(reader.read, compression)

    def read(self, size: int = -1, /) -> bytes:
        return self._read(size)

    def close(self) -> None:
        close = getattr(self._reader, "close", None)
        if close is not None:
            close()


def open_decompressed(fileobj: Readable) -> tuple[Readable, str]:
    """Wrap a forward-only byte stream in the decompressor its magic bytes call for.

    Returns the reader of uncompressed bytes and the compression name (one of COMPRESSIONS). A corrupt or
    truncated compressed stream raises UnsafeArchive from the reader's ``read``.
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
    reader: Readable
    if kind == "gzip":
        reader = gzip.GzipFile(fileobj=cast(Any, raw), mode="rb")
    elif kind == "bzip2":
        reader = bz2.BZ2File(cast(Any, raw))
    elif kind == "xz":
        reader = lzma.LZMAFile(cast(Any, raw))
    else:
        reader = _ZstdReader(raw)
    return _Guarded(reader, kind), kind


_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


class _ZstdFrames:
    """Follows the frames of a zstd stream (their headers and block sizes, never their content) so that its
    end can be told from a truncation: python-zstandard's reader ends quietly on a frame cut short."""

    def __init__(self) -> None:
        self._want = 4  # bytes the next step needs
        self._got = b""
        self._skip = 0  # content bytes to pass over before the next step
        self._step: Callable[[bytes], None] = self._magic
        self._after_skip: Callable[[], None] = self._next_frame
        self._checksum = False

    def feed(self, data: bytes) -> None:
        pos, end = 0, len(data)
        while pos < end:
            if self._skip:
                take = min(self._skip, end - pos)
                self._skip -= take
                pos += take
                if not self._skip:
                    self._after_skip()
                continue
            take = min(self._want - len(self._got), end - pos)
            self._got += data[pos : pos + take]
            pos += take
            if len(self._got) == self._want:
                got, self._got = self._got, b""
                self._step(got)

    def end(self) -> None:
        """At the end of the stream: refuse it unless it ends between frames."""
        if self._step != self._magic or self._got or self._skip:
            raise UnsafeArchive("the zstd stream is corrupt or truncated: it ends inside a frame")

    def _expect(self, n: int, step: Callable[[bytes], None]) -> None:
        self._want, self._step = n, step

    def _pass(self, n: int, then: Callable[[], None]) -> None:
        self._skip, self._after_skip = n, then
        if not n:
            then()

    def _next_frame(self) -> None:
        self._expect(4, self._magic)

    def _magic(self, b: bytes) -> None:
        if b == _ZSTD_MAGIC:
            self._expect(1, self._descriptor)
        elif b[0] & 0xF0 == 0x50 and b[1:] == b"\x2a\x4d\x18":  # a skippable frame
            self._expect(4, lambda size: self._pass(int.from_bytes(size, "little"), self._next_frame))
        else:
            raise UnsafeArchive("the zstd stream is corrupt: a frame does not start with zstd's magic number")

    def _descriptor(self, b: bytes) -> None:
        fhd = b[0]
        single = (fhd >> 5) & 1
        self._checksum = bool((fhd >> 2) & 1)
        rest = (0 if single else 1) + (0, 1, 2, 4)[fhd & 3] + (single, 2, 4, 8)[fhd >> 6]
        self._pass(rest, self._next_block)

    def _next_block(self) -> None:
        self._expect(3, self._block)

    def _block(self, b: bytes) -> None:
        header = int.from_bytes(b, "little")
        last, kind, size = header & 1, (header >> 1) & 3, header >> 3
        if kind == 3:
            raise UnsafeArchive("the zstd stream is corrupt: a block of a reserved type")
        after = (
            self._next_block if not last else (self._frame_checksum if self._checksum else self._next_frame)
        )
        self._pass(1 if kind == 1 else size, after)

    def _frame_checksum(self) -> None:
        self._pass(4, self._next_frame)


class _Watched:
    """``raw`` read through, every byte shown to ``watch``."""

    def __init__(self, raw: Readable, watch: Callable[[bytes], None]) -> None:
        self._raw = raw
        self._watch = watch

    def read(self, size: int = -1, /) -> bytes:
        data = self._raw.read(size)
        self._watch(data)
        return data


class _ZstdReader:
    """zstd frames decompressed one after another, a stream cut inside a frame refused at its end."""

    def __init__(self, raw: Readable) -> None:
        import zstandard  # a declared dependency, imported only for a zstd layer

        self._frames = _ZstdFrames()
        self._raw = _Watched(raw, self._frames.feed)
        self._reader = zstandard.ZstdDecompressor().stream_reader(self._raw, read_across_frames=True)  # type: ignore[arg-type]

    def read(self, size: int = -1, /) -> bytes:
        data = self._reader.read(size)
        if not data and size:
            while self._raw.read(CHUNK):  # whatever the decompressor left unread
                pass
            self._frames.end()
        return data

    def close(self) -> None:
        self._reader.close()
