"""What supervising running containers costs: dockyard's supervisor process vs Podman's conmon, side by side.

    .venv/bin/python -m bench.supervisor_vs_conmon [--running 200] [--runs 20]

1. Memory per running container with N running (`sleep`, no network): the PSS (/proc/PID/smaps_rollup) of
   the processes that supervise them, summed, over N — dockyard's supervisor process(es), Podman's conmons.
2. `run` of `true` to its exit from a process that holds the engine: dockyard's API from a process without
   threads and from one with a thread running (as the app), against `podman run --rm true` (Podman has no
   in-process API: its CLI is what a caller pays). Medians; the processes alternate run by run.
3. From the app: `s` on a created container until its row shows it Up (the app in tmux, as
   bench/tui_bench.py drives it), against `podman start`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from .common import (
    DOCKYARD,
    busybox_rootfs_tar,
    discard_root,
    dockyard_env,
    ensure_peers,
    fresh_root,
    median_ms,
    sh,
    table,
)

PODMAN_IMAGE = "localhost/benchbox:latest"


def pss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


def _conmons(ids: set[str]) -> list[int]:
    import psutil

    found = []
    for p in psutil.process_iter(["name", "cmdline"]):
        if p.info["name"] == "conmon" and ids & set(p.info["cmdline"] or []):
            found.append(p.pid)
    return found


def memory(root: str, env: dict[str, str], running: int) -> tuple[float, float, int, int]:
    """MB of supervisor PSS per running container: (dockyard, podman, dockyard's processes, conmons)."""
    ours = [
        sh(DOCKYARD, "run", "-d", "--network", "none", "benchbox", "sleep", "100000", env=env).strip()
        for _ in range(running)
    ]
    theirs = [
        sh("podman", "run", "-d", "--network", "none", PODMAN_IMAGE, "sleep", "100000").strip()
        for _ in range(running)
    ]
    time.sleep(2)
    try:
        import json

        shims = set()
        for cid in ours:
            with open(os.path.join(root, "containers", cid, "state.json")) as f:
                shims.add(json.load(f)["shim_pid"])
        conmons = _conmons(set(theirs))
        ours_kb = sum(pss_kb(p) for p in shims)
        theirs_kb = sum(pss_kb(p) for p in conmons)
        return ours_kb / 1024 / running, theirs_kb / 1024 / max(len(conmons), 1), len(shims), len(conmons)
    finally:
        sh(DOCKYARD, "rm", "-f", *ours, env=env, check=False)
        sh("podman", "rm", "-f", "-t", "0", *theirs, check=False)


_HOLDER = """
import statistics, sys, threading, time
from engine import CreateOptions, Engine
e = Engine(sys.argv[1])
if sys.argv[3] == "threads":
    threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()
took = []
for _ in range(int(sys.argv[2]) + 1):
    t = time.perf_counter()
    c = e.containers.run("benchbox", CreateOptions(command=["true"], network="none"), detach=False)
    took.append(time.perf_counter() - t)
    e.containers.remove(c.id)
print(statistics.median(took[1:]))
"""


def run_from_holder(root: str, env: dict[str, str], runs: int, threads: bool) -> float:
    """Median seconds of ``run`` of ``true`` to its exit from one process holding the engine."""
    out = sh(sys.executable, "-c", _HOLDER, root, str(runs), "threads" if threads else "plain", env=env)
    return float(out.strip())


def podman_run_rm(runs: int) -> float:
    took = []
    for _ in range(runs + 1):
        t = time.perf_counter()
        sh("podman", "run", "--rm", "--network", "none", PODMAN_IMAGE, "true")
        took.append(time.perf_counter() - t)
    return statistics.median(took[1:])


def app_start(root: str, env: dict[str, str], runs: int) -> float:
    """Median seconds from `s` on a created container's row until the app shows it Up."""
    from bench.tui_bench import Tmux

    sh(DOCKYARD, "create", "--name", "startme", "--network", "none", "benchbox", "sleep", "100000", env=env)
    t = Tmux(root)
    took = []
    try:
        t.start()
        t.wait(lambda s: "startme" in s and "Created" in s)
        time.sleep(2)  # the app has settled (and made its supervisor ready in the background)
        for _ in range(runs):
            t.keys("s")
            took.append(t.wait(lambda s: any("startme" in ln and " Up " in ln for ln in s.splitlines())))
            sh(DOCKYARD, "stop", "-t", "0", "startme", env=env)
            t.wait(lambda s: any("startme" in ln and "Exited" in ln for ln in s.splitlines()))
            time.sleep(0.3)
    finally:
        t.stop()
        sh(DOCKYARD, "rm", "-f", "startme", env=env, check=False)
    return statistics.median(took)


def podman_start(runs: int) -> float:
    cid = sh("podman", "create", "--network", "none", PODMAN_IMAGE, "sleep", "100000").strip()
    took = []
    try:
        for _ in range(runs):
            t = time.perf_counter()
            sh("podman", "start", cid)
            took.append(time.perf_counter() - t)
            sh("podman", "stop", "-t", "0", cid)
    finally:
        sh("podman", "rm", "-f", cid, check=False)
    return statistics.median(took)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--running", type=int, default=200)
    ap.add_argument("--runs", type=int, default=20)
    a = ap.parse_args()
    print(f"load average before: {open('/proc/loadavg').read().split()[0]}")
    (ours_mb, theirs_mb, shims, conmons), rows = measure_all(a.running, a.runs)
    print(
        f"supervisor memory (PSS) per running container, {a.running} running: dockyard {ours_mb:.3f} MB "
        f"({shims} supervisor process{'es' if shims != 1 else ''}), Podman {theirs_mb:.3f} MB "
        f"({conmons} conmons), ratio {ours_mb / theirs_mb:.2f}"
    )
    print(table(rows, "podman"))
    print(f"load average after: {open('/proc/loadavg').read().split()[0]}")


def measure_all(
    running: int, runs: int
) -> tuple[tuple[float, float, int, int], list[tuple[str, float, float]]]:
    """The memory figures (MB per running container, dockyard's and Podman's, and how many processes each)
    and the rows (what, dockyard's ms, Podman's ms) of the run and start timings."""
    ensure_peers()
    work = tempfile.mkdtemp(prefix="bench-sup-")
    tar = busybox_rootfs_tar(os.path.join(work, "busybox.tar"))
    root = fresh_root()
    env = dockyard_env(root)
    sh(DOCKYARD, "import", "-c", 'CMD ["sh"]', tar, "benchbox", env=env)
    sh("podman", "import", "-q", tar, PODMAN_IMAGE)
    try:
        mem = memory(root, env, running)
        plain, threaded, podman = [], [], []
        for _ in range(3):  # the three alternate, so a slow moment of the machine falls on all
            plain.append(run_from_holder(root, env, runs, threads=False))
            threaded.append(run_from_holder(root, env, runs, threads=True))
            podman.append(podman_run_rm(runs))
        rows = [
            ("run true to exit, holder without threads", median_ms(plain), median_ms(podman)),
            ("run true to exit, holder with threads", median_ms(threaded), median_ms(podman)),
        ]
        ours_s = app_start(root, env, max(5, runs // 2))
        theirs_s = podman_start(max(5, runs // 2))
        rows.append(("app: `s` until the row shows Up / podman start", ours_s * 1000, theirs_s * 1000))
        return mem, rows
    finally:
        sh("podman", "rmi", "-f", PODMAN_IMAGE, check=False)
        subprocess.run(["rm", "-rf", work], check=False)
        discard_root(root)


if __name__ == "__main__":
    main()
