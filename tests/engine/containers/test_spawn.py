"""The supervisor process made ahead of a container (``run``, ``start``): it starts the right container, and it
ends, leaving nothing, when the caller gives up before naming one."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from tests.modules import ROOT


def test_a_supervisor_made_for_a_caller_that_gives_up_ends(root) -> None:
    # In a fresh interpreter: the supervisor process is forked only by a caller without threads (the test
    # process may have some left by other tests).
    script = (
        "from engine.runtime.supervisor.spawning import PendingSupervisor\n"
        f"pending = PendingSupervisor({root!r})\n"
        "assert pending.forked, 'not forked'\n"
        "pending.cancel()  # what a caller that exits or cannot make its container does\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    # the supervisor process keeps the command line of the caller it was forked from
    assert _processes_with(script), "no supervisor process was made"
    deadline = time.monotonic() + 15
    while _processes_with(script):
        assert time.monotonic() < deadline, "the supervisor process outlived its caller"
        time.sleep(0.05)


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


def test_a_supervisor_whose_root_is_gone_ends(root) -> None:
    # a caller keeps the supervisor process ready (as the app does) while the root is taken away under it
    script = (
        "import sys, time\n"
        "from engine.runtime.supervisor.spawning import PendingSupervisor\n"
        f"pending = PendingSupervisor({root!r})\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    away = root + ".away"
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "ready\n"
        assert _processes_with(script), "no supervisor process was made"
        os.rename(root, away)
        deadline = time.monotonic() + 20
        while [p for p in _processes_with(script) if p != holder.pid]:
            assert time.monotonic() < deadline, "the supervisor process outlived its root"
            time.sleep(0.1)
    finally:
        holder.kill()
        holder.wait()
        if os.path.isdir(away):
            os.rename(away, root)
