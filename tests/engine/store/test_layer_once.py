"""A layer is stored once: its unpacked directory plus a tar-split record. The blob's bytes are not kept; save,
push and ``system check`` regenerate them byte for byte (gzip blobs too when zlib made them), and a layer
changed on disk no longer hashes to its digest."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
import zlib

import pytest

from tests.conftest import CLI, _cleanup_root


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _add(tf: tarfile.TarFile, name: str, data: bytes | None = None, **kw: object) -> None:
    ti = tarfile.TarInfo(name)
    ti.mtime = 1_700_000_000
    for k, v in kw.items():
        setattr(ti, k, v)
    if data is not None:
        ti.size = len(data)
    tf.addfile(ti, io.BytesIO(data) if data is not None else None)


def layer_tar(fmt: int = tarfile.PAX_FORMAT, seed: bytes = b"x", extra: bytes = b"") -> bytes:
    """A layer tar with what real layers hold: directories, files (one empty, one of 300 kB), a long name,
    xattrs, a hardlink, a symlink, a device, a whiteout, an opaque marker; ``extra`` after its end."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        _add(tf, "etc", type=tarfile.DIRTYPE, mode=0o755)
        _add(tf, "etc/hosts", b"127.0.0.1 localhost\n" + seed, mode=0o644, uid=0, gid=0)
        _add(tf, "etc/empty", b"", mode=0o600)
        _add(tf, "big.bin", os.urandom(300_000) + seed, mode=0o755, uid=1000, gid=1000, uname="u", gname="g")
        if fmt == tarfile.USTAR_FORMAT:  # ustar's prefix field
            _add(tf, "d" * 120 + "/" + "n" * 90, b"long\n", mode=0o644)
        else:
            _add(tf, "d" * 120 + "/" + "long-name-" * 12, b"long\n", mode=0o644)
        _add(tf, "etc/hosts.link", type=tarfile.LNKTYPE, linkname="etc/hosts")
        _add(tf, "bin", type=tarfile.DIRTYPE, mode=0o755)
        _add(tf, "bin/sh", type=tarfile.SYMTYPE, linkname="/bin/busybox")
        _add(tf, "bin/.wh.gone", b"")
        _add(tf, "opaque", type=tarfile.DIRTYPE, mode=0o755)
        _add(tf, "opaque/.wh..wh..opq", b"")
        _add(tf, "dev", type=tarfile.DIRTYPE, mode=0o755)
        _add(tf, "dev/null", type=tarfile.CHRTYPE, devmajor=1, devminor=3, mode=0o666)
        if fmt == tarfile.PAX_FORMAT:
            _add(tf, "xattr.txt", b"attr\n", pax_headers={"SCHILY.xattr.user.note": "hello"})
    return buf.getvalue() + extra


def docker_archive(path: str, layers: list[bytes], tag: str) -> list[str]:
    """A ``docker save`` archive of Docker's older form (``<id>/layer.tar``); returns the DiffIDs."""
    diff_ids = [sha(t) for t in layers]
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Cmd": ["sh"]},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": [{"created_by": f"layer {i}"} for i in range(len(layers))],
        }
    ).encode()
    with tarfile.open(path, "w") as tf:
        names = []
        for i, t in enumerate(layers):
            _add(tf, f"l{i}/layer.tar", t)
            names.append(f"l{i}/layer.tar")
        _add(tf, sha(config)[7:] + ".json", config)
        _add(
            tf,
            "manifest.json",
            json.dumps([{"Config": sha(config)[7:] + ".json", "RepoTags": [tag], "Layers": names}]).encode(),
        )
    return diff_ids


def oci_archive(path: str, blobs: list[tuple[bytes, bytes, str]], tag: str) -> list[str]:
    """An OCI archive whose layers are ``(blob, uncompressed tar, media type)``; returns the blob digests."""
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": [sha(t) for _, t, _ in blobs]},
            "history": [{"created_by": "x"} for _ in blobs],
        }
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": sha(config),
                "size": len(config),
            },
            "layers": [{"mediaType": mt, "digest": sha(b), "size": len(b)} for b, _, mt in blobs],
        }
    ).encode()
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": sha(manifest),
                "size": len(manifest),
                "annotations": {
                    "io.containerd.image.name": tag,
                    "org.opencontainers.image.ref.name": tag.split(":")[-1],
                },
            }
        ],
    }
    with tarfile.open(path, "w") as tf:
        _add(tf, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        _add(tf, "index.json", json.dumps(index).encode())
        for data in [config, manifest, *[b for b, _, _ in blobs]]:
            _add(tf, "blobs/sha256/" + sha(data)[7:], data)
    return [sha(b) for b, _, _ in blobs]


def saved_blobs(cli, tmp_path, ref: str) -> tuple[dict[str, bytes], dict]:  # type: ignore[no-untyped-def]
    out = str(tmp_path / "saved.tar")
    cli("save", "-o", out, ref)
    blobs = {}
    with tarfile.open(out) as tf:
        for m in tf.getmembers():
            if m.name.startswith("blobs/sha256/") and m.isfile():
                f = tf.extractfile(m)
                assert f is not None
                blobs["sha256:" + m.name[13:]] = f.read()
    for digest, data in blobs.items():
        assert sha(data) == digest
    with tarfile.open(out) as tf:
        f = tf.extractfile("index.json")
        assert f is not None
        index = json.load(f)
    return blobs, json.loads(blobs[index["manifests"][0]["digest"]])


def kept(root: str) -> set[str]:
    return {"sha256:" + n for n in os.listdir(os.path.join(root, "blobs", "sha256"))}


def recipes(root: str) -> dict[str, dict]:
    d = os.path.join(root, "blobs", "recipes")
    return (
        {"sha256:" + n: json.load(open(os.path.join(d, n))) for n in os.listdir(d)}
        if os.path.isdir(d)
        else {}
    )


@pytest.mark.parametrize("fmt", [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT, tarfile.USTAR_FORMAT])
def test_a_loaded_layer_is_kept_once_and_saved_byte_for_byte(cli, root, tmp_path, fmt) -> None:
    tars = [layer_tar(fmt=fmt, seed=b"1"), layer_tar(fmt=fmt, seed=b"2", extra=bytes(4096) + b"trailing")]
    archive = str(tmp_path / "in.tar")
    diff_ids = docker_archive(archive, tars, "once:v1")
    cli("load", "-i", archive)
    assert not set(diff_ids) & kept(root)  # no layer blob stays: only the unpacked layers
    assert set(recipes(root)) == set(diff_ids)
    for diff_id in diff_ids:
        chain = recipes(root)[diff_id]["layer"]
        assert os.path.exists(os.path.join(root, "layers", chain[7:], "tar-split"))
    blobs, manifest = saved_blobs(cli, tmp_path, "once:v1")
    assert [d["digest"] for d in manifest["layers"]] == diff_ids
    for digest, t in zip(diff_ids, tars, strict=True):
        assert blobs[digest] == t  # regenerated byte for byte
    # and the saved archive loads into another root with the same image
    other = str(tmp_path / "other")
    os.makedirs(other)
    try:
        assert "once:v1" in CLI(other)("load", "-i", str(tmp_path / "saved.tar")).out
        inspect = ("image", "inspect", "-f", "{{.Id}}", "once:v1")
        assert CLI(other)(*inspect).out == cli(*inspect).out
    finally:
        _cleanup_root(other)


def test_an_imported_image_runs_and_saves_from_its_single_copy(cli, busybox, root, tmp_path) -> None:
    before = {k for k in kept(root)}
    assert not {r for r in recipes(root)} & before
    blobs, manifest = saved_blobs(cli, tmp_path, "busybox")
    (layer,) = manifest["layers"]
    assert layer["digest"] in recipes(root) and len(blobs[layer["digest"]]) == layer["size"]
    assert cli("run", "--rm", "busybox", "cat", "/bin/sh").code == 0
    cli("system", "check")  # ok: the regenerated tar hashes to its digest


def _gzip(data: bytes, level: int, mem_level: int = 8, strategy: int = zlib.Z_DEFAULT_STRATEGY) -> bytes:
    c = zlib.compressobj(level, zlib.DEFLATED, -15, mem_level, strategy)
    body = c.compress(data) + c.flush()
    head = b"\x1f\x8b\x08\x00" + (1_700_000_000).to_bytes(4, "little") + b"\x00\xff"
    return (
        head
        + body
        + (zlib.crc32(data)).to_bytes(4, "little")
        + (len(data) & 0xFFFFFFFF).to_bytes(4, "little")
    )


def test_gzip_blobs_are_rebuilt_when_zlib_made_them_else_kept(cli, root, tmp_path) -> None:
    t1, t2, t3 = layer_tar(seed=b"a"), layer_tar(seed=b"b"), layer_tar(seed=b"c")
    mt = "application/vnd.oci.image.layer.v1.tar+gzip"
    by_gzip = gzip.compress(t1, compresslevel=9, mtime=0)  # Python's gzip module
    by_zlib = _gzip(t2, 1)
    other = _gzip(t3, 6, mem_level=9, strategy=zlib.Z_FILTERED)  # parameters no candidate has
    archive = str(tmp_path / "oci.tar")
    digests = oci_archive(archive, [(by_gzip, t1, mt), (by_zlib, t2, mt), (other, t3, mt)], "gz:v1")
    cli("load", "-i", archive)
    r = recipes(root)
    assert r[digests[0]]["compression"] == "gzip" and r[digests[0]]["level"] == 9
    assert r[digests[1]]["compression"] == "gzip" and r[digests[1]]["level"] == 1
    assert digests[2] not in r and digests[2] in kept(root)  # cannot be made again: the blob stays
    assert not set(digests[:2]) & kept(root)
    blobs, manifest = saved_blobs(cli, tmp_path, "gz:v1")
    assert [d["digest"] for d in manifest["layers"]] == digests
    assert [blobs[d] for d in digests] == [by_gzip, by_zlib, other]


def test_a_name_twice_in_a_layer_keeps_the_blob(cli, root, tmp_path) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        _add(tf, "a", b"first version\n")
        _add(tf, "a", b"second\n")  # the first content is not on disk any more
    archive = str(tmp_path / "dup.tar")
    (diff_id,) = docker_archive(archive, [buf.getvalue()], "dup:v1")
    cli("load", "-i", archive)
    assert diff_id in kept(root) and diff_id not in recipes(root)
    blobs, _ = saved_blobs(cli, tmp_path, "dup:v1")
    assert blobs[diff_id] == buf.getvalue()


def test_a_layer_changed_on_disk_is_found(cli, root, tmp_path) -> None:
    archive = str(tmp_path / "in.tar")
    (diff_id,) = docker_archive(archive, [layer_tar()], "edit:v1")
    cli("load", "-i", archive)
    assert cli("system", "check").out.strip().endswith("ok")
    chain = recipes(root)[diff_id]["layer"]
    path = os.path.join(root, "layers", chain[7:], "diff", "etc", "hosts")
    with open(path, "r+b") as f:  # same length, other bytes
        f.write(b"6")
    found = cli.fails("system", "check", code=1).out
    assert "layer" in found and "changed on disk" in found
    err = cli.fails("save", "-o", str(tmp_path / "bad.tar"), "edit:v1").err
    assert "changed on disk" in err
    with open(path, "r+b") as f:
        f.write(b"1")
    assert cli("system", "check").out.strip().endswith("ok")
    os.truncate(path, 3)  # shorter than it was
    assert "shorter" in cli.fails("save", "-o", str(tmp_path / "bad.tar"), "edit:v1").err


def test_a_root_of_the_old_layout_is_still_read(cli, root, tmp_path) -> None:
    """A layer unpacked before tar-split records keeps its blob, which save reads as before."""
    tar = layer_tar()
    archive = str(tmp_path / "in.tar")
    (diff_id,) = docker_archive(archive, [tar], "old:v1")
    cli("load", "-i", archive)
    chain = recipes(root)[diff_id]["layer"]
    with open(os.path.join(root, "blobs", "sha256", diff_id[7:]), "wb") as f:
        f.write(tar)
    os.unlink(os.path.join(root, "blobs", "recipes", diff_id[7:]))
    os.unlink(os.path.join(root, "layers", chain[7:], "tar-split"))
    blobs, _ = saved_blobs(cli, tmp_path, "old:v1")
    assert blobs[diff_id] == tar
    assert cli("system", "check").out.strip().endswith("ok")
    cli("rmi", "old:v1")
    assert not os.listdir(os.path.join(root, "blobs", "sha256"))


def test_rmi_removes_recipes_with_their_layers(cli, root, tmp_path) -> None:
    archive = str(tmp_path / "in.tar")
    docker_archive(archive, [layer_tar()], "gone:v1")
    cli("load", "-i", archive)
    assert recipes(root)
    cli("rmi", "gone:v1")
    assert not recipes(root) and not os.listdir(os.path.join(root, "layers"))


def test_push_sends_the_regenerated_blobs(cli, root, tmp_path) -> None:
    import shutil

    if shutil.which("docker-registry") is None:
        pytest.skip("docker-registry is not installed")
    from tests.engine.registry.helpers import Registry

    tars = [layer_tar(seed=b"p"), layer_tar(seed=b"q")]
    archive = str(tmp_path / "in.tar")
    diff_ids = docker_archive(archive, tars, "pushme:v1")
    cli("load", "-i", archive)
    assert not set(diff_ids) & kept(root)
    reg = Registry(str(tmp_path / "registry"))
    try:
        ref = f"{reg.host}/once/pushme:v1"
        cli("tag", "pushme:v1", ref)
        cli("push", ref)
        digest = cli("image", "inspect", "-f", "{{index .RepoDigests 0}}", ref).out.strip().split("@")[1]
        import urllib.request

        base = f"http://{reg.host}/v2/once/pushme"
        req = urllib.request.Request(
            f"{base}/manifests/{digest}", headers={"Accept": "application/vnd.oci.image.manifest.v1+json"}
        )
        manifest = json.loads(urllib.request.urlopen(req, timeout=30).read())
        assert [d["digest"] for d in manifest["layers"]] == diff_ids
        for d, t in zip(diff_ids, tars, strict=True):
            assert urllib.request.urlopen(f"{base}/blobs/{d}", timeout=30).read() == t
        # pulled back into an empty root: the same digests, stored once there too
        other = str(tmp_path / "other")
        os.makedirs(other)
        try:
            CLI(other)("pull", ref)
            assert not set(diff_ids) & kept(other) and set(diff_ids) <= set(recipes(other))
        finally:
            _cleanup_root(other)
    finally:
        reg.stop()
