"""Image builds: dockyard vs Podman (buildah inside, runc), same busybox rootfs, same Dockerfiles.

    .venv/bin/python -m bench.build_vs_podman [--runs 10]

Two Dockerfiles, a 3-step one (FROM, RUN, COPY) and a 10-step one (ENV, WORKDIR, three COPY, three RUN,
LABEL, CMD), each built cold (``--no-cache``: every step runs again) and fully cached (nothing changed
since the last build), through the command line as a user types it. Podman builds with ``--network none``
from an image it imported from the very tarball dockyard imports. Podman keeps its images in a private
storage directory of the benchmark, so nothing of the machine's own Podman images is touched, and all of
it is removed at the end.

dockyard is measured with Python's bytecode cache enabled (as an installed package has it), in a private
cache directory: PYTHONDONTWRITEBYTECODE set in the caller's environment would make every run compile
every module again and measure the compiler instead of the build.

Goals: cached rebuild at most a third of Podman's time, cold build at most half.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile

from .common import DOCKYARD, busybox_rootfs_tar, discard_root, ensure_peers, median_ms, sh, timed

BASE = "localhost/dybench-busybox:latest"

THREE_STEPS = f"""FROM {BASE}
RUN echo hi > /x
COPY a.txt /a.txt
"""

TEN_STEPS = f"""FROM {BASE}
ENV APP=/app MODE=bench
WORKDIR /app
COPY a.txt ./
RUN echo one > one.txt
COPY dir/ ./dir/
RUN cat a.txt dir/* > all.txt
LABEL bench=yes
RUN ls -l > listing.txt
CMD ["cat", "/app/all.txt"]
"""

GOALS = {"cold": 0.5, "cached": 1 / 3}


def make_context(path: str, dockerfile: str) -> str:
    os.makedirs(os.path.join(path, "dir"), exist_ok=True)
    with open(os.path.join(path, "Dockerfile"), "w") as f:
        f.write(dockerfile)
    with open(os.path.join(path, "a.txt"), "w") as f:
        f.write("hello\n")
    for i in range(5):
        with open(os.path.join(path, "dir", f"f{i}.txt"), "w") as f:
            f.write(f"file {i}\n" * 100)
    return path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    a = ap.parse_args()
    ensure_peers()
    work = tempfile.mkdtemp(prefix="bench-build-")
    root = os.path.join(work, "dockyard")
    pod_root, pod_run = os.path.join(work, "podman-root"), os.path.join(work, "podman-run")
    podman = ["podman", "--root", pod_root, "--runroot", pod_run]
    from bench.common import dockyard_env

    env = dockyard_env(root)
    try:
        tar = busybox_rootfs_tar(os.path.join(work, "busybox.tar"))
        sh(DOCKYARD, "import", "-c", 'CMD ["sh"]', tar, BASE, env=env)
        sh(*podman, "import", "-q", "-c", 'CMD ["sh"]', tar, BASE)
        contexts = {
            "3 steps": make_context(os.path.join(work, "three"), THREE_STEPS),
            "10 steps": make_context(os.path.join(work, "ten"), TEN_STEPS),
        }
        rows = []
        for name, ctx in contexts.items():
            for mode in ("cold", "cached"):
                extra = ["--no-cache"] if mode == "cold" else []
                ours = [DOCKYARD, "build", "-q", *extra, "-t", "bench:latest", ctx]
                theirs = [*podman, "build", "--network", "none", "-q", *extra, "-t", "bench:latest", ctx]
                sh(*ours, env=env)  # the first build fills the cache (and the bytecode cache)
                sh(*theirs)
                t_ours = median_ms(timed(lambda cmd=ours: sh(*cmd, env=env), a.runs, a.warmup))
                t_theirs = median_ms(timed(lambda cmd=theirs: sh(*cmd), a.runs, a.warmup))
                rows.append((f"build {name}, {mode}", mode, t_ours, t_theirs))
        print(f"{'build':<24} {'dockyard':>10} {'podman':>10} {'ratio':>7} {'goal':>7}")
        for label, mode, ours_ms, theirs_ms in rows:
            ratio = ours_ms / theirs_ms
            goal = GOALS[mode]
            verdict = "ok" if ratio <= goal else "MISSED"
            print(
                f"{label:<24} {ours_ms:>8.1f}ms {theirs_ms:>8.1f}ms {ratio:>7.2f} {'<=' + format(goal, '.2f'):>7} {verdict}"
            )
        print(f"(median of {a.runs} runs after {a.warmup} warm-up runs; cold = --no-cache)")
    finally:
        subprocess.run([*podman, "system", "reset", "-f"], capture_output=True)
        for leftover in (pod_root, pod_run):
            subprocess.run(["umount", "-R", leftover], capture_output=True)
        if os.path.isdir(root):
            discard_root(root)  # its containers and the root's cgroup parent on the host
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
