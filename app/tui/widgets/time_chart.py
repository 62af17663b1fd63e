"""A bar chart of one value over time, with a y axis (values in the value's unit, at "nice" steps) and an x axis
(how long ago, ending at "now"): the Stats tab's CPU and memory graphs.

Each column covers an equal slice of the time span shown (one minute, two, five... whichever first holds the
samples); a column shows the highest sample of its slice, in eighths of a row; a slice with no sample shows
the last value when the next sample is not due yet (the sampler takes one a second), else nothing (the
container was not running)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from rich.text import Text
from textual.widget import Widget

SPANS = (60, 120, 300, 600, 1800, 3600)  # seconds the x axis can cover
TICKS = {60: 15, 120: 30, 300: 60, 600: 120, 1800: 300, 3600: 600}  # seconds between x axis ticks
BLOCKS = " ▁▂▃▄▅▆▇█"
ROWS = 4  # rows of bars: the y axis has a value at the top of each row and 0 on the axis line
GAP = 1.25  # seconds after a sample when the next one is late: the sampler's 1 s, and some slack (at least)

Format = Callable[[float], str]


def nice_step(raw: float) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^k that is at least ``raw``."""
    if raw <= 0:
        return 1.0
    exp = math.floor(math.log10(raw))
    for m in (1.0, 2.0, 2.5, 5.0, 10.0):
        step = m * 10**exp
        if step >= raw * (1 - 1e-9):
            return step
    return 10.0 ** (exp + 1)


def binary_step(raw: float) -> float:
    """The smallest power of two (bytes) that is at least ``raw`` (1 KiB at least)."""
    return float(2 ** max(10, math.ceil(math.log2(raw)))) if raw > 0 else 1024.0


def percent_label(v: float) -> str:
    return f"{v:g}%"


def bytes_label(v: float) -> str:
    if v <= 0:
        return "0B"
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if v >= factor:
            return f"{v / factor:g}{unit}"
    return f"{v:g}B"


def ago_label(seconds: float) -> str:
    s = int(round(seconds))
    if s == 0:
        return "now"
    if s % 60 == 0:
        return f"-{s // 60}m"
    if s < 60:
        return f"-{s}s"
    return f"-{s // 60}m{s % 60:02d}s"


class TimeChart(Widget):
    COMPONENT_CLASSES = {"timechart--bar", "timechart--axis", "timechart--label"}
    DEFAULT_CSS = f"""
    TimeChart {{ height: {ROWS + 2}; width: 1fr; }}
    TimeChart > .timechart--bar {{ color: $primary; }}
    TimeChart > .timechart--axis {{ color: $foreground 40%; }}
    TimeChart > .timechart--label {{ color: $text-muted; }}
    """

    def __init__(self, kind: str = "percent", **kw: Any) -> None:
        """``kind``: "percent" (steps of 1, 2, 2.5, 5 x 10^k, at least 1 %) or "bytes" (powers of two)."""
        super().__init__(**kw)
        self.kind = kind
        self.times: list[float] = []
        self.values: list[float] = []
        self.now = 0.0
        self._drawn: str | None = None  # the chart's text when last refreshed

    def set_data(self, times: Sequence[float], values: Sequence[float], now: float | None = None) -> None:
        n = min(len(times), len(values))
        self.times = list(times)[-n:] if n else []
        self.values = list(values)[-n:] if n else []
        self.now = now if now is not None else (self.times[-1] if self.times else 0.0)
        drawing = self.render().plain if self.content_size.width else None
        if drawing is None or drawing != self._drawn:  # a chart that would look the same is not redrawn
            self._drawn = drawing
            self.refresh()

    # -- the scales ----------------------------------------------------------------------------------------------
    def scale(self) -> tuple[float, Format]:
        """The value at the top of the chart and how axis values are written."""
        top = max(self.values, default=0.0)
        if self.kind == "bytes":
            return binary_step(max(top / ROWS, 1024.0)) * ROWS, bytes_label
        return nice_step(max(top / ROWS, 0.25)) * ROWS, percent_label

    def span(self) -> int:
        if not self.times:
            return SPANS[0]
        age = self.now - self.times[0]
        return next((s for s in SPANS if s >= age), SPANS[-1])

    def columns(self, width: int, span: int) -> list[float | None]:
        """One value per column (None: no sample there), the last column ending at ``now``."""
        per = span / width
        start = self.now - span
        cols: list[float | None] = [None] * width
        for t, v in zip(self.times, self.values, strict=False):
            if t < start - per:
                continue
            i = min(width - 1, max(0, int((t - start) / per)))
            prev = cols[i]
            cols[i] = v if prev is None else max(prev, v)
        # slices narrower than the sampling interval hold the last value (a gap shows only a real pause);
        # the interval is the samples' usual spacing (the app samples less often while nothing moves)
        steps = sorted(b - a for a, b in zip(self.times[-6:], self.times[-5:], strict=False))
        gap = max(GAP, 1.25 * steps[len(steps) // 2]) if steps else GAP
        last_t: float | None = None
        last_v = 0.0
        times = iter(zip(self.times, self.values, strict=False))
        pending = next(times, None)
        for i in range(width):
            begin = start + i * per
            while pending is not None and pending[0] < begin + per:
                last_t, last_v = pending
                pending = next(times, None)
            if cols[i] is None and last_t is not None and begin - last_t < gap and begin <= self.now:
                cols[i] = last_v
        return cols

    # -- drawing -------------------------------------------------------------------------------------------------
    def render(self) -> Text:
        width = self.content_size.width
        top, fmt = self.scale()
        labels = [fmt(top * (ROWS - r) / ROWS) for r in range(ROWS)] + [fmt(0)]
        label_w = max(len(s) for s in labels)
        plot_w = max(1, width - label_w - 2)
        span = self.span()
        cols = self.columns(plot_w, span) if self.times else [None] * plot_w
        bar = self.get_component_rich_style("timechart--bar")
        axis = self.get_component_rich_style("timechart--axis")
        label = self.get_component_rich_style("timechart--label")
        out = Text(no_wrap=True, overflow="crop")
        for r in range(ROWS):
            low = top * (ROWS - 1 - r) / ROWS  # the value at the bottom of this row
            out.append(labels[r].rjust(label_w), label)
            out.append(" ┤", axis)
            cells = []
            for v in cols:
                if v is None or v <= low:
                    cells.append(" ")
                    continue
                eighths = min(8, max(1, round((v - low) / (top / ROWS) * 8)))
                cells.append(BLOCKS[eighths])
            row = "".join(cells)
            bars = row.lstrip(" ")
            out.append(row[: len(row) - len(bars)])  # blank up to the first sample (kept apart from the bars)
            out.append(bars, bar)
            out.append("\n")
        out.append(labels[ROWS].rjust(label_w), label)
        out.append(" └", axis)
        tick = TICKS[span]
        marks = ["─"] * plot_w
        under = [" "] * (plot_w + label_w + 2)
        for ago in range(span, -1, -tick):
            x = min(plot_w - 1, round((span - ago) / span * plot_w))
            if x > 0:  # the corner stands for the first tick
                marks[x] = "┴"
            text = ago_label(ago)
            at = label_w + 2 + x - (len(text) if ago == 0 else len(text) // 2)
            at = max(0, min(at, len(under) - len(text)))
            if all(c == " " for c in under[max(0, at - 1) : at + len(text) + 1]):
                under[at : at + len(text)] = list(text)
        out.append("".join(marks), axis)
        out.append("\n")
        out.append("".join(under).rstrip(), label)
        return out
