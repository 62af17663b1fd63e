"""Small stream adapters: hash what passes through, decompress by magic bytes."""

from __future__ import annotations

import gzip
import hashlib
from typing import BinaryIO, Protocol

from ..errors import InvalidArgument


class Sink(Protocol):
    def write(self, data: bytes, /) -> int: ...


class HashingReader:
    """Read from ``raw``; every byte read is hashed (sha256) and copied to the optional ``sink``."""

    def __init__(self, raw: BinaryIO, sink: Sink | None = None) -> None:
        self.raw = raw
        self.sink = sink
        self.hash = hashlib.sha256()
        self.count = 0

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        if data:
            self.hash.update(data)
            self.count += len(data)
            if self.sink is not None:
                self.sink.write(data)
        return data

    def drain(self) -> None:
        while self.read(1 << 20):
            pass

    @property
    def digest(self) -> str:
        return "sha256:" + self.hash.hexdigest()


class PeekReader:
    """A reader that lets the first bytes be inspected without consuming them."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.buf = b""

    def peek(self, n: int) -> bytes:
        while len(self.buf) < n:
            more = self.raw.read(n - len(self.buf))
            if not more:
                break
            self.buf += more
        return self.buf[:n]

    def read(self, n: int = -1) -> bytes:
        if self.buf:
            if n < 0:
                data = self.buf + self.raw.read()
                self.buf = b""
                return data
            data, self.buf = self.buf[:n], self.buf[n:]
            if len(data) < n:
                data += self.raw.read(n - len(data))
            return data
        return self.raw.read(n)


def compression_of(head: bytes) -> str:
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"\x28\xb5\x2f\xfd"):
        return "zstd"
    if head.startswith(b"BZh"):
        return "bzip2"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    return "none"


def decompressed(raw: BinaryIO) -> BinaryIO:
    """Return a reader of the uncompressed bytes of ``raw`` (plain, gzip, zstd, bzip2 or xz)."""
    peek = PeekReader(raw)
    kind = compression_of(peek.peek(6))
    if kind == "none":
        return peek  # type: ignore[return-value]
    if kind == "gzip":
        return gzip.GzipFile(fileobj=peek, mode="rb")  # type: ignore[arg-type]
    if kind == "bzip2":
        import bz2

        return bz2.BZ2File(peek, "rb")  # type: ignore[arg-type]
    if kind == "xz":
        import lzma

        return lzma.LZMAFile(peek, "rb")  # type: ignore[arg-type]
    try:
        import zstandard  # type: ignore[import-not-found]
    except ImportError:
        raise InvalidArgument("zstd-compressed layers need the 'zstandard' Python package") from None
    return zstandard.ZstdDecompressor().stream_reader(peek)  # type: ignore[no-any-return]
