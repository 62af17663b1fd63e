"""Several engines side by side in the Containers list: the test's own root, a second dockyard root served by
``dockyard system service`` (a context naming its socket), and Podman's service. Rows of every engine are
listed together, each marked with its engine; start, stop and logs on a row go to that row's own engine
(each engine's own CLI sees it); an engine that stops answering shows its rows as unreachable while the
others go on, and comes back; what an engine cannot do is dimmed in the key bar and the help, and pressing
it says why. Plus the typed engine interface both engines satisfy."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import pytest

from app.tui.config import Config
from app.tui.contexts import open_contexts
from app.tui.engines import EngineSet
from app.tui.widgets.containers_table import ContainersTable
from app.tui.widgets.key_bar import KeyBar
from app.tui.widgets.log_view import LogView
from engine import CreateOptions, Engine, EngineAPI, NotSupported, RemoteEngine
from tests.app.service.conftest import Service, _answers, start_service, stop_service
from tests.conftest import CLI, _cleanup_root

from .conftest import fixed_clock, make_app, make_fixed_image, notifications, settle, wait_for
from .screen_text import screen_text, shown_lines
from .test_remote_podman import IMAGE, Podman, podman  # noqa: F401 - Podman's service, shared with its tests

pytestmark = [pytest.mark.slow]

LOOP = "trap 'exit 0' TERM; while true; do sleep 0.1; done"
TALKER = "trap 'exit 0' TERM; i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done"


@pytest.fixture
def contexts_home(tmp_path, monkeypatch) -> None:
    """The contexts (and the settings) in the test's own config directory."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("DOCKYARD_CONFIG", raising=False)
    monkeypatch.delenv("DOCKYARD_CONTEXT", raising=False)


@pytest.fixture
def second_root(tmp_path) -> Iterator[str]:
    """A second engine root with busybox; discarded (containers, cgroups) afterwards."""
    r = str(tmp_path / "second-root")
    os.makedirs(r)
    yield r
    _cleanup_root(r)


@pytest.fixture
def second(second_root: str, busybox_tar: str) -> CLI:
    with open(busybox_tar, "rb") as f:
        Engine(second_root).images.import_(f, "busybox:latest", changes={"Cmd": ["sh"], "Env": ["PATH=/bin"]})
    return CLI(second_root)


@pytest.fixture
def second_service(second: CLI, tmp_path) -> Iterator[Service]:
    sock = str(tmp_path / "second.sock")
    proc = start_service(second.root, sock)
    deadline = time.monotonic() + 20
    while not _answers(sock):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_service(proc)
            pytest.fail("the service did not start")
        time.sleep(0.05)
    yield Service(sock, second.root, proc)
    os.kill(proc.pid, signal.SIGCONT)  # in case the test left it stopped
    stop_service(proc)


def _run(cli, name: str, script: str = LOOP) -> str:
    return cli("run", "-d", "--network", "none", "--name", name, "busybox", "sh", "-c", script).out.strip()


def _state(cli, name: str) -> str:
    return cli("inspect", "--format", "{{.State.Status}}", name).out.strip()


def _select(app, cid: str) -> None:
    table = app.main.query_one(ContainersTable)
    table.move_cursor(row=table.get_row_index(cid))
    table.focus()


def _names(app) -> set[str]:
    return {c.name for c in app.snapshot.containers}


@pytest.mark.asyncio
async def test_two_roots_side_by_side_from_the_picker_each_action_on_its_rows_engine(
    contexts_home, second_service, second, config, cli, busybox, tui_engine
):
    cli("context", "create", "second", "--docker", f"host={second_service.url}")
    here = _run(cli, "here")
    there = _run(second, "there", TALKER)
    app = make_app(tui_engine, config)
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(pilot)
        table = app.main.query_one(ContainersTable)
        assert _names(app) == {"here"} and "engine" not in table.shown_columns  # one engine: no marks
        # ctrl+e, space marks default and second, enter shows them side by side
        await pilot.press("ctrl+e")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ContextPicker", what="the picker")
        await pilot.press("space", "down", "space", "enter")
        await wait_for(pilot, lambda: _names(app) == {"here", "there"}, what="both engines' rows", timeout=15)
        assert isinstance(app.engine, EngineSet) and list(app.engine.members) == ["default", "second"]
        await settle(pilot)
        assert table.shown_columns[0] == "engine"
        assert shown_lines(app, "default", "here", "Up ") and shown_lines(app, "second", "there", "Up ")
        assert "default + second" in screen_text(app)  # the top bar
        # stop and start on each row: that row's engine does it, the other's container keeps running
        _select(app, there)
        await pilot.press("x")
        await wait_for(pilot, lambda: _state(second, "there") == "exited", what="the second root's stop")
        assert _state(cli, "here") == "running"
        await wait_for(pilot, lambda: table.records[there].status == "exited", what="the row")
        await pilot.press("s")
        await wait_for(pilot, lambda: _state(second, "there") == "running", what="the second root's start")
        _select(app, here)
        await pilot.press("x")
        await wait_for(pilot, lambda: _state(cli, "here") == "exited", what="the local stop")
        assert _state(second, "there") == "running"
        await pilot.press("s")
        await wait_for(pilot, lambda: _state(cli, "here") == "running", what="the local start")
        # logs of the second root's container, read through its service
        _select(app, there)
        await pilot.press("l")
        view = app.main.query_one(LogView)
        await wait_for(pilot, lambda: view.line_count >= 3, what="its log")
        assert view.get_line(0).text == "tick 0"
        # an event of the second engine lists only its own rows again: the local rows are not read
        await settle(pilot)
        local_rows = app.engine.rows["default"]
        later = _run(second, "later")
        await wait_for(pilot, lambda: "later" in _names(app), what="the second engine's event")
        assert app.engine.rows["default"] is local_rows
        assert table.engine_name(later) == "second"
        # the second engine stops answering: its rows say so, the local engine goes on, nothing waits
        os.kill(second_service.proc.pid, signal.SIGSTOP)
        try:
            await wait_for(
                pilot,
                lambda: shown_lines(app, "second", "there", "unreachable"),
                what="unreachable",
                timeout=10,
            )
            t0 = time.monotonic()
            await pilot.press("down", "up")  # the app answers keys without waiting for the engine
            assert time.monotonic() - t0 < 5.0  # (a wait for it would last the client's 60 s timeout)
            fresh = _run(cli, "fresh")
            await wait_for(pilot, lambda: fresh in table.records, what="a local row meanwhile", timeout=10)
            _select(app, there)
            await pilot.press("x")
            await wait_for(pilot, lambda: any("does not answer" in n for n in notifications(app)))
        finally:
            os.kill(second_service.proc.pid, signal.SIGCONT)
        await wait_for(pilot, lambda: shown_lines(app, "second", "there", "Up "), what="back", timeout=20)
        assert _state(second, "there") == "running"  # the refused stop was not sent
        # back to one engine: the marks go
        await pilot.press("ctrl+e")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ContextPicker", what="the picker")
        await pilot.press("space", "down", "space", "up", "enter")  # unmark both, open default alone
        await wait_for(pilot, lambda: not isinstance(app.engine, EngineSet), what="one engine", timeout=15)
        await wait_for(
            pilot, lambda: "engine" not in table.shown_columns and _names(app) == {"here", "fresh"}
        )


@pytest.mark.asyncio
async def test_podman_beside_the_local_root_and_what_it_cannot_do_is_dimmed_with_why(
    contexts_home,
    podman,  # noqa: F811
    config,
    cli,
    busybox,
    tui_engine,
):
    cli("context", "create", "pod", "--docker", f"host={podman.url}")
    here = _run(cli, "here")
    looping = podman(
        "run", "-d", "--network", "none", "--name", "pod-talker", IMAGE, "sh", "-c", TALKER
    ).strip()
    try:
        # the settings' engines = [...] name the contexts the app opens side by side
        path = os.path.join(os.environ["XDG_CONFIG_HOME"], "dockyard", "config.toml")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write('engines = ["default", "pod"]\n')
        names = Config.load(path).engines
        assert names == ["default", "pod"]
        engine, problems = open_contexts(names, tui_engine.root)
        assert problems == [] and isinstance(engine, EngineSet)
        app = make_app(engine, config)
        async with app.run_test(size=(150, 40)) as pilot:
            await settle(pilot)
            assert shown_lines(app, "default", "here") and shown_lines(app, "pod", "pod-talker")
            bar = app.main.query_one(KeyBar)
            # a Podman row: stop and start go to Podman (its own CLI sees them), logs come from it
            _select(app, looping)
            await pilot.press("x")
            await wait_for(pilot, lambda: podman.state("pod-talker") == "exited", what="podman's stop")
            assert _state(cli, "here") == "running"
            await pilot.press("s")
            await wait_for(pilot, lambda: podman.state("pod-talker") == "running", what="podman's start")
            await pilot.press("l")
            view = app.main.query_one(LogView)
            await wait_for(pilot, lambda: view.line_count >= 3, what="its log")
            assert view.get_line(0).text == "tick 0"
            # recreating from another version needs the engine's stored options: dimmed for Podman's row
            app.main.containers.focus()
            await wait_for(pilot, lambda: ("v", False) in [(k, on) for k, _s, _d, on in bar._items])
            await pilot.press("v")
            why = "recreate: not offered by the Docker Engine API of podman"
            await wait_for(pilot, lambda: any(why in n for n in notifications(app)), what="the reason")
            await pilot.press("question_mark")
            await wait_for(pilot, lambda: type(app.screen).__name__ == "HelpScreen", what="the help")
            assert why in app.screen.query_one("#help-text").source
            await pilot.press("escape")
            # a local row offers it: nothing dimmed
            _select(app, here)
            await wait_for(pilot, lambda: all(on for _k, _s, _d, on in bar._items), what="the key bar")
            assert "v" not in [k for k, _s, _d, _on in bar._items]
    finally:
        podman("rm", "-f", "-t", "0", "pod-talker", check=False)


def test_engine_and_remote_engine_are_the_one_typed_interface(contexts_home, second_service, tui_engine):
    """``EngineAPI`` is a Protocol the type checker holds both to (engine/interface.py); here, what it says
    at run time: the capability query and the typed refusal."""
    remote = RemoteEngine(second_service.url)
    engines: list[EngineAPI] = [tui_engine, remote]
    assert [e.supports("layers") for e in engines][0] is None
    why = remote.supports("recreate")
    assert why is not None and "not offered by the Docker Engine API of dockyard system service" in why
    assert remote.supports("logs") is None
    with pytest.raises(NotSupported) as refused:
        remote.containers.recreate("x", "busybox")
    assert refused.value.feature == "recreate"
    remote.client.close()


def test_side_by_side_view(tui_engine, second_root, fixed_ids, config, snap_compare):
    """The Containers list of two engines: each row marked with its engine."""
    other = Engine(second_root)
    for eng, names in ((tui_engine, ("api", "worker")), (other, ("batch",))):
        make_fixed_image(eng)
        for name in names:
            eng.containers.create("fixture/app:1.0", CreateOptions(name=name, command=["sh"], network="none"))
    app = make_app(
        EngineSet({"default": tui_engine, "build-box": other}), config, clock=fixed_clock, feeds=False
    )
    app.root_label = "default + build-box"

    async def run(pilot):
        await settle(pilot)
        await pilot.pause(0.1)

    assert snap_compare(app, terminal_size=(120, 30), run_before=run)


def test_the_events_backlog_holds_every_engines_events(tui_engine, second_root, busybox) -> None:
    """The Events tab's history, as the app reads it when it opens: the events of each engine of the set."""
    from app.tui.event_history import read_backlog

    other = Engine(second_root)
    tui_engine.images.tag(busybox, "here:1")
    other.images.bootstrap("busybox")
    other.images.tag("busybox", "there:1")
    events = read_backlog(EngineSet({"default": tui_engine, "build-box": other}))
    tagged = {e.attributes.get("name") for e in events if e.type == "image" and e.action == "tag"}
    assert {"here:1", "there:1"} <= tagged
