"""Connect the selected container to networks or disconnect it: every network listed, ticked when the
container is on it; OK applies the difference."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Checkbox, Static

from .base import Dialog

UNCONNECTABLE = ("host", "none")  # pseudo-networks: a container joins them only when it is made


class ConnectDialog(Dialog[tuple[list[str], list[str]]]):
    """Answers (networks to connect, networks to disconnect)."""

    OK_LABEL = "Apply"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", show=False),
        Binding("a", "apply", "Apply", show=False),
    ]

    def __init__(self, container: str, networks: Sequence[str], connected: Sequence[str]) -> None:
        super().__init__()
        self.TITLE_TEXT = f"Networks of {container}"
        self.networks = [n for n in networks if n not in UNCONNECTABLE]
        self.connected = set(connected)

    def fields(self) -> ComposeResult:
        if not self.networks:
            yield Static("No network to connect to.")
        for i, name in enumerate(self.networks):
            yield Checkbox(name, value=name in self.connected, id=f"net-{i}", compact=True)
        yield Static("[dim]space: tick or untick · a: apply · escape: cancel[/]")

    def on_mount(self) -> None:
        boxes = self.query(Checkbox)
        if boxes:
            boxes.first().focus()

    def action_apply(self) -> None:
        self.submit()

    def result(self) -> tuple[list[str], list[str]]:
        ticked = {n for i, n in enumerate(self.networks) if self.query_one(f"#net-{i}", Checkbox).value}
        return (
            [n for n in self.networks if n in ticked and n not in self.connected],
            [n for n in self.networks if n not in ticked and n in self.connected],
        )
