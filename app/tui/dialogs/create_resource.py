"""New volume and new network: a form whose OK asks the engine itself (in a worker). When the engine refuses
(a name taken, a subnet overlapping another), the dialog stays open with the engine's words and what was
typed, and nothing was made."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.widgets import Checkbox, Input, Static

from engine import DockyardError

from ..forms import FormError, split_list
from .base import Dialog


def parse_labels(text: str) -> dict[str, str]:
    """``a=1, b="two words"`` -> {"a": "1", "b": "two words"}; a label without ``=`` has an empty value."""
    out = {}
    for item in split_list(text):
        key, _sep, value = item.partition("=")
        if not key:
            raise FormError(f"labels: “{item}” should be KEY=value")
        out[key] = value
    return out


class CreateDialog(Dialog[Any]):
    """A form whose answer is what ``make(values)`` returned in a worker (the engine's new record)."""

    OK_LABEL = "Create"

    def __init__(self, make: Callable[[dict[str, Any]], Any]) -> None:
        super().__init__()
        self.make = make
        self.busy = False

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()

    def text(self, field_id: str) -> str:
        return self.query_one(f"#{field_id}", Input).value.strip()

    def values(self) -> dict[str, Any]:
        raise NotImplementedError

    def result(self) -> Any:  # the dialog answers through ``submit``
        raise NotImplementedError

    def submit(self) -> None:
        if self.busy:
            return
        try:
            values = self.values()
        except FormError as e:
            self.show_error(str(e))
            return
        self.busy = True
        self.query_one("#dialog-error", Static).update("[dim]Creating…[/]")
        self._make(values)

    @work(thread=True, exclusive=True, group="create-dialog")
    def _make(self, values: dict[str, Any]) -> None:
        try:
            made = self.make(values)
        except DockyardError as e:
            self.app.call_from_thread(self._refused, str(e))
            return
        except Exception as e:  # noqa: BLE001 - shown in the form, never raised into the UI
            self.app.call_from_thread(self._refused, f"{type(e).__name__}: {e}")
            return
        self.app.call_from_thread(self.dismiss, made)

    def _refused(self, error: str) -> None:
        self.busy = False
        self.show_error(error)

    def show_error(self, text: str) -> None:
        from rich.text import Text

        self.query_one("#dialog-error", Static).update(Text(text))  # the engine's words, never markup


class VolumeDialog(CreateDialog):
    TITLE_TEXT = "New volume"

    def fields(self) -> ComposeResult:
        yield self.row("Name", Input(placeholder="generated when empty", id="name", compact=True))
        yield self.row("Labels", Input(placeholder="KEY=value, OTHER=value", id="labels", compact=True))

    def values(self) -> dict[str, Any]:
        return {"name": self.text("name") or None, "labels": parse_labels(self.text("labels"))}


class NetworkDialog(CreateDialog):
    TITLE_TEXT = "New network"

    def fields(self) -> ComposeResult:
        yield self.row("Name", Input(placeholder="mynet", id="name", compact=True))
        yield self.row(
            "Subnet", Input(placeholder="chosen when empty, e.g. 10.90.0.0/24", id="subnet", compact=True)
        )
        yield self.row(
            "Gateway", Input(placeholder="the subnet's first address when empty", id="gateway", compact=True)
        )
        yield self.row(
            "Internal",
            Checkbox("no way out of the machine (no NAT, no default route)", id="internal", compact=True),
        )
        yield self.row("Labels", Input(placeholder="KEY=value, OTHER=value", id="labels", compact=True))

    def values(self) -> dict[str, Any]:
        name = self.text("name")
        if not name:
            raise FormError("name: a network needs a name")
        subnet, gateway = self.text("subnet"), self.text("gateway")
        if gateway and not subnet:
            raise FormError("gateway: give the subnet it belongs to")
        return {
            "name": name,
            "subnet": subnet,
            "gateway": gateway,
            "internal": self.query_one("#internal", Checkbox).value,
            "labels": parse_labels(self.text("labels")),
        }
