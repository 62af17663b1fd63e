"""``dockyard build``'s flags through the real command line, each checked by its effect: secrets, --iidfile,
--label, --network, --build-context, Dockerfiles and contexts on standard input, --output, --pull, and
``builder prune`` of cache mounts."""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import tarfile

import pytest

from tests.engine.build.buildutil import write

pytestmark = pytest.mark.slow


def inspect(cli, ref: str) -> dict:
    return json.loads(cli("image", "inspect", ref).out)[0]


def run_lines(cli, image: str, *cmd: str) -> list[str]:
    return cli("run", "--rm", image, *cmd).out.splitlines()


def step_output(err: str, vertex: int) -> list[str]:
    """The output lines of step ``#vertex`` in ``--progress plain`` output (without their timestamps)."""
    prefix = f"#{vertex} "
    out = []
    for line in err.splitlines():
        if line.startswith(prefix):
            rest = line[len(prefix) :]
            stamp, _, text = rest.partition(" ")
            if stamp.replace(".", "").isdigit():
                out.append(text)
    return out


def interfaces(text: str) -> list[str]:
    return sorted(line.split(":")[0].strip() for line in text.splitlines()[2:] if ":" in line)


# -- secrets, iidfile, labels ---------------------------------------------------------------------------------


def test_secret_from_file_and_env(cli, busybox, tmp_path, monkeypatch):
    ctx = write(
        tmp_path / "s",
        {
            "Dockerfile": """
                FROM busybox
                RUN --mount=type=secret,id=file cat /run/secrets/file
                RUN --mount=type=secret,id=envtok,env=TOKEN sh -c 'echo "token:$TOKEN"'
                RUN --mount=type=secret,id=BARE cat /run/secrets/BARE
                CMD ["sh"]
            """
        },
    )
    (tmp_path / "file.txt").write_text("from-a-file")
    monkeypatch.setenv("TOKEN_SOURCE", "from-the-env")
    monkeypatch.setenv("BARE", "bare-id-env")
    r = cli(
        "build",
        "--progress",
        "plain",
        "--secret",
        f"id=file,src={tmp_path / 'file.txt'}",
        "--secret",
        "id=envtok,env=TOKEN_SOURCE",
        "--secret",
        "id=BARE",
        "-t",
        "sec:1",
        str(ctx),
    )
    assert step_output(r.err, 2) == ["from-a-file"]
    assert step_output(r.err, 3) == ["token:from-the-env"]
    assert step_output(r.err, 4) == ["bare-id-env"]
    history = cli("history", "--no-trunc", "sec:1").out
    exported = tmp_path / "sec.tar"
    cli("save", "-o", str(exported), "sec:1")
    blob = exported.read_bytes()
    for value in ("from-a-file", "from-the-env", "bare-id-env"):
        assert value not in history and value.encode() not in blob
    assert run_lines(cli, "sec:1", "ls", "-a", "/run") == [".", ".."]
    r = cli.fails("build", "--secret", "id=x,src=/nonexistent/file", str(ctx), code=125)
    assert "failed to stat /nonexistent/file" in r.err


def test_iidfile_and_labels(cli, busybox, tmp_path):
    ctx = write(tmp_path / "l", {"Dockerfile": "FROM busybox\nLABEL from=dockerfile\n"})
    iid = tmp_path / "iid"
    cli(
        "build",
        "-q",
        "--iidfile",
        str(iid),
        "--label",
        "team=build",
        "--label",
        "from=flag",
        "-t",
        "l:1",
        str(ctx),
    )
    info = inspect(cli, "l:1")
    assert iid.read_text() == info["Id"]
    assert info["Config"]["Labels"] == {"from": "flag", "team": "build"}


# -- network ----------------------------------------------------------------------------------------------


def test_network_none_default_and_host(cli, busybox, tmp_path):
    ctx = write(tmp_path / "n", {"Dockerfile": "FROM busybox\nRUN cat /proc/net/dev\n"})
    for mode in ("none", "default"):
        r = cli("build", "--progress", "plain", "--no-cache", "--network", mode, str(ctx))
        assert interfaces("\n".join(step_output(r.err, 2))) == ["lo"]
    r = cli("build", "--progress", "plain", "--network", "host", str(ctx))
    with open("/proc/net/dev") as f:
        assert interfaces("\n".join(step_output(r.err, 2))) == interfaces(f.read())
    assert "bridge" in cli.fails("build", "--network", "bridge", str(ctx), code=125).err
    write(ctx, {"Dockerfile": "FROM busybox\nRUN --network=host true\n"})
    assert "needs the host network to be allowed" in cli.fails("build", str(ctx), code=1).err
    write(ctx, {"Dockerfile": "FROM busybox\nRUN --network=none cat /proc/net/dev\n"})
    r = cli("build", "--progress", "plain", "--network", "host", str(ctx))
    assert "#2 CACHED" in r.err.splitlines()  # the same command with the same network as the first build
    r = cli("build", "--progress", "plain", "--no-cache", "--network", "host", str(ctx))
    assert interfaces("\n".join(step_output(r.err, 2))) == ["lo"]


# -- named contexts -------------------------------------------------------------------------------------------


def test_build_context_for_from_copy_and_mount(cli, busybox, tmp_path):
    extra = write(tmp_path / "extra", {"tool.sh": "echo tool\n", "sub/data": "named\n"})
    ctx = write(
        tmp_path / "main",
        {
            "Dockerfile": """
                FROM busybox AS overridden
                RUN exit 3
                FROM tools AS t
                FROM busybox
                COPY --from=tools /tool.sh /copied.sh
                COPY --from=t /sub/data /from-stage
                RUN --mount=type=bind,from=tools,source=sub,target=/m cat /m/data
                RUN --mount=from=overridden,target=/o cat /o/tool.sh
            """,
        },
    )
    r = cli(
        "build",
        "--progress",
        "plain",
        "--build-context",
        f"tools={extra}",
        "--build-context",
        f"overridden={extra}",  # a named context of a stage's name replaces the stage
        "-t",
        "named:1",
        str(ctx),
    )
    lines = r.err.splitlines()
    assert any(line.endswith(" named") for line in lines) and any(
        line.endswith(" echo tool") for line in lines
    )
    assert not any("RUN exit 3" in line for line in lines)
    assert run_lines(cli, "named:1", "cat", "/copied.sh", "/from-stage") == ["echo tool", "named"]
    for bad, word in (
        ("x=docker-image://busybox", "docker-image"),
        ("x=https://example.com/c.git", "remote"),
    ):
        assert word in cli.fails("build", "--build-context", bad, str(ctx), code=125).err
    assert (
        "no such directory" in cli.fails("build", "--build-context", "x=/nonexistent", str(ctx), code=125).err
    )


# -- standard input ----------------------------------------------------------------------------------------


def test_dockerfile_from_stdin(cli, busybox, tmp_path):
    ctx = write(tmp_path / "c", {"Dockerfile": "FROM busybox\nRUN exit 9\n", "f.txt": "context file\n"})
    dockerfile = b'FROM busybox\nCOPY f.txt /f.txt\nCMD ["cat", "/f.txt"]\n'
    image = cli("build", "-q", "-f", "-", "-t", "stdin:1", str(ctx), input=dockerfile).out.strip()
    assert image == inspect(cli, "stdin:1")["Id"]
    assert cli("run", "--rm", "stdin:1").out == "context file\n"
    r = cli.fails("build", "-f", "-", "-", input=dockerfile, code=125)
    assert "can't use stdin for both build context and dockerfile" in r.err


def _tar(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_tar_context_on_stdin(cli, busybox):
    archive = _tar(
        {
            "Dockerfile": b'FROM busybox\nCOPY . /ctx/\nCMD ["sh", "-c", "cat /ctx/a.txt; ls /ctx"]\n',
            "a.txt": b"from the tar\n",
            "Other": b'FROM busybox\nCMD ["echo", "other dockerfile"]\n',
        }
    )
    cli("build", "-q", "-t", "tar:1", "-", input=archive)
    assert run_lines(cli, "tar:1") == ["from the tar", "Dockerfile", "Other", "a.txt"]
    cli("build", "-q", "-t", "tar:2", "-f", "Other", "-", input=gzip.compress(archive))
    assert cli("run", "--rm", "tar:2").out == "other dockerfile\n"
    # a Dockerfile alone on standard input: no context
    cli("build", "-q", "-t", "tar:3", "-", input=b'FROM busybox\nCMD ["echo", "no context"]\n')
    assert cli("run", "--rm", "tar:3").out == "no context\n"
    r = cli.fails("build", "-", input=b"FROM busybox\nCOPY a.txt /\n", code=1)
    assert "a.txt" in r.err
    assert not [n for n in os.listdir(os.path.join(cli.root, "tmp")) if "context" in n]


# -- the flags scripts use ----------------------------------------------------------------------------------


def test_target_build_arg_no_cache_quiet_platform_cache_from(cli, busybox, tmp_path):
    ctx = write(
        tmp_path / "f",
        {
            "Dockerfile": """
                FROM busybox AS one
                ARG WHO=nobody
                RUN echo "hi $WHO" > /who
                FROM one AS two
                RUN exit 5
            """
        },
    )
    here = inspect(cli, "busybox")["Architecture"]
    out = cli(
        "build", "-q", "--target", "one", "--build-arg", "WHO=you", "--platform", f"linux/{here}",
        "--cache-from", "type=registry,ref=x", "-t", "one:1", str(ctx),
    ).out  # fmt: skip
    assert out.strip() == inspect(cli, "one:1")["Id"]
    assert run_lines(cli, "one:1", "cat", "/who") == ["hi you"]
    r = cli(
        "build",
        "--progress",
        "plain",
        "--target",
        "one",
        "--build-arg",
        "WHO=you",
        "--cache-from",
        "x",
        str(ctx),
    )
    assert "#3 CACHED" in r.err.splitlines() and "--cache-from x: not imported" in r.err
    r = cli(
        "build", "--progress", "plain", "--no-cache", "--target", "one", "--build-arg", "WHO=you", str(ctx)
    )
    assert "CACHED" not in r.err
    other = "arm64" if here != "arm64" else "amd64"
    assert "not supported" in cli.fails("build", "--platform", f"linux/{other}", str(ctx), code=125).err


def test_output_local_and_tar(cli, busybox, tmp_path):
    ctx = write(
        tmp_path / "o",
        {
            "Dockerfile": """
                FROM busybox AS build
                RUN mkdir /out && echo artifact > /out/result.txt && chmod 640 /out/result.txt
                FROM scratch
                COPY --from=build /out/ /
            """
        },
    )
    dest = tmp_path / "dest"
    images = cli("images", "-q").out
    cli("build", "-q", "-o", str(dest), str(ctx))
    assert cli("images", "-q").out == images  # the files are exported, no image is stored
    assert sorted(os.listdir(dest)) == ["result.txt"] and (dest / "result.txt").read_text() == "artifact\n"
    assert oct((dest / "result.txt").stat().st_mode & 0o777) == "0o640"
    shutil.rmtree(dest)
    cli("build", "-q", "--output", f"type=local,dest={dest}", str(ctx))
    assert (dest / "result.txt").read_text() == "artifact\n"
    tar_path = tmp_path / "out.tar"
    cli("build", "-q", "--output", f"type=tar,dest={tar_path}", str(ctx))
    with tarfile.open(tar_path) as tar:
        assert tar.getnames() == ["result.txt"]
        assert tar.extractfile("result.txt").read() == b"artifact\n"  # type: ignore[union-attr]
    r = cli("build", "-q", "-o", "-", str(ctx))
    with tarfile.open(fileobj=io.BytesIO(r.out.encode())) as tar:
        assert tar.getnames() == ["result.txt"]
    assert "not supported" in cli.fails("build", "-o", "type=registry", str(ctx), code=125).err


def test_pull_fetches_the_base_image(cli, busybox, tmp_path, monkeypatch):
    if shutil.which("docker-registry") is None:
        pytest.skip("docker-registry is not installed (apt-get install docker-registry)")
    from tests.engine.registry.helpers import Registry

    monkeypatch.setenv("DOCKYARD_AUTH_FILE", str(tmp_path / "auth.json"))
    reg = Registry(str(tmp_path / "registry"))
    try:
        ref = f"{reg.host}/base:1"
        cli("tag", "busybox", ref)
        cli("push", ref)
        cli("rmi", ref)
        ctx = write(tmp_path / "p", {"Dockerfile": f"FROM {ref}\nRUN echo pulled\n"})
        assert "no such image" in cli.fails("build", str(ctx), code=1).err
        r = cli("build", "--progress", "plain", "--pull", "-t", "pulled:1", str(ctx))
        assert f"pulling {ref}" in r.err
        assert inspect(cli, ref)["Id"] == inspect(cli, "busybox")["Id"]
    finally:
        reg.stop()


def test_builder_prune_removes_cache_mounts(cli, busybox, tmp_path):
    ctx = write(
        tmp_path / "pr",
        {
            "Dockerfile": "FROM busybox\nRUN --mount=type=cache,target=/c dd if=/dev/zero of=/c/blob bs=1k count=64\n"
        },
    )
    cli("build", "-q", "-t", "pr:1", str(ctx))
    mounts = os.path.join(cli.root, "buildmounts")
    assert len(os.listdir(mounts)) == 1
    assert "Total:\t0B" in cli("builder", "prune", "-f", "--filter", "type=regular").out
    assert len(os.listdir(mounts)) == 1
    r = cli("builder", "prune", "-f", "--filter", "type=exec.cachemount")
    assert "Deleted build cache objects: 1" in r.out and os.listdir(mounts) == []
    assert "invalid filter" in cli.fails("builder", "prune", "-f", "--filter", "type=nope").err


def test_run_step_limits_and_options(cli, busybox, tmp_path):
    ctx = write(
        tmp_path / "lim",
        {
            "Dockerfile": """
                FROM busybox
                RUN (cat /sys/fs/cgroup/memory/memory.limit_in_bytes || cat /sys/fs/cgroup/memory.max) 2>/dev/null; \\
                    grep builder /etc/hosts; df -k /dev/shm | tail -1 | awk '{print $2}'; ulimit -n
            """
        },
    )
    r = cli(
        "build", "--progress", "plain", "-m", "64m", "--add-host", "builder:10.1.2.3", "--shm-size", "8m",
        "--ulimit", "nofile=100:200", "--force-rm", "--compress", str(ctx),
    )  # fmt: skip
    assert step_output(r.err, 2) == ["67108864", "10.1.2.3\tbuilder", "8192", "100"]
    assert "--rm=false is not supported" in cli.fails("build", "--rm=false", str(ctx), code=125).err
    assert "Minimum memory limit" in cli.fails("build", "-m", "1k", str(ctx), code=125).err
    assert "does not squash" in cli.fails("build", "--squash", str(ctx), code=125).err
    assert cli("ps", "-aq").out == ""
