"""A layer blob rebuilt from its unpacked layer: the tar regenerated from the layer's directory and tar-split
record, compressed again when the blob was (gzip, with the parameters found when it was stored), and hashed
on the way: a StoreError at the end when the bytes are not the blob's (the layer was changed on disk).

``gzip_recipe`` finds the zlib parameters that gave a gzip blob, by compressing the regenerated tar with each
candidate and dropping a candidate at its first byte that differs; a blob made by another compressor (Go's,
pigz) matches none and is kept as it is.
"""

from __future__ import annotations

import hashlib
import os
import struct
import zlib

from ..errors import StoreError
from .tar.split import TAR_SPLIT, regenerate

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any, BinaryIO

    Chunk = bytes | bytearray | memoryview

# (level, memLevel, strategy): what gzip, Python's gzip module and zlib's users pick.
_CANDIDATES = [(level, 8, zlib.Z_DEFAULT_STRATEGY) for level in (6, 9, 1, 2, 3, 4, 5, 7, 8)]


def _gzip_header(data: bytes) -> int:
    """Length of a gzip member's header at the start of ``data`` (0 when it is not one that can be kept)."""
    if len(data) < 10 or data[:3] != b"\x1f\x8b\x08":
        return 0
    flags = data[3]
    if flags & 0xE0:
        return 0
    pos = 10
    if flags & 4:  # FEXTRA
        if len(data) < pos + 2:
            return 0
        pos += 2 + struct.unpack("<H", data[pos : pos + 2])[0]
    for bit in (8, 16):  # FNAME, FCOMMENT: zero-terminated
        if flags & bit:
            end = data.find(b"\0", pos)
            if end < 0:
                return 0
            pos = end + 1
    if flags & 2:  # FHCRC
        pos += 2
    return pos if pos <= len(data) else 0


def _compressed(
    chunks: Iterator[Chunk], header: bytes, level: int, mem_level: int, strategy: int
) -> Iterator[bytes]:
    yield header
    c = zlib.compressobj(level, zlib.DEFLATED, -15, mem_level, strategy)
    crc = 0
    size = 0
    for chunk in chunks:
        crc = zlib.crc32(chunk, crc)
        size += len(chunk)
        out = c.compress(chunk)
        if out:
            yield out
    yield c.flush()
    yield struct.pack("<II", crc, size & 0xFFFFFFFF)


def _chunks(layer_dir: str, recipe: dict[str, Any]) -> Iterator[Chunk]:
    tar = regenerate(os.path.join(layer_dir, "diff"), os.path.join(layer_dir, TAR_SPLIT))
    if recipe.get("compression", "none") == "none":
        return tar
    if recipe.get("compression") == "gzip":
        return _compressed(
            tar,
            bytes.fromhex(str(recipe["header"])),
            int(recipe["level"]),
            int(recipe["mem_level"]),
            int(recipe["strategy"]),
        )
    raise StoreError(f"unknown compression {recipe.get('compression')!r} in a blob's recipe")


class Rebuilt:
    """A file-like reader of a blob regenerated from its layer."""

    def __init__(self, layer_dir: str, digest: str, recipe: dict[str, Any]) -> None:
        if not os.path.exists(os.path.join(layer_dir, TAR_SPLIT)):
            raise StoreError(f"blob {digest} is missing from the store (its layer is gone)")
        self.digest = digest
        self.size = int(recipe["size"])
        self._it = _chunks(layer_dir, recipe)
        self._buf = b""
        self._pos = 0  # what of _buf was read
        self._hash = hashlib.sha256()
        self._count = 0
        self._done = False

    def chunks(self) -> Iterator[Chunk]:
        """The rest of the blob, chunk by chunk (no copies); checked at the end, as ``read`` does. The
        hashing runs in a thread (hashlib lets go of the GIL), beside the reading and writing."""
        import queue
        import threading

        todo: queue.SimpleQueue[Chunk | None] = queue.SimpleQueue()

        def hashing() -> None:
            while (chunk := todo.get()) is not None:
                self._hash.update(chunk)

        worker = threading.Thread(target=hashing, name="blob-hash", daemon=True)
        worker.start()
        try:
            for chunk in self._it:
                todo.put(chunk)
                self._count += len(chunk)
                yield chunk
        finally:
            todo.put(None)
            worker.join()
        self._verify()

    def _next(self) -> bool:
        if self._done:
            return False
        for chunk in self._it:
            if chunk:
                self._hash.update(chunk)
                self._count += len(chunk)
                if self._pos < len(self._buf):
                    self._buf = self._buf[self._pos :] + chunk
                else:
                    self._buf = bytes(chunk)
                self._pos = 0
                return True
        self._verify()
        return False

    def _verify(self) -> None:
        self._done = True
        actual = "sha256:" + self._hash.hexdigest()
        if actual != self.digest or self._count != self.size:
            raise StoreError(
                f"blob {self.digest} rebuilt from its layer hashes to {actual} ({self._count} bytes): "
                "the layer was changed on disk"
            )

    def read(self, n: int = -1, /) -> bytes:
        if n is None or n < 0:
            parts = [self._buf[self._pos :]]
            self._buf, self._pos = b"", 0
            while self._next():
                parts.append(self._buf)
                self._buf = b""
            return b"".join(parts)
        while len(self._buf) - self._pos < n and self._next():
            pass
        out = self._buf[self._pos : self._pos + n]
        self._pos += len(out)
        return out

    def readinto(self, b: Any) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._done = True

    def __enter__(self) -> Rebuilt:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _pieces(chunks: Iterator[Chunk], size: int = 64 << 10) -> Iterator[Chunk]:
    """The chunks cut to ``size`` at most: a candidate compressor is dropped after little work."""
    for chunk in chunks:
        for i in range(0, len(chunk), size):
            yield chunk[i : i + size]


def gzip_recipe(blob: BinaryIO, layer_dir: str) -> dict[str, Any] | None:
    """The gzip parameters that turn the layer's regenerated tar into exactly ``blob``'s bytes, or None."""
    head = blob.read(64 << 10)
    hlen = _gzip_header(head)
    if not hlen:
        return None
    header = head[:hlen]
    pending = head[hlen:]  # compressed bytes not yet compared
    alive = [
        (cand, zlib.compressobj(cand[0], zlib.DEFLATED, -15, cand[1], cand[2]), 0) for cand in _CANDIDATES
    ]
    # Every candidate's output so far matched the blob's first ``offset`` deflate bytes.
    stream = bytearray(pending)
    base = 0  # offset in the deflate stream of stream[0]
    crc = 0
    size = 0

    def compare(out: bytes, offset: int) -> bool:
        nonlocal stream
        while len(stream) + base < offset + len(out):
            more = blob.read(1 << 20)
            if not more:
                return False
            stream += more
        return stream[offset - base : offset - base + len(out)] == out

    tar = regenerate(os.path.join(layer_dir, "diff"), os.path.join(layer_dir, TAR_SPLIT))
    for chunk in _pieces(tar):
        crc = zlib.crc32(chunk, crc)
        size += len(chunk)
        survivors = []
        for cand, c, offset in alive:
            out = c.compress(chunk)
            if compare(out, offset):
                survivors.append((cand, c, offset + len(out)))
        alive = survivors
        if not alive:
            return None
        low = min(offset for _, _, offset in alive)
        if low > base:  # drop what every candidate has passed
            del stream[: low - base]
            base = low
    trailer = struct.pack("<II", crc, size & 0xFFFFFFFF)
    while more := blob.read(1 << 20):
        stream += more
        if len(stream) > 64 << 20:
            return None  # more than a last block: something else follows the member
    for cand, c, offset in alive:
        if bytes(stream[offset - base :]) == c.flush() + trailer:
            level, mem_level, strategy = cand
            return {"header": header.hex(), "level": level, "mem_level": mem_level, "strategy": strategy}
    return None
