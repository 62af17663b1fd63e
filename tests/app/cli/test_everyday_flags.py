"""The everyday commands' flags through the real CLI, against Docker's reference: stats, top, logs, attach,
port, diff, export, commit, wait, the commands over several containers, rename and rm."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tarfile
import time

from tests.conftest import DOCKYARD


def _env(cli) -> dict[str, str]:
    return {**os.environ, "DOCKYARD_ROOT": cli.root}


def test_stats_format_all_no_trunc_and_names(cli, busybox):
    busy = cli("run", "-d", "--name", "busy", "busybox", "sh", "-c", "while true; do :; done").out.strip()
    idle = cli("create", "--name", "idle", "busybox").out.strip()
    fmt = "{{.Container}}|{{.Name}}|{{.ID}}|{{.CPUPerc}}|{{.MemUsage}}|{{.MemPerc}}|{{.NetIO}}|{{.BlockIO}}|{{.PIDs}}"
    (line,) = cli("stats", "--no-stream", "--format", fmt).out.splitlines()
    container, name, cid, cpu, mem, memp, net, block, pids = line.split("|")
    assert (container, name, cid) == (busy[:12], "busy", busy[:12])
    assert float(cpu.rstrip("%")) > 10  # a busy loop shows up
    used, limit = mem.split(" / ")
    assert used.endswith("iB") and limit.endswith("iB") and memp.endswith("%")
    assert net == "0B / 0B" and " / " in block and pids == "1"

    # -a adds the stopped ones, with Docker's zeros
    out = cli("stats", "--no-stream", "-a", "--format", fmt).out
    rows = {r.split("|")[1]: r.split("|") for r in out.splitlines()}
    assert set(rows) == {"busy", "idle"}
    assert rows["idle"][:3] == [idle[:12], "idle", idle[:12]]
    assert rows["idle"][3:] == ["0.00%", "0B / 0B", "0.00%", "0B / 0B", "0B / 0B", "0"]
    # named: the Container field is the name as given, stopped ones included
    out = cli("stats", "--no-stream", "--format", "{{.Container}} {{.Name}} {{.PIDs}}", "idle", busy[:6]).out
    assert out.splitlines() == ["idle idle 0", f"{busy[:6]} busy 1"]
    # --no-trunc: the whole ID
    assert cli("stats", "--no-stream", "--no-trunc", "--format", "{{.ID}}").out.strip() == busy
    table = cli("stats", "--no-stream", "--no-trunc").out.splitlines()
    assert table[0].split()[:2] == ["CONTAINER", "ID"] and table[1].split()[0] == busy
    # a table template takes Docker's headers
    t = cli("stats", "--no-stream", "-a", "--format", "table {{.Container}}\t{{.Name}}\t{{.CPUPerc}}").out
    assert t.splitlines()[0].split() == ["CONTAINER", "NAME", "CPU", "%"]
    assert {r.split()[1] for r in t.splitlines()[1:]} == {"busy", "idle"}
    # json: one object per container, Docker's keys
    (doc,) = [json.loads(x) for x in cli("stats", "--no-stream", "--format", "json").out.splitlines()]
    assert sorted(doc) == sorted(
        ["BlockIO", "CPUPerc", "Container", "ID", "MemPerc", "MemUsage", "Name", "NetIO", "PIDs"]
    )
    assert doc["Name"] == "busy" and doc["Container"] == busy[:12]
    r = cli.fails("stats", "--no-stream", "nope", "busy", code=1)
    assert "No such container: nope" in r.err and r.out == ""


def test_stats_streams_until_interrupted(cli, busybox):
    cli("run", "-d", "--name", "s1", "busybox", "sleep", "1000")
    p = subprocess.Popen(
        [DOCKYARD, "stats", "--format", "{{.Name}} {{.PIDs}}"],
        stdout=subprocess.PIPE,
        env=_env(cli),
        text=True,
    )
    try:
        lines = [p.stdout.readline() for _ in range(2)]  # type: ignore[union-attr]
        assert lines == ["s1 1\n", "s1 1\n"]  # a new sample every second
    finally:
        p.send_signal(signal.SIGINT)
        p.wait(timeout=10)


def test_top_with_ps_options(cli, busybox):
    cli("run", "-d", "--name", "tp", "busybox", "sh", "-c", "sleep 1000")
    lines = cli("top", "tp", "-o", "pid,comm").out.splitlines()
    assert lines[0].split() == ["PID", "COMMAND"]
    assert [line.split()[1] for line in lines[1:]] == ["sleep"]
    aux = cli("top", "tp", "aux").out.splitlines()
    assert aux[0].split()[:3] == ["USER", "PID", "%CPU"] and "sleep 1000" in aux[1]
    assert 'specifying "user=PID" is not allowed' in cli.fails("top", "tp", "-o", "user=PID").err
    cli("stop", "-t", "0", "tp")
    assert "is not running" in cli.fails("top", "tp").err


def test_logs_flags(cli, busybox):
    cli(
        "run", "--name", "lg", "busybox", "sh", "-c",
        "echo one; echo two >&2; sleep 1.2; echo three; echo four",
    )  # fmt: skip
    r = cli("logs", "lg")
    assert (r.out, r.err) == ("one\nthree\nfour\n", "two\n")
    assert cli("logs", "--tail", "2", "lg").out == "three\nfour\n"
    assert cli("logs", "-n", "0", "lg").out == ""
    assert cli("logs", "--tail", "not-a-number", "lg").out == "one\nthree\nfour\n"  # Docker shows all
    stamped = cli("logs", "-t", "lg").out.splitlines()
    ts = [line.split(" ", 1)[0] for line in stamped]
    assert [line.split(" ", 1)[1] for line in stamped] == ["one", "three", "four"]
    assert all(len(t) == 30 and t.endswith("Z") for t in ts)  # RFC 3339 with nanoseconds
    assert cli("logs", "--details", "lg").out == " one\n three\n four\n"
    assert cli("logs", "--details", "-t", "lg").out.splitlines()[0] == f"{ts[0]}  one"
    # --since and --until by the entries' own times
    assert cli("logs", "--since", ts[1], "lg").out == "three\nfour\n"
    # as Docker: a line at that very time is shown too
    assert cli("logs", "--until", ts[1], "lg").out == "one\nthree\n"
    assert cli("logs", "--since", "1h", "lg").out == "one\nthree\nfour\n"
    assert cli("logs", "--until", "2000-01-01T00:00:00Z", "lg").out == ""
    # -f of a stopped container prints its log and ends
    t0 = time.monotonic()
    assert cli("logs", "-f", "lg").out == "one\nthree\nfour\n"
    assert time.monotonic() - t0 < 5


def test_attach_no_stdin_and_sig_proxy(cli, busybox):
    script = "read -t 3 line; echo got:$line"
    cli("run", "-d", "-i", "--name", "withstdin", "busybox", "sh", "-c", script)
    p = subprocess.run(
        [DOCKYARD, "attach", "withstdin"], input=b"hello\n", capture_output=True, env=_env(cli)
    )
    assert p.stdout == b"got:hello\n"
    cli("run", "-d", "-i", "--name", "nostdin", "busybox", "sh", "-c", script)
    p = subprocess.run(
        [DOCKYARD, "attach", "--no-stdin", "nostdin"], input=b"hello\n", capture_output=True, env=_env(cli)
    )
    assert p.stdout == b"got:\n"  # the input was not passed on

    # --sig-proxy (the default): a signal to the CLI goes to the container's process
    trap = "trap 'echo got-term; exit 3' TERM; echo ready; while true; do sleep 0.1; done"
    cli("run", "-d", "--name", "proxied", "busybox", "sh", "-c", trap)
    p2 = subprocess.Popen([DOCKYARD, "attach", "proxied"], stdout=subprocess.PIPE, env=_env(cli))
    time.sleep(1)
    p2.send_signal(signal.SIGTERM)
    out, _ = p2.communicate(timeout=15)
    assert out == b"got-term\n" and p2.returncode == 3
    assert cli("inspect", "-f", "{{.State.ExitCode}}", "proxied").out.strip() == "3"
    # --sig-proxy=false: the signal ends the CLI only
    cli("run", "-d", "--name", "kept", "busybox", "sh", "-c", trap)
    p3 = subprocess.Popen(
        [DOCKYARD, "attach", "--sig-proxy=false", "kept"], stdout=subprocess.PIPE, env=_env(cli)
    )
    time.sleep(1)
    p3.send_signal(signal.SIGTERM)
    p3.communicate(timeout=15)
    assert p3.returncode != 3
    assert cli("inspect", "-f", "{{.State.Status}}", "kept").out.strip() == "running"


def test_port_of_one_and_of_all(cli, busybox):
    cli("run", "-d", "--name", "pt", "-p", "127.0.0.1:18123:80", "-p", "127.0.0.1:18124:53/udp", "busybox",
        "sleep", "1000")  # fmt: skip
    assert cli("port", "pt").out.splitlines() == ["53/udp -> 127.0.0.1:18124", "80/tcp -> 127.0.0.1:18123"]
    assert cli("port", "pt", "80/tcp").out == "127.0.0.1:18123\n"
    assert cli("port", "pt", "80").out == "127.0.0.1:18123\n"
    assert cli("port", "pt", "53/udp").out == "127.0.0.1:18124\n"
    assert "No public port '81' published for pt" in cli.fails("port", "pt", "81", code=1).err
    assert "No public port '53/tcp' published for pt" in cli.fails("port", "pt", "53/tcp").err
    assert "invalid port (http)" in cli.fails("port", "pt", "http").err
    cli("stop", "-t", "0", "pt")
    assert cli("port", "pt").out == ""  # nothing is published while it is stopped


def test_diff_export_and_commit(cli, busybox, tmp_path):
    cli(
        "run",
        "--name",
        "ch",
        "busybox",
        "sh",
        "-c",
        "mkdir /new && echo x > /new/f && rm /etc/group && touch /tmp/t",
    )
    assert cli("diff", "ch").out.splitlines() == ["C /etc", "D /etc/group", "A /new", "A /new/f", "C /tmp",
                                                  "A /tmp/t"]  # fmt: skip
    out = tmp_path / "fs.tar"
    cli("export", "-o", str(out), "ch")
    with tarfile.open(out) as tf:
        names = {n.removeprefix("./") for n in tf.getnames()}
    assert "new/f" in names and "etc/group" not in names and "bin/busybox" in names
    assert "cowardly refusing" not in cli("export", "ch").err  # a pipe is fine

    image = cli(
        "commit", "-a", "Ann <ann@example.com>", "-m", "add new", "-c", "ENV MODE=prod", "-c", 'CMD ["cat", "/new/f"]',
        "ch", "made:1",
    ).out.strip()  # fmt: skip
    d = json.loads(cli("image", "inspect", "made:1").out)[0]
    assert d["Id"] == image and d["Author"] == "Ann <ann@example.com>" and d["Comment"] == "add new"
    assert "MODE=prod" in d["Config"]["Env"] and d["Config"]["Cmd"] == ["cat", "/new/f"]
    assert cli("run", "--rm", "made:1").out == "x\n"
    # a running container, paused for the commit (the default) or not
    cli("run", "-d", "--name", "live", "busybox", "sh", "-c", "echo v > /v; sleep 1000")
    time.sleep(0.3)
    cli("commit", "live", "live:paused")
    assert cli("inspect", "-f", "{{.State.Status}}", "live").out.strip() == "running"  # thawed again
    cli("commit", "--pause=false", "live", "live:unpaused")
    assert cli("run", "--rm", "live:unpaused", "cat", "/v").out == "v\n"


def test_several_containers_at_once(cli, busybox):
    for n in ("m1", "m2", "m3"):
        cli("run", "-d", "--name", n, "busybox", "sh", "-c", f"trap 'exit {n[1]}' TERM; sleep 1000 & wait")
    for verb in ("pause", "unpause"):
        r = cli.fails(verb, "m1", "nope", "m2", code=1)
        assert r.out == "m1\nm2\n" and "No such container: nope" in r.err
    r = cli.fails("stop", "-t", "5", "m1", "missing", "m2", code=1)
    assert r.out == "m1\nm2\n" and "No such container: missing" in r.err
    assert cli("wait", "m1", "m2").out == "1\n2\n"
    r = cli.fails("start", "m1", "nope", "m2", code=1)
    assert r.out == "m1\nm2\n"
    assert "No such container: nope" in r.err and "failed to start containers: nope" in r.err
    assert "you cannot start and attach multiple containers" in cli.fails("start", "-a", "m1", "m2").err
    assert cli("kill", "m1", "m2").out == "m1\nm2\n"
    cli("restart", "-t", "0", "m1", "m3")
    assert set(cli("ps", "--format", "{{.Names}}").out.split()) == {"m1", "m3"}
    r = cli.fails("rm", "m1", "m2", code=1)  # m1 runs
    assert r.out == "m2\n" and "container is running" in r.err


def test_rename_and_rm_flags(cli, busybox, engine_):
    cli("create", "--name", "first", "busybox")
    cli("create", "--name", "second", "busybox")
    assert (
        'Conflict. The container name "/second" is already in use'
        in cli.fails("rename", "first", "second").err
    )
    assert "No such container: ghost" in cli.fails("rename", "ghost", "x").err
    assert "Invalid container name (b@d)" in cli.fails("rename", "first", "b@d").err
    assert (
        "Renaming a container with the same name as its current name"
        in cli.fails("rename", "first", "first").err
    )
    assert "Neither old nor new names may be empty" in cli.fails("rename", "first", "").err
    cli("rename", "first", "renamed")
    assert cli("inspect", "-f", "{{.Name}}", "renamed").out.strip() == "/renamed"

    # rm -v removes the container's anonymous volumes, not its named ones
    cli("run", "--name", "vols", "-v", "/anon", "-v", "kept:/named", "busybox", "true")
    anon = [v for v in cli("volume", "ls", "-q").out.split() if v != "kept"]
    assert len(anon) == 1
    cli("run", "--name", "novols", "-v", "/anon2", "busybox", "true")
    cli("rm", "novols")
    assert len(cli("volume", "ls", "-q").out.split()) == 3  # without -v the anonymous volume stays
    cli("rm", "-v", "vols")
    left = cli("volume", "ls", "-q").out.split()
    assert "kept" in left and anon[0] not in left

    r = cli.fails("rm", "-l", "second")  # a container's own name is no link (Docker's words)
    assert "cannot remove the default link name of the container" in r.err
    assert engine_.containers.get("second")  # nothing was removed
    r = cli("rm", "-f", "ghost", "second")  # -f: a missing container is reported, not a failure
    assert r.out == "second\n" and "No such container: ghost" in r.err
