"""Disk taken by a loaded 40 MB layer: the root's du after ``dockyard load`` (the layer stored once: its
unpacked directory and a tar-split record), the same root in the layout kept until now (the layer's tar in
``blobs/sha256`` as well), and Podman's root after ``podman --root TMP load`` of the same archive.

.venv/bin/python -m bench.layer_disk [--size-mb 40]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile

from .common import DOCKYARD, REPO, discard_root, dockyard_env, ensure_peers, fresh_root, sh

RESULTS = os.path.join(REPO, "bench", "results", "layer_disk.txt")


def du(path: str) -> int:
    """Bytes of disk the tree takes (du, in 1 KiB blocks)."""
    return (
        int(subprocess.run(["du", "-sk", path], capture_output=True, text=True, check=True).stdout.split()[0])
        * 1024
    )


def make_archive(path: str, size_mb: int) -> tuple[int, str]:
    """A ``docker save`` archive of one layer of ``size_mb`` MB: 1 MB files of random bytes (nothing to
    compress) in a few directories, and a hundred small files. Returns the layer tar's size and DiffID."""
    import hashlib

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for d in range(4):
            ti = tarfile.TarInfo(f"data{d}")
            ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, 0o755, 1_700_000_000
            tf.addfile(ti)
        for i in range(size_mb):
            data = os.urandom(1 << 20)
            ti = tarfile.TarInfo(f"data{i % 4}/blob{i}.bin")
            ti.size, ti.mode, ti.mtime = len(data), 0o644, 1_700_000_000
            tf.addfile(ti, io.BytesIO(data))
        for i in range(100):
            data = f"small file {i}\n".encode()
            ti = tarfile.TarInfo(f"etc/conf{i}")
            ti.size, ti.mode, ti.mtime = len(data), 0o644, 1_700_000_000
            tf.addfile(ti, io.BytesIO(data))
    layer = buf.getvalue()
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Cmd": ["sh"]},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
            "history": [{"created_by": "bench layer"}],
        }
    ).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    manifest = json.dumps(
        [{"Config": config_name, "RepoTags": ["bench/layer:40"], "Layers": ["l0/layer.tar"]}]
    )
    with tarfile.open(path, "w") as tf:
        for name, data in (
            ("l0/layer.tar", layer),
            (config_name, config),
            ("manifest.json", manifest.encode()),
        ):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    return len(layer), diff_id


def dockyard(archive: str, diff_id: str) -> tuple[int, int, int]:
    """(unpacked layer, root now, root in the old layout) in bytes of disk."""
    root = fresh_root()
    try:
        sh(DOCKYARD, "load", "-q", "-i", archive, env=dockyard_env(root))
        layers = os.path.join(root, "layers")
        (chain,) = os.listdir(layers)
        unpacked = du(os.path.join(layers, chain, "diff"))
        now = du(root)
        # The layout kept until now: the layer's tar in blobs/sha256 next to the unpacked layer.
        blob = os.path.join(root, "blobs", "sha256", diff_id[7:])
        with tarfile.open(archive) as tf, open(blob, "wb") as out:
            src = tf.extractfile("l0/layer.tar")
            assert src is not None
            shutil.copyfileobj(src, out)
        os.unlink(os.path.join(root, "blobs", "recipes", diff_id[7:]))
        os.unlink(os.path.join(layers, chain, "tar-split"))
        before = du(root)
        return unpacked, now, before
    finally:
        discard_root(root)


def podman(archive: str) -> int:
    top = tempfile.mkdtemp(prefix="bench-podman-disk-")
    root, runroot = os.path.join(top, "root"), os.path.join(top, "run")
    base = ["podman", "--root", root, "--runroot", runroot, "--storage-driver", "overlay"]
    try:
        sh(*base, "load", "-q", "-i", archive)
        return du(root)
    finally:
        subprocess.run([*base, "rmi", "-af"], capture_output=True, check=False)
        subprocess.run([*base, "system", "reset", "-f"], capture_output=True, check=False)
        shutil.rmtree(top, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mb", type=int, default=40)
    a = ap.parse_args()
    text, _unpacked, _now, _peer = measure(a.size_mb)
    print(text)
    with open(RESULTS, "w") as f:
        f.write(text + "\n")


def measure(size_mb: int) -> tuple[str, int, int, int]:
    """The report, and the bytes of disk of the unpacked layer, of dockyard's root and of Podman's."""
    ensure_peers()
    work = tempfile.mkdtemp(prefix="bench-layer-disk-")
    try:
        archive = os.path.join(work, "layer.tar")
        tar_size, diff_id = make_archive(archive, size_mb)
        unpacked, now, before = dockyard(archive, diff_id)
        peer = podman(archive)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    mb = 1 << 20
    lines = [
        f"one layer of {size_mb} MB (tar {tar_size / mb:.1f} MiB), loaded from a docker save archive; du of the root",
        f"{'':<44} {'MiB':>8} {'x unpacked':>11}",
        f"{'unpacked layer (layers/<id>/diff)':<44} {unpacked / mb:>8.1f} {1:>11.3f}",
        f"{'dockyard before (blob + unpacked layer)':<44} {before / mb:>8.1f} {before / unpacked:>11.3f}",
        f"{'dockyard now (unpacked layer + tar-split)':<44} {now / mb:>8.1f} {now / unpacked:>11.3f}",
        f"{'podman --root TMP load':<44} {peer / mb:>8.1f} {peer / unpacked:>11.3f}",
        f"goal: <= 1.05x of the unpacked size; now {now / unpacked:.3f}x, {now / peer:.2f}x Podman's",
    ]
    return "\n".join(lines), unpacked, now, peer


if __name__ == "__main__":
    main()
