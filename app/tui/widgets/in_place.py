"""A DataTable whose ``update_cell`` redraws only the cell changed.

DataTable's own ``update_cell`` makes every row's cached drawing stale (its cache keys hold an update
counter), so a clock or a figure changing in one row redrew the whole table: every second, for the lists
and the Stats tab. Here the changed cells are noted, and only their cache entries (and their rows') go
before the next drawing (``render_lines``); only the changed row's lines are marked for drawing (the
screen composes that region alone), the other rows are not drawn at all.

``replace_rows`` puts a whole list of rows in at once: DataTable's ``add_row`` moves the cursor and asks for
an idle pass per row, and that pass then measures every cell of every new row for the columns' widths (a
tenth of a second and more for 1000 rows, each time the list was filled again); the lists here give every
column its width, so nothing is measured.
"""

from __future__ import annotations

from typing import Any

from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import DataTable


class InPlaceTable(DataTable[Any]):
    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._stale_cells: set[tuple[Any, Any]] = set()  # cells changed since they were last drawn
        self._row_keys: dict[str, Any] = {}  # replace_rows's row keys by their string

    def update_cell(self, row_key: Any, column_key: Any, value: Any, *, update_width: bool = False) -> None:
        """One cell anew, drawn again at the next refresh with its row; the other rows keep their drawing."""
        from textual.widgets.data_table import CellDoesNotExist, ColumnKey, RowKey

        if update_width:
            super().update_cell(row_key, column_key, value, update_width=True)
            return
        row = RowKey(row_key) if isinstance(row_key, str) else row_key
        column = ColumnKey(column_key) if isinstance(column_key, str) else column_key
        if row not in self._row_locations or column not in self._column_locations:
            raise CellDoesNotExist(f"No cell exists for row_key={row_key!r}, column_key={column_key!r}.")
        self._data[row][column] = value
        self._stale_cells.add((row, column))
        index = self._row_locations.get(row)
        if index is not None:
            self.refresh_row(index)  # only the row's lines are drawn again

    def replace_rows(self, rows: list[tuple[str, list[Any]]]) -> None:
        """The table's rows become ``rows`` ((key, cells in column order) each, one line high), in one step;
        the cursor keeps its row number (the caller moves it). The columns' widths are the caller's: a
        column of automatic width is not widened for the new cells."""
        from textual._two_way_dict import TwoWayDict
        from textual.geometry import Size
        from textual.widgets.data_table import Row, RowKey

        had_rows = bool(self.rows)
        columns = [column.key for column in self.ordered_columns]
        data: dict[Any, dict[Any, Any]] = {}
        meta: dict[Any, Row] = {}
        locations: dict[Any, int] = {}
        old_data, old_rows, old_keys = self._data, self.rows, self._row_keys
        keys: dict[str, Any] = {}
        for index, (key, cells) in enumerate(rows):
            row_key = old_keys.get(key) or RowKey(key)  # the rows that stay keep their objects (fewer
            keys[key] = row_key  # objects made: fewer and shorter pauses of the garbage collector)
            locations[row_key] = index
            was = old_data.get(row_key)
            if was is not None and len(was) == len(cells) and all(map(_same, was.values(), cells)):
                data[row_key] = was
            else:
                data[row_key] = dict(zip(columns, cells, strict=False))
            meta[row_key] = old_rows.get(row_key) or Row(row_key, 1)
        self._row_keys = keys
        self._clear_caches()
        self._stale_cells = set()
        self._updated_cells.clear()
        self._new_rows.clear()
        self._data = data
        self.rows = meta
        self._row_locations = TwoWayDict(locations)
        self._update_count += 1
        header = self.header_height if self.show_header else 0
        width = sum(column.get_render_width(self) for column in self.columns.values())
        self.virtual_size = Size(width + self._row_label_column_width, len(rows) + header)
        self.cursor_coordinate = self.cursor_coordinate  # kept inside the rows there are now
        if rows and not had_rows and self.show_cursor and self.cursor_type != "none":
            self._highlight_cursor()  # a row under the cursor where there was none: as add_row says so
        self.refresh()

    def render_lines(self, crop: Region) -> list[Strip]:
        if self._stale_cells:
            self._forget_cells(self._stale_cells)
            self._stale_cells = set()
        return super().render_lines(crop)

    def _forget_cells(self, cells: set[tuple[Any, Any]]) -> None:
        """Drop the cached drawings of ``cells`` and of their rows (DataTable's caches, keyed by cell, row
        key, row index or line); the row's other cells are drawn from the cache again."""
        rows = {row for row, _column in cells}
        indexes = {self._row_locations.get(row) for row in rows}
        for cell in [k for k in self._cell_render_cache.keys() if (k[0], k[1]) in cells]:
            self._cell_render_cache.discard(cell)
        for line in [k for k in self._row_render_cache.keys() if k[0] in rows]:
            self._row_render_cache.discard(line)
        for renderables in [k for k in self._row_renderable_cache.keys() if k[1] in indexes]:
            self._row_renderable_cache.discard(renderables)
        for strip in list(self._line_cache.keys()):
            try:
                if self._get_offsets(strip[0])[0] in rows:
                    self._line_cache.discard(strip)
            except LookupError:
                continue


def _same(a: Any, b: Any) -> bool:
    return a is b
