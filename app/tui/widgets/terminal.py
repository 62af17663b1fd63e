"""One terminal session drawn in a widget: pyte's cells become styled strips, keys go to the container.

Every key (ctrl keys, arrows, function keys, tab) is sent to the session while the widget has focus; only
the app's "leave the terminal" key (``ctrl+]`` by default) and session switching are kept by the app.
The widget's size is the terminal's size: a resize is passed on to the pty.
"""

from __future__ import annotations

from functools import lru_cache

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from ..terminal_session import TerminalSession, key_bytes

_NAMES = {"brown": "yellow", "default": None}


@lru_cache(maxsize=1024)
def _colour(name: str) -> str | None:
    if name in _NAMES:
        return _NAMES[name]
    if name.startswith("bright"):
        return "bright_" + _NAMES.get(name[6:], name[6:])  # type: ignore[operator]
    if len(name) == 6 and all(c in "0123456789abcdefABCDEF" for c in name):
        return "#" + name
    return name


@lru_cache(maxsize=4096)
def _style(
    fg: str, bg: str, bold: bool, italics: bool, underscore: bool, strike: bool, reverse: bool
) -> Style:
    try:
        return Style(
            color=_colour(fg),
            bgcolor=_colour(bg),
            bold=bold or None,
            italic=italics or None,
            underline=underscore or None,
            strike=strike or None,
            reverse=reverse or None,
        )
    except Exception:
        return Style()


class TerminalView(Widget, can_focus=True):
    DEFAULT_CSS = """
    TerminalView { height: 1fr; width: 1fr; background: black; color: white; }
    TerminalView:focus { border: none; }
    """

    class Output(Message, bubble=False):
        pass

    class Ended(Message):
        def __init__(self, view: TerminalView) -> None:
            super().__init__()
            self.view = view

    def __init__(self, session: TerminalSession, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.session = session
        self._pending = False
        session.on_output = self._notify
        session.on_exit = lambda s: self.post_message(self.Ended(self))

    def _notify(self) -> None:  # reader thread: fold bursts into one redraw
        if not self._pending:
            self._pending = True
            self.post_message(self.Output())

    def on_terminal_view_output(self, _message: Output) -> None:
        self._pending = False
        self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        self.session.resize(event.size.height, event.size.width)
        self.refresh()

    def on_mount(self) -> None:
        if self.size.height and self.size.width:
            self.session.resize(self.size.height, self.size.width)

    async def _on_key(self, event: events.Key) -> None:
        data = key_bytes(event.key, event.character, self.session.application_cursor)
        if data:
            event.stop()
            event.prevent_default()
            self.session.write(data)

    def on_paste(self, event: events.Paste) -> None:
        event.stop()
        self.session.write(b"\x1b[200~" + event.text.encode() + b"\x1b[201~")

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def render_line(self, y: int) -> Strip:
        session = self.session
        width = self.size.width
        with session.lock:
            screen = session.screen
            if y >= screen.lines:
                return Strip.blank(width)
            row = screen.buffer[y]
            cursor = screen.cursor
            show_cursor = self.has_focus and not cursor.hidden and cursor.y == y and not session.ended
            segments: list[Segment] = []
            text: list[str] = []
            current: Style | None = None
            for x in range(screen.columns):
                ch = row[x]
                if not ch.data:  # the second cell of a wide character
                    continue
                style = _style(ch.fg, ch.bg, ch.bold, ch.italics, ch.underscore, ch.strikethrough, ch.reverse)
                if show_cursor and x == cursor.x:
                    style = style + Style(reverse=not ch.reverse)
                if style is not current:
                    if text:
                        segments.append(Segment("".join(text), current))
                    text, current = [], style
                text.append(ch.data)
            if text:
                segments.append(Segment("".join(text), current))
        return Strip(segments).crop_extend(0, width, None).apply_style(self.rich_style)
