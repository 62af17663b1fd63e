"""A supervisor forked ahead of its container (``run``, ``start``): it starts the right container, and it
ends, leaving nothing, when the caller gives up before naming one."""

from __future__ import annotations

import os
import select
import time

from engine.runtime.spawn import PendingSupervisor


def _ended(status_fd: int, timeout: float = 10.0) -> bool:
    """True once every holder of the status pipe's write end (the supervisor) has closed it."""
    ready, _, _ = select.select([status_fd], [], [], timeout)
    return bool(ready) and os.read(status_fd, 4096) == b""


def test_a_pending_supervisor_ends_when_its_caller_gives_up(root) -> None:
    pending = PendingSupervisor(root)
    assert pending.forked
    os.close(pending.go_w)  # what a caller that exits or cancels does to it
    pending.go_w = -1
    try:
        assert _ended(pending.status_r)
    finally:
        pending.cancel()


def _processes_with(word: str) -> list[int]:
    """PIDs whose command line has ``word`` (a forked supervisor keeps its caller's command line)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if word.encode() in f.read().split(b"\0"):
                    found.append(int(pid))
        except OSError:
            pass
    return found


def test_run_of_a_missing_image_or_command_leaves_no_container_or_supervisor(root, busybox, cli) -> None:
    cli.fails("run", "--rm", "no-such-image-here", "true", code=125)
    cli.fails("run", "--rm", busybox, "no-such-command-here", code=127)
    assert cli("ps", "-a", "-q").out.strip() == ""
    deadline = time.monotonic() + 10
    while _processes_with("no-such-image-here") or _processes_with("no-such-command-here"):
        assert time.monotonic() < deadline, "a supervisor outlived its failed run"
        time.sleep(0.05)


def test_start_of_a_running_container_starts_nothing_more(root, busybox, cli, engine_) -> None:
    cid = cli("run", "-d", busybox, "sleep", "30").out.strip()
    try:
        assert engine_.containers.start(cid) is False
        assert cli("ps", "-q").out.split() == [cid[:12]]
    finally:
        cli("rm", "-f", cid)
