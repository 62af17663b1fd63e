"""A container's log (or several merged by time), shown toolong-style: only the lines on screen are read,
parsed and drawn.

The widget holds a source (``log_sources``: one ``LogIndex``, line offsets of a log, or a merge of several),
never the text. ``render_line`` asks it for the visible lines and keeps an LRU cache of drawn strips. When
a file grows (``LogIndex.follow`` wakes at most ten times a second) only the new bytes are scanned; while
following, the view stays on the last line. Search runs in a worker over the raw bytes and jumps to the
matching line; matches on screen are highlighted. Wrap and timestamps are toggles.

A filter (``&``) shows only the lines holding a text: a worker scans the log a few MiB at a time and keeps
the numbers of the matching lines (not their text), so the view fills in as the scan goes and goes on with
the lines a followed log gains. Selection mode (``V``) puts a cursor on a line; moving it marks a range
that ``y`` copies to the clipboard (OSC 52, so it works over SSH).
"""

from __future__ import annotations

import re
import threading
import time
from array import array
from collections import OrderedDict
from contextlib import suppress
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events, work
from textual.binding import BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from engine import LogFollower, LogIndex, LogLine

from .. import keymap
from ..formatting import solid
from ..log_sources import LogSource, MergedLog, SingleLog

_CONTROL = {i: None for i in range(32) if i not in (9, 27)} | {127: None}
#: Colours of the merged view's ``name |`` prefixes, one per container, in turn.
PREFIX_COLOURS = (
    "cyan",
    "magenta",
    "green",
    "yellow",
    "bright_blue",
    "bright_red",
    "bright_cyan",
    "bright_green",
)
KEEP = 4  # logs kept open (indexed) after another is shown, so that going back scans only what is new
FIRST_READ = 48 << 20  # bytes counted before a log is first drawn (a big log: its tail; the rest follows)
COUNT_STEP = 8 << 20  # bytes of a big log's rest counted at a time (the view reads lines between steps)


class LogView(ScrollView, can_focus=True):
    """The Logs tab's text area. ``open(index)`` (or ``open(source)``) shows a log; ``close()`` stops
    following it."""

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

    class FilterRequested(Message):
        """The user asked to filter (the pane shows its box, to type what lines must hold)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.source: LogSource | None = None
        self.source_key: object = None
        self.wanted: object = None  # the key of the log shown, or asked for and being opened
        self.followers: list[LogFollower] = []
        self.title = ""
        self.search_text = ""
        self.match_line: int | None = None  # the row of the current search match
        self.search_note = ""
        self.filter_text = ""  # show only the lines holding it ("" shows every line)
        self.last_filter = ""
        self.filter_scanned = 0  # source rows the filter has looked at
        self._matches = array("Q")  # the source rows the filter keeps, in order
        self._filter_token = 0
        self._filter_wake = threading.Event()
        self.selecting = False
        self.mark_from = 0  # selection mode: where the range began, and the cursor (rows of the view)
        self.cursor = 0
        self._kept: OrderedDict[object, SingleLog] = OrderedDict()
        self._strips: OrderedDict[tuple[int, int, int], Strip] = OrderedDict()
        self._lines: OrderedDict[int, LogLine] = OrderedDict()
        self._max_width = 0
        self._rows_key: tuple[object, ...] = ()
        self._rows: list[Strip] = []
        self._style_key = 0

    # -- source ----------------------------------------------------------------------------------------
    @property
    def index(self) -> LogIndex | None:
        """The shown log's index (None for a merged view)."""
        return self.source.index if isinstance(self.source, SingleLog) else None

    def open(
        self, log: LogIndex | LogSource, title: str = "", follow_file: bool = True, key: object = None
    ) -> None:
        """Show ``log``: a ``LogIndex`` (``Containers.log_index``) or a source of ``log_sources``. It is
        scanned in a worker; the tail is on screen as soon as it is counted. A log opened with a ``key`` is
        kept open for a while once another is shown, and ``resume(key)`` shows it again."""
        source = SingleLog(log, title) if isinstance(log, LogIndex) else log
        self.close()
        self.source = source
        self.source_key = self.wanted = key
        self.title = title or source.title
        self._reset_view()
        self._scan(source, follow_file)

    def resume(self, key: object) -> bool:
        """Show the log kept under ``key`` again (only what it gained since is scanned); False if none is."""
        source = self._kept.pop(key, None)
        if source is None:
            return False
        self.open(source, source.title, key=key)
        return True

    def _reset_view(self) -> None:
        self.match_line = None
        self.search_note = ""
        self.selecting = False
        self._forget()
        self._max_width = 0
        self.follow = True
        self._restart_filter()
        self.virtual_size = Size(self.size.width, 0)

    def close(self) -> None:
        for follower in self.followers:
            follower.stop()
        self.followers = []
        source, self.source = self.source, None
        if source is not None:
            if isinstance(source, SingleLog) and self.source_key is not None:
                self._kept[self.source_key] = source
                while len(self._kept) > KEEP:
                    self._kept.popitem(last=False)[1].close()
            else:
                source.close()
        self.source_key = self.wanted = None
        self._filter_token += 1
        self._filter_wake.set()
        self._forget()
        self.virtual_size = Size(0, 0)
        self.refresh()

    def on_unmount(self) -> None:
        self.close()
        for source in self._kept.values():
            source.close()
        self._kept.clear()

    @work(thread=True, exclusive=True, group="log-scan")
    def _scan(self, source: LogSource, follow_file: bool) -> None:
        source.update(budget=FIRST_READ)  # a big log's tail (counted first), and up to FIRST_READ bytes
        self.post_message(LogGrew(source))
        if follow_file and source is self.source:
            self.followers = source.follow(lambda: self._grow(source))
            if source is not self.source:  # closed meanwhile
                for follower in self.followers:
                    follower.stop()
            elif source.pending:
                self._grow(source)
        try:
            while source is self.source and source.counting:
                # the rest of a big log, counted while its tail is on screen; between the steps the index's
                # lock is free for a moment, for the view to read its lines
                self._grow(source, COUNT_STEP)
                time.sleep(0.002)
            if source is self.source and source.pending:
                self._grow(source)
        except (OSError, ValueError):  # closed meanwhile
            return

    def _grow(self, source: LogSource, budget: int = 64 << 20) -> None:
        """Called from a follower's thread: count the appended lines, then let the UI thread redraw. When
        lines come in above those shown (a big log counted after its tail was shown), the view keeps the
        line it showed at its top."""
        if source is not self.source:
            return
        generation, rows = source.generation, source.rows
        top = None
        if not self.follow and rows:
            with suppress(IndexError, OSError):
                top = source.anchor(min(rows - 1, max(0, round(self.scroll_y))))
        source.update(budget=budget)
        self._filter_wake.set()
        reset = source.generation != generation
        if reset or source.rows != rows:
            self.post_message(LogGrew(source, reset=reset, top=top))

    def on_log_grew(self, message: LogGrew) -> None:
        if message.source is not self.source:
            return
        if message.reset:
            self._forget()
        self._sync_size()
        if message.reset and message.top is not None and not self.follow:
            row = self.source.row_of(message.top)
            if row is not None:
                self.match_line = None
                self.scroll_to(y=row, animate=False, immediate=True, force=True)
        self.post_message(self.StatusChanged())

    @property
    def rows(self) -> int:
        """The rows the view has: the source's lines, or those the filter kept."""
        if self.source is None:
            return 0
        return len(self._matches) if self.filter_text else self.source.rows

    def _sync_size(self) -> None:
        width = self.scrollable_content_region.width if self.wrap else max(self._max_width, 1)
        new, old = Size(width, self.rows), self.virtual_size
        height = self.scrollable_content_region.height
        if new.width == old.width and old.height > height and new.height > height:
            # more lines under a scrollbar already shown: the scrollbar and the lines are redrawn, the screen
            # is not laid out again (the virtual size is a layout reactive; a flood would lay it out ten times
            # a second)
            self.set_reactive(LogView.virtual_size, new)
            self._scroll_update(new)
        else:
            self.virtual_size = new
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
        return self.source.rows if self.source else 0

    # -- the filter ----------------------------------------------------------------------------------------
    def set_filter(self, text: str) -> None:
        """Show only the lines holding ``text`` (any case); "" shows them all again."""
        if text:
            self.last_filter = text
        if text == self.filter_text:
            return
        self.filter_text = text
        self.selecting = False
        self.follow = True
        self._forget()
        self.match_line = None
        self.search_note = ""
        self._restart_filter()
        self._sync_size()
        self.post_message(self.StatusChanged())

    def _restart_filter(self) -> None:
        self._filter_token += 1
        self._matches = array("Q")
        self.filter_scanned = 0
        self._filter_wake.set()
        if self.filter_text and self.source is not None:
            self._filter_wake = threading.Event()
            self._filter(self.source, self.filter_text, self._filter_token, self._filter_wake)

    @work(thread=True, group="log-filter")
    def _filter(self, source: LogSource, query: str, token: int, wake: threading.Event) -> None:
        """Scan the source for ``query`` a few MiB at a time, then wait for its new lines, until the filter
        or the source changes (the token moves on)."""
        start, generation = 0, source.generation
        while token == self._filter_token:
            if source.generation != generation:
                start, generation = 0, source.generation
                self.post_message(FilterFound(token, [], 0, reset=True))
            if start < source.rows:
                try:
                    hits, start = source.grep(query, start)
                except (IndexError, OSError, ValueError):  # the log went (closed, rotated away)
                    wake.wait(0.5)
                    continue
                self.post_message(FilterFound(token, hits, start))
                continue
            wake.wait(0.5)
            wake.clear()

    def on_filter_found(self, message: FilterFound) -> None:
        if message.token != self._filter_token:
            return
        if message.reset:
            self._matches = array("Q")
            self._forget()
        self._matches.extend(message.rows)
        self.filter_scanned = message.scanned
        self._sync_size()
        self.post_message(self.StatusChanged())

    def source_row(self, row: int) -> int:
        """The source's row shown at the view's ``row``."""
        return self._matches[row] if self.filter_text else row

    # -- reading -----------------------------------------------------------------------------------------
    def get_line(self, row: int) -> LogLine:
        """The line at the view's ``row`` (with a filter, the row-th line it kept)."""
        n = self.source_row(row)
        cached = self._lines.get(n)
        if cached is not None:
            return cached
        assert self.source is not None
        line = self.source.line(n)
        self._lines[n] = line
        if len(self._lines) > 2000:
            self._lines.popitem(last=False)
        return line

    def _prefix(self, row: int) -> Text | None:
        """A merged view's ``name |`` before each line, in its container's colour."""
        source = self.source
        if not isinstance(source, MergedLog):
            return None
        k = source.origin(self.source_row(row))
        width = max(len(name) for name in source.names)
        colour = PREFIX_COLOURS[source.groups[k] % len(PREFIX_COLOURS)]
        return Text(f"{source.names[k]:<{width}} | ", style=colour)

    def _text(self, row: int, mark: int = 0) -> Text:
        line = self.get_line(row)
        theme = self.app.theme_variables
        body = line.text.translate(_CONTROL)
        text = Text.from_ansi(body) if "\x1b" in body else Text(body)
        text.expand_tabs(8)
        gutter = Text("▍", style=theme.get("log-stderr", "red")) if line.stream == "stderr" else Text(" ")
        parts = [gutter]
        prefix = self._prefix(row)
        if prefix is not None:
            parts.append(prefix)
        if self.timestamps:
            parts.append(Text(f"{line.time[:23].replace('T', ' ')} ", style="dim"))
        parts.append(text)
        if line.cut:
            parts.append(Text(" … (line cut)", style="dim italic"))
        out = Text.assemble(*parts, no_wrap=not self.wrap, end="")
        current = row == self.match_line
        if mark:  # selection mode: the range on the selection colour, the cursor's line stronger
            out.stylize_before(self._mark_style(mark))
        elif current:  # the line of the current match on the panel colour, beneath the matches' own colours
            out.stylize_before(f"on {solid(theme, 'panel')}")
        if self.search_text:
            style = theme.get("log-match", "reverse")
            out.highlight_regex(
                re.compile(re.escape(self.search_text), re.IGNORECASE),
                f"{style} bold underline" if current else style,
            )
        return out

    def plain(self, row: int) -> str:
        """The line at ``row`` as text, as shown (prefix, timestamp), without colours: what a copy gives."""
        line = self.get_line(row)
        body = line.text.translate(_CONTROL)
        text = Text.from_ansi(body).plain if "\x1b" in body else body
        prefix = self._prefix(row)
        stamp = f"{line.time[:23].replace('T', ' ')} " if self.timestamps else ""
        return (prefix.plain if prefix is not None else "") + stamp + text

    def _mark_style(self, mark: int) -> Style:
        return Style(
            bgcolor=solid(self.app.theme_variables, "primary-muted" if mark == 2 else "panel") or None
        )

    def _mark(self, row: int) -> int:
        if not self.selecting:
            return 0
        if row == self.cursor:
            return 2
        return 1 if min(self.mark_from, self.cursor) <= row <= max(self.mark_from, self.cursor) else 0

    def _strip(self, row: int) -> Strip:
        mark = self._mark(row)
        key = (self.source_row(row), self._style_key, mark)
        cached = self._strips.get(key)
        if cached is not None:
            self._strips.move_to_end(key)
            return cached
        segments = list(self._text(row, mark).render(self.app.console))
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

    def watch_show_horizontal_scrollbar(self, show: bool) -> None:
        """A horizontal scrollbar takes a row: while following, the last line moves up above it."""
        if show and self.follow:
            self.call_after_refresh(self._stick)

    # -- drawing -------------------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        style = self.rich_style
        if self.source is None:
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
        if n >= self.rows:
            return Strip.blank(width, style)
        try:
            strip = self._strip(n)
        except (IndexError, OSError):
            return Strip.blank(width, style)
        mark = self._mark(n)  # a selected line is marked across the whole width
        pad = style + self._mark_style(mark) if mark else style
        return strip.crop_extend(scroll_x, scroll_x + width, pad).apply_style(style)

    def _wrapped_rows(self) -> list[Strip]:
        """The rows on screen when lines wrap: from the top line down, or, at the end, from the last line up."""
        region = self.scrollable_content_region
        width, height = max(1, region.width), region.height
        lines = self.rows
        at_end = self.follow or self.scroll_offset.y >= self.max_scroll_y
        marks = (self.selecting, self.mark_from, self.cursor)
        key = (self.scroll_offset.y, width, height, lines, at_end, self._style_key, marks)
        if key == self._rows_key:
            return self._rows
        console = self.app.console
        rows: list[Strip] = []

        def wrapped(n: int) -> list[Strip]:
            text = self._text(n, self._mark(n))
            return [Strip(list(part.render(console))) for part in text.wrap(console, width)]

        try:
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
        except (IndexError, OSError):
            pass
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
        if follow and self.source is not None:
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True, force=True)
        self.post_message(self.StatusChanged())

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        at_end = round(new_value) >= self.max_scroll_y
        if at_end != self.follow and round(old_value) != round(new_value) and not self.selecting:
            self.follow = at_end

    def on_resize(self) -> None:
        self._rows_key = ()
        self._sync_size()

    def on_show(self) -> None:
        self.call_after_refresh(self._stick)

    def on_theme_change(self) -> None:
        self._restyle()

    # -- selection ---------------------------------------------------------------------------------------------
    def action_select(self) -> None:
        """Selection mode on (a cursor on the last line shown, or the first when not following) or off."""
        if self.selecting:
            self.cancel_selection()
            return
        if not self.rows:
            return
        top = round(self.scroll_y)
        height = max(1, self.scrollable_content_region.height)
        at_end = self.follow or top >= self.max_scroll_y
        self.follow = False
        self.selecting = True
        self.cursor = self.mark_from = min(self.rows - 1, top + height - 1 if at_end else top)
        self._rows_key = ()
        self.refresh()
        self.post_message(self.StatusChanged())

    def cancel_selection(self) -> None:
        if self.selecting:
            self.selecting = False
            self._rows_key = ()
            self.refresh()
            self.post_message(self.StatusChanged())

    def _move_cursor(self, row: int, extend: bool = True) -> None:
        self.cursor = max(0, min(self.rows - 1, row))
        if not extend:
            self.mark_from = self.cursor
        height = max(1, self.scrollable_content_region.height)
        top = round(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)
        self._rows_key = ()
        self.refresh()
        self.post_message(self.StatusChanged())

    def selected_rows(self) -> range:
        if not self.selecting:
            return range(0)
        return range(min(self.mark_from, self.cursor), max(self.mark_from, self.cursor) + 1)

    def action_copy_lines(self) -> None:
        """Copy the selected lines to the clipboard (OSC 52) and leave selection mode."""
        rows = self.selected_rows()
        if not rows:
            return
        try:
            text = "\n".join(self.plain(r) for r in rows)
        except (IndexError, OSError):
            self.app.bell()
            return
        self.app.copy_to_clipboard(text)
        n = len(rows)
        self.notify(f"Copied {n} line{'s' if n != 1 else ''}", title="Clipboard")
        self.cancel_selection()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # outside selection mode, y is the app's (copy the container's ID)
        if action == "copy_lines":
            return self.selecting
        return True

    def on_click(self, event: events.Click) -> None:
        """In selection mode a click puts the cursor on the line (shift+click extends the range to it)."""
        if not self.selecting or self.wrap:
            return
        row = round(self.scroll_y) + event.y
        if 0 <= row < self.rows:
            self._move_cursor(row, extend=event.shift)

    # -- actions -----------------------------------------------------------------------------------------------
    def action_scroll_up(self) -> None:
        """Up always pauses following, even when new lines arrive before the scroll lands (they would pull
        the view back to the end)."""
        if self.selecting:
            self._move_cursor(self.cursor - 1)
            return
        self.follow = False
        self.scroll_to(y=max(0, round(self.scroll_y) - 1), animate=False, immediate=True)

    def action_scroll_down(self) -> None:
        if self.selecting:
            self._move_cursor(self.cursor + 1)
            return
        super().action_scroll_down()

    def action_page_up(self) -> None:
        if self.selecting:
            self._move_cursor(self.cursor - self.scrollable_content_region.height)
            return
        self.follow = False
        self.scroll_to(y=max(0, round(self.scroll_y) - self.scrollable_content_region.height), animate=False)

    def action_page_down(self) -> None:
        if self.selecting:
            self._move_cursor(self.cursor + self.scrollable_content_region.height)
            return
        super().action_page_down()

    def action_toggle_follow(self) -> None:
        self.cancel_selection()
        self.follow = not self.follow

    def action_toggle_timestamps(self) -> None:
        self.timestamps = not self.timestamps

    def action_toggle_wrap(self) -> None:
        self.wrap = not self.wrap

    def action_top(self) -> None:
        if self.selecting:
            self._move_cursor(0)
            return
        self.follow = False
        # at once: a scroll left for the next refresh lost to a following scroll queued before it
        self.scroll_to(y=0, animate=False, immediate=True, force=True)

    def action_bottom(self) -> None:
        if self.selecting:
            self._move_cursor(self.rows - 1)
            return
        self.follow = True

    def action_search(self) -> None:
        self.post_message(self.SearchRequested())

    def action_filter_lines(self) -> None:
        self.post_message(self.FilterRequested())

    def action_toggle_filter(self) -> None:
        """The last filter off, or on again."""
        self.set_filter("" if self.filter_text else self.last_filter)

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

    def _search(self, source: LogSource, query: str, start: int, backwards: bool) -> int | None:
        """The view's next (previous) row after (before) ``start`` holding ``query``: a search of the
        source's rows, or, with a filter, of the rows it kept."""
        if not self.filter_text:
            if not backwards and start < 0:
                if source.rows and query.casefold() in source.line(0).text.casefold():
                    return 0
            return source.search(query, max(0, start), backwards)
        matches = self._matches
        folded = query.casefold()
        rows = range(min(start, len(matches)) - 1, -1, -1) if backwards else range(start + 1, len(matches))
        return next((r for r in rows if folded in source.line(matches[r]).text.casefold()), None)

    @work(thread=True, exclusive=True, group="log-search")
    def _find(self, query: str, start: int, backwards: bool) -> None:
        source = self.source
        if source is None:
            return
        try:
            found = self._search(source, query, start, backwards)
            wrapped = False
            if found is None and self.rows:
                found = self._search(source, query, self.rows if backwards else -1, backwards)
                wrapped = found is not None
        except (IndexError, OSError):
            found, wrapped = None, False
        self.post_message(LogFound(query, found, wrapped))

    def on_log_found(self, message: LogFound) -> None:
        if message.query != self.search_text:
            return
        if message.line is None:
            self.search_note = f"no match for “{self.search_text}”"
            self.app.bell()
        else:
            self.search_note = f"match at line {self.source_row(message.line) + 1:,}" + (
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
        source = self.source
        if isinstance(source, MergedLog) and source.cut:
            parts.append(f"{self.line_count:,} lines (the last of each)")
        else:
            parts.append(f"{self.line_count:,} lines")
        if source is not None and source.counting:
            parts.append("counting the earlier lines")
        if self.selecting:
            n = len(self.selected_rows())
            parts.append(f"{n} selected (y: copy, esc: cancel)")
        else:
            parts.append("following" if self.follow else "paused")
        if self.filter_text:
            scanning = ""
            if source is not None and self.filter_scanned < source.rows:
                scanning = f", scanning {self.filter_scanned * 100 // max(1, source.rows)}%"
            parts.append(f"filter “{self.filter_text}”: {len(self._matches):,} shown{scanning}")
        if self.timestamps:
            parts.append("timestamps")
        if self.wrap:
            parts.append("wrap")
        if self.search_note:
            parts.append(self.search_note)
        return " · ".join(parts)


class LogGrew(Message, bubble=False):
    def __init__(self, source: LogSource, reset: bool = False, top: object = None) -> None:
        super().__init__()
        self.source = source
        self.reset = reset
        self.top = top  # where the line at the view's top was before the update (``LogIndex.anchor``)


class FilterFound(Message, bubble=False):
    """A filter's scan went on: the rows it found, and how far it has read."""

    def __init__(self, token: int, rows: list[int], scanned: int, reset: bool = False) -> None:
        super().__init__()
        self.token = token
        self.rows = rows
        self.scanned = scanned
        self.reset = reset


class LogFound(Message, bubble=False):
    def __init__(self, query: str, line: int | None, wrapped: bool = False) -> None:
        super().__init__()
        self.query = query
        self.line = line
        self.wrapped = wrapped
