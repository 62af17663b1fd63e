"""Every container action driven through the app's keys against real containers (all removed afterwards)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from app.tui.widgets.containers_table import ContainersTable
from app.tui.widgets.inspect_tree import InspectTree
from app.tui.widgets.log_view import LogView
from app.tui.widgets.terminal import TerminalView

from .conftest import make_app, notifications, settle, status_of, wait_for

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]


def _select(app, cid: str) -> None:
    table = app.main.query_one(ContainersTable)
    table.move_cursor(row=table.get_row_index(cid))
    table.focus()


async def test_start_stop_restart_pause(tui_engine, config, busybox, containers):
    c = containers(start=False, name="worker")
    app = make_app(tui_engine, config)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        _select(app, c.id)
        await pilot.press("s")
        await wait_for(pilot, lambda: status_of(tui_engine, c.id) == "running", what="start")
        await wait_for(pilot, lambda: app.main.containers.current.status == "running", what="the list")
        await pilot.press("p")
        await wait_for(pilot, lambda: status_of(tui_engine, c.id) == "paused", what="pause")
        await wait_for(pilot, lambda: app.main.containers.current.status == "paused", what="the list")
        await pilot.press("p")
        await wait_for(pilot, lambda: status_of(tui_engine, c.id) == "running", what="unpause")
        started = tui_engine.containers.get(c.id).started_at
        await pilot.press("r")
        await wait_for(pilot, lambda: tui_engine.containers.get(c.id).started_at != started, what="restart")
        await pilot.press("x")
        await wait_for(pilot, lambda: status_of(tui_engine, c.id) == "exited", what="stop")
        await wait_for(
            pilot, lambda: "Exited (0)" in app.main.containers.current.status_text(), what="the list"
        )


async def test_rename_and_remove(tui_engine, config, busybox, containers):
    c = containers(start=False, name="before")
    app = make_app(tui_engine, config)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        _select(app, c.id)
        await pilot.press("n")
        await pilot.pause(0.2)
        await pilot.press(*["backspace"] * 10, *"after", "enter")
        await wait_for(pilot, lambda: tui_engine.containers.get(c.id).name == "after", what="rename")
        await wait_for(pilot, lambda: app.main.containers.current.name == "after", what="the list")
        await pilot.press("d")
        await pilot.pause(0.2)
        assert type(app.screen).__name__ == "ConfirmDialog"
        await pilot.press("y")
        await wait_for(pilot, lambda: not tui_engine.containers.list(all=True), what="remove")
        await wait_for(pilot, lambda: app.main.containers.row_count == 0, what="the list")


async def test_rename_conflict_is_a_notification(tui_engine, config, busybox, containers):
    containers(start=False, name="taken")
    c = containers(start=False, name="mine")
    app = make_app(tui_engine, config, feeds=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        _select(app, c.id)
        await pilot.press("n", *["backspace"] * 4, *"taken", "enter")
        await wait_for(pilot, lambda: notifications(app), what="the error")
        assert "already in use" in notifications(app)[0]
        assert app.is_running


async def test_bulk_stop_and_prune(tui_engine, config, busybox, containers):
    a = containers(name="bulk-a")
    b = containers(name="bulk-b")
    app = make_app(tui_engine, config)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        table = app.main.containers
        table.focus()
        table.move_cursor(row=0)
        await pilot.press("space", "space")
        assert table.marked == {a.id, b.id}
        await pilot.press("x")
        await wait_for(
            pilot, lambda: all(status_of(tui_engine, x.id) == "exited" for x in (a, b)), what="stops"
        )
        await wait_for(
            pilot,
            lambda: all(c.status == "exited" for c in app.snapshot.containers),
            what="the list to show them stopped",
        )
        await pilot.press("P")
        await pilot.pause(0.2)
        assert app.screen.TITLE_TEXT == "Prune 2 stopped containers?"  # how many, before anything goes
        assert "bulk-a" in str(app.screen.detail) and "bulk-b" in str(app.screen.detail)
        await pilot.press("y")
        await wait_for(pilot, lambda: not tui_engine.containers.list(all=True), what="prune")


async def test_run_from_image_dialog(tui_engine, config, busybox, containers):
    app = make_app(tui_engine, config)
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await pilot.press("2", "enter")
            await pilot.pause(0.3)
            assert type(app.screen).__name__ == "RunDialog"
            await pilot.press(*"from-dialog", "tab")
            await pilot.press(*"sh -c 'echo dialog-ran; sleep 30'")
            app.screen.query_one("#env").value = "GREETING=hi"
            await pilot.click("#ok")
            await wait_for(
                pilot,
                lambda: any(c.name == "from-dialog" for c in tui_engine.containers.list()),
                what="the container to run",
            )
            c = tui_engine.containers.get("from-dialog")
            assert c.command[-1] == "echo dialog-ran; sleep 30"
            assert "GREETING=hi" in tui_engine.containers.inspect(c.id)["Config"]["Env"]
            await wait_for(
                pilot, lambda: any(x.name == "from-dialog" for x in app.snapshot.containers), what="the list"
            )
    finally:
        for c in tui_engine.containers.list(all=True):
            tui_engine.containers.remove(c.id, force=True)


async def test_logs_appear_live(tui_engine, config, busybox, containers):
    c = containers(
        command=[
            "sh",
            "-c",
            "trap 'exit 0' TERM; i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done",
        ],
        name="talker",
    )
    app = make_app(tui_engine, config)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        _select(app, c.id)
        await pilot.press("l")
        view = app.main.query_one(LogView)
        await wait_for(pilot, lambda: view.line_count >= 3, what="first lines")
        first = view.line_count
        await wait_for(pilot, lambda: view.line_count >= first + 5, what="more lines")
        assert view.get_line(0).text == "tick 0"
        assert view.follow and view.scroll_offset.y == view.max_scroll_y
        assert app.focused is view, app.focused
        await pilot.press("g")  # to the first line: the search goes down from the top of the view
        assert not view.follow
        await pilot.press("slash", *"tick 2", "enter")
        await wait_for(pilot, lambda: view.match_line == 2, what="the search")
        await pilot.press("n")
        await wait_for(pilot, lambda: view.match_line == 20, what="the next match")
        await pilot.press("G")
        assert view.follow


async def test_stats_update(tui_engine, config, busybox, containers):
    c = containers(command=["sh", "-c", "trap 'exit 0' TERM; while true; do :; done"], name="busy")
    app = make_app(tui_engine, config)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        _select(app, c.id)
        await pilot.press("S")
        await wait_for(
            pilot,
            lambda: len(app.history.get(c.id).cpu if app.history.get(c.id) else []) >= 3,
            what="three samples",
        )
        assert max(app.history.get(c.id).cpu) > 5.0
        cell = app.main.containers.get_cell(c.id, "cpu")
        assert str(cell).endswith("%")
        title = str(app.main.query_one("#stats-title").render())
        assert "busy" in title and "CPU" in title


async def test_shell_in_terminal_pane(tui_engine, config, busybox, containers):
    c = containers(name="shellbox")
    app = make_app(tui_engine, config)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        _select(app, c.id)
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.focused, TerminalView), what="the shell")
        view = app.focused
        await wait_for(pilot, lambda: "#" in "".join(view.session.screen.display), what="a prompt")
        await pilot.press(*"echo hello-$((6*7))", "enter")
        await wait_for(pilot, lambda: "hello-42" in "\n".join(view.session.screen.display), what="output")
        # the pty follows the widget's size
        await pilot.resize_terminal(100, 30)
        await pilot.pause(0.3)
        await pilot.press(*"stty size", "enter")
        rows, cols = view.size.height, view.size.width
        await wait_for(pilot, lambda: f"{rows} {cols}" in "\n".join(view.session.screen.display), what="stty")
        # ctrl+c reaches the shell, ctrl+] leaves with the session kept
        await pilot.press(*"sleep 30", "enter", "ctrl+c")
        await pilot.press(*"echo after-interrupt", "enter")
        await wait_for(
            pilot,
            lambda: any(line.rstrip() == "after-interrupt" for line in view.session.screen.display),
            what="ctrl+c",
        )
        await pilot.press("ctrl+right_square_bracket")
        assert app.focused is app.main.containers and not view.session.ended
        await pilot.press("e")
        await wait_for(pilot, lambda: app.focused is view, what="back to the same session")
        await pilot.press(*"exit", "enter")
        await wait_for(pilot, lambda: view.session.ended and not app.main.query(TerminalView), what="closing")


async def test_inspect_wait_and_commit(tui_engine, config, busybox, containers):
    c = containers(command=["sh", "-c", "echo data > /made-here; sleep 1; exit 3"], name="short")
    app = make_app(tui_engine, config)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        _select(app, c.id)
        await pilot.press("i")
        tree = app.main.query_one(InspectTree)
        await wait_for(pilot, lambda: str(tree.root.label) == "short" and tree.root.children, what="inspect")
        await pilot.press("1", "w")
        await wait_for(pilot, lambda: any("exited with code 3" in n for n in notifications(app)), what="wait")
        if not hasattr(tui_engine.containers, "commit"):
            return
        await pilot.press("c")
        await pilot.pause(0.2)
        await pilot.press(*"committed:1", "enter")
        await wait_for(pilot, lambda: tui_engine.images.exists("committed:1"), what="commit", timeout=20)
        await pilot.press("1")
        app.main.subject = "container"
        app.main.open_tab("tab-layers", focus=False)
        await wait_for(
            pilot,
            lambda: (
                app.main.query_one("LayersPane").report is not None
                and app.main.query_one("LayersPane").report.rows[0].writable
            ),
            what="layers",
        )
        writable = app.main.query_one("LayersPane").report.rows[0]
        assert writable.tree is not None and writable.tree.children["made-here"].kind == "A"


async def test_changes_from_another_process_show_up(tui_engine, config, busybox, containers, root):
    app = make_app(tui_engine, config)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        env = {**os.environ, "DOCKYARD_ROOT": root}
        cli = os.path.join(os.path.dirname(sys.executable), "dockyard")
        subprocess.run(
            [cli, "create", "--name", "from-cli", "--network", "none", "busybox", "true"],
            env=env,
            check=True,
            capture_output=True,
        )
        t0 = time.monotonic()
        await wait_for(
            pilot,
            lambda: any(c.name == "from-cli" for c in app.snapshot.containers),
            what="the CLI's container",
            timeout=5,
        )
        assert time.monotonic() - t0 < 1.0


async def test_remapped_key(tui_engine, config, busybox, containers):
    c = containers(name="remap")
    config.keys = {"container.stop": "z"}
    app = make_app(tui_engine, config)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        _select(app, c.id)
        await pilot.press("x")
        await pilot.pause(0.5)
        assert status_of(tui_engine, c.id) == "running"
        await pilot.press("z")
        await wait_for(pilot, lambda: status_of(tui_engine, c.id) == "exited", what="stop by z")


async def test_attach_in_terminal_pane(tui_engine, config, busybox, containers):
    c = containers(
        command=["sh", "-c", "while read line; do echo got:$line; done"], name="reader", stdin_open=True
    )
    app = make_app(tui_engine, config)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        _select(app, c.id)
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.focused, TerminalView), what="the attach session")
        view = app.focused
        await pilot.press(*"ping", "enter")
        await wait_for(pilot, lambda: "got:ping" in "\n".join(view.session.screen.display), what="the echo")


async def test_build_dialog(tui_engine, config, busybox, tmp_path):
    if not hasattr(tui_engine.images, "build"):
        pytest.skip("this engine cannot build yet")
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM busybox\nRUN echo built-here > /marker\n")
    app = make_app(tui_engine, config)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await pilot.pause(0.3)
        app.screen.query_one("#context").value = str(ctx)
        app.screen.query_one("#tag").value = "built:1"
        await pilot.click("#ok")
        await wait_for(pilot, lambda: tui_engine.images.exists("built:1"), what="the build", timeout=60)
        await wait_for(pilot, lambda: any("Built" in n for n in notifications(app)), what="the notice")
        log = "\n".join(str(line.text) for line in app.screen.query_one("#build-log").lines)
        assert "RUN echo built-here" in log


async def test_recreate_from_another_version(tui_engine, config, busybox, containers):
    tui_engine.images.tag("busybox", "busybox:v2")
    c = containers(name="svc", stop_timeout=1)
    app = make_app(tui_engine, config)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        _select(app, c.id)
        await pilot.press("v")
        await pilot.pause(0.2)
        assert type(app.screen).__name__ == "VersionDialog"
        await pilot.press("enter")  # the only other version: busybox:v2
        await pilot.pause(0.2)
        assert type(app.screen).__name__ == "ConfirmDialog"
        await pilot.press("y")
        await wait_for(
            pilot,
            lambda: [x.image for x in tui_engine.containers.list(all=True)] == ["busybox:v2"],
            what="recreate",
        )
        new = tui_engine.containers.get("svc")
        assert new.id != c.id and new.status == "running"
        tui_engine.containers.remove(new.id, force=True)


async def test_scale_an_image(tui_engine, config, busybox):
    app = make_app(tui_engine, config)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.main.images.focus()
        await pilot.press("plus")
        await pilot.pause(0.2)
        assert type(app.screen).__name__ == "ScaleDialog"
        await pilot.press(*"web", "tab", "backspace", "2", "enter")
        try:
            await wait_for(pilot, lambda: len(tui_engine.containers.list(all=True)) == 2, what="two replicas")
            names = sorted(x.name for x in tui_engine.containers.list(all=True))
            assert names == ["web-1", "web-2"]
            await wait_for(pilot, lambda: any("share" in n for n in notifications(app)), what="the note")
        finally:
            for x in tui_engine.containers.list(all=True):
                tui_engine.containers.remove(x.id, force=True)
