"""enter(): run another process inside a running container, as ``docker exec`` does."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

from engine.errors import CommandNotFound, CommandNotInvokable, InvalidArgument, RuntimeFailure
from engine.runtime import console
from engine.runtime.enter import enter
from engine.runtime.spec import ProcessSpec
from tests.engine.runtime.conftest import PATH, Runner, children, read_all

pytestmark = [pytest.mark.slow, pytest.mark.root]


@pytest.fixture
def container(runner: Runner) -> Iterator[int]:
    """A running container (PID 1 = sleep) that wrote a marker file into its own root."""
    pid, r = runner.start(runner.spec(["sh", "-c", "echo inside > /marker; exec sleep 60"]))
    os.close(r)
    deadline = time.monotonic() + 10
    while not os.path.exists(os.path.join(runner.upper, "marker")) and time.monotonic() < deadline:
        time.sleep(0.002)
    yield pid
    os.kill(pid, 9)
    runner.wait(pid)


def run_in(runner: Runner, pid: int, args: list[str], **kw: Any) -> tuple[int, str]:
    cgroup_join = kw.pop("cgroup_join", ())
    r, w = os.pipe()
    try:
        child = enter(
            pid,
            ProcessSpec(args=args, env=[PATH], **kw),
            stdin=w,
            stdout=w,
            stderr=w,
            cgroup_join=cgroup_join,
        )
    except BaseException:
        os.close(r)
        raise
    finally:
        os.close(w)
    runner.track(child)
    out = read_all(r)
    return runner.wait(child), out


def test_enter_shares_the_containers_namespaces(runner: Runner, container: int) -> None:
    code, out = run_in(
        runner, container, ["sh", "-c", "hostname; cat /marker; echo $$; ps -o pid,comm | sed -n 2p"]
    )
    lines = out.splitlines()
    assert code == 0
    assert lines[:2] == ["box", "inside"]
    assert int(lines[2]) > 1  # a new process in the container's PID namespace
    assert lines[3].split() == ["1", "sleep"]
    for ns in ("mnt", "uts", "ipc", "net", "pid", "cgroup"):
        assert os.readlink(f"/proc/{container}/ns/{ns}") != os.readlink(f"/proc/self/ns/{ns}")


def test_entered_process_is_a_direct_child_and_exit_code_propagates(runner: Runner, container: int) -> None:
    r, w = os.pipe()
    child = enter(
        container, ProcessSpec(args=["sh", "-c", "exit 5"], env=[PATH]), stdin=w, stdout=w, stderr=w
    )
    os.close(w)
    runner.track(child)
    assert child in children()
    read_all(r)
    assert runner.wait(child) == 5


def test_enter_applies_security_settings(runner: Runner, container: int) -> None:
    code, out = run_in(
        runner, container, ["sh", "-c", "grep -E '^(CapBnd|NoNewPrivs|Seccomp):' /proc/self/status"]
    )
    assert (code, out) == (0, "CapBnd:\t00000000a80425fb\nNoNewPrivs:\t1\nSeccomp:\t2\n")


def test_only_stdio_reaches_the_entered_process(runner: Runner, container: int) -> None:
    leaked = os.open("/", os.O_RDONLY)
    os.set_inheritable(leaked, True)
    try:
        code, out = run_in(runner, container, ["sh", "-c", "exec ls /proc/self/fd"])
    finally:
        os.close(leaked)
    assert (code, out.split()) == (0, ["0", "1", "2", "3"])  # 3 is ls's own directory handle


def test_enter_user_and_working_directory(runner: Runner, container: int) -> None:
    code, out = run_in(runner, container, ["sh", "-c", "id; pwd; echo $HOME"], user="app", cwd="/tmp")
    assert (code, out) == (0, "uid=1000(app) gid=1000(app) groups=10(wheel),50(staff)\n/tmp\n/home/app\n")


def test_enter_errors(runner: Runner, container: int) -> None:
    with pytest.raises(CommandNotFound, match='exec: "nosuch": executable file not found in \\$PATH'):
        run_in(runner, container, ["nosuch"])
    with pytest.raises(CommandNotInvokable, match='exec: "/etc": permission denied'):
        run_in(runner, container, ["/etc"])
    with pytest.raises(
        RuntimeFailure, match=r'chdir to cwd \("/nowhere"\) failed: no such file or directory'
    ):
        run_in(runner, container, ["true"], cwd="/nowhere")
    with pytest.raises(InvalidArgument, match="unable to find user ghost"):
        run_in(runner, container, ["true"], user="ghost")
    assert children() == {container}


def test_enter_a_stopped_container_fails(runner: Runner) -> None:
    pid, r = runner.start(runner.spec(["true"]))
    runner.collect(pid, r)
    with pytest.raises(RuntimeFailure, match="not running"):
        run_in(runner, pid, ["true"])


def test_enter_with_a_terminal(runner: Runner, container: int) -> None:
    ours, theirs = console.socketpair()
    try:
        try:
            child = enter(
                container,
                ProcessSpec(args=["sh", "-c", "tty; cut -d' ' -f6 /proc/self/stat; stty size"], env=[PATH]),
                console_socket=theirs,
                console_size=(33, 101),
            )
        finally:
            os.close(theirs)
        runner.track(child)
        master = console.receive(ours)
    finally:
        os.close(ours)
    out = read_all(master)
    assert runner.wait(child) == 0
    tty, sid, size = out.splitlines()
    assert tty.startswith("/dev/pts/")  # the container's devpts: ttyname works inside
    assert int(sid) > 1  # its own session inside the container's PID namespace
    assert size == "33 101"


def test_enter_joins_the_containers_cgroup(runner: Runner, memory_cgroup: str) -> None:
    procs = os.path.join(memory_cgroup, "cgroup.procs")
    pid, r = runner.start(runner.spec(["sleep", "60"], cgroup_join=[procs]))
    os.close(r)
    try:
        code, out = run_in(runner, pid, ["sh", "-c", "grep memory /proc/self/cgroup"], cgroup_join=[procs])
        assert (code, out.strip()[-9:]) == (0, ":memory:/")
    finally:
        os.kill(pid, 9)
        runner.wait(pid)
