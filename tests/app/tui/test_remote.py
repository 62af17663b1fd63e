"""The app over ``--host``: a real Engine API service (``dockyard system service``) on a socket in the test's
directory serves the test's root; the app talks to it through ``RemoteEngine`` (engine/remote/) and the CLI
works on the same root directly. Plus the client library's stream kinds, one test each, against the same
service, and the refusals of ``--host``."""

from __future__ import annotations

import inspect
import os
import re
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest

from app.tui.widgets.containers_table import ContainersTable
from app.tui.widgets.log_view import LogView
from app.tui.widgets.terminal import TerminalView
from engine import Engine, NotAvailable, RemoteEngine
from tests.app.service.conftest import Service, _answers, start_service, stop_service
from tests.conftest import DOCKYARD

from .conftest import make_app, notifications, settle, status_of, wait_for

pytestmark = [pytest.mark.slow]

TALKER = "trap 'exit 0' TERM; i=0; while true; do echo tick $i; echo oops $i >&2; i=$((i+1)); sleep 0.1; done"
LOOP = "trap 'exit 0' TERM; while true; do sleep 0.1; done"


@pytest.fixture
def service(root: str, tmp_path) -> Iterator[Service]:
    sock = str(tmp_path / "dockyard.sock")
    proc = start_service(root, sock)
    deadline = time.monotonic() + 20
    while not _answers(sock):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_service(proc)
            pytest.fail("the service did not start")
        time.sleep(0.05)
    yield Service(sock, root, proc)
    stop_service(proc)


@pytest.fixture
def remote(service: Service) -> RemoteEngine:
    return RemoteEngine(service.url)


def _select(app, cid: str) -> None:
    table = app.main.query_one(ContainersTable)
    table.move_cursor(row=table.get_row_index(cid))
    table.focus()


def _run(cli, name: str, script: str, *flags: str) -> str:
    return cli("run", "-d", "--name", name, *flags, "busybox", "sh", "-c", script).out.strip()


# -- the app ---------------------------------------------------------------------------------------------------
@pytest.mark.asyncio
async def test_the_app_over_host_lists_the_services_root_and_sees_cli_changes_at_once(
    remote, config, cli, busybox, tui_engine
):
    first = _run(cli, "first", LOOP)
    app = make_app(remote, config)  # type: ignore[arg-type]
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert [c.name for c in app.snapshot.containers] == ["first"]
        assert app.snapshot.containers[0].id == first and app.snapshot.containers[0].status == "running"
        assert [im.tags for im in app.snapshot.images] == [["busybox:latest"]]
        assert app.snapshot.images[0].id == tui_engine.images.get("busybox").id
        assert "bridge" in app.snapshot.networks
        # a container the CLI starts on the service's root shows up within about a second (events)
        t0 = time.monotonic()
        second = _run(cli, "second", LOOP)
        await wait_for(pilot, lambda: any(c.id == second for c in app.snapshot.containers), timeout=3)
        assert time.monotonic() - t0 < 1.5
        table = app.main.query_one(ContainersTable)
        assert table.get_row_index(second) is not None
        # stop and start from the keyboard: the CLI sees it
        _select(app, second)
        await pilot.press("x")
        await wait_for(pilot, lambda: status_of(tui_engine, second) == "exited", what="stop")
        assert cli("ps", "-a", "--filter", "name=second", "--format", "{{.State}}").out.strip() == "exited"
        await wait_for(pilot, lambda: app.main.containers.current.status == "exited", what="the list")
        await pilot.press("s")
        await wait_for(pilot, lambda: status_of(tui_engine, second) == "running", what="start")
        assert cli("ps", "--filter", "name=second", "--format", "{{.State}}").out.strip() == "running"
        await wait_for(pilot, lambda: app.main.containers.current.status == "running", what="the list")
        # the top bar names the service, not a root
        assert app.root_label == remote.host


@pytest.mark.asyncio
async def test_logs_stats_and_a_shell_over_host(remote, config, cli, busybox):
    cid = _run(cli, "talker", TALKER)
    app = make_app(remote, config)  # type: ignore[arg-type]
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        _select(app, cid)
        # logs: followed as they come, stdout and stderr apart
        await pilot.press("l")
        view = app.main.query_one(LogView)
        await wait_for(pilot, lambda: view.line_count >= 6, what="the first lines")
        first = view.line_count
        await wait_for(pilot, lambda: view.line_count >= first + 6, what="more lines")
        lines = [view.get_line(i) for i in range(4)]
        assert [(x.stream, x.text) for x in lines[:2]] == [("stdout", "tick 0"), ("stderr", "oops 0")]
        assert re.match(r"\d{4}-\d\d-\d\dT", lines[0].time)
        assert view.follow
        # stats: the memory of the container, read through the service
        await pilot.press("S")
        await wait_for(
            pilot,
            lambda: bool(app.history.get(cid) and len(app.history.get(cid).mem) >= 2),
            what="two samples",
        )
        assert min(app.history.get(cid).mem) > 0
        title = str(app.main.query_one("#stats-title").render())
        assert "talker" in title and ("MiB" in title or "KiB" in title)
        # a shell in the terminal pane, over exec's upgraded connection
        app.main.containers.focus()
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.focused, TerminalView), what="the shell")
        term = app.focused
        await wait_for(pilot, lambda: "#" in "".join(term.session.screen.display), what="a prompt")
        await pilot.press(*"echo remote-$((6*7)) > /made; cat /made", "enter")
        await wait_for(pilot, lambda: "remote-42" in "\n".join(term.session.screen.display), what="output")
        assert cli("exec", "talker", "cat", "/made").out == "remote-42\n"  # it ran in the container
        await pilot.press(*"exit 5", "enter")
        await wait_for(pilot, lambda: term.session.ended, what="the shell's end")
        assert term.session.code == 5
    leftovers = [d for d in os.listdir("/tmp") if d.startswith("dockyard-remote-log-")]
    assert not [d for d in leftovers if cid in "".join(os.listdir(os.path.join("/tmp", d)))]


@pytest.mark.asyncio
async def test_what_needs_the_engines_files_says_so(remote, config, cli, busybox):
    from textual.widgets import Static

    from app.tui.widgets.layers_pane import LayersPane

    from .screen_text import screen_text

    _run(cli, "files", LOOP)
    app = make_app(remote, config)  # type: ignore[arg-type]
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        # the layers of an image: its files cannot be browsed over the API, and the pane says so
        await pilot.press("2", "L")
        pane = app.main.query_one(LayersPane)
        summary = pane.query_one("#layers-summary", Static)
        await wait_for(pilot, lambda: "not available with --host" in str(summary.render()), what="the note")
        assert "busybox:latest" in str(summary.render()) and "1.98MB" in screen_text(app)  # its layer
        # build --watch (a build sends its context over the API; watching does not): the dialog says why
        app.main.containers.focus()
        await pilot.press("b")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "BuildDialog", what="the build dialog")
        await pilot.click("#watch")
        await pilot.click("#ok")
        error = app.screen.query_one("#dialog-error", Static)
        await wait_for(pilot, lambda: "not available with --host" in str(error.render()), what="the refusal")
        await pilot.press("escape")
        # a container's writable layer (the engine's own files): a notification says so
        app.call("Files", app.engine.containers.layer_tree, "files")
        await wait_for(pilot, lambda: any("not available with --host" in n for n in notifications(app)))
        assert app.is_running


@pytest.mark.asyncio
async def test_the_run_dialog_over_host(remote, config, cli, busybox):
    from engine import CreateOptions, InvalidArgument

    app = make_app(remote, config)  # type: ignore[arg-type]
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("2", "enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "RunDialog", what="the run dialog")
        await pilot.press(*"from-far", "tab", *"sh -c 'echo far-ran $GREETING; sleep 30'")
        app.screen.query_one("#env").value = "GREETING=hi"
        app.screen.query_one("#memory").value = "64m"
        await pilot.click("#ok")
        await wait_for(
            pilot, lambda: any(c.name == "from-far" for c in app.snapshot.containers), what="the list"
        )
        r = cli("inspect", "from-far", "--format", "{{.State.Status}} {{.HostConfig.Memory}} {{.Config.Env}}")
        assert r.out.startswith("running 67108864 [GREETING=hi")
        networks = cli(
            "inspect", "from-far", "--format", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}"
        )
        assert networks.out.strip() in ("none", "")  # the service's default (the tests': none)
        await wait_for(pilot, lambda: "far-ran hi" in cli("logs", "from-far").out, what="its output")
        # scale: NAME-1 .. NAME-N through the API
        made = remote.containers.run_replicas(
            "busybox", 2, CreateOptions(name="rep", command=["sleep", "30"])
        )
        assert [c.name for c in made] == ["rep-1", "rep-2"] and all(c.status == "running" for c in made)
        await wait_for(pilot, lambda: {"rep-1", "rep-2"} <= {c.name for c in app.snapshot.containers})
        # an option the API does not carry yet is refused with its name, before anything is made
        with pytest.raises(InvalidArgument, match="device_read_bps: not sent with --host"):
            remote.containers.run("busybox", CreateOptions(device_read_bps=["/dev/null:1mb"]))


# -- the client library, one stream kind each --------------------------------------------------------------
def test_multiplexed_and_raw_log_streams(remote, cli, busybox):
    from engine.remote.streams import frames, lines_of, raw

    cid = cli("run", "-d", "busybox", "sh", "-c", "echo out; echo err >&2; echo out2").out.strip()
    cli("wait", cid)
    s = remote.client.open("GET", f"/containers/{cid}/logs", {"stdout": True, "stderr": True})
    got = sorted(lines_of(frames(s.readexactly)))
    s.close()
    assert got == [("stderr", b"err\n"), ("stdout", b"out\n"), ("stdout", b"out2\n")]
    tty = cli("run", "-d", "-t", "busybox", "sh", "-c", "echo on-a-tty").out.strip()
    cli("wait", tty)
    s = remote.client.open("GET", f"/containers/{tty}/logs", {"stdout": True, "stderr": True})
    assert "raw-stream" in s.content_type
    assert b"".join(d for _, d in raw(s.read)) == b"on-a-tty\r\n"
    s.close()


def test_json_line_streams_stats_and_events(remote, cli, busybox):
    from engine.remote import mapping
    from engine.remote.streams import json_lines

    cid = _run(cli, "sampled", LOOP)
    s = remote.client.open("GET", f"/containers/{cid}/stats", {"stream": True}, timeout=None)
    docs = []
    for doc in json_lines(s.readline):
        docs.append(doc)
        if len(docs) == 2:
            break
    s.close()
    row = mapping.stats(docs[1], docs[0], cid, "sampled")
    assert row.memory_usage > 0 and row.pids >= 1 and row.memory_limit > 0
    # events: followed as they happen; a stop ends the following
    since = remote.event_offset()
    cli("pause", "sampled")
    cli("unpause", "sampled")
    seen = []
    for e in remote.events(since_offset=since, timeout=3):
        seen.append((e.type, e.action, e.id))
        if e.action == "unpause":
            break
    assert seen == [("container", "pause", cid), ("container", "unpause", cid)]
    stopped = False
    t0 = time.monotonic()
    for _ in remote.events(stop=lambda: stopped or time.monotonic() - t0 > 0.5):
        pass
    assert time.monotonic() - t0 < 3


def test_exec_upgrade_with_and_without_a_terminal(remote, cli, busybox):
    cid = _run(cli, "execd", LOOP)
    pty = remote.containers.exec_pty(cid, ["sh"], rows=10, cols=33)
    os.write(pty.master, b"stty size; exit 7\n")
    out = b""
    while chunk := os.read(pty.master, 4096):
        out += chunk
    assert b"10 33" in out
    assert pty.wait() == 7
    pty.close()
    # an attached session without a terminal: Docker's frames, stdin to the container
    att_id = cli("run", "-d", "-i", "--name", "cat", "busybox", "cat").out.strip()
    att = remote.containers.attach(att_id)
    att.send_stdin(b"through attach\n")
    chunks = att.output()
    assert next(chunks) == ("stdout", b"through attach\n")
    att.close()
    cli("rm", "-f", "cat")


def test_mirrored_log_is_a_local_index_removed_on_close(remote, cli, busybox):
    cid = _run(cli, "mirrored", TALKER)
    index = remote.containers.log_index(cid)
    deadline = time.monotonic() + 5
    while index.update() < 10 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert index.lines >= 10
    assert (index.line(0).stream, index.line(0).text) == ("stdout", "tick 0")
    assert index.search("oops 3", 0) is not None
    index.close()
    assert not os.path.exists(index.directory)


def test_errors_are_the_engines_own(remote):
    from engine import Conflict, ContainerNotFound

    with pytest.raises(ContainerNotFound, match="No such container: nothere"):
        remote.containers.stop("nothere")
    with pytest.raises(NotAvailable, match="not available with --host"):
        remote.images.analyze("busybox")
    remote.networks.create("mine", internal=True)
    with pytest.raises(Conflict):
        remote.networks.create("mine")
    assert [n.name for n in remote.networks.list() if n.name == "mine"] == ["mine"]
    remote.networks.remove("mine")


def test_the_remote_engine_offers_what_the_app_calls():
    """Each engine method the app calls exists on RemoteEngine, with the parameters of Engine's."""
    root = os.path.join(os.path.dirname(__file__), "..", "..", "..", "app", "tui")
    calls: set[tuple[str, str]] = set()
    pattern = re.compile(r"\bengine\.(?:(containers|images|networks|volumes)\.)?([a-z_]+)\b")
    for folder, _, files in os.walk(root):
        for f in files:
            if f.endswith(".py"):
                with open(os.path.join(folder, f)) as fh:
                    for m in pattern.finditer(fh.read()):
                        calls.add((m.group(1) or "", m.group(2)))
    from engine.containers import Containers
    from engine.images import Images
    from engine.networks import Networks
    from engine.remote.engine import RemoteContainers, RemoteImages, RemoteNetworks, RemoteVolumes
    from engine.volumes import Volumes

    pairs = {
        "": (Engine, RemoteEngine),
        "containers": (Containers, RemoteContainers),
        "images": (Images, RemoteImages),
        "networks": (Networks, RemoteNetworks),
        "volumes": (Volumes, RemoteVolumes),
    }
    skip = {("", "humanize"), ("", "units"), ("", "discard")}  # modules; the screenshots' own root
    local_only = {"attach_fd", "supervisor"}  # descriptors and processes of this machine
    checked, missing = 0, []
    for part, name in sorted(calls - skip):
        if part == "" and name in pairs:
            continue
        local, far = pairs[part]
        assert hasattr(far, name) or name == "root", f"RemoteEngine lacks {part}.{name}"
        fn = getattr(far, name, None)
        if callable(fn) and callable(getattr(local, name, None)):
            mine = inspect.signature(fn).parameters
            theirs = inspect.signature(getattr(local, name)).parameters
            if not any(p.kind is p.VAR_KEYWORD for p in mine.values()):
                if set(theirs) - local_only - set(mine):
                    missing.append((part, name, set(theirs) - local_only - set(mine)))
            checked += 1
    assert not missing
    assert checked >= 30


# -- the command line ------------------------------------------------------------------------------------
def _dockyard(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DOCKYARD, *args], capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=30
    )


def test_host_refusals(tmp_path):
    from app.tui.run import open_remote
    from engine import InvalidArgument

    with pytest.raises(InvalidArgument, match="needs TLS"):
        open_remote(None, "tcp://127.0.0.1:2375")
    with pytest.raises(InvalidArgument, match="client certificate and key"):
        open_remote(None, "tcp://127.0.0.1:2376", tlsverify=True, tlscacert="ca.pem")
    with pytest.raises(InvalidArgument, match="choose one"):
        open_remote("/var/lib/dockyard", "unix:///run/x.sock")
    with pytest.raises(InvalidArgument, match="unsupported scheme"):
        open_remote(None, "ftp://me@there")
    from engine import DockyardError as Unreachable

    with pytest.raises(Unreachable, match="over ssh: .*Connection refused"):  # the system ssh client's words
        open_remote(None, "ssh://me@127.0.0.1:1")
    dead = tmp_path / "nobody.sock"
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(dead))
    s.close()
    from engine import DockyardError

    with pytest.raises(DockyardError, match="Cannot connect to the service at unix://.*Is it running"):
        open_remote(None, f"unix://{dead}")
    # a command with --host or DOCKYARD_HOST works on the service: none answers there (status 1, as Docker's)
    r = _dockyard("--host", f"unix://{dead}", "ps")
    assert r.returncode == 1 and "Cannot connect to the service at unix://" in r.stderr
    r = _dockyard("ps", env={"DOCKYARD_HOST": f"unix://{dead}"})
    assert r.returncode == 1 and "Cannot connect to the service at unix://" in r.stderr


def test_tcp_with_tls_lists_and_runs_a_shell(root, tmp_path, cli, busybox):
    """tcp:// with Docker's TLS flags: the client certificate is shown, the service's is checked against the CA;
    the exec connection is bridged through TLS too."""
    from app.tui.run import open_remote
    from tests.app.service.test_service_system_containers import _certs, _free_port

    c = _certs(tmp_path)
    port = _free_port()
    proc = start_service(root, str(tmp_path / "d.sock"), "--tcp", f"127.0.0.1:{port}", "--tls-cert", c["server"],
                         "--tls-key", c["server-key"], "--tls-ca", c["ca"])  # fmt: skip
    try:
        cid = _run(cli, "overtls", LOOP)
        host = f"tcp://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                eng = open_remote(
                    None, host, tlsverify=True, tlscacert=c["ca"], tlscert=c["client"], tlskey=c["client-key"]
                )
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        assert [x.name for x in eng.containers.list()] == ["overtls"]
        pty = eng.containers.exec_pty(cid, ["sh", "-c", "echo tls-$((2*21))"])
        out = b""
        while chunk := os.read(pty.master, 4096):
            out += chunk
        assert b"tls-42" in out
        pty.close()
        from engine import DockyardError

        with pytest.raises(DockyardError, match="TLS with the service at tcp://.* failed"):  # a wrong CA
            open_remote(
                None, host, tlsverify=True, tlscacert=c["client"], tlscert=c["client"], tlskey=c["client-key"]
            )
    finally:
        stop_service(proc)
