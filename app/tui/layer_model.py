"""The layer pane's data: a file tree per layer with each path marked added / modified / removed /
unmodified, built from the engine's layer analysis or from a container's ``diff``.

This module is the only place that knows the analysis records' shape; the widgets see ``FileNode`` trees.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

ADDED, MODIFIED, REMOVED, UNMODIFIED = "A", "M", "R", "U"
KIND_NAMES = {ADDED: "added", MODIFIED: "modified", REMOVED: "removed", UNMODIFIED: "unmodified"}


@dataclass
class FileNode:
    name: str
    path: str
    kind: str = UNMODIFIED
    size: int = 0
    is_dir: bool = False
    children: dict[str, FileNode] = field(default_factory=dict)

    def child(self, name: str) -> FileNode:
        node = self.children.get(name)
        if node is None:
            node = FileNode(name, f"{self.path.rstrip('/')}/{name}", is_dir=True)
            self.children[name] = node
        return node

    def sorted_children(self) -> list[FileNode]:
        return sorted(self.children.values(), key=lambda n: (not n.is_dir, n.name))

    def total(self) -> int:
        return self.size + sum(c.total() for c in self.children.values()) if self.is_dir else self.size

    def count(self) -> int:
        return sum(1 + c.count() for c in self.children.values())


@dataclass
class LayerRow:
    """One row of the layer list: the writable layer or an image layer."""

    label: str  # "writable" or the layer's short digest
    size: int
    command: str
    tree: FileNode | None = None  # what this layer changes
    aggregate: FileNode | None = None  # the whole filesystem as of this layer, this layer's changes marked
    writable: bool = False


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
        (kinds.get(k, MODIFIED), p, 0, any(q.startswith(p.rstrip("/") + "/") for q in paths)) for k, p in changes
    )


def _get(obj: Any, *names: str, default: Any = None) -> Any:
    for name in names:
        if isinstance(obj, dict) and name in obj:
            return obj[name]
        if hasattr(obj, name):
            return getattr(obj, name)
    return default


def _kind(value: Any) -> str:
    s = str(getattr(value, "value", value) or "").lower()
    if s.startswith("a"):
        return ADDED
    if s.startswith(("m", "c")):
        return MODIFIED
    if s.startswith(("r", "d", "w")):
        return REMOVED
    return UNMODIFIED


def _entries(files: Any) -> list[tuple[str, str, int, bool]]:
    out = []
    for f in files or []:
        path = str(_get(f, "path", "name", default=""))
        out.append(
            (
                _kind(_get(f, "change", "kind", "status", default="")),
                path,
                int(_get(f, "size", default=0) or 0),
                bool(_get(f, "is_dir", "dir", default=False)),
            )
        )
    return out


def _tree(obj: Any) -> FileNode | None:
    """Accept a ready tree (nested nodes with children) or a flat list of file records."""
    if obj is None:
        return None
    children = _get(obj, "children")
    if children is not None:
        flat: list[tuple[str, str, int, bool]] = []

        def walk(node: Any, prefix: str) -> None:
            kids = _get(node, "children", default={}) or {}
            items = kids.values() if isinstance(kids, dict) else kids
            for k in items:
                name = str(_get(k, "name", default=""))
                path = f"{prefix}/{name}"
                is_dir = bool(_get(k, "is_dir", default=False)) or bool(_get(k, "children"))
                flat.append((_kind(_get(k, "change", "kind", "status")), path, int(_get(k, "size", default=0) or 0),
                             is_dir))
                walk(k, path)

        walk(obj, "")
        return tree_from_paths(flat)
    return tree_from_paths(_entries(obj))


def from_analysis(title: str, analysis: Any, layer_commands: list[tuple[str, int, str]]) -> LayerReport:
    """A report from the engine's layer analysis (per-layer file changes, efficiency, wasted bytes).

    ``layer_commands``: (short digest, size, created_by) per image layer, oldest first.
    """
    report = LayerReport(title)
    report.efficiency = _get(analysis, "efficiency")
    report.wasted = _get(analysis, "wasted_bytes", "wasted")
    layers = list(_get(analysis, "layers", default=[]) or [])
    for i, (digest, size, command) in enumerate(layer_commands):
        layer = layers[i] if i < len(layers) else None
        tree = _tree(_get(layer, "tree", "changes", "files")) if layer is not None else None
        aggregate = _tree(_get(layer, "aggregate", "aggregated")) if layer is not None else None
        report.rows.append(LayerRow(digest, size, command, tree, aggregate))
    report.rows.reverse()  # newest on top, like docker history
    return report


def aggregate_rows(report: LayerReport) -> None:
    """Fill in each row's aggregate tree (everything up to that layer) from the per-layer trees."""
    rows = [r for r in reversed(report.rows) if not r.writable]  # oldest first
    state: dict[str, tuple[int, bool]] = {}
    for row in rows:
        if row.tree is None:
            continue
        changed: dict[str, str] = {}
        for node in _walk(row.tree):
            if node.kind == REMOVED:
                for p in [p for p in state if p == node.path or p.startswith(node.path + "/")]:
                    del state[p]
                changed[node.path] = REMOVED
            elif node.kind in (ADDED, MODIFIED) and not (node.is_dir and node.children):
                changed[node.path] = MODIFIED if node.path in state else ADDED
                state[node.path] = (node.size, node.is_dir)
        if row.aggregate is None:
            entries = [(changed.get(p, UNMODIFIED), p, size, d) for p, (size, d) in state.items()]
            entries += [(REMOVED, p, 0, False) for p, k in changed.items() if k == REMOVED]
            row.aggregate = tree_from_paths(entries)


def _walk(node: FileNode) -> Iterable[FileNode]:
    for c in node.children.values():
        yield c
        yield from _walk(c)
