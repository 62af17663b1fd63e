"""What every dialog shares: a titled box over the screen, a form, OK/Cancel, escape to cancel, and an
error line that keeps the dialog open when a field cannot be used."""

from __future__ import annotations

from typing import Any, ClassVar, Generic, TypeVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from ..forms import FormError

T = TypeVar("T")


class Dialog(ModalScreen[T], Generic[T]):
    TITLE_TEXT = ""
    OK_LABEL = "OK"
    OK_VARIANT = "primary"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", show=False)]
    DEFAULT_CSS = """
    Dialog { align: center middle; }
    Dialog > #dialog {
        width: 72; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    Dialog #dialog-title { text-style: bold; color: $primary; width: 1fr; height: 1; margin-bottom: 1; }
    Dialog #dialog-body { height: auto; max-height: 16; }
    Dialog .row { height: 1; margin-bottom: 1; }
    Dialog .row > Label { width: 14; color: $text-muted; }
    Dialog .row > Input, Dialog .row > Select { width: 1fr; }
    Dialog .row > Checkbox { width: 1fr; border: none; padding: 0; height: 1; }
    Dialog #dialog-error { color: $error; height: auto; }
    Dialog #dialog-buttons { height: 1; align-horizontal: right; margin-top: 1; }
    Dialog #dialog-buttons > Button { margin-left: 2; min-width: 10; }
    """

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.TITLE_TEXT, id="dialog-title")
            with VerticalScroll(id="dialog-body"):
                yield from self.fields()
            yield Static("", id="dialog-error")
            with Horizontal(id="dialog-buttons"):
                yield Button("Cancel", id="cancel", compact=True)
                yield Button(self.OK_LABEL, id="ok", variant=self.OK_VARIANT, compact=True)  # type: ignore[arg-type]

    def fields(self) -> ComposeResult:
        yield from ()

    @staticmethod
    def row(label: str, widget: Any) -> Horizontal:
        return Horizontal(Label(label), widget, classes="row")

    def result(self) -> T:
        """The dialog's answer from its fields; raise FormError to keep it open with a message."""
        raise NotImplementedError

    def submit(self) -> None:
        try:
            value = self.result()
        except FormError as e:
            self.query_one("#dialog-error", Static).update(str(e))
            return
        self.dismiss(value)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "ok":
            self.submit()
        else:
            self.dismiss(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit()

    def action_cancel(self) -> None:
        self.dismiss(None)
