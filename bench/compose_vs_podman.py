"""Compose: dockyard compose vs podman-compose (PyPI's, driving Podman with runc), same compose file.

    .venv/bin/python -m bench.compose_vs_podman [--runs 7] [--services 10]

One file, used by both: SERVICES services running ``sleep`` from a local image (the same busybox rootfs,
imported into each as ``localhost/benchbox``), all on one internal network (nothing leaves the machine).
Measures ``compose up -d`` (network made, containers created and started) and ``compose down -t 0``
(containers stopped and removed, network removed), each a separate CLI call as a user types it. The two tools
take turns run by run, so that a slow moment of the machine falls on both; each figure is a median.
"""

from __future__ import annotations

import argparse
import os
import shutil
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
    podman_compose,
    sh,
    table,
)

PROJECT = "benchcompose"


def compose_file(path: str, services: int) -> None:
    lines = ["services:"]
    for i in range(services):
        lines += [
            f"  s{i}:",
            "    image: localhost/benchbox",
            '    command: ["sleep", "1000"]',
            "    networks: [back]",
        ]
    lines += ["networks:", "  back:", "    internal: true"]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--services", type=int, default=10)
    a = ap.parse_args()
    ensure_peers()
    peer = podman_compose()
    work = tempfile.mkdtemp(prefix="bench-compose-")
    tar = busybox_rootfs_tar(os.path.join(work, "busybox.tar"))
    path = os.path.join(work, "compose.yaml")
    compose_file(path, a.services)
    root = fresh_root()
    env = dockyard_env(root)
    sh(DOCKYARD, "import", "-c", 'CMD ["sh"]', tar, "localhost/benchbox:latest", env=env)
    sh("podman", "import", "-q", tar, "localhost/benchbox:latest")

    ours = ([DOCKYARD, "compose"], env)
    theirs = ([peer], None)

    def step(tool: tuple[list[str], dict[str, str] | None], *args: str) -> float:
        cmd, e = tool
        t = time.perf_counter()
        sh(*cmd, "-f", path, "-p", PROJECT, *args, env=e)
        return time.perf_counter() - t

    def count(tool: tuple[list[str], dict[str, str] | None]) -> int:
        if tool is ours:
            out = sh(DOCKYARD, "ps", "-q", "--filter", f"label=com.docker.compose.project={PROJECT}", env=env)
        else:
            out = sh("podman", "ps", "-q", "--filter", f"label=io.podman.compose.project={PROJECT}")
        return len(out.split())

    try:
        for tool in (ours, theirs):  # warm-up, and a check that each really runs every service
            step(tool, "up", "-d")
            if count(tool) != a.services:
                raise SystemExit(f"{tool[0][0]}: {count(tool)} of {a.services} services running after up -d")
            step(tool, "down", "-t", "0")
        runs: dict[str, tuple[list[float], list[float]]] = {"up": ([], []), "down": ([], [])}
        for _ in range(a.runs):
            for side, tool in enumerate((ours, theirs)):
                runs["up"][side].append(step(tool, "up", "-d"))
                runs["down"][side].append(step(tool, "down", "-t", "0"))
        rows = []
        total_ours = total_theirs = 0.0
        for name, label in (("up", f"compose up -d ({a.services} services)"), ("down", "compose down -t 0")):
            o, t = median_ms(runs[name][0]), median_ms(runs[name][1])
            total_ours += o
            total_theirs += t
            rows.append((label, o, t))
        rows.append(("up -d + down", total_ours, total_theirs))
        print(table(rows, "podman-compose"))
    finally:
        sh(peer, "-f", path, "-p", PROJECT, "down", "-t", "0", check=False)
        sh("podman", "rmi", "-f", "localhost/benchbox", check=False)
        shutil.rmtree(work, ignore_errors=True)
        discard_root(root)


if __name__ == "__main__":
    main()
