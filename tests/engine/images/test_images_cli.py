"""The image commands through the real CLI: import, images, tag, rmi, history, inspect, save, load, prune, df."""

from __future__ import annotations

import io
import json
import os
import tarfile

import pytest


def _rootfs_tar(path: str, files: dict[str, bytes]) -> str:
    with tarfile.open(path, "w") as tf:
        for name, data in files.items():
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mode = 0o644
            tf.addfile(ti, io.BytesIO(data))
    return path


def test_import_file_and_stdin(cli, tmp_path):
    tar = _rootfs_tar(str(tmp_path / "r.tar"), {"hello.txt": b"hi\n"})
    image_id = cli("import", tar, "first:v1").out.strip()
    assert image_id.startswith("sha256:") and len(image_id) == 71
    with open(tar, "rb") as f:
        second = cli("import", "-", "second", input=f.read()).out.strip()
    assert second == image_id or second.startswith("sha256:")
    out = cli("images").out.splitlines()
    assert out[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    repos = {(line.split()[0], line.split()[1]) for line in out[1:]}
    assert ("first", "v1") in repos and ("second", "latest") in repos


def test_import_refuses_bad_reference_before_reading(cli, tmp_path):
    tar = _rootfs_tar(str(tmp_path / "r.tar"), {"a": b"a"})
    r = cli.fails("import", tar, "Bad:Name")
    assert "invalid reference format" in r.err
    assert cli("images", "-q").out.strip() == ""


def test_import_missing_file(cli):
    r = cli.fails("import", "/nonexistent.tar")
    assert "no such file" in r.err.lower()


def test_images_quiet_json_and_filter(cli, busybox):
    ids = cli("images", "-q").out.split()
    assert len(ids) == 1 and len(ids[0]) == 12
    rows = [json.loads(x) for x in cli("images", "--format", "json").out.splitlines()]
    assert rows[0]["Repository"] == "busybox" and rows[0]["Tag"] == "latest"
    assert cli("images", "--format", "{{.Repository}}:{{.Tag}}").out.strip() == "busybox:latest"
    assert cli("images", "nosuch").out.splitlines()[1:] == []


def test_tag_and_untag(cli, busybox):
    cli("tag", "busybox", "mine/box:1.0")
    cli("tag", "busybox:latest", "localhost:5000/team/box:2")
    out = cli("images").out
    assert "mine/box" in out and "localhost:5000/team/box" in out
    r = cli("rmi", "mine/box:1.0")
    assert r.out.strip() == "Untagged: mine/box:1.0"
    assert "mine/box" not in cli("images").out
    assert len(set(cli("images", "-q").out.split())) == 1


def test_tag_refusals(cli, busybox):
    assert "invalid reference format" in cli.fails("tag", "busybox", "UPPER:case").err
    assert "No such image" in cli.fails("tag", "nosuch", "x").err


def test_rmi_by_id_with_several_tags_needs_force(cli, busybox):
    cli("tag", "busybox", "other")
    short = cli("images", "-q").out.split()[0]
    r = cli.fails("rmi", short)
    assert "must be forced" in r.err and "multiple repositories" in r.err
    r = cli("rmi", "-f", short)
    assert "Untagged: busybox:latest" in r.out and "Deleted: sha256:" in r.out
    assert cli("images", "-q").out.strip() == ""


def test_rmi_refuses_image_used_by_container(cli, busybox):
    cid = cli("create", "busybox", "true").out.strip()
    r = cli.fails("rmi", "busybox")
    assert "conflict" in r.err and cid[:12] in r.err
    assert "busybox" in cli("images").out
    cli("rm", cid)
    cli("rmi", "busybox")
    assert cli("images", "-q").out.strip() == ""


def test_rmi_unknown(cli):
    r = cli.fails("rmi", "nosuch")
    assert "No such image: nosuch:latest" in r.err


def test_history_and_no_trunc(cli, busybox):
    out = cli("history", "busybox").out.splitlines()
    assert out[0].split()[:2] == ["IMAGE", "CREATED"]
    assert len(out) == 2
    full = cli("history", "--no-trunc", "busybox").out
    assert "sha256:" in full


def test_image_inspect(cli, busybox):
    docs = json.loads(cli("image", "inspect", "busybox").out)
    d = docs[0]
    assert d["Id"].startswith("sha256:")
    assert d["RepoTags"] == ["busybox:latest"]
    assert d["Config"]["Cmd"] == ["sh"]
    assert d["RootFS"]["Type"] == "layers" and len(d["RootFS"]["Layers"]) == 1
    assert d["Os"] == "linux"
    assert cli("image", "inspect", "-f", "{{.Os}}", "busybox").out.strip() == "linux"
    assert cli.fails("image", "inspect", "nosuch").code == 1


def test_save_load_round_trip(cli, busybox, tmp_path, root):
    out = str(tmp_path / "bb.tar")
    cli("save", "-o", out, "busybox")
    with tarfile.open(out) as tf:
        names = tf.getnames()
        assert {"oci-layout", "index.json", "manifest.json"} <= set(names)
        manifest = json.load(tf.extractfile("manifest.json"))  # type: ignore[arg-type]
        assert manifest[0]["RepoTags"] == ["busybox:latest"]
    original = json.loads(cli("image", "inspect", "busybox").out)[0]
    from tests.conftest import CLI

    other = CLI(str(tmp_path / "other-root"))
    os.makedirs(other.root)
    r = other("load", "-i", out)
    assert "Loaded image: busybox:latest" in r.out
    loaded = json.loads(other("image", "inspect", "busybox").out)[0]
    assert loaded["Id"] == original["Id"]
    assert loaded["RootFS"] == original["RootFS"]
    assert loaded["Descriptor"]["digest"] == original["Descriptor"]["digest"]
    # load from standard input too, and twice is harmless
    with open(out, "rb") as f:
        assert "Loaded image: busybox:latest" in other("load", input=f.read()).out


def test_save_refuses_unknown_and_terminal(cli, busybox, tmp_path):
    r = cli.fails("save", "-o", str(tmp_path / "x.tar"), "nosuch")
    assert "No such image" in r.err
    assert not os.path.exists(tmp_path / "x.tar")


def test_load_legacy_docker_format(cli, tmp_path):
    """Docker's pre-25 ``docker save``: <id>.json, <v1id>/layer.tar, manifest.json, repositories."""
    import hashlib

    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w") as tf:
        data = b"legacy\n"
        ti = tarfile.TarInfo("etc/legacy.txt")
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
    layer_bytes = layer.getvalue()
    diff_id = "sha256:" + hashlib.sha256(layer_bytes).hexdigest()
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Cmd": ["sh"]},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
            "history": [{"created_by": "legacy"}],
            "created": "2020-01-01T00:00:00Z",
        }
    ).encode()
    config_id = hashlib.sha256(config).hexdigest()
    v1 = "a" * 64
    archive = str(tmp_path / "legacy.tar")
    with tarfile.open(archive, "w") as tf:
        for name, data in [
            (f"{config_id}.json", config),
            (f"{v1}/layer.tar", layer_bytes),
            (f"{v1}/VERSION", b"1.0"),
            (f"{v1}/json", b"{}"),
            (
                "manifest.json",
                json.dumps(
                    [{"Config": f"{config_id}.json", "RepoTags": ["legacy:1"], "Layers": [f"{v1}/layer.tar"]}]
                ).encode(),
            ),
            ("repositories", json.dumps({"legacy": {"1": v1}}).encode()),
        ]:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    assert "Loaded image: legacy:1" in cli("load", "-i", archive).out
    d = json.loads(cli("image", "inspect", "legacy:1").out)[0]
    assert d["Id"] == "sha256:" + config_id
    assert d["RootFS"]["Layers"] == [diff_id]


def test_load_refuses_garbage(cli, tmp_path):
    p = tmp_path / "junk.tar"
    p.write_bytes(b"this is not a tar file at all" * 100)
    assert "invalid" in cli.fails("load", "-i", str(p)).err.lower()
    with tarfile.open(tmp_path / "empty.tar", "w"):
        pass
    assert "manifest.json" in cli.fails("load", "-i", str(tmp_path / "empty.tar")).err


@pytest.mark.parametrize(
    "name",
    ["../victim/x", "/../victim/x", "..", "dest/../../dest-evil/secret"],
)
def test_import_refuses_traversal(cli, tmp_path, name):
    victim = tmp_path / "victim"
    victim.mkdir()
    tar = str(tmp_path / "evil.tar")
    with tarfile.open(tar, "w") as tf:
        ti = tarfile.TarInfo(name)
        ti.size = 4
        tf.addfile(ti, io.BytesIO(b"evil"))
    r = cli.fails("import", tar, "evil")
    assert r.err.strip()
    assert list(victim.iterdir()) == []
    assert cli("images", "-q").out.strip() == ""


def test_import_refuses_symlink_escape(cli, tmp_path):
    victim = tmp_path / "victim"
    victim.mkdir()
    tar = str(tmp_path / "evil.tar")
    with tarfile.open(tar, "w") as tf:
        ti = tarfile.TarInfo("loophole")
        ti.type = tarfile.SYMTYPE
        ti.linkname = str(victim)
        tf.addfile(ti)
        ti = tarfile.TarInfo("loophole/file")
        ti.size = 4
        tf.addfile(ti, io.BytesIO(b"evil"))
    cli.fails("import", tar, "evil")
    assert list(victim.iterdir()) == []


def test_import_keeps_symlinks_that_climb_above_the_root(cli, busybox_tar, tmp_path):
    tar = str(tmp_path / "up.tar")
    with tarfile.open(busybox_tar) as src, tarfile.open(tar, "w") as tf:
        for member in src:
            tf.addfile(member, src.extractfile(member) if member.isfile() else None)
        for name, target in [("a/link", "../../../../etc/passwd"), ("x", "../bin")]:
            ti = tarfile.TarInfo(name)
            ti.type = tarfile.SYMTYPE
            ti.linkname = target
            tf.addfile(ti)
    cli("import", "-c", "ENV PATH=/bin", tar, "links:1")
    r = cli("run", "--rm", "links:1", "sh", "-c", "readlink /a/link; readlink /x; head -n1 /a/link")
    assert r.out.splitlines() == ["../../../../etc/passwd", "../bin", "root:x:0:0:root:/root:/bin/sh"]


def test_image_prune_and_system_df(cli, busybox, tmp_path):
    tar = _rootfs_tar(str(tmp_path / "r.tar"), {"big": b"x" * 100000})
    cli("import", tar, "dangling:1")
    cli("import", tar, "dangling:1")  # a new image takes the tag: the first one dangles, as in Docker
    assert "<none>" in cli("images").out
    df = cli("system", "df").out.splitlines()
    assert df[0].split()[:3] == ["TYPE", "TOTAL", "ACTIVE"]
    assert df[1].split()[:2] == ["Images", "3"]
    assert [line.split()[0] for line in df[1:]] == ["Images", "Containers", "Local", "Build"]  # Docker's rows
    cli("volume", "create", "kept")
    verbose = cli("system", "df", "-v").out
    volumes = verbose.split("Local Volumes space usage:")[1].split("Build cache usage:")[0]
    assert [line.split()[:2] for line in volumes.strip().splitlines()] == [["VOLUME", "NAME"], ["kept", "0"]]
    assert "CACHE ID" in verbose.split("Build cache usage:")[1]
    r = cli("image", "prune", "-f")
    assert r.out.count("deleted: sha256:") == 1 and "Total reclaimed space" in r.out
    assert "<none>" not in cli("images").out
    cli("rmi", "dangling:1")
    r = cli("image", "prune", "-a", "-f")
    assert "deleted: sha256:" in r.out
    assert cli("images", "-q").out.strip() == ""
    # everything is gone from disk too
    from engine import Engine

    eng = Engine(cli.root)
    assert eng.images.store.layers.all() == []
    assert list(eng.images.store.blobs.all()) == []


def test_bootstrap_busybox(cli):
    r = cli("image", "bootstrap", "busybox")
    assert r.out.strip().startswith("sha256:")
    assert "busybox" in cli("images").out
    assert cli.fails("image", "bootstrap", "nosuchthing").code == 1


def test_images_all_shows_untagged_parents(cli, busybox, engine_):
    cli("run", "--name", "mk", "busybox", "touch", "/made")
    child = cli("commit", "mk", "child:1").out.strip()
    base = engine_.images.resolve("busybox")
    assert engine_.images.store.catalog.get(child).parent == base
    engine_.images.untag("busybox:latest")  # the base is now an untagged parent of child:1
    plain = cli("images", "-q", "--no-trunc").out.split()
    everything = cli("images", "-a", "-q", "--no-trunc").out.split()
    assert base not in plain and base in everything and child in plain


def test_import_and_commit_refuse_a_stop_signal_that_is_none(cli, busybox, busybox_tar) -> None:
    before = cli("images", "-q").out
    r = cli.fails("import", "--change", "STOPSIGNAL SIGFOO", busybox_tar, "bad:v1")
    assert "Invalid signal: SIGFOO" in r.err
    cli("create", "--name", "src", "--network", "none", busybox)
    r = cli.fails("commit", "--change", "STOPSIGNAL SIGFOO", "src", "bad:v2")
    assert "Invalid signal: SIGFOO" in r.err
    assert cli("images", "-q").out == before
