"""Give an image another name (``repository[:tag]``)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Input, Static

from ..forms import FormError
from .base import Dialog


class TagDialog(Dialog[str]):
    OK_LABEL = "Tag"

    def __init__(self, image: str, tags: list[str]) -> None:
        super().__init__()
        self.image = image
        self.tags = tags
        self.TITLE_TEXT = f"Tag image {image}"

    def fields(self) -> ComposeResult:
        yield Static(f"[dim]Current tags:[/] {', '.join(self.tags) or '<none>'}")
        yield self.row("New tag", Input(placeholder="repository:tag", id="tag", compact=True))

    def on_mount(self) -> None:
        self.query_one("#tag", Input).focus()

    def result(self) -> str:
        tag = self.query_one("#tag", Input).value.strip()
        if not tag:
            raise FormError("type a name such as myapp:1.0")
        return tag
