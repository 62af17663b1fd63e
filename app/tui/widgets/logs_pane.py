"""The Logs tab: the log view, a status line (lines, follow, search result) and a search box."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Input, Static

from .log_view import LogView


class LogsPane(Vertical):
    DEFAULT_CSS = """
    LogsPane { height: 1fr; }
    LogsPane > #log-status { height: 1; background: $panel; color: $text-muted; padding: 0 1; }
    LogsPane > #log-search { display: none; }
    LogsPane.searching > #log-search { display: block; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close_search", show=False)]

    def compose(self) -> ComposeResult:
        yield LogView(id="log-view")
        yield Input(placeholder="search the log (enter: find, escape: close)", id="log-search", compact=True)
        yield Static("", id="log-status")

    @property
    def view(self) -> LogView:
        return self.query_one(LogView)

    def on_log_view_status_changed(self, event: LogView.StatusChanged) -> None:
        event.stop()
        self.query_one("#log-status", Static).update(self.view.status())

    def on_log_view_search_requested(self, event: LogView.SearchRequested) -> None:
        event.stop()
        self.add_class("searching")
        box = self.query_one("#log-search", Input)
        box.value = self.view.search_text
        box.display = True
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.view.set_query(event.value.strip())
        self.remove_class("searching")
        self.query_one("#log-search", Input).display = False
        self.view.focus()

    def action_close_search(self) -> None:
        if self.has_class("searching"):
            self.remove_class("searching")
            self.query_one("#log-search", Input).display = False
            self.view.focus()
