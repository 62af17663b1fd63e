"""One supervisor process for all the running containers of a root (engine/runtime/supervisor/host.py): it
supervises each in a thread of its own, and what goes wrong with one container never costs another its
log or its exit status."""

from __future__ import annotations

import json
import os
import time

import pytest

from engine.kernel.procinfo import alive
from engine.runtime.supervisor.spawning import quit_supervisor

pytestmark = pytest.mark.slow


def _state(root: str, cid: str) -> dict:
    with open(os.path.join(root, "containers", cid, "state.json")) as f:
        return json.load(f)


def _ppid(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rpartition(")")[2].split()[1])


def _wait_gone(pid: int, start: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while alive(pid, start):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_one_process_supervises_every_container_of_a_root_and_ends_after_the_last(root, busybox, cli):
    ids = [cli("run", "-d", busybox, "sleep", "300").out.strip() for _ in range(3)]
    states = [_state(root, cid) for cid in ids]
    shim = {s["shim_pid"] for s in states}
    assert len(shim) == 1  # one process ...
    (host,) = shim
    assert all(_ppid(s["pid"]) == host for s in states)  # ... the parent of every PID 1
    assert len({s["pid"] for s in states}) == 3
    start = states[0]["shim_start"]

    cli("stop", "-t", "1", ids[0])
    assert alive(host, start)  # the others are still supervised
    assert cli("exec", ids[1], "echo", "still here").out == "still here\n"
    cli("rm", "-f", ids[1], ids[2])
    assert _wait_gone(host, start, 15), "the supervisor outlived its last container"


def test_a_misbehaving_container_costs_its_neighbours_nothing(root, busybox, cli, engine_):
    # a flood of output, with an attached client that never reads
    cli(
        "run",
        "-d",
        "--name",
        "flood",
        busybox,
        "sh",
        "-c",
        "yes 0123456789abcdef | head -c 40000000; sleep 300",
    )
    stalled = engine_.containers.attach("flood")  # and never read from
    # killed by the OOM killer
    cli(
        "run",
        "-d",
        "--name",
        "oom",
        "--memory",
        "8m",
        "--memory-swap",
        "8m",
        busybox,
        "sh",
        "-c",
        "x=0123456789; while true; do x=$x$x; done",
    )
    # a health probe that never ends
    cli(
        "run",
        "-d",
        "--name",
        "hung",
        "--health-cmd",
        "sleep 1000",
        "--health-interval",
        "1s",
        "--health-timeout",
        "1s",
        busybox,
        "sleep",
        "300",
    )
    # as many processes as it may have
    cli(
        "run",
        "-d",
        "--name",
        "forks",
        "--pids-limit",
        "12",
        busybox,
        "sh",
        "-c",
        "while true; do sleep 300 & done",
    )
    # the neighbour: numbered lines, a pause, more lines, its own exit status
    script = "for i in $(seq 1 300); do echo line $i; done; sleep 3; for i in $(seq 301 600); do echo line $i; done; exit 7"
    cli("run", "-d", "--name", "good", busybox, "sh", "-c", script)

    assert cli("wait", "good", timeout=60).out.strip() == "7"
    assert cli("logs", "good").out.splitlines() == [f"line {i}" for i in range(1, 601)]
    for name in ("flood", "hung"):
        assert json.loads(cli("inspect", name).out)[0]["State"]["Running"], name
    forks = json.loads(cli("inspect", "forks").out)[0]["State"]  # its shell may give up when it cannot fork
    assert forks["Error"] == "" and (forks["Running"] or forks["Status"] == "exited")
    deadline = time.monotonic() + 30
    while json.loads(cli("inspect", "oom").out)[0]["State"]["Running"]:
        assert time.monotonic() < deadline, "not killed by the OOM killer"
        time.sleep(0.2)
    oom = json.loads(cli("inspect", "oom").out)[0]["State"]
    assert oom["OOMKilled"] and oom["ExitCode"] == 137
    hung = json.loads(cli("inspect", "hung").out)[0]["State"]["Health"]
    assert hung["Log"] and hung["Log"][-1]["ExitCode"] != 0
    assert len({_state(root, c.id)["shim_pid"] for c in engine_.containers.list()}) == 1
    stalled.close()


def test_a_failed_supervision_stops_only_its_own_container(root, busybox, cli, monkeypatch):
    # the supervisor of the container that exits first fails as it records the exit
    monkeypatch.setenv("DOCKYARD_FAULT", "supervisor exited=crash1")
    try:
        other = cli(
            "run", "-d", "--name", "other", busybox, "sh", "-c", "sleep 3; echo done; exit 7"
        ).out.strip()
        first = cli("run", "-d", "--name", "first", busybox, "sh", "-c", "echo bye; exit 3").out.strip()
        assert _state(root, first)["shim_pid"] == _state(root, other)["shim_pid"]
        assert cli("wait", "other", timeout=60).out.strip() == "7"
        st = json.loads(cli("inspect", "first").out)[0]["State"]
        assert st["Status"] == "exited" and "supervisor failed" in st["Error"] and "injected" in st["Error"]
        assert cli("logs", "first").out == "bye\n"
        st = json.loads(cli("inspect", "other").out)[0]["State"]
        assert st["Status"] == "exited" and st["ExitCode"] == 7 and st["Error"] == ""
        assert cli("logs", "other").out == "done\n"
        cli("rm", "first", "other")
    finally:
        quit_supervisor(root)  # the one this plan reaches (its name includes the plan)
