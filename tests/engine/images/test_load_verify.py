"""``load`` trusts nothing in the archive: every blob is checked against its descriptor's digest and size, a
refused archive leaves the engine root exactly as it was, and ``./``-prefixed member names load."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import tarfile
from collections.abc import Callable

import pytest

from tests.conftest import CLI

Members = dict[str, bytes]


def _read(path: str) -> Members:
    """The archive's regular files, by name, in order."""
    with tarfile.open(path) as tf:
        return {m.name: tf.extractfile(m).read() for m in tf.getmembers() if m.isfile()}  # type: ignore[union-attr]


def _write(path: str, members: Members) -> str:
    with tarfile.open(path, "w") as tf:
        for name, data in members.items():
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mode = 0o644
            tf.addfile(ti, io.BytesIO(data))
    return path


def _blob(digest: str) -> str:
    return "blobs/sha256/" + digest.partition(":")[2]


def _manifests(members: Members) -> list[dict]:
    """Each image's OCI manifest, in index order."""
    index = json.loads(members["index.json"])
    return [json.loads(members[_blob(d["digest"])]) for d in index["manifests"]]


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _state(cli: CLI) -> tuple[list[str], list[str], list[str], str]:
    """What a load could change: the blobs, the layers, the temporaries and the image list."""

    def listing(*parts: str) -> list[str]:
        path = os.path.join(cli.root, *parts)
        return sorted(os.listdir(path)) if os.path.isdir(path) else []

    images = cli("images", "-a", "--no-trunc", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}").out
    return listing("blobs", "sha256"), listing("layers"), listing("tmp"), images


@pytest.fixture
def two_images(cli, busybox, tmp_path) -> Members:
    """An archive of busybox and a small second image ("extra:1", saved second) with a layer of its own."""
    rootfs = _write(str(tmp_path / "extra-rootfs.tar"), {"extra.txt": b"extra\n" * 100})
    cli("import", rootfs, "extra:1")
    out = str(tmp_path / "two.tar")
    cli("save", "-o", out, "busybox", "extra:1")
    return _read(out)


@pytest.fixture
def target(tmp_path) -> CLI:
    """Another engine root, already holding an image of its own (kept intact by every refused load)."""
    other = CLI(str(tmp_path / "target"))
    os.makedirs(other.root)
    other("import", _write(str(tmp_path / "resident.tar"), {"resident.txt": b"here\n"}), "resident:1")
    return other


def _refused(target: CLI, path: str, *wanted: str) -> None:
    before = _state(target)
    r = target.fails("load", "-i", path, code=1)
    error = r.err.strip().splitlines()[-1]  # after the progress lines
    assert error.startswith("Error: digest mismatch: "), r.err
    for w in wanted:
        assert w in error, r.err
    assert _state(target) == before


def _tamper(members: Members, path: str, edit: Callable[[Members], None]) -> str:
    copy = dict(members)
    edit(copy)
    return _write(path, copy)


# -- digest and size of every blob ------------------------------------------------------------------------


def test_load_refuses_manifest_not_matching_its_digest(two_images, target, tmp_path):
    def edit(m: Members) -> None:
        index = json.loads(m["index.json"])
        name = _blob(index["manifests"][1]["digest"])
        m[name] = m[name].replace(b"{", b"{ ", 1)  # same JSON, other bytes (and size)
        index["manifests"][1]["size"] = len(m[name])  # the size is right, only the digest is not
        m["index.json"] = json.dumps(index).encode()

    _refused(target, _tamper(two_images, str(tmp_path / "t.tar"), edit), "manifest sha256:")


def test_load_refuses_config_not_matching_its_digest(two_images, target, tmp_path):
    def edit(m: Members) -> None:
        name = _blob(_manifests(m)[1]["config"]["digest"])
        m[name] = m[name].replace(b"Imported", b"imported")  # same size, other content
        assert _digest(m[name]) != "sha256:" + name.rpartition("/")[2]

    _refused(target, _tamper(two_images, str(tmp_path / "t.tar"), edit), "config sha256:")


def test_load_refuses_manifest_of_wrong_size(two_images, target, tmp_path):
    def edit(m: Members) -> None:
        index = json.loads(m["index.json"])
        index["manifests"][1]["size"] += 1
        m["index.json"] = json.dumps(index).encode()

    _refused(target, _tamper(two_images, str(tmp_path / "t.tar"), edit), "shorter than")


def test_load_refuses_layer_with_wrong_bytes_and_leaves_nothing(two_images, target, tmp_path):
    """The second image's layer is corrupt: the first image, and the layers already read, are not kept."""

    def edit(m: Members) -> None:
        name = _blob(_manifests(m)[1]["layers"][0]["digest"])
        data = bytearray(m[name])
        at = data.index(b"extra\n") + 2
        data[at] ^= 0x20  # one flipped bit in the file's content: still a valid tar of the same size
        m[name] = bytes(data)

    _refused(target, _tamper(two_images, str(tmp_path / "t.tar"), edit), "layer sha256:")


def test_load_refuses_layer_of_wrong_size(two_images, target, tmp_path):
    def edit(m: Members) -> None:
        name = _blob(_manifests(m)[1]["layers"][0]["digest"])
        m[name] += b"\0" * 512

    _refused(target, _tamper(two_images, str(tmp_path / "t.tar"), edit), "longer than")


def test_load_refuses_docker_form_layer_not_matching_its_diff_id(two_images, target, tmp_path):
    """Docker's manifest.json form (no index.json): the layer must hash to its config's DiffID."""

    def edit(m: Members) -> None:
        del m["index.json"], m["oci-layout"]
        layer = json.loads(m["manifest.json"])[1]["Layers"][0]
        data = bytearray(m[layer])
        data[data.index(b"extra\n") + 2] ^= 0x20
        m[layer] = bytes(data)

    _refused(target, _tamper(two_images, str(tmp_path / "t.tar"), edit), "layer sha256:")


def test_load_refuses_docker_form_config_not_matching_its_name(two_images, target, tmp_path):
    def edit(m: Members) -> None:
        del m["index.json"], m["oci-layout"]
        config = json.loads(m["manifest.json"])[1]["Config"]
        m[config] = m[config].replace(b"Imported", b"imported")

    _refused(target, _tamper(two_images, str(tmp_path / "t.tar"), edit), "config sha256:")


def test_refused_load_keeps_layers_that_were_there(two_images, target, tmp_path):
    """The target already has the second image's layer; the refused load takes nothing away."""
    target("import", _write(str(tmp_path / "extra-rootfs.tar"), {"extra.txt": b"extra\n" * 100}), "mine:1")

    def edit(m: Members) -> None:
        index = json.loads(m["index.json"])
        index["manifests"][1]["size"] -= 1
        m["index.json"] = json.dumps(index).encode()

    _refused(target, _tamper(two_images, str(tmp_path / "t.tar"), edit), "longer than")


def test_untampered_archive_still_loads(two_images, target, tmp_path):
    r = target("load", "-i", _write(str(tmp_path / "t.tar"), two_images))
    assert r.out.split("\n")[-3:] == ["Loaded image: busybox:latest", "Loaded image: extra:1", ""]
    assert target("run", "--rm", "extra:1", "/bin/true", check=False).code != 0  # no busybox in extra
    assert target("run", "--rm", "busybox", "cat", "/etc/hostname").code == 0


# -- member names ---------------------------------------------------------------------------------------


def _tar_of_dir(members: Members, tmp_path, name: str) -> str:
    """The archive as ``tar -C dir -cf x.tar .`` packs it: every name starts with ``./``."""
    d = tmp_path / (name + "-dir")
    for n, data in members.items():
        os.makedirs(d / os.path.dirname(n), exist_ok=True)
        (d / n).write_bytes(data)
    out = str(tmp_path / name)
    subprocess.run(["tar", "-C", str(d), "-cf", out, "."], check=True)
    with tarfile.open(out) as tf:
        assert "./index.json" in tf.getnames() or "./manifest.json" in tf.getnames()
    return out


@pytest.mark.parametrize("form", ["oci", "docker"])
def test_load_members_named_with_dot_slash(cli, busybox, tmp_path, form):
    saved = str(tmp_path / "bb.tar")
    cli("save", "-o", saved, "busybox")
    members = _read(saved)
    if form == "docker":
        del members["index.json"], members["oci-layout"]
    archive = _tar_of_dir(members, tmp_path, f"{form}.tar")
    other = CLI(str(tmp_path / "other"))
    os.makedirs(other.root)
    assert "Loaded image: busybox:latest" in other("load", "-i", archive).out
    original = json.loads(cli("image", "inspect", "busybox").out)[0]
    loaded = json.loads(other("image", "inspect", "busybox").out)[0]
    assert loaded["Id"] == original["Id"] and loaded["RootFS"] == original["RootFS"]
    assert other("run", "--rm", "busybox", "echo", "ok").out.strip() == "ok"
