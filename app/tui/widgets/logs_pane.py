"""The Logs tab: the log view, a status line (lines, follow, filter, search result) and one input box, for
a search (``/``) or a filter (``&``)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Input, Static

from .log_view import LogView

PLACEHOLDERS = {
    "search": "search the log (enter: find, escape: close)",
    "filter": "show only the lines holding… (enter: filter, empty: every line, escape: close)",
}


class LogsPane(Vertical):
    DEFAULT_CSS = """
    LogsPane { height: 1fr; }
    LogsPane > #log-status { height: 1; background: $panel; color: $text-muted; padding: 0 1; }
    LogsPane > #log-search { display: none; }
    LogsPane.searching > #log-search { display: block; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close_search", show=False)]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.mode = "search"  # what the box is for: search or filter
        self._status = ""

    def compose(self) -> ComposeResult:
        yield LogView(id="log-view")
        yield Input(placeholder=PLACEHOLDERS["search"], id="log-search", compact=True)
        yield Static("", id="log-status")

    @property
    def view(self) -> LogView:
        return self.query_one(LogView)

    def on_log_view_status_changed(self, event: LogView.StatusChanged) -> None:
        """The status line, redrawn only when its words changed (a followed flood asks ten times a second),
        and never laid out again (it is one line high)."""
        event.stop()
        text = self.view.status()
        if text != self._status:
            self._status = text
            self.query_one("#log-status", Static).update(text, layout=False)

    def on_log_view_search_requested(self, event: LogView.SearchRequested) -> None:
        event.stop()
        self._ask("search", self.view.search_text)

    def on_log_view_filter_requested(self, event: LogView.FilterRequested) -> None:
        event.stop()
        self._ask("filter", self.view.filter_text or self.view.last_filter)

    def _ask(self, mode: str, value: str) -> None:
        self.mode = mode
        self.add_class("searching")
        box = self.query_one("#log-search", Input)
        box.placeholder = PLACEHOLDERS[mode]
        box.value = value
        box.display = True
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.mode == "filter":
            self.view.set_filter(event.value.strip())
        else:
            self.view.set_query(event.value.strip())
        self.remove_class("searching")
        self.query_one("#log-search", Input).display = False
        self.view.focus()

    def action_close_search(self) -> None:
        if self.has_class("searching"):
            self.remove_class("searching")
            self.query_one("#log-search", Input).display = False
            self.view.focus()
        elif self.view.selecting:
            self.view.cancel_selection()
