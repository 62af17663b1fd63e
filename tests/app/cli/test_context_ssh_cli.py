"""The CLI on a context whose engine is reached over SSH: a second engine root on this machine, behind an SSH
server of the test's own (tests/app/sshd.py: 127.0.0.1, a free port, throwaway keys, no PAM) whose sessions
run this checkout's ``dockyard system dial-stdio``. ``--context far`` lists, runs, follows logs, execs on a
terminal, stops and removes on that root; the far root's own CLI sees each effect. No process is left on the
far side afterwards."""

from __future__ import annotations

import os
import time

import pytest

from tests.app.sshd import far_processes

from .test_remote_cli import _read_until, _session

pytestmark = [pytest.mark.slow]

LOOP = "trap 'exit 0' TERM; while true; do sleep 0.1; done"


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
    while far_processes(far_root) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert far_processes(far_root) == []
