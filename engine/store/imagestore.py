"""The image store: content-addressed blobs, unpacked layers and the image catalog under one engine root, and
the only writer of them.

Build, pull, load, import, bootstrap and commit all add images through :class:`ImageStore`: layers go in
under :meth:`ImageStore.writing` (a shared lock), then :meth:`ImageStore.create` records the image and moves
its tags. Garbage collection (:meth:`ImageStore.collect`, :meth:`ImageStore.recover`) takes the same lock
exclusively, so it never removes a layer that an image being written is about to use. Layers that something
above the store still needs (the build cache's) are kept through the ``pins`` given at construction; the store
itself never looks upward.
"""

from __future__ import annotations

import os

from ..errors import CorruptRecord, ImageNotFound, InvalidArgument, StoreError
from ..fsutil import locked
from ..lean.tools import cached_property, contextmanager, suppress
from . import reference
from .blobs import BlobStore
from .catalog import Catalog, ImageEntry

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any, BinaryIO

    from ..paths import Layout
    from .layers import LayerStore

    PinsFn = Callable[[], set[str]]  # ChainIDs to keep although no image uses them


class NewLayer:
    """A layer ready to go into a new image: its ChainID and the blob that carries it."""

    def __init__(self, chain_id: str, blob: str, media_type: str, size: int) -> None:
        self.chain_id = chain_id
        self.blob = blob
        self.media_type = media_type
        self.size = size


class ImageStore:
    def __init__(self, layout: Layout, pins: PinsFn | None = None) -> None:
        self.layout = layout
        self.blobs = BlobStore(layout.blobs, layout.tmp, layout.layers)
        self.catalog = Catalog(layout.images, layout.lock("images"), self._event)
        self._pins = pins or set

    def _event(self, action: str, image_id: str, attributes: dict[str, str]) -> None:
        from .eventlog import emit

        emit(self.layout, "image", action, image_id, attributes)

    @cached_property
    def layers(self) -> LayerStore:
        from .layers import LayerStore

        return LayerStore(self.layout.layers, self.layout.tmp)

    # -- locking ---------------------------------------------------------------------------------------------
    @contextmanager
    def writing(self) -> Iterator[None]:
        """Held (shared) while new blobs and layers are being added; garbage collection takes it exclusively."""
        with locked(self.layout.lock("gc"), shared=True):
            yield

    @contextmanager
    def collecting(self) -> Iterator[None]:
        """Held while images are deleted and garbage collected: no writer and no other collector meanwhile."""
        with locked(self.layout.lock("gc")), self.catalog.lock():
            yield

    # -- reading ---------------------------------------------------------------------------------------------
    def resolve(self, name: str) -> str:
        """Image ID for a tag, a full or short ID, or ``name@digest``; ImageNotFound otherwise."""
        return self.catalog.resolve(name)

    def entry(self, image_id: str) -> ImageEntry:
        entry = self.catalog.get(image_id)
        if entry is None:
            raise ImageNotFound(f"No such image: {image_id}")
        return entry

    def config_of(self, image_id: str) -> dict[str, Any]:
        from ..lean import jsonio

        return dict(jsonio.loads(self.blobs.read(image_id)))

    # -- writing ---------------------------------------------------------------------------------------------
    def create(
        self,
        layers: list[NewLayer],
        config: dict[str, Any] | bytes,
        tags: list[str] | tuple[str, ...] = (),
        parent: str = "",
        repo_digests: list[str] | tuple[str, ...] = (),
        manifest_bytes: bytes | None = None,
    ) -> str:
        """Record a new image over layers already in the store; returns its ID. Tags move to it.

        ``config`` as bytes is kept byte for byte (its digest is the image ID)."""
        from . import oci

        parsed = [reference.parse(t) for t in tags]
        config_bytes = config if isinstance(config, bytes) else oci.canonical(config)
        config_id = self.blobs.put_bytes(config_bytes)
        if manifest_bytes is None:
            manifest = oci.new_manifest(
                config_id,
                len(config_bytes),
                [oci.layer_descriptor(x.blob, x.size, x.media_type) for x in layers],
            )
            manifest_bytes = oci.canonical(manifest)
        manifest_digest = self.blobs.put_bytes(manifest_bytes)
        for x in layers:
            self.keep_once(x.chain_id, x.blob)
        entry = ImageEntry(
            id=config_id,
            manifest=manifest_digest,
            layers=[x.chain_id for x in layers],
            layer_blobs=[x.blob for x in layers],
            parent=parent,
            repo_digests=list(repo_digests),
        )
        with self.catalog.lock():
            old = self.catalog.get(config_id)
            if old is not None:
                entry.repo_digests = sorted(set(old.repo_digests) | set(entry.repo_digests))
                entry.added = old.added
                entry.tags = old.tags
                if old.parent and not entry.parent:
                    entry.parent = old.parent
            self.catalog.put(entry)
            for ref in parsed:
                self.catalog.set_tag(ref.tagged, config_id)
        return config_id

    def keep_once(self, chain: str, blob: str) -> None:
        """Drop a layer's blob for a recipe when the unpacked layer can give its bytes back: the uncompressed
        tar always (the layer's tar-split record), a gzip blob when zlib's parameters that made it are found.
        Otherwise (zstd, another compressor's gzip, a layer unpacked before tar-split records) it stays."""
        if not self.blobs.kept(blob) or not os.path.exists(self.layers.split_path(chain)):
            return
        try:
            rec = self.layers.get(chain)
        except StoreError:
            return
        recipe: dict[str, Any] | None
        if blob == rec.diff_id:
            recipe = {"compression": "none"}
        else:
            from .rebuild import gzip_recipe

            with self.blobs.open(blob) as f:
                recipe = gzip_recipe(f, os.path.dirname(self.layers.split_path(chain)))
            if recipe is None:
                return
            recipe["compression"] = "gzip"
        recipe.update(layer=chain, size=self.blobs.size(blob))
        self.blobs.put_recipe(blob, recipe)

    def add_layer_from_tar(self, stream: BinaryIO, parent_chain: str | None) -> NewLayer:
        """Store a layer tar (plain or compressed): unpack it once, with the record that regenerates its
        uncompressed tar (the blob's bytes are kept only when that cannot be done)."""
        from . import oci
        from .blobs import BlobWriter
        from .streams import HashingReader, decompressed

        w = BlobWriter(self.blobs, None)
        try:
            source = decompressed(stream)
            tee = HashingReader(source, w)
            rec = self.layers.unpack(tee, parent_chain)  # type: ignore[arg-type]
            w.digest = "sha256:" + w.hash.hexdigest()
            if os.path.exists(self.layers.split_path(rec.chain_id)):
                self.blobs.put_recipe(
                    w.digest, {"compression": "none", "layer": rec.chain_id, "size": w.size}
                )
            else:
                w.commit()
        finally:
            w.discard()
        return NewLayer(rec.chain_id, w.digest, oci.MT_OCI_LAYER, w.size)

    def import_tar(
        self,
        source: BinaryIO,
        ref: str | None = None,
        message: str = "",
        changes: dict[str, Any] | None = None,
    ) -> str:
        """A rootfs tarball (plain or compressed) becomes a one-layer image; returns its ID."""
        from . import oci

        if ref:
            reference.parse(ref)  # refuse a bad name before reading anything
        with self.writing():
            layer = self.add_layer_from_tar(source, None)
            diff_id = self.layers.get(layer.chain_id).diff_id
            created = oci.now_rfc3339()
            history = [{"created": created, "created_by": "", "comment": message or "Imported from tarball"}]
            config = oci.new_config([diff_id], history, dict(changes or {}), created)
            return self.create([layer], config, [ref] if ref else [])

    def tag(self, image_id: str, target: str) -> None:
        ref = reference.parse(target)
        if ref.digest:
            raise InvalidArgument("refusing to create a tag with a digest reference")
        with self.catalog.lock():
            if self.catalog.get(image_id) is None:
                raise ImageNotFound(f"No such image: {image_id}")
            self.catalog.set_tag(ref.tagged, image_id)

    def add_repo_digest(self, image_id: str, repo_digest: str) -> None:
        with self.catalog.lock():
            e = self.catalog.get(image_id)
            if e is not None and repo_digest not in e.repo_digests:
                e.repo_digests = sorted({*e.repo_digests, repo_digest})
                self.catalog.put(e)

    # -- deleting and garbage collection (the caller holds :meth:`collecting`) ----------------------------------
    def delete(self, image_id: str) -> None:
        """Forget an image (its children no longer name it as parent); its data goes at the next collect."""
        for e in self.catalog.entries():
            if e.parent == image_id:
                e.parent = ""
                self.catalog.put(e)
        self.catalog.delete(image_id)

    def collect(self) -> None:
        """Delete layers and blobs no image references and no pin keeps. While an image or layer record is
        damaged nothing is deleted: what it references cannot be known (``system check --repair`` first)."""
        keep_layers: set[str] = set()
        keep_blobs: set[str] = set()
        if self.catalog.damaged():
            return
        for e in self.catalog.entries():
            keep_blobs.update([e.id, e.manifest, *e.layer_blobs])
            for chain in e.layers:
                c: str | None = chain
                while c and c not in keep_layers:
                    keep_layers.add(c)
                    try:
                        c = self.layers.get(c).parent
                    except CorruptRecord:
                        return
                    except StoreError:
                        c = None
        keep_layers |= self._pins()
        for chain in self.layers.all():
            if chain not in keep_layers:
                self.layers.remove(chain)
        for b in self.blobs.all():
            if b not in keep_blobs:
                self.blobs.delete(b)

    def layer_bytes(self) -> int:
        """Bytes the unpacked layers take."""
        total = 0
        for chain in self.layers.all():
            with suppress(StoreError):
                total += self.layers.get(chain).size
        return total

    def size(self) -> int:
        """Bytes the store's layers and blobs take."""
        total = self.layer_bytes()
        for b in self.blobs.all():
            with suppress(OSError):
                total += self.blobs.disk_size(b)
        return total

    def recover(self) -> list[str]:
        """Clean what a killed process left: temporaries, and layers/blobs no image references."""
        import fcntl

        from . import tmp as tmpfiles

        removed = tmpfiles.sweep(self.layout.tmp)
        fd = os.open(self.layout.lock("gc"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return removed  # somebody is writing right now: leave it to them
            with self.catalog.lock():
                self.collect()
        finally:
            os.close(fd)
        return removed
