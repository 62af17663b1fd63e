"""Scale a compose service: how many containers it should have (``dockyard compose scale SERVICE=N``)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Input, Static

from ..forms import FormError
from .base import Dialog


class ComposeScaleDialog(Dialog[int]):
    OK_LABEL = "Scale"

    def __init__(self, project: str, service: str, current: int) -> None:
        super().__init__()
        self.TITLE_TEXT = f"Scale {project} › {service}"
        self.current = current

    def fields(self) -> ComposeResult:
        yield Static(
            f"[dim]It has {self.current} now. More are created (numbered on); fewer removes the highest "
            "numbers first. The others are kept as they are.[/]"
        )
        yield self.row("Replicas", Input(value=str(self.current), id="count", compact=True))

    def on_mount(self) -> None:
        box = self.query_one("#count", Input)
        box.focus()
        box.select_all()

    def result(self) -> int:
        text = self.query_one("#count", Input).value.strip()
        if not text.isdigit():
            raise FormError("replicas: a whole number, 0 or more")
        return int(text)
