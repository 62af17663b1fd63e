"""Push and pull of a ~200 MB, 4-layer image to and from a local registry: dockyard vs skopeo, side by side.

.venv/bin/python -m bench.registry_vs_skopeo [--size-mb 200] [--runs 3]

The registry is Debian's docker-registry on 127.0.0.1:<free port> with filesystem storage (nothing leaves the
machine). The image is built by dockyard (FROM scratch + 4 COPY steps of real files from /usr), then its
layers are gzip-compressed by skopeo and loaded back, so both tools move the very same gzip blobs.

- push: ``dockyard push`` from its store vs ``skopeo copy oci:DIR docker://...`` from an OCI layout directory
  holding the same blobs (no archive to unpack on either side). Each run starts with an empty registry.
- pull: ``dockyard pull`` into an empty engine root (download, verify, unpack every layer) vs
  ``skopeo copy docker://... containers-storage:[overlay@...]`` into an empty private store (download, verify,
  unpack: the same work) and vs ``skopeo copy docker://... oci:DIR`` (download and verify only, no unpacking).
Both sides run their CLI, so process start-up is counted on both.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable

from .common import DOCKYARD, discard_root, dockyard_env, ensure_peers, fresh_root, sh, table


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Registry:
    """docker-registry on a loopback port with its own storage directory."""

    def __init__(self, work: str) -> None:
        self.work = work
        self.proc: subprocess.Popen[bytes] | None = None
        self.host = ""

    def start(self) -> None:
        self.stop()
        storage = tempfile.mkdtemp(prefix="storage-", dir=self.work)
        port = free_port()
        config = os.path.join(self.work, "config.yml")
        with open(config, "w") as f:
            f.write(
                "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
                f"storage:\n  filesystem:\n    rootdirectory: {storage}\n"
                f"http:\n  addr: 127.0.0.1:{port}\n"
            )
        self.proc = subprocess.Popen(
            ["docker-registry", "serve", config], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.storage = storage
        self.host = f"127.0.0.1:{port}"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                return
            except OSError:
                time.sleep(0.01)
        raise SystemExit("docker-registry did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait()
            self.proc = None
            shutil.rmtree(self.storage, ignore_errors=True)


def make_context(path: str, size_mb: int, parts: int = 4) -> int:
    """A build context with ``parts`` directories of real files from /usr, ``size_mb`` MB in all."""
    limit = size_mb * 1_000_000 // parts
    total = 0
    files: list[str] = []
    for base in ("/usr/lib", "/usr/share", "/usr/bin"):
        for dirpath, dirnames, names in os.walk(base):
            dirnames.sort()
            files += [os.path.join(dirpath, n) for n in sorted(names)]
    it = iter(files)
    for i in range(parts):
        part = os.path.join(path, f"part{i}")
        got = 0
        for src in it:
            if not os.path.isfile(src) or os.path.islink(src) or os.path.getsize(src) > limit // 4:
                continue
            dest = os.path.join(part, src.lstrip("/"))
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            shutil.copy2(src, dest)
            got += os.path.getsize(src)
            if got >= limit:
                break
        total += got
    with open(os.path.join(path, "Dockerfile"), "w") as f:
        f.write("FROM scratch\n" + "".join(f"COPY part{i} /part{i}\n" for i in range(parts)))
    return total


def remove_place(path: str) -> None:
    """Remove a pull destination; containers-storage's overlay driver leaves a bind mount of its home there
    (a bind mount of the same filesystem, which os.path.ismount does not see: read the mount table)."""
    prefix = os.path.realpath(path) + "/"
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f]
    for point in sorted((p for p in points if p.startswith(prefix)), key=len, reverse=True):
        subprocess.run(["umount", point], check=False)
    shutil.rmtree(path, ignore_errors=True)


def timed(fn: Callable[[], object], setup: Callable[[], object], runs: int) -> float:
    """Median milliseconds of ``fn`` over ``runs``, each after an untimed ``setup`` (plus one warm-up run)."""
    samples = []
    for i in range(runs + 1):
        setup()
        os.sync()  # let the previous run's deletions reach the disk outside the timing
        time.sleep(0.3)
        t0 = time.perf_counter()
        fn()
        if i:
            samples.append(time.perf_counter() - t0)
    return statistics.median(samples) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mb", type=int, default=200)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    ensure_peers()
    if not shutil.which("docker-registry"):
        raise SystemExit("needs docker-registry (apt-get install docker-registry)")
    work = tempfile.mkdtemp(prefix="bench-registry-")
    root = fresh_root()
    env = dockyard_env(root)
    reg = Registry(work)
    try:
        ctx = os.path.join(work, "ctx")
        size = make_context(ctx, a.size_mb)
        sh(DOCKYARD, "build", "-q", "-t", "bench/raw:1", ctx, env=env)
        raw = os.path.join(work, "raw.tar")
        gz = os.path.join(work, "gz.tar")
        sh(DOCKYARD, "save", "-o", raw, "bench/raw:1", env=env)
        sh("skopeo", "copy", "-q", "--dest-compress", f"oci-archive:{raw}", f"oci-archive:{gz}:bench/app:1")
        sh(DOCKYARD, "load", "-q", "-i", gz, env=env)
        layout = os.path.join(work, "layout")
        sh("skopeo", "copy", "-q", f"oci-archive:{gz}", f"oci:{layout}:app")
        blobs = os.path.getsize(gz)
        print(f"image: 4 layers, {size / 1e6:.0f} MB of files, {blobs / 1e6:.0f} MB of gzip blobs")
        rows: list[tuple[str, float, float]] = []
        n = [0]

        def ref() -> str:
            return f"{reg.host}/bench/app:{n[0]}"

        def new_registry() -> None:
            reg.start()
            n[0] += 1
            sh(DOCKYARD, "tag", "bench/app:1", ref(), env=env)

        def dy_push() -> None:
            sh(DOCKYARD, "push", ref(), env=env)

        def sk_push() -> None:
            sh("skopeo", "copy", "-q", "--dest-tls-verify=false", f"oci:{layout}:app", f"docker://{ref()}")

        rows.append(
            (
                "push (vs skopeo copy oci: -> docker://)",
                timed(dy_push, new_registry, a.runs),
                timed(sk_push, new_registry, a.runs),
            )
        )

        reg.start()
        n[0] += 1
        sh(DOCKYARD, "tag", "bench/app:1", ref(), env=env)
        dy_push()
        places: list[str] = []

        def fresh_place() -> None:
            for p in places:
                remove_place(p)
            places[:] = [tempfile.mkdtemp(prefix="pull-", dir=work)]

        def dy_pull() -> None:
            sh(DOCKYARD, "pull", "-q", ref(), env=dockyard_env(places[0]))

        def sk_pull_storage() -> None:
            store = f"[overlay@{places[0]}/storage+{places[0]}/run]"
            sh(
                "skopeo",
                "copy",
                "-q",
                "--src-tls-verify=false",
                f"docker://{ref()}",
                f"containers-storage:{store}localhost/app:1",
            )

        def sk_pull_oci() -> None:
            sh(
                "skopeo",
                "copy",
                "-q",
                "--src-tls-verify=false",
                f"docker://{ref()}",
                f"oci:{places[0]}/oci:app",
            )

        dy = timed(dy_pull, fresh_place, a.runs)
        rows.append(
            (
                "pull + unpack (vs skopeo -> containers-storage)",
                dy,
                timed(sk_pull_storage, fresh_place, a.runs),
            )
        )
        rows.append(
            ("pull + unpack (vs skopeo -> oci: dir, no unpack)", dy, timed(sk_pull_oci, fresh_place, a.runs))
        )
        for p in places:
            remove_place(p)
        print(table(rows, "skopeo"))
    finally:
        reg.stop()
        shutil.rmtree(work, ignore_errors=True)
        discard_root(root)


if __name__ == "__main__":
    main()
