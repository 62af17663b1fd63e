"""The builder end to end: real Dockerfiles built into real images, RUN steps in real containers, and the
images run to show they hold what the Dockerfile says."""

from __future__ import annotations

import io
import os
import stat
import tarfile

import pytest

from engine import BuildOptions
from engine.errors import BuildError

from .buildutil import do_build, layer_files, write

pytestmark = pytest.mark.slow

MULTI_STAGE = """
    # syntax=docker/dockerfile:1
    ARG BASE=busybox
    ARG APP_DIR=/srv/app
    FROM ${BASE} AS build
    ARG GREETING=hello
    ENV TARGET=world OUT=/out
    WORKDIR /src
    COPY *.txt *.log ./
    COPY conf/ ./conf/
    RUN <<EOF
    set -e
    mkdir -p $OUT
    echo "$GREETING, $TARGET" > $OUT/greeting
    cat conf/*.conf > $OUT/conf.txt
    ls /src > $OUT/files.txt
    EOF

    FROM busybox
    ARG APP_DIR
    ENV APP_DIR=${APP_DIR} SUFFIX=!
    WORKDIR $APP_DIR
    COPY --from=build /out/ ./
    COPY --chown=1000:1000 --chmod=0640 note.txt data/
    USER 1000
    CMD ["sh", "-c", "cat greeting; cat conf.txt; cat files.txt; pwd; id -u; echo \\"$SUFFIX\\""]
"""

CONTEXT = {
    "a.txt": "A\n",
    "note.txt": "note\n",
    "debug.log": "noise\n",
    "keep.log": "kept\n",
    "conf/one.conf": "one\n",
    "conf/two.conf": "two\n",
    "secret/token.txt": "s3cret\n",
    ".dockerignore": """
        # logs and secrets stay out, except one log
        *.log
        !keep.log
        secret
    """,
}


def test_multi_stage_build_runs(engine_, busybox, cli, tmp_path):
    ctx = write(tmp_path / "ctx", {**CONTEXT, "Dockerfile": MULTI_STAGE})
    built = do_build(engine_, ctx, tags=["app:1"], build_args={"GREETING": "hi"})
    assert built.image_id.startswith("sha256:")
    out = cli("run", "--rm", "app:1").out.splitlines()
    # The greeting comes from a build arg and ENV substitution; the globs took a.txt, note.txt and
    # keep.log (the .dockerignore exception) but not debug.log or secret/; the heredoc RUN ran in the
    # first stage, whose output the second stage copied.
    files = ["a.txt", "conf", "keep.log", "note.txt"]
    assert out == ["hi, world", "one", "two", *files, "/srv/app", "1000", "!"]
    cfg = engine_.images.get("app:1").config
    assert cfg["User"] == "1000" and cfg["WorkingDir"] == "/srv/app"
    assert "APP_DIR=/srv/app" in cfg["Env"] and not any(e.startswith("GREETING=") for e in cfg["Env"])
    # --chown/--chmod landed in the layer; .dockerignore kept debug.log and secret/ out, keep.log in
    layer = layer_files(engine_, "app:1", -1)
    note = layer["/srv/app/data/note.txt"]
    assert (note.st_uid, note.st_gid, stat.S_IMODE(note.st_mode)) == (1000, 1000, 0o640)
    listing = cli("run", "--rm", "app:1", "ls", "-a", "/srv/app").out.split()
    assert "data" in listing and "greeting" in listing
    # --target builds the first stage alone, from the cache
    build_files = do_build(engine_, ctx, target="build", tags=["app:build"], build_args={"GREETING": "hi"})
    assert build_files.executed == []  # the build stage is entirely cached by now
    assert cli("run", "--rm", "app:build", "cat", "/out/files.txt").out.split() == files
    assert cli("ps", "-aq").out.strip() == ""


def test_dockerignore_exception_reaches_copy(engine_, busybox, cli, tmp_path):
    ctx = write(tmp_path / "ctx", {**CONTEXT, "Dockerfile": "FROM busybox\nCOPY . /ctx/\n"})
    do_build(engine_, ctx, tags=["all:1"])
    names = set(cli("run", "--rm", "all:1", "find", "/ctx").out.split())
    assert "/ctx/keep.log" in names and "/ctx/a.txt" in names and "/ctx/conf/two.conf" in names
    assert "/ctx/debug.log" not in names and not any("secret" in n for n in names)


def test_history_reads_like_docker(engine_, busybox, tmp_path):
    ctx = write(
        tmp_path / "ctx",
        {
            "f.txt": "x\n",
            "Dockerfile": """
                FROM busybox
                ARG V=1
                ENV A=b
                RUN echo $V
                COPY f.txt /dst/
                LABEL k=v
                EXPOSE 80 53/udp
                CMD ["sh"]
            """,
        },
    )
    built = do_build(engine_, ctx, tags=["h:1"])
    history = engine_.images.get("h:1").history[1:]
    shown = [(h["created_by"], bool(h.get("empty_layer"))) for h in history]
    assert shown[:3] == [("ARG V=1", True), ("ENV A=b", True), ("RUN |1 V=1 /bin/sh -c echo $V", False)]
    assert shown[3][0].startswith("COPY file:") and shown[3][0].endswith(" in /dst/ ") and not shown[3][1]
    assert shown[4:] == [("LABEL k=v", True), ("EXPOSE map[53/udp:{} 80/tcp:{}]", True), ('CMD ["sh"]', True)]
    assert built.output() == ["1"]
    # history entries with layers line up with the image's layers
    assert len([h for h in history if not h.get("empty_layer")]) == len(engine_.images.get("h:1").layers) - 1


def test_failing_run_leaves_no_image_and_no_container(engine_, busybox, cli, tmp_path):
    ctx = write(tmp_path / "ctx", {"Dockerfile": "FROM busybox\nRUN echo ok\nRUN echo boom >&2; exit 3\n"})
    before = set(engine_.images.store.catalog.ids())
    with pytest.raises(BuildError) as info:
        do_build(engine_, ctx, tags=["broken:1"])
    message = str(info.value)
    assert message.startswith("Dockerfile:3: [3/3] RUN echo boom >&2; exit 3: ")
    assert message.endswith("The command '/bin/sh -c echo boom >&2; exit 3' returned a non-zero code: 3")
    assert set(engine_.images.store.catalog.ids()) == before
    assert not engine_.images.exists("broken:1")
    assert cli("ps", "-aq").out.strip() == ""
    # the output of the failing step was streamed before the error
    events = []
    with pytest.raises(BuildError):
        for event in engine_.images.build_stream(BuildOptions(str(ctx))):
            events.append(event)
    assert [e.text for e in events if e.kind == "output"] == ["boom"]  # "ok" is cached now
    error = [e for e in events if e.kind == "error"][0]
    assert error.line == 3 and "non-zero code: 3" in error.text


def test_bad_dockerfiles_name_the_line(engine_, busybox, tmp_path):
    cases = {
        "FROM busybox\nRUNN echo\n": "Dockerfile:2: unknown instruction: RUNN (did you mean RUN?)",
        "FROM busybox\n\nCOPY onlyone\n": "Dockerfile:3: COPY requires at least two arguments",
        "FROM busybox\nENV A=${B:?need B}\n": "Dockerfile:2: ",
        "FROM nosuchimage:1\n": "Dockerfile:1: FROM nosuchimage:1: no such image",
        "FROM busybox\nCOPY --from=nosuch /x /y\n": "Dockerfile:2: COPY --from=nosuch: no such image",
        "FROM busybox\nCOPY missing.txt /x\n": (
            "Dockerfile:2: [2/2] COPY missing.txt /x: COPY failed: file not found in build context or "
            "excluded by .dockerignore: stat missing.txt: file does not exist"
        ),
        "FROM busybox\nEXPOSE 80/xyz\n": "Dockerfile:2: [2/2] EXPOSE 80/xyz: invalid proto: xyz",
        "FROM busybox\nCOPY a b /notadir\n": "When using COPY with more than one source file",
        "FROM busybox\nADD https://example.com/x /x\n": "remote sources are not supported",
    }
    write(tmp_path / "ctx", {"a": "a", "b": "b"})
    for text, expected in cases.items():
        (tmp_path / "ctx" / "Dockerfile").write_text(text)
        with pytest.raises(BuildError) as info:
            engine_.images.build(BuildOptions(str(tmp_path / "ctx")))
        assert expected in str(info.value), text
    with pytest.raises(BuildError, match='target stage "nope" could not be found'):
        (tmp_path / "ctx" / "Dockerfile").write_text("FROM busybox AS a\n")
        engine_.images.build(BuildOptions(str(tmp_path / "ctx"), target="nope"))


def test_only_needed_stages_are_built(engine_, busybox, tmp_path):
    ctx = write(
        tmp_path / "ctx",
        {
            "Dockerfile": """
                FROM busybox AS broken
                RUN exit 1
                FROM busybox AS base
                RUN echo base > /base
                FROM base AS final
                COPY --from=base /base /copied
                RUN cat /copied
            """
        },
    )
    built = do_build(engine_, ctx, tags=["stages:1"])
    assert built.output() == ["base"] or built.output() == ["base", "base"]
    assert not any("exit 1" in label for label in built.executed + built.cached)
    with pytest.raises(BuildError, match="returned a non-zero code: 1"):
        do_build(engine_, ctx, target="broken")


def test_config_instructions(engine_, busybox, tmp_path):
    ctx = write(
        tmp_path / "ctx",
        {
            "Dockerfile": """
                FROM busybox AS base
                CMD ["base-cmd"]
                FROM base
                ENTRYPOINT ["/bin/echo", "ep"]
                HEALTHCHECK --interval=30s --timeout=5s --retries=4 CMD wget -q localhost || exit 1
                EXPOSE 8000-8001/tcp
                VOLUME /data /logs
                STOPSIGNAL SIGINT
                LABEL org.example.name="my app" version=1
                SHELL ["/bin/sh", "-ec"]
                ONBUILD RUN echo child
                MAINTAINER someone@example.com
            """
        },
    )
    image_id = engine_.images.build(BuildOptions(str(ctx), labels={"extra": "yes"}))
    cfg = engine_.images.config_of(image_id)
    c = cfg["config"]
    assert c["Entrypoint"] == ["/bin/echo", "ep"]
    assert "Cmd" not in c  # ENTRYPOINT drops the CMD inherited from the base stage
    assert c["Healthcheck"] == {
        "Test": ["CMD-SHELL", "wget -q localhost || exit 1"],
        "Interval": 30_000_000_000,
        "Timeout": 5_000_000_000,
        "Retries": 4,
    }
    assert c["ExposedPorts"] == {"8000/tcp": {}, "8001/tcp": {}}
    assert c["Volumes"] == {"/data": {}, "/logs": {}}
    assert c["StopSignal"] == "SIGINT" and c["Shell"] == ["/bin/sh", "-ec"]
    assert c["Labels"] == {"org.example.name": "my app", "version": "1", "extra": "yes"}
    assert c["OnBuild"] == ["RUN echo child"]
    assert cfg["author"] == "someone@example.com"


def test_onbuild_triggers_run_in_the_child(engine_, busybox, tmp_path):
    write(tmp_path / "parent", {"Dockerfile": "FROM busybox\nONBUILD RUN echo triggered > /t\n"})
    engine_.images.build(BuildOptions(str(tmp_path / "parent"), tags=["parent:1"]))
    write(tmp_path / "child", {"Dockerfile": "FROM parent:1\nRUN cat /t\n"})
    built = do_build(engine_, tmp_path / "child", tags=["child:1"])
    assert built.output() == ["triggered"]
    assert "OnBuild" not in engine_.images.get("child:1").config


def test_copy_rules(engine_, busybox, tmp_path):
    passwd = "root:x:0:0:root:/root:/bin/sh\napp:x:1500:1600:app:/home/app:/bin/sh\n"
    group = "root:x:0:\napp:x:1600:\nstaff:x:1700:app\n"
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tf:
        for name, data in (("pkg/bin/tool", b"#!/bin/sh\necho tool\n"), ("pkg/README", b"read me\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755
            info.uid = 42
            tf.addfile(info, io.BytesIO(data))
    ctx = write(
        tmp_path / "ctx",
        {
            "etc/passwd": passwd,
            "etc/group": group,
            "src/main.py": "print('hi')\n",
            "src/lib/util.py": "x = 1\n",
            "single.txt": "single\n",
            "pkg.tar.gz": archive.getvalue(),
            "Dockerfile": """
                FROM busybox
                COPY etc/passwd etc/group /etc/
                RUN ln -s /real /link && mkdir /real
                COPY --chown=app single.txt /link/
                COPY --chown=app:staff src /app
                COPY single.txt /renamed.txt
                ADD pkg.tar.gz /opt/
                COPY pkg.tar.gz /kept/
                COPY <<EOF /etc/motd
                welcome $HOME
                EOF
            """,
        },
    )
    os.symlink("single.txt", ctx / "alias")
    (ctx / "Dockerfile").write_text((ctx / "Dockerfile").read_text() + "COPY alias /via-link\n")
    do_build(engine_, ctx, tags=["copy:1"])
    layers = [layer_files(engine_, "copy:1", i) for i in range(2, 10)]
    linked, app, renamed, added, kept, motd, via = layers[1:]
    assert "/real/single.txt" in linked and "/link" not in linked  # the image's symlink was followed
    assert (linked["/real/single.txt"].st_uid, linked["/real/single.txt"].st_gid) == (1500, 1600)
    assert {p for p in app} >= {"/app", "/app/main.py", "/app/lib", "/app/lib/util.py"}
    assert (app["/app/lib/util.py"].st_uid, app["/app/lib/util.py"].st_gid) == (1500, 1700)
    assert set(renamed) == {"/renamed.txt"} and renamed["/renamed.txt"].st_uid == 0
    assert (
        added["/opt/pkg/bin/tool"].st_uid == 42 and stat.S_IMODE(added["/opt/pkg/bin/tool"].st_mode) == 0o755
    )
    assert "/kept/pkg.tar.gz" in kept  # COPY never extracts
    motd_path = engine_.images.get("copy:1").layers[8].path + "/etc/motd"
    assert open(motd_path).read() == "welcome \n"  # $HOME is not a build variable
    assert stat.S_ISREG(via["/via-link"].st_mode)  # a symlink named as a source is followed
    # directories the COPY walked through keep the image's metadata (busybox's /etc)
    base_etc = os.lstat(engine_.images.get("busybox").layers[0].path + "/etc")
    copied_etc = layer_files(engine_, "copy:1", 1)["/etc"]
    assert (copied_etc.st_mode, copied_etc.st_mtime) == (base_etc.st_mode, base_etc.st_mtime)


def test_workdir_creates_directories_and_run_uses_them(engine_, busybox, cli, tmp_path):
    ctx = write(
        tmp_path / "ctx",
        {
            "Dockerfile": """
                FROM busybox
                WORKDIR /a
                WORKDIR b/c
                RUN pwd > /pwd
                USER nobody
                RUN id -un > /tmp/who
                WORKDIR /home/nobody/work
                RUN touch mine
                CMD cat /pwd /tmp/who
            """
        },
    )
    do_build(engine_, ctx, tags=["wd:1"])
    assert cli("run", "--rm", "wd:1").out.split() == ["/a/b/c", "nobody"]
    layers = [layer_files(engine_, "wd:1", i) for i in (1, 2, 5)]
    assert set(layers[0]) == {"/a"} and set(layers[1]) == {"/a", "/a/b", "/a/b/c"}
    made = layers[2]["/home/nobody/work"]  # a WORKDIR after USER belongs to that user (BuildKit's rule)
    assert (made.st_uid, made.st_gid) == (65534, 65534) and layers[2]["/home/nobody"].st_uid == 65534
    owner = cli("run", "--rm", "wd:1", "stat", "-c", "%U", "/home/nobody/work/mine").out.strip()
    assert owner == "nobody"


def test_identical_builds_in_two_roots_give_identical_layers(busybox_tar, tmp_path):
    from engine import Engine
    from tests.conftest import _cleanup_root

    ctx = write(
        tmp_path / "ctx",
        {
            "f.txt": "same\n",
            "d/g.txt": "also\n",
            "Dockerfile": "FROM busybox\nCOPY f.txt /f.txt\nCOPY d /opt/d\nWORKDIR /w\nRUN echo x > /x\n",
        },
    )
    results = []
    for n in range(2):
        root = str(tmp_path / f"root{n}")
        engine = Engine(root)
        try:
            with open(busybox_tar, "rb") as f:
                engine.images.import_(f, "busybox:latest")
            plain = engine.images.build(BuildOptions(str(ctx)))
            pinned = engine.images.build(
                BuildOptions(str(ctx), build_args={"SOURCE_DATE_EPOCH": "1700000000"}, no_cache=True)
            )
            image = engine.images.get(plain)
            pinned_cfg = engine.images.config_of(pinned)
            results.append(([li.diff_id for li in image.layers], pinned_cfg))
        finally:
            _cleanup_root(root)
    (diffs0, pinned0), (diffs1, pinned1) = results
    assert diffs0[:4] == diffs1[:4]  # base, two COPY layers and WORKDIR are byte-identical
    # RUN's layer holds the build time in its mtimes, unless SOURCE_DATE_EPOCH pins every timestamp: then
    # all layers, and the history, match (the base images differ only by their import time)
    assert pinned0["rootfs"] == pinned1["rootfs"]
    assert pinned0["history"][1:] == pinned1["history"][1:]
    assert pinned0["created"] == pinned1["created"] == "2023-11-14T22:13:20.000000Z"


def test_images_build_from_a_worker_thread(engine_, busybox, tmp_path):
    """The app's build dialog calls Images.build from a worker thread, its progress going to the dialog."""
    import threading

    ctx = write(tmp_path / "ctx", {"Dockerfile": "FROM busybox\nARG WHO\nRUN echo from-run $WHO\n"})
    lines: list[str] = []
    result: dict[str, str] = {}
    options = BuildOptions(str(ctx), tags=["tui:1"], build_args={"WHO": "me"})

    def worker() -> None:
        result["id"] = engine_.images.build(options, lambda event: lines.append(event.message))

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(60)
    image_id = result["id"]
    assert engine_.images.resolve("tui:1") == image_id
    assert "#3 [3/3] RUN echo from-run $WHO" in lines and any(line.endswith(" from-run me") for line in lines)
    assert lines[-1] == f"writing image {image_id} done"


def test_copy_from_stages_and_images(engine_, busybox, cli, tmp_path):
    ctx = write(
        tmp_path / "ctx",
        {
            "tree/linkdir/file": "through the link\n",
            "src/a.py": "a\n",
            "src/b.txt": "b\n",
            "src/sub/c.py": "c\n",
            "Dockerfile": """
                FROM busybox AS one
                RUN mkdir /real && ln -s /real /linkdir && mkdir /data && echo 1 > /data/d1.py && echo 2 > /data/d2.txt
                COPY tree/ /
                FROM busybox
                COPY --from=one /data/*.py /fromglob/
                COPY --from=0 /linkdir/file /viaindex
                COPY --from=busybox:latest /bin/busybox /bb
                COPY --exclude=*.txt src/ /src/
                RUN --network=none <<EOF
                #!/bin/sh
                echo "script $0"
                EOF
                CMD find /fromglob /src /viaindex /bb -type f
            """,
        },
    )
    built = do_build(engine_, ctx, tags=["from:1"])
    assert built.output() == ["script /dev/pipes/EOF"]
    files = cli("run", "--rm", "from:1").out.split()
    assert files == ["/fromglob/d1.py", "/src/a.py", "/src/sub/c.py", "/viaindex", "/bb"]
    assert cli("run", "--rm", "from:1", "cat", "/viaindex").out == "through the link\n"
    # in the first stage the copied tree went through the image's symlink instead of replacing it
    do_build(engine_, ctx, target="one", tags=["from:one"])
    assert cli("run", "--rm", "from:one", "readlink", "/linkdir").out == "/real\n"
    assert cli("run", "--rm", "from:one", "cat", "/real/file").out == "through the link\n"
