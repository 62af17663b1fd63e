"""The command log: each action taken in the app, as the dockyard command line that does the same (shell-quoted),
shown in its dialog (h), with how it ended, and copied by y. The line of a Run is run again by the CLI to
check it makes the same container."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys

import pytest

from app.tui.dialogs.command_log import CommandLogScreen
from app.tui.widgets.containers_table import ContainersTable
from app.tui.widgets.images_table import ImagesTable

from .conftest import make_app, settle, status_of, wait_for
from .screen_text import shown_lines, widget_lines

pytestmark = [pytest.mark.slow]


def _cli(root: str, *args: str) -> str:
    cli = os.path.join(os.path.dirname(sys.executable), "dockyard")
    env = {**os.environ, "DOCKYARD_ROOT": root}
    return subprocess.run([cli, *args], env=env, check=True, capture_output=True, text=True).stdout


def _select(app, cid: str) -> None:
    table = app.main.query_one(ContainersTable)
    table.move_cursor(row=table.get_row_index(cid))
    table.focus()


def widget_text(app, widget) -> str:
    """What ``widget`` shows, its lines stripped and joined (a wrapped line joins again)."""
    return "\n".join(line.strip() for line in widget_lines(app, widget))


def _lines(app) -> list[str]:
    return [e.line for e in app.commands.entries]


async def _open_log(pilot) -> CommandLogScreen:
    await pilot.press("h")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, CommandLogScreen), what="the command log")
    await pilot.pause(0.2)
    return pilot.app.screen


@pytest.mark.asyncio
async def test_the_run_dialog_becomes_a_run_command_line_that_does_the_same(
    tui_engine, config, busybox, root
):
    tui_engine.networks.create("t2net", internal=True)
    app = make_app(tui_engine, config)
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(pilot)
        app.main.query_one(ImagesTable).focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "RunDialog", what="the Run dialog")
        dialog = app.screen
        for field, value in (
            ("name", "web"),
            ("command", "sh -c 'echo hi there; sleep 1000'"),
            ("env", "A=1, 'B=two words'"),
            ("ports", "18765:80"),
            ("memory", "64m"),
        ):
            dialog.query_one(f"#{field}").value = value
        dialog.query_one("#network").value = "t2net"
        dialog.query_one("#restart").value = "on-failure"
        await pilot.pause(0.1)
        dialog.submit()
        await wait_for(pilot, lambda: type(app.screen).__name__ == "MainScreen", timeout=20, what="the run")
        await wait_for(pilot, lambda: status_of(tui_engine, "web") == "running", what="web running")

        expected = (
            "dockyard run -d --name web -e A=1 -e 'B=two words' -p 18765:80 -m 64m --network t2net "
            "--restart on-failure busybox:latest sh -c 'echo hi there; sleep 1000'"
        )
        log = await _open_log(pilot)
        detail = log.query_one("#commands-detail")
        await wait_for(pilot, lambda: "✓ done" in widget_text(app, detail), what="the run command line")
        assert "".join(expected.split()) in "".join(widget_text(app, detail).split())  # whole, wrapped
        assert shown_lines(app, "✓", "dockyard run -d --name web -e A=1")  # its row, cut to the table
        assert log.selected_line() == expected  # the newest is selected
        await pilot.press("y")
        assert app.clipboard == expected
        await pilot.press("escape")

    # the line, run by the CLI (another name and port), makes the same container
    argv = shlex.split(expected)[1:]
    argv[argv.index("web")] = "web2"
    argv[argv.index("18765:80")] = "18766:80"
    _cli(root, *argv)
    a, b = (json.loads(_cli(root, "inspect", name))[0] for name in ("web", "web2"))
    for part, key in (
        ("Config", "Env"),
        ("Config", "Cmd"),
        ("Config", "Image"),
        ("HostConfig", "Memory"),
        ("HostConfig", "NetworkMode"),
        ("HostConfig", "RestartPolicy"),
    ):
        assert a[part][key] == b[part][key], key
    assert list(a["HostConfig"]["PortBindings"]) == list(b["HostConfig"]["PortBindings"]) == ["80/tcp"]
    assert "t2net" in a["NetworkSettings"]["Networks"] and "t2net" in b["NetworkSettings"]["Networks"]


@pytest.mark.asyncio
async def test_each_action_is_logged_with_its_outcome(tui_engine, config, busybox, containers, tmp_path):
    c = containers(start=False, name="worker")
    containers(start=False, name="taken")
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM busybox\nLABEL made.by=the-app\n")
    app = make_app(tui_engine, config)
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(pilot)
        _select(app, c.id)
        await pilot.press("s")
        await wait_for(pilot, lambda: status_of(tui_engine, c.id) == "running", what="start")
        await pilot.press("x")
        await wait_for(pilot, lambda: status_of(tui_engine, c.id) == "exited", what="stop")
        await pilot.press("n", *["backspace"] * 6, *"taken", "enter")  # refused: the name is taken
        await wait_for(pilot, lambda: any(e.state == "failed" for e in app.commands.entries), what="refusal")
        await pilot.press("n", *["backspace"] * 6, *"worker2", "enter")
        await wait_for(pilot, lambda: tui_engine.containers.get(c.id).name == "worker2", what="rename")
        await wait_for(pilot, lambda: app.main.containers.current.name == "worker2", what="the list")
        await pilot.press("c")
        await pilot.pause(0.2)
        app.screen.query_one("#tag").value = "snap:1"
        app.screen.query_one("#message").value = "first cut"
        await pilot.press("enter")
        await wait_for(pilot, lambda: tui_engine.images.exists("snap:1"), what="commit")

        images = app.main.query_one(ImagesTable)
        images.focus()
        images.move_cursor(row=images.get_row_index(tui_engine.images.get("busybox").id))
        await pilot.press("t")
        await pilot.pause(0.2)
        await pilot.press(*"mine:1", "enter")
        await wait_for(pilot, lambda: tui_engine.images.exists("mine:1"), what="tag")

        await pilot.press("b")
        await pilot.pause(0.2)
        app.screen.query_one("#context").value = str(context)
        app.screen.query_one("#tag").value = "built:1"
        app.screen.start()
        await wait_for(pilot, lambda: tui_engine.images.exists("built:1"), timeout=30, what="build")
        await pilot.press("escape")

        app.main.containers.focus()
        await pilot.press("P")
        await pilot.pause(0.2)
        await pilot.press("y")  # confirm
        await wait_for(pilot, lambda: not tui_engine.containers.list(all=True), what="prune")

        await wait_for(
            pilot, lambda: all(e.state != "running" for e in app.commands.entries), what="outcomes"
        )
        assert _lines(app) == [
            "dockyard start worker",
            "dockyard stop worker",
            "dockyard rename worker taken",
            "dockyard rename worker worker2",
            "dockyard commit -m 'first cut' worker2 snap:1",
            "dockyard tag busybox:latest mine:1",
            f"dockyard build -t built:1 {shlex.quote(str(context))}",
            "dockyard container prune -f",
        ]
        log = await _open_log(pilot)
        assert shown_lines(app, "✗", "dockyard rename worker taken")
        assert shown_lines(app, "✓", "dockyard container prune -f")
        assert shown_lines(app, "✓", "dockyard build -t built:1")
        log.query_one("#commands-table").move_cursor(row=2)
        await pilot.pause(0.1)
        assert log.selected_line() == "dockyard rename worker taken"
        assert "✗ failed:" in widget_text(app, log.query_one("#commands-detail"))  # why, under the table
        assert "already in use" in widget_text(app, log.query_one("#commands-detail"))
        await pilot.press("c")
        assert app.clipboard == "dockyard rename worker taken"


@pytest.mark.asyncio
async def test_volume_and_network_actions_are_logged(tui_engine, config, busybox):
    app = make_app(tui_engine, config)
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(pilot)
        await pilot.press("4", "c")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "VolumeDialog", what="the volume dialog")
        app.screen.query_one("#name").value = "logvol"
        app.screen.query_one("#labels").value = "tier=cache"
        app.screen.submit()
        await wait_for(
            pilot, lambda: any(v.name == "logvol" for v in tui_engine.volumes.list()), what="volume"
        )
        await pilot.press("5", "c")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "NetworkDialog", what="the network dialog")
        app.screen.query_one("#name").value = "lognet"
        app.screen.query_one("#internal").value = True
        app.screen.submit()
        await wait_for(
            pilot, lambda: any(n.name == "lognet" for n in tui_engine.networks.list()), what="network"
        )
        await wait_for(pilot, lambda: all(e.state == "done" for e in app.commands.entries), what="outcomes")
        assert _lines(app) == [
            "dockyard volume create --label tier=cache logvol",
            "dockyard network create --internal lognet",
        ]
        await _open_log(pilot)
        assert shown_lines(app, "✓", "dockyard network create --internal lognet")


def test_command_lines_of_the_other_actions(tui_engine):
    from app.tui.command_log import CommandLog
    from app.tui.messages import Snapshot
    from engine import BuildOptions, Container, CreateOptions

    snap = Snapshot(default_network="none")
    snap.containers = [Container.__new__(Container)]
    object.__setattr__(snap.containers[0], "id", "a" * 64)
    object.__setattr__(snap.containers[0], "name", "web")
    log = CommandLog(lambda: snap)
    eng = tui_engine
    cid = "a" * 64

    def line(fn, *args, **kw) -> str:
        log.track(fn, args, kw)
        return log.entries[-1].line

    shell = ["/bin/sh", "-c", "exec sh"]
    assert line(eng.containers.exec_pty, cid, shell, env=["TERM=xterm"], rows=24, cols=80) == (
        "dockyard exec -it -e TERM=xterm web /bin/sh -c 'exec sh'"
    )
    assert line(eng.containers.attach, cid) == "dockyard attach web"
    assert line(eng.containers.stop, cid, 3) == "dockyard stop -t 3 web"
    assert line(eng.containers.restart, cid, 10) == "dockyard restart web"
    assert line(eng.containers.pause, cid) == "dockyard pause web"
    assert line(eng.containers.unpause, cid) == "dockyard unpause web"
    assert line(eng.containers.wait, cid) == "dockyard wait web"
    assert line(eng.containers.remove, cid, force=True) == "dockyard rm -f web"
    assert line(eng.images.remove, "busybox:latest", True) == "dockyard rmi -f busybox:latest"
    assert line(eng.images.prune) == "dockyard image prune -f"
    assert line(eng.volumes.prune) == "dockyard volume prune -f"
    assert line(eng.containers.update, cid, memory=256 * 1024**2, cpus=1.5) == (
        "dockyard update -m 256m --cpus 1.5 web"
    )
    replicas = CreateOptions(name="api", network="none")
    assert line(eng.containers.run_replicas, "busybox:latest", 3, replicas) == (
        "dockyard run --replicas 3 -d --name api busybox:latest"
    )
    assert line(eng.networks.connect, "backend", cid, aliases=["db"]) == (
        "dockyard network connect --alias db backend web"
    )
    options = BuildOptions("/src/app dir", dockerfile="Dockerfile.dev", tags=["app:2"], build_args={"V": "1"})
    assert line(eng.watch_build, options, None, "app-run") == (
        "dockyard build --watch --run app-run -t app:2 -f Dockerfile.dev --build-arg V=1 '/src/app dir'"
    )
    assert line(eng.containers.recreate, cid, "busybox:1.36").startswith("# recreate web from busybox:1.36")
    # reads are not actions: nothing is logged
    count = len(log.entries)
    log.track(eng.containers.inspect, (cid,), {})
    log.track(eng.containers.top, (cid,), {})
    assert len(log.entries) == count
