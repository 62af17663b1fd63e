"""Disk usage (``system df -v``): what images, containers, local volumes and the build cache take, and what
pruning would give back; then each of them, one table per kind. Read in a worker; ``r`` reads it again."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Label, Static

from engine import DiskUsage
from engine.humanize import ago, human_size

from .base import Dialog


def summary_rows(du: DiskUsage) -> list[tuple[str, int, int, int, int]]:
    """(type, total, active, size, reclaimable) as ``system df`` lists them."""
    return [
        ("Images", du.images, du.images_active, du.images_size, du.images_reclaimable),
        ("Containers", du.containers, du.containers_active, du.containers_size, du.containers_reclaimable),
        ("Local Volumes", du.volumes, du.volumes_active, du.volumes_size, du.volumes_reclaimable),
        (
            "Build Cache",
            du.build_cache,
            du.build_cache_active,
            du.build_cache_size,
            du.build_cache_reclaimable,
        ),
    ]


def reclaim_text(part: int, total: int) -> str:
    return f"{human_size(part)} ({(100 * part // total) if total else 0}%)"


class DiskUsageDialog(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close", show=False),
        Binding("r", "reload", "Reload", show=False),
    ]
    DEFAULT_CSS = (
        Dialog.DEFAULT_CSS.replace("Dialog", "DiskUsageDialog")
        + """
    DiskUsageDialog > #dialog { width: 110; height: 90%; }
    DiskUsageDialog #dialog-body { max-height: 100%; height: 1fr; }
    DiskUsageDialog DataTable { height: auto; max-height: 14; margin-bottom: 1; }
    DiskUsageDialog .heading { text-style: bold; color: $text-muted; height: 1; }
    DiskUsageDialog #df-status { color: $text-muted; height: auto; }
    """
    )

    def __init__(self, read: Callable[[], DiskUsage], clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.read = read
        self.clock = clock
        self.usage: DiskUsage | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Disk usage", id="dialog-title")
            with VerticalScroll(id="dialog-body"):
                yield DataTable(id="df-summary", cursor_type="none", zebra_stripes=False)
                for kind, title in (
                    ("images", "Images space usage"),
                    ("containers", "Containers space usage"),
                    ("volumes", "Local Volumes space usage"),
                    ("cache", "Build cache usage"),
                ):
                    yield Static(title, classes="heading")
                    yield DataTable(id=f"df-{kind}", cursor_type="row", zebra_stripes=False)
            yield Static("Reading…", id="df-status")
            with Horizontal(id="dialog-buttons"):
                yield Button("Reload", id="reload", compact=True)
                yield Button("Close", id="cancel", variant="primary", compact=True)

    def on_mount(self) -> None:
        self._columns("df-summary", "TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE")
        self._columns(
            "df-images", "REPOSITORY", "TAG", "IMAGE ID", "SIZE", "SHARED SIZE", "UNIQUE SIZE", "CONTAINERS"
        )
        self._columns("df-containers", "CONTAINER ID", "IMAGE", "SIZE", "STATUS", "NAMES")
        self._columns("df-volumes", "VOLUME NAME", "LINKS", "SIZE")
        self._columns(
            "df-cache",
            "CACHE ID",
            "CACHE TYPE",
            "SIZE",
            "CREATED",
            "LAST USED",
            "SHARED",
            "IN USE",
            "DESCRIPTION",
        )
        self.query_one("#df-summary").focus()
        self.action_reload()

    def _columns(self, table_id: str, *labels: str) -> None:
        table = self.query_one(f"#{table_id}", DataTable)
        for label in labels:
            table.add_column(label, key=label)

    def action_reload(self) -> None:
        self.query_one("#df-status", Static).update("Reading…")
        self._read()

    @work(thread=True, exclusive=True, group="disk-usage")
    def _read(self) -> None:
        try:
            du = self.read()
        except Exception as e:  # noqa: BLE001 - shown in the dialog, never raised into the UI
            self.app.call_from_thread(self._failed, str(e) or type(e).__name__)
            return
        self.app.call_from_thread(self.show, du)

    def _failed(self, error: str) -> None:
        self.query_one("#df-status", Static).update(Text(error, style="red"))

    def show(self, du: DiskUsage) -> None:
        self.usage = du
        right = {"justify": "right"}
        summary = self.query_one("#df-summary", DataTable)
        summary.clear()
        for kind, total, active, size, reclaim in summary_rows(du):
            summary.add_row(
                kind,
                Text(str(total), **right),  # type: ignore[arg-type]
                Text(str(active), **right),  # type: ignore[arg-type]
                Text(human_size(size), **right),  # type: ignore[arg-type]
                Text(reclaim_text(reclaim, size), **right),  # type: ignore[arg-type]
                key=kind,
            )
        d = du.details
        self._fill(
            "df-images",
            [
                (r["repository"], r["tag"], r["id"][7:19], human_size(r["size"]), human_size(r["shared"]),
                 human_size(r["unique"]), str(r["containers"]))
                for r in d.get("images", [])
            ],
        )  # fmt: skip
        self._fill(
            "df-containers",
            [
                (r["id"][:12], r["image"], human_size(r["size"]), r["status"], r["name"])
                for r in d.get("containers", [])
            ],
        )
        self._fill(
            "df-volumes", [(r["name"], str(r["links"]), human_size(r["size"])) for r in d.get("volumes", [])]
        )
        now = self.clock()
        self._fill(
            "df-cache",
            [
                (r["id"], r["type"], human_size(r["size"]), ago(r["created"], now), ago(r["last_used"], now),
                 "true" if r["shared"] else "false", "true" if r["in_use"] else "false", r["description"])
                for r in d.get("build_cache", [])
            ],
        )  # fmt: skip
        self.query_one("#df-status", Static).update(
            f"Read at {time.strftime('%H:%M:%S', time.localtime(now))} · r: read again · escape: close"
        )

    def _fill(self, table_id: str, rows: list[tuple[str, ...]]) -> None:
        table = self.query_one(f"#{table_id}", DataTable)
        table.clear()
        for row in rows:
            table.add_row(*row)
        if not rows:
            table.add_row(Text("none", style="dim"))

    def table_text(self, table_id: str) -> list[list[str]]:
        """What a table shows, cell by cell (tests read it)."""
        table = self.query_one(f"#{table_id}", DataTable)
        out = []
        for row_key in table.rows:
            out.append([str(c.plain if isinstance(c, Text) else c) for c in table.get_row(row_key)])
        return out

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "reload":
            self.action_reload()
        else:
            self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
