"""``system check`` finds each kind of damage a root can hold; ``--repair`` rebuilds what the whole records
allow and quarantines the rest (nothing deleted); afterwards the root works and a second check says ok."""

from __future__ import annotations

import glob
import json
import os
import subprocess

import pytest


def _image(root: str, ref: str, cli) -> dict:  # type: ignore[no-untyped-def]
    image_id = cli("image", "inspect", "-f", "{{.Id}}", ref).out.strip()
    with open(os.path.join(root, "images", image_id[7:] + ".json")) as f:
        return json.load(f)


def _blob_kept(root: str, digest: str) -> str:
    """Give a layer its blob's bytes back, as a root of the older layout (or a blob no recipe rebuilds)
    has them; returns the blob's path."""
    from engine.paths import Layout
    from engine.store.imagestore import ImageStore

    data = ImageStore(Layout(root)).blobs.read(digest)
    path = os.path.join(root, "blobs", "sha256", digest[7:])
    with open(path, "wb") as f:
        f.write(data)
    os.unlink(os.path.join(root, "blobs", "recipes", digest[7:]))
    return path


def _check_finds(cli, *words: str) -> str:  # type: ignore[no-untyped-def]
    found = cli.fails("system", "check", code=1).out
    for w in words:
        assert w in found, found
    return found


def _repaired(cli) -> str:  # type: ignore[no-untyped-def]
    out = cli("system", "check", "--repair").out
    assert "repaired:" in out, out
    assert cli("system", "check").out.strip().endswith("ok")
    return out


def _runs(cli, image: str = "busybox:latest") -> None:  # type: ignore[no-untyped-def]
    assert cli("run", "--rm", "--network", "none", image, "echo", "works").out == "works\n"


def test_a_damaged_image_record_is_rebuilt_from_its_manifest(cli, busybox, root) -> None:
    rec = _image(root, busybox, cli)
    path = os.path.join(root, "images", rec["id"][7:] + ".json")
    open(path, "w").write('{"id": "sha256:')
    listed = cli("images")
    assert "busybox" not in listed.out and "WARNING: an image is not listed" in listed.err  # left out, said
    cli("image", "prune", "-af")  # deletes nothing while a record is damaged
    assert os.path.isdir(os.path.join(root, "layers", rec["layers"][0][7:]))
    _check_finds(cli, "image record", path)
    assert "rebuilt from its manifest" in _repaired(cli)
    assert _image(root, busybox, cli) == {**rec, "added": _image(root, busybox, cli)["added"]}
    _runs(cli)
    assert os.listdir(os.path.join(root, "quarantine"))


@pytest.mark.parametrize("damage", ["garbled", "a-list"])
def test_a_damaged_tag_index_is_rebuilt_from_the_image_records(cli, busybox, root, damage) -> None:
    cli("tag", busybox, "mine:v1")
    path = os.path.join(root, "images", "repositories.json")
    open(path, "w").write("{\x07" if damage == "garbled" else "[]")
    assert cli("image", "inspect", "-f", "{{.Id}}", "mine:v1").code == 0  # read through the rebuilt index
    _check_finds(cli, "tag index")
    _repaired(cli)
    assert sorted(json.load(open(path))) == ["busybox:latest", "mine:v1"]


def test_a_blob_whose_content_changed_is_quarantined(cli, busybox, root) -> None:
    rec = _image(root, busybox, cli)
    blob = _blob_kept(root, rec["layer_blobs"][0])
    with open(blob, "r+b") as f:
        f.seek(1000)
        f.write(b"\xff\xfe")
    _check_finds(cli, "blob", "hashes to")
    cli("system", "check", "--repair")
    assert not os.path.exists(blob)
    assert any(n.endswith(rec["layer_blobs"][0][7:]) for n in os.listdir(os.path.join(root, "quarantine")))
    _runs(cli)  # the unpacked layer still runs; save would say the blob is missing


def test_a_missing_unpacked_layer_is_unpacked_again_from_its_blob(cli, busybox, root) -> None:
    rec = _image(root, busybox, cli)
    _blob_kept(root, rec["layer_blobs"][0])
    subprocess.run(["rm", "-rf", os.path.join(root, "layers", rec["layers"][0][7:])], check=True)
    _check_finds(cli, "layer 1 of image")
    assert "unpacked again" in _repaired(cli)
    _runs(cli)


def test_a_damaged_layer_record_is_written_again(cli, busybox, root) -> None:
    rec = _image(root, busybox, cli)
    path = os.path.join(root, "layers", rec["layers"][0][7:], "layer.json")
    before = json.load(open(path))
    open(path, "w").write('{"chain_id": 7}')
    _check_finds(cli, "layer record")
    _repaired(cli)
    after = json.load(open(path))
    assert {k: after[k] for k in ("chain_id", "diff_id", "parent")} == {
        k: before[k] for k in ("chain_id", "diff_id", "parent")
    }
    _runs(cli)


def test_a_dangling_tag_is_removed(cli, busybox, root) -> None:
    path = os.path.join(root, "images", "repositories.json")
    tags = json.load(open(path))
    tags["ghost:v1"] = "sha256:" + "0" * 64
    json.dump(tags, open(path, "w"))
    _check_finds(cli, "ghost:v1")
    _repaired(cli)
    assert "ghost:v1" not in json.load(open(path))


def test_a_damaged_volume_record_keeps_its_data(cli, busybox, root) -> None:
    cli("volume", "create", "data")
    cli("run", "--rm", "--network", "none", "-v", "data:/d", busybox, "sh", "-c", "echo kept > /d/f")
    meta = os.path.join(root, "volumes", "data", "volume.json")
    open(meta, "w").write("nope")
    assert "data" in cli("volume", "ls", "-q").out.split()
    _check_finds(cli, "volume record")
    _repaired(cli)
    out = cli("run", "--rm", "--network", "none", "-v", "data:/d", busybox, "cat", "/d/f").out
    assert out == "kept\n"


def test_a_damaged_network_record_is_quarantined_and_the_rest_work(cli, busybox, root) -> None:
    cli("network", "create", "--internal", "broken")
    cli("network", "create", "--internal", "fine")
    path = glob.glob(os.path.join(root, "networks", "broken", "network.json"))[0]
    open(path, "w").write('{"name": ')
    assert "fine" in cli("network", "ls").out
    _check_finds(cli, "network record")
    _repaired(cli)
    assert "broken" not in cli("network", "ls").out
    cli("network", "rm", "fine")


def test_a_mount_left_below_the_root_is_found_and_unmounted(cli, busybox, root) -> None:
    target = os.path.join(root, "tmp", "stray")
    os.makedirs(target)
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", target], check=True)
    try:
        _check_finds(cli, "leftover mount", target)
        assert "unmounted" in _repaired(cli)
    finally:
        subprocess.run(["umount", "-l", target], check=False)


def test_network_leftovers_of_a_vanished_container_are_found_and_removed(cli, busybox, root) -> None:
    cli("network", "create", "--internal", "inner")
    cid = cli("run", "-d", "--network", "inner", busybox, "sleep", "60").out.strip()
    bridge = json.load(open(os.path.join(root, "networks", "inner", "network.json")))["bridge"]
    # The container vanishes without its teardown (its processes killed, its directory gone) ...
    state = json.load(open(os.path.join(root, "containers", cid, "state.json")))
    os.kill(state["shim_pid"], 9)  # its supervisor first, then the container
    from engine.runtime.cgroups import ContainerCgroup, parent_for_root

    ContainerCgroup.open(cid, parent_for_root(root)).destroy()
    r = subprocess.run(["rm", "-rf", os.path.join(root, "containers", cid)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    # ... and a stray interface sits on the root's bridge.
    subprocess.run(
        ["ip", "link", "add", "dyvstray0", "type", "veth", "peer", "name", "dyvstray1"], check=True
    )
    try:
        subprocess.run(["ip", "link", "set", "dyvstray0", "master", bridge], check=True)
        found = _check_finds(cli, "leftover endpoint", "leftover veth", "dyvstray0")
        assert cid[:12] in found
        _repaired(cli)
        assert not os.path.exists("/sys/class/net/dyvstray0")
        assert not glob.glob(os.path.join(root, "networks", "inner", "endpoints", "*.json"))
    finally:
        subprocess.run(["ip", "link", "del", "dyvstray0"], check=False, capture_output=True)
    cli("network", "rm", "inner")
