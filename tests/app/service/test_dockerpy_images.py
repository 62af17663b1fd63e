"""Image and build behaviour of the Engine API service that docker-py's own integration tests rely on, checked
with docker-py and Docker's client: commit and import with changes, the fields image inspect has below API
1.44, a bad archive's load error in the stream, save by ID, and the classic builder's .dockerignore
exceptions, red stderr, cache-from, custom network and failed-step exit code."""

from __future__ import annotations

import io
import tarfile

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.root]


def _rootfs_tar() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        ti = tarfile.TarInfo("hello.txt")
        ti.size = 3
        tf.addfile(ti, io.BytesIO(b"hi\n"))
    return buf.getvalue()


def _build(api, script: str, **kw):  # type: ignore[no-untyped-def]
    return list(api.build(fileobj=io.BytesIO(script.encode()), decode=True, **kw))


def test_commit_applies_changes_and_old_apis_see_the_container(docker_py, busybox) -> None:
    api = docker_py.api
    cid = api.create_container(busybox, ["touch", "/made"])["Id"]
    api.start(cid)
    api.wait(cid)
    image_id = api.commit(cid, changes=["EXPOSE 8000", 'CMD ["cat", "/made"]', "ENV A=1"])["Id"]
    doc = api.inspect_image(image_id)
    assert doc["Config"]["Cmd"] == ["cat", "/made"]
    assert "8000/tcp" in doc["Config"]["ExposedPorts"]
    assert "A=1" in doc["Config"]["Env"]
    # API 1.43 (what the service serves) still has the container a commit was made of, and its config
    assert doc["Container"] == cid
    assert doc["ContainerConfig"]["Image"] == busybox
    assert doc["ContainerConfig"]["Cmd"] == ["touch", "/made"]
    assert docker_py.containers.run(image_id, remove=True) == b""  # /made is in the new image
    # an instruction commit cannot apply is refused before anything is made
    with pytest.raises(Exception, match="RUN is not a valid change command"):
        api.commit(cid, changes=["RUN true"])


def test_import_applies_changes(docker_py) -> None:
    out = docker_py.api.import_image_from_data(
        _rootfs_tar(), repository="imp/changed", changes=["USER nobody", 'CMD ["echo"]', "WORKDIR /w"]
    )
    image_id = out.splitlines()[-1]
    assert '"error"' not in image_id
    cfg = docker_py.images.get("imp/changed").attrs["Config"]
    assert (cfg["User"], cfg["Cmd"], cfg["WorkingDir"]) == ("nobody", ["echo"], "/w")


def test_docker_import_change(docker) -> None:
    docker("import", "-c", "ENV GREETING=hello", "-c", "EXPOSE 9000/udp", "-", "imp/cli", input=_rootfs_tar())
    cfg = docker(
        "image", "inspect", "--format", "{{json .Config.Env}} {{json .Config.ExposedPorts}}", "imp/cli"
    )
    assert "GREETING=hello" in cfg.out and "9000/udp" in cfg.out


def test_a_bad_archive_fails_in_the_load_stream(docker_py, docker) -> None:
    import docker as docker_sdk

    with pytest.raises(docker_sdk.errors.ImageLoadError):
        docker_py.images.load(b"abc")
    r = docker.fails("load", input=b"not a tar at all" * 100)
    assert "archive" in r.err


def test_save_by_id_keeps_no_tags(docker_py, busybox) -> None:
    image = docker_py.images.get(busybox)
    image.tag("other", "name")
    image.reload()
    data = b"".join(image.save())  # GET /images/<ID>/get
    loaded = docker_py.images.load(data)
    assert [im.id for im in loaded] == [image.id]  # one "Loaded image ID" line, not one per tag
    data = b"".join(image.save(named="other:name"))
    docker_py.images.remove("other:name")
    loaded = docker_py.images.load(data)
    assert [im.id for im in loaded] == [image.id]
    assert "other:name" in docker_py.images.get(image.id).tags


def test_build_dockerignore_exception_below_an_excluded_directory(docker_py, busybox, tmp_path) -> None:
    ctx = tmp_path / "ctx"
    (ctx / "ignored" / "subdir").mkdir(parents=True)
    (ctx / "Dockerfile").write_text("FROM busybox\nCOPY . /test\n")
    (ctx / ".dockerignore").write_text("ignored\nDockerfile\n.dockerignore\n!ignored/subdir/kept\n")
    (ctx / "ignored" / "subdir" / "kept").write_text("k")
    (ctx / "ignored" / "subdir" / "dropped").write_text("d")
    (ctx / "top").write_text("t")
    image, _ = docker_py.images.build(path=str(ctx), tag="ign:1")
    out = docker_py.containers.run("ign:1", ["find", "/test"], remove=True).decode().split()
    assert sorted(out) == [
        "/test",
        "/test/ignored",
        "/test/ignored/subdir",
        "/test/ignored/subdir/kept",
        "/test/top",
    ]


def test_build_output_stderr_red_and_failed_step_code(docker_py, busybox) -> None:
    lines = _build(docker_py.api, "FROM busybox\nRUN echo out; echo oops >&2\n", nocache=True)
    streams = [line.get("stream") for line in lines]
    assert "out\n" in streams
    assert "\x1b[91moops\n\x1b[0m" in streams
    lines = _build(docker_py.api, "FROM busybox\nRUN exit 3\n", nocache=True)
    assert lines[-1]["errorDetail"]["code"] == 3
    assert "returned a non-zero code: 3" in lines[-1]["error"]


def test_build_cache_from_limits_the_cache_to_those_images(docker_py, busybox) -> None:
    script = "FROM busybox\nENV FOO=bar\nRUN touch /baz\nRUN touch /bax\n"
    _build(docker_py.api, script, tag="first:1")

    def cached(**kw) -> int:  # type: ignore[no-untyped-def]
        return sum(
            "Using cache" in (line.get("stream") or "") for line in _build(docker_py.api, script, **kw)
        )

    assert cached() == 3  # no cache-from: the root's own cache
    assert cached(cache_from=["first:1"]) == 3
    assert cached(cache_from=["nosuchtag"]) == 0  # as Docker's classic builder: only those images


def test_build_joins_a_named_network(docker_py, busybox) -> None:
    net = docker_py.networks.create("buildnet", internal=True)
    target = docker_py.containers.run(busybox, ["sleep", "60"], detach=True, network="buildnet")
    try:
        net.disconnect(target)
        net.connect(target, aliases=["pingtarget.test"])
        script = "FROM busybox\nRUN ping -c1 -W2 pingtarget.test\n"
        lines = _build(docker_py.api, script, network_mode="buildnet", nocache=True)
        assert "errorDetail" not in lines[-1], lines[-1]
        lines = _build(docker_py.api, script, network_mode="none", nocache=True)
        assert lines[-1]["errorDetail"]["code"] == 1
        with pytest.raises(Exception, match="not supported by the build"):
            _build(docker_py.api, script, network_mode="nosuchnet")
    finally:
        target.remove(force=True)


@pytest.fixture
def registry(tmp_path):  # type: ignore[no-untyped-def]
    import shutil

    from tests.engine.registry.helpers import Registry

    if shutil.which("docker-registry") is None:
        pytest.fail("docker-registry is missing (apt-get install docker-registry)")
    reg = Registry(str(tmp_path / "registry"))
    yield reg
    reg.stop()


def test_distribution_inspect_asks_the_registry(docker_py, busybox, registry) -> None:
    import docker as docker_sdk

    ref = f"{registry.host}/dist:1"
    docker_py.images.get(busybox).tag(ref)
    pushed = [line for line in docker_py.images.push(ref, stream=True, decode=True) if "aux" in line]
    data = docker_py.api.inspect_distribution(ref)
    assert data["Descriptor"]["digest"] == pushed[-1]["aux"]["Digest"]
    assert data["Descriptor"]["size"] == pushed[-1]["aux"]["Size"]
    assert data["Platforms"] == [{"architecture": "amd64", "os": "linux"}]
    with pytest.raises(docker_sdk.errors.NotFound):
        docker_py.api.inspect_distribution(f"{registry.host}/dist:missing")


def test_image_prune_lists_untagged_and_deleted(docker_py, busybox, docker) -> None:
    api = docker_py.api
    api.create_container(busybox, ["true"], name="keeper")  # busybox is in use: kept

    def committed(tag: str) -> str:
        cid = api.create_container(busybox, ["touch", "/x"])["Id"]
        api.start(cid)
        api.wait(cid)
        image_id = api.commit(cid, repository="pruned", tag=tag)["Id"]
        api.remove_container(cid)
        return str(image_id)

    image_id = committed("1")
    result = api.prune_images({"dangling": False})
    assert result["ImagesDeleted"] == [{"Untagged": "pruned:1"}, {"Deleted": image_id}]
    assert result["SpaceReclaimed"] > 0
    committed("2")
    out = docker("image", "prune", "-a", "-f").out
    assert "untagged: pruned:2" in out and "deleted: sha256:" in out


def test_docker_build_names_the_tag_as_docker_does(docker, busybox, tmp_path) -> None:
    docker.env["DOCKER_BUILDKIT"] = "0"
    (tmp_path / "Dockerfile").write_text("FROM busybox\nRUN echo ran\n")
    out = docker("build", "-t", "plain", "-t", "other:2", str(tmp_path)).out
    assert "Successfully tagged plain:latest" in out and "Successfully tagged other:2" in out


def test_docker_hub_reads_go_to_the_roots_mirror(docker_py, busybox, registry, service) -> None:
    import json
    import os

    import docker as docker_sdk

    image = docker_py.images.get(busybox)
    image.tag(f"{registry.host}/library/mirrored", "1")
    docker_py.images.push(f"{registry.host}/library/mirrored", "1")
    docker_py.images.remove(f"{registry.host}/library/mirrored:1")
    daemon_json = os.path.join(service.root, "daemon.json")
    with open(daemon_json, "w") as f:
        json.dump({"registry-mirrors": [f"http://{registry.host}"]}, f)
    pulled = docker_py.images.pull("mirrored", tag="1")  # a Docker Hub name (library/mirrored)
    assert pulled.id == image.id and "mirrored:1" in pulled.tags
    assert docker_py.api.inspect_distribution("mirrored:1")["Platforms"] == [
        {"architecture": "amd64", "os": "linux"}
    ]
    with pytest.raises(docker_sdk.errors.NotFound) as missing:  # not looked for on Docker Hub itself
        docker_py.images.pull("mirrored", tag="2")
    assert "mirrored:2 not found" in str(missing.value)
    with open(daemon_json, "w") as f:
        json.dump({"registry-mirrors": ["ftp://nowhere"]}, f)
    with pytest.raises(docker_sdk.errors.APIError, match="invalid mirror"):
        docker_py.images.pull("mirrored", tag="1")
