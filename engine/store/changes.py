"""What a container changed: ``docker diff`` computed from its overlayfs upper directory.

The upper directory holds everything the container wrote; the image's layers (unpacked with overlay
whiteouts) are what it started from. A path is

- ``A`` (added) when it is in the upper directory and nowhere in the image's merged view,
- ``C`` (changed) when it is in the upper directory and was in the image (directories holding changes
  show as changed, as with Docker),
- ``D`` (deleted) when the upper directory hides it: a whiteout, or an opaque directory whose former
  content was not written again (only the topmost deleted path is listed, as Docker does).

Unlike Docker's overlay2 driver, "was in the image" honours the image's own whiteouts and opaque
directories: a file deleted by one image layer and recreated by the container is ``A``, not ``C``.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from typing import Literal

from engine.lean.record import record
from engine.store import whiteouts as wh

ChangeKind = Literal["A", "C", "D"]

_DOCKER_KIND = {"C": 0, "A": 1, "D": 2}


@record(frozen=True)
class Change:
    """One line of ``docker diff``: ``kind`` A/C/D and the path inside the container (``/etc/passwd``)."""

    kind: ChangeKind
    path: str

    @property
    def docker_kind(self) -> int:
        """The number Docker's API uses for the kind (0 modified, 1 added, 2 deleted)."""
        return _DOCKER_KIND[self.kind]

    def __str__(self) -> str:
        return f"{self.kind} {self.path}"


def _lstat(path: str) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None


class LowerView:
    """Read-only lookups in the merged view of layer directories (overlay whiteouts on disk).

    ``lower_dirs`` are top-most first, the order of overlayfs' ``lowerdir=`` option. Results are cached;
    the layers must not change while the view is used.
    """

    def __init__(self, lower_dirs: Sequence[str]) -> None:
        self.top_first = list(lower_dirs)
        self._dirs: dict[str, list[str]] = {}
        self._entries: dict[str, os.stat_result | None] = {}

    def _dir_layers(self, rel: str) -> list[str]:
        """The layers whose directory ``rel`` makes up the merged directory, top-first."""
        found = self._dirs.get(rel)
        if found is not None:
            return found
        layers: list[str] = []
        candidates = self.top_first if not rel else self._dir_layers(rel.rpartition("/")[0])
        for layer in candidates:
            path = os.path.join(layer, rel) if rel else layer
            st = _lstat(path)
            if st is None:
                continue
            if not stat.S_ISDIR(st.st_mode):
                break  # a whiteout or a non-directory hides the layers below
            layers.append(layer)
            if wh.is_opaque_dir(path):
                break
        self._dirs[rel] = layers
        return layers

    def lookup(self, rel: str) -> os.stat_result | None:
        """The lstat of what the merged layers show at ``rel`` (relative, no leading slash); None if nothing."""
        if rel in self._entries:
            return self._entries[rel]
        parent = rel.rpartition("/")[0]
        result: os.stat_result | None = None
        if not parent or self._is_dir(parent):
            for layer in self._dir_layers(parent):
                st = _lstat(os.path.join(layer, rel))
                if st is None:
                    continue
                if not wh.is_overlay_whiteout(st):
                    result = st
                break
        self._entries[rel] = result
        return result

    def _is_dir(self, rel: str) -> bool:
        st = self.lookup(rel)
        return st is not None and stat.S_ISDIR(st.st_mode)

    def children(self, rel: str) -> list[str]:
        """Names in the merged directory ``rel`` ("" for the root), sorted; [] when it is not a directory."""
        if rel and not self._is_dir(rel):
            return []
        names: set[str] = set()
        for layer in self._dir_layers(rel):
            names.update(os.listdir(os.path.join(layer, rel) if rel else layer))
        return sorted(n for n in names if self.lookup(f"{rel}/{n}" if rel else n) is not None)


def diff_upper(upper: str, lower_dirs: Sequence[str]) -> list[Change]:
    """``docker diff`` of a container: its upper directory against the image's layer directories.

    ``lower_dirs`` are top-most first, as mounted (overlayfs ``lowerdir=`` order, the order
    ``engine.runtime.prepare.image_lower_dirs`` returns). The result is sorted by path; a missing upper
    directory (a container never started) has no changes.
    """
    if not os.path.isdir(upper):
        return []
    view = LowerView(lower_dirs)
    changes: list[Change] = []

    def walk(rel_dir: str, replaced: bool) -> None:
        # ``replaced``: this directory's content is exactly the upper's (it or an ancestor is opaque).
        path = os.path.join(upper, rel_dir) if rel_dir else upper
        with os.scandir(path) as it:
            entries = sorted(it, key=lambda e: e.name)
        present = set()
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            present.add(entry.name)
            st = entry.stat(follow_symlinks=False)
            before = view.lookup(rel)
            if wh.is_overlay_whiteout(st):
                if before is not None:
                    changes.append(Change("D", "/" + rel))
                continue
            changes.append(Change("C" if before is not None else "A", "/" + rel))
            if stat.S_ISDIR(st.st_mode):
                opaque = replaced or wh.is_opaque_dir(entry.path)
                walk(rel, opaque and before is not None and stat.S_ISDIR(before.st_mode))
        if replaced:
            for name in view.children(rel_dir):
                if name not in present:
                    changes.append(Change("D", "/" + (f"{rel_dir}/{name}" if rel_dir else name)))

    walk("", wh.is_opaque_dir(upper))
    changes.sort(key=lambda c: c.path)
    return changes
