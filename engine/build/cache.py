"""The build cache: ``buildcache.json`` under the engine root, from a step's cache key to what it made.

A key (see :func:`engine.build.state.chain_key`) names the parent state plus the step; the entry holds the
step's result: the layer it added (if any), the container config after it, the history entry it appended,
the image author. Every entry also names a ``chain_id`` (the top layer after the step), which the image
store's garbage collector keeps (``engine.images.Images._pinned_layers``) until the entry is pruned.

The file is read once per build and written once at the end (new entries merged under a lock, so parallel
builds lose nothing). ``prune`` drops entries: all of them, or only those whose layers no image uses.
"""

from __future__ import annotations

import contextlib
import os
import time

from engine.fsutil import atomic_write_json, locked, read_json

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from engine.images import Images
    from engine.paths import Layout

__all__ = ["CACHE_FILE", "BuildCache", "CachePruneReport"]

CACHE_FILE = "buildcache.json"


class CachePruneReport:
    """What ``builder prune`` removed: how many cache entries, how many bytes of layers."""

    def __init__(self, deleted: int = 0, reclaimed: int = 0) -> None:
        self.deleted = deleted
        self.reclaimed = reclaimed


class BuildCache:
    """The cache of one engine root. Lookups read the file once; :meth:`put` collects; :meth:`flush` writes."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.path = os.path.join(layout.root, CACHE_FILE)
        self._entries: dict[str, dict[str, Any]] | None = None
        self._new: dict[str, dict[str, Any]] = {}

    def _load(self) -> dict[str, dict[str, Any]]:
        if self._entries is None:
            try:
                data = read_json(self.path, {}) or {}
            except ValueError:
                data = {}  # a damaged cache is an empty cache
            self._entries = {k: v for k, v in data.items() if isinstance(v, dict)}
        return self._entries

    def get(self, key: str) -> dict[str, Any] | None:
        found = self._new.get(key)
        if found is not None:
            return found
        return self._load().get(key)

    def put(self, key: str, entry: dict[str, Any]) -> None:
        entry = dict(entry)
        entry.setdefault("created", time.time())
        self._new[key] = entry

    def flush(self) -> None:
        """Write the new entries (merged with what other builds wrote meanwhile)."""
        if not self._new:
            return
        with locked(self.layout.lock("buildcache")):
            try:
                current = read_json(self.path, {}) or {}
            except ValueError:
                current = {}
            current.update(self._new)
            atomic_write_json(self.path, current)
        self._load().update(self._new)
        self._new = {}

    def entries(self) -> dict[str, dict[str, Any]]:
        self._entries = None
        return dict(self._load())

    def prune(self, images: Images, all: bool = False, older_than: float | None = None) -> CachePruneReport:
        """Drop cache entries and the layers only they kept.

        Without ``all`` only the entries whose layer no image uses go (Docker's "dangling" cache); with it,
        every entry. ``older_than`` (seconds) keeps entries made more recently than that.
        """
        report = CachePruneReport()
        with locked(self.layout.lock("buildcache")):
            try:
                current = read_json(self.path, {}) or {}
            except ValueError:
                current = {}
            used = _layers_in_images(images) if not all else set()
            now = time.time()
            keep: dict[str, Any] = {}
            for key, entry in current.items():
                if not isinstance(entry, dict):
                    continue
                if older_than is not None and now - float(entry.get("created") or 0) < older_than:
                    keep[key] = entry
                    continue
                chain = entry.get("chain_id")
                if not all and (not chain or chain in used):
                    keep[key] = entry
                    continue
                report.deleted += 1
            before = _store_bytes(images)
            atomic_write_json(self.path, keep)
        self._entries = None
        images.recover()
        report.reclaimed = max(0, before - _store_bytes(images))
        return report


def _layers_in_images(images: Images) -> set[str]:
    used: set[str] = set()
    for entry in images.store.entries():
        used.update(entry.layers)
    return used


def _store_bytes(images: Images) -> int:
    total = 0
    for chain in images.layers.all():
        with contextlib.suppress(Exception):
            total += images.layers.get(chain).size
    return total
