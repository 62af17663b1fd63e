"""A list cell updated in place is drawn anew with its row only: the other rows keep their cached drawing
(the lists and the Stats tab update cells every second, and redrawing every row cost most of the app's idle
CPU). What the table shows is checked, and which rows were drawn again."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.geometry import Region

from app.tui.widgets.in_place import InPlaceTable

pytestmark = pytest.mark.asyncio


class _Tables(App[None]):
    def compose(self) -> ComposeResult:
        yield InPlaceTable(id="t")


def _lines(table: InPlaceTable) -> list[str]:
    """The table's lines as the screen gets them (header first)."""
    strips = table.render_lines(Region(0, 0, table.size.width, table.row_count + 1))
    return [strip.text for strip in strips]


async def test_updated_cell_redraws_its_row_only():
    app = _Tables()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(InPlaceTable)
        table.add_column("NAME", key="name")
        table.add_column("CPU", key="cpu", width=6)
        for i in range(5):
            table.add_row(f"c{i}", "0.00%", key=f"r{i}")
        await pilot.pause()
        table.update_cell("r0", "cpu", "0.00%")  # every line drawn once through the table's own caches
        before = _lines(table)
        drawn: list[int] = []
        real = table._render_line_in_row

        def counting(row_key, *args, **kw):
            drawn.append(table.get_row_index(row_key) if row_key.value else -1)
            return real(row_key, *args, **kw)

        table._render_line_in_row = counting
        table.update_cell("r2", "cpu", "7.50%")
        after = _lines(table)
        assert "7.50%" in after[3] and "0.00%" in before[3]
        assert after[:3] == before[:3] and after[4:] == before[4:]
        assert drawn == [2]  # only the changed row was drawn again
        with pytest.raises(Exception, match="No cell exists"):
            table.update_cell("nope", "cpu", "1")
