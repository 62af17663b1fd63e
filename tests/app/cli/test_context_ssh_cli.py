"""The CLI on a context whose engine is reached over SSH: a second engine root on this machine, behind an SSH
server of the test's own (tests/app/sshd.py: 127.0.0.1, a free port, throwaway keys, no PAM) whose sessions
run this checkout's ``dockyard system dial-stdio``. ``--context far`` lists, runs, follows logs, execs on a
terminal, stops and removes on that root; the far root's own CLI sees each effect. No process is left on the
far side afterwards."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import pytest

from engine import Engine
from tests.app.sshd import SSHServer, start_sshd, stop_sshd
from tests.conftest import CLI, _cleanup_root

from .test_remote_cli import _read_until, _session

pytestmark = [pytest.mark.slow]

LOOP = "trap 'exit 0' TERM; while true; do sleep 0.1; done"


@pytest.fixture
def far_root(tmp_path) -> Iterator[str]:
    r = str(tmp_path / "far-root")
    os.makedirs(r)
    yield r
    _cleanup_root(r)


def _far_processes(root: str) -> list[int]:
    """The ``dockyard system dial-stdio`` processes working on ``root`` (the far side of each ssh connection)
    and the service they share."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read()
            with open(f"/proc/{pid}/environ", "rb") as f:
                env = f.read().split(b"\0")
        except OSError:
            continue
        if (b"dial-stdio" in cmd or b"service" in cmd) and f"DOCKYARD_ROOT={root}".encode() in env:
            out.append(int(pid))
    return out


@pytest.fixture
def sshd(tmp_path, far_root, monkeypatch) -> Iterator[SSHServer]:
    server = start_sshd(str(tmp_path), far_root)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("DOCKYARD_SSH_CONFIG", server.config)
    monkeypatch.delenv("DOCKYARD_CONFIG", raising=False)
    monkeypatch.delenv("DOCKYARD_CONTEXT", raising=False)
    monkeypatch.delenv("DOCKYARD_HOST", raising=False)
    yield server
    stop_sshd(server)
    # the dial-stdio processes end with their connections, the shared service 10 s after its last request:
    # what is still there after a while is ended by its PID
    deadline = time.monotonic() + 15
    while _far_processes(far_root) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in _far_processes(far_root):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 15
    while _far_processes(far_root) and time.monotonic() < deadline:
        time.sleep(0.1)


@pytest.fixture
def far(sshd, far_root, busybox_tar, cli) -> CLI:
    """The far engine's own CLI (on its root, directly), with busybox, and the context ``far`` naming it."""
    with open(busybox_tar, "rb") as f:
        Engine(far_root).images.import_(
            f, "busybox:latest", changes={"Cmd": ["sh"], "Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]}
        )
    assert cli("context", "create", "far", "--docker", f"host={sshd.host}").out == "far\n"
    return CLI(far_root)


def test_ps_run_logs_exec_stop_and_rm_on_an_ssh_context(far, far_root, cli, busybox, tmp_path):
    def on_far(*args: str, check: bool = True):  # type: ignore[no-untyped-def]
        return cli("--context", "far", *args, check=check, timeout=90)

    cli("run", "-d", "--name", "here", "busybox", "sh", "-c", LOOP)  # the local root: not the far one's
    far("create", "--name", "made-there", "busybox", "true")
    assert on_far("ps", "-a", "--format", "{{.Names}} {{.State}}").out == "made-there created\n"
    assert on_far("ps", "-q").out == ""
    # run -d (network none): the container runs on the far root
    cid = on_far("run", "-d", "--network", "none", "--name", "box", "busybox", "sh", "-c", LOOP).out.strip()
    assert len(cid) == 64
    assert far("ps", "--no-trunc", "--format", "{{.ID}} {{.Names}} {{.State}}").out == f"{cid} box running\n"
    assert far("inspect", "-f", "{{.HostConfig.NetworkMode}}", "box").out == "none\n"
    assert cli("ps", "--format", "{{.Names}}").out == "here\n"  # the local root is untouched
    assert on_far("ps", "--format", "{{.Names}} {{.Status}}").out.startswith("box Up ")
    # logs -f: the lines as they come, until the container ends
    on_far(
        "run", "-d", "--network", "none", "--name", "talker", "busybox",
        "sh", "-c", "for i in 1 2 3; do echo line $i; sleep 0.3; done",
    )  # fmt: skip
    assert on_far("logs", "-f", "talker").out == "line 1\nline 2\nline 3\n"
    assert far("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "talker").out == "exited 0\n"
    # exec -it on a terminal of its own: what is typed reaches the far container; its status is ours
    p, master = _session(cli.root, "--context", "far", "exec", "-it", "box", "sh")
    try:
        _read_until(master, b"# ", timeout=30)
        os.write(master, b"stty size; echo far-$((6*7)) > /made; cat /made\r")
        got = _read_until(master, b"far-42\r\n", timeout=30)
        assert b"30 100" in got
        os.write(master, b"exit 3\r")
        assert p.wait(timeout=30) == 3
    finally:
        os.close(master)
        if p.poll() is None:
            p.kill()
            p.wait()
    assert far("exec", "box", "cat", "/made").out == "far-42\n"
    # stop, then rm: the far root's own CLI sees each
    assert on_far("stop", "box").out == "box\n"
    assert far("ps", "-a", "--filter", "name=box", "--format", "{{.State}}").out == "exited\n"
    assert on_far("rm", "box", "talker").out == "box\ntalker\n"
    assert far("ps", "-a", "--format", "{{.Names}}").out == "made-there\n"
    assert on_far("ps", "-a", "--format", "{{.Names}}").out == "made-there\n"
    # a name the far root does not have: Docker's message and status
    r = on_far("stop", "nosuch", check=False)
    assert r.code == 1 and "No such container: nosuch" in r.err
    assert cli("ps", "-a", "--format", "{{.Names}}").out == "here\n"


def test_no_far_process_stays_once_the_commands_end(far, far_root, cli, busybox):
    assert cli("--context", "far", "ps", "-a", "-q").out == ""
    deadline = time.monotonic() + 30  # the service ends 10 s after its last request
    while _far_processes(far_root) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _far_processes(far_root) == []
