"""The key bar at the bottom: the keys the focused pane offers, as Textual's Footer shows them, drawn as one
line of text.

Textual's Footer makes a widget per key and builds them anew whenever the focus moves (some fifty widgets
styled and laid out on each press of 1, 2 or 3); this bar redraws one line, and only when the keys it
shows changed. A click on a key presses it.
"""

from __future__ import annotations

from typing import Any

from rich.style import Style
from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.widget import Widget


class KeyBar(Widget):
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        background: $footer-background;
        color: $footer-foreground;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._items: tuple[tuple[str, str, str, bool], ...] = ()  # (key, shown key, description, enabled)
        self._palette: tuple[str, str, str] | None = None
        self._spans: list[tuple[int, int, str]] = []  # where each key is drawn: (from, to, key)

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self.call_after_refresh(lambda: self._bindings_changed(self.screen))

    def _bindings_changed(self, screen: Screen[Any]) -> None:
        if not self.is_attached or screen is not self.screen:
            return
        items: list[tuple[str, str, str, bool]] = []
        seen: set[str] = set()
        palette = None
        app = self.app
        greyed_of = getattr(screen, "greyed_actions", None)  # what the selected row's engine does not offer
        greyed: dict[str, str] = greyed_of() if callable(greyed_of) else {}
        for key, (_node, binding, enabled, _tooltip) in screen.active_bindings.items():
            if key == app.COMMAND_PALETTE_BINDING:
                palette = (binding.key, app.get_key_display(binding), binding.description)
                continue
            if (not binding.show and binding.action not in greyed) or binding.action in seen:
                continue
            seen.add(binding.action)
            shown = enabled and binding.action not in greyed  # dimmed: pressing it says why
            items.append((binding.key, app.get_key_display(binding), binding.description, shown))
        new = tuple(items)
        palette = palette if app.ENABLE_COMMAND_PALETTE else None
        if new != self._items or palette != self._palette:
            self._items, self._palette = new, palette
            self.refresh()

    def render(self) -> Text:
        theme = self.app.theme_variables
        key_style = Style.parse(f"bold {theme.get('footer-key-foreground', 'yellow')}")
        text_style = Style.parse(theme.get("footer-description-foreground", "default") or "default")
        width = self.size.width
        palette = Text()
        if self._palette is not None:
            key, shown, description = self._palette
            palette = Text.assemble(("▏", "dim"), (f" {shown} ", key_style), (f"{description} ", text_style))
        room = width - palette.cell_len
        out = Text(no_wrap=True, overflow="crop", end="")
        spans = []
        for key, shown, description, enabled in self._items:
            piece = Text.assemble((f" {shown} ", key_style), (f"{description} ", text_style))
            if not enabled:
                piece.stylize("dim")
            if out.cell_len + piece.cell_len > room:
                out.append_text(piece)
                out.truncate(max(0, room))
                spans.append((out.cell_len - piece.cell_len, out.cell_len, key))
                break
            spans.append((out.cell_len, out.cell_len + piece.cell_len, key))
            out.append_text(piece)
        out.pad_right(max(0, room - out.cell_len))
        if self._palette is not None:
            spans.append((out.cell_len, width, self._palette[0]))
        self._spans = spans
        out.append_text(palette)
        return out

    def on_click(self, event: events.Click) -> None:
        for start, end, key in self._spans:
            if start <= event.x < end:
                self.app.simulate_key(key)
                return
