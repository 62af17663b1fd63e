"""Container start-up: dockyard vs Podman (runc), no network, same busybox rootfs.

    .venv/bin/python -m bench.containers_vs_podman [--runs 20]

Measures `run --rm IMAGE true` and the create / start / stop -t 0 / rm cycle, each step a separate CLI call
as a user would type it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile

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
    timed,
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

    rows = []
    rows.append(
        (
            "run --rm --network none IMAGE true",
            median_ms(
                timed(
                    lambda: sh(DOCKYARD, "run", "--rm", "--network", "none", "benchbox", "true", env=env),
                    a.runs,
                )
            ),
            median_ms(
                timed(
                    lambda: sh("podman", "run", "--rm", "--network", "none", "localhost/benchbox", "true"),
                    a.runs,
                )
            ),
        )
    )

    def cycle(cmd: list[str], image: str, e: dict[str, str] | None) -> dict[str, list[float]]:
        import time

        steps: dict[str, list[float]] = {"create": [], "start": [], "stop -t 0": [], "rm": []}
        for _ in range(a.runs):
            t = time.perf_counter()
            cid = sh(*cmd, "create", "--network", "none", image, "sleep", "1000", env=e).strip()
            steps["create"].append(time.perf_counter() - t)
            for name, args in (
                ("start", ["start", cid]),
                ("stop -t 0", ["stop", "-t", "0", cid]),
                ("rm", ["rm", cid]),
            ):
                t = time.perf_counter()
                sh(*cmd, *args, env=e)
                steps[name].append(time.perf_counter() - t)
        return steps

    ours = cycle([DOCKYARD], "benchbox", env)
    theirs = cycle(["podman"], "localhost/benchbox", None)
    total_ours = total_theirs = 0.0
    for step in ours:
        o, t = median_ms(ours[step]), median_ms(theirs[step])
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
