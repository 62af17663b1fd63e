"""Import and save of a ~200 MB root filesystem: dockyard vs podman import / skopeo copy, same input.

.venv/bin/python -m bench.store_vs_peers [--size-mb 200] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tarfile
import tempfile

from .common import (
    DOCKYARD,
    discard_root,
    dockyard_env,
    ensure_peers,
    fresh_root,
    median_ms,
    sh,
    table,
    timed,
)


def make_rootfs(path: str, size_mb: int) -> int:
    """A rootfs tarball of real files (this machine's /usr) up to ``size_mb`` MB."""
    limit = size_mb * 1_000_000
    total = 0
    with tarfile.open(path, "w") as tf:
        for base in ("/usr/lib", "/usr/share", "/usr/bin"):
            for dirpath, dirnames, files in os.walk(base):
                dirnames.sort()
                for name in sorted(files):
                    p = os.path.join(dirpath, name)
                    try:
                        st = os.lstat(p)
                    except OSError:
                        continue
                    tf.add(p, arcname=p.lstrip("/"), recursive=False)
                    total += st.st_size
                    if total >= limit:
                        return total
    return total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mb", type=int, default=200)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    ensure_peers()
    work = tempfile.mkdtemp(prefix="bench-store-")
    root = fresh_root()
    env = dockyard_env(root)
    rootfs = os.path.join(work, "rootfs.tar")
    size = make_rootfs(rootfs, a.size_mb)
    print(f"input: {rootfs}, {size / 1e6:.0f} MB of files, {os.path.getsize(rootfs) / 1e6:.0f} MB tar")
    rows = []
    n = [0]

    def dy_import() -> None:
        n[0] += 1
        sh(DOCKYARD, "import", rootfs, f"bench:{n[0]}", env=env)
        sh(DOCKYARD, "rmi", f"bench:{n[0]}", env=env)

    def pm_import() -> None:
        n[0] += 1
        sh("podman", "import", "-q", rootfs, f"localhost/bench:{n[0]}")
        sh("podman", "rmi", "-f", f"localhost/bench:{n[0]}")

    rows.append(
        (
            "import 200 MB rootfs (then rmi)",
            median_ms(timed(dy_import, a.runs)),
            median_ms(timed(pm_import, a.runs)),
        )
    )

    sh(DOCKYARD, "import", rootfs, "bench:save", env=env)
    sh("podman", "import", "-q", rootfs, "localhost/bench:save")
    out = os.path.join(work, "out.tar")

    def dy_save() -> None:
        sh(DOCKYARD, "save", "-o", out, "bench:save", env=env)
        os.unlink(out)

    def sk_save() -> None:
        sh("skopeo", "copy", "-q", "containers-storage:localhost/bench:save", f"oci-archive:{out}")
        os.unlink(out)

    def pm_save() -> None:
        sh("podman", "save", "-q", "--format", "oci-archive", "-o", out, "localhost/bench:save")
        os.unlink(out)

    dy = median_ms(timed(dy_save, a.runs))
    rows.append(("save 200 MB image (vs skopeo copy to oci-archive)", dy, median_ms(timed(sk_save, a.runs))))
    rows.append(("save 200 MB image (vs podman save oci-archive)", dy, median_ms(timed(pm_save, a.runs))))

    def dy_load() -> None:
        r2 = fresh_root()
        sh(DOCKYARD, "load", "-q", "-i", saved, env=dockyard_env(r2))
        shutil.rmtree(r2)

    def pm_load() -> None:
        sh("podman", "load", "-q", "-i", saved)
        sh("podman", "rmi", "-f", "localhost/bench:save")

    saved = os.path.join(work, "saved.tar")
    sh(DOCKYARD, "save", "-o", saved, "bench:save", env=env)
    sh("podman", "rmi", "-f", "localhost/bench:save")
    rows.append(
        (
            "load the saved archive (vs podman load)",
            median_ms(timed(dy_load, a.runs)),
            median_ms(timed(pm_load, a.runs)),
        )
    )
    print(table(rows, "peer"))
    sh("podman", "rmi", "-f", "localhost/bench:save", check=False)
    shutil.rmtree(work)
    discard_root(root)


if __name__ == "__main__":
    main()
