"""The image catalog: image records and tags.

An image is identified by the sha256 of its config (the image ID). ``images/<id-hex>.json`` records its
manifest digest and the layers (ChainIDs) it stands on; ``repositories.json`` maps ``name:tag`` to image IDs.
Every change holds the store lock; every write is atomic.
"""

from __future__ import annotations

import os
import time

from engine.lean.record import asdict, field, record

from ..errors import ImageNotFound, InvalidArgument
from ..fsutil import atomic_write_json, locked, read_json
from ..lean.tools import contextmanager
from . import reference

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator


@record
class ImageEntry:
    id: str  # sha256:<config digest hex>
    manifest: str  # manifest blob digest
    layers: list[str]  # ChainIDs, bottom first
    layer_blobs: list[str]  # layer blob digests as referenced by the manifest
    added: float = field(default_factory=time.time)
    repo_digests: list[str] = field(default_factory=list)
    parent: str = ""  # the image a build or commit started from


class Catalog:
    def __init__(self, directory: str, lock_path: str) -> None:
        self.dir = directory
        self.lock_path = lock_path
        self.tags_path = os.path.join(directory, "repositories.json")

    @contextmanager
    def lock(self) -> Iterator[None]:
        with locked(self.lock_path):
            yield

    # -- records -------------------------------------------------------------
    def _path(self, image_id: str) -> str:
        return os.path.join(self.dir, image_id.partition(":")[2] + ".json")

    def put(self, entry: ImageEntry) -> None:
        atomic_write_json(self._path(entry.id), asdict(entry))

    def get(self, image_id: str) -> ImageEntry | None:
        d = read_json(self._path(image_id))
        return ImageEntry(**d) if d else None

    def delete(self, image_id: str) -> None:
        try:
            os.unlink(self._path(image_id))
        except FileNotFoundError:
            pass

    def ids(self) -> list[str]:
        try:
            names = os.listdir(self.dir)
        except FileNotFoundError:
            return []
        return ["sha256:" + n[:-5] for n in names if n.endswith(".json") and len(n) == 69]

    def entries(self) -> list[ImageEntry]:
        out = []
        for i in self.ids():
            e = self.get(i)
            if e:
                out.append(e)
        return out

    # -- tags ----------------------------------------------------------------
    def tags(self) -> dict[str, str]:
        return dict(read_json(self.tags_path, {}) or {})

    def set_tag(self, tag: str, image_id: str) -> None:
        tags = self.tags()
        tags[tag] = image_id
        atomic_write_json(self.tags_path, tags)

    def remove_tag(self, tag: str) -> None:
        tags = self.tags()
        if tags.pop(tag, None) is not None:
            atomic_write_json(self.tags_path, tags)

    def tags_of(self, image_id: str) -> list[str]:
        return sorted(t for t, i in self.tags().items() if i == image_id)

    # -- lookup --------------------------------------------------------------
    def resolve(self, name: str) -> str:
        """Image ID for a tag, a full or short ID (unique prefix), or ``name@digest``."""
        tags = self.tags()
        if reference.looks_like_id(name):
            hexpart = name[7:] if name.startswith("sha256:") else name
            matches = [i for i in self.ids() if i[7:].startswith(hexpart)]
            if len(matches) == 1 and (len(hexpart) >= 1):
                # A bare hex string could also be a repository name; an exact tag wins (as in Docker).
                try:
                    ref = reference.parse(name)
                    if ref.tagged in tags:
                        return tags[ref.tagged]
                except InvalidArgument:
                    pass
                return matches[0]
            if len(matches) > 1:
                raise ImageNotFound(f"No such image: {name} (ambiguous: {len(matches)} images match)")
        try:
            ref = reference.parse(name)
        except InvalidArgument:
            raise ImageNotFound(f"No such image: {name}") from None
        if ref.digest:
            for e in self.entries():
                if any(d.endswith("@" + ref.digest) for d in e.repo_digests) or e.manifest == ref.digest:
                    return e.id
            raise ImageNotFound(f"No such image: {name}")
        image_id = tags.get(ref.tagged)
        if image_id is None:
            raise ImageNotFound(f"No such image: {ref.tagged}")
        return image_id
