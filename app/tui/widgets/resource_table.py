"""The shared behaviour of the app's list panes: a DataTable keyed by record id, filtered, with marked rows.

Rows are rebuilt from records (``show``) keeping the cursor on the same record; a filter keeps only the
rows whose text holds it; space marks rows for bulk actions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets.data_table import RowDoesNotExist

from .in_place import InPlaceTable

MARK = "●"
_MARKED, _UNMARKED = Text(MARK, style="bold"), Text(" ", style="bold")  # shared by every row (never changed)


class ResourceTable(InPlaceTable):
    """A list pane. Subclasses give ``COLUMNS`` and ``row_cells``/``row_text`` for their records."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("home", "first_row", "First row", show=False),
        Binding("end", "last_row", "Last row", show=False),
    ]

    COLUMNS: ClassVar[Sequence[tuple[str, str, int | None]]] = ()  # (key, label, width)
    #: When the rows are wider than the pane, these columns give up width first, in this order, down to
    #: the width given (their cells are cut); the others keep theirs.
    SHRINK: ClassVar[dict[str, int]] = {}
    #: When that is not enough, these columns are left out, in this order (a narrow terminal keeps NAME and
    #: STATUS whole rather than showing every column cut, or hiding some behind a scrollbar).
    DROP: ClassVar[tuple[str, ...]] = ()
    #: A row's cells change only with its record (what else they show is redrawn where it changes): a
    #: reload compares the records, not their cells.
    CELLS_OF_RECORD: ClassVar[bool] = False

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=False)
        self.records: dict[str, Any] = {}
        self.order: list[str] = []
        self.marked: set[str] = set()
        self.filter_text = ""
        self._aged: dict[tuple[str, str], str] = {}  # what each aging cell shows now
        self._cells: dict[str, list[Any]] = {}  # each shown row's cells, in COLUMNS order
        #: With CELLS_OF_RECORD, each record's cells by its ID, with the record they were made from: rows
        #: made again for a record that is the same object take these (the reload keeps unchanged records).
        self._row_cache: dict[str, tuple[Any, list[Any]]] = {}
        self._cache_token: Any = None  # what the cached cells were made with besides their records
        self._cells_changes = 0  # cells put in place in _cells (note_cell, a reload)
        self._longest_cache: tuple[dict[str, list[Any]], int, list[int]] | None = None
        self._row_widths: dict[str, list[int]] = {}  # each row's cells' widths (kept with _cells)
        self.shown_columns: list[str] = []  # the COLUMNS keys on screen, in order
        self._widths: dict[str, int] = {}
        self.dropped_empty: set[str] = set()  # columns left out because no row had anything in them
        self._aged_at: float | None = None  # the clock's time at the last aging
        self.hidden: set[str] = set()  # COLUMNS keys left out whatever the room (a subclass's choice)

    def on_mount(self) -> None:
        self._set_columns([key for key, _label, _width in self.COLUMNS if key not in self.hidden], {})

    def on_resize(self) -> None:
        if self._fit():
            self._rebuild(self.current_id)

    def _set_columns(self, keys: list[str], widths: dict[str, int]) -> None:
        self.clear(columns=True)
        self.add_column(" ", key="mark", width=1)
        for key, label, width in self.COLUMNS:
            if key in keys:
                self.add_column(label, key=key, width=widths.get(key, width))
        self.shown_columns = keys
        self._widths = dict(widths)

    def _fit(self) -> bool:
        """Choose the columns and their widths for the rows shown and the pane's width: each column as
        wide as its widest cell now (so columns shrink when long values go); when the rows are wider than
        the pane, ``SHRINK`` columns give up width, then ``DROP`` columns are left out. True when the
        columns were made anew (the rows must be added again)."""
        from rich.cells import cell_len

        wanted: dict[str, int] = {}
        empty: list[str] = []  # columns with nothing to show in any row: the first to go when room is short
        longest_of = self._longest()
        for i, (key, label, width) in enumerate(self.COLUMNS):
            widest = width if width is not None else cell_len(label)
            longest = longest_of[i]
            if width is None:
                widest = max(widest, longest)
            if not longest and key in self.DROP:
                empty.append(key)
            wanted[key] = widest
        room = self.scrollable_content_region.width
        keys = [key for key, _label, _width in self.COLUMNS if key not in self.hidden]
        if room > 0:
            pad = 2 * self.cell_padding

            def overflow() -> int:
                return 1 + pad + sum(wanted[k] + pad for k in keys) - room

            self.dropped_empty = set()
            for key in empty:  # empty columns go before any value is cut
                if overflow() > 0:
                    keys.remove(key)
                    self.dropped_empty.add(key)
            drop = [k for k in self.DROP if k in keys]
            while True:
                widths = {k: wanted[k] for k in keys}
                over = overflow()
                for key, least in self.SHRINK.items():
                    if over <= 0:
                        break
                    if key in widths and widths[key] > least:
                        give = min(over, widths[key] - least)
                        widths[key] -= give
                        over -= give
                if over <= 0 or not drop:
                    break
                keys.remove(drop.pop(0))
        else:
            widths = wanted
        if (
            room > 0
            and 1 + 2 * self.cell_padding + sum(w + 2 * self.cell_padding for w in widths.values()) <= room
        ):
            self.scroll_x = 0  # it all fits: nothing is left scrolled sideways from when it did not
        if keys != self.shown_columns:
            self._set_columns(keys, widths)
            return True
        if widths != self._widths:
            from textual.widgets.data_table import ColumnKey

            for key, width in widths.items():
                column = self.columns.get(ColumnKey(key))
                if column is not None:
                    column.auto_width, column.width = False, width
            self._widths = dict(widths)
            self._require_update_dimensions = True
            self.refresh()
        return False

    def _longest(self) -> list[int]:
        """Each column's widest cell among the rows shown, kept until a row's cells change (a resize, the
        filter bar opening, lays a thousand rows out again without measuring every cell)."""
        hit = self._longest_cache
        if hit is not None and hit[0] is self._cells and hit[1] == self._cells_changes:
            return hit[2]
        known = self._row_widths
        rows = []
        for rid, cells in self._cells.items():
            widths = known.get(rid)
            if widths is None:
                widths = known[rid] = [_cell_width(cell) for cell in cells]
            rows.append(widths)
        columns = list(zip(*rows, strict=False)) or [()] * len(self.COLUMNS)
        out = [max(column, default=0) for column in columns]
        self._longest_cache = (self._cells, self._cells_changes, out)
        return out

    # -- subclass hooks ------------------------------------------------------------------------------
    def record_id(self, record: Any) -> str:
        return str(record.id)

    def row_cells(self, record: Any) -> list[Any]:
        raise NotImplementedError

    def row_text(self, record: Any) -> str:
        """What the filter searches."""
        return " ".join(str(c) for c in self.row_cells(record))

    def cells_depend_on(self) -> Any:
        """What the rows' cells show besides their records and what is redrawn where it changes (with
        CELLS_OF_RECORD, the cells kept are made anew when this changes): the theme's colours."""
        return str(self.app.theme)

    def aged_cells(self, record: Any, now: float) -> dict[str, Any]:
        """The cells whose text depends on the clock ("Exited (0) 3 seconds ago"), by column key."""
        return {}

    # -- the clock -------------------------------------------------------------------------------------
    def refresh_ages(self, now: float) -> int:
        """Redraw the cells that age (``aged_cells``) whose text changed since last shown; returns how many
        were redrawn. Called every second: it touches nothing when nothing changed."""
        redrawn = 0
        self._aged_at = now
        for rid in self._on_screen():
            for column, cell in self.aged_cells(self.records[rid], now).items():
                if column not in self.shown_columns:
                    continue
                plain = cell.plain if isinstance(cell, Text) else str(cell)
                if self._aged.get((rid, column)) == plain:
                    continue
                self._aged[(rid, column)] = plain
                if self.note_cell(rid, column, cell):
                    return redrawn  # the rows were laid out again, this cell with them
                try:
                    self.update_cell(rid, column, cell)
                except Exception:  # noqa: BLE001 - the row went between the records and the table
                    continue
                redrawn += 1
        return redrawn

    def note_cell(self, rid: str, column: str, cell: Any) -> bool:
        """Keep a cell about to be redrawn in place in the rows' cache; when it is wider than its column,
        lay the table out again (True) so that it is not cut (a status growing from "Up 9 seconds" to "Up 10
        seconds", figures appearing in an empty column)."""
        from rich.cells import cell_len

        cells = self._cells.get(rid)
        index = next((i for i, (key, _l, _w) in enumerate(self.COLUMNS) if key == column), None)
        if cells is None and index is not None and rid in self._row_cache:
            self._row_cache[rid][1][index] = cell  # a row the filter hides: it shows this when it comes back
            self._row_widths.pop(rid, None)
        if cells is None or index is None:
            return False
        cells[index] = cell
        self._cells_changes += 1
        widths = self._row_widths.get(rid)
        if widths is not None:
            widths[index] = _cell_width(cell)
        width = cell_len(cell.plain if isinstance(cell, Text) else str(cell))
        if column in self.shown_columns and width <= self._widths.get(column, 0):
            return False
        if column not in self.shown_columns and not width:
            return False
        self._rebuild(self.current_id)
        return True

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
        """Replace the rows, keeping the cursor on the same record when it is still there. When the rows
        shown are the same ones in the same order (a reload after a container changed), only the cells
        of the records that changed are drawn again."""
        keep = self.current_id
        before, shown = self.records, self._visible()
        self.records = {self.record_id(r): r for r in records}
        self.order = [self.record_id(r) for r in records]
        self.marked &= set(self.records)
        if self.row_count and self._visible() == shown and self._update_in_place(before):
            return
        self._rebuild(keep)

    def _update_in_place(self, before: dict[str, Any]) -> bool:
        """Redraw the cells that changed in the rows of records that are not what they were (the same rows
        are shown); False when the rows must be made anew."""
        index = {key: i for i, (key, _label, _width) in enumerate(self.COLUMNS)}
        for rid, record in self.records.items():
            was = before.get(rid)
            if rid not in self._cells:
                continue
            if self.CELLS_OF_RECORD and (was is record or was == record):
                hit = self._row_cache.get(rid)
                if hit is not None and hit[0] is not record:
                    self._row_cache[rid] = (record, hit[1])  # the same record read again: its cells stay
                continue
            old, new = self._cells[rid], self.row_cells(record)
            for key in self.shown_columns:
                i = index[key]
                if _same_cell(old[i], new[i]):
                    continue
                if self.note_cell(rid, key, new[i]):
                    return True  # laid out again: every row is drawn from the records now
                try:
                    self.update_cell(rid, key, new[i])
                except Exception:  # noqa: BLE001 - the row is not in the table: make the rows anew
                    return False
            self._cells[rid] = new
            self._row_widths.pop(rid, None)
            self._cells_changes += 1
            if self.CELLS_OF_RECORD:
                self._row_cache[rid] = (record, new)
        return True

    def visible_ids(self) -> set[str]:
        """The records whose rows are on screen (and one more above and below)."""
        return set(self._on_screen())

    def _on_screen(self) -> list[str]:
        rows = self._visible()
        top = max(0, int(self.scroll_y) - 1)
        return rows[top : top + self.scrollable_content_region.height + 2]

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        """Rows coming on screen get their aging cells brought up to date (only the rows on screen are
        aged each second: with hundreds of rows, aging them all cost more than anything else when idle)."""
        super().watch_scroll_y(old_value, new_value)
        if self._aged_at is not None and round(old_value) != round(new_value):
            self.call_later(self.refresh_ages, self._aged_at)

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
        visible = self._visible()
        self._cells = self._cells_of(visible)
        self._fit()
        at = [i for i, (key, _label, _width) in enumerate(self.COLUMNS) if key in self.shown_columns]
        cells = self._cells
        self.replace_rows([(rid, [self._mark_cell(rid), *[cells[rid][i] for i in at]]) for rid in visible])
        row = 0
        if keep is not None:
            try:
                row = self.get_row_index(keep)
            except RowDoesNotExist:
                row = 0
        self.move_cursor(row=row, animate=False, scroll=False)
        self.scroll_y = min(scroll, self.max_scroll_y)
        if self._aged_at is not None and self.CELLS_OF_RECORD:
            self.call_later(self.refresh_ages, self._aged_at)  # rows kept from before: their times now
        self.refresh_bindings()

    def _cells_of(self, rids: list[str]) -> dict[str, list[Any]]:
        """The cells of these rows: made from their records, or with CELLS_OF_RECORD taken from the last
        time when the record is the same object (a thousand rows made anew for each container that came or
        went cost more than the rest of the list's work)."""
        records = self.records
        if not self.CELLS_OF_RECORD:
            self._row_widths = {}
            return {rid: self.row_cells(records[rid]) for rid in rids}
        token = self.cells_depend_on()
        if token != self._cache_token:  # made with other colours, another engine set...: made anew
            self._row_cache, self._row_widths, self._cache_token = {}, {}, token
        cache = self._row_cache
        out = {}
        for rid in rids:
            record = records[rid]
            hit = cache.get(rid)
            if hit is not None and hit[0] is record:
                out[rid] = hit[1]
            else:
                out[rid] = cells = self.row_cells(record)
                cache[rid] = (record, cells)
                self._row_widths.pop(rid, None)
        if len(cache) > len(records):
            self._row_cache = {rid: hit for rid, hit in cache.items() if rid in records}
            self._row_widths = {rid: w for rid, w in self._row_widths.items() if rid in records}
        return out

    def _mark_cell(self, rid: str) -> Text:
        return _MARKED if rid in self.marked else _UNMARKED

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


def _cell_width(cell: Any) -> int:
    from rich.cells import cell_len

    return cell_len(cell.plain if isinstance(cell, Text) else str(cell).strip())


def _same_cell(a: Any, b: Any) -> bool:
    """Do two cells draw the same (rich's Text compares its text and spans, not its style)?"""
    if isinstance(a, Text) and isinstance(b, Text):
        return a.plain == b.plain and a.style == b.style and a.spans == b.spans and a.justify == b.justify
    return type(a) is type(b) and a == b
