"""Seeing inside: logs, attach, exec, top, stats, diff, commit, export, cp (refusing escapes)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import tarfile
import time

import pytest

from tests.conftest import DOCKYARD

pytestmark = pytest.mark.slow


def test_logs_format_tail_timestamps_streams(cli, busybox, engine_):
    cli("run", "--name", "lg", "busybox", "sh", "-c", "echo one; echo two >&2; echo three; printf partial")
    r = cli("logs", "lg")
    assert r.out == "one\nthree\npartial" and r.err == "two\n"
    tail = cli("logs", "--tail", "2", "lg")  # the two last entries, whichever stream they came on
    assert tail.out.endswith("partial") and len(tail.out.splitlines()) + len(tail.err.splitlines()) == 2
    assert cli("logs", "-n", "0", "lg").out == ""
    ts = cli("logs", "-t", "lg").out.splitlines()[0]
    assert ts.endswith(" one") and ts[4] == "-" and ts[29] == "Z"  # RFC 3339 with nanoseconds
    # the file is Docker's json-file format
    path = json.loads(cli("inspect", "lg").out)[0]["LogPath"]
    lines = [json.loads(x) for x in open(path).read().splitlines()]
    assert lines[0]["log"] == "one\n" and lines[0]["stream"] == "stdout" and lines[0]["time"].endswith("Z")
    assert any({"log": "two\n", "stream": "stderr"}.items() <= x.items() for x in lines)
    assert open(path).readline().startswith('{"log":"one\\n","stream":"stdout","time":"')
    assert cli("logs", "--since", "1h", "lg").out.startswith("one")
    assert cli("logs", "--until", "2000-01-01", "lg").out == ""


def test_long_lines_split_in_16k_chunks(cli, busybox):
    cli("run", "--name", "longl", "busybox", "sh", "-c", "head -c 40000 /dev/zero | tr '\\0' a; echo")
    path = json.loads(cli("inspect", "longl").out)[0]["LogPath"]
    entries = [json.loads(x)["log"] for x in open(path).read().splitlines()]
    assert [len(e) for e in entries] == [16384, 16384, 40000 - 32768 + 1]
    assert not entries[0].endswith("\n") and entries[-1].endswith("\n")
    assert cli("logs", "longl").out == "a" * 40000 + "\n"


def test_logs_follow_streams_without_delay(root, busybox, cli):
    cli(
        "run",
        "-d",
        "--name",
        "fl",
        "busybox",
        "sh",
        "-c",
        "sleep 0.3; for i in 1 2 3; do echo tick $i; sleep 0.2; done",
    )
    env = {**os.environ, "DOCKYARD_ROOT": root}
    t0 = time.monotonic()
    p = subprocess.Popen([DOCKYARD, "logs", "-f", "fl"], env=env, stdout=subprocess.PIPE, text=True)
    first = p.stdout.readline()  # type: ignore[union-attr]
    assert first == "tick 1\n" and time.monotonic() - t0 < 2
    rest = p.communicate(timeout=10)[0]
    assert rest == "tick 2\ntick 3\n"  # follow ends when the container does
    assert p.returncode == 0


def test_exec_env_workdir_user_and_errors(cli, busybox):
    cli("run", "-d", "--name", "ex", "-e", "FROM_RUN=1", "busybox", "sleep", "1000")
    assert cli(
        "exec",
        "-e",
        "X=2",
        "-w",
        "/etc",
        "-u",
        "nobody",
        "ex",
        "sh",
        "-c",
        "echo $FROM_RUN $X $(pwd) $(id -u)",
    ).out.split() == ["1", "2", "/etc", "65534"]
    assert cli("exec", "ex", "sh", "-c", "exit 9", check=False).code == 9
    assert cli.fails("exec", "ex", "nosuch", code=127)
    assert cli("exec", "-i", "ex", "cat", input=b"piped in").out == "piped in"
    # exec joins the container's pid namespace and cgroup
    assert cli("exec", "ex", "ps", "-o", "pid,comm").out.split()[2:4] == ["1", "sleep"]
    cli("stop", "-t", "0", "ex")
    assert "is not running" in cli.fails("exec", "ex", "true").err


def test_attach_and_interactive_run(root, busybox, cli):
    out = cli("run", "-i", "--rm", "busybox", "sh", "-c", "read line; echo got $line", input=b"hello\n").out
    assert out == "got hello\n"
    cid = cli(
        "run", "-d", "-i", "--name", "att", "busybox", "sh", "-c", "while read l; do echo echo:$l; done"
    ).out.strip()
    env = {**os.environ, "DOCKYARD_ROOT": root}
    p = subprocess.run([DOCKYARD, "attach", "att"], input=b"a\nb\n", env=env, capture_output=True, timeout=20)
    assert p.stdout == b"echo:a\necho:b\n"
    assert cli("wait", cid).out.strip() == "0"


def test_top_and_stats(cli, busybox):
    cli("run", "-d", "--name", "st", "busybox", "sh", "-c", "while true; do :; done")
    titles, *rows = cli("top", "st").out.splitlines()
    assert titles.split() == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
    assert "while true" in rows[0]
    out = cli("stats", "--no-stream").out.splitlines()
    assert out[0].split()[:4] == ["CONTAINER", "ID", "NAME", "CPU"]
    cells = out[1].split()
    assert cells[1] == "st" and float(cells[2].rstrip("%")) > 10  # a busy loop shows up
    rows = [json.loads(x) for x in cli("stats", "--no-stream", "--format", "json").out.splitlines()]
    assert rows[0]["Name"] == "st" and rows[0]["PIDs"] == "1"


def test_commit_makes_a_new_image_layer(cli, busybox):
    cli(
        "run",
        "--name",
        "cm",
        "busybox",
        "sh",
        "-c",
        "mkdir -p /app && echo v1 > /app/version && rm /etc/shadow",
    )
    image_id = cli("commit", "-m", "add app", "-c", 'CMD ["cat", "/app/version"]', "cm", "app:v1").out.strip()
    assert image_id.startswith("sha256:")
    hist = cli("history", "app:v1").out.splitlines()
    assert len(hist) == 3 and "add app" in hist[1]
    d = json.loads(cli("image", "inspect", "app:v1").out)[0]
    base = json.loads(cli("image", "inspect", "busybox").out)[0]
    assert d["RootFS"]["Layers"][:1] == base["RootFS"]["Layers"] and len(d["RootFS"]["Layers"]) == 2
    assert cli("run", "--rm", "app:v1").out == "v1\n"
    assert cli("run", "--rm", "app:v1", "ls", "/etc/shadow", check=False).code != 0  # the whiteout holds


def test_commit_keeps_symlinks_that_climb_above_the_root(cli, busybox):
    # In a container /.. is /: these resolve inside it, and Docker stores their targets as written.
    cli(
        "run",
        "--name",
        "up",
        "busybox",
        "sh",
        "-c",
        "mkdir /a && ln -s ../../../../etc/passwd /a/link && ln -s ../bin /x",
    )
    cli("commit", "up", "up:1")
    r = cli(
        "run", "--rm", "up:1", "sh", "-c", "readlink /a/link; readlink /x; head -n1 /a/link; test -x /x/sh"
    )
    assert r.out.splitlines() == ["../../../../etc/passwd", "../bin", "root:x:0:0:root:/root:/bin/sh"]


def test_export_is_the_flattened_filesystem(cli, busybox, tmp_path):
    cli("run", "--name", "exp", "busybox", "sh", "-c", "echo hi > /hello; rm /etc/group")
    out = tmp_path / "exp.tar"
    cli("export", "-o", str(out), "exp")
    with tarfile.open(out) as tf:
        names = set(tf.getnames())
        assert "hello" in names or "./hello" in names
        assert not {"etc/group", "./etc/group"} & names
        assert {"bin/busybox", "./bin/busybox"} & names


def test_cp_both_ways(cli, busybox, tmp_path):
    cli("run", "-d", "--name", "cpy", "busybox", "sleep", "1000")
    src = tmp_path / "file.txt"
    src.write_text("to the container")
    cli("cp", str(src), "cpy:/tmp/")
    assert cli("exec", "cpy", "cat", "/tmp/file.txt").out == "to the container"
    cli("cp", str(src), "cpy:/tmp/renamed.txt")
    assert cli("exec", "cpy", "cat", "/tmp/renamed.txt").out == "to the container"
    d = tmp_path / "dir"
    d.mkdir()
    (d / "a").write_text("A")
    cli("cp", str(d), "cpy:/opt/")
    assert cli("exec", "cpy", "cat", "/opt/dir/a").out == "A"
    cli("exec", "cpy", "sh", "-c", "mkdir -p /data && echo from-container > /data/out")
    cli("cp", "cpy:/data/out", str(tmp_path / "out.txt"))
    assert (tmp_path / "out.txt").read_text() == "from-container\n"
    cli("cp", "cpy:/data", str(tmp_path))
    assert (tmp_path / "data" / "out").read_text() == "from-container\n"
    assert "Could not find the file /nope" in cli.fails("cp", "cpy:/nope", str(tmp_path)).err
    # works on a stopped container too
    cli("stop", "-t", "0", "cpy")
    cli("cp", str(src), "cpy:/stopped.txt")
    cli("start", "cpy")
    assert cli("exec", "cpy", "cat", "/stopped.txt").out == "to the container"


def test_cp_refuses_symlink_escapes(cli, busybox, tmp_path):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "secret").write_text("host secret")
    cli(
        "run",
        "-d",
        "--name",
        "evil",
        "busybox",
        "sh",
        "-c",
        f"ln -s {victim} /escape; ln -s ../../../../../../{victim} /rel; sleep 1000",
    )
    time.sleep(0.2)
    # reading through the link resolves inside the container: the host file is not reachable
    assert cli("cp", "evil:/escape/secret", str(tmp_path / "got"), check=False).code != 0
    assert not (tmp_path / "got").exists()
    # writing through the links stays inside the container too
    src = tmp_path / "payload"
    src.write_text("pwned")
    cli("cp", str(src), "evil:/escape/", check=False)
    cli("cp", str(src), "evil:/rel/payload", check=False)
    assert sorted(os.listdir(victim)) == ["secret"]
    # and an archive with traversal entries is refused
    bad = io.BytesIO()
    with tarfile.open(fileobj=bad, mode="w") as tf:
        ti = tarfile.TarInfo("../../../../../../../../" + str(victim) + "/owned")
        ti.size = 1
        tf.addfile(ti, io.BytesIO(b"x"))
    assert sorted(os.listdir(victim)) == ["secret"]
