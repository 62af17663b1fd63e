"""Recreate a container from another version of its image: a rollback or an upgrade."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ..forms import FormError
from .base import Dialog


class VersionDialog(Dialog[str]):
    """Lists the other tags of the container's repository; the chosen one is the new image."""

    OK_LABEL = "Recreate"

    def __init__(self, container: str, current: str, versions: list[str]) -> None:
        super().__init__()
        self.container = container
        self.current = current
        self.versions = versions
        self.TITLE_TEXT = f"Recreate {container} from another version"

    def fields(self) -> ComposeResult:
        yield Static(
            f"[dim]Now on[/] {self.current}. The new container keeps the name, configuration, volumes and "
            "ports; the old one is removed once the new one runs."
        )
        yield OptionList(*[Option(v, id=v) for v in self.versions], id="versions")

    def on_mount(self) -> None:
        self.query_one("#versions", OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.submit()

    def result(self) -> str:
        ol = self.query_one("#versions", OptionList)
        if ol.highlighted is None:
            raise FormError("choose a version")
        option = ol.get_option_at_index(ol.highlighted)
        return str(option.id)
