"""A DataTable whose ``update_cell`` redraws only the cell changed.

DataTable's own ``update_cell`` makes every row's cached drawing stale (its cache keys hold an update
counter), so a clock or a figure changing in one row redrew the whole table: every second, for the lists
and the Stats tab. Here the changed cells are noted, and only their cache entries (and their rows') go
before the next drawing (``render_lines``); only the changed row's lines are marked for drawing (the
screen composes that region alone), the other rows are not drawn at all.
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
