"""Content-addressed blobs: ``blobs/sha256/<hex>``, written once, verified by their digest.

A layer blob whose bytes can be rebuilt from its unpacked layer is not kept: ``blobs/recipes/<hex>`` says
which layer (and, for a compressed blob, how it was compressed), and reading the blob regenerates it from
the layer's directory and its tar-split record (``tar/split.py``), checked against its digest at the end.
"""

from __future__ import annotations

import os

from .. import faults
from ..errors import StoreError
from ..lean.tools import contextmanager, suppress
from .tmp import TempFile

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any, BinaryIO

    from .streams import Source, Verified

CHUNK = 1 << 20


def hex_of(digest: str) -> str:
    algo, _, hexpart = digest.partition(":")
    if algo != "sha256" or len(hexpart) != 64:
        raise StoreError(f"unsupported digest {digest!r}")
    return hexpart


class BlobStore:
    def __init__(self, directory: str, tmpdir: str, layers_dir: str | None = None) -> None:
        self.dir = directory
        self.tmpdir = tmpdir
        self.layers_dir = layers_dir
        self.recipes = os.path.join(os.path.dirname(directory), "recipes") if layers_dir else ""

    def path(self, digest: str) -> str:
        """Where the blob's bytes are when they are kept (not for a blob kept as a recipe)."""
        return os.path.join(self.dir, hex_of(digest))

    def recipe_path(self, digest: str) -> str:
        return os.path.join(self.recipes, hex_of(digest)) if self.recipes else ""

    def kept(self, digest: str) -> bool:
        """Whether the blob's own bytes are on disk."""
        return os.path.exists(self.path(digest))

    def exists(self, digest: str) -> bool:
        return self.kept(digest) or bool(self.recipes and os.path.exists(self.recipe_path(digest)))

    def recipe(self, digest: str) -> dict[str, Any] | None:
        """How the blob is rebuilt, or None when it is kept as it is (or missing)."""
        if not self.recipes:
            return None
        from ..fsutil import read_json

        d = read_json(self.recipe_path(digest))
        if d is None or not isinstance(d.get("layer"), str) or not isinstance(d.get("size"), int):
            return None
        return dict(d)

    def size(self, digest: str) -> int:
        try:
            return os.stat(self.path(digest)).st_size
        except FileNotFoundError:
            r = self.recipe(digest)
            if r is None:
                raise
            return int(r["size"])

    def disk_size(self, digest: str) -> int:
        """Bytes the blob takes on disk (its recipe's, when it is rebuilt)."""
        try:
            return os.stat(self.path(digest)).st_size
        except FileNotFoundError:
            return os.stat(self.recipe_path(digest)).st_size if self.recipes else 0

    def read(self, digest: str) -> bytes:
        try:
            with self.open(digest) as f:
                return f.read()
        except FileNotFoundError:
            raise StoreError(f"blob {digest} is missing from the store") from None

    def open(self, digest: str) -> BinaryIO:
        """The blob's bytes: the file, or the tar regenerated from its layer (a StoreError at the end when
        they do not hash to ``digest``: the layer was changed on disk)."""
        try:
            return open(self.path(digest), "rb")
        except FileNotFoundError:
            r = self.recipe(digest)
            if r is None or self.layers_dir is None:
                raise
        from .rebuild import Rebuilt

        layer_dir = os.path.join(self.layers_dir, str(r["layer"]).partition(":")[2])
        return Rebuilt(layer_dir, digest, r)  # type: ignore[return-value]

    @contextmanager
    def as_file(self, digest: str) -> Iterator[BinaryIO]:
        """The blob as a real file (seekable, with a descriptor): itself, or for a blob kept as a recipe a
        temporary copy rebuilt (and verified) first, removed afterwards."""
        try:
            f = open(self.path(digest), "rb")  # noqa: SIM115
        except FileNotFoundError:
            if self.recipe(digest) is None:
                raise StoreError(f"blob {digest} is missing from the store") from None
            tmp = TempFile(self.tmpdir)
            try:
                with self.open(digest) as src:
                    while chunk := src.read(CHUNK):
                        tmp.file.write(chunk)
                tmp.file.flush()
                tmp.file.close()
                f = open(tmp.path, "rb")  # noqa: SIM115
            finally:
                tmp.discard()  # unlinked now: the open file stays readable
        with f:
            yield f

    def put_recipe(self, digest: str, recipe: dict[str, Any]) -> None:
        """Keep the blob as a recipe from now on: the recipe is written first, then the blob's file goes."""
        from ..fsutil import atomic_write_json

        os.makedirs(self.recipes, exist_ok=True)
        atomic_write_json(self.recipe_path(digest), recipe)
        faults.point("blob recipe")
        with suppress(FileNotFoundError):
            os.unlink(self.path(digest))

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
        if self.recipes:
            with suppress(FileNotFoundError):
                os.unlink(self.recipe_path(digest))

    def all(self) -> Iterator[str]:
        seen: set[str] = set()
        for d in (self.dir, self.recipes):
            if not d:
                continue
            try:
                names = os.listdir(d)
            except FileNotFoundError:
                continue
            for n in names:
                if len(n) == 64 and n not in seen:
                    seen.add(n)
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
