"""Small stream adapters: hash what passes through, decompress by magic bytes."""

from __future__ import annotations

import hashlib
from typing import BinaryIO, Protocol


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


def decompressed(raw: BinaryIO) -> BinaryIO:
    """A reader of the uncompressed bytes of ``raw`` (plain, gzip, bzip2, xz; zstd with ``zstandard``)."""
    from .layertar import open_decompressed

    reader, _kind = open_decompressed(raw)
    return reader  # type: ignore[return-value]
