"""The build cache at scale: Dockerfiles of 100, 1,000 and 10,000 ENV lines, dockyard vs Podman.

    .venv/bin/python -m bench.build_cache_scale [--lines 100,1000,10000] [--peer-max 100]

For each size, in a fresh engine root: the first build (every step runs and is written to the cache), its
peak memory (the build process's maximum resident set), the cache's size on disk, a fully cached rebuild, a
two-line build in the same root afterwards (a small build must not pay for a big cache) and ``builder prune
-a -f``. Time per 1,000 lines shows whether the cost grows linearly. Podman builds the same Dockerfile side
by side up to ``--peer-max`` lines: its own cost grows faster than linearly (1,000 lines take it about two
minutes here), so larger sizes are dockyard's alone.

Goals: time per line roughly flat from 1,000 to 10,000 lines; memory under 200 MB at 10,000 lines; the cache
linear in the number of lines.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time

from .common import DOCKYARD, busybox_rootfs_tar, discard_root, dockyard_env, ensure_peers, sh

BASE = "localhost/dybench-busybox:latest"
MEMORY_GOAL_MB = 200


def measured(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Run ``cmd``; its wall time in seconds and its peak resident memory in MB."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    elapsed = time.perf_counter() - t0
    err = p.stderr.read().decode(errors="replace") if p.stderr else ""
    if p.stderr:
        p.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {err}")
    return elapsed, usage.ru_maxrss / 1024


def env_dockerfile(path: str, lines: int) -> str:
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "Dockerfile"), "w") as f:
        f.write(f"FROM {BASE}\n" + "".join(f"ENV VARIABLE_{i}=value-{i}\n" for i in range(lines)))
    return path


def cache_bytes(root: str) -> int:
    return sum(
        os.path.getsize(os.path.join(root, name))
        for name in os.listdir(root)
        if name.startswith("buildcache")
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", default="100,1000,10000")
    ap.add_argument("--peer-max", type=int, default=100)
    a = ap.parse_args()
    sizes = [int(n) for n in a.lines.split(",")]
    ensure_peers()
    work = tempfile.mkdtemp(prefix="bench-cache-")
    pod_root, pod_run = os.path.join(work, "podman-root"), os.path.join(work, "podman-run")
    podman = ["podman", "--root", pod_root, "--runroot", pod_run]
    roots: list[str] = []
    rows = []
    try:
        tar = busybox_rootfs_tar(os.path.join(work, "busybox.tar"))
        small = os.path.join(work, "small")
        os.makedirs(small)
        with open(os.path.join(small, "Dockerfile"), "w") as f:
            f.write(f"FROM {BASE}\nENV SMALL=1\n")
        if sizes and min(sizes) <= a.peer_max:
            sh(*podman, "import", "-q", tar, BASE)
        for lines in sizes:
            root = os.path.join(work, f"root-{lines}")
            roots.append(root)
            env = dockyard_env(root)
            sh(DOCKYARD, "import", tar, BASE, env=env)
            ctx = env_dockerfile(os.path.join(work, f"ctx-{lines}"), lines)
            build = [DOCKYARD, "build", "-q", "-t", "scale:latest", ctx]
            first, memory = measured(build, env)
            size = cache_bytes(root)
            cached, _ = measured(build, env)
            small_build, _ = measured([DOCKYARD, "build", "-q", "-t", "small:latest", small], env)
            sh(DOCKYARD, "rmi", "scale:latest", "small:latest", env=env)
            prune, _ = measured([DOCKYARD, "builder", "prune", "-a", "-f"], env)
            peer_first = peer_cached = None
            if lines <= a.peer_max:
                theirs = [*podman, "build", "--network", "none", "-q", "-t", "scale:latest", ctx]
                peer_first, _ = measured(theirs)
                peer_cached, _ = measured(theirs)
                sh(*podman, "rmi", "-f", "scale:latest", check=False)
            rows.append((lines, first, memory, size, cached, small_build, prune, peer_first, peer_cached))
        print(
            f"{'ENV lines':>9} {'first build':>12} {'per 1k':>8} {'memory':>8} {'cache':>9} {'cached':>9}"
            f" {'2-line after':>12} {'prune -a':>9} {'podman first':>12} {'cached':>9} {'ratio':>11}"
        )
        for lines, first, memory, size, cached, small_build, prune, p_first, p_cached in rows:
            peer = f"{p_first:>11.2f}s {p_cached:>8.2f}s" if p_first is not None else f"{'-':>12} {'-':>9}"
            ratio = (
                f"{first / p_first:>5.2f}/{cached / p_cached:<5.2f}"
                if p_first is not None and p_cached
                else f"{'-':>11}"
            )
            print(
                f"{lines:>9} {first:>11.2f}s {first / lines * 1000:>7.2f}s {memory:>6.0f}MB"
                f" {size / 1e6:>7.2f}MB {cached:>8.2f}s {small_build:>11.2f}s {prune:>8.2f}s {peer} {ratio}"
            )
        big = [r for r in rows if r[0] == max(sizes)][0]
        verdict = "ok" if big[2] <= MEMORY_GOAL_MB else "MISSED"
        print(f"memory at {big[0]} lines: {big[2]:.0f} MB (goal <= {MEMORY_GOAL_MB} MB) {verdict}")
        print("(one run each; per 1k = first build's time per 1,000 lines; ratio = first/cached vs Podman)")
    finally:
        subprocess.run([*podman, "system", "reset", "-f"], capture_output=True)
        for leftover in (pod_root, pod_run):
            subprocess.run(["umount", "-R", leftover], capture_output=True)
        for root in roots:
            if os.path.isdir(root):
                discard_root(root)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
