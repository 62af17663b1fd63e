"""The Containers pane: name, short ID, image, status in Docker's words, live CPU % and memory, ports.

The figures of the rows on screen come every two seconds (four while none moves); a move of less than a
point of CPU or a MiB of memory is drawn within ten seconds rather than at once (with a hundred idle containers, their
figures' flicker redrawn every two seconds was most of what the idle app did)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, ClassVar

from rich.text import Text
from textual.binding import BindingType

from engine import Container, StatsRecord
from engine.humanize import format_bytes_binary, format_percent

from .. import keymap
from ..formatting import ports_text, status_cell
from ..messages import ContainerSelected
from ..stats_history import small_move
from .resource_table import ResourceTable

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..engines import SetView

SETTLE = 10.0  # seconds a small move of a row's CPU % or memory may wait before it is drawn


class ContainersTable(ResourceTable):
    BINDINGS: ClassVar[list[BindingType]] = keymap.bindings("containers")
    COLUMNS: ClassVar = (
        ("engine", "ENGINE", None),  # the row's engine when several are shown side by side, else hidden
        ("name", "NAME", None),
        ("status", "STATUS", None),
        ("cpu", "CPU %", 7),
        ("mem", "MEM", 7),
        ("id", "ID", 12),
        ("image", "IMAGE", None),
        ("ports", "PORTS", None),
    )
    SHRINK: ClassVar = {"image": 10, "ports": 9, "name": 12}
    DROP: ClassVar = ("id", "image", "ports", "mem", "cpu")
    CELLS_OF_RECORD: ClassVar = True  # the figures, the clock and "Stopping…" are redrawn where they change

    def __init__(self, clock: Callable[[], float] = time.time, **kw: Any) -> None:
        super().__init__(**kw)
        self.clock = clock
        self.stats: dict[str, StatsRecord] = {}
        self.pending: dict[str, str] = {}  # container id -> what the app is doing to it ("Stopping…")
        self._shown: dict[tuple[str, str], str] = {}  # what each live cell shows now
        self._figures: dict[str, tuple[float, int]] = {}  # the CPU % and memory each row shows
        self._highlighted: str | None = None  # the container the cursor was last on
        self._settled_at = 0.0  # when small moves of the figures were last drawn (time.monotonic)
        self.border_title = "[1] Containers"
        self.view: SetView | None = None  # the engines side by side (app/tui/engines.py), None: one engine
        self._view_changed = False
        self.hidden = {"engine"}

    def row_cells(self, c: Container) -> list[Any]:
        s = self.stats.get(c.id) if c.status in ("running", "paused") else None
        cpu = format_percent(s.cpu_percent) if s else ""
        mem = format_bytes_binary(s.memory_usage, 3) if s else ""
        if s:
            self._figures[c.id] = (s.cpu_percent, s.memory_usage)
        self._shown[(c.id, "cpu")], self._shown[(c.id, "mem")] = cpu, mem
        status = self._status(c, self.clock())
        self._shown[(c.id, "status")] = self._aged[(c.id, "status")] = status.plain
        down = self._down(c.id)
        return [
            self._badge(c.id),
            Text(c.name, style="dim" if down else "bold" if c.running else ""),
            status,
            Text(cpu, justify="right"),
            Text(mem, justify="right"),
            c.short_id,
            c.image,
            ports_text(c.ports),
        ]

    def set_view(self, view: SetView | None) -> None:
        """The engines shown side by side (None: one): the ENGINE column shows with two or more, and the
        rows of an engine that does not answer say so."""
        was, self.view = self.view, view
        hidden = set() if view is not None else {"engine"}
        if hidden != self.hidden or (was.down if was else {}) != (view.down if view else {}):
            self.hidden = hidden
            self._view_changed = True

    def show(self, records: Any) -> None:
        super().show(records)
        if self._view_changed:
            self._view_changed = False
            self._rebuild(self.current_id)

    def cells_depend_on(self) -> Any:
        return (super().cells_depend_on(), self.view)  # the rows' engine marks and unreachable ones

    def engine_name(self, cid: str) -> str:
        """The context name of the row's engine ("" with one engine)."""
        return self.view.owner.get(cid, "") if self.view is not None else ""

    def _down(self, cid: str) -> str | None:
        view = self.view
        return view.down.get(view.owner.get(cid, "")) if view is not None else None

    def _badge(self, cid: str) -> Text:
        name = self.engine_name(cid)
        if not name or self.view is None:
            return Text("")
        colours = ("cyan", "magenta", "green", "yellow", "blue", "red")
        index = self.view.names.index(name) if name in self.view.names else 0
        return Text(name, style="dim" if self._down(cid) else f"bold {colours[index % len(colours)]}")

    def _status(self, c: Container, now: float) -> Text:
        if self._down(c.id) is not None:
            return Text("unreachable", style="dim italic")
        doing = self.pending.get(c.id)
        if doing:
            return Text(f"◌ {doing}", style=f"italic {self.app.theme_variables.get('warning', '')}".strip())
        return status_cell(c, now, self.app.theme_variables)

    def set_pending(self, cid: str, doing: str | None) -> None:
        """Show ``doing`` ("Stopping…") in the row's STATUS while the engine works on it; None ends it."""
        if doing:
            self.pending[cid] = doing
        else:
            self.pending.pop(cid, None)
        c = self.records.get(cid)
        if c is not None:
            self.refresh_ages(self.clock())

    def aged_cells(self, c: Container, now: float) -> dict[str, Any]:
        return {"status": self._status(c, now)}

    def refresh_ages(self, now: float) -> int:
        redrawn = super().refresh_ages(now)
        for rid in self._on_screen():  # only those rows were aged
            aged = self._aged.get((rid, "status"))
            if aged is not None:
                self._shown[(rid, "status")] = aged
        return redrawn

    def row_text(self, c: Container) -> str:
        return f"{self.engine_name(c.id)} {c.name} {c.id} {c.image} {c.status_text(self.clock())} {ports_text(c.ports)}"

    def update_stats(self, records: list[StatsRecord]) -> None:
        """New figures from the sampler: only cells whose text changed are redrawn (idle stays idle). A
        figure that moved a little (an idle container's 0.00% / 0.07%, a few KiB of memory) waits until
        ``SETTLE`` seconds have passed since such small moves were last drawn; a real move shows at once."""
        # the feed reads only the rows on screen: the others keep their last figures while they run
        kept = {cid: r for cid, r in self.stats.items() if cid in self.records and self.records[cid].running}
        self.stats = kept | {r.id: r for r in records}
        if records and self.dropped_empty & {"cpu", "mem"}:
            self._row_cache.clear()  # the rows' cells were made without figures
            self._rebuild(self.current_id)  # the figures have something to show now: make room for them
            return
        now = self.clock()
        settle = time.monotonic()
        flush = settle - self._settled_at >= SETTLE
        if flush:
            self._settled_at = settle
        for r in records:
            c = self.records.get(r.id)
            if c is None:
                continue
            cells: dict[str, Text] = {"status": self._status(c, now)}
            if flush or not small_move(self._figures.get(r.id), r):
                self._figures[r.id] = (r.cpu_percent, r.memory_usage)
                cells["cpu"] = Text(format_percent(r.cpu_percent), justify="right")
                cells["mem"] = Text(format_bytes_binary(r.memory_usage, 3), justify="right")
            for column, text in cells.items():
                if column not in self.shown_columns:
                    continue
                key = (r.id, column)
                if self._shown.get(key) == text.plain:
                    continue
                self._shown[key] = text.plain
                if column == "status":
                    self._aged[key] = text.plain
                if self.note_cell(r.id, column, text):
                    return  # laid out again with every new figure
                try:
                    self.update_cell(r.id, column, text)
                except Exception:
                    continue

    def on_data_table_row_highlighted(self, event: ResourceTable.RowHighlighted) -> None:
        event.stop()
        current = self.current
        cid = current.id if current is not None else None
        if cid is not None and cid == self._highlighted:
            return  # the cursor followed its container to another row (a container came or went above)
        self._highlighted = cid
        self.post_message(ContainerSelected(current, self.has_focus))

    def on_focus(self) -> None:
        self.post_message(ContainerSelected(self.current))
