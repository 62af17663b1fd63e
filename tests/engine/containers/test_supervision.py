"""The supervisor: containers outlive their caller, crashes are reconciled, nothing stays mounted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

from tests.conftest import DOCKYARD

pytestmark = pytest.mark.slow


def test_container_survives_the_process_that_started_it(root, busybox, cli):
    # a Python process starts the container through the API, then exits
    code = (
        "from engine import Engine, CreateOptions;"
        f"e = Engine({root!r});"
        "c = e.containers.run('busybox', CreateOptions(name='orphan', command=['sleep', '1000']));"
        "print(c.id)"
    )
    out = subprocess.run(
        [os.path.join(os.path.dirname(DOCKYARD), "python"), "-c", code],
        capture_output=True,
        text=True,
        check=True,
    )
    cid = out.stdout.strip()
    time.sleep(0.2)
    d = json.loads(cli("inspect", "orphan").out)[0]
    assert d["Id"] == cid and d["State"]["Running"]
    assert "Up" in cli("ps").out
    assert cli("exec", "orphan", "echo", "still here").out == "still here\n"


def test_killed_supervisor_is_reconciled(root, busybox, cli, engine_):
    cid = cli("run", "-d", "--name", "victim", "busybox", "sleep", "1000").out.strip()
    st = engine_.containers.store.state(cid)
    assert st.shim_pid and st.pid
    os.kill(st.shim_pid, signal.SIGKILL)
    time.sleep(0.2)
    ps = cli("ps", "-a").out
    assert "Exited (137)" in ps
    d = json.loads(cli("inspect", "victim").out)[0]
    assert d["State"]["Status"] == "exited" and "supervisor" in d["State"]["Error"]
    # its processes are gone, and it can be started again, its writable layer intact
    for _ in range(50):
        if not os.path.exists(f"/proc/{st.pid}"):
            break
        time.sleep(0.05)
    assert not os.path.exists(f"/proc/{st.pid}") or open(f"/proc/{st.pid}/stat").read().split()[2] == "Z"
    cli("start", "victim")
    cli("exec", "victim", "touch", "/kept")
    cli("stop", "-t", "0", "victim")
    cli("start", "victim")
    assert cli("exec", "victim", "ls", "/kept").out.strip() == "/kept"


def test_killed_container_process_and_system_check(root, busybox, cli, engine_):
    cid = cli("run", "-d", "--name", "crashy", "busybox", "sleep", "1000").out.strip()
    st = engine_.containers.store.state(cid)
    os.kill(st.shim_pid, signal.SIGKILL)
    os.kill(st.pid, signal.SIGKILL)
    out = cli("system", "check").out
    assert cid in out and "ok" in out
    assert "Exited" in cli("ps", "-a").out


def test_nothing_left_mounted(root, busybox, cli):
    for _ in range(3):
        cli("run", "--rm", "busybox", "true")
    cli("run", "-d", "--name", "up", "busybox", "sleep", "1000")
    with open("/proc/self/mountinfo") as f:
        assert root not in f.read()  # the overlay lives only in the container's mount namespace
    cli("rm", "-f", "up")
    with open("/proc/mounts") as f:
        assert root not in f.read()
