"""Are you sure? Before removing or pruning (can be turned off with ``confirm = false`` in the settings)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from .base import Dialog


class ConfirmDialog(Dialog[bool]):
    OK_VARIANT = "error"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,n", "cancel", "No", show=False),
        Binding("y", "yes", "Yes", show=False),
    ]

    def __init__(self, question: str, detail: str = "", ok: str = "Remove") -> None:
        super().__init__()
        self.TITLE_TEXT = question
        self.OK_LABEL = ok
        self.detail = detail

    def fields(self) -> ComposeResult:
        yield Static(self.detail or "This cannot be undone.", id="confirm-detail")
        yield Static("[dim]y / enter: yes · n / escape: no[/]")

    def on_mount(self) -> None:
        self.query_one("#ok").focus()

    def result(self) -> bool:
        return True

    def action_yes(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
