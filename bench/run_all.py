"""Run every benchmark and keep each one's table in bench/results/NAME.txt.

    .venv/bin/python -m bench.run_all [NAME ...]

Each benchmark runs in its own interpreter, one after the other (they share the machine's two cores and
would disturb each other side by side).
"""

from __future__ import annotations

import os
import subprocess
import sys

BENCHMARKS = [
    "containers_vs_podman",
    "net_vs_podman",
    "store_vs_peers",
    "build_vs_podman",
    "build_cache_scale",
    "registry_vs_skopeo",
    "service_vs_podman",
    "compose_vs_podman",
    "remote_listing",
    "tui_bench",
    "supervisor_vs_conmon",
    "logs_scale",
    "layer_disk",
    "scale_table",  # the scale issue's table, dockyard and Podman side by side in one run
    "scale_vs_podman",  # the longest: Podman takes about half an hour to fill a root of 5000 containers
]
WRITE_THEIR_OWN = {
    "logs_scale",
    "layer_disk",
    "scale_table",
    "scale_vs_podman",
}  # these keep their tables in bench/results themselves
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def main() -> int:
    chosen = sys.argv[1:] or BENCHMARKS
    unknown = [n for n in chosen if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark: {', '.join(unknown)} (known: {', '.join(BENCHMARKS)})", file=sys.stderr)
        return 2
    os.makedirs(RESULTS, exist_ok=True)
    failed = 0
    for name in chosen:
        print(f"== {name}", flush=True)
        p = subprocess.run([sys.executable, "-m", f"bench.{name}"], capture_output=True, text=True)
        sys.stdout.write(p.stdout)
        if p.returncode != 0:
            failed += 1
            sys.stderr.write(p.stderr)
            continue
        if name in WRITE_THEIR_OWN:
            continue
        with open(os.path.join(RESULTS, f"{name}.txt"), "w") as f:
            f.write(p.stdout)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
