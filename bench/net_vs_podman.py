"""Bridge networking: dockyard vs Podman (netavark) on their default bridge, same busybox rootfs.

    .venv/bin/python -m bench.net_vs_podman [--runs 15] [--megabytes 256]

Measures, each step a separate CLI call as a user would type it:

- ``run --rm --network bridge IMAGE true``, back to back (a bridge and its rules stay up for a second
  after the last container, so the next run finds them), and "cold" (a pause between runs lets dockyard
  delete the bridge and rules, so every run creates them again);
- the create / start / stop -t 0 / rm cycle on the bridge;
- throughput through a port published on 127.0.0.1: the host downloads a file served by busybox httpd.

Safety: containers run ``true``, ``sleep`` or httpd, with ``--dns 127.0.0.1``; the only traffic is the
download over 127.0.0.1. Everything made is removed at the end, and ``ip_forward`` is put back as it was
(Podman turns it on for good).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import tempfile
import time
import urllib.request

from .common import (
    DOCKYARD,
    busybox_rootfs_tar,
    discard_root,
    dockyard_env,
    ensure_peers,
    fresh_root,
    have,
    median_ms,
    sh,
    timed,
)

GOAL = 0.5  # dockyard's time at most half of Podman's
FORWARD = "/proc/sys/net/ipv4/ip_forward"


def read_forwarding() -> str:
    with open(FORWARD) as f:
        return f.read().strip()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def download(url: str, timeout: float = 20.0) -> tuple[int, float]:
    """Bytes read and seconds taken (retrying the connection until the server is up)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            t0 = time.perf_counter()
            total = 0
            with urllib.request.urlopen(url, timeout=10) as r:
                while chunk := r.read(1 << 20):
                    total += len(chunk)
            return total, time.perf_counter() - t0
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def throughput(cmd: list[str], image: str, env: dict[str, str] | None, megabytes: int, rounds: int) -> float:
    """Best MB/s of ``rounds`` downloads of a ``megabytes`` file through a port published on 127.0.0.1."""
    port = free_port()
    serve = (
        f"mkdir -p /www && dd if=/dev/zero of=/www/big bs=1M count={megabytes} 2>/dev/null && "
        "exec httpd -f -p 80 -h /www"
    )
    name = f"dy-bench-web-{os.getpid()}"
    sh(
        *cmd,
        "run",
        "-d",
        "--name",
        name,
        "--network",
        "bridge",
        "--dns",
        "127.0.0.1",
        "-p",
        f"127.0.0.1:{port}:80",
        image,
        "sh",
        "-c",
        serve,
        env=env,
    )
    try:
        best = 0.0
        for _ in range(rounds):
            size, secs = download(f"http://127.0.0.1:{port}/big")
            if size != megabytes << 20:
                raise SystemExit(f"{cmd[0]}: short download ({size} bytes)")
            best = max(best, size / secs / 1e6)
        return best
    finally:
        sh(*cmd, "rm", "-f", name, env=env, check=False)


def cycle(cmd: list[str], image: str, env: dict[str, str] | None, runs: int) -> dict[str, list[float]]:
    steps: dict[str, list[float]] = {"create": [], "start": [], "stop -t 0": [], "rm": []}
    for _ in range(runs):
        t = time.perf_counter()
        cid = sh(
            *cmd, "create", "--network", "bridge", "--dns", "127.0.0.1", image, "sleep", "1000", env=env
        ).strip()
        steps["create"].append(time.perf_counter() - t)
        for step, args in (
            ("start", ["start", cid]),
            ("stop -t 0", ["stop", "-t", "0", cid]),
            ("rm", ["rm", cid]),
        ):
            t = time.perf_counter()
            sh(*cmd, *args, env=env)
            steps[step].append(time.perf_counter() - t)
    return steps


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--cold-runs", type=int, default=5)
    ap.add_argument("--megabytes", type=int, default=256)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    ensure_peers()
    forward_before = read_forwarding()
    podman = have("podman")
    work = tempfile.mkdtemp(prefix="bench-net-")
    tar = busybox_rootfs_tar(os.path.join(work, "busybox.tar"))
    root = fresh_root()
    env = dockyard_env(root)
    ours = [DOCKYARD]
    sh(DOCKYARD, "import", "-c", 'CMD ["sh"]', tar, "benchbox", env=env)
    if podman:
        sh("podman", "import", "-q", tar, "localhost/benchbox:latest")
    rows: list[tuple[str, float, float | None]] = []
    try:

        def run_true(cmd: list[str], image: str, e: dict[str, str] | None) -> None:
            sh(*cmd, "run", "--rm", "--network", "bridge", "--dns", "127.0.0.1", image, "true", env=e)

        def podman_ms(fn: object) -> float | None:
            return median_ms(timed(fn, a.runs)) if podman else None  # type: ignore[arg-type]

        rows.append(
            (
                "run --rm --network bridge IMAGE true",
                median_ms(timed(lambda: run_true(ours, "benchbox", env), a.runs)),
                podman_ms(lambda: run_true(["podman"], "localhost/benchbox", None)),
            )
        )

        def cold(cmd: list[str], image: str, e: dict[str, str] | None) -> float:
            samples = []
            for _ in range(a.cold_runs):
                time.sleep(2.0)  # longer than dockyard's linger: its bridge and rules are gone
                t = time.perf_counter()
                run_true(cmd, image, e)
                samples.append(time.perf_counter() - t)
            return sorted(samples)[len(samples) // 2] * 1000

        rows.append(
            (
                "  same, cold (bridge and rules made each run)",
                cold(ours, "benchbox", env),
                cold(["podman"], "localhost/benchbox", None) if podman else None,
            )
        )
        mine = cycle(ours, "benchbox", env, a.runs)
        theirs = cycle(["podman"], "localhost/benchbox", None, a.runs) if podman else None
        total_o = total_t = 0.0
        for step in mine:
            o = median_ms(mine[step])
            t = median_ms(theirs[step]) if theirs else None
            total_o += o
            total_t += t or 0.0
            rows.append((f"  {step}", o, t))
        rows.append(("create + start + stop -t 0 + rm, bridge", total_o, total_t if theirs else None))
        mbps_o = throughput(ours, "benchbox", env, a.megabytes, a.rounds)
        mbps_t = throughput(["podman"], "localhost/benchbox", None, a.megabytes, a.rounds) if podman else None
    finally:
        sh(DOCKYARD, "network", "prune", "-f", env=env, check=False)
        if podman:
            sh("podman", "rmi", "-f", "localhost/benchbox", check=False)
        shutil.rmtree(work, ignore_errors=True)
        discard_root(root)
        if read_forwarding() != forward_before:  # Podman turns ip_forward on and leaves it on
            with open(FORWARD, "w") as f:
                f.write(forward_before)

    print(f"{'operation':<48} {'dockyard':>10} {'podman':>10} {'ratio':>7}  goal <= {GOAL}")
    for name, o, t in rows:
        ratio = f"{o / t:7.2f}" if t else "      -"
        their = f"{t:8.1f}ms" if t is not None else "         -"
        print(f"{name:<48} {o:8.1f}ms {their} {ratio}")
    ratio = f"{mbps_o / mbps_t:7.2f}" if mbps_t else "      -"
    their = f"{mbps_t:6.0f}MB/s" if mbps_t else "         -"
    print(
        f"{f'download {a.megabytes} MB via 127.0.0.1 published port':<48} {mbps_o:6.0f}MB/s {their} {ratio}"
        "  (higher is better)"
    )


if __name__ == "__main__":
    main()
