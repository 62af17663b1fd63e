"""Run N replicas of an image: NAME-1 .. NAME-N, all on the image's same read-only layers."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Input, Static

from ..forms import FormError
from .base import Dialog


class ScaleDialog(Dialog[tuple[str, int]]):
    OK_LABEL = "Run"

    def __init__(self, image: str) -> None:
        super().__init__()
        self.image = image
        self.TITLE_TEXT = f"Run replicas of {image}"

    def fields(self) -> ComposeResult:
        yield Static("[dim]Each replica gets its own writable layer; the image's layers are shared.[/]")
        yield self.row("Name", Input(placeholder="generated when empty", id="name", compact=True))
        yield self.row("Replicas", Input(value="3", id="count", compact=True))

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()

    def result(self) -> tuple[str, int]:
        text = self.query_one("#count", Input).value.strip()
        if not text.isdigit() or int(text) < 1:
            raise FormError("replicas: a whole number, at least 1")
        return self.query_one("#name", Input).value.strip(), int(text)
