"""The Progress tab: the last action's steps as Compose reports them, per service (each service's row says
its latest step: ``Creating``, ``Started``, ``Healthy``...), then every line in order, as ``dockyard
compose`` prints them (`` Container shop-web-1  Started``)."""

from __future__ import annotations

import time

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Log, Static

DONE = ("Started", "Created", "Recreated", "Running", "Healthy", "Stopped", "Removed", "Pulled", "Exited")
FAILED = ("Error",)


def _step(action: str) -> Text:
    style = "green" if action.startswith(DONE) else "red" if action in FAILED else "cyan"
    return Text(action, style=style)


class ProjectProgress(Vertical):
    """``begin(title, services)``, then ``step(service, kind, name, action)`` for each progress line, then
    ``end(error)``."""

    DEFAULT_CSS = """
    ProjectProgress { height: 1fr; }
    ProjectProgress > #progress-title { height: 1; background: $panel; padding: 0 1; }
    ProjectProgress > #progress-table { height: auto; max-height: 50%; }
    ProjectProgress > #progress-lines { height: 1fr; border-top: solid $panel-lighten-2; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.title = ""
        self.state = "idle"  # idle | running | done | failed
        self.steps: dict[str, str] = {}  # service ("" for the project's networks and volumes) -> last step
        self.lines: list[str] = []
        self._started = 0.0

    def compose(self) -> ComposeResult:
        yield Static(
            "No action yet: u up, b rebuild, r restart, x stop, D down, + scale, p pull.", id="progress-title"
        )
        yield DataTable(id="progress-table", cursor_type="none", zebra_stripes=False)
        yield Log(id="progress-lines", highlight=False)

    def on_mount(self) -> None:
        table = self.query_one("#progress-table", DataTable)
        table.add_column("SERVICE", key="service")
        table.add_column("STEP", key="step")
        table.add_column("CONTAINER / RESOURCE", key="name")

    def begin(self, title: str, services: list[str]) -> None:
        self.title, self.state = title, "running"
        self.steps = {}
        self.lines = []
        self._started = time.monotonic()
        table = self.query_one("#progress-table", DataTable)
        table.clear()
        for s in services:
            self.steps[s] = "Waiting"
            table.add_row(s, Text("waiting", style="dim"), "", key=s)
        self.query_one("#progress-lines", Log).clear()
        self._title()

    def step(self, service: str, kind: str, name: str, action: str) -> None:
        table = self.query_one("#progress-table", DataTable)
        row = service or "(project)"
        if row not in self.steps:
            table.add_row(row, "", "", key=row)
        self.steps[row] = action
        table.update_cell(row, "step", _step(action))
        table.update_cell(row, "name", f"{kind} {name}")
        line = f" {kind} {name}  {action}"
        self.lines.append(line)
        self.query_one("#progress-lines", Log).write_line(line)

    def end(self, error: str | None = None) -> None:
        self.state = "failed" if error else "done"
        if error:
            self.query_one("#progress-lines", Log).write_line(f"Error: {error}")
        self._title()

    def _title(self) -> None:
        took = time.monotonic() - self._started
        word = {
            "running": "[cyan]running…[/]",
            "done": f"[green]done[/] in {took:.1f}s",
            "failed": "[red]failed[/]",
        }
        self.query_one("#progress-title", Static).update(f"[b]{self.title}[/b]  {word.get(self.state, '')}")
