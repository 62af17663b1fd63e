"""Push and pull against a real registry (docker-registry on a loopback port), with skopeo as the witness:
what dockyard pushes skopeo reads back, what skopeo pushes dockyard pulls, byte for byte."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import tarfile

import pytest

from engine import Engine
from engine.registry import ManifestUnknown, Unreachable, pull, push
from engine.store import oci

from .helpers import free_port

pytestmark = pytest.mark.slow


@pytest.fixture
def other(tmp_path):
    """A second, empty engine root (the machine that pulls)."""
    from tests.conftest import _cleanup_root

    path = str(tmp_path / "other-root")
    os.makedirs(path)
    yield Engine(path)
    _cleanup_root(path)


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def test_push_pull_into_empty_root_and_run(engine_, busybox, registry, other, skopeo):
    ref = f"{registry.host}/tools/bb:v1"
    engine_.images.tag(busybox, ref)
    events = []
    pushed = engine_.images.push(ref, progress=events.append)
    local = engine_.images.get(busybox)
    assert pushed.digest == local.manifest_digest  # the stored manifest went up byte for byte
    assert pushed.pushed and not pushed.existing
    assert ("Pushed" in [e.status for e in events]) and events[0].status.startswith("The push refers to")
    # skopeo reads back what was pushed
    info = json.loads(skopeo("inspect", "--tls-verify=false", f"docker://{ref}"))
    assert info["Digest"] == pushed.digest
    assert info["Layers"] == [li.diff_id for li in local.layers]  # uncompressed layers: blob == DiffID
    assert local.repo_digests == [f"{registry.host}/tools/bb@{pushed.digest}"]

    result = other.images.pull(ref)
    assert result.image_id == local.id and not result.up_to_date and result.layers_downloaded == 1
    im = other.images.get(ref)
    assert im.repo_digests == [f"{registry.host}/tools/bb@{pushed.digest}"]
    assert im.manifest_digest == pushed.digest
    from engine.runtime.create import CreateOptions

    c = other.containers.run(
        ref, CreateOptions(network="none", command=["sh", "-c", "echo pulled-and-running"])
    )
    assert other.containers.wait(c.id, timeout=30) == 0
    assert b"pulled-and-running" in b"".join(e.data for e in other.containers.logs(c.id))

    again = other.images.pull(ref)
    assert again.up_to_date and again.layers_downloaded == 0
    second = engine_.images.push(ref)
    assert second.existing and not second.pushed  # HEAD found every blob


@pytest.mark.parametrize("fmt", ["oci", "v2s2"])
def test_pull_what_skopeo_pushed_gzip_byte_for_byte(cli, busybox, registry, other, skopeo, skopeo_push, fmt):
    ref = f"{registry.host}/sk/bb:{fmt}"
    skopeo_push(busybox, ref, "--format", fmt, "--dest-compress")
    raw = json.loads(skopeo("inspect", "--raw", "--tls-verify=false", f"docker://{ref}"))
    wanted = oci.MT_OCI_MANIFEST if fmt == "oci" else oci.MT_DOCKER_MANIFEST
    assert raw["mediaType"] == wanted  # OCI and Docker schema 2 manifests alike
    layer = raw["layers"][0]
    assert layer["mediaType"].endswith("gzip")

    result = pull(other.images.store, ref)
    im = other.images.get(ref)
    # manifest, config and the compressed layer blob are the registry's own bytes
    for digest in (result.digest, raw["config"]["digest"], layer["digest"]):
        with (
            open(registry.blob_path(digest), "rb") as theirs,
            open(other.images.store.blobs.path(digest), "rb") as ours,
        ):
            assert theirs.read() == ours.read(), digest
    assert im.manifest_digest == result.digest
    # and the unpacked files are those of the original image
    orig = Engine(cli.root).images.get(busybox)
    assert im.layers[0].diff_id == orig.layers[0].diff_id
    a = os.path.join(orig.layers[0].path, "bin", "busybox")
    b = os.path.join(im.layers[0].path, "bin", "busybox")
    assert open(a, "rb").read() == open(b, "rb").read()


def test_saved_pull_matches_skopeo_copy(busybox, registry, other, skopeo, skopeo_push, tmp_path):
    """``dockyard save`` of a pulled image and ``skopeo copy`` of the same reference: same manifest, same layers."""
    ref = f"{registry.host}/same/bb:1"
    skopeo_push(busybox, ref, "--dest-compress")
    pull(other.images.store, ref)
    ours = str(tmp_path / "ours.tar")
    with open(ours, "wb") as f:
        other.images.save([ref], f)
    theirs = str(tmp_path / "theirs.tar")
    skopeo("copy", "-q", "--src-tls-verify=false", f"docker://{ref}", f"oci-archive:{theirs}:{ref}")

    def digests(path: str) -> tuple[str, list[str], str]:
        with tarfile.open(path) as tf:
            index = json.load(tf.extractfile("index.json"))  # type: ignore[arg-type]
            mdigest = index["manifests"][0]["digest"]
            mbytes = tf.extractfile("blobs/sha256/" + mdigest[7:]).read()  # type: ignore[union-attr]
            m = json.loads(mbytes)
            for d in [m["config"], *m["layers"]]:
                blob = tf.extractfile("blobs/sha256/" + d["digest"][7:]).read()  # type: ignore[union-attr]
                assert sha(blob) == d["digest"]
            return mdigest, [d["digest"] for d in m["layers"]], m["config"]["digest"]

    assert digests(ours) == digests(theirs)


def test_pull_by_digest_pins(engine_, busybox, registry, other):
    ref = f"{registry.host}/pin/bb:v1"
    engine_.images.tag(busybox, ref)
    digest = push(engine_.images.store, ref).digest
    result = pull(other.images.store, f"{registry.host}/pin/bb@{digest}")
    assert result.name == f"{registry.host}/pin/bb@{digest}"
    assert other.images.store.catalog.tags() == {}  # a digest pull tags nothing, like Docker
    assert other.images.get(f"{registry.host}/pin/bb@{digest}").id == result.image_id
    wrong = "sha256:" + "0" * 64
    with pytest.raises(ManifestUnknown, match="not found: manifest unknown"):
        pull(other.images.store, f"{registry.host}/pin/bb@{wrong}")


def _put(host: str, path: str, body: bytes, content_type: str) -> None:
    conn = http.client.HTTPConnection(host, timeout=10)
    conn.request("PUT", path, body=body, headers={"Content-Type": content_type})
    r = conn.getresponse()
    r.read()
    assert r.status == 201, (path, r.status)
    conn.close()


def _upload_blob(host: str, repo: str, data: bytes) -> str:
    conn = http.client.HTTPConnection(host, timeout=10)
    conn.request("POST", f"/v2/{repo}/blobs/uploads/", body=b"")
    r = conn.getresponse()
    r.read()
    location = r.getheader("Location")
    conn.close()
    digest = sha(data)
    sep = "&" if "?" in location else "?"
    _put(host, f"{location}{sep}digest={digest}", data, "application/octet-stream")
    return digest


@pytest.mark.parametrize("index_type", [oci.MT_OCI_INDEX, oci.MT_DOCKER_LIST])
def test_index_picks_this_platform_or_the_asked_one(engine_, busybox, registry, other, index_type):
    repo = "multi/bb"
    ref = f"{registry.host}/{repo}"
    engine_.images.tag(busybox, f"{ref}:amd")
    amd = push(engine_.images.store, f"{ref}:amd")
    manifest = json.loads(engine_.images.store.blobs.read(amd.digest))
    # an arm64 sibling: same layer, its own config and manifest
    cfg = engine_.images.config_of(engine_.images.resolve(busybox))
    cfg["architecture"] = "arm64"
    cfg["variant"] = "v8"
    cfg_bytes = json.dumps(cfg).encode()
    cfg_digest = _upload_blob(registry.host, repo, cfg_bytes)
    arm = dict(
        manifest, config={"mediaType": oci.MT_OCI_CONFIG, "digest": cfg_digest, "size": len(cfg_bytes)}
    )
    arm_bytes = json.dumps(arm).encode()
    _put(registry.host, f"/v2/{repo}/manifests/{sha(arm_bytes)}", arm_bytes, oci.MT_OCI_MANIFEST)
    index = {
        "schemaVersion": 2,
        "mediaType": index_type,
        "manifests": [
            {"mediaType": oci.MT_OCI_MANIFEST, "digest": sha(arm_bytes), "size": len(arm_bytes),
             "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
            {"mediaType": oci.MT_OCI_MANIFEST, "digest": amd.digest, "size": amd.size,
             "platform": {"os": "linux", "architecture": oci.goarch()}},
        ],
    }  # fmt: skip
    index_bytes = json.dumps(index).encode()
    _put(registry.host, f"/v2/{repo}/manifests/latest", index_bytes, index_type)

    mine = pull(other.images.store, ref)
    assert mine.image_id == engine_.images.resolve(busybox)
    assert mine.digest == sha(index_bytes)  # RepoDigests name the index, as Docker records them
    assert other.images.get(ref).manifest_digest == amd.digest  # the platform's manifest is what is stored
    assert other.images.get(ref).repo_digests == [f"{ref}@{sha(index_bytes)}"]

    theirs = pull(other.images.store, f"{ref}:latest", platform="linux/arm64")
    assert theirs.image_id == cfg_digest
    im = other.images.get(ref)
    assert im.architecture == "arm64" and im.manifest_digest == sha(arm_bytes)
    from engine.registry.errors import RegistryError

    with pytest.raises(RegistryError, match="no matching manifest for linux/ppc64le"):
        pull(other.images.store, ref, platform="linux/ppc64le")
    from engine.errors import InvalidArgument

    with pytest.raises(InvalidArgument, match="does not match the specified platform"):
        pull(other.images.store, f"{ref}:amd", platform="linux/arm64")


def test_zstd_layers(cli, busybox, registry, other, skopeo, skopeo_push):
    ref = f"{registry.host}/z/bb:zstd"
    skopeo_push(busybox, ref, "--dest-compress-format", "zstd")
    raw = json.loads(skopeo("inspect", "--raw", "--tls-verify=false", f"docker://{ref}"))
    assert raw["layers"][0]["mediaType"] == oci.MT_OCI_LAYER_ZSTD
    pull(other.images.store, ref)
    im = other.images.get(ref)
    assert im.layers[0].diff_id == Engine(cli.root).images.get(busybox).layers[0].diff_id
    assert os.path.exists(os.path.join(im.layers[0].path, "bin", "busybox"))


def test_chunked_push_and_cross_repo_mount(engine_, busybox, registry, skopeo):
    a = f"{registry.host}/team/a:v1"
    engine_.images.tag(busybox, a)
    first = push(engine_.images.store, a, chunk_size=256 << 10)  # PATCH in 256 KiB chunks, then PUT
    assert len(first.pushed) == 2
    info = json.loads(skopeo("inspect", "--tls-verify=false", f"docker://{a}"))
    assert info["Digest"] == first.digest
    b = f"{registry.host}/team/b:v1"
    engine_.images.tag(busybox, b)
    events: list = []
    second = push(engine_.images.store, b, progress=events.append)
    layer = engine_.images.get(busybox).layers[0].diff_id
    assert layer in second.mounted  # known to be in team/a from the RepoDigests: mounted, not uploaded
    assert not second.pushed or second.pushed == [engine_.images.resolve(busybox)]
    assert any(e.status == "Mounted from team/a" for e in events)
    assert json.loads(skopeo("inspect", "--tls-verify=false", f"docker://{b}"))["Digest"] == first.digest


def test_cli_pull_push_output(cli, busybox, registry, tmp_path):
    ref = f"{registry.host}/cli/bb:v1"
    cli("tag", busybox, ref)
    out = cli("push", ref).out.splitlines()
    assert out[0] == f"The push refers to repository [{registry.host}/cli/bb]"
    layer = Engine(cli.root).images.get(busybox).layers[0].diff_id[7:19]
    assert f"{layer}: Pushed" in out
    digest = Engine(cli.root).images.get(busybox).manifest_digest
    size = len(Engine(cli.root).images.store.blobs.read(digest))
    assert out[-1] == f"v1: digest: {digest} size: {size}"

    from tests.conftest import CLI

    fresh = CLI(str(tmp_path / "fresh"))
    os.makedirs(fresh.root)
    out = fresh("pull", ref).out.splitlines()
    assert out[0] == "v1: Pulling from cli/bb"
    assert f"{layer}: Pull complete" in out
    assert out[-3:] == [f"Digest: {digest}", f"Status: Downloaded newer image for {ref}", ref]
    out = fresh("pull", f"{registry.host}/cli/bb:v1").out.splitlines()
    assert f"{layer}: Already exists" in out and f"Status: Image is up to date for {ref}" in out
    assert fresh("pull", "-q", ref).out == ref + "\n"
    assert fresh("images").out.splitlines()[1].split()[:2] == [f"{registry.host}/cli/bb", "v1"]

    r = fresh.fails("pull", f"{registry.host}/cli/bb:nope")
    assert f"manifest for {registry.host}/cli/bb:nope not found: manifest unknown: manifest unknown" in r.err
    r = fresh.fails("push", f"{registry.host}/cli/never:v1")
    assert f"An image does not exist locally with the tag: {registry.host}/cli/never" in r.err


def test_unreachable_registry_is_reported_like_docker(other):
    port = free_port()
    with pytest.raises(Unreachable) as e:
        pull(other.images.store, f"127.0.0.1:{port}/x:y")
    assert f"dial tcp 127.0.0.1:{port}: connect: connection refused" in str(e.value)
    assert other.images.list() == []
