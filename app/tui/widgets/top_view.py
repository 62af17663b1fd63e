"""The Top tab: the selected container's processes as ``dockyard top`` lists them (the engine's ``top``: ps's
columns for the PIDs in the container's cgroup), read again every two seconds while the tab is on screen and
never while it is hidden."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.timer import Timer
from textual.widgets import Static

from .in_place import InPlaceTable

if TYPE_CHECKING:
    from engine import Container, TopResult

EVERY = 2.0  # seconds between readings while the tab is shown
LIVE = ("running", "paused", "restarting")


class TopView(Vertical):
    DEFAULT_CSS = """
    TopView { height: 1fr; }
    TopView > #top-title { height: 1; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    TopView > DataTable { height: 1fr; }
    """

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.container_id: str | None = None
        self.container_name = ""
        self.status = ""
        self.result: TopResult | None = None  # what the table shows
        self.error = ""
        self.readings = 0  # how many times the engine was asked (tests check none while hidden)
        self._timer: Timer | None = None
        self._shown = False
        self._reading = False
        self._said: tuple[str, Any] = ("", "")  # the title line shown (text, style)
        self._rows: list[tuple[str, ...]] = []  # the processes the table shows

    def compose(self) -> ComposeResult:
        yield Static("No container selected.", id="top-title")
        yield InPlaceTable(id="top-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self._timer = self.set_interval(EVERY, self.read, pause=not self._shown)

    @property
    def table(self) -> InPlaceTable:
        return self.query_one("#top-table", InPlaceTable)

    # -- when to read ----------------------------------------------------------------------------------------
    def on_show(self) -> None:
        self._shown = True
        if self._timer is not None:  # else on_mount, still to come, starts it running
            self._timer.resume()
        self.read()

    def on_hide(self) -> None:
        self._shown = False
        if self._timer is not None:
            self._timer.pause()

    def select(self, container: Container | None) -> None:
        """Show ``container``'s processes (read now when it is another container, or when it started)."""
        cid = container.id if container else None
        status = container.status if container else ""
        changed = cid != self.container_id or (status in LIVE) != (self.status in LIVE)
        self.container_id = cid
        self.container_name = container.name if container else ""
        self.status = status
        if changed:
            self.result = None
            self.error = ""
            self.table.clear(columns=True)
            self._rows = []
            self._title()
            self.read()

    def read(self) -> None:
        if not self._shown or self.container_id is None or self._reading:
            return
        if self.status not in LIVE:
            self._title()
            return
        self._reading = True
        self.readings += 1
        cid = self.container_id
        engine = self.app.engine  # type: ignore[attr-defined]

        def work() -> None:
            result, error = None, ""
            try:
                result = engine.containers.top(cid)
            except Exception as e:  # noqa: BLE001 - shown in the tab (it stopped meanwhile, ...)
                error = str(e) or type(e).__name__
            try:
                self.app.call_from_thread(self._read_done, cid, result, error)
            except RuntimeError:  # the app is closing
                pass

        self.run_worker(work, name="top", group="top", thread=True, exit_on_error=False)

    def _read_done(self, cid: str, result: TopResult | None, error: str) -> None:
        self._reading = False
        if cid != self.container_id:
            self.read()
            return
        self.error = error
        if result is not None:
            self.result = result
            self._fill(result)
        self._title()

    # -- what is shown ---------------------------------------------------------------------------------------
    def _title(self) -> None:
        """The title line, redrawn only when it changed and never laid out again (it is one line high)."""
        name = self.container_name
        text: str | Text
        if self.container_id is None:
            text = "No container selected."
        elif self.status not in LIVE:
            text = Text(f"{name} is not running.")
        elif self.error:
            text = Text(f"{name}: {self.error}", style="red")
        elif self.result is None:
            text = Text(f"{name}: reading its processes…")
        else:
            n = len(self.result.processes)
            text = Text.assemble(
                (name, "bold"),
                f" · {n} process{'es' if n != 1 else ''}",
                (f" · every {EVERY:g} s while shown", "dim"),
            )
        said = (str(text), text.style if isinstance(text, Text) else "")
        if said != self._said:
            self._said = said
            self.query_one("#top-title", Static).update(text, layout=False)

    def _fill(self, result: TopResult) -> None:
        """The processes into the table: nothing is redrawn when they are the same as at the last reading;
        with as many processes as before and no column to widen only the cells that changed are; else the
        rows are put in anew. Each column is given its width here, from its title and cells (never left to
        the table's measuring when idle, which a busy app may not reach before the next reading)."""
        table = self.table
        titles = list(result.titles)
        rows = [tuple(p) for p in result.processes]
        if [str(c.label) for c in table.columns.values()] != titles:
            table.clear(columns=True)
            for t in titles:
                table.add_column(t, key=t)
            self._rows = []
        if rows == self._rows:
            return
        columns = list(table.columns.values())
        wider = False
        for i, col in enumerate(columns):
            need = max([cell_len(titles[i])] + [cell_len(r[i]) for r in rows if i < len(r)])
            if need > col.content_width:
                col.content_width = need
                wider = True
        if not wider and len(rows) == len(self._rows) and table.row_count == len(rows):
            for i, (old, new) in enumerate(zip(self._rows, rows, strict=True)):
                for column, (was, now) in enumerate(zip(old, new, strict=False)):
                    if was != now:
                        table.update_cell(str(i), titles[column], now)
            self._rows = rows
            return
        row = table.cursor_row
        table.replace_rows([(str(i), list(proc)) for i, proc in enumerate(rows)])
        self._rows = rows
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1), animate=False)

    def lines(self) -> list[str]:
        """The processes as shown, one line each (the columns joined by spaces)."""
        if self.result is None:
            return []
        return ["  ".join(p) for p in self.result.processes]
