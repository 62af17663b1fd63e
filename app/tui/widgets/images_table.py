"""The Images pane: repository:tag, short ID, size, created, and how many containers use each image."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual.binding import BindingType

from engine import Image
from engine.humanize import ago, human_size, parse_time

from .. import keymap
from ..formatting import repo_tag
from ..messages import ImageSelected
from .resource_table import ResourceTable


class ImagesTable(ResourceTable):
    BINDINGS: ClassVar[list[BindingType]] = keymap.bindings("images")
    COLUMNS: ClassVar = (
        ("tag", "REPOSITORY:TAG", None),
        ("id", "IMAGE ID", 12),
        ("size", "SIZE", 8),
        ("created", "CREATED", None),
        ("users", "USED BY", 7),
    )
    SHRINK: ClassVar = {"created": 9, "tag": 16}
    DROP: ClassVar = ("users", "id", "created")

    def __init__(self, clock: Callable[[], float] = time.time, **kw: Any) -> None:
        super().__init__(**kw)
        self.clock = clock
        self.users: dict[str, int] = {}
        self.border_title = "[2] Images"

    def show(self, records: Sequence[Any]) -> None:
        """Versions of one repository sit together, newest first; the repository is named once."""

        def repo(im: Image) -> str:
            return im.tags[0].rpartition(":")[0] if im.tags else "~"  # untagged images last

        ordered = sorted(records, key=lambda im: (repo(im), -parse_time(im.created)))
        self.version_of: dict[str, bool] = {}
        previous = None
        for im in ordered:
            self.version_of[im.id] = bool(im.tags) and repo(im) == previous
            previous = repo(im) if im.tags else None
        super().show(ordered)

    def row_cells(self, im: Image) -> list[Any]:
        n = self.users.get(im.id, 0)
        extra = f" +{len(im.tags) - 1}" if len(im.tags) > 1 else ""
        name = repo_tag(im.tags) + extra
        if getattr(self, "version_of", {}).get(im.id):
            name = "  └ :" + im.tags[0].rpartition(":")[2] + extra  # another version of the row above
        created = ago(im.created, self.clock())
        self._aged[(im.id, "created")] = created
        return [
            Text(name, style="bold" if n else ""),
            im.short_id,
            Text(human_size(im.size), justify="right"),
            created,
            Text(str(n) if n else "-", justify="right"),
        ]

    def aged_cells(self, im: Image, now: float) -> dict[str, Any]:
        return {"created": ago(im.created, now)}

    def row_text(self, im: Image) -> str:
        return f"{' '.join(im.tags) or '<none>'} {im.id} {human_size(im.size)}"

    def on_data_table_row_highlighted(self, event: ResourceTable.RowHighlighted) -> None:
        event.stop()
        self.post_message(ImageSelected(self.current, self.has_focus))

    def on_data_table_row_selected(self, event: ResourceTable.RowSelected) -> None:
        event.stop()

    def on_focus(self) -> None:
        self.post_message(ImageSelected(self.current))
