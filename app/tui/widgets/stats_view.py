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

from ..stats_history import StatsHistory
from .time_chart import TimeChart

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
        table: DataTable[str] = DataTable(id="stats-all", cursor_type="none", zebra_stripes=True)
        yield table

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
        title = self.query_one("#stats-title", Static)
        if latest is None or series is None:
            title.update(
                f"{self.container_name or 'This container'} is not running."
                if self.container_id
                else "No running container selected."
            )
        else:
            title.update(
                f"{latest.name} · {format_percent(latest.cpu_percent)} CPU · "
                f"{format_bytes_binary(latest.memory_usage)} / {format_bytes_binary(latest.memory_limit)} · "
                f"{latest.pids} PIDs"
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
            self.query_one(f"#value-{key}", Label).update(text)
        for key, _label in _METRICS:
            data = list(getattr(series, key)) if series else []
            self.query_one(f"#spark-{key}", Sparkline).data = data[-200:]
            self.query_one(f"#value-{key}", Label).update(format_bytes_decimal(data[-1]) if data else "")
        table = self.query_one("#stats-all", DataTable)
        table.clear()
        for r in sorted(history.latest.values(), key=lambda r: r.name):
            table.add_row(*r.display()[1:], key=r.id)
