"""Small stream adapters: hash what passes through, verify it against a digest, decompress by magic bytes."""

from __future__ import annotations

import hashlib
from typing import BinaryIO, Protocol

from ..errors import DigestMismatch

CHUNK = 1 << 20


class Source(Protocol):
    def read(self, n: int = -1, /) -> bytes: ...


class Sink(Protocol):
    def write(self, data: bytes, /) -> int: ...


class HashingReader:
    """Read from ``raw``; every byte read is hashed (sha256) and copied to the optional ``sink``."""

    def __init__(self, raw: Source, sink: Sink | None = None) -> None:
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
        while self.read(CHUNK):
            pass

    @property
    def digest(self) -> str:
        return "sha256:" + self.hash.hexdigest()


class Verified:
    """Reads ``raw`` (copying it to the optional ``sink``) to its end and refuses it there (DigestMismatch)
    unless it hashes to ``digest`` and has ``size`` bytes (any size when ``size`` is 0). The check happens on
    the read that meets the end, so a consumer that reads to the end (the layer unpacker does) never
    completes on bad content."""

    def __init__(self, raw: Source, digest: str, size: int = 0, what: str = "blob", sink: Sink | None = None):
        self.reader = HashingReader(raw, sink)
        self.digest = digest
        self.size = size
        self.what = what
        self.verified = False

    @property
    def count(self) -> int:
        return self.reader.count

    def read(self, n: int = -1) -> bytes:
        data = self.reader.read(n)
        if data:
            if self.size and self.count > self.size:
                raise DigestMismatch(
                    f"digest mismatch: {self.what} {self.digest} is longer than its {self.size} bytes"
                )
            return data
        if not self.verified:
            got = self.reader.digest
            if got != self.digest:
                raise DigestMismatch(f"digest mismatch: {self.what} {self.digest} arrived as {got}")
            if self.size and self.count != self.size:
                raise DigestMismatch(
                    f"digest mismatch: {self.what} {self.digest} is shorter than its {self.size} bytes"
                )
            self.verified = True
        return data

    def drain(self) -> None:
        while self.read(CHUNK):
            pass

    def blame(self) -> None:
        """After a consumer failed on this stream (a broken gzip or tar): read the rest, and raise
        DigestMismatch if the content is not what its digest says, the real cause then. Any other error
        while reading is left to the consumer's own."""
        try:
            self.drain()
        except DigestMismatch as mismatch:
            raise mismatch from None
        except Exception:
            pass


def decompressed(raw: Source) -> BinaryIO:
    """A reader of the uncompressed bytes of ``raw`` (plain, gzip, bzip2, xz; zstd with ``zstandard``)."""
    from .tar.compression import open_decompressed

    reader, _kind = open_decompressed(raw)
    return reader  # type: ignore[return-value]
