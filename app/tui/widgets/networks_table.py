"""The Networks list: name, driver, subnet and gateway, internal or not, the containers on each, age."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.binding import BindingType

from engine.humanize import ago

from .. import keymap
from .volumes_table import SelectingTable, users_text

BUILTIN = ("bridge", "host", "none")


class NetworksTable(SelectingTable):
    KIND = "network"
    BINDINGS: ClassVar[list[BindingType]] = keymap.bindings("networks")
    COLUMNS: ClassVar = (
        ("name", "NETWORK", None),
        ("driver", "DRIVER", None),
        ("subnet", "SUBNET", None),
        ("gateway", "GATEWAY", None),
        ("internal", "INTERNAL", 8),
        ("users", "CONTAINERS", None),
        ("created", "CREATED", None),
        ("id", "NETWORK ID", 12),
    )
    SHRINK: ClassVar = {"users": 8, "created": 9, "name": 12}
    DROP: ClassVar = ("id", "gateway", "created", "internal", "driver")

    def row_cells(self, n: Any) -> list[Any]:
        users = self.users.get(n.name, [])
        created = ago(n.created, self.clock()) if n.created else ""
        self._aged[(n.name, "created")] = created
        return [
            Text(n.name, style="bold" if users else ("dim" if n.name in BUILTIN else "")),
            n.driver,
            n.subnet,
            n.gateway,
            "yes" if n.internal else "",
            users_text(users),
            created,
            n.id[:12],
        ]

    def aged_cells(self, n: Any, now: float) -> dict[str, Any]:
        return {"created": ago(n.created, now) if n.created else ""}

    def row_text(self, n: Any) -> str:
        return f"{n.name} {n.driver} {n.subnet} {' '.join(self.users.get(n.name, []))} {n.id}"
