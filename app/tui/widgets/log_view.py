"""A container's log, shown toolong-style: only the lines on screen are read, parsed and drawn.

The widget holds the engine's ``LogIndex`` (``Containers.log_index``: line offsets of the log), never the text. ``render_line`` asks the
index for the visible lines and keeps an LRU cache of drawn strips. When the file grows (``LogIndex.follow``
wakes at most ten times a second) only the new bytes are scanned; while following, the view stays on the
last line. Search runs in a worker over the raw bytes and jumps to the matching line; matches on screen are
highlighted. Wrap and timestamps are toggles. A million-line log opens as fast as its bytes can be counted.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import work
from textual.binding import BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from engine import LogFollower, LogIndex, LogLine

from .. import keymap
from ..formatting import solid

_CONTROL = {i: None for i in range(32) if i not in (9, 27)} | {127: None}


class LogView(ScrollView, can_focus=True):
    """The Logs tab's text area. ``open(path)`` shows a log file; ``close()`` stops following it."""

    BINDINGS: ClassVar[list[BindingType]] = keymap.bindings("logs")
    DEFAULT_CSS = """
    LogView { background: $surface; }
    """

    follow: reactive[bool] = reactive(True)
    timestamps: reactive[bool] = reactive(False)
    wrap: reactive[bool] = reactive(False)

    class StatusChanged(Message):
        """Line count, follow state or search result changed (the pane's status line redraws)."""

    class SearchRequested(Message):
        """The user asked to search (the pane shows its search box)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.index: LogIndex | None = None
        self.follower: LogFollower | None = None
        self.title = ""
        self.search_text = ""
        self.match_line: int | None = None
        self.search_note = ""
        self._strips: OrderedDict[tuple[int, int], Strip] = OrderedDict()
        self._lines: OrderedDict[int, LogLine] = OrderedDict()
        self._max_width = 0
        self._rows_key: tuple[object, ...] = ()
        self._rows: list[Strip] = []
        self._style_key = 0

    # -- source ----------------------------------------------------------------------------------------
    def open(self, index: LogIndex, title: str = "", follow_file: bool = True) -> None:
        """Show the log ``index`` reads (``Containers.log_index``; scanned in a worker, the tail is on screen as
        soon as it is counted)."""
        self.close()
        self.title = title
        self.index = index
        self.match_line = None
        self.search_note = ""
        self._forget()
        self._max_width = 0
        self.follow = True
        self.virtual_size = Size(self.size.width, 0)
        self._scan(self.index, follow_file)

    def close(self) -> None:
        if self.follower is not None:
            self.follower.stop()
            self.follower = None
        if self.index is not None:
            self.index.close()
            self.index = None
        self._forget()
        self.virtual_size = Size(0, 0)
        self.refresh()

    def on_unmount(self) -> None:
        self.close()

    @work(thread=True, exclusive=True, group="log-scan")
    def _scan(self, index: LogIndex, follow_file: bool) -> None:
        index.update()
        self.post_message(LogGrew(index))
        if follow_file and index is self.index:
            self.follower = index.follow(lambda: self._grow(index))
            if index.pending:
                self._grow(index)

    def _grow(self, index: LogIndex) -> None:
        """Called from the follower's thread: count the appended lines, then let the UI thread redraw."""
        if index is not self.index:
            return
        generation = index.generation
        index.update(budget=64 << 20)
        if index.generation != generation:
            self.post_message(LogGrew(index, reset=True))
        else:
            self.post_message(LogGrew(index))

    def on_log_grew(self, message: LogGrew) -> None:
        if message.index is not self.index:
            return
        if message.reset:
            self._forget()
        self._sync_size()
        self.post_message(self.StatusChanged())

    def _sync_size(self) -> None:
        lines = self.index.lines if self.index else 0
        width = self.scrollable_content_region.width if self.wrap else max(self._max_width, 1)
        self.virtual_size = Size(width, lines)
        if self.follow:
            self._stick()
            self.call_after_refresh(self._stick)
        self.refresh()

    def _stick(self) -> None:
        """Keep the last line on screen while following (also once the new size is laid out)."""
        if self.follow:
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True, force=True)

    def _forget(self) -> None:
        self._strips.clear()
        self._lines.clear()
        self._rows_key = ()

    @property
    def line_count(self) -> int:
        return self.index.lines if self.index else 0

    # -- reading -----------------------------------------------------------------------------------------
    def get_line(self, n: int) -> LogLine:
        cached = self._lines.get(n)
        if cached is not None:
            return cached
        assert self.index is not None
        line = self.index.line(n)
        self._lines[n] = line
        if len(self._lines) > 2000:
            self._lines.popitem(last=False)
        return line

    def _text(self, n: int) -> Text:
        line = self.get_line(n)
        theme = self.app.theme_variables
        body = line.text.translate(_CONTROL)
        text = Text.from_ansi(body) if "\x1b" in body else Text(body)
        text.expand_tabs(8)
        gutter = Text("▍", style=theme.get("log-stderr", "red")) if line.stream == "stderr" else Text(" ")
        parts = [gutter]
        if self.timestamps:
            parts.append(Text(f"{line.time[:23].replace('T', ' ')} ", style="dim"))
        parts.append(text)
        if line.cut:
            parts.append(Text(" … (line cut)", style="dim italic"))
        out = Text.assemble(*parts, no_wrap=not self.wrap, end="")
        current = n == self.match_line
        if current:  # the line of the current match on the panel colour, beneath the matches' own colours
            out.stylize_before(f"on {solid(theme, 'panel')}")
        if self.search_text:
            style = theme.get("log-match", "reverse")
            out.highlight_regex(
                re.compile(re.escape(self.search_text), re.IGNORECASE),
                f"{style} bold underline" if current else style,
            )
        return out

    def _strip(self, n: int) -> Strip:
        key = (n, self._style_key)
        cached = self._strips.get(key)
        if cached is not None:
            self._strips.move_to_end(key)
            return cached
        segments = list(self._text(n).render(self.app.console))
        strip = Strip(segments)
        self._strips[key] = strip
        if len(self._strips) > 1000:
            self._strips.popitem(last=False)
        if strip.cell_length > self._max_width:
            self._max_width = strip.cell_length
            if not self.wrap:
                self.call_later(self._sync_width)
        return strip

    def _sync_width(self) -> None:
        if self.virtual_size.width < self._max_width:
            self.virtual_size = Size(self._max_width, self.virtual_size.height)

    # -- drawing -------------------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        style = self.rich_style
        if self.index is None:
            if y == 0:
                return Strip([Segment(" No log to show.", style + Style(dim=True))]).extend_cell_length(
                    width, style
                )
            return Strip.blank(width, style)
        if self.wrap:
            rows = self._wrapped_rows()
            strip = rows[y] if y < len(rows) else Strip.blank(width, style)
            return strip.crop_extend(0, width, style).apply_style(style)
        scroll_x, scroll_y = self.scroll_offset
        n = scroll_y + y
        if n >= self.index.lines:
            return Strip.blank(width, style)
        try:
            strip = self._strip(n)
        except (IndexError, OSError):
            return Strip.blank(width, style)
        return strip.crop_extend(scroll_x, scroll_x + width, style).apply_style(style)

    def _wrapped_rows(self) -> list[Strip]:
        """The rows on screen when lines wrap: from the top line down, or, at the end, from the last line up."""
        assert self.index is not None
        region = self.scrollable_content_region
        width, height = max(1, region.width), region.height
        lines = self.index.lines
        at_end = self.follow or self.scroll_offset.y >= self.max_scroll_y
        key = (self.scroll_offset.y, width, height, lines, at_end, self._style_key)
        if key == self._rows_key:
            return self._rows
        console = self.app.console
        rows: list[Strip] = []

        def wrapped(n: int) -> list[Strip]:
            return [Strip(list(part.render(console))) for part in self._text(n).wrap(console, width)]

        if at_end:
            n = lines - 1
            while n >= 0 and len(rows) < height:
                rows[:0] = wrapped(n)
                n -= 1
            rows = rows[-height:] if len(rows) > height else rows
        else:
            n = self.scroll_offset.y
            while n < lines and len(rows) < height:
                rows += wrapped(n)
                n += 1
        self._rows_key, self._rows = key, rows
        return rows

    # -- state ----------------------------------------------------------------------------------------------
    def _restyle(self) -> None:
        self._style_key += 1
        self._strips.clear()
        self._rows_key = ()
        self.refresh()
        self.post_message(self.StatusChanged())

    def watch_timestamps(self) -> None:
        self._max_width = 0
        self._restyle()

    def watch_wrap(self, wrap: bool) -> None:
        self.styles.overflow_x = "hidden" if wrap else "auto"
        self._restyle()
        self._sync_size()

    def watch_follow(self, follow: bool) -> None:
        if follow and self.index is not None:
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True, force=True)
        self.post_message(self.StatusChanged())

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        at_end = round(new_value) >= self.max_scroll_y
        if at_end != self.follow and round(old_value) != round(new_value):
            self.follow = at_end

    def on_resize(self) -> None:
        self._rows_key = ()
        self._sync_size()

    def on_show(self) -> None:
        self.call_after_refresh(self._stick)

    def on_theme_change(self) -> None:
        self._restyle()

    # -- actions -----------------------------------------------------------------------------------------------
    def action_scroll_up(self) -> None:
        """Up always pauses following, even when new lines arrive before the scroll lands (they would pull
        the view back to the end)."""
        self.follow = False
        self.scroll_to(y=max(0, round(self.scroll_y) - 1), animate=False, immediate=True)

    def action_page_up(self) -> None:
        self.follow = False
        self.scroll_to(y=max(0, round(self.scroll_y) - self.scrollable_content_region.height), animate=False)

    def action_toggle_follow(self) -> None:
        self.follow = not self.follow

    def action_toggle_timestamps(self) -> None:
        self.timestamps = not self.timestamps

    def action_toggle_wrap(self) -> None:
        self.wrap = not self.wrap

    def action_top(self) -> None:
        self.follow = False
        self.scroll_to(y=0, animate=False)

    def action_bottom(self) -> None:
        self.follow = True

    def action_search(self) -> None:
        self.post_message(self.SearchRequested())

    def set_query(self, query: str) -> None:
        """Highlight ``query`` and jump to its first match below the top line."""
        self.search_text = query
        self.match_line = None
        self._restyle()
        if query:
            self._find(query, max(-1, int(self.scroll_offset.y) - 1), False)

    def action_next_match(self) -> None:
        if self.search_text:
            start = self.match_line if self.match_line is not None else int(self.scroll_offset.y) - 1
            self._find(self.search_text, start, False)

    def action_previous_match(self) -> None:
        if self.search_text:
            start = self.match_line if self.match_line is not None else int(self.scroll_offset.y)
            self._find(self.search_text, start, True)

    @work(thread=True, exclusive=True, group="log-search")
    def _find(self, query: str, start: int, backwards: bool) -> None:
        index = self.index
        if index is None:
            return
        if not backwards and start < 0:
            if index.lines and query.casefold() in index.line(0).text.casefold():
                self.post_message(LogFound(query, 0))
                return
        found = index.search(query, max(0, start), backwards)
        wrapped = False
        if found is None and index.lines:
            found = index.search(query, index.lines if backwards else 0, backwards)
            if found is None and not backwards and query.casefold() in index.line(0).text.casefold():
                found = 0
            wrapped = found is not None
        self.post_message(LogFound(query, found, wrapped))

    def on_log_found(self, message: LogFound) -> None:
        if message.query != self.search_text:
            return
        if message.line is None:
            self.search_note = f"no match for “{self.search_text}”"
            self.app.bell()
        else:
            self.search_note = f"match at line {message.line + 1:,}" + (
                " (wrapped)" if message.wrapped else ""
            )
            self.match_line = message.line
            self.follow = False
            self.scroll_to(
                y=max(0, message.line - self.size.height // 2), animate=False, immediate=True, force=True
            )
            self._restyle()
        self.post_message(self.StatusChanged())

    def status(self) -> str:
        parts = [self.title] if self.title else []
        parts.append(f"{self.line_count:,} lines")
        parts.append("following" if self.follow else "paused")
        if self.timestamps:
            parts.append("timestamps")
        if self.wrap:
            parts.append("wrap")
        if self.search_note:
            parts.append(self.search_note)
        return " · ".join(parts)


class LogGrew(Message, bubble=False):
    def __init__(self, index: LogIndex, reset: bool = False) -> None:
        super().__init__()
        self.index = index
        self.reset = reset


class LogFound(Message, bubble=False):
    def __init__(self, query: str, line: int | None, wrapped: bool = False) -> None:
        super().__init__()
        self.query = query
        self.line = line
        self.wrapped = wrapped
