"""The Events tab: what changed under the engine's root, whichever process changed it (the engine's event
log, as ``dockyard events`` shows it), newest first: time, type, action, the object's name and the rest of
its attributes. ``t`` cycles the type shown; ``/`` filters by text (``type=image`` in the text works too).

The events come from the app's one follower of the log (feeds.EventFeed, through ``EventHistory``); the
table is redrawn only while the tab is on screen, at most ten times a second."""

from __future__ import annotations

import time
from typing import Any, ClassVar, Self

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.timer import Timer
from textual.widgets import DataTable, Static

from .. import keymap
from ..event_history import TYPES, EventHistory, event_details, event_name, matches, parse_filter

MAX_ROWS = 1000  # rows drawn at most (the newest matching)
REDRAW_DELAY = 0.1
COLUMNS = (("time", "TIME"), ("type", "TYPE"), ("action", "ACTION"), ("name", "NAME"), ("details", "DETAILS"))
ACTION_STYLES = {
    "die": "red",
    "kill": "red",
    "oom": "bold red",
    "destroy": "red",
    "delete": "red",
    "untag": "yellow",
    "stop": "yellow",
    "pause": "yellow",
    "start": "green",
    "create": "green",
    "unpause": "green",
    "tag": "green",
}


class EventsTable(DataTable[Any]):
    BINDINGS: ClassVar[list[BindingType]] = keymap.bindings("events")

    def action_cycle_type(self) -> None:
        parent = self.parent
        if isinstance(parent, EventsView):
            parent.cycle_type()


class EventsView(Vertical):
    DEFAULT_CSS = """
    EventsView { height: 1fr; }
    EventsView > #events-title { height: 1; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    EventsView > EventsTable { height: 1fr; }
    """

    def __init__(self, clock: Any = time.time, **kw: Any) -> None:
        super().__init__(**kw)
        self.clock = clock
        self.kind = ""  # the type shown ("" for every type), cycled with t
        self.filter_text = ""
        self.history: EventHistory | None = None
        self._drawn = -1  # the history version on screen
        self._shown = False
        self._timer: Timer | None = None
        self.rows: list[str] = []  # each shown row as one line of text, newest first

    def compose(self) -> ComposeResult:
        yield Static("", id="events-title")
        yield EventsTable(id="events-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.table
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        history = getattr(self.app, "event_history", None)
        if isinstance(history, EventHistory):
            self.history = history
            history.listen(self.changed)
        self._title()

    @property
    def table(self) -> EventsTable:
        return self.query_one(EventsTable)

    def focus(self, scroll_visible: bool = True) -> Self:
        """The focus goes to the table (the filter bar gives it back here when it closes)."""
        self.table.focus(scroll_visible)
        return self

    def on_show(self) -> None:
        self._shown = True
        self.redraw()

    def on_hide(self) -> None:
        self._shown = False

    def changed(self) -> None:
        """The history has new events: redraw soon if the tab is shown (else when it is shown next)."""
        if self._shown and self._timer is None:
            self._timer = self.set_timer(REDRAW_DELAY, self._redraw_soon)

    def _redraw_soon(self) -> None:
        self._timer = None
        self.redraw()

    # -- filtering ---------------------------------------------------------------------------------------------
    def set_filter(self, text: str) -> None:
        self.filter_text = text
        self.redraw(force=True)

    def cycle_type(self) -> None:
        order = ("", *TYPES)
        self.kind = order[(order.index(self.kind) + 1) % len(order)] if self.kind in order else ""
        self.redraw(force=True)

    # -- drawing -----------------------------------------------------------------------------------------------
    def redraw(self, force: bool = False) -> None:
        history = self.history
        if history is None or (history.version == self._drawn and not force):
            self._title()
            return
        self._drawn = history.version
        text_kind, words = parse_filter(self.filter_text)
        kind = text_kind or self.kind
        table = self.table
        current = None
        if table.row_count and table.cursor_row > 0:
            current = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        table.clear()
        self.rows = []
        now = self.clock()
        for e in history.newest_first():
            if len(self.rows) >= MAX_ROWS:
                break
            if not matches(e, kind, words):
                continue
            when = _when(e.time, now)
            name = event_name(e)
            details = event_details(e)
            key = f"{e.time_nano}:{e.type}:{e.action}:{e.id}"
            table.add_row(
                when,
                e.type,
                Text(e.action, style=ACTION_STYLES.get(e.action.split(":")[0], "")),
                Text(name, style="bold"),
                Text(details, style="dim"),
                key=key,
            )
            self.rows.append("  ".join((when, e.type, e.action, name, details)).rstrip())
        if current is not None:
            try:
                table.move_cursor(row=table.get_row_index(current), animate=False)
            except Exception:  # noqa: BLE001 - that event is filtered out now
                table.move_cursor(row=0, animate=False)
        self._title()

    def _title(self) -> None:
        total = len(self.history.events) if self.history else 0
        text_kind, _words = parse_filter(self.filter_text)
        kind = text_kind or self.kind or "all types"
        title = Text.assemble(
            ("Events", "bold"),
            f" · {len(self.rows)} of {total}" if total else " · none yet",
            " · ",
            (kind, "bold"),
            (" (t)", "dim"),
        )
        if self.filter_text:
            title.append(f" · filter: {self.filter_text}")
        title.append(" · newest first", style="dim")
        self.query_one("#events-title", Static).update(title)


def _when(t: float, now: float) -> str:
    """The event's local time; the date too when it is not today's."""
    local = time.localtime(t)
    if time.strftime("%Y-%m-%d", local) == time.strftime("%Y-%m-%d", time.localtime(now)):
        return time.strftime("%H:%M:%S", local)
    return time.strftime("%Y-%m-%d %H:%M:%S", local)
