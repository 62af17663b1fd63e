"""The Events tab: what another process changed under the root shows up (newest first, with time, type,
action and name), with the events from before the app started, and the type and text filters narrow it."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from app.tui.widgets.events_view import EventsView

from .conftest import make_app, settle, wait_for
from .screen_text import screen_text, widget_lines

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]

TIME = re.compile(r"\b\d\d:\d\d:\d\d\b")


def _cli(root: str, *args: str) -> None:
    cli = os.path.join(os.path.dirname(sys.executable), "dockyard")
    subprocess.run([cli, *args], env={**os.environ, "DOCKYARD_ROOT": root}, check=True, capture_output=True)


def shown(app, *words: str) -> list[str]:
    """The Events tab's lines on screen holding every one of ``words``."""
    return widget_lines(app, app.main.query_one(EventsView), *words)


def _row(app, *words: str) -> int:
    """Which line of the Events tab first shows all of ``words``."""
    lines = widget_lines(app, app.main.query_one(EventsView))
    return next(i for i, line in enumerate(lines) if all(w in line for w in words))


async def test_events_from_another_process_newest_first_and_filtered(
    tui_engine, config, busybox, containers, root
):
    containers(start=False, name="before-app")  # in the event log before the app starts
    app = make_app(tui_engine, config)
    async with app.run_test(size=(140, 36)) as pilot:
        await settle(pilot)
        await pilot.press("E")
        view = app.main.query_one(EventsView)
        await wait_for(pilot, lambda: shown(app, "container", "create", "before-app"), what="the backlog")

        # another process: the CLI creates a container and tags an image
        _cli(root, "create", "--name", "from-cli", "busybox", "true")
        _cli(root, "tag", "busybox", "elsewhere:7")
        await wait_for(pilot, lambda: shown(app, "container", "create", "from-cli"), what="the CLI's create")
        await wait_for(pilot, lambda: shown(app, "image", "tag", "elsewhere:7"), what="the CLI's tag")
        line = shown(app, "container", "create", "from-cli")[0]
        assert TIME.search(line), line  # with its time
        assert "image=busybox" in line  # and the rest of its attributes
        # newest first: the tag, then the create, then what came before the app
        assert (
            _row(app, "tag", "elsewhere:7")
            < _row(app, "create", "from-cli")
            < _row(app, "create", "before-app")
        )

        # t: one type at a time
        await pilot.press("t")  # container
        await wait_for(pilot, lambda: not shown(app, "elsewhere:7"), what="image events hidden")
        assert shown(app, "create", "from-cli") and "container (t)" in screen_text(app)
        await pilot.press("t")  # image
        await wait_for(pilot, lambda: shown(app, "tag", "elsewhere:7"), what="image events only")
        assert not shown(app, "from-cli")
        await pilot.press("t", "t", "t")  # network, volume, then every type again
        assert view.kind == ""

        # /: words of the text (and type=...)
        await pilot.press("slash", *"from-cli")
        await pilot.pause(0.2)
        assert shown(app, "create", "from-cli")
        assert not shown(app, "before-app") and not shown(app, "elsewhere:7")
        await pilot.press("enter")
        assert app.focused is app.main.query_one("#events-table")  # back in the table: t works again
        app.main.query_one(EventsView).set_filter("type=image")
        await pilot.pause(0.2)
        assert shown(app, "elsewhere:7") and not shown(app, "from-cli")
        app.main.query_one(EventsView).set_filter("")

        # a change made while the tab is hidden is there when it is shown again
        app.main.open_tab("tab-logs", focus=False)
        _cli(root, "rm", "from-cli")
        await wait_for(
            pilot, lambda: any(e.action == "destroy" for e in app.event_history.events), what="destroy"
        )
        await pilot.pause(0.2)
        app.main.open_tab("tab-events", focus=False)
        await wait_for(pilot, lambda: shown(app, "destroy", "from-cli"), what="the destroy in the tab")
        assert _row(app, "destroy", "from-cli") < _row(app, "tag", "elsewhere:7")
