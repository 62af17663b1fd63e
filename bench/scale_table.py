"""The scale table in one run: dockyard and Podman side by side, row by row as the issue of scale set it.

    .venv/bin/python -m bench.scale_table [--sizes 20,500] [--runs 7] [--running 200] [--podman-minutes 20]

One after the other, in this process, on this machine's state of the moment:

1. calls about one container (``inspect``, ``create``, ``run --rm true``) and ``ps -a`` at each N of
   ``--sizes`` containers in the root (bench/scale_vs_podman.py's calls; N = 10, 100, 1000, 5000 is that
   script's own full run);
2. supervisor memory per running container with ``--running`` running, ``run`` of ``true`` from a process
   holding the engine (without and with threads), and the app's ``s`` until Up (bench/supervisor_vs_conmon.py);
3. the disk a loaded 40 MB layer takes (bench/layer_disk.py).

Logs at 10 GB need their own fill: bench/logs_scale.py. Writes bench/results/scale_table.txt.
"""

from __future__ import annotations

import argparse
import os

from . import layer_disk, scale_vs_podman, supervisor_vs_conmon
from .common import REPO, median_ms, sh

RESULTS = os.path.join(REPO, "bench", "results", "scale_table.txt")
ROW_CALLS = (("inspect NAME", "inspect ONE"), ("create", "create"), ("run --rm IMAGE true", "run --rm true"),
             ("ps -a", "ps -a"))  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--sizes", default="20,500", help="the numbers of containers in the root, comma-separated"
    )
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--running", type=int, default=200)
    ap.add_argument("--podman-minutes", type=float, default=20.0)
    a = ap.parse_args()
    sizes = [int(n) for n in a.sizes.split(",")]
    before = scale_vs_podman.loadavg()
    calls_text, results, podman_sizes = scale_vs_podman.run(sizes, a.runs, a.podman_minutes, REPO, True)
    print(calls_text, flush=True)
    (ours_mb, theirs_mb, shims, conmons), timings = supervisor_vs_conmon.measure_all(a.running, 20)
    disk_text, unpacked, ours_disk, theirs_disk = layer_disk.measure(40)
    print(disk_text, flush=True)

    rows: list[tuple[str, str, str, str]] = []
    for call, label in ROW_CALLS:
        for n in sizes:
            ours = median_ms(results[n][call][0])
            theirs = median_ms(results[n][call][1]) if n in podman_sizes else float("nan")
            rows.append((f"{label}, N = {n}", f"{ours:.1f} ms", f"{theirs:.1f} ms", f"{ours / theirs:.2f}"))
    for call, label in ROW_CALLS:
        base, top = sizes[0], sizes[-1]
        ours = median_ms(results[top][call][0]) / median_ms(results[base][call][0])
        ok = top in podman_sizes
        theirs = median_ms(results[top][call][1]) / median_ms(results[base][call][1]) if ok else float("nan")
        rows.append((f"{label}, N = {top} over N = {base}", f"{ours:.2f}x", f"{theirs:.2f}x", ""))
    rows.append(
        (
            f"supervisor PSS per running container, {a.running} running",
            f"{ours_mb:.3f} MB ({shims} proc)",
            f"{theirs_mb:.3f} MB ({conmons} conmon)",
            f"{ours_mb / theirs_mb:.2f}",
        )
    )
    rows.append(
        (
            "disk for a 40 MB layer (x its unpacked size)",
            f"{ours_disk / unpacked:.3f}x",
            f"{theirs_disk / unpacked:.3f}x",
            f"{ours_disk / theirs_disk:.2f}",
        )
    )
    for what, ours, theirs in timings:
        rows.append((what, f"{ours:.1f} ms", f"{theirs:.1f} ms", f"{ours / theirs:.2f}"))
    width = max(len(r[0]) for r in rows)
    lines = [
        f"dockyard vs Podman {podman_version()}, one run (load average {before} before, {scale_vs_podman.loadavg()} after)",
        f"{'':<{width}}  {'dockyard':>22}  {'Podman':>22}  {'ratio':>6}",
        *(f"{w:<{width}}  {o:>22}  {t:>22}  {r:>6}" for w, o, t, r in rows),
        "(run from a holder is against `podman run --rm true`, the app's `s` against `podman start`:",
        " Podman has no in-process API; logs at 10 GB: bench/results/logs_scale.txt)",
    ]
    text = "\n".join(lines)
    print(text)
    with open(RESULTS, "w") as f:
        f.write(text + "\n\n" + calls_text + "\n\n" + disk_text + "\n")


def podman_version() -> str:
    out = sh("podman", "--version", check=False).split()
    return out[-1] if out else "?"


if __name__ == "__main__":
    main()
