"""A staging area for the blobs and layers of a load: kept in ``tmp/`` until every one of them is verified,
then moved into the store together, or dropped together.

A refused load thus leaves nothing behind, and a process killed meanwhile leaves only its temporary, which the
next start sweeps. Blobs and layers the store already had are never touched.
"""

from __future__ import annotations

import os

from . import tmp as tmpfiles
from .blobs import BlobStore
from .layers import LayerStore

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .imagestore import ImageStore


class Staging:
    def __init__(self, store: ImageStore) -> None:
        self.store = store
        tmpdir = store.layout.tmp
        self.dir = tmpfiles.make_dir(tmpdir, "stage")
        self.blobs = BlobStore(os.path.join(self.dir, "blobs"), tmpdir)
        self.layers = LayerStore(os.path.join(self.dir, "layers"), tmpdir)
        os.mkdir(self.blobs.dir)
        os.mkdir(self.layers.dir)
        self.recipes: dict[str, tuple[str, int]] = {}  # blob -> (layer, size): blobs not kept

    def recipe(self, digest: str, chain: str, size: int) -> bool:
        """Let a recipe stand for the uncompressed blob ``digest`` of layer ``chain`` when the layer that will
        be in the store (the store's, else the staged one) has its tar-split record; False otherwise."""
        store = self.store.layers
        layers = store if store.exists(chain) else self.layers
        if not os.path.exists(layers.split_path(chain)):
            return False
        self.recipes[digest] = (chain, size)
        return True

    def has_blob(self, digest: str) -> bool:
        """In the store, or staged (its bytes or its recipe)."""
        return self.store.blobs.exists(digest) or self.blobs.exists(digest) or digest in self.recipes

    def has_layer(self, chain: str) -> bool:
        return self.store.layers.exists(chain) or self.layers.exists(chain)

    def commit(self) -> None:
        """Move every staged layer and blob into the store (the caller holds the store's writing lock, so no
        garbage collection runs before the images that use them are recorded)."""
        for chain in self.layers.all():
            hexpart = chain.partition(":")[2]
            _move(os.path.join(self.layers.dir, hexpart), os.path.join(self.store.layers.dir, hexpart))
        for digest in self.blobs.all():
            _move(self.blobs.path(digest), self.store.blobs.path(digest))
        for digest, (chain, size) in self.recipes.items():
            if not self.store.blobs.exists(digest):
                self.store.blobs.put_recipe(digest, {"compression": "none", "layer": chain, "size": size})

    def discard(self) -> None:
        """Drop what is still staged (everything, unless committed)."""
        tmpfiles.remove_tree(self.dir)


def _move(src: str, dest: str) -> None:
    """Rename ``src`` to ``dest`` unless the store has it already (from another image, or a concurrent writer)."""
    if os.path.exists(dest):
        return
    try:
        os.rename(src, dest)
    except OSError:
        if not os.path.exists(dest):  # another process won the race with the same content
            raise
