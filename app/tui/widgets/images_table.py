"""The Images pane: repository:tag, image ID, size, created, and how many containers use each image.

As ``docker images`` lists them: a row per tag, an image with two tags on two rows with the same IMAGE ID
(an untagged image on one row). Each row's record is the image as that tag names it (its ``tags`` hold that
tag alone), so what acts on a row acts on that tag: removing it untags it (the image goes with its last
tag), run and pull use it.
"""

from __future__ import annotations

import copy
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


def tag_rows(images: Sequence[Image]) -> list[Image]:
    """A record per row: each tag of each image (the image with that tag alone), an untagged image once."""
    rows = []
    for im in images:
        if len(im.tags) <= 1:
            rows.append(im)
            continue
        for tag in im.tags:
            row = copy.copy(im)
            row.tags = [tag]
            rows.append(row)
    return rows


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
        self.version_of: dict[str, bool] = {}  # row key -> another version of the row above's repository
        self._first: dict[str, str] = {}  # image ID -> its first tag (its row is keyed by the ID alone)
        self.border_title = "[2] Images"

    def record_id(self, record: Any) -> str:
        """A row's key: the image ID for the row of its first tag (or of an untagged image), so that an image
        keeps its key when it gains a tag; the ID and the tag for the rows of its other tags."""
        if not record.tags or self._first.get(record.id) == record.tags[0]:
            return str(record.id)
        return f"{record.id} {record.tags[0]}"

    def show(self, records: Sequence[Any]) -> None:
        """A row per tag; versions of one repository sit together, newest first; the repository is named
        once."""

        def repo(im: Image) -> str:
            return im.tags[0].rpartition(":")[0] if im.tags else "~"  # untagged images last

        self._first = {im.id: im.tags[0] for im in records if im.tags}
        rows = sorted(
            tag_rows(records), key=lambda im: (repo(im), -parse_time(im.created), repo_tag(im.tags))
        )
        self.version_of = {}
        previous = None
        for im in rows:
            self.version_of[self.record_id(im)] = bool(im.tags) and repo(im) == previous
            previous = repo(im) if im.tags else None
        super().show(rows)

    def row_cells(self, im: Image) -> list[Any]:
        n = self.users.get(im.id, 0)
        name = repo_tag(im.tags)
        if self.version_of.get(self.record_id(im)):
            name = "  └ :" + im.tags[0].rpartition(":")[2]  # another version of the row above
        created = ago(im.created, self.clock())
        self._aged[(self.record_id(im), "created")] = created
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
