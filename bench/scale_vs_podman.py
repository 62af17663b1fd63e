"""Calls about one container, and ps -a, as the number N of containers in the root grows: dockyard vs Podman.

    .venv/bin/python -m bench.scale_vs_podman [--quick] [--runs 7] [--podman-minutes 20] [--no-podman]
                                              [--tree DIR]

N = 10, 100, 1000, 5000 in one run (``--quick``: 10, 100, 1000). Between two sizes the roots are filled with
containers that are made and never started (``fill-I``, ``true``, network none):

- dockyard's through the engine API (``Containers.create``) in one Python process, as a script would;
- Podman's with ``podman create`` calls, 4 at a time (its own temporary storage and file locks: its default
  lock table in shared memory holds 2048 containers for the whole machine; ``--network none``); its
  fill rate is printed, and when filling it to the next size would take longer than ``--podman-minutes`` in
  all, Podman's curve stops at the largest N it reached (the table says so).

At each N every call is a separate CLI command, as a user would type it, the two tools taking turns
repetition by repetition: ``inspect`` of one container by name and by a 12-character ID prefix, a
container's life (``create --name``, ``start``, ``logs``, ``rename``, ``stop -t 0``, ``rm``),
``run --rm IMAGE true`` and ``ps -a`` (which prints N rows). Each figure is a median; the last table gives
each call's time at the largest N over its time at N = 10 (dockyard's and Podman's own). ``--tree DIR``
runs another checkout's dockyard (a commit to compare with, unpacked by ``git archive``). The full run
writes bench/results/scale_vs_podman.txt.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

from .common import DOCKYARD, REPO, busybox_rootfs_tar, dockyard_env, ensure_peers, median_ms, sh

CALLS = (
    "inspect NAME",
    "inspect ID-PREFIX",
    "create",
    "start",
    "logs",
    "rename",
    "stop -t 0",
    "rm",
    "run --rm IMAGE true",
    "ps -a",
)

_FILL = """
import sys, time
sys.path[0:0] = [sys.argv[1]]
from engine import Engine
c = Engine(sys.argv[2]).containers
start, end = int(sys.argv[3]), int(sys.argv[4])
t = time.perf_counter()
for i in range(start, end):
    c.create("benchbox", network="none", command=["true"], name=f"fill-{i}")
print(time.perf_counter() - t)
"""


class Side:
    """One tool: its command, image, environment, and how it fills a root."""

    def __init__(self, name: str, cmd: list[str], image: str, env: dict[str, str] | None) -> None:
        self.name, self.cmd, self.image, self.env = name, cmd, image, env
        self.count = 0
        self.fill_seconds = 0.0

    def run(self, *args: str, check: bool = True) -> str:
        return sh(*self.cmd, *args, env=self.env, check=check)

    def timed(self, *args: str) -> tuple[float, str]:
        t = time.perf_counter()
        out = self.run(*args)
        return time.perf_counter() - t, out


def fill_dockyard(side: Side, tree: str, root: str, n: int) -> None:
    if n <= side.count:
        return
    took = sh(sys.executable, "-c", _FILL, tree, root, str(side.count), str(n), env=side.env)
    side.fill_seconds += float(took)
    side.count = n


def fill_podman(side: Side, n: int) -> None:
    def one(i: int) -> None:
        side.run("create", "-q", "--network", "none", "--name", f"fill-{i}", side.image, "true")

    t = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(one, range(side.count, n)))
    side.fill_seconds += time.perf_counter() - t
    side.count = n


def measure(sides: list[Side], n: int, runs: int) -> dict[str, list[list[float]]]:
    """Per call, per side, the seconds of each repetition (the sides alternate)."""
    got: dict[str, list[list[float]]] = {c: [[] for _ in sides] for c in CALLS}
    ids = {
        s.name: s.run("inspect", "--format", "{{.Id}}", f"fill-{min(3, n - 1)}").strip() for s in sides
    }  # one a repetition does not touch
    for r in range(runs + 1):  # the first repetition warms up, and is not counted
        for i, s in enumerate(sides):
            took: dict[str, float] = {}
            k = (r * 7919) % n  # a different container each time, spread over the root
            took["inspect NAME"], _ = s.timed("inspect", f"fill-{k}")
            took["inspect ID-PREFIX"], _ = s.timed("inspect", ids[s.name][:12])
            name = f"bench-{n}-{r}"
            took["create"], cid = s.timed(
                "create", "--name", name, "--network", "none", s.image, "sh", "-c", "echo hi; sleep 1000"
            )
            cid = cid.strip()
            took["start"], _ = s.timed("start", cid)
            took["logs"], _ = s.timed("logs", name)
            took["rename"], _ = s.timed("rename", name, name + "-b")
            took["stop -t 0"], _ = s.timed("stop", "-t", "0", name + "-b")
            took["rm"], _ = s.timed("rm", name + "-b")
            took["run --rm IMAGE true"], _ = s.timed("run", "--rm", "--network", "none", s.image, "true")
            took["ps -a"], out = s.timed("ps", "-a")
            if out.count("\n") < n:
                raise SystemExit(f"{s.name} ps -a listed {out.count(chr(10)) - 1} containers, not {n}")
            if r:
                for call, seconds in took.items():
                    got[call][i].append(seconds)
    return got


def loadavg() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def launcher(tree: str, work: str) -> str:
    """A dockyard command running the checkout at ``tree`` (as app/launcher.py writes it)."""
    path = os.path.join(work, "dockyard")
    site = os.path.join(
        REPO, ".venv", "lib", f"python{sys.version_info[0]}.{sys.version_info[1]}", "site-packages"
    )
    with open(path, "w") as f:
        f.write(
            f"#!{sys.executable} -S\nimport sys\nsys.path[0:1] = [{tree!r}]\nsys.path.append({site!r})\n"
            "from app.cli.main import entry\n\nentry()\n"
        )
    os.chmod(path, 0o755)
    subprocess.run([sys.executable, "-m", "compileall", "-q", tree], capture_output=True, check=False)
    return path


def podman_conf(work: str) -> str:
    """The machine's containers.conf with file locks in Podman's own tmpdir: its default lock table (shared
    memory, 2048 locks for the whole machine) runs out before 5000 containers ("exceeded num_locks")."""
    try:
        with open("/etc/containers/containers.conf") as f:
            text = f.read()
    except FileNotFoundError:
        text = ""
    locks = 'lock_type = "file"\nnum_locks = 16384\n'
    text = (
        text.replace("[engine]\n", "[engine]\n" + locks, 1)
        if "[engine]\n" in text
        else text + "\n[engine]\n" + locks
    )
    path = os.path.join(work, "containers.conf")
    with open(path, "w") as f:
        f.write(text)
    return path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="N = 10, 100, 1000")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--podman-minutes", type=float, default=20.0, help="the most Podman's filling may take")
    ap.add_argument("--no-podman", action="store_true")
    ap.add_argument("--tree", default=REPO, help="the dockyard checkout to run (default: this one)")
    a = ap.parse_args()
    sizes = [10, 100, 1000] if a.quick else [10, 100, 1000, 5000]
    tree = os.path.abspath(a.tree)
    text, _results, _podman_sizes = run(sizes, a.runs, a.podman_minutes, tree, with_podman=not a.no_podman)
    print(text)
    if not a.quick and not a.no_podman and tree == REPO:
        with open(os.path.join(REPO, "bench", "results", "scale_vs_podman.txt"), "w") as f:
            f.write(text + "\n")


def run(
    sizes: list[int], runs: int, podman_minutes: float, tree: str, with_podman: bool
) -> tuple[str, dict[int, dict[str, list[list[float]]]], list[int]]:
    """Every call at each size in ``sizes`` (the first is the base of the last table): the report, the times
    (call -> [dockyard's, Podman's] seconds) by size, and the sizes Podman reached."""
    work = tempfile.mkdtemp(prefix="a18-scale-", dir="/tmp")
    root = os.path.join(work, "root")
    proot, prun = os.path.join(work, "podman-root"), os.path.join(work, "podman-run")
    exe = DOCKYARD if tree == REPO else launcher(tree, work)
    ours = Side("dockyard", [exe], "benchbox", dockyard_env(root))
    ptmp = os.path.join(work, "podman-tmp")
    theirs = Side(
        "podman",
        ["podman", "--root", proot, "--runroot", prun, "--tmpdir", ptmp],
        "localhost/benchbox",
        {**os.environ, "CONTAINERS_CONF": podman_conf(work)},
    )
    sides = [ours, theirs] if with_podman else [ours]
    results: dict[int, dict[str, list[list[float]]]] = {}
    podman_sizes: list[int] = []
    notes: list[str] = []
    try:
        if with_podman:
            ensure_peers()
        tar = busybox_rootfs_tar(os.path.join(work, "busybox.tar"))
        ours.run("import", "-c", 'CMD ["sh"]', tar, "benchbox")
        if with_podman:
            theirs.run("import", "-q", tar, "localhost/benchbox:latest")
        for n in sizes:
            fill_dockyard(ours, tree, root, n)
            print(f"N={n}: dockyard filled in {ours.fill_seconds:.1f} s so far", flush=True)
            active = [ours]
            if theirs in sides:
                rate = (theirs.count / theirs.fill_seconds) if theirs.fill_seconds else 0.0
                expected = theirs.fill_seconds + ((n - theirs.count) / rate if rate else 0.0)
                failed = ""
                if expected <= podman_minutes * 60:
                    try:
                        fill_podman(theirs, n)
                    except SystemExit as e:
                        failed = str(e)
                if failed:
                    notes.append(f"Podman stops at N={podman_sizes[-1]}: filling it to {n} failed: {failed}")
                    sides.remove(theirs)
                elif expected <= podman_minutes * 60:
                    rate = theirs.count / theirs.fill_seconds
                    print(f"N={n}: podman filled in {theirs.fill_seconds:.1f} s ({rate:.1f}/s)", flush=True)
                    podman_sizes.append(n)
                    active.append(theirs)
                else:
                    notes.append(
                        f"Podman stops at N={theirs.count}: filling it to {n} would take about "
                        f"{expected / 60:.0f} minutes in all at its {rate:.1f} creates/s"
                    )
            got = measure(active, n, runs)
            results[n] = {c: v + [[]] * (2 - len(v)) for c, v in got.items()}
            print(report(results, sizes, podman_sizes, ours, theirs, notes, final=False), flush=True)
        return report(results, sizes, podman_sizes, ours, theirs, notes, final=True), results, podman_sizes
    finally:
        if os.path.exists(root):
            sh(sys.executable, "-S", "-c",
               f"import sys; sys.path[0:0] = [{tree!r}]\nfrom engine import Engine\nEngine({root!r}).discard()",
               check=False)  # fmt: skip
        if with_podman:
            theirs.run("system", "reset", "-f", check=False)
        shutil.rmtree(work, ignore_errors=True)


def report(
    results: dict[int, dict[str, list[list[float]]]],
    sizes: list[int],
    podman_sizes: list[int],
    ours: Side,
    theirs: Side,
    notes: list[str],
    final: bool,
) -> str:
    lines = [
        f"containers in the root: N = {', '.join(map(str, sizes))}; load average {loadavg()} at the end",
        f"filled: dockyard {ours.count} through the engine API in one process ({ours.fill_seconds:.1f} s), "
        f"podman {theirs.count} with `podman create`, 4 at a time ({theirs.fill_seconds:.1f} s); Podman "
        "with file locks (lock_type = file, its default shared-memory table holds 2048 containers)",
        *notes,
        "",
        f"{'call':<22} {'N':>5} {'dockyard':>10} {'podman':>10} {'ratio':>7}",
    ]
    for call in CALLS:
        for n, got in results.items():
            o = median_ms(got[call][0])
            t = median_ms(got[call][1]) if got[call][1] else float("nan")
            lines.append(f"{call:<22} {n:>5} {o:>8.1f}ms {t:>8.1f}ms {o / t:>7.2f}")
    done = list(results)
    if final and len(done) > 1:
        base = done[0]
        top, ptop = done[-1], (podman_sizes[-1] if podman_sizes else 0)
        lines += [
            "",
            f"{'call':<22} {f'dockyard N={top}/N={base}':>20} {f'podman N={ptop}/N={base}':>20}",
        ]
        for call in CALLS:
            o = median_ms(results[top][call][0]) / median_ms(results[base][call][0])
            p = (
                median_ms(results[ptop][call][1]) / median_ms(results[base][call][1])
                if ptop > base
                else float("nan")
            )
            lines.append(f"{call:<22} {o:>20.2f} {p:>20.2f}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
