"""What the app shows stays true: times age, and changes made by other processes reach the lists."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from app.tui.widgets.containers_table import ContainersTable
from app.tui.widgets.images_table import ImagesTable
from engine.humanize import parse_time

from .conftest import make_app, select_container, settle, wait_for

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _cell(table, row: str, column: str) -> str:
    cell = table.get_cell(row, column)
    return getattr(cell, "plain", str(cell))


async def test_exited_status_and_image_age_without_a_reload(tui_engine, config, busybox, containers):
    c = containers(command=["true"], name="quick")
    tui_engine.containers.wait(c.id)
    finished = parse_time(tui_engine.containers.get(c.id).finished_at)
    clock = Clock(finished + 0.2)
    app = make_app(tui_engine, config, clock=clock)
    async with app.run_test(size=(140, 36)) as pilot:
        await settle(pilot)
        table = app.main.query_one(ContainersTable)
        assert "Less than a second ago" in _cell(table, c.id, "status")
        image = tui_engine.images.get(busybox)
        images = app.main.query_one(ImagesTable)
        created = _cell(images, image.id, "created")
        reloads = app.reloads
        clock.now = finished + 5
        await wait_for(
            pilot,
            lambda: "5 seconds ago" in _cell(table, c.id, "status"),
            timeout=3,
            what="the status to age",
        )
        clock.now = parse_time(image.created) + 3 * 86400 * 365
        await wait_for(
            pilot,
            lambda: _cell(images, image.id, "created") == "3 years ago",
            timeout=3,
            what="CREATED to age",
        )
        assert created != "3 years ago"
        assert app.reloads == reloads  # aged from what was loaded, without asking the engine again


async def test_an_image_tagged_by_another_process_shows_up_within_a_second(tui_engine, config, busybox, root):
    app = make_app(tui_engine, config)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        cli = os.path.join(os.path.dirname(sys.executable), "dockyard")
        env = {**os.environ, "DOCKYARD_ROOT": root}
        subprocess.run([cli, "tag", busybox, "elsewhere:1"], env=env, check=True, capture_output=True)
        t0 = time.monotonic()
        await wait_for(
            pilot,
            lambda: any("elsewhere:1" in im.tags for im in app.snapshot.images),
            what="the tag made by the CLI",
            timeout=5,
        )
        assert time.monotonic() - t0 < 1.0
        subprocess.run([cli, "rmi", "elsewhere:1"], env=env, check=True, capture_output=True)
        await wait_for(
            pilot,
            lambda: not any("elsewhere:1" in im.tags for im in app.snapshot.images),
            what="the tag removed by the CLI",
            timeout=1.5,
        )


async def test_next_tab_keeps_the_keys_working(tui_engine, config, busybox, containers):
    from app.tui.widgets.inspect_tree import InspectTree
    from app.tui.widgets.log_view import LogView
    from app.tui.widgets.stats_view import StatsView

    c = containers(command=["sh", "-c", "trap 'exit 0' TERM; echo one; echo two; sleep 1000"], name="tabs")
    app = make_app(tui_engine, config)
    async with app.run_test(size=(120, 36)) as pilot:
        table = await select_container(pilot, c.id)
        await pilot.press("l")
        view = app.main.query_one(LogView)
        await wait_for(pilot, lambda: app.focused is view and view.line_count >= 2, what="the logs")
        await pilot.press("right_square_bracket")
        await wait_for(pilot, lambda: isinstance(app.focused, StatsView), what="the focus in the Stats tab")
        await pilot.press("right_square_bracket")
        await wait_for(pilot, lambda: isinstance(app.focused, InspectTree), what="the focus in Inspect")
        await pilot.press("left_square_bracket", "left_square_bracket")
        await wait_for(pilot, lambda: app.focused is view, what="the focus back in the logs")
        await pilot.press("g")  # the log's own keys work at once
        assert not view.follow
        await pilot.press("G")
        assert view.follow
        # From the list, the tabs change and the focus stays on the list.
        table.focus()
        await pilot.press("right_square_bracket")
        await pilot.pause(0.2)
        assert app.focused is table


async def test_up_always_pauses_a_fast_log(tui_engine, config, busybox, containers):
    from app.tui.widgets.log_view import LogView

    c = containers(
        command=["sh", "-c", "trap 'exit 0' TERM; i=0; while true; do echo line $i; i=$((i+1)); done"],
        name="flood",
    )
    app = make_app(tui_engine, config)
    async with app.run_test(size=(120, 36)) as pilot:
        await select_container(pilot, c.id)
        await pilot.press("l")
        view = app.main.query_one(LogView)
        await wait_for(pilot, lambda: view.line_count > 1000, what="a fast log")
        for _ in range(15):
            await pilot.press("G")
            assert view.follow
            await pilot.press("up")
            await pilot.pause(0.05)  # new lines arrive meanwhile
            assert not view.follow
            assert view.scroll_offset.y < view.max_scroll_y


async def test_the_current_search_match_stands_out(tui_engine, config, busybox, containers):
    from rich.console import Console
    from rich.style import Style

    from app.tui.formatting import solid
    from app.tui.widgets.log_view import LogView

    c = containers(command=["sh", "-c", "trap 'exit 0' TERM; echo alpha; echo needle here; sleep 1000"])
    app = make_app(tui_engine, config)
    async with app.run_test(size=(120, 36)) as pilot:
        await select_container(pilot, c.id)
        await pilot.press("l")
        view = app.main.query_one(LogView)
        await wait_for(pilot, lambda: view.line_count >= 2, what="the logs")
        await pilot.press("g", "slash", *"needle", "enter")
        await wait_for(pilot, lambda: view.match_line == 1, what="the match")
        text = view._text(1)
        at = text.plain.index("needle")
        console = Console()
        match = text.get_style_at_offset(console, at)
        rest = text.get_style_at_offset(console, at + len("needle ") + 1)
        wanted = Style.parse(app.theme_variables["log-match"])
        assert match.bgcolor == wanted.bgcolor and match.color == wanted.color, match
        assert match.bold and match.underline  # the current match, apart from the other matches
        assert (
            rest.bgcolor is not None
            and rest.bgcolor.name.lower() == solid(app.theme_variables, "panel").lower()
        )


async def test_quit_asks_while_shells_are_open_and_the_shell_footer_offers_only_its_keys(
    tui_engine, config, busybox, containers
):
    from app.tui.dialogs.confirm import ConfirmDialog
    from app.tui.widgets.terminal import TerminalView

    c = containers(name="shellbox")
    app = make_app(tui_engine, config)
    async with app.run_test(size=(120, 36)) as pilot:
        await select_container(pilot, c.id)
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.focused, TerminalView), what="the shell")
        keys = {b.binding.key for b in app.screen.active_bindings.values()}
        assert not keys & {"q", "s", "x", "d", "l"}, keys
        assert "ctrl+right_square_bracket" in keys
        await pilot.press("ctrl+right_square_bracket")
        await pilot.press("q")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the question")
        assert "1 terminal session" in app.screen.TITLE_TEXT
        await pilot.press("n")
        await pilot.pause(0.2)
        assert app.is_running and not isinstance(app.screen, ConfirmDialog)
        await pilot.press("q", "y")
        await wait_for(pilot, lambda: not app.is_running, what="the app to quit")


async def test_home_and_end_jump_to_the_first_and_last_row(tui_engine, config, busybox, containers):
    made = [containers(start=False, name=f"row{i}") for i in range(4)]
    app = make_app(tui_engine, config)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        table = app.main.query_one(ContainersTable)
        await wait_for(pilot, lambda: table.row_count == len(made), what="the rows")
        table.focus()
        table.move_cursor(row=1)
        await pilot.press("end")
        assert table.cursor_row == table.row_count - 1 and table.scroll_x == 0
        await pilot.press("home")
        assert table.cursor_row == 0 and table.scroll_x == 0


async def test_marked_rows_start_restart_and_pause_together(tui_engine, config, busybox, containers):
    from .conftest import status_of

    made = [containers(start=False, name=f"m{i}") for i in range(3)]
    app = make_app(tui_engine, config)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        table = app.main.query_one(ContainersTable)
        await wait_for(pilot, lambda: table.row_count == 3, what="the rows")
        table.focus()
        for c in made[:2]:
            table.move_cursor(row=table.get_row_index(c.id))
            await pilot.press("space")
        await pilot.press("s")
        await wait_for(
            pilot,
            lambda: [status_of(tui_engine, c.id) for c in made] == ["running", "running", "created"],
            what="the two marked containers to start",
        )
        assert not table.marked
        for c in made[:2]:
            table.move_cursor(row=table.get_row_index(c.id))
            await pilot.press("space")
        await pilot.press("p")
        await wait_for(
            pilot,
            lambda: [status_of(tui_engine, c.id) for c in made[:2]] == ["paused", "paused"],
            what="the two marked containers to pause",
        )
        assert all(str(table.get_cell(c.id, "mark")).strip() == "" for c in made)  # the marks are gone


async def test_errors_name_the_container_not_its_full_id(tui_engine, config, busybox, containers):
    import re

    from .conftest import notifications

    c = containers(start=False, name="sleepy")
    app = make_app(tui_engine, config)
    async with app.run_test(size=(120, 36)) as pilot:
        await select_container(pilot, c.id)
        await pilot.press("p")  # pause a container that is not running
        await wait_for(pilot, lambda: notifications(app), what="the error")
        text = " ".join(notifications(app)) + " ".join(str(n.title) for n in app._notifications)
        assert not re.search(r"[0-9a-f]{64}", text), text
        assert "sleepy" in text


async def test_a_slow_stop_says_stopping_at_once(tui_engine, config, busybox, containers):
    from .conftest import status_of

    c = containers(command=["sleep", "1000"], name="stubborn")  # PID 1 ignores TERM: the stop waits it out
    config.stop_timeout = 3
    app = make_app(tui_engine, config)
    async with app.run_test(size=(120, 36)) as pilot:
        table = await select_container(pilot, c.id)
        await pilot.press("x")
        await pilot.pause(0.3)
        assert "Stopping…" in _cell(table, c.id, "status")
        assert status_of(tui_engine, c.id) == "running"
        await wait_for(pilot, lambda: status_of(tui_engine, c.id) == "exited", timeout=10, what="the stop")
        await wait_for(
            pilot, lambda: "Exited (137)" in _cell(table, c.id, "status"), timeout=3, what="the new status"
        )


async def test_columns_fit_the_pane_and_shrink_when_long_values_go(tui_engine, config, busybox, containers):
    long = containers(start=False, name="a-container-with-a-very-long-name-indeed-" + "x" * 30)
    short = containers(start=False, name="short")
    app = make_app(tui_engine, config)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.main.query_one(ContainersTable)
        await wait_for(pilot, lambda: table.row_count == 2, what="the rows")
        await pilot.pause(0.2)
        room = table.scrollable_content_region.width
        assert table.virtual_size.width <= room, (table.virtual_size.width, room)  # no sideways scrolling
        widths = {str(k.value): c.width for k, c in table.columns.items()}
        assert widths["status"] >= len("○ Created") and widths["name"] < len(
            long.name
        )  # the long name gives way
        tui_engine.containers.remove(long.id, force=True)
        await wait_for(pilot, lambda: table.row_count == 1, what="the long name to go")
        await pilot.pause(0.2)
        assert table.columns[next(k for k in table.columns if k.value == "name")].width == max(
            len("short"), 4
        )
        assert short.id in table.records


async def test_run_dialog_offers_the_engines_networks_and_keeps_what_was_typed_when_refused(
    tui_engine, config, busybox, containers
):
    from textual.widgets import Input, Select

    containers(start=False, name="taken")
    tui_engine.networks.create("inner", internal=True)
    app = make_app(tui_engine, config)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await wait_for(pilot, lambda: "inner" in app.snapshot.networks, what="the networks")
        await pilot.press("2", "enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "RunDialog", what="the Run dialog")
        dialog = app.screen
        network = dialog.query_one("#network", Select)
        assert network.value == tui_engine.default_network()  # not hard-wired
        offered = [value for _label, value in network._options]
        assert {"bridge", "host", "none", "inner"} <= set(offered)
        await pilot.press(*"taken", "tab", *"sleep 30")
        dialog.query_one("#env", Input).value = "A=1"
        await pilot.click("#ok")
        await wait_for(
            pilot,
            lambda: "already in use" in str(dialog.query_one("#dialog-error").render()),
            what="the refusal",
        )
        assert app.screen is dialog  # still open, with what was typed
        assert dialog.query_one("#name", Input).value == "taken"
        assert dialog.query_one("#command", Input).value == "sleep 30"
        assert dialog.query_one("#env", Input).value == "A=1"
        dialog.query_one("#name", Input).value = "fresh"
        network.value = "inner"
        dialog.query_one("#name", Input).focus()
        await pilot.press("enter")
        try:
            await wait_for(pilot, lambda: app.screen is not dialog, what="the dialog to close")
        except AssertionError:
            raise AssertionError(dialog.query_one("#dialog-error").render()) from None
        c = tui_engine.containers.get("fresh")
        assert "inner" in tui_engine.containers.inspect(c.id)["NetworkSettings"]["Networks"]
        tui_engine.containers.remove(c.id, force=True)


async def test_build_dialog_starts_on_the_context_and_watches(tui_engine, config, busybox, tmp_path):
    from textual.widgets import Checkbox, Input

    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM busybox\nCOPY msg /msg\n")
    (ctx / "msg").write_text("one\n")
    app = make_app(tui_engine, config)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "BuildDialog", what="the Build dialog")
        dialog = app.screen
        assert app.focused is dialog.query_one("#context", Input)
        dialog.query_one("#context", Input).value = str(ctx)
        dialog.query_one("#tag", Input).value = "watched:1"
        dialog.query_one("#watch", Checkbox).value = True
        await pilot.click("#ok")
        await wait_for(
            pilot, lambda: tui_engine.images.exists("watched:1"), what="the first build", timeout=60
        )
        first = tui_engine.images.resolve("watched:1")
        await pilot.pause(0.5)
        (ctx / "msg").write_text("two\n")
        await wait_for(
            pilot, lambda: tui_engine.images.resolve("watched:1") != first, what="the rebuild", timeout=60
        )
        await pilot.press("escape")
        await wait_for(pilot, lambda: dialog.stop_watching.is_set(), what="the watch to stop")
        await app.workers.wait_for_complete()


async def test_layer_toggles_show_their_state_and_ctrl_a_on_the_writable_layer_says_why(
    tui_engine, config, busybox, containers
):
    from textual.widgets import Static

    from app.tui.widgets.layers_pane import LayersPane

    from .conftest import notifications

    c = containers(start=False, name="layered")
    app = make_app(tui_engine, config)
    async with app.run_test(size=(140, 40)) as pilot:
        await select_container(pilot, c.id)
        await settle(pilot)
        pane = app.main.query_one(LayersPane)
        title = pane.query_one("#layers-files-title", Static)
        await wait_for(pilot, lambda: "○ all layers" in str(title.render()), what="the toggles' state")
        assert "○ only changes" in str(title.render())
        await pilot.press("3")  # the layers table, on the writable layer
        await pilot.press("ctrl+a")
        await wait_for(pilot, lambda: any("writable layer" in n for n in notifications(app)), what="why")
        await wait_for(pilot, lambda: "● all layers" in str(title.render()), what="ctrl+a's state")
        await pilot.press("ctrl+u")
        await wait_for(pilot, lambda: "● only changes" in str(title.render()), what="ctrl+u's state")
