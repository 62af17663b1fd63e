"""The Layers tab: the layers an image is made of (size and the instruction that made each), the selected
container's writable layer on top, dive's efficiency score and wasted bytes, and the files of the chosen
layer as a tree (this layer's changes, or with ctrl+a the whole filesystem as of that layer)."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from engine.humanize import human_size

from .. import keymap
from ..layer_model import FileNode, LayerReport
from .file_tree import FileTree


class LayersPane(Vertical):
    BINDINGS: ClassVar[list[BindingType]] = keymap.bindings("layers")
    DEFAULT_CSS = """
    LayersPane { height: 1fr; }
    LayersPane > #layers-summary { height: auto; max-height: 3; padding: 0 1; background: $panel; }
    LayersPane > #layers-table { height: auto; max-height: 40%; }
    LayersPane > #layers-files-title { height: 1; padding: 0 1; color: $text-muted; background: $panel; }
    LayersPane > FileTree { height: 1fr; }
    """

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.report: LayerReport | None = None
        self.aggregate = False

    def compose(self) -> ComposeResult:
        yield Static("Select an image or a container to see its layers.", id="layers-summary")
        table: DataTable[Any] = DataTable(id="layers-table", cursor_type="row")
        yield table
        yield Static("", id="layers-files-title")
        yield FileTree(id="layers-files")

    def on_mount(self) -> None:
        table = self.query_one("#layers-table", DataTable)
        table.add_column("LAYER", key="layer", width=12)
        table.add_column("SIZE", key="size", width=8)
        table.add_column("CREATED BY", key="cmd")

    def show_report(self, report: LayerReport | None) -> None:
        self.report = report
        summary = self.query_one("#layers-summary", Static)
        table = self.query_one("#layers-table", DataTable)
        table.clear()
        if report is None:
            summary.update("Select an image or a container to see its layers.")
            self.query_one(FileTree).show_tree(None)
            self.query_one("#layers-files-title", Static).update("")
            return
        parts = [Text(report.title, style="bold")]
        image_rows = [r for r in report.rows if not r.writable]
        parts.append(Text(f" · {len(image_rows)} layer{'s' if len(image_rows) != 1 else ''}"))
        parts.append(Text(f" · {human_size(sum(r.size for r in image_rows))}"))
        if report.efficiency is not None:
            parts.append(Text(f" · efficiency {report.efficiency * 100:.1f}%"))
        if report.wasted is not None:
            parts.append(Text(f" · wasted {human_size(report.wasted)}"))
        if report.note:
            parts.append(Text(f"\n{report.note}", style="dim"))
        summary.update(Text.assemble(*parts))
        theme = self.app.theme_variables
        for i, row in enumerate(report.rows):
            label = (
                Text(row.label, style=f"bold {theme.get('accent', '')}") if row.writable else Text(row.label)
            )
            table.add_row(
                label, Text(human_size(row.size), justify="right"), _command(row.command), key=str(i)
            )
        if report.rows:
            table.move_cursor(row=0)
            self._show_files(0)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if event.data_table.id == "layers-table" and event.row_key.value is not None:
            self._show_files(int(event.row_key.value))

    def _show_files(self, i: int) -> None:
        if self.report is None or not 0 <= i < len(self.report.rows):
            return
        row = self.report.rows[i]
        aggregated = self.aggregate and not row.writable
        mode = "changes since the base layer" if aggregated else "changes in this layer"
        if row.writable:
            mode = "the container's changes"
        title = self.query_one("#layers-files-title", Static)
        title.update(f"Files, {mode} marked · loading…")
        report = self.report

        def shown(tree: FileNode | None) -> None:
            if self.report is not report or self.current_row() != i:
                return
            count = tree.count() if tree else 0
            title.update(f"{count:,} paths, {mode} marked · {self.toggles_text()}")
            self.query_one(FileTree).show_tree(tree, row.label)

        if row.load is None or aggregated in row.cache:
            shown(row.files(aggregated))
        else:
            self.app.call("Layer files", row.files, aggregated, done=shown)  # type: ignore[attr-defined]

    def current_row(self) -> int:
        return self.query_one("#layers-table", DataTable).cursor_row

    def toggles_text(self) -> str:
        """The state of the two toggles, in the files' title: ● on, ○ off."""
        on = {True: "●", False: "○"}
        only = self.query_one(FileTree).changes_only
        return f"ctrl+a {on[self.aggregate]} all layers below · ctrl+u {on[only]} only changes"

    def action_toggle_aggregate(self) -> None:
        self.aggregate = not self.aggregate
        i = self.current_row()
        if self.report is not None and 0 <= i < len(self.report.rows) and self.report.rows[i].writable:
            state = "on" if self.aggregate else "off"
            self.notify(
                f"All layers below: {state}. The writable layer always shows the container's own changes; "
                "this applies to the image's layers.",
                title="Layers",
            )
        self._show_files(i)

    def action_toggle_changes_only(self) -> None:
        self.query_one(FileTree).toggle_changes_only()
        self._show_files(self.current_row())

    @property
    def filter_text(self) -> str:
        return self.query_one(FileTree).filter_text

    def set_filter(self, text: str) -> None:
        self.query_one(FileTree).set_filter(text)


def _command(created_by: str) -> str:
    s = " ".join(created_by.split())
    for prefix in ("/bin/sh -c #(nop) ", "|"):
        if s.startswith(prefix):
            s = s[len(prefix) :]
    return s or "-"
