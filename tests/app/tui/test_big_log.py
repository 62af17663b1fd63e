"""The Logs tab on a big log: its last lines are drawn before the rest of the log is counted, the earlier
lines come in above them (a reader who scrolled up keeps the line they were on), and a pty container's
lines are shown without their carriage returns. "Big" is made small here (the index's thresholds are
module settings), so that the same code runs on a log of a few hundred KB."""

from __future__ import annotations

import pytest

from engine.runtime import logindex

from .conftest import make_app, open_logs, wait_for
from .screen_text import widget_lines

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]


@pytest.fixture
def small_big(monkeypatch) -> None:
    monkeypatch.setattr(logindex, "WINDOW_MIN", 20_000)
    monkeypatch.setattr(logindex, "WINDOW", 8_000)
    monkeypatch.setattr(logindex, "READ", 1 << 16)


async def test_a_big_logs_last_lines_first_then_all_of_it(tui_engine, config, busybox, containers, small_big):
    n = 30_000
    c = containers(command=["sh", "-c", f'i=0; while [ $i -lt {n} ]; do echo "line $i"; i=$((i+1)); done'])
    tui_engine.containers.wait(c.id)
    app = make_app(tui_engine, config)
    async with app.run_test(size=(120, 36)) as pilot:
        view = await open_logs(pilot, c.id)
        await wait_for(pilot, lambda: view.rows > 0, what="the log's tail")
        await wait_for(pilot, lambda: widget_lines(app, view, f"line {n - 1}"), what="the last line drawn")
        await wait_for(pilot, lambda: view.line_count == n, timeout=30, what="the whole log counted")
        assert "counting" not in view.status() and f"{n:,} lines" in view.status()
        await pilot.press("g")  # the top: the log's first line
        await wait_for(pilot, lambda: widget_lines(app, view, "line 0 ") or widget_lines(app, view, "line 0"))
        assert view.plain(0) == "line 0" and view.plain(n - 1) == f"line {n - 1}"
        assert [view.plain(r) for r in range(12_000, 12_005)] == [f"line {k}" for k in range(12_000, 12_005)]


async def test_a_second_app_finds_the_log_counted(tui_engine, config, busybox, containers, small_big):
    n = 30_000
    c = containers(command=["sh", "-c", f'i=0; while [ $i -lt {n} ]; do echo "line $i"; i=$((i+1)); done'])
    tui_engine.containers.wait(c.id)
    for first in (True, False):
        app = make_app(tui_engine, config)
        async with app.run_test(size=(120, 36)) as pilot:
            view = await open_logs(pilot, c.id)
            await wait_for(pilot, lambda v=view: v.rows > 0, what="the log")
            if not first:  # what the first app counted was kept beside the log: nothing is left to count
                assert view.line_count == n and "counting" not in view.status()
            await wait_for(pilot, lambda v=view: v.line_count == n, timeout=30, what="the whole log counted")
            assert view.plain(0) == "line 0"


async def test_a_pty_containers_log(tui_engine, config, busybox, containers):
    c = containers(
        command=["sh", "-c", "i=0; while [ $i -lt 500 ]; do echo row $i; i=$((i+1)); done"], tty=True
    )
    tui_engine.containers.wait(c.id)
    app = make_app(tui_engine, config)
    async with app.run_test(size=(120, 36)) as pilot:
        view = await open_logs(pilot, c.id)
        await wait_for(pilot, lambda: view.line_count == 500, what="the log")
        await wait_for(pilot, lambda: widget_lines(app, view, "row 499"), what="the last line drawn")
        assert view.plain(499) == "row 499" and view.get_line(499).text == "row 499\r"


async def test_following_a_log_of_wide_lines_keeps_its_last_line_above_the_scrollbar(
    tui_engine, config, busybox, containers
):
    script = 'i=0; while [ $i -lt 300 ]; do echo "wide $i $(printf %0300d 0)"; i=$((i+1)); done; echo the end'
    c = containers(command=["sh", "-c", script])
    tui_engine.containers.wait(c.id)
    app = make_app(tui_engine, config)
    async with app.run_test(size=(120, 36)) as pilot:
        view = await open_logs(pilot, c.id)
        await wait_for(pilot, lambda: view.line_count == 301, what="the log")
        await pilot.pause(0.5)
        assert view.virtual_size.width > view.size.width  # a horizontal scrollbar
        await wait_for(pilot, lambda: widget_lines(app, view, "the end"), what="the last line on screen")
        assert view.follow
