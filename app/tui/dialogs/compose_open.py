"""Open a compose file in the Projects view: its path (the working directory's compose file by default),
and whether to bring the project up right away."""

from __future__ import annotations

import os

from textual.app import ComposeResult
from textual.widgets import Checkbox, Input, Static

from ..forms import FormError
from .base import Dialog


class ComposeOpenDialog(Dialog[tuple[str, bool]]):
    """Answers (absolute path, up now)."""

    TITLE_TEXT = "Open a compose file"
    OK_LABEL = "Open"

    def __init__(self, default: str) -> None:
        super().__init__()
        self.default = default

    def fields(self) -> ComposeResult:
        yield Static("[dim]The project is shown beside what runs, with what up would change marked.[/]")
        yield self.row("File", Input(value=self.default, id="path", compact=True))
        yield self.row("", Checkbox("Bring it up now (up -d)", id="up", compact=True))

    def on_mount(self) -> None:
        self.query_one("#path", Input).focus()

    def result(self) -> tuple[str, bool]:
        path = os.path.abspath(os.path.expanduser(self.query_one("#path", Input).value.strip()))
        if os.path.isdir(path):
            raise FormError(f"{path} is a directory: name the compose file in it")
        if not os.path.isfile(path):
            raise FormError(f"no such file: {path}")
        return path, self.query_one("#up", Checkbox).value
