"""Container start-up: dockyard vs Podman (runc), no network, same busybox rootfs.

    .venv/bin/python -m bench.containers_vs_podman [--runs 20]

Measures `run --rm IMAGE true` and the create / start / stop -t 0 / rm cycle, each step a separate CLI call
as a user would type it. The two tools alternate run by run, so that a slow moment of the machine falls on
both; each figure is a median.
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
    sh,
    table,
)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    a = ap.parse_args()
    ensure_peers()
    work = tempfile.mkdtemp(prefix="bench-ctr-")
    tar = busybox_rootfs_tar(os.path.join(work, "busybox.tar"))
    root = fresh_root()
    env = dockyard_env(root)
    sh(DOCKYARD, "import", "-c", 'CMD ["sh"]', tar, "benchbox", env=env)
    sh("podman", "import", "-q", tar, "localhost/benchbox:latest")

    ours_cmd = ([DOCKYARD], "benchbox", env)
    theirs_cmd = (["podman"], "localhost/benchbox", None)

    def run_rm(cmd: list[str], image: str, e: dict[str, str] | None) -> float:
        t = time.perf_counter()
        sh(*cmd, "run", "--rm", "--network", "none", image, "true", env=e)
        return time.perf_counter() - t

    def cycle(cmd: list[str], image: str, e: dict[str, str] | None) -> dict[str, float]:
        took: dict[str, float] = {}
        t = time.perf_counter()
        cid = sh(*cmd, "create", "--network", "none", image, "sleep", "1000", env=e).strip()
        took["create"] = time.perf_counter() - t
        for name, args in (
            ("start", ["start", cid]),
            ("stop -t 0", ["stop", "-t", "0", cid]),
            ("rm", ["rm", cid]),
        ):
            t = time.perf_counter()
            sh(*cmd, *args, env=e)
            took[name] = time.perf_counter() - t
        return took

    # The two tools take turns, run by run: both meet the same moments of a busy machine.
    for tool in (ours_cmd, theirs_cmd):  # warm-up
        run_rm(*tool)
        cycle(*tool)
    runs: dict[str, tuple[list[float], list[float]]] = {}
    for _ in range(a.runs):
        for side, tool in enumerate((ours_cmd, theirs_cmd)):
            runs.setdefault("run", ([], []))[side].append(run_rm(*tool))
        for side, tool in enumerate((ours_cmd, theirs_cmd)):
            for step, seconds in cycle(*tool).items():
                runs.setdefault(step, ([], []))[side].append(seconds)
    rows = [("run --rm --network none IMAGE true", median_ms(runs["run"][0]), median_ms(runs["run"][1]))]
    total_ours = total_theirs = 0.0
    for step in ("create", "start", "stop -t 0", "rm"):
        o, t = median_ms(runs[step][0]), median_ms(runs[step][1])
        total_ours += o
        total_theirs += t
        rows.append((f"  {step}", o, t))
    rows.append(("create + start + stop -t 0 + rm", total_ours, total_theirs))
    print(table(rows, "podman"))
    sh("podman", "rmi", "-f", "localhost/benchbox", check=False)
    shutil.rmtree(work)
    discard_root(root)


if __name__ == "__main__":
    main()
