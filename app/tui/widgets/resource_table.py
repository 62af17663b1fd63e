"""The shared behaviour of the app's list panes: a DataTable keyed by record id, filtered, with marked rows.

Rows are rebuilt from records (``show``) keeping the cursor on the same record; a filter keeps only the
rows whose text holds it; space marks rows for bulk actions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist

MARK = "●"


class ResourceTable(DataTable[Any]):
    """A list pane. Subclasses give ``COLUMNS`` and ``row_cells``/``row_text`` for their records."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("home", "first_row", "First row", show=False),
        Binding("end", "last_row", "Last row", show=False),
    ]

    COLUMNS: ClassVar[Sequence[tuple[str, str, int | None]]] = ()  # (key, label, width)

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=False)
        self.records: dict[str, Any] = {}
        self.order: list[str] = []
        self.marked: set[str] = set()
        self.filter_text = ""
        self._aged: dict[tuple[str, str], str] = {}  # what each aging cell shows now

    def on_mount(self) -> None:
        self.add_column(" ", key="mark", width=1)
        for key, label, width in self.COLUMNS:
            self.add_column(label, key=key, width=width)

    # -- subclass hooks ------------------------------------------------------------------------------
    def record_id(self, record: Any) -> str:
        return str(record.id)

    def row_cells(self, record: Any) -> list[Any]:
        raise NotImplementedError

    def row_text(self, record: Any) -> str:
        """What the filter searches."""
        return " ".join(str(c) for c in self.row_cells(record))

    def aged_cells(self, record: Any, now: float) -> dict[str, Any]:
        """The cells whose text depends on the clock ("Exited (0) 3 seconds ago"), by column key."""
        return {}

    # -- the clock -------------------------------------------------------------------------------------
    def refresh_ages(self, now: float) -> int:
        """Redraw the cells that age (``aged_cells``) whose text changed since last shown; returns how many
        were redrawn. Called every second: it touches nothing when nothing changed."""
        redrawn = 0
        for rid in self._visible():
            for column, cell in self.aged_cells(self.records[rid], now).items():
                plain = cell.plain if isinstance(cell, Text) else str(cell)
                if self._aged.get((rid, column)) == plain:
                    continue
                self._aged[(rid, column)] = plain
                try:
                    self.update_cell(rid, column, cell)
                except Exception:  # noqa: BLE001 - the row went between the records and the table
                    continue
                redrawn += 1
        return redrawn

    # -- data ------------------------------------------------------------------------------------------
    @property
    def current_id(self) -> str | None:
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except Exception:
            return None
        return str(key.value) if key.value is not None else None

    @property
    def current(self) -> Any:
        cid = self.current_id
        return self.records.get(cid) if cid else None

    def selection(self) -> list[Any]:
        """The marked records, or the one under the cursor when none is marked."""
        marked = [self.records[i] for i in self.order if i in self.marked and i in self.records]
        if marked:
            return marked
        return [self.current] if self.current is not None else []

    def show(self, records: Sequence[Any]) -> None:
        """Replace the rows, keeping the cursor on the same record when it is still there."""
        keep = self.current_id
        self.records = {self.record_id(r): r for r in records}
        self.order = [self.record_id(r) for r in records]
        self.marked &= set(self.records)
        self._rebuild(keep)

    def set_filter(self, text: str) -> None:
        self.filter_text = text
        self._rebuild(self.current_id)

    def _visible(self) -> list[str]:
        needle = self.filter_text.casefold()
        if not needle:
            return self.order
        return [i for i in self.order if needle in self.row_text(self.records[i]).casefold()]

    def _rebuild(self, keep: str | None) -> None:
        scroll = self.scroll_y
        self.clear()
        for rid in self._visible():
            self.add_row(self._mark_cell(rid), *self.row_cells(self.records[rid]), key=rid)
        if keep is not None:
            try:
                self.move_cursor(row=self.get_row_index(keep), animate=False, scroll=False)
            except RowDoesNotExist:
                pass
        self.scroll_y = min(scroll, self.max_scroll_y)
        self.refresh_bindings()

    def _mark_cell(self, rid: str) -> Text:
        return Text(MARK if rid in self.marked else " ", style="bold")

    def action_first_row(self) -> None:
        if self.row_count:
            self.move_cursor(row=0)

    def action_last_row(self) -> None:
        if self.row_count:
            self.move_cursor(row=self.row_count - 1)

    # -- marking -----------------------------------------------------------------------------------------
    def action_mark(self) -> None:
        rid = self.current_id
        if rid is None:
            return
        self.marked ^= {rid}
        self.update_cell(rid, "mark", self._mark_cell(rid))
        if self.cursor_row < self.row_count - 1:
            self.move_cursor(row=self.cursor_row + 1)

    def clear_marks(self) -> None:
        """Unmark every row (after a bulk action) and redraw the marks that were shown."""
        was, self.marked = self.marked, set()
        for rid in was:
            try:
                self.update_cell(rid, "mark", self._mark_cell(rid))
            except Exception:  # noqa: BLE001 - the row is filtered out or gone
                continue

    def action_mark_all(self) -> None:
        visible = self._visible()
        self.marked = set() if self.marked >= set(visible) else set(visible)
        for rid in visible:
            self.update_cell(rid, "mark", self._mark_cell(rid))
