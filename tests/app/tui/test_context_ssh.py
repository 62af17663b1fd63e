"""The app on a context whose engine is reached over SSH: a second engine root on this machine, behind an SSH
server of the test's own (tests/app/sshd.py: 127.0.0.1, a free port, throwaway keys, no PAM) whose sessions
run this checkout's ``dockyard system dial-stdio``. The app lists that root's containers, starts and stops
them, follows their logs and opens a shell in one, all through ``ssh``; ctrl+e switches between contexts in
place. No process is left on the far side once the app closes."""

from __future__ import annotations

import time

import pytest

from app.tui.contexts import label, open_context
from app.tui.widgets.containers_table import ContainersTable
from app.tui.widgets.log_view import LogView
from app.tui.widgets.terminal import TerminalView
from engine import Engine
from tests.app.sshd import far_processes
from tests.conftest import CLI

from .conftest import make_app, notifications, settle, status_of, wait_for

pytestmark = [pytest.mark.slow]

TALKER = "trap 'exit 0' TERM; i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done"
LOOP = "trap 'exit 0' TERM; while true; do sleep 0.1; done"
FAR_DESCRIPTION = "over ssh"  # the context far's (tests/app/sshd.py)


def _run(cli: CLI, name: str, script: str) -> str:
    return cli("run", "-d", "--name", name, "busybox", "sh", "-c", script).out.strip()


def _select(app, cid: str) -> None:
    table = app.main.query_one(ContainersTable)
    table.move_cursor(row=table.get_row_index(cid))
    table.focus()


def _topbar(app) -> str:
    from textual.widgets import Static

    return str(app.main.query_one("#topbar", Static).render())


@pytest.mark.asyncio
async def test_the_app_on_an_ssh_context_lists_starts_stops_follows_logs_and_opens_a_shell(
    far, far_root, config, cli, busybox
):
    _run(cli, "here", LOOP)  # on the local root: not what the far context shows
    loop = _run(far, "there", LOOP)
    talker = _run(far, "talker", TALKER)
    engine = open_context("far")
    assert engine.client.scheme == "ssh"  # type: ignore[attr-defined]
    app = make_app(engine, config)
    app.context_name, app.root_label = "far", label("far", engine)
    async with app.run_test(size=(130, 36)) as pilot:
        await settle(pilot)
        await wait_for(pilot, lambda: len(app.snapshot.containers) == 2, what="the far list")
        assert sorted(c.name for c in app.snapshot.containers) == ["talker", "there"]
        assert "far" in _topbar(app) and "ssh://" in _topbar(app)
        # stop and start from the keyboard: the far root's containers change
        _select(app, loop)
        await pilot.press("x")
        await wait_for(pilot, lambda: status_of(Engine(far_root), loop) == "exited", what="stop", timeout=20)
        assert far("ps", "-a", "--filter", "name=there", "--format", "{{.State}}").out.strip() == "exited"
        await wait_for(pilot, lambda: app.main.containers.current.status == "exited", what="the list")
        await pilot.press("s")
        await wait_for(
            pilot, lambda: status_of(Engine(far_root), loop) == "running", what="start", timeout=20
        )
        await wait_for(pilot, lambda: app.main.containers.current.status == "running", what="the list")
        # logs -f: the lines keep coming over the ssh connection
        _select(app, talker)
        await pilot.press("l")
        view = app.main.query_one(LogView)
        await wait_for(pilot, lambda: view.line_count >= 5, what="the first lines", timeout=20)
        first = view.line_count
        await wait_for(pilot, lambda: view.line_count >= first + 10, what="more lines")
        assert [view.get_line(i).text for i in range(3)] == ["tick 0", "tick 1", "tick 2"]
        assert view.follow
        # a shell in the far container, over exec's upgraded connection through ssh
        app.main.containers.focus()
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.focused, TerminalView), what="the shell", timeout=20)
        term = app.focused
        await wait_for(
            pilot, lambda: "#" in "".join(term.session.screen.display), what="a prompt", timeout=20
        )
        await pilot.press(*"echo far-$((6*7)) > /made; cat /made", "enter")
        await wait_for(pilot, lambda: "far-42" in "\n".join(term.session.screen.display), what="output")
        assert far("exec", "talker", "cat", "/made").out == "far-42\n"  # it ran in the far container
        assert cli("ps", "--format", "{{.Names}}").out.split() == ["here"]  # the local root is untouched
        await pilot.press(*"exit 3", "enter")
        await wait_for(pilot, lambda: term.session.ended, what="the shell's end", timeout=20)
        assert term.session.code == 3
    engine.client.close()  # type: ignore[attr-defined]
    deadline = time.monotonic() + 30
    while far_processes(far_root) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert (
        _describe(far_processes(far_root)) == []
    )  # every connection's far process ended, the service after them


@pytest.mark.asyncio
async def test_ctrl_e_switches_between_the_local_root_and_an_ssh_context_in_place(
    far, far_root, sshd, config, cli, busybox, tui_engine
):
    _run(cli, "here", LOOP)
    _run(far, "there", LOOP)
    port = sshd.host.rpartition(":")[2]
    cli("context", "create", "broken", "--docker", f"host=ssh://nobody@127.0.0.1:{port}")
    app = make_app(tui_engine, config)
    async with app.run_test(size=(130, 36)) as pilot:
        await settle(pilot)
        assert [c.name for c in app.snapshot.containers] == ["here"]
        # the picker lists default, broken, far; a context that cannot be opened leaves the app where it is
        await pilot.press("ctrl+e")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ContextPicker", what="the picker")
        await pilot.press("down", "enter")
        await wait_for(
            pilot, lambda: any("Cannot open context broken" in n for n in notifications(app)), timeout=20
        )
        assert "over ssh" in next(n for n in notifications(app) if "Cannot open context broken" in n)
        assert app.engine is tui_engine and [c.name for c in app.snapshot.containers] == ["here"]
        # far: the lists, the events and the top bar follow the far engine
        await pilot.press("ctrl+e")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ContextPicker", what="the picker")
        await pilot.press("down", "down", "enter")
        await wait_for(
            pilot,
            lambda: [c.name for c in app.snapshot.containers] == ["there"],
            what="the far list",
            timeout=20,
        )
        assert app.context_name == "far" and "far ·" in _topbar(app)
        far_engine = app.engine
        new = _run(far, "later", LOOP)  # made on the far root: the app hears of it (events over ssh)
        await wait_for(
            pilot, lambda: any(c.id == new for c in app.snapshot.containers), what="the event", timeout=10
        )
        # and back to the local root
        await pilot.press("ctrl+e")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ContextPicker", what="the picker")
        await pilot.press("up", "up", "enter")
        await wait_for(
            pilot, lambda: [c.name for c in app.snapshot.containers] == ["here"], what="local list"
        )
        assert app.context_name == "default" and "far" not in _topbar(app)
        assert app.engine is not far_engine
    far_engine.client.close()  # type: ignore[attr-defined]
    deadline = time.monotonic() + 30
    while far_processes(far_root) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert far_processes(far_root) == []


def _describe(pids: list[int]) -> list[str]:
    out = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode()
            with open(f"/proc/{pid}/status") as f:
                ppid = next(line for line in f if line.startswith("PPid"))
        except OSError:
            continue
        out.append(f"{pid} {ppid.strip()} {cmd}")
    return out
