"""Shared pieces for the benchmarks: timing loops, peers' set-up, result tables.

Benchmarks measure; they assert nothing. Each compares dockyard with a peer run side by side in the same
script, on the same input, and prints the ratio.
"""

from __future__ import annotations

import functools
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCKYARD = os.path.join(os.path.dirname(sys.executable), "dockyard")


def sh(*args: str, env: dict[str, str] | None = None, check: bool = True, input: bytes | None = None) -> str:
    p = subprocess.run(args, capture_output=True, env=env, input=input)
    if check and p.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({p.returncode}): {p.stderr.decode(errors='replace')}")
    return p.stdout.decode(errors="replace")


def timed(fn: Callable[[], object], runs: int, warmup: int = 1) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def have(tool: str) -> bool:
    return shutil.which(tool) is not None


def ensure_peers() -> None:
    """Install and configure the peers (podman, skopeo, ...) when missing."""
    if have("podman") and have("skopeo"):
        return
    setup = os.path.join(os.path.dirname(REPO), "shared", "peers", "setup.sh")
    if os.path.exists(setup):
        subprocess.run(["bash", setup], check=False)


def busybox_rootfs_tar(path: str) -> str:
    """The rootfs dockyard's busybox:latest is made of, for the peers to import the same base."""
    sys.path.insert(0, REPO)
    from engine import Engine

    root = tempfile.mkdtemp(prefix="bench-rootfs-")
    try:
        data = Engine(root).images.bootstrap_rootfs("busybox")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    with open(path, "wb") as f:
        f.write(data)
    return path


@functools.cache
def compile_sources() -> None:
    """Byte-compile dockyard as an install does, so that no run pays for compiling (once per benchmark)."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", os.path.join(REPO, "app"), os.path.join(REPO, "engine")],
        check=False,
        capture_output=True,
    )


def dockyard_env(root: str) -> dict[str, str]:
    """The CLI's environment: its own root, and Python's bytecode cache in use (as on a user's machine; an
    inherited PYTHONDONTWRITEBYTECODE would make every run recompile what changed since the install)."""
    compile_sources()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
    env.update(DOCKYARD_ROOT=root)
    return env


def fresh_root() -> str:
    return tempfile.mkdtemp(prefix="dockyard-bench-")


def table(rows: list[tuple[str, float, float]], peer: str) -> str:
    """rows: (operation, dockyard ms, peer ms)."""
    lines = [f"{'operation':<44} {'dockyard':>10} {peer:>10} {'ratio':>7}"]
    for name, ours, theirs in rows:
        ratio = ours / theirs if theirs else float("nan")
        lines.append(f"{name:<44} {ours:>8.1f}ms {theirs:>8.1f}ms {ratio:>7.2f}")
    return "\n".join(lines)


def discard_root(root: str) -> None:
    """Remove a benchmark's engine root and what it left on the host (containers, its cgroup parent, its
    bridges and firewall rules)."""
    sys.path.insert(0, REPO)
    from engine import Engine

    try:
        Engine(root).discard()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def podman_compose() -> str:
    """The podman-compose command (PyPI's package, driving Podman), installed on first use into a virtual
    environment of its own beside the benchmarks' other caches, so that dockyard's venv stays as users have it."""
    venv = os.path.join(os.path.expanduser("~"), ".cache", "dockyard-bench", "podman-compose")
    exe = os.path.join(venv, "bin", "podman-compose")
    if not os.path.exists(exe):
        sh(sys.executable, "-m", "venv", venv)
        sh(os.path.join(venv, "bin", "pip"), "install", "-q", "podman-compose")
    return exe
