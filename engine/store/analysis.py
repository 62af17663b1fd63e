"""Image layer analysis in the manner of dive: file trees per layer, wasted space and efficiency.

Input is the layer directories of an image, bottom-first, each an unpacked layer with overlayfs whiteouts
(char device 0/0 for a deletion, ``trusted.overlay.opaque=y`` for an opaque directory) — exactly what the
store keeps on disk, so nothing is re-read from tarballs. Each layer is walked once with ``os.scandir``.

The numbers follow dive:

- every path in every layer is one *copy* of that path; a whiteout is a copy whose size is what it removes
  (a deleted directory counts each removed path with its own size, so the bytes removed are counted once);
  an opaque directory removes, the same way, the lower content its layer does not write again. (dive
  itself counts a deleted file as 0 bytes and a deleted directory once, at its own path, so deleting in a
  later layer can look free there; it cannot here.)
- per path: cumulative size of all copies, smallest copy;
- efficiency = sum of smallest / sum of cumulative (1.0 when nothing is stored at all);
- wasted bytes = sum of cumulative sizes of the paths with copies in two or more layers.

Sizes are regular-file bytes (a hard link counts once per layer, like a tar entry); directories, links and
devices weigh nothing themselves.

Trees: ``ImageAnalysis.tree(n)`` is the filesystem as it looks after layer ``n`` with each entry marked
Added / Modified / Removed / Unmodified relative to the layers below ``n`` (``aggregated=True``: relative to
the base layer, dive's "aggregated changes"). ``layer_tree(upper, lowers)`` gives the same for a
container's writable layer; it takes the lower directories top-most first, as they are mounted, where
``analyze_image`` takes the image's layers in their own order, base first.
"""

from __future__ import annotations

import os
import stat
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from enum import StrEnum
from typing import Literal

from engine.errors import NotFound
from engine.lean.record import field, record
from engine.store import whiteouts as wh

EntryKind = Literal["file", "dir", "symlink", "char", "block", "fifo", "socket"]


class Status(StrEnum):
    ADDED = "added"
    MODIFIED = "modified"
    REMOVED = "removed"
    UNMODIFIED = "unmodified"


def kind_of(mode: int) -> EntryKind:
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISCHR(mode):
        return "char"
    if stat.S_ISBLK(mode):
        return "block"
    if stat.S_ISFIFO(mode):
        return "fifo"
    return "socket"


@record(frozen=True)
class FileEntry:
    """One node of a file tree, ready for a tree widget.

    ``path`` is absolute inside the image (``/`` for the root); ``size`` is the file's bytes, or for a
    directory the total below it (for a removed directory: what was removed); ``mode`` is the full st_mode
    (``stat.filemode(mode)`` gives ``drwxr-xr-x``); ``layer`` is the index of the layer the entry comes from
    (-1 for the root).
    """

    path: str
    kind: EntryKind
    size: int
    mode: int
    is_dir: bool
    status: Status
    uid: int = 0
    gid: int = 0
    layer: int = -1
    link_target: str | None = None

    @property
    def name(self) -> str:
        return self.path.rpartition("/")[2] or "/"


class FileTree:
    """An immutable file tree: look up entries by path and walk a directory's children."""

    def __init__(self, entries: dict[str, FileEntry], children: dict[str, list[str]]) -> None:
        self._entries = entries
        self._children = children

    @property
    def root(self) -> FileEntry:
        return self._entries["/"]

    def get(self, path: str) -> FileEntry | None:
        return self._entries.get(path)

    def children(self, path: str = "/") -> list[FileEntry]:
        """The entries directly in directory ``path``, sorted by name."""
        return [self._entries[p] for p in self._children.get(path, ())]

    def walk(self, path: str = "/") -> Iterator[FileEntry]:
        """``path`` and everything below it, depth-first, parents before children, names sorted."""
        stack = [path]
        while stack:
            current = stack.pop()
            entry = self._entries.get(current)
            if entry is None:
                continue
            yield entry
            stack.extend(reversed(self._children.get(current, ())))

    def counts(self) -> dict[Status, int]:
        """How many entries (the root excluded) have each status."""
        result = {s: 0 for s in Status}
        for path, entry in self._entries.items():
            if path != "/":
                result[entry.status] += 1
        return result

    def __contains__(self, path: object) -> bool:
        return path in self._entries

    def __len__(self) -> int:
        return len(self._entries) - 1


# --------------------------------------------------------------------------------------------------------
# Scanning one layer directory


class _Info:
    __slots__ = ("mode", "size", "uid", "gid", "target", "whiteout", "opaque")

    def __init__(
        self, st: os.stat_result, size: int, target: str | None, whiteout: bool, opaque: bool
    ) -> None:
        self.mode = st.st_mode
        self.size = size
        self.uid = st.st_uid
        self.gid = st.st_gid
        self.target = target
        self.whiteout = whiteout
        self.opaque = opaque

    @property
    def is_dir(self) -> bool:
        return stat.S_ISDIR(self.mode)


@record
class LayerScan:
    """One layer directory, walked once: its entries by relative path, parents before children."""

    path: str
    entries: dict[str, _Info] = field(repr=False)
    size: int
    """Bytes of regular files (hard links counted once)."""


def _listing(directory: str) -> list[os.DirEntry[str]]:
    with os.scandir(directory) as it:
        return sorted(it, key=lambda e: e.name)


def scan_layer(path: str) -> LayerScan:
    """Walk the layer directory ``path`` once (``os.scandir``, names sorted, symlinks not followed)."""
    if not os.path.isdir(path):
        raise NotFound(f"layer directory {path!r} does not exist")
    entries: dict[str, _Info] = {}
    seen: set[tuple[int, int]] = set()
    total = 0
    stack: list[tuple[str, Iterator[os.DirEntry[str]]]] = [("", iter(_listing(path)))]
    while stack:
        prefix, items = stack[-1]
        item = next(items, None)
        if item is None:
            stack.pop()
            continue
        st = item.stat(follow_symlinks=False)
        mode = st.st_mode
        rel = prefix + item.name
        size = 0
        target = None
        whiteout = opaque = False
        if stat.S_ISREG(mode):
            size = st.st_size
            if st.st_nlink > 1:
                key = (st.st_dev, st.st_ino)
                if key in seen:
                    size = 0
                else:
                    seen.add(key)
            total += size
        elif stat.S_ISDIR(mode):
            opaque = wh.is_opaque_dir(item.path)
        elif stat.S_ISLNK(mode):
            target = os.readlink(item.path)
        elif wh.is_overlay_whiteout(st):
            whiteout = True
        entries[rel] = _Info(st, size, target, whiteout, opaque)
        if stat.S_ISDIR(mode):
            stack.append((rel + "/", iter(_listing(item.path))))
    return LayerScan(path, entries, total)


class ScanCache:
    """Scans of immutable layer directories kept between analyses (least recently used dropped first).

    Only for the store's read-only layers: a container's upper directory changes and is always rescanned.
    Safe to share between threads.
    """

    def __init__(self, max_layers: int = 32) -> None:
        self.max_layers = max_layers
        self._scans: OrderedDict[tuple[str, int, int], LayerScan] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, path: str) -> LayerScan:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            raise NotFound(f"layer directory {path!r} does not exist") from None
        key = (os.path.realpath(path), st.st_dev, st.st_ino)
        with self._lock:
            found = self._scans.get(key)
            if found is not None:
                self._scans.move_to_end(key)
                return found
        scan = scan_layer(path)
        with self._lock:
            self._scans[key] = scan
            while len(self._scans) > self.max_layers:
                self._scans.popitem(last=False)
        return scan


# --------------------------------------------------------------------------------------------------------
# Stacking layers


class _Node:
    """A path in the stacked view while layers are applied (``children`` is None for non-directories)."""

    __slots__ = ("info", "layer", "children", "status", "in_base", "total")

    def __init__(
        self, info: _Info | None, layer: int, children: dict[str, _Node] | None, status: Status, in_base: bool
    ) -> None:
        self.info = info
        self.layer = layer
        self.children = children
        self.status = status
        self.in_base = in_base
        self.total = 0


def _subtree(node: _Node, rel: str) -> Iterator[tuple[str, _Node]]:
    stack = [(rel, node)]
    while stack:
        path, current = stack.pop()
        yield path, current
        if current.children:
            stack.extend((f"{path}/{name}", child) for name, child in current.children.items())


def _own_size(node: _Node) -> int:
    return node.info.size if node.info is not None else 0


@record(frozen=True)
class PathUsage:
    """A path stored by two or more layers: how many copies, their total size and the smallest one."""

    path: str
    copies: int
    cumulative_size: int
    smallest_size: int


@record(frozen=True)
class LayerSummary:
    """One layer: its directory, its size, and what it does to the layers below (non-directories, plus
    directories it adds)."""

    index: int
    path: str
    size: int
    entries: int
    added: int
    modified: int
    removed: int


def _usage(scans: Sequence[LayerScan]) -> tuple[dict[str, list[int]], list[tuple[int, int, int]]]:
    """Per path [copies, cumulative size, smallest size], and per layer (added, modified, removed)."""
    usage: dict[str, list[int]] = {}
    counts: list[tuple[int, int, int]] = []

    def record(rel: str, size: int) -> None:
        found = usage.get(rel)
        if found is None:
            usage[rel] = [1, size, size]
        else:
            found[0] += 1
            found[1] += size
            if size < found[2]:
                found[2] = size

    root = _Node(None, -1, {}, Status.UNMODIFIED, True)
    for index, scan in enumerate(scans):
        dirs: dict[str, _Node] = {"": root}
        hidden: dict[str, int] = {}  # lower content hidden by opaque directories, unless written again
        added = modified = removed = 0
        for rel, info in scan.entries.items():
            parent, _, name = rel.rpartition("/")
            pnode = dirs[parent]
            assert pnode.children is not None
            old = pnode.children.get(name)
            if info.whiteout:
                if old is None:
                    record(rel, 0)
                else:
                    removed += 1
                    for path, node in _subtree(old, rel):
                        record(path, _own_size(node))
                    del pnode.children[name]
                continue
            was_hidden = hidden.pop(rel, None) is not None
            record(rel, info.size)
            if old is None and not was_hidden:
                added += 1
            elif not info.is_dir:
                modified += 1
            if info.is_dir:
                if old is not None and old.children is not None:
                    node = old
                    node.info = info
                    if info.opaque:
                        for cname, child in old.children.items():
                            for path, sub in _subtree(child, f"{rel}/{cname}"):
                                hidden[path] = _own_size(sub)
                        node.children = {}
                else:
                    node = _Node(info, index, {}, Status.UNMODIFIED, True)
                    pnode.children[name] = node
                dirs[rel] = node
            else:
                if old is not None and old.children:
                    for cname, child in old.children.items():  # a directory replaced by a non-directory
                        for path, sub in _subtree(child, f"{rel}/{cname}"):
                            record(path, _own_size(sub))
                pnode.children[name] = _Node(info, index, None, Status.UNMODIFIED, True)
        for path, size in hidden.items():
            record(path, size)
        counts.append((added, modified, removed))
    return usage, counts


def _drop(parent: _Node, name: str, node: _Node, mark: bool) -> None:
    """Take ``node`` out of the view: it becomes a Removed ghost if it existed in the base, else vanishes."""
    assert parent.children is not None
    if not mark or not node.in_base:
        del parent.children[name]
        return
    stack = [(parent, name, node)]
    while stack:
        owner, cname, current = stack.pop()
        assert owner.children is not None
        if not current.in_base:
            del owner.children[cname]
            continue
        current.status = Status.REMOVED
        if current.children:
            stack.extend((current, n, c) for n, c in current.children.items() if c.status != Status.REMOVED)


def _meta_changed(old: _Info | None, new: _Info) -> bool:
    return old is None or (old.mode, old.uid, old.gid) != (new.mode, new.uid, new.gid)


def _stack(scans: Sequence[LayerScan], upto: int, since: int) -> _Node:
    """The view after layers 0..upto, statuses relative to the view after layers 0..since-1."""
    root = _Node(None, -1, {}, Status.UNMODIFIED, True)
    for index in range(upto + 1):
        mark = index >= since
        dirs: dict[str, _Node] = {"": root}
        for rel, info in scans[index].entries.items():
            parent, _, name = rel.rpartition("/")
            pnode = dirs[parent]
            assert pnode.children is not None
            old = pnode.children.get(name)
            live = old if old is not None and old.status != Status.REMOVED else None
            if info.whiteout:
                if live is not None:
                    _drop(pnode, name, live, mark)
                continue
            in_base = old.in_base if old is not None else not mark
            if info.is_dir and live is not None and live.children is not None:
                node = live
                if mark and node.status == Status.UNMODIFIED and _meta_changed(node.info, info):
                    node.status = Status.MODIFIED
                node.info = info
                node.layer = index
                if info.opaque:
                    for cname, child in list(live.children.items()):
                        if child.status != Status.REMOVED:
                            _drop(node, cname, child, mark)
            else:
                children: dict[str, _Node] | None = None
                if info.is_dir:
                    ghosts = old is not None and old.status == Status.REMOVED and old.children is not None
                    children = old.children if ghosts and old is not None else {}
                if not mark:
                    status = Status.UNMODIFIED
                else:
                    status = Status.MODIFIED if in_base else Status.ADDED
                node = _Node(info, index, children, status, in_base)
                pnode.children[name] = node
            if info.is_dir:
                dirs[rel] = node
    return root


def _tree(root: _Node, only_changes: bool) -> FileTree:
    order: list[tuple[str, _Node]] = []
    stack: list[tuple[str, _Node]] = [("/", root)]
    while stack:
        path, node = stack.pop()
        order.append((path, node))
        if node.children:
            base = path if path != "/" else ""
            stack.extend((f"{base}/{name}", child) for name, child in node.children.items())
    for _path, node in reversed(order):  # children before their parents
        if node.children is None:
            node.total = _own_size(node)
            continue
        total = 0
        changed = False
        for child in node.children.values():
            if child.status != Status.UNMODIFIED:
                changed = True
            if child.status != Status.REMOVED or node.status == Status.REMOVED:
                total += child.total
        node.total = total
        if changed and node.status == Status.UNMODIFIED:
            node.status = Status.MODIFIED
    entries: dict[str, FileEntry] = {}
    children: dict[str, list[str]] = {}
    for path, node in order:
        if only_changes and node.status == Status.UNMODIFIED and path != "/":
            continue
        info = node.info
        if info is None:
            entry = FileEntry(path, "dir", node.total, stat.S_IFDIR | 0o755, True, node.status)
        else:
            entry = FileEntry(
                path,
                kind_of(info.mode),
                node.total,
                info.mode,
                info.is_dir,
                node.status,
                info.uid,
                info.gid,
                node.layer,
                info.target,
            )
        entries[path] = entry
        if node.children is not None:
            base = path if path != "/" else ""
            kept = sorted(
                name
                for name, child in node.children.items()
                if not (only_changes and child.status == Status.UNMODIFIED)
            )
            children[path] = [f"{base}/{name}" for name in kept]
    return FileTree(entries, children)


@record
class ImageAnalysis:
    """dive's view of an image: per-layer summaries, efficiency, wasted space and file trees."""

    layers: list[LayerSummary]
    total_size: int
    """Sum of the layers' sizes."""
    efficiency: float
    """Sum of each path's smallest copy over the sum of all copies (1.0 for an image storing nothing)."""
    wasted_bytes: int
    """Sum of the cumulative sizes of paths stored by two or more layers."""
    inefficiencies: list[PathUsage]
    """Paths stored by two or more layers with a non-zero total, largest total first."""
    scans: list[LayerScan] = field(repr=False)
    _trees: dict[tuple[int, int, bool], FileTree] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def tree(
        self,
        layer: int | None = None,
        *,
        aggregated: bool = False,
        since: int | None = None,
        only_changes: bool = False,
    ) -> FileTree:
        """The filesystem after ``layer`` (default: the top one) with statuses.

        Statuses are relative to the layers below ``layer`` (this layer's changes), or with ``aggregated``
        relative to the base layer (the changes of layers 1..layer), or relative to the layers below
        ``since``. ``only_changes`` leaves out unmodified entries.
        """
        if not self.scans:
            return _tree(_Node(None, -1, {}, Status.UNMODIFIED, True), only_changes)
        top = len(self.scans) - 1 if layer is None else layer
        if not 0 <= top < len(self.scans):
            raise NotFound(f"the image has no layer {layer} (it has {len(self.scans)})")
        if since is None:
            since = min(1, top) if aggregated else top
        since = max(0, min(since, top + 1))
        key = (top, since, only_changes)
        with self._lock:
            found = self._trees.get(key)
        if found is not None:
            return found
        result = _tree(_stack(self.scans, top, since), only_changes)
        with self._lock:
            if len(self._trees) >= 8:
                self._trees.pop(next(iter(self._trees)))
            self._trees[key] = result
        return result

    def image_tree(self, *, only_changes: bool = False) -> FileTree:
        """The whole image's filesystem, statuses relative to the base layer (dive's aggregated view)."""
        return self.tree(None, aggregated=True, only_changes=only_changes)


def analyze_scans(scans: Sequence[LayerScan]) -> ImageAnalysis:
    usage, counts = _usage(scans)
    cumulative = sum(u[1] for u in usage.values())
    smallest = sum(u[2] for u in usage.values())
    wasted = sum(u[1] for u in usage.values() if u[0] >= 2)
    inefficient = [
        PathUsage("/" + rel, u[0], u[1], u[2]) for rel, u in usage.items() if u[0] >= 2 and u[1] > 0
    ]
    inefficient.sort(key=lambda p: (-p.cumulative_size, p.path))
    summaries = [
        LayerSummary(i, scan.path, scan.size, len(scan.entries), *counts[i]) for i, scan in enumerate(scans)
    ]
    return ImageAnalysis(
        layers=summaries,
        total_size=sum(scan.size for scan in scans),
        efficiency=smallest / cumulative if cumulative else 1.0,
        wasted_bytes=wasted,
        inefficiencies=inefficient,
        scans=list(scans),
    )


def analyze_image(layer_dirs: Sequence[str], *, cache: ScanCache | None = None) -> ImageAnalysis:
    """Analyse an image from its layer directories, bottom-first (each walked once, or taken from ``cache``)."""
    return analyze_scans([cache.get(d) if cache is not None else scan_layer(d) for d in layer_dirs])


def layer_tree(
    upper: str,
    lower_dirs: Sequence[str],
    *,
    only_changes: bool = False,
    cache: ScanCache | None = None,
) -> FileTree:
    """A container's filesystem with its writable layer's changes marked (statuses relative to the image).

    ``lower_dirs`` are the image's layer directories top-most first, as mounted (overlayfs ``lowerdir=``
    order, like ``diff_upper``); ``upper`` is always rescanned, never taken from the cache, and counts as
    empty when it does not exist yet.
    """
    scans = [cache.get(d) if cache is not None else scan_layer(d) for d in reversed(lower_dirs)]
    scans.append(scan_layer(upper) if os.path.isdir(upper) else LayerScan(upper, {}, 0))
    top = len(scans) - 1
    return _tree(_stack(scans, top, top), only_changes)
