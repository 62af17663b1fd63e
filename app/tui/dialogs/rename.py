"""Rename a container (Docker's rules for names are checked by the engine)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Input

from ..forms import FormError
from .base import Dialog


class RenameDialog(Dialog[str]):
    OK_LABEL = "Rename"

    def __init__(self, current: str) -> None:
        super().__init__()
        self.current = current
        self.TITLE_TEXT = f"Rename container {current}"

    def fields(self) -> ComposeResult:
        yield self.row("New name", Input(self.current, id="name", compact=True))

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()

    def result(self) -> str:
        name = self.query_one("#name", Input).value.strip().lstrip("/")
        if not name:
            raise FormError("the new name is empty")
        return name
