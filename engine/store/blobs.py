"""Content-addressed blobs: ``blobs/sha256/<hex>``, written once, verified by their digest."""

from __future__ import annotations

import os

from .. import faults
from ..errors import StoreError
from ..lean.tools import contextmanager, suppress
from .tmp import TempFile

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import BinaryIO

    from .streams import Source, Verified

CHUNK = 1 << 20


def hex_of(digest: str) -> str:
    algo, _, hexpart = digest.partition(":")
    if algo != "sha256" or len(hexpart) != 64:
        raise StoreError(f"unsupported digest {digest!r}")
    return hexpart


class BlobStore:
    def __init__(self, directory: str, tmpdir: str) -> None:
        self.dir = directory
        self.tmpdir = tmpdir

    def path(self, digest: str) -> str:
        return os.path.join(self.dir, hex_of(digest))

    def exists(self, digest: str) -> bool:
        return os.path.exists(self.path(digest))

    def size(self, digest: str) -> int:
        return os.stat(self.path(digest)).st_size

    def read(self, digest: str) -> bytes:
        try:
            with open(self.path(digest), "rb") as f:
                return f.read()
        except FileNotFoundError:
            raise StoreError(f"blob {digest} is missing from the store") from None

    def open(self, digest: str) -> BinaryIO:
        return open(self.path(digest), "rb")

    def put_bytes(self, data: bytes) -> str:
        import hashlib

        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        if not self.exists(digest):
            with self.writer() as w:
                w.write(data)
        return digest

    @contextmanager
    def writer(self, expected: str | None = None) -> Iterator[BlobWriter]:
        """Stream a blob in; on success it is renamed into place under its digest (``writer.digest``)."""
        w = BlobWriter(self, expected)
        try:
            yield w
            w.commit()
        finally:
            w.discard()

    @contextmanager
    def receive(self, raw: Source, digest: str, size: int, what: str = "blob") -> Iterator[Verified]:
        """Stream a blob in while the caller reads it through the yielded reader, which checks it against
        ``digest`` and ``size`` (hashing each byte once); it is stored only when it was read to its end and
        matched (DigestMismatch otherwise)."""
        from .streams import Verified

        dest = self.path(digest)
        tmp = TempFile(self.tmpdir)
        try:
            reader = Verified(raw, digest, size, what, sink=tmp.file)
            yield reader
            reader.drain()
            tmp.commit(dest)
        finally:
            tmp.discard()

    def delete(self, digest: str) -> None:
        with suppress(FileNotFoundError):
            os.unlink(self.path(digest))

    def all(self) -> Iterator[str]:
        try:
            names = os.listdir(self.dir)
        except FileNotFoundError:
            return
        for n in names:
            if len(n) == 64:
                yield "sha256:" + n


class BlobWriter:
    """A file-like sink that hashes what is written to it."""

    def __init__(self, store: BlobStore, expected: str | None) -> None:
        self.store = store
        self.expected = expected
        import hashlib

        self.hash = hashlib.sha256()
        self.tmp = TempFile(store.tmpdir)
        self.size = 0
        self.digest = ""

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        self.tmp.file.write(data)
        self.size += len(data)
        return len(data)

    def commit(self) -> None:
        self.digest = "sha256:" + self.hash.hexdigest()
        if self.expected and self.expected != self.digest:
            raise StoreError(f"digest mismatch: expected {self.expected}, got {self.digest}")
        faults.point("blob")
        self.tmp.commit(self.store.path(self.digest))

    def discard(self) -> None:
        self.tmp.discard()
