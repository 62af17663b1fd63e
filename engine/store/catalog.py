"""The image catalog: image records and tags.

An image is identified by the sha256 of its config (the image ID). ``images/<id-hex>.json`` records its
manifest digest and the layers (ChainIDs) it stands on; ``repositories.json`` maps ``name:tag`` to image IDs.
Every change holds the store lock; every write is atomic.
"""

from __future__ import annotations

import os
import time

from engine.lean.record import asdict, field, fields, record

from ..errors import CorruptRecord, ImageNotFound, InvalidArgument
from ..fsutil import atomic_write_json, locked, read_json
from ..lean.tools import contextmanager
from . import reference

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    NotifyFn = Callable[[str, str, dict[str, str]], None]


@record
class ImageEntry:
    id: str  # sha256:<config digest hex>
    manifest: str  # manifest blob digest
    layers: list[str]  # ChainIDs, bottom first
    layer_blobs: list[str]  # layer blob digests as referenced by the manifest
    added: float = field(default_factory=time.time)
    repo_digests: list[str] = field(default_factory=list)
    parent: str = ""  # the image a build or commit started from
    tags: list[str] = field(default_factory=list)  # a copy of repositories.json's, to rebuild it from


def damaged_entry(path: str, d: object) -> str | None:
    """What makes ``d`` (read from ``path``) no image record; None when it is one."""
    from engine.model.shape import problems_of

    problem = problems_of(ImageEntry, d)
    if (
        problem is None
        and isinstance(d, dict)
        and os.path.basename(path) != d["id"].partition(":")[2] + ".json"
    ):
        problem = f"it holds image {d['id'][:19]!r}, not the one its name says"
    return problem


class Catalog:
    """``notify(action, image_id, attributes)`` hears of each change to tags and records (``tag``, ``untag``,
    ``delete``): the image store makes events of them."""

    def __init__(self, directory: str, lock_path: str, notify: NotifyFn | None = None) -> None:
        self.dir = directory
        self.notify = notify
        self.lock_path = lock_path
        self.tags_path = os.path.join(directory, "repositories.json")
        self.damage_seen: list[CorruptRecord] = []  # the damaged records the last ``entries`` left out

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
        """The image's record; None when there is none, CorruptRecord (naming the file) when it is damaged."""
        path = self._path(image_id)
        d = read_json(path)
        if d is None:
            return None
        problem = damaged_entry(path, d)
        if problem:
            raise CorruptRecord(path, problem)
        known = {f.name for f in fields(ImageEntry)}
        return ImageEntry(**{k: v for k, v in d.items() if k in known})

    def delete(self, image_id: str) -> None:
        try:
            os.unlink(self._path(image_id))
        except FileNotFoundError:
            return
        if self.notify:
            self.notify("delete", image_id, {"name": image_id})

    def ids(self) -> list[str]:
        try:
            names = os.listdir(self.dir)
        except FileNotFoundError:
            return []
        return ["sha256:" + n[:-5] for n in names if n.endswith(".json") and len(n) == 69]

    def entries(self) -> list[ImageEntry]:
        """Every readable image record (a damaged one is left out: ``damaged`` lists those)."""
        out = []
        self.damage_seen = []
        for i in self.ids():
            try:
                e = self.get(i)
            except CorruptRecord as damage:
                self.damage_seen.append(damage)
                continue
            if e:
                out.append(e)
        return out

    def damaged(self) -> list[CorruptRecord]:
        """The image records that cannot be read."""
        out = []
        for i in self.ids():
            try:
                self.get(i)
            except CorruptRecord as e:
                out.append(e)
        return out

    # -- tags ----------------------------------------------------------------
    def tags(self) -> dict[str, str]:
        """name:tag -> image ID. A damaged index is rebuilt from the copies in the image records (the next
        write stores the rebuilt one; ``system check --repair`` at once)."""
        tags = self._stored_tags()
        return self.tags_from_records() if tags is None else tags

    def _stored_tags(self) -> dict[str, str] | None:
        try:
            tags = read_json(self.tags_path, {})
        except CorruptRecord:
            return None
        if not isinstance(tags, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in tags.items()
        ):
            return None
        return tags

    def tags_damaged(self) -> bool:
        return self._stored_tags() is None

    def tags_from_records(self) -> dict[str, str]:
        """name:tag -> image ID from the image records' own lists (the newest image keeps a tag two claim)."""
        held: dict[str, str] = {}
        for e in sorted(self.entries(), key=lambda e: e.added):
            for t in e.tags:
                held[t] = e.id
        return held

    def set_tag(self, tag: str, image_id: str) -> None:
        tags = self.tags()
        before = tags.get(tag)
        tags[tag] = image_id
        atomic_write_json(self.tags_path, tags)
        if before and before != image_id:
            self._copy_tags(before, tags)
        self._copy_tags(image_id, tags)
        if self.notify and before != image_id:
            if before:
                self.notify("untag", before, {"name": before})
            self.notify("tag", image_id, {"name": tag})

    def remove_tag(self, tag: str) -> None:
        tags = self.tags()
        owner = tags.pop(tag, None)
        if owner is not None:
            atomic_write_json(self.tags_path, tags)
            self._copy_tags(owner, tags)
            if self.notify:
                self.notify("untag", owner, {"name": owner})

    def _copy_tags(self, image_id: str, tags: dict[str, str]) -> None:
        """Keep the image record's copy of its tags equal to the index's."""
        try:
            e = self.get(image_id)
        except CorruptRecord:
            return
        if e is not None:
            mine = sorted(t for t, i in tags.items() if i == image_id)
            if e.tags != mine:
                e.tags = mine
                self.put(e)

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
