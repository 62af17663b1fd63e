"""Switch to another context (Docker's contexts: ``dockyard context ls``): the engine the app shows. Space
marks several: their engines are shown side by side (app/tui/engines.py)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ..forms import FormError
from .base import Dialog


class ContextPicker(Dialog[list[str]]):
    """``contexts``: (name, description, endpoint) of each; ``current`` is marked and highlighted. The answer
    is the marked contexts (space marks one), or the highlighted one when none is marked; ``shown``: the
    contexts shown side by side now (marked at first)."""

    OK_LABEL = "Open"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "mark", "Mark to show side by side", show=False),
    ]

    def __init__(
        self, contexts: list[tuple[str, str, str]], current: str, shown: list[str] | None = None
    ) -> None:
        super().__init__()
        self.contexts = contexts
        self.current = current
        self.marked: list[str] = [n for n in shown or [] if len(shown or []) > 1]
        self.TITLE_TEXT = "Open another context"

    def fields(self) -> ComposeResult:
        yield Static(
            "[dim]The app reopens on the chosen context's engine; space marks several to show side by side. "
            "Make more with[/] dockyard context create"
        )
        yield OptionList(
            *[Option(self._prompt(i), id=c[0]) for i, c in enumerate(self.contexts)], id="contexts"
        )

    def _prompt(self, index: int) -> Text:
        names = [f"{name} *" if name == self.current else name for name, _, _ in self.contexts]
        width = max(len(n) for n in names) + 2
        ends = max(len(endpoint) for _, _, endpoint in self.contexts) + 2
        name, description, endpoint = self.contexts[index]
        mark = "● " if name in self.marked else "  "
        return Text.assemble(
            (mark, "bold"), (names[index].ljust(width), "bold"), endpoint.ljust(ends), (description, "dim")
        )

    def action_mark(self) -> None:
        ol = self.query_one("#contexts", OptionList)
        if ol.highlighted is None:
            return
        name = self.contexts[ol.highlighted][0]
        if name in self.marked:
            self.marked.remove(name)
        else:
            self.marked.append(name)
        ol.replace_option_prompt_at_index(ol.highlighted, self._prompt(ol.highlighted))

    def on_mount(self) -> None:
        ol = self.query_one("#contexts", OptionList)
        names = [name for name, _, _ in self.contexts]
        if self.current in names:
            ol.highlighted = names.index(self.current)
        elif self.marked and self.marked[0] in names:  # several shown: the first of them
            ol.highlighted = names.index(self.marked[0])
        ol.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.submit()

    def result(self) -> list[str]:
        if self.marked:
            order = [name for name, _, _ in self.contexts]
            return sorted(self.marked, key=order.index)
        ol = self.query_one("#contexts", OptionList)
        if ol.highlighted is None:
            raise FormError("choose a context")
        return [str(ol.get_option_at_index(ol.highlighted).id)]
