"""Images: records and tags readable, every blob hashing to its name, every layer an image needs present.

What can be rebuilt is rebuilt from what is whole: an image record from its manifest and config blobs, a
layer record from the image configs that name it, an unpacked layer from its blob, the tag index from the
copies the image records keep. What cannot (a blob whose content is not what its name says, an image whose
blobs are gone) is moved into the quarantine.
"""

from __future__ import annotations

import hashlib
import os

from ..errors import CorruptRecord, DockyardError, StoreError
from ..fsutil import atomic_write_json, dir_size
from ..lean import jsonio
from ..lean.record import asdict
from ..model.reports import Finding
from ..paths import Layout
from ..store.catalog import ImageEntry
from ..store.imagestore import ImageStore
from ..store.layers import LayerRecord, chain_id
from ..store.quarantine import keep

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import BinaryIO

_MANIFEST_MAX = 4 << 20  # a manifest blob is small: larger blobs are not read when looking for one


def check(layout: Layout, repair: bool) -> list[Finding]:
    store = ImageStore(layout)
    out: list[Finding] = []
    with store.collecting():  # no image is written or collected meanwhile
        out += _blobs(store, repair)
        out += _records(store, repair)
        out += _layer_records(store, repair)
        out += _images_complete(store, repair)
        out += _tags(store, repair)
    return out


def _hash(f: BinaryIO) -> str:
    h = hashlib.sha256()
    while chunk := f.read(1 << 20):
        h.update(chunk)
    return "sha256:" + h.hexdigest()


def _blobs(store: ImageStore, repair: bool) -> list[Finding]:
    out = []
    for digest in list(store.blobs.all()):
        if not store.blobs.kept(digest):
            out += _rebuilt(store, digest)
            continue
        path = store.blobs.path(digest)
        with open(path, "rb") as blob:
            actual = _hash(blob)
        if actual != digest:
            f = Finding("blob", path, f"its content hashes to {actual[:19]}, not to its name")
            if repair:
                f.repair = "quarantined as " + keep(store.layout, path)
            out.append(f)
    return out


def _rebuilt(store: ImageStore, digest: str) -> list[Finding]:
    """A blob kept as its layer's recipe: the tar regenerated from the unpacked layer must hash to it. When
    it does not, the layer was changed on disk; nothing can mend that here (the image must be pulled or
    loaded again), so it is reported and left as found."""
    recipe = store.blobs.recipe(digest)
    if recipe is None:
        return [Finding("blob", store.blobs.recipe_path(digest), "its recipe is unreadable or misshapen")]
    layer = str(recipe["layer"])
    if not store.layers.exists(layer):
        return []  # the missing layer is what is reported (``_images_complete``), or collected
    try:
        with store.blobs.open(digest) as f:
            _hash(f)  # the reader checks the digest at the end
    except StoreError as e:
        where = (
            store.layers.diff_path(layer) if store.layers.exists(layer) else store.blobs.recipe_path(digest)
        )
        return [Finding("layer", where, f"{e}; pull or load the image again")]
    return []


def _records(store: ImageStore, repair: bool) -> list[Finding]:
    out = []
    for damage in store.catalog.damaged():
        f = Finding("image record", damage.path, damage.reason)
        if repair:
            image_id = "sha256:" + os.path.basename(damage.path)[: -len(".json")]
            entry = _entry_from_blobs(store, image_id)
            moved = keep(store.layout, damage.path)
            if entry is not None:
                store.catalog.put(entry)
                f.repair = f"rebuilt from its manifest {entry.manifest[:19]} (the damaged file: {moved})"
            else:
                f.repair = f"quarantined as {moved} (no manifest of it is left)"
        out.append(f)
    return out


def _entry_from_blobs(store: ImageStore, image_id: str) -> ImageEntry | None:
    """The record of ``image_id`` made again from the manifest blob that names its config."""
    try:
        config = jsonio.loads(store.blobs.read(image_id))
        diff_ids = list(config["rootfs"]["diff_ids"])
    except (OSError, ValueError, KeyError, TypeError, DockyardError):
        return None
    for digest in store.blobs.all():
        if digest == image_id or store.blobs.size(digest) > _MANIFEST_MAX:
            continue
        try:
            doc = jsonio.loads(store.blobs.read(digest))
            if not isinstance(doc, dict) or doc.get("config", {}).get("digest") != image_id:
                continue
            layer_blobs = [str(d["digest"]) for d in doc["layers"]]
        except (OSError, ValueError, KeyError, TypeError, AttributeError, DockyardError):
            continue
        chains: list[str] = []
        for diff_id in diff_ids:
            chains.append(chain_id(chains[-1] if chains else None, diff_id))
        tags = sorted(t for t, i in store.catalog.tags().items() if i == image_id)
        return ImageEntry(image_id, digest, chains, layer_blobs, tags=tags)
    return None


def _layer_records(store: ImageStore, repair: bool) -> list[Finding]:
    """A damaged layer.json is written again from the image configs that name the layer."""
    known = _chains_of_images(store)
    out = []
    for chain in store.layers.all():
        try:
            store.layers.get(chain)
        except CorruptRecord as e:
            f = Finding("layer record", e.path, e.reason)
            if repair:
                moved = keep(store.layout, e.path)
                if chain in known:
                    diff_id, parent = known[chain]
                    rec = LayerRecord(chain, diff_id, parent, dir_size(store.layers.diff_path(chain)))
                    atomic_write_json(e.path, asdict(rec))
                    f.repair = f"rebuilt from the image config (the damaged file: {moved})"
                else:
                    f.repair = f"quarantined as {moved} (no image names this layer)"
            out.append(f)
        except StoreError:
            continue
    return out


def _chains_of_images(store: ImageStore) -> dict[str, tuple[str, str | None]]:
    """ChainID -> (DiffID, parent ChainID) for every layer some image's config names."""
    out: dict[str, tuple[str, str | None]] = {}
    for e in store.catalog.entries():
        try:
            diff_ids = list(jsonio.loads(store.blobs.read(e.id))["rootfs"]["diff_ids"])
        except (OSError, ValueError, KeyError, TypeError, DockyardError):
            continue
        parent: str | None = None
        for diff_id in diff_ids:
            chain = chain_id(parent, diff_id)
            out[chain] = (diff_id, parent)
            parent = chain
    return out


def _images_complete(store: ImageStore, repair: bool) -> list[Finding]:
    """Every image's config, manifest and layer blobs, and every layer it stands on, are there; a missing
    unpacked layer is unpacked again from its blob."""
    out = []
    for e in store.catalog.entries():
        for digest, what in [(e.id, "config"), (e.manifest, "manifest")]:
            if not store.blobs.exists(digest):
                out.append(_lost(store, e, f"its {what} blob {digest[:19]} is missing", repair))
                break
        else:
            for i, chain in enumerate(e.layers):
                if store.layers.exists(chain):
                    continue
                f = Finding(
                    "layer", store.layers.diff_path(chain), f"layer {i + 1} of image {e.id[7:19]} is missing"
                )
                if repair:
                    f.repair = _unpack_again(store, e, i)
                out.append(f)
    return out


def _lost(store: ImageStore, e: ImageEntry, problem: str, repair: bool) -> Finding:
    path = os.path.join(store.layout.images, e.id[7:] + ".json")
    f = Finding("image", path, problem)
    if repair:
        for tag in store.catalog.tags_of(e.id):
            store.catalog.remove_tag(tag)
        f.repair = "quarantined as " + keep(store.layout, path)
    return f


def _unpack_again(store: ImageStore, e: ImageEntry, i: int) -> str:
    from ..store.streams import decompressed

    if i >= len(e.layer_blobs) or not store.blobs.exists(e.layer_blobs[i]):
        return ""  # nothing to unpack it from: left as found
    parent = e.layers[i - 1] if i else None
    if parent is not None and not store.layers.exists(parent):
        return ""
    try:
        with store.blobs.open(e.layer_blobs[i]) as raw:
            rec = store.layers.unpack(decompressed(raw), parent)
    except DockyardError:
        return ""  # its blob is damaged too: left as found
    if rec.chain_id != e.layers[i]:
        store.layers.remove(rec.chain_id)
        return ""
    return f"unpacked again from its blob {e.layer_blobs[i][:19]}"


def _tags(store: ImageStore, repair: bool) -> list[Finding]:
    catalog = store.catalog
    out = []
    if catalog.tags_damaged():
        f = Finding("tag index", catalog.tags_path, "unreadable or misshapen")
        if repair:
            rebuilt = catalog.tags_from_records()
            if os.path.exists(catalog.tags_path):
                keep(store.layout, catalog.tags_path)
            atomic_write_json(catalog.tags_path, rebuilt)
            f.repair = "rebuilt from the image records"
        out.append(f)
    known = set(catalog.ids())
    for tag, image_id in sorted(catalog.tags().items()):
        if image_id not in known:
            f = Finding("tag", tag, f"names image {image_id[7:19]}, which is not in the store")
            if repair:
                catalog.remove_tag(tag)
                f.repair = "removed"
            out.append(f)
    return out
