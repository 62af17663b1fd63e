"""One log for several containers: the marked ones (``M``), or the replicas of one image, or those that share
a label (command palette); lines interleaved by time, each after its container's name, following them all."""

from __future__ import annotations

import pytest

from app.tui.log_sources import MergedLog
from app.tui.widgets.containers_table import ContainersTable
from app.tui.widgets.log_view import LogView

from .conftest import make_app, settle, wait_for

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]


def _talker(word: str, pause: str) -> list[str]:
    return [
        "sh",
        "-c",
        f"trap 'exit 0' TERM; i=0; while true; do echo {word} $i; i=$((i+1)); sleep {pause}; done",
    ]


def _times(view: LogView) -> list[str]:
    return [view.get_line(r).time for r in range(view.rows)]


async def test_marked_containers_merged_by_time_and_followed(tui_engine, config, busybox, containers):
    a = containers(command=_talker("alpha", "0.05"), name="web-a")
    b = containers(command=_talker("beta", "0.07"), name="web-bb")
    containers(command=_talker("gamma", "0.05"), name="other")
    app = make_app(tui_engine, config)
    async with app.run_test(size=(140, 36)) as pilot:
        await settle(pilot)
        table = app.main.query_one(ContainersTable)
        table.focus()
        for c in (a, b):
            table.move_cursor(row=table.get_row_index(c.id))
            await pilot.press("space")
        await pilot.press("M")
        view = app.main.query_one(LogView)
        await wait_for(pilot, lambda: isinstance(view.source, MergedLog), what="the merged view")
        await wait_for(pilot, lambda: view.rows >= 20, what="lines of both")
        texts = [view.plain(r) for r in range(view.rows)]
        assert {t.split(" | ")[0].strip() for t in texts} == {"web-a", "web-bb"}  # not "other"
        assert all(t.startswith(("web-a  | alpha ", "web-bb | beta ")) for t in texts), texts[:5]
        assert _times(view) == sorted(_times(view))  # interleaved by time
        alpha = [int(t.split()[-1]) for t in texts if "alpha" in t]
        assert alpha == list(range(len(alpha)))  # each container's lines in their own order, none lost
        first = view.rows
        await wait_for(pilot, lambda: view.rows >= first + 10, what="new lines of both while following")
        names = {view.plain(r).split(" | ")[0].strip() for r in range(first, view.rows)}
        assert names == {"web-a", "web-bb"}
        assert view.follow and view.scroll_offset.y == view.max_scroll_y
        # each container's prefix has a colour of its own
        styles = {view._prefix(r).style for r in range(view.rows)}
        assert len(styles) == 2
        status = str(app.main.query_one("#log-status").render())
        assert "2 marked containers" in status and "following" in status
        # the filter works on the merged lines too
        await pilot.press("ampersand", *"beta", "enter")
        await wait_for(pilot, lambda: view.rows >= 3, what="the filtered merged view")
        assert all(view.plain(r).startswith("web-bb | beta") for r in range(view.rows))


async def test_replicas_of_an_image_and_a_label_group(tui_engine, config, busybox, containers):
    a = containers(command=_talker("one", "0.05"), name="rep-1", labels={"tier": "front"})
    b = containers(command=_talker("two", "0.05"), name="rep-2", labels={"tier": "front"})
    app = make_app(tui_engine, config)
    async with app.run_test(size=(140, 36)) as pilot:
        await settle(pilot)
        table = app.main.query_one(ContainersTable)
        table.focus()
        table.move_cursor(row=table.get_row_index(a.id))
        await pilot.press("M")  # nothing marked: every container of the selected one's image
        view = app.main.query_one(LogView)
        await wait_for(pilot, lambda: isinstance(view.source, MergedLog), what="the merged view")
        await wait_for(pilot, lambda: view.rows >= 10, what="lines")
        assert set(view.source.names) == {"rep-1", "rep-2"}
        assert "image busybox" in view.title
        await pilot.press("1")  # back in the list, the merged view stays
        await pilot.pause(0.5)
        assert isinstance(view.source, MergedLog)
        table.move_cursor(row=table.get_row_index(b.id))  # another row: its own log again
        await wait_for(pilot, lambda: not isinstance(view.source, MergedLog), what="the single log")
        await wait_for(pilot, lambda: view.line_count > 0, what="its lines")
        assert view.get_line(0).text == "two 0"
        commands = {c.title: c for c in app.get_system_commands(app.main)}
        assert "Merged logs: label tier=front" in commands
        commands["Merged logs: label tier=front"].callback()
        await wait_for(pilot, lambda: isinstance(view.source, MergedLog), what="the label's merged view")
        assert view.title == "label tier=front"
        assert b.name in view.source.names
