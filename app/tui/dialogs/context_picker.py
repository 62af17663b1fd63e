"""Switch to another context (Docker's contexts: ``dockyard context ls``): the engine the app shows."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ..forms import FormError
from .base import Dialog


class ContextPicker(Dialog[str]):
    """``contexts``: (name, description, endpoint) of each; ``current`` is marked and highlighted."""

    OK_LABEL = "Open"

    def __init__(self, contexts: list[tuple[str, str, str]], current: str) -> None:
        super().__init__()
        self.contexts = contexts
        self.current = current
        self.TITLE_TEXT = "Open another context"

    def fields(self) -> ComposeResult:
        yield Static(
            "[dim]The app reopens on the chosen context's engine. Make more with[/] dockyard context create"
        )
        from rich.text import Text

        names = [f"{name} *" if name == self.current else name for name, _, _ in self.contexts]
        width = max(len(n) for n in names) + 2
        ends = max(len(endpoint) for _, _, endpoint in self.contexts) + 2
        options = [
            Option(
                Text.assemble((label.ljust(width), "bold"), endpoint.ljust(ends), (description, "dim")),
                id=name,
            )
            for label, (name, description, endpoint) in zip(names, self.contexts, strict=True)
        ]
        yield OptionList(*options, id="contexts")

    def on_mount(self) -> None:
        ol = self.query_one("#contexts", OptionList)
        names = [name for name, _, _ in self.contexts]
        if self.current in names:
            ol.highlighted = names.index(self.current)
        ol.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.submit()

    def result(self) -> str:
        ol = self.query_one("#contexts", OptionList)
        if ol.highlighted is None:
            raise FormError("choose a context")
        return str(ol.get_option_at_index(ol.highlighted).id)
