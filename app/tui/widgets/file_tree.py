"""A layer's files as a tree: added, modified and removed paths coloured and marked, sizes on the right,
space folds a directory, and a filter keeps only paths that hold some text."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from engine.humanize import human_size

from ..layer_model import ADDED, MODIFIED, REMOVED, UNMODIFIED, FileNode

_MARK = {ADDED: "+", MODIFIED: "~", REMOVED: "-", UNMODIFIED: " "}
_COLOUR = {ADDED: "layer-added", MODIFIED: "layer-modified", REMOVED: "layer-removed"}
MAX_NODES = 5000  # a bigger tree is cut (with a note); folders open on demand


class FileTree(Tree[FileNode]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("space", "toggle_node", "Fold", show=False)]
    DEFAULT_CSS = """
    FileTree { height: 1fr; background: $surface; }
    """

    def __init__(self, **kw: Any) -> None:
        super().__init__("/", **kw)
        self.guide_depth = 2
        self.source: FileNode | None = None
        self.filter_text = ""
        self.changes_only = False

    def show_tree(self, source: FileNode | None, title: str = "/") -> None:
        self.source = source
        self.root.set_label(Text(title, style="bold"))
        self._rebuild()

    def set_filter(self, text: str) -> None:
        self.filter_text = text
        self._rebuild()

    def toggle_changes_only(self) -> None:
        self.changes_only = not self.changes_only
        self._rebuild()

    def _keep(self, node: FileNode) -> bool:
        needle = self.filter_text.casefold()
        if self.changes_only and node.kind == UNMODIFIED:
            return False
        if not needle:
            return True
        if needle in node.path.casefold():
            return True
        return any(self._keep(c) for c in node.children.values())

    def _rebuild(self) -> None:
        self.clear()
        if self.source is None:
            self.root.add_leaf(Text("nothing to show", style="dim italic"))
            return
        budget = [MAX_NODES]
        self._fill(self.root, self.source, budget, depth=0)
        if not self.root.children:
            empty = "no matching paths" if self.filter_text or self.changes_only else "no changes"
            self.root.add_leaf(Text(empty, style="dim italic"))
        if budget[0] <= 0:
            self.root.add_leaf(Text(f"… more than {MAX_NODES} paths: filter to narrow it down", style="dim"))
        self.root.expand()

    def _fill(self, parent: TreeNode[FileNode], node: FileNode, budget: list[int], depth: int) -> None:
        theme = self.app.theme_variables
        for child in node.sorted_children():
            if budget[0] <= 0:
                return
            if not self._keep(child):
                continue
            budget[0] -= 1
            label = self._label(child, theme)
            if child.is_dir and child.children:
                branch = parent.add(label, data=child)
                self._fill(branch, child, budget, depth + 1)
                if self.filter_text or (child.kind != UNMODIFIED and depth < 2):
                    branch.expand()
            else:
                parent.add_leaf(label, data=child)

    @staticmethod
    def _label(node: FileNode, theme: dict[str, str]) -> Text:
        style = theme.get(_COLOUR.get(node.kind, ""), "") if node.kind != UNMODIFIED else ""
        name = node.name + ("/" if node.is_dir else "")
        size = human_size(node.total()) if (node.size or node.children) and node.kind != REMOVED else ""
        return Text.assemble(
            (f"{_MARK[node.kind]} ", style or "dim"),
            (name + ("  " if size else ""), f"{style} bold" if node.is_dir else style),
            (size, "dim"),
        )
