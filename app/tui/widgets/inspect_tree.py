"""The Inspect tab: a container's or an image's ``inspect`` JSON as a tree whose branches fold."""

from __future__ import annotations

import json
from typing import Any

from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

_OPEN = {"State", "Config", "HostConfig", "NetworkSettings", "RootFS", "GraphDriver"}


class InspectTree(Tree[Any]):
    DEFAULT_CSS = """
    InspectTree { height: 1fr; background: $surface; }
    """

    def __init__(self, **kw: Any) -> None:
        super().__init__("inspect", **kw)
        self.show_root = True
        self.guide_depth = 2

    def show_json(self, title: str, data: Any) -> None:
        self.clear()
        self.root.set_label(Text(title, style="bold"))
        self._add(self.root, data, 0)
        self.root.expand()

    def _add(self, node: TreeNode[Any], value: Any, depth: int) -> None:
        items: list[tuple[str, Any]]
        if isinstance(value, dict):
            items = [(str(k), v) for k, v in value.items()]
        else:
            items = [(f"[{i}]", v) for i, v in enumerate(value)]
        for key, v in items:
            if isinstance(v, dict | list) and v:
                size = f"{{{len(v)}}}" if isinstance(v, dict) else f"[{len(v)}]"
                child = node.add(Text.assemble((key, "bold"), " ", (size, "dim")), data=v)
                self._add(child, v, depth + 1)
                if depth == 0 and key in _OPEN:
                    child.expand()
            else:
                node.add_leaf(Text.assemble((key, "bold"), ": ", _scalar(v)), data=v)


def _scalar(v: Any) -> Text:
    if isinstance(v, str):
        return Text(json.dumps(v, ensure_ascii=False), style="green")
    if isinstance(v, bool) or v is None:
        return Text(json.dumps(v), style="italic magenta")
    if isinstance(v, int | float):
        return Text(str(v), style="cyan")
    return Text(json.dumps(v), style="dim")
