"""The Stats tab: live CPU and memory of the selected container as graphs over the last minutes (a y axis with
values and units, an x axis with time), its network and block I/O as sparklines, and every running container
summarised in ``docker stats`` columns."""

from __future__ import annotations

import time
from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Label, Sparkline, Static

from engine import STATS_COLUMNS
from engine.humanize import format_bytes_binary, format_bytes_decimal, format_percent

from ..stats_history import StatsHistory, small_move
from .in_place import InPlaceTable
from .time_chart import TimeChart

SETTLE = 5.0  # seconds a small move in another container's row of the table may wait before it is drawn
_CHARTS = (("cpu", "CPU %", "percent"), ("mem", "Memory", "bytes"))
_METRICS = (
    ("net_rx", "Net in/s"),
    ("net_tx", "Net out/s"),
    ("blk_read", "Read/s"),
    ("blk_write", "Write/s"),
)


class StatsView(VerticalScroll):
    DEFAULT_CSS = """
    StatsView { height: 1fr; padding: 0 1; }
    StatsView > #stats-title { height: 1; text-style: bold; }
    StatsView .chart-head { height: 1; margin-top: 1; }
    StatsView .chart-head > Label.name { width: auto; color: $text-muted; margin-right: 2; }
    StatsView .chart-head > Label.value { width: 1fr; }
    StatsView > TimeChart { margin-right: 1; }
    StatsView .metric { height: 2; }
    StatsView .metric > Label.name { width: 10; color: $text-muted; }
    StatsView .metric > Sparkline { width: 1fr; height: 2; }
    StatsView .metric > Label.value { width: 11; text-align: right; }
    StatsView > #stats-all { height: auto; max-height: 12; margin-top: 1; }
    """

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.container_id: str | None = None
        self.container_name = ""
        self._said: dict[str, str] = {}  # what each label shows
        self._all_rows: dict[str, tuple[str, ...]] = {}  # the table of every container: id -> cells shown
        self._figures: dict[str, tuple[float, int]] = {}  # the CPU % and memory each of its rows shows
        self._settled_at = 0.0  # when its rows' small moves were last drawn (time.monotonic)

    def compose(self) -> ComposeResult:
        yield Static("No running container selected.", id="stats-title")
        for key, label, kind in _CHARTS:
            with Horizontal(classes="chart-head"):
                yield Label(label, classes="name")
                yield Label("", classes="value", id=f"value-{key}")
            yield TimeChart(kind, id=f"chart-{key}")
        for key, label in _METRICS:
            with Horizontal(classes="metric", id=f"m-{key}"):
                yield Label(label, classes="name")
                yield Sparkline([], id=f"spark-{key}", summary_function=max)
                yield Label("", classes="value", id=f"value-{key}")
        yield InPlaceTable(id="stats-all", cursor_type="none", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one("#stats-all", DataTable)
        for col in STATS_COLUMNS[1:]:
            table.add_column(col, key=col)

    def select(self, container_id: str | None, name: str = "") -> None:
        self.container_id = container_id
        self.container_name = name

    def show(self, history: StatsHistory) -> None:
        latest = history.latest.get(self.container_id or "")
        series = history.get(self.container_id or "")
        if latest is None or series is None:
            self._say(
                "#stats-title",
                f"{self.container_name or 'This container'} is not running."
                if self.container_id
                else "No running container selected.",
            )
        else:
            self._say(
                "#stats-title",
                f"{latest.name} · {format_percent(latest.cpu_percent)} CPU · "
                f"{format_bytes_binary(latest.memory_usage)} / {format_bytes_binary(latest.memory_limit)} · "
                f"{latest.pids} PIDs",
            )
        for key, _label, _kind in _CHARTS:
            chart = self.query_one(f"#chart-{key}", TimeChart)
            values = list(getattr(series, key)) if series else []
            chart.set_data(list(series.times) if series else [], values, now=time.monotonic())
            text = ""
            if values and key == "cpu":
                text = format_percent(values[-1])
            elif values and latest is not None:
                text = f"{format_bytes_binary(values[-1])} of {format_bytes_binary(latest.memory_limit)}"
            self._say(f"#value-{key}", text)
        for key, _label in _METRICS:
            data = list(getattr(series, key)) if series else []
            spark = self.query_one(f"#spark-{key}", Sparkline)
            if any(data) or any(spark.data or ()):  # a line of zeros is drawn once, not every second
                spark.data = data[-200:]
            self._say(f"#value-{key}", format_bytes_decimal(data[-1]) if data else "")
        self._show_all(sorted(history.latest.values(), key=lambda r: r.name))

    def _say(self, selector: str, text: str) -> None:
        """A label's text, redrawn only when it changed and never laid out again (each has its size from
        the CSS): the tab is redrawn every second, and a layout of the screen for each label cost more than
        the rest of it."""
        if self._said.get(selector) != text:
            self._said[selector] = text
            self.query_one(selector, Static).update(text, layout=False)

    def _show_all(self, records: list[Any]) -> None:
        """The table of every running container: the cells that changed are updated in place; the rows are
        made anew only when the containers listed changed. The selected container's row follows each
        reading; another row whose CPU % and memory moved only a little waits up to ``SETTLE`` seconds."""
        table = self.query_one("#stats-all", DataTable)
        settle = time.monotonic()
        flush = settle - self._settled_at >= SETTLE
        if flush:
            self._settled_at = settle
        if [r.id for r in records] != list(self._all_rows):
            table.clear()
            self._all_rows, self._figures = {}, {}
            for r in records:
                cells = r.display()[1:]
                table.add_row(*cells, key=r.id)
                self._all_rows[r.id] = cells
                self._figures[r.id] = (r.cpu_percent, r.memory_usage)
            return
        columns = STATS_COLUMNS[1:]
        for r in records:
            if not flush and r.id != self.container_id and small_move(self._figures.get(r.id), r):
                continue
            cells = r.display()[1:]
            for column, old, new in zip(columns, self._all_rows[r.id], cells, strict=False):
                if old != new:
                    table.update_cell(r.id, column, new)
            self._all_rows[r.id] = cells
            self._figures[r.id] = (r.cpu_percent, r.memory_usage)
