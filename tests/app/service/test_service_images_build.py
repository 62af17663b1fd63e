"""The image and build endpoints of the Engine API service, driven by Docker's own client and docker-py:
list, inspect, history, tag, rmi, save/load, prune, pull/push against a loopback registry, and builds whose
progress arrives while the steps run."""

from __future__ import annotations

import http.client
import io
import json
import os
import shutil
import socket
import tarfile
import time
from collections.abc import Iterator

import pytest

from tests.engine.registry.helpers import Registry

pytestmark = [pytest.mark.slow, pytest.mark.root]


class UnixHTTP(http.client.HTTPConnection):
    """An HTTP connection over the service's unix socket."""

    def __init__(self, path: str, timeout: float = 60) -> None:
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


def context_tar(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, data in files.items():
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


@pytest.fixture
def registry(tmp_path) -> Iterator[Registry]:
    if shutil.which("docker-registry") is None:
        pytest.fail("docker-registry is missing (apt-get install docker-registry)")
    reg = Registry(str(tmp_path / "registry"))
    yield reg
    reg.stop()


@pytest.fixture
def build_env(docker):  # type: ignore[no-untyped-def]
    """Docker's client with its classic builder (the API dockyard serves for builds)."""
    docker.env["DOCKER_BUILDKIT"] = "0"
    return docker


def test_images_inspect_history_tag_rmi(docker, busybox, engine_) -> None:
    image_id = engine_.images.resolve(busybox)
    out = docker("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}").out.split()
    assert out == ["busybox:latest", image_id[7:19]]
    got = docker("image", "inspect", "-f", "{{.Id}} {{index .RepoTags 0}} {{json .Config.Cmd}}", busybox).out
    assert got.strip() == f'{image_id} busybox:latest ["sh"]'
    history = docker("history", "--no-trunc", "--format", "{{.ID}} {{.Size}}", busybox).out.split("\n")
    assert history[0].startswith(image_id)

    docker("tag", busybox, "example/other:v2")
    assert engine_.images.resolve("example/other:v2") == image_id
    rm = docker("rmi", "example/other:v2").out
    assert "Untagged: example/other:v2" in rm and "Deleted" not in rm
    assert engine_.images.exists(busybox)

    r = docker.fails("image", "inspect", "missing:1")
    assert "No such image: missing:1" in r.err
    r = docker.fails("rmi", "missing:1")
    assert "No such image" in r.err


def test_save_and_load(docker, busybox, engine_, tmp_path) -> None:
    archive = str(tmp_path / "bb.tar")
    docker("save", "-o", archive, busybox)
    with tarfile.open(archive) as tf:
        assert "manifest.json" in tf.getnames()
    docker("rmi", busybox)
    assert not engine_.images.exists(busybox)
    out = docker("load", "-i", archive).out
    assert "Loaded image: busybox:latest" in out
    assert engine_.images.exists(busybox)
    r = docker.fails("save", "-o", str(tmp_path / "x.tar"), "missing:1")
    assert "No such image" in r.err


def test_build_of_a_small_context(build_env, busybox, cli, tmp_path) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text('FROM busybox\nRUN echo made-by-run > /made\nCOPY f /f\nLABEL a="b c"\n')
    (ctx / "f").write_text("context file\n")
    out = build_env("build", "-t", "app:1", "--build-arg", "X=1", str(ctx)).out
    assert "Step 2/4 : RUN echo made-by-run > /made" in out
    assert "Successfully tagged app:1" in out
    assert cli("run", "--rm", "app:1", "cat", "/made", "/f").out == "made-by-run\ncontext file\n"
    label = build_env("image", "inspect", "-f", '{{index .Config.Labels "a"}}', "app:1").out
    assert label.strip() == "b c"

    quiet = build_env("build", "-q", "-t", "app:2", str(ctx)).out.strip()
    assert quiet == cli("image", "inspect", "-f", "{{.Id}}", "app:2").out.strip()

    (ctx / "Dockerfile.bad").write_text("FROM busybox\nRUN exit 3\n")
    r = build_env.fails("build", "-f", str(ctx / "Dockerfile.bad"), str(ctx))
    assert r.code == 3  # the step's status, in errorDetail's code, is the client's (as with Docker's daemon)
    assert "returned a non-zero code: 3" in r.err


def test_build_streams_progress_while_it_runs(service, busybox, cli) -> None:
    body = context_tar({"Dockerfile": b"FROM busybox\nRUN echo first && sleep 2 && echo second\n"})
    conn = UnixHTTP(service.socket)
    conn.request("POST", "/v1.41/build?t=slow:1&nocache=1", body, {"Content-Type": "application/x-tar"})
    resp = conn.getresponse()
    assert resp.status == 200
    seen: dict[str, float] = {}
    for raw in resp:
        doc = json.loads(raw)
        text = doc.get("stream", "")
        for word in ("first", "second", "Successfully tagged"):
            if text.startswith(word):
                seen[word] = time.monotonic()
    conn.close()
    assert set(seen) == {"first", "second", "Successfully tagged"}
    assert seen["second"] - seen["first"] > 1.5  # "first" came while the step still ran
    assert cli("image", "inspect", "-f", "{{.Id}}", "slow:1").out.startswith("sha256:")


def test_build_client_gone_stops_the_build(service, busybox, cli) -> None:
    body = context_tar({"Dockerfile": b"FROM busybox\nRUN echo first && sleep 3 && echo second\n"})
    conn = UnixHTTP(service.socket)
    conn.request("POST", "/build?t=gone:1&nocache=1", body, {"Content-Type": "application/x-tar"})
    resp = conn.getresponse()
    for raw in resp:
        if json.loads(raw).get("stream", "").startswith("first"):
            break
    conn.close()
    deadline = time.monotonic() + 15
    while cli("ps", "-aq").out.strip() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert cli("ps", "-aq").out.strip() == "", "the step's container was left behind"
    assert cli("images", "-q", "gone:1").out.strip() == ""  # the build did not finish


def test_build_refuses_what_it_cannot_do(service, busybox) -> None:
    body = context_tar({"Dockerfile": b"FROM busybox\n"})
    for query, words in (
        ("dockerfile=../../etc/passwd", "inside the build context"),
        ("dockerfile=/etc/passwd", "inside the build context"),
        ("remote=https://example.com/x.tar", "remote context"),
        ("version=2", "BuildKit"),
        ("networkmode=bridge", "network mode"),
    ):
        conn = UnixHTTP(service.socket)
        conn.request("POST", f"/build?{query}", body, {"Content-Type": "application/x-tar"})
        resp = conn.getresponse()
        assert resp.status == 400, query
        assert words in json.loads(resp.read())["message"]
        conn.close()
    # a Dockerfile the context lacks is looked for in the context only
    conn = UnixHTTP(service.socket)
    conn.request("POST", "/build?dockerfile=etc/passwd", body, {"Content-Type": "application/x-tar"})
    resp = conn.getresponse()
    text = resp.read().decode()
    assert "root:" not in text
    assert "no such file" in text


def test_commit(docker, cli, busybox, engine_) -> None:
    cli("run", "--name", "c1", busybox, "sh", "-c", "echo changed > /marker")
    image_id = docker("commit", "-m", "a note", "-a", "someone", "c1", "snap:1").out.strip()
    assert engine_.images.resolve("snap:1") == image_id
    assert cli("run", "--rm", "snap:1", "cat", "/marker").out == "changed\n"
    got = docker("image", "inspect", "-f", "{{.Comment}} {{.Author}}", "snap:1").out
    assert got.strip() == "a note someone"
    docker("commit", "-c", "ENV A=1", "c1", "snap:2")
    assert "A=1" in docker("image", "inspect", "-f", "{{json .Config.Env}}", "snap:2").out
    r = docker.fails("commit", "-c", "RUN true", "c1", "snap:2")
    assert "RUN is not a valid change command" in r.err
    r = docker.fails("commit", "missing", "snap:3")
    assert "missing" in r.err
    cli("rm", "c1")


def test_image_prune(docker, busybox, engine_) -> None:
    out = docker("image", "prune", "-f").out
    assert "Total reclaimed space" in out
    assert engine_.images.exists(busybox)  # tagged: kept without -a
    out = docker("image", "prune", "-a", "-f").out
    assert "deleted: sha256:" in out
    assert not engine_.images.exists(busybox)


def test_pull_and_push_with_a_loopback_registry(docker, busybox, registry, engine_) -> None:
    ref = f"{registry.host}/app:1"
    docker("tag", busybox, ref)
    out = docker("push", ref).out
    assert f"The push refers to repository [{registry.host}/app]" in out
    assert "1: digest: sha256:" in out
    image_id = engine_.images.resolve(ref)
    docker("rmi", ref, busybox)
    assert not engine_.images.exists(image_id)

    out = docker("pull", ref).out
    assert "Pull complete" in out
    assert f"Status: Downloaded newer image for {ref}" in out
    assert engine_.images.resolve(ref) == image_id
    out = docker("pull", ref).out
    assert f"Status: Image is up to date for {ref}" in out

    found = docker("search", "--format", "{{.Name}}", f"{registry.host}/ap").out.split()
    assert found == [f"{registry.host}/app"]

    r = docker.fails("pull", f"{registry.host}/missing:1")
    assert "Error response from daemon" in r.err and "not found" in r.err


def test_docker_py_images(docker_py, busybox, registry, tmp_path) -> None:
    import docker as docker_sdk

    assert [im.tags for im in docker_py.images.list()] == [[busybox]]
    assert docker_py.images.get(busybox).attrs["Config"]["Cmd"] == ["sh"]
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM busybox\nRUN echo hi > /hi\n")
    image, logs = docker_py.images.build(path=str(ctx), tag="pyapp:1")
    assert "pyapp:1" in image.tags
    assert any("Successfully built" in (line.get("stream") or "") for line in logs)
    (ctx / "Dockerfile").write_text("FROM busybox\nRUN exit 4\n")
    with pytest.raises(docker_sdk.errors.BuildError, match="non-zero code: 4"):
        docker_py.images.build(path=str(ctx))

    ref = f"{registry.host}/pyapp"
    image.tag(ref, "1")
    docker_py.images.push(ref, "1")
    docker_py.images.remove(f"{ref}:1")
    docker_py.images.remove("pyapp:1")
    with pytest.raises(docker_sdk.errors.ImageNotFound):
        docker_py.images.get("pyapp:1")
    pulled = docker_py.images.pull(ref, tag="1")
    assert pulled.id == image.id
    assert os.path.isdir(
        docker_py.images.get(f"{ref}:1").attrs["GraphDriver"]["Data"]["LowerDir"].split(":")[0]
    )
