"""Interop with real tools from Debian's packages: skopeo and umoci read what dockyard saves, and dockyard
loads what skopeo writes, byte for byte."""

from __future__ import annotations

import filecmp
import hashlib
import json
import os
import subprocess
import tarfile

import pytest

pytestmark = pytest.mark.slow


def run(*args: str) -> str:
    p = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, f"{args} failed: {p.stderr}"
    return p.stdout


def test_skopeo_inspects_saved_archive(cli, busybox, tmp_path):
    out = str(tmp_path / "bb.tar")
    cli("save", "-o", out, "busybox")
    info = json.loads(run("skopeo", "inspect", f"oci-archive:{out}"))
    d = json.loads(cli("image", "inspect", "busybox").out)[0]
    assert info["Layers"] == d["RootFS"]["Layers"]  # uncompressed layers: digest == DiffID
    assert info["Os"] == "linux"
    raw = json.loads(run("skopeo", "inspect", "--raw", f"oci-archive:{out}"))
    assert raw["config"]["digest"] == d["Id"]


def test_umoci_unpacks_saved_image(cli, busybox, tmp_path):
    out = str(tmp_path / "bb.tar")
    cli("save", "-o", out, "busybox")
    layout = tmp_path / "layout"
    layout.mkdir()
    with tarfile.open(out) as tf:
        tf.extractall(layout)  # our own archive
    bundle = tmp_path / "bundle"
    run("umoci", "unpack", "--image", f"{layout}:latest", str(bundle))
    from engine.store.bootstrap import find_static_busybox

    assert filecmp.cmp(bundle / "rootfs" / "bin" / "busybox", find_static_busybox(), shallow=False)
    assert (bundle / "rootfs" / "etc" / "passwd").read_text().startswith("root:x:0:0")
    assert os.path.samefile(bundle / "rootfs" / "bin" / "sh", bundle / "rootfs" / "bin" / "busybox")


def test_load_archive_written_by_skopeo_byte_for_byte(cli, busybox, tmp_path):
    ours = str(tmp_path / "ours.tar")
    theirs = str(tmp_path / "theirs.tar")
    cli("save", "-o", ours, "busybox")
    # skopeo rewrites it as a gzip-compressed OCI archive with its own manifest
    run("skopeo", "copy", "--dest-compress", f"oci-archive:{ours}", f"oci-archive:{theirs}:skopeo/box:v2")
    raw = json.loads(run("skopeo", "inspect", "--raw", f"oci-archive:{theirs}"))
    assert raw["layers"][0]["mediaType"].endswith("gzip")

    from tests.conftest import CLI

    other = CLI(str(tmp_path / "fresh-root"))
    os.makedirs(other.root)
    assert "Loaded image: skopeo/box:v2" in other("load", "-i", theirs).out
    from engine import Engine

    eng = Engine(other.root)
    im = eng.images.get("skopeo/box:v2")
    # the manifest, config and compressed layer blob are kept byte for byte
    with tarfile.open(theirs) as tf:
        index = json.load(tf.extractfile("index.json"))  # type: ignore[arg-type]
        manifest_digest = index["manifests"][0]["digest"]
        blob = tf.extractfile("blobs/sha256/" + raw["layers"][0]["digest"][7:]).read()  # type: ignore[union-attr]
    assert im.manifest_digest == manifest_digest
    stored = open(eng.images.store.blobs.path(raw["layers"][0]["digest"]), "rb").read()
    assert stored == blob
    assert "sha256:" + hashlib.sha256(stored).hexdigest() == raw["layers"][0]["digest"]
    # and the files match the original image's, byte for byte
    orig = Engine(cli.root).images.get("busybox")
    a, b = orig.layers[0].path, im.layers[0].path
    for rel in ("bin/busybox", "etc/passwd", "etc/group"):
        assert filecmp.cmp(os.path.join(a, rel), os.path.join(b, rel), shallow=False)
    assert os.stat(os.path.join(b, "tmp")).st_mode & 0o7777 == 0o1777
    # and the loaded image saves again into something skopeo reads
    again = str(tmp_path / "again.tar")
    other("save", "-o", again, "skopeo/box:v2")
    assert json.loads(run("skopeo", "inspect", "--raw", f"oci-archive:{again}"))["layers"] == raw["layers"]
