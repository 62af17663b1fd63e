"""The help screen: every key binding (with the user's remappings), generated from the key table: a heading per
place the keys work, then one line per binding (its keys, what it does, the id to remap it by)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from .. import keymap

INTRO = (
    "[b]dockyard keys[/b]\n"
    "Lists: [b]space[/b] marks rows, then [b]x[/b] / [b]d[/b] act on every marked row. [b]enter[/b] on an image "
    "opens Run. [b]ctrl+p[/b] opens the command palette with every action, themes included. Keys can be "
    "changed in [b]~/.config/dockyard/config.toml[/b] (or $DOCKYARD_CONFIG), table [b]\\[keys][/b], by id."
)
KEYS_WIDTH = 14  # the column of keys (wider key lists are cut with an ellipsis)
ID_WIDTH = 24


def key_lines(overrides: dict[str, str], greyed: dict[str, str] | None = None) -> Text:
    """The key table as text: each scope's title, then one line per binding; the actions in ``greyed``
    (action -> why) dimmed, with why (what the selected row's engine does not offer)."""
    greyed = greyed or {}
    out = Text(no_wrap=True, overflow="ellipsis")
    first = True
    for scope, title in keymap.SCOPES.items():
        keys = [(k, shown) for k, shown in keymap.effective(overrides) if k.scope == scope]
        if not keys:
            continue
        if not first:
            out.append("\n")
        first = False
        out.append(title, style="bold underline")
        out.append("\n")
        for k, shown in keys:
            display = keymap.display(shown)
            if len(display) > KEYS_WIDTH:
                display = display[: KEYS_WIDTH - 1] + "…"
            out.append("  ")
            out.append(display.ljust(KEYS_WIDTH), style="bold")
            out.append(" ")
            out.append(k.id.ljust(ID_WIDTH), style="dim")
            out.append(" ")
            why = greyed.get(k.action)
            out.append(k.description, style="dim strike" if why else "")
            if why:
                out.append(f"  ({why})", style="dim")
            out.append("\n")
    out.rstrip()
    return out


class KeyLines(Static):
    """The key lines; ``source`` is their plain text."""

    def __init__(self, text: Text, **kw: object) -> None:
        super().__init__(text, **kw)  # type: ignore[arg-type]
        self.text = text

    @property
    def source(self) -> str:
        return self.text.plain


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark", "close", "Close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical { width: 96; max-width: 100%; height: 90%; border: thick $primary; background: $surface; }
    HelpScreen #help-intro { padding: 0 1; margin-bottom: 1; }
    HelpScreen #help-text { padding: 0 1; width: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }
    HelpScreen #help-hint { height: 1; color: $text-muted; padding: 0 1; }
    """

    def __init__(self, overrides: dict[str, str], greyed: dict[str, str] | None = None) -> None:
        super().__init__()
        self.overrides = overrides
        self.greyed = greyed or {}  # action -> why the selected row's engine does not offer it

    def compose(self) -> ComposeResult:
        with Vertical():
            with VerticalScroll():
                yield Static(INTRO, id="help-intro")
                yield KeyLines(key_lines(self.overrides, self.greyed), id="help-text")
            yield Static("escape / q / ?: close", id="help-hint")

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()

    def action_close(self) -> None:
        self.dismiss(None)
