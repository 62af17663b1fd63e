"""The help screen: every key binding (with the user's remappings), generated from the key table."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown, Static

from .. import keymap

INTRO = """\
# dockyard keys

Lists: **space** marks rows, then **x** / **d** act on every marked row. **enter** on an image opens Run.
**ctrl+p** opens the command palette with every action, themes included.
Keys can be changed in `~/.config/dockyard/config.toml` (or `$DOCKYARD_CONFIG`), table `[keys]`, by id.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark", "close", "Close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical { width: 90; max-width: 100%; height: 90%; border: thick $primary; background: $surface; }
    HelpScreen #help-hint { height: 1; color: $text-muted; padding: 0 1; }
    """

    def __init__(self, overrides: dict[str, str]) -> None:
        super().__init__()
        self.overrides = overrides

    def compose(self) -> ComposeResult:
        with Vertical():
            with VerticalScroll():
                yield Markdown(INTRO + "\n" + keymap.markdown(self.overrides), id="help-text")
            yield Static("escape / q / ?: close", id="help-hint")

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()

    def action_close(self) -> None:
        self.dismiss(None)
