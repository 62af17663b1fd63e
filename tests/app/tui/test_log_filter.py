"""The Logs view's filter (``&``): only the lines holding a text, found by a scan in a worker, kept up to
date while the log is followed; ``F`` turns it off and on again. Real containers, what the view shows."""

from __future__ import annotations

import pytest

from app.tui.widgets.log_view import LogView

from .conftest import make_app, open_logs, wait_for

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]

TALKER = (
    "trap 'exit 0' TERM; i=0; while true; do "
    'if [ $((i % 5)) = 0 ]; then echo "ERROR number $i" >&2; else echo "fine $i"; fi; '
    "i=$((i+1)); sleep 0.02; done"
)


def _screen_lines(view: LogView) -> list[str]:
    """The text of the view's rows on screen."""
    return [view.render_line(y).text for y in range(view.scrollable_content_region.height)]


def _status(app) -> str:
    return str(app.main.query_one("#log-status").render())


async def test_filter_keeps_matching_lines_and_follows_new_ones(tui_engine, config, busybox, containers):
    c = containers(command=["sh", "-c", TALKER], name="chatty")
    app = make_app(tui_engine, config)
    async with app.run_test(size=(120, 36)) as pilot:
        view = await open_logs(pilot, c.id)
        await wait_for(pilot, lambda: view.line_count >= 30, what="some lines")
        await pilot.press("ampersand", *"error", "enter")
        await wait_for(pilot, lambda: view.rows >= 6, what="the filtered lines")
        assert view.filter_text == "error"
        assert all("ERROR number" in view.plain(r) for r in range(view.rows))
        numbers = [int(view.plain(r).split()[-1]) for r in range(view.rows)]
        assert all(n % 5 == 0 for n in numbers) and numbers == sorted(numbers)
        assert numbers[:3] == [0, 5, 10]
        await wait_for(pilot, lambda: view.rows > len(numbers) + 3, what="new matching lines while following")
        assert view.follow
        await pilot.pause(0.2)
        shown = [line for line in _screen_lines(view) if line.strip()]
        assert shown and all("ERROR number" in line for line in shown), shown
        last = int(view.plain(view.rows - 1).split()[-1])
        assert f"ERROR number {last}" in shown[-1]  # following: the newest match is the bottom line
        assert "filter “error”" in _status(app)
        await pilot.press("F")  # off: every line again
        assert view.filter_text == "" and view.rows == view.line_count
        await pilot.pause(0.2)
        assert any(line.strip().startswith("fine") for line in _screen_lines(view))
        await pilot.press("F")  # on again with the same text
        assert view.filter_text == "error"
        await wait_for(pilot, lambda: view.rows >= len(numbers), what="the filter again")
        await pilot.press("ampersand", "ctrl+u", "enter")  # empty: every line
        assert view.filter_text == ""


async def test_filter_over_a_long_log_and_search_inside_it(tui_engine, config, busybox, containers):
    c = containers(command=["sh", "-c", "seq 1 300000"], name="counter")
    tui_engine.containers.wait(c.id)
    expected = [n for n in range(1, 300001) if "4242" in str(n)]
    app = make_app(tui_engine, config)
    async with app.run_test(size=(120, 36)) as pilot:
        view = await open_logs(pilot, c.id)
        await wait_for(pilot, lambda: view.line_count == 300000, what="the whole log counted")
        await pilot.press("ampersand", *"4242", "enter")
        await wait_for(
            pilot, lambda: view.filter_scanned == 300000, timeout=30, what="the filter's scan to end"
        )
        assert [int(view.plain(r)) for r in range(view.rows)] == expected
        assert f"{len(expected)} shown" in _status(app)
        await pilot.press("g", "slash", *"14242", "enter")  # the search goes through the kept lines only
        await wait_for(pilot, lambda: view.match_line is not None, what="the search")
        assert view.plain(view.match_line) == "14242"
        assert f"match at line {14242:,}" in _status(app)  # the log's own line number
        await pilot.press("n")
        await wait_for(pilot, lambda: view.plain(view.match_line or 0) == "114242", what="the next match")
