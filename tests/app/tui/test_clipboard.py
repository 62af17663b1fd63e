"""Copies to the clipboard (OSC 52, through App.copy_to_clipboard): a container's ID (``y``) or name (``Y``),
and a range of log lines picked in selection mode (``V``, move, ``y``)."""

from __future__ import annotations

import pytest

from app.tui.widgets.containers_table import ContainersTable
from app.tui.widgets.log_view import LogView

from .conftest import make_app, settle, wait_for

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]


def _recording(app) -> list[str]:
    """What the app hands to the clipboard, in order (the real method still runs)."""
    copied: list[str] = []
    real = app.copy_to_clipboard

    def copy(text: str) -> None:
        copied.append(text)
        real(text)

    app.copy_to_clipboard = copy
    return copied


async def test_copy_container_id_and_name(tui_engine, config, busybox, containers):
    c = containers(name="copied-one")
    containers(name="another")
    app = make_app(tui_engine, config)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        copied = _recording(app)
        table = app.main.query_one(ContainersTable)
        table.focus()
        table.move_cursor(row=table.get_row_index(c.id))
        await pilot.pause(0.2)
        await pilot.press("y")
        await pilot.press("Y")
        assert copied == [c.id, "copied-one"]
        assert app.clipboard == "copied-one"
        await pilot.press("2", "y")  # in the Images pane: the image's ID
        assert copied[-1] == tui_engine.images.get(busybox).id


async def test_copy_a_range_of_log_lines(tui_engine, config, busybox, containers):
    c = containers(
        command=["sh", "-c", "for i in $(seq 1 50); do echo line $i; done; sleep 60"], name="lines"
    )
    app = make_app(tui_engine, config)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        copied = _recording(app)
        table = app.main.query_one(ContainersTable)
        table.focus()
        table.move_cursor(row=table.get_row_index(c.id))
        await pilot.press("l")
        view = app.main.query_one(LogView)
        await wait_for(pilot, lambda: view.line_count == 50, what="the lines")
        await wait_for(pilot, lambda: app.focused is view, what="the focus in the log")
        await pilot.press("y")  # not selecting: y copies the container's ID, as everywhere
        assert copied == [c.id]
        await pilot.press("V")  # the cursor on the last line shown (the view was following)
        assert view.selecting and view.cursor == 49
        await pilot.press("up", "up", "up")
        assert list(view.selected_rows()) == [46, 47, 48, 49]
        status = str(app.main.query_one("#log-status").render())
        assert "4 selected" in status
        await pilot.press("y")
        assert copied[-1] == "line 47\nline 48\nline 49\nline 50"
        assert not view.selecting
        await pilot.press("g", "V", "down", "t", "y")  # from the first line, with timestamps shown
        text = copied[-1].splitlines()
        assert len(text) == 2 and text[0].endswith(" line 1") and text[1].endswith(" line 2")
        assert text[0][:2] == "20" and text[0] != "line 1"  # the timestamp, as the view shows it
        await pilot.press("V", "escape")  # escape leaves selection mode without copying
        assert not view.selecting and len(copied) == 3
