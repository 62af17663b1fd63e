"""Commit a container's writable layer as a new image."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.widgets import Input

from .base import Dialog


@dataclass
class CommitRequest:
    repo_tag: str
    message: str


class CommitDialog(Dialog[CommitRequest]):
    OK_LABEL = "Commit"

    def __init__(self, container: str) -> None:
        super().__init__()
        self.TITLE_TEXT = f"Commit container {container} to an image"

    def fields(self) -> ComposeResult:
        yield self.row(
            "Image",
            Input(placeholder="repository:tag, e.g. myimage:latest (optional)", id="tag", compact=True),
        )
        yield self.row("Message", Input(placeholder="what changed (optional)", id="message", compact=True))

    def on_mount(self) -> None:
        self.query_one("#tag", Input).focus()

    def result(self) -> CommitRequest:
        return CommitRequest(
            self.query_one("#tag", Input).value.strip(), self.query_one("#message", Input).value.strip()
        )
