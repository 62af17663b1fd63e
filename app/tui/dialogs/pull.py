"""Pull an image, layer by layer: each layer's state (Waiting, Downloading, Extracting, Pull complete...)
and its bytes so far of its size, as ``docker pull`` shows them; escape cancels a pull under way (what was
downloaded stays, and the next pull of the image resumes it). Above, a search of the registry a term names
(``127.0.0.1:5000/app``) or of Docker Hub; enter on a result puts it in the Image field."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Input, Label, Static

from engine import PullResult, SearchResult, TransferEvent
from engine.humanize import human_size

from .base import Dialog

PullFn = Callable[..., PullResult]  # (reference, progress=...) -> PullResult
SearchFn = Callable[[str], list[SearchResult]]
BAR = 16  # cells of a layer's progress bar

DONE_STATES = ("Pull complete", "Already exists")


class PullCancelled(Exception):
    """Raised from the progress callback: the engine stops the pull and keeps what it downloaded."""


def bar(current: int, total: int) -> str:
    if total <= 0:
        return ""
    filled = min(BAR, BAR * current // total)
    return "━" * filled + "╺" + "─" * (BAR - filled - 1) if filled < BAR else "━" * BAR


def bytes_text(current: int, total: int) -> str:
    if total <= 0:
        return human_size(current) if current else ""
    return f"{human_size(current)} / {human_size(total)}"


class PullDialog(ModalScreen[str]):
    """Answers the pulled image's name (or None when closed without one)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Close / cancel", show=False)]
    DEFAULT_CSS = (
        Dialog.DEFAULT_CSS.replace("Dialog", "PullDialog")
        + """
    PullDialog > #dialog { width: 100; }
    PullDialog #dialog-body { max-height: 30; }
    PullDialog #results { height: auto; max-height: 8; margin-bottom: 1; display: none; }
    PullDialog #results.shown { display: block; }
    PullDialog #layers { height: auto; max-height: 12; }
    PullDialog .hint { color: $text-muted; height: 1; margin-bottom: 1; }
    PullDialog #pull-status { height: auto; margin-top: 1; }
    """
    )

    class Progress(Message):
        def __init__(self, event: TransferEvent) -> None:
            super().__init__()
            self.event = event

    class Finished(Message):
        def __init__(self, result: PullResult | None, error: str, cancelled: bool) -> None:
            super().__init__()
            self.result = result
            self.error = error
            self.cancelled = cancelled

    def __init__(self, pull: PullFn, search: SearchFn | None = None, reference: str = "") -> None:
        super().__init__()
        self.pull_fn = pull
        self.search_fn = search
        self.reference = reference
        self.pulling = False
        self.cancel = threading.Event()
        self.layer_events: dict[str, TransferEvent] = {}  # short blob digest -> its last event
        self.pulled: str | None = None
        self.found: list[SearchResult] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Pull an image", id="dialog-title")
            with VerticalScroll(id="dialog-body"):
                if self.search_fn is not None:
                    yield Dialog.row(
                        "Search",
                        Input(
                            placeholder="a term; registry/term searches that registry",
                            id="search",
                            compact=True,
                        ),
                    )
                    yield DataTable(id="results", cursor_type="row", zebra_stripes=False)
                yield Dialog.row(
                    "Image",
                    Input(
                        self.reference,
                        placeholder="busybox:latest, 127.0.0.1:5000/app:v1",
                        id="ref",
                        compact=True,
                    ),
                )
                yield Static("enter: pull · escape: cancel a pull, or close", classes="hint")
                yield DataTable(id="layers", cursor_type="none", zebra_stripes=False)
            yield Static("", id="pull-status")
            with Horizontal(id="dialog-buttons"):
                yield Button("Close", id="cancel", compact=True)
                if self.search_fn is not None:
                    yield Button("Search", id="search-button", compact=True)
                yield Button("Pull", id="ok", variant="primary", compact=True)

    def on_mount(self) -> None:
        layers = self.query_one("#layers", DataTable)
        layers.add_column("LAYER", key="id", width=12)
        layers.add_column("STATE", key="state", width=16)
        layers.add_column("", key="bar", width=BAR)
        layers.add_column("BYTES", key="bytes")
        if self.search_fn is not None:
            results = self.query_one("#results", DataTable)
            results.add_column("NAME", key="name")
            results.add_column("DESCRIPTION", key="description", width=40)
            results.add_column("STARS", key="stars")
            results.add_column("OFFICIAL", key="official")
        self.query_one("#ref" if self.reference or self.search_fn is None else "#search", Input).focus()

    # -- status --------------------------------------------------------------------------------------------
    def status(self, text: str | Text) -> None:
        self.query_one("#pull-status", Static).update(text)

    @property
    def status_text(self) -> str:
        return str(self.query_one("#pull-status", Static).render())

    # -- input -----------------------------------------------------------------------------------------------
    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "search":
            self.start_search()
        else:
            self.start_pull()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "ok":
            self.start_pull()
        elif event.button.id == "search-button":
            self.start_search()
        else:
            self.action_close()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id != "results":
            return
        event.stop()
        i = event.cursor_row
        if 0 <= i < len(self.found):
            ref = self.query_one("#ref", Input)
            ref.value = self.found[i].name
            ref.focus()

    def action_close(self) -> None:
        if self.pulling:
            self.cancel.set()
            self.status(Text("Cancelling…", style="yellow"))
            return
        self.dismiss(self.pulled)

    # -- search ------------------------------------------------------------------------------------------------
    def start_search(self) -> None:
        if self.search_fn is None:
            return
        term = self.query_one("#search", Input).value.strip()
        if not term:
            self.status(Text("search: what should be looked for?", style="red"))
            return
        self.status("Searching…")
        self._search(term)

    @work(thread=True, exclusive=True, group="pull-search")
    def _search(self, term: str) -> None:
        assert self.search_fn is not None
        try:
            found = self.search_fn(term)
        except Exception as e:  # noqa: BLE001 - shown in the dialog, never raised into the UI
            self.app.call_from_thread(self._search_failed, str(e) or type(e).__name__)
            return
        self.app.call_from_thread(self._show_results, term, found)

    def _search_failed(self, error: str) -> None:
        self.query_one("#results", DataTable).remove_class("shown")
        self.status(Text(error, style="red"))

    def _show_results(self, term: str, found: list[SearchResult]) -> None:
        self.found = found
        table = self.query_one("#results", DataTable)
        table.clear()
        for r in found:
            table.add_row(
                r.name,
                r.description,
                Text(str(r.stars) if r.stars else "", justify="right"),
                "[OK]" if r.official else "",
            )
        table.set_class(bool(found), "shown")
        if found:
            table.focus()
            self.status(f"{len(found)} found for “{term}” · enter: take it")
        else:
            self.status(f"Nothing found for “{term}”.")

    # -- pull ------------------------------------------------------------------------------------------------
    def start_pull(self) -> None:
        if self.pulling:
            return
        ref = self.query_one("#ref", Input).value.strip()
        if not ref:
            self.status(Text("image: which image should be pulled?", style="red"))
            return
        self.pulling = True
        self.cancel.clear()
        self.layer_events = {}
        self.query_one("#layers", DataTable).clear()
        self.query_one("#ok", Button).disabled = True
        self.query_one("#cancel", Button).label = "Cancel"
        self.status(Text(f"Pulling {ref}…"))
        self._pull(ref)

    @work(thread=True, exclusive=True, group="pull")
    def _pull(self, ref: str) -> None:
        def progress(event: TransferEvent) -> None:
            if self.cancel.is_set():
                raise PullCancelled
            self.post_message(self.Progress(event))

        try:
            result = self.pull_fn(ref, progress=progress)
        except PullCancelled:
            self.post_message(self.Finished(None, "", True))
            return
        except Exception as e:  # noqa: BLE001 - shown in the dialog, never raised into the UI
            self.post_message(self.Finished(None, str(e) or type(e).__name__, False))
            return
        self.post_message(self.Finished(result, "", False))

    def on_pull_dialog_progress(self, message: Progress) -> None:
        event = message.event
        if not event.id:  # a line about the whole image ("latest: Pulling from app")
            if self.pulling:
                self.status(Text(event.status))
            return
        table = self.query_one("#layers", DataTable)
        last = self.layer_events.get(event.id)
        current, total = event.current, event.total or (last.total if last else 0)
        if event.status in DONE_STATES and total:
            current = total
        self.layer_events[event.id] = TransferEvent(event.id, event.status, current, total)
        cells = {
            "state": Text(event.status, style="green" if event.status in DONE_STATES else ""),
            "bar": bar(current, total) if event.status not in ("Already exists",) else "",
            "bytes": bytes_text(current, total),
        }
        if last is None:
            table.add_row(event.id, cells["state"], cells["bar"], cells["bytes"], key=event.id)
            return
        for column, cell in cells.items():
            table.update_cell(event.id, column, cell)

    def on_pull_dialog_finished(self, message: Finished) -> None:
        self.pulling = False
        self.query_one("#ok", Button).disabled = False
        self.query_one("#cancel", Button).label = "Close"
        if message.cancelled:
            self.status(
                Text(
                    "Cancelled: nothing was added; what was downloaded is kept for the next pull.",
                    style="yellow",
                )
            )
            return
        if message.error:
            self.status(Text(message.error, style="red"))
            self.app.notify(message.error, title="Pull failed", severity="error", timeout=8)
            return
        result = message.result
        assert result is not None
        self.pulled = result.name
        news = "Image is up to date for" if result.up_to_date else "Downloaded newer image for"
        self.status(Text(f"{news} {result.full_name} · {result.image_id[:19]}", style="green"))
        self.app.notify(f"{result.name} ({result.image_id[7:19]})", title="Pulled")

    def layer_rows(self) -> dict[str, tuple[str, int, int]]:
        """Each layer's state and bytes as shown (tests read them)."""
        return {k: (e.status, e.current, e.total) for k, e in self.layer_events.items()}
