"""The app over a thousand containers: every row is there, the cursor keys and the filter work on them, and
containers another process makes, starts and removes meanwhile show up (the list follows the engine's events,
reading only what changed)."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from app.tui.widgets.containers_table import ContainersTable
from engine import CreateOptions, Engine

from .conftest import make_app, settle, wait_for
from .screen_text import screen_text, widget_lines

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]

COUNT = 1000


def _thousand(eng: Engine) -> list[str]:
    """COUNT created containers app-0000 … app-0999 (labelled), oldest first; their IDs."""
    ids = []
    for i in range(COUNT):
        opts = CreateOptions(name=f"app-{i:04d}", command=["true"], network="none", labels={"n": str(i)})
        ids.append(eng.containers.create("busybox", opts).id)
    return ids


def _topbar(app) -> str:
    """The top bar's text (the root's path before the counts is cut on screen when it is long)."""
    return str(app.main.query_one("#topbar", Static).render())


def _names(table: ContainersTable) -> list[str]:
    return [table.records[rid].name for rid in table.order]


async def test_a_thousand_rows_cursor_keys_and_filter(tui_engine, config, busybox):
    ids = _thousand(tui_engine)
    app = make_app(tui_engine, config)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        table = app.main.query_one(ContainersTable)
        assert table.row_count == COUNT
        assert set(table.records) == set(ids)
        assert _names(table) == [f"app-{i:04d}" for i in reversed(range(COUNT))]  # newest first
        assert "0 running / 1000 containers" in _topbar(app)
        assert widget_lines(app, table, "app-0999")  # the newest row is drawn

        table.focus()
        await pilot.press("down", "down", "down")
        await wait_for(pilot, lambda: table.cursor_row == 3, what="the cursor on the fourth row")
        assert table.current.name == "app-0996"
        await pilot.press("up")
        await wait_for(pilot, lambda: table.current.name == "app-0997", what="the cursor back up")
        await pilot.press("pagedown")
        await wait_for(pilot, lambda: table.cursor_row > 10, what="a page down")
        below = table.current.name
        await wait_for(pilot, lambda: bool(widget_lines(app, table, below)), what="the page scrolled")
        await pilot.press("end")
        await wait_for(pilot, lambda: table.current.name == "app-0000", what="the last row")
        await wait_for(pilot, lambda: bool(widget_lines(app, table, "app-0000")), what="the last row drawn")
        await pilot.press("home")
        await wait_for(pilot, lambda: table.current.name == "app-0999", what="the first row")

        await pilot.press("slash", *"app-012")
        await wait_for(pilot, lambda: table.row_count == 10, what="the filter's ten rows")
        assert sorted(_visible_names(table)) == [f"app-012{i}" for i in range(10)]
        assert "[filter: app-012]" in screen_text(app)
        assert widget_lines(app, table, "app-0129") and not widget_lines(app, table, "app-0999")
        await pilot.press("backspace")
        await wait_for(pilot, lambda: table.row_count == 100, what="a hundred rows for app-01")
        await pilot.press("escape")
        await wait_for(pilot, lambda: table.row_count == COUNT, what="every row again")
        assert widget_lines(app, table, "app-0999")


def _visible_names(table: ContainersTable) -> list[str]:
    return [
        table.records[str(table.coordinate_to_cell_key((i, 0)).row_key.value)].name
        for i in range(table.row_count)
    ]


async def test_containers_the_cli_makes_meanwhile_show_up(tui_engine, config, busybox, cli):
    _thousand(tui_engine)
    app = make_app(tui_engine, config)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        table = app.main.query_one(ContainersTable)
        table.focus()
        await pilot.press("down", "down")
        await wait_for(pilot, lambda: table.current is not None and table.current.name == "app-0997")

        cid = cli(
            "run", "-d", "--network", "none", "--name", "newcomer", "busybox", "sleep", "60"
        ).out.strip()
        await wait_for(pilot, lambda: cid in table.records, what="the new container in the list")
        assert table.row_count == COUNT + 1
        assert _names(table)[0] == "newcomer"  # the newest, at the top
        assert table.current.name == "app-0997"  # the cursor stays on its container
        await wait_for(pilot, lambda: table.records[cid].status == "running", what="it running")
        await wait_for(pilot, lambda: bool(widget_lines(app, table, "newcomer", "Up")), what="its row drawn")
        await wait_for(pilot, lambda: "1 running / 1001 containers" in _topbar(app), what="the counts")

        cli("stop", "-t", "0", "newcomer")
        await wait_for(pilot, lambda: table.records[cid].status == "exited", what="it stopped")
        await wait_for(pilot, lambda: bool(widget_lines(app, table, "newcomer", "Exited")), what="its status")

        cli("rm", "app-0500")
        await wait_for(pilot, lambda: "app-0500" not in _names(table), what="a removed container gone")
        cli("rm", "newcomer")
        await wait_for(pilot, lambda: cid not in table.records, what="the newcomer gone")
        assert table.row_count == COUNT - 1
        assert not widget_lines(app, table, "newcomer")
        assert table.current.name == "app-0997"
        await wait_for(pilot, lambda: "0 running / 999 containers" in _topbar(app), what="the counts")

        await pilot.press("slash", *"app-0501")  # the filter keeps working over what the events changed
        await wait_for(pilot, lambda: table.row_count == 1, what="one row")
        assert _visible_names(table) == ["app-0501"]
