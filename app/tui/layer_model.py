"""The layer pane's data: a file tree per layer with each path marked added / modified / removed /
unmodified, built from the engine's layer analysis or from a container's ``diff``.

This module is the only place that knows the analysis records' shape; the widgets see ``FileNode`` trees.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine import FileTree

ADDED, MODIFIED, REMOVED, UNMODIFIED = "A", "M", "R", "U"


@dataclass
class FileNode:
    name: str
    path: str
    kind: str = UNMODIFIED
    size: int = 0
    is_dir: bool = False
    children: dict[str, FileNode] = field(default_factory=dict)
    total_size: int | None = None  # known total of a directory (else summed from the children)

    def child(self, name: str) -> FileNode:
        node = self.children.get(name)
        if node is None:
            node = FileNode(name, f"{self.path.rstrip('/')}/{name}", is_dir=True)
            self.children[name] = node
        return node

    def sorted_children(self) -> list[FileNode]:
        return sorted(self.children.values(), key=lambda n: (not n.is_dir, n.name))

    def total(self) -> int:
        if self.total_size is not None:
            return self.total_size
        return self.size + sum(c.total() for c in self.children.values()) if self.is_dir else self.size

    def count(self) -> int:
        return sum(1 + c.count() for c in self.children.values())


@dataclass
class LayerRow:
    """One row of the layer list: the writable layer or an image layer."""

    label: str  # "writable" or the layer's short digest
    size: int
    command: str
    tree: FileNode | None = None  # the filesystem as of this layer, this layer's changes marked
    writable: bool = False
    load: Callable[[bool], FileNode] | None = None  # computes the tree (arg: aggregated), in a worker
    cache: dict[bool, FileNode] = field(default_factory=dict)

    def files(self, aggregated: bool) -> FileNode | None:
        """The tree to show (computed once per mode; call from a worker: it may walk many files)."""
        if self.load is None:
            return self.tree
        if aggregated not in self.cache:
            self.cache[aggregated] = self.load(aggregated)
        return self.cache[aggregated]


@dataclass
class LayerReport:
    title: str
    rows: list[LayerRow] = field(default_factory=list)
    efficiency: float | None = None  # 0..1, dive's score
    wasted: int | None = None  # bytes
    note: str = ""  # why some of it is missing


def tree_from_paths(entries: Iterable[tuple[str, str, int, bool]]) -> FileNode:
    """A tree from ``(kind, path, size, is_dir)`` entries; parent directories are made as needed."""
    root = FileNode("/", "/", is_dir=True)
    for kind, path, size, is_dir in entries:
        parts = [p for p in path.split("/") if p]
        if not parts:
            continue
        node = root
        for part in parts[:-1]:
            node = node.child(part)
        leaf = node.child(parts[-1])
        leaf.kind, leaf.size, leaf.is_dir = kind, size, is_dir or bool(leaf.children)
    _mark_dirs(root)
    return root


def _mark_dirs(node: FileNode) -> None:
    """A directory that only holds changes of one kind and was not itself changed shows as modified."""
    for c in node.children.values():
        if c.is_dir:
            _mark_dirs(c)
    if node.is_dir and node.kind == UNMODIFIED and any(c.kind != UNMODIFIED for c in node.children.values()):
        node.kind = MODIFIED


def from_diff(changes: list[tuple[str, str]]) -> FileNode:
    """A container's ``diff`` (Docker's A / C / D) as a tree."""
    kinds = {"A": ADDED, "C": MODIFIED, "D": REMOVED}
    paths = {p for _k, p in changes}
    return tree_from_paths(
        (kinds.get(k, MODIFIED), p, 0, any(q.startswith(p.rstrip("/") + "/") for q in paths))
        for k, p in changes
    )


_STATUS = {"added": ADDED, "modified": MODIFIED, "removed": REMOVED, "unmodified": UNMODIFIED}


def from_file_tree(tree: FileTree) -> FileNode:
    """The engine analysis' ``FileTree`` (entries with path, size, is_dir, status) as a FileNode tree."""
    root = FileNode("/", "/", is_dir=True)
    nodes = {"/": root}
    for entry in tree.walk("/"):
        if entry.path == "/":
            root.total_size = entry.size
            continue
        parent_path, _, name = entry.path.rpartition("/")
        parent = nodes.get(parent_path or "/")
        if parent is None:
            continue
        node = FileNode(
            name, entry.path, _STATUS.get(str(entry.status), UNMODIFIED), entry.size, entry.is_dir
        )
        node.total_size = entry.size
        parent.children[name] = node
        if entry.is_dir:
            nodes[entry.path] = node
    return root
