"""The Volumes list: name, driver, mountpoint, the containers using each volume, size and age."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, ClassVar

from rich.text import Text
from textual.binding import BindingType
from textual.message import Message

from engine.humanize import ago, human_size

from .. import keymap
from .resource_table import ResourceTable


class ResourceSelected(Message):
    """A volume or a network came under the cursor of its list (``kind``: "volume" or "network")."""

    def __init__(self, kind: str, record: Any, focused: bool = True) -> None:
        super().__init__()
        self.kind = kind
        self.record = record
        self.focused = focused


def users_text(names: list[str]) -> str:
    """The containers using something, as a cell: ``web, db`` or ``web +3``."""
    if not names:
        return "-"
    return ", ".join(names) if len(names) <= 2 else f"{names[0]} +{len(names) - 1}"


class SelectingTable(ResourceTable):
    """A list whose cursor tells the screen what is selected (for the Inspect tab)."""

    KIND = ""

    def __init__(self, clock: Callable[[], float] = time.time, **kw: Any) -> None:
        super().__init__(**kw)
        self.clock = clock
        self.users: dict[str, list[str]] = {}  # record id -> names of the containers using it

    def record_id(self, record: Any) -> str:
        return str(record.name)

    def on_data_table_row_highlighted(self, event: ResourceTable.RowHighlighted) -> None:
        event.stop()
        self.post_message(ResourceSelected(self.KIND, self.current, self.has_focus))

    def on_data_table_row_selected(self, event: ResourceTable.RowSelected) -> None:
        event.stop()

    def on_focus(self) -> None:
        self.post_message(ResourceSelected(self.KIND, self.current))


class VolumesTable(SelectingTable):
    KIND = "volume"
    BINDINGS: ClassVar[list[BindingType]] = keymap.bindings("volumes")
    COLUMNS: ClassVar = (
        ("name", "VOLUME NAME", None),
        ("driver", "DRIVER", 6),
        ("users", "USED BY", None),
        ("size", "SIZE", 8),
        ("created", "CREATED", None),
        ("mountpoint", "MOUNTPOINT", None),
    )
    SHRINK: ClassVar = {"mountpoint": 12, "name": 16, "users": 8, "created": 9}
    DROP: ClassVar = ("mountpoint", "created", "driver", "size")

    def row_cells(self, v: Any) -> list[Any]:
        users = self.users.get(v.name, [])
        created = ago(v.created, self.clock()) if v.created else ""
        self._aged[(v.name, "created")] = created
        return [
            Text(v.name, style="bold" if users else ""),
            "local",
            users_text(users),
            Text(human_size(v.size), justify="right"),
            created,
            v.mountpoint,
        ]

    def aged_cells(self, v: Any, now: float) -> dict[str, Any]:
        return {"created": ago(v.created, now) if v.created else ""}

    def row_text(self, v: Any) -> str:
        return f"{v.name} {' '.join(self.users.get(v.name, []))} {v.mountpoint}"
