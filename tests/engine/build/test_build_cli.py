"""``dockyard build`` and ``dockyard builder prune`` through the real command line."""

from __future__ import annotations

import json
import os
import re
import stat

import pytest

from .buildutil import write

pytestmark = pytest.mark.slow


@pytest.fixture
def ctx(tmp_path):
    return write(
        tmp_path / "ctx",
        {
            "Dockerfile": """
                FROM busybox
                ARG WHO=world
                RUN echo "hello $WHO"
                COPY msg.txt /msg.txt
                CMD ["cat", "/msg.txt"]
            """,
            "msg.txt": "from the context\n",
            "Other.dockerfile": "FROM busybox AS first\nRUN echo first\nFROM busybox AS second\nLABEL s=1\n",
        },
    )


def test_quiet_prints_only_the_image_id(cli, busybox, ctx):
    r = cli("build", "-q", "-t", "cli:1", "-t", "cli:also", str(ctx))
    image_id = r.out.strip()
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", image_id) and r.err == ""
    assert cli("run", "--rm", "cli:1").out == "from the context\n"
    tags = json.loads(cli("image", "inspect", "cli:also").out)[0]["RepoTags"]
    assert sorted(tags) == ["cli:1", "cli:also"]


def test_plain_progress(cli, busybox, ctx):
    r = cli("build", "--progress", "plain", "--build-arg", "WHO=you", "-t", "cli:2", str(ctx))
    lines = r.err.splitlines()
    assert r.out == ""
    assert "#1 [1/5] FROM busybox" in lines
    assert '#3 [3/5] RUN echo "hello $WHO"' in lines
    assert any(re.fullmatch(r"#3 \d+\.\d{3} hello you", line) for line in lines)
    assert any(re.fullmatch(r"#3 DONE \d+\.\d+s", line) for line in lines)
    assert "naming to cli:2 done" in lines and lines[-1].startswith("writing image sha256:")
    again = cli("build", "--progress", "plain", "--build-arg", "WHO=you", "-t", "cli:2", str(ctx)).err
    assert "#3 CACHED" in again.splitlines() and "hello you" not in again


def test_tty_progress_draws_the_steps(cli, busybox, ctx):
    r = cli("build", "--progress", "tty", "-t", "cli:3", str(ctx))
    assert "[+] Built" in r.err and "FINISHED" in r.err
    assert "RUN echo" in r.err and "writing image sha256:" in r.err


def test_file_target_label_and_no_cache(cli, busybox, ctx):
    cli("build", "-q", "-f", str(ctx / "Other.dockerfile"), "--target", "first", "-t", "first:1", str(ctx))
    r = cli(
        "build",
        "--progress",
        "plain",
        "--no-cache",
        "-f",
        "Other.dockerfile",
        "--target",
        "first",
        "--label",
        "team=build",
        "-t",
        "first:1",
        str(ctx),
    )
    assert "first" in r.err and "CACHED" not in r.err
    labels = json.loads(cli("image", "inspect", "first:1").out)[0]["Config"]["Labels"]
    assert labels == {"team": "build"}  # the second stage (LABEL s=1) was not built


def test_errors_and_exit_code(cli, busybox, tmp_path):
    ctx = write(tmp_path / "bad", {"Dockerfile": "FROM busybox\nRUN exit 4\n"})
    r = cli.fails("build", "-q", str(ctx), code=1)
    assert (
        "Error: Dockerfile:2: [2/2] RUN exit 4: The command '/bin/sh -c exit 4' returned a non-zero code: 4"
        in r.err
    )
    (ctx / "Dockerfile").write_text("FROM busybox\nFROB x\n")
    assert "Dockerfile:2: unknown instruction: FROB" in cli.fails("build", str(ctx)).err
    assert "failed to read dockerfile" in cli.fails("build", str(tmp_path)).err
    assert "--run needs --watch" in cli.fails("build", "--run", "x", str(ctx)).err
    assert cli("ps", "-aq").out == ""


def test_builder_prune(cli, busybox, ctx):
    cli("build", "-q", "-t", "p:1", str(ctx))
    assert cli("builder", "prune", "-f").out.splitlines()[-1] == "Total:\t0B"  # the image uses every layer
    cli("rmi", "p:1")
    r = cli("builder", "prune", "-f")
    assert "Deleted build cache objects: 3" in r.out  # ARG's entry stands on busybox's layer, still used
    again = cli("build", "--progress", "plain", "-t", "p:1", str(ctx)).err.splitlines()
    assert "#2 CACHED" in again and "#3 CACHED" not in again  # ARG's entry stayed, RUN's went
    assert any(re.fullmatch(r"#3 \d+\.\d{3} hello world", line) for line in again)
    assert "Deleted build cache objects: 4" in cli("builder", "prune", "-a", "-f").out
    assert "invalid filter" in cli.fails("builder", "prune", "-f", "--filter", "label=x").err


def test_run_may_make_a_symlink_that_climbs_above_the_root(cli, busybox, tmp_path):
    ctx = write(tmp_path / "up", {"Dockerfile": "FROM busybox\nRUN ln -s ../../../../etc/passwd /p\n"})
    cli("build", "-q", "-t", "up:1", str(ctx))
    r = cli("run", "--rm", "up:1", "sh", "-c", "readlink /p; head -n1 /p")
    assert r.out.splitlines() == ["../../../../etc/passwd", "root:x:0:0:root:/root:/bin/sh"]


@pytest.mark.skipif(os.geteuid() != 0, reason="device nodes need root")
def test_copy_keeps_fifos_and_device_nodes(cli, busybox, tmp_path):
    # As Docker does: a FIFO stays a FIFO (never opened, so it cannot block the build), a device node keeps
    # its major and minor numbers.
    ctx = write(
        tmp_path / "dev",
        {
            "Dockerfile": """
                FROM busybox
                COPY . /ctx/
                RUN test -p /ctx/fifo && test -c /ctx/null && test -b /ctx/block && test -f /ctx/file
            """,
            "file": "x",
        },
    )
    os.mkfifo(ctx / "fifo", 0o640)
    os.mknod(ctx / "null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    os.mknod(ctx / "block", 0o600 | stat.S_IFBLK, os.makedev(7, 9))
    os.chmod(ctx / "null", 0o666)  # not cut by the umask
    cli("build", "-q", "-t", "dev:1", str(ctx))
    r = cli("run", "--rm", "dev:1", "stat", "-c", "%A %t:%T %n", "/ctx/block", "/ctx/fifo", "/ctx/null")
    assert r.out.splitlines() == [
        "brw------- 7:9 /ctx/block",
        "prw-r----- 0:0 /ctx/fifo",
        "crw-rw-rw- 1:3 /ctx/null",
    ]
    # The cache key holds each entry's type and device numbers.
    assert "#2 CACHED" in cli("build", "--progress", "plain", "-t", "dev:1", str(ctx)).err.splitlines()
    os.unlink(ctx / "null")
    os.mknod(ctx / "null", 0o666 | stat.S_IFCHR, os.makedev(1, 5))
    os.chmod(ctx / "null", 0o666)
    again = cli("build", "--progress", "plain", "-t", "dev:1", str(ctx)).err.splitlines()
    assert "#2 CACHED" not in again
    assert cli("run", "--rm", "dev:1", "stat", "-c", "%t:%T", "/ctx/null").out == "1:5\n"
    os.unlink(ctx / "fifo")
    (ctx / "fifo").write_text("")
    os.chmod(ctx / "fifo", 0o640)
    lines = cli.fails("build", "--progress", "plain", "-t", "dev:1", str(ctx)).err.splitlines()
    assert "#2 CACHED" not in lines  # copied again, so `test -p` fails now
    assert any(line.startswith("#2 DONE") for line in lines)
