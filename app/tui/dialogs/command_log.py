"""The command log: every action taken in the app as the ``dockyard`` command line that does the same, oldest
first (the newest selected), with how it ended; ``y`` copies the selected line to the clipboard (OSC 52, so it
works over SSH too)."""

from __future__ import annotations

import time
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static

from .. import keymap
from ..command_log import CommandLog, Entry

MARKS = {"running": ("…", "yellow"), "done": ("✓", "green"), "failed": ("✗", "red")}


class CommandLogScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close"),
        *keymap.bindings("commands"),
    ]
    DEFAULT_CSS = """
    CommandLogScreen { align: center middle; }
    CommandLogScreen > Vertical {
        width: 95%; max-width: 160; height: 85%; border: thick $primary; background: $surface; padding: 0 1;
    }
    CommandLogScreen #commands-title { text-style: bold; color: $primary; height: 1; }
    CommandLogScreen #commands-table { height: 1fr; }
    CommandLogScreen #commands-detail {
        height: auto; max-height: 8; border-top: solid $foreground 20%; padding-top: 0;
    }
    CommandLogScreen #commands-hint { height: 1; color: $text-muted; }
    """

    def __init__(self, log: CommandLog) -> None:
        super().__init__()
        self.command_log = log
        self.entries: list[Entry] = []

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Command log: the dockyard commands that do what was done here", id="commands-title")
            yield DataTable(id="commands-table", cursor_type="row", zebra_stripes=True)
            yield Static("", id="commands-detail")
            yield Static("y: copy the selected line · escape: close", id="commands-hint")

    def on_mount(self) -> None:
        table = self.query_one("#commands-table", DataTable)
        table.add_column("TIME", key="time")
        table.add_column("", key="state")
        table.add_column("COMMAND", key="command")
        self.command_log.listen(self)
        self._fill()
        table.focus()

    def on_unmount(self) -> None:
        self.command_log.unlisten(self)

    def on_command_log_changed(self, _message: CommandLog.Changed) -> None:
        self._fill()

    def _fill(self) -> None:
        table = self.query_one("#commands-table", DataTable)
        at_end = not table.row_count or table.cursor_row >= table.row_count - 1
        row = table.cursor_row
        self.entries = list(self.command_log.entries)
        table.clear()
        for e in self.entries:
            mark, style = MARKS.get(e.state, ("", ""))
            table.add_row(
                time.strftime("%H:%M:%S", time.localtime(e.at)),
                Text(mark, style=style),
                Text(e.line, style="dim" if e.line.startswith("#") else ""),
                key=str(e.number),
            )
        if table.row_count:
            table.move_cursor(
                row=table.row_count - 1 if at_end else min(row, table.row_count - 1), animate=False
            )
        else:
            self.query_one("#commands-detail", Static).update(
                "Nothing done yet: actions taken in the app appear here."
            )
        self._detail()

    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._detail()

    def _detail(self) -> None:
        """The selected line whole (the table cuts long ones), and how its action ended."""
        entry = self.selected_entry()
        if entry is None:
            return
        text = Text(entry.line, style="bold")
        text.append("\n")
        if entry.state == "failed":
            text.append(f"✗ failed: {entry.error}", style="red")
        elif entry.state == "done":
            text.append("✓ done", style="green")
        else:
            text.append("… running", style="yellow")
        if entry.label:
            text.append(f" · {entry.label}", style="dim")
        self.query_one("#commands-detail", Static).update(text)

    def selected_entry(self) -> Entry | None:
        table = self.query_one("#commands-table", DataTable)
        if not table.row_count or not 0 <= table.cursor_row < len(self.entries):
            return None
        return self.entries[table.cursor_row]

    def selected_line(self) -> str:
        """The selected command line, as it would be copied ("" when the log is empty)."""
        entry = self.selected_entry()
        return entry.line if entry is not None else ""

    def action_copy(self) -> None:
        line = self.selected_line()
        if not line:
            self.notify("Nothing to copy yet.", severity="warning")
            return
        self.app.copy_to_clipboard(line)
        self.notify(line, title="Copied", markup=False)

    def action_close(self) -> None:
        self.dismiss(None)
