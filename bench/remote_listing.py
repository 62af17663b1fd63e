"""The app's container list over ``--host`` against the same list read from the engine's root directly.

    .venv/bin/python -m bench.remote_listing [--runs 30] [--containers 100]

One engine root with that many containers (busybox, made and not started, network none) is served by
``dockyard system service`` on a unix socket. Measured, turn about, run by run:

- ``RemoteEngine(host).containers.list(all=True)``: what the app's Containers pane asks for over ``--host``
  (``GET /containers/json``, each container's record made from its summary), the first time (nothing known
  yet) and again (the records of the summaries that did not change kept);
- ``Engine(root).containers.list(all=True)`` plus one round trip to the service (``GET /_ping``): the least
  a remote list can cost, the local list and the network between.

Goal: the first remote list within 2x of the local one plus the round trip. Each figure is a median; the table goes
to bench/results/remote_listing.txt.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import tempfile
import time

from .common import DOCKYARD, busybox_rootfs_tar, discard_root, dockyard_env, fresh_root, median_ms, sh, timed

GOAL = 2.0


def _ping(remote: object) -> None:
    stream = remote.client.open("GET", "/_ping")  # type: ignore[attr-defined]
    try:
        stream.response.read()
    finally:
        stream.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--containers", type=int, default=100)
    a = ap.parse_args()
    from engine import CreateOptions, Engine, RemoteEngine

    work = tempfile.mkdtemp(prefix="bench-remote-")
    root = fresh_root()
    env = dockyard_env(root)
    proc: subprocess.Popen[bytes] | None = None
    try:
        tar = busybox_rootfs_tar(os.path.join(work, "busybox.tar"))
        sh(DOCKYARD, "import", "-c", 'CMD ["sh"]', tar, "benchbox", env=env)
        local = Engine(root)
        for _ in range(a.containers):
            local.containers.create("benchbox", CreateOptions(command=["true"], network="none"))
        sock = os.path.join(work, "dockyard.sock")
        proc = subprocess.Popen(
            [DOCKYARD, "system", "service", "--socket", sock, "--time", "0"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        remote = None
        while remote is None:
            try:
                remote = RemoteEngine(f"unix://{sock}")
            except Exception:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the service did not start") from None
                time.sleep(0.05)
        assert len(remote.containers.list(all=True)) == a.containers
        assert len(local.containers.list(all=True)) == a.containers
        ours: list[float] = []
        base: list[float] = []
        local_only: list[float] = []
        ping: list[float] = []
        cold: list[float] = []
        for _ in range(a.runs):
            ours += timed(lambda: remote.containers.list(all=True), 1, warmup=0)
            remote.containers.known.clear()
            cold += timed(lambda: remote.containers.list(all=True), 1, warmup=0)
            local_only += timed(lambda: local.containers.list(all=True), 1, warmup=0)
            ping += timed(lambda: _ping(remote), 1, warmup=0)
            base += timed(lambda: (local.containers.list(all=True), _ping(remote)), 1, warmup=0)
        o, b = median_ms(ours), median_ms(base)
        rows = [
            (f"RemoteEngine first list, {a.containers} containers", median_ms(cold)),
            ("RemoteEngine list again (records kept)", o),
            ("  local Engine list", median_ms(local_only)),
            ("  GET /_ping round trip", median_ms(ping)),
            ("local Engine list + one round trip", b),
        ]
        print(f"{'operation':<44} {'median':>10}")
        for name, ms in rows:
            print(f"{name:<44} {ms:>8.1f}ms")
        for what, ms in (("first", median_ms(cold)), ("again", o)):
            ratio = ms / b if b else float("nan")
            print(
                f"ratio remote {what} / (local + round trip): {ratio:.2f}"
                f" (goal <= {GOAL:.0f}x: {'met' if ratio <= GOAL else 'missed'})"
            )
    finally:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(work, ignore_errors=True)
        discard_root(root)


if __name__ == "__main__":
    main()
