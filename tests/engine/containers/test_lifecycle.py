"""Container lifecycle through the real CLI: create, run, start, stop, kill, restart, pause, rename, rm, wait,
ps, inspect, prune — with Docker's wording, statuses and exit codes."""

from __future__ import annotations

import json
import re
import time

import pytest

pytestmark = pytest.mark.slow


def test_run_exit_codes(cli, busybox):
    assert cli("run", "--rm", "busybox", "echo", "hello").out == "hello\n"
    assert cli("run", "--rm", "busybox", "sh", "-c", "exit 3", check=False).code == 3
    r = cli.fails("run", "--rm", "busybox", "nosuchcommand", code=127)
    assert 'exec: "nosuchcommand": executable file not found in $PATH' in r.err
    r = cli.fails("run", "--rm", "busybox", "/etc", code=126)
    assert "permission denied" in r.err
    r = cli.fails("run", "nosuchimage", code=125)
    assert "Unable to find image 'nosuchimage:latest' locally" in r.err
    assert cli("ps", "-aq").out.strip() == ""  # --rm removed even the failed ones


def test_create_start_wait_and_statuses(cli, busybox):
    cid = cli("create", "--name", "job", "busybox", "sh", "-c", "echo out; exit 7").out.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", cid)
    ps = cli("ps", "-a").out.splitlines()
    assert ps[0].split()[:3] == ["CONTAINER", "ID", "IMAGE"]
    assert "Created" in ps[1] and "job" in ps[1] and cid[:12] in ps[1]
    assert cli("ps", "-q").out.strip() == ""  # not running: only -a shows it
    cli("start", "job")
    assert cli("wait", "job").out.strip() == "7"
    assert re.search(r"Exited \(7\) (Less than a second|\d+ seconds?) ago", cli("ps", "-a").out)
    assert cli("logs", "job").out == "out\n"
    # start -a attaches and returns the code
    r = cli("start", "-a", "job", check=False)
    assert r.code == 7 and r.out == "out\n"
    d = json.loads(cli("inspect", "job").out)[0]
    assert d["State"]["ExitCode"] == 7 and d["State"]["Status"] == "exited" and d["Name"] == "/job"


def test_id_prefix_and_name_lookup(cli, busybox):
    cid = cli("create", "--name", "lookup", "busybox", "true").out.strip()
    assert cli("inspect", "-f", "{{.Id}}", cid[:5]).out.strip() == cid
    assert cli("inspect", "-f", "{{.Id}}", "lookup").out.strip() == cid
    assert "No such container: nosuch" in cli.fails("rm", "nosuch").err


def test_names_validation_and_conflict(cli, busybox):
    cid = cli("create", "--name", "taken", "busybox", "true").out.strip()
    r = cli.fails("create", "--name", "taken", "busybox", "true", code=125)
    assert (
        f'Conflict. The container name "/taken" is already in use by container "{cid}". You have to remove '
        "(or rename) that container to be able to reuse that name." in r.err
    )
    r = cli.fails("create", "--name", "bad name!", "busybox", "true", code=125)
    assert "Invalid container name (bad name!)" in r.err
    # generated names look like adjective_surname
    cli("create", "busybox", "true")
    names = cli("ps", "-a", "--format", "{{.Names}}").out.split()
    assert any(re.fullmatch(r"[a-z]+_[a-z]+\d*", n) for n in names)
    assert len(cli("ps", "-aq").out.split()) == 2


def test_stop_with_term_handler_and_timeout(cli, busybox):
    cli(
        "run",
        "-d",
        "--name",
        "polite",
        "busybox",
        "sh",
        "-c",
        "trap 'echo got TERM; exit 0' TERM; while true; do sleep 0.1; done",
    )
    time.sleep(0.3)
    t0 = time.monotonic()
    assert cli("stop", "polite").out.strip() == "polite"
    assert time.monotonic() - t0 < 3
    assert cli("inspect", "-f", "{{.State}}", "polite").out  # still inspectable
    assert json.loads(cli("inspect", "polite").out)[0]["State"]["ExitCode"] == 0
    assert "got TERM" in cli("logs", "polite").out


def test_stop_of_pid1_ignoring_term_ends_137_after_timeout(cli, busybox):
    cli("run", "-d", "--name", "stubborn", "busybox", "sleep", "1000")
    t0 = time.monotonic()
    cli("stop", "-t", "1", "stubborn")
    took = time.monotonic() - t0
    assert 0.9 <= took < 5, took
    d = json.loads(cli("inspect", "stubborn").out)[0]
    assert d["State"]["ExitCode"] == 137 and d["State"]["Status"] == "exited"
    assert "Exited (137)" in cli("ps", "-a").out


def test_stop_signal_option_and_kill(cli, busybox):
    cli(
        "run",
        "-d",
        "--name",
        "sig",
        "--stop-signal",
        "USR1",
        "busybox",
        "sh",
        "-c",
        "trap 'exit 42' USR1; while true; do sleep 0.1; done",
    )
    time.sleep(0.3)
    cli("stop", "sig")
    assert cli("wait", "sig").out.strip() == "42"
    cli("run", "-d", "--name", "kk", "busybox", "sleep", "1000")
    cli("kill", "-s", "TERM", "kk")  # PID 1 ignores TERM without a handler: still running
    time.sleep(0.2)
    assert "Up" in cli("ps", "--filter", "name=kk").out
    cli("kill", "kk")
    assert cli("wait", "kk").out.strip() == "137"
    assert "is not running" in cli.fails("kill", "kk").err


def test_restart_and_pause(cli, busybox):
    cli(
        "run",
        "-d",
        "--name",
        "pp",
        "busybox",
        "sh",
        "-c",
        "while true; do date +%s%N >> /tmp/ticks; sleep 0.05; done",
    )
    time.sleep(0.3)
    cli("pause", "pp")
    assert "(Paused)" in cli("ps").out
    assert "already paused" in cli.fails("pause", "pp").err
    n1 = cli("exec", "pp", "wc", "-l", "/tmp/ticks", check=False)
    assert n1.code != 0 and "paused" in n1.err
    cli("unpause", "pp")
    assert "is not paused" in cli.fails("unpause", "pp").err
    pid1 = json.loads(cli("inspect", "pp").out)[0]["State"]["Pid"]
    cli("restart", "-t", "0", "pp")
    d = json.loads(cli("inspect", "pp").out)[0]
    assert d["State"]["Running"] and d["State"]["Pid"] != pid1


def test_rename_keeps_running_and_frees_old_name(cli, busybox):
    cid = cli("run", "-d", "--name", "old", "busybox", "sleep", "1000").out.strip()
    pid = json.loads(cli("inspect", "old").out)[0]["State"]["Pid"]
    cli("rename", "old", "new")
    d = json.loads(cli("inspect", "new").out)[0]
    assert d["Id"] == cid and d["Name"] == "/new" and d["State"]["Running"] and d["State"]["Pid"] == pid
    assert "No such" in cli.fails("inspect", "--type", "container", "old").err
    cli("create", "--name", "old", "busybox", "true")  # the old name is free again
    assert "already in use" in cli.fails("rename", "new", "old").err
    assert "same name" in cli.fails("rename", "new", "new").err
    assert "Invalid container name" in cli.fails("rename", "new", "bad/name").err


def test_rm_running_needs_force(cli, busybox):
    cli("run", "-d", "--name", "busy", "busybox", "sleep", "1000")
    r = cli.fails("rm", "busy")
    assert 'cannot remove container "/busy": container is running' in r.err
    cli("rm", "-f", "busy")
    assert cli("ps", "-aq").out.strip() == ""


def test_ps_filters_formats_and_limits(cli, busybox):
    a = cli("run", "-d", "--name", "fa", "--label", "team=x", "busybox", "sleep", "1000").out.strip()
    cli("run", "--name", "fb", "busybox", "true")
    cli("create", "--name", "fc", "busybox", "true")
    assert cli("ps", "-q").out.split() == [a[:12]]
    assert set(cli("ps", "-a", "--filter", "status=exited", "--format", "{{.Names}}").out.split()) == {"fb"}
    assert cli("ps", "-a", "--filter", "label=team=x", "--format", "{{.Names}}").out.split() == ["fa"]
    assert cli("ps", "-a", "--filter", "name=fc", "--format", "{{.Names}}").out.split() == ["fc"]
    assert set(cli("ps", "-a", "--filter", "ancestor=busybox", "-q").out.split()) and True
    assert cli("ps", "-l", "--format", "{{.Names}}").out.split() == ["fc"]
    assert len(cli("ps", "-n", "2", "-q").out.split()) == 2
    rows = [json.loads(x) for x in cli("ps", "-a", "--format", "json").out.splitlines()]
    assert {r["Names"] for r in rows} == {"fa", "fb", "fc"}
    assert len(cli("ps", "--no-trunc", "-q").out.split()[0]) == 64


def test_container_prune(cli, busybox):
    cli("run", "--name", "done1", "busybox", "true")
    cli("create", "--name", "made", "busybox", "true")
    keep = cli("run", "-d", "--name", "alive", "busybox", "sleep", "1000").out.strip()
    r = cli("container", "prune", "-f")
    assert "Total reclaimed space" in r.out
    assert cli("ps", "-aq", "--no-trunc").out.split() == [keep]


def test_restart_policy_on_failure(cli, busybox):
    cli(
        "run", "-d", "--name", "flaky", "--restart", "on-failure:2", "busybox", "sh", "-c", "echo try; exit 1"
    )
    deadline = time.time() + 10
    while time.time() < deadline:
        d = json.loads(cli("inspect", "flaky").out)[0]
        if d["State"]["Status"] == "exited" and d["RestartCount"] == 2:
            break
        time.sleep(0.1)
    assert d["RestartCount"] == 2 and d["State"]["ExitCode"] == 1
    assert cli("logs", "flaky").out.count("try") == 3
    assert "invalid restart policy" in cli.fails("run", "--restart", "sometimes", "busybox", "true").err
    assert "conflicting options" in cli.fails("run", "--rm", "--restart", "always", "busybox", "true").err


def test_restart_always_is_stopped_by_stop(cli, busybox):
    cli("run", "-d", "--name", "always", "--restart", "always", "busybox", "sh", "-c", "sleep 0.2; exit 3")
    time.sleep(1.0)
    assert json.loads(cli("inspect", "always").out)[0]["RestartCount"] >= 1
    cli("stop", "-t", "1", "always")
    time.sleep(0.5)
    assert json.loads(cli("inspect", "always").out)[0]["State"]["Status"] == "exited"


def test_concurrent_run_from_separate_processes(root, busybox):
    import os
    import subprocess

    from tests.conftest import DOCKYARD

    env = {**os.environ, "DOCKYARD_ROOT": root}
    procs = [
        subprocess.Popen(
            [DOCKYARD, "run", "-d", "busybox", "sleep", "1000"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(20)
    ]
    ids = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        ids.append(out.decode().strip())
    assert len(set(ids)) == 20
    listed = subprocess.run(
        [DOCKYARD, "ps", "-q", "--no-trunc"], env=env, capture_output=True, text=True
    ).stdout.split()
    assert set(listed) == set(ids)
    names = subprocess.run(
        [DOCKYARD, "ps", "--format", "{{.Names}}"], env=env, capture_output=True, text=True
    ).stdout.split()
    assert len(set(names)) == 20


def test_healthcheck_runs_and_shows_in_ps(cli, busybox):
    cli(
        "run",
        "-d",
        "--name",
        "hc",
        "--health-cmd",
        "test -f /tmp/ok",
        "--health-interval",
        "200ms",
        "--health-retries",
        "2",
        "busybox",
        "sh",
        "-c",
        "sleep 1; touch /tmp/ok; sleep 1000",
    )
    assert "(health: starting)" in cli("ps").out
    deadline = time.time() + 5
    seen = set()
    while time.time() < deadline and "healthy" not in seen:
        d = json.loads(cli("inspect", "hc").out)[0]["State"]["Health"]
        seen.add(d["Status"])
        time.sleep(0.1)
    assert "unhealthy" in seen and "healthy" in seen  # failed twice before the file existed, then passed
    assert "(healthy)" in cli("ps").out
    assert d["Log"][-1]["ExitCode"] == 0


def test_replicas_share_the_image_layers(cli, busybox, engine_):
    ids = cli("run", "--replicas", "3", "--name", "rep", "busybox", "sleep", "1000").out.split()
    assert len(ids) == 3
    names = sorted(cli("ps", "--format", "{{.Names}}").out.split())
    assert names == ["rep-1", "rep-2", "rep-3"]
    lowers = {engine_.images.get(c.image_id).layers[0].path for c in engine_.containers.list()}
    assert len(lowers) == 1  # one copy of the image on disk, three writable layers
    assert "already in use" in cli.fails("run", "--replicas", "2", "--name", "rep", "busybox", "true").err
    assert sorted(cli("ps", "-a", "--format", "{{.Names}}").out.split()) == names  # nothing half-made
    assert "at least 1" in cli.fails("run", "--replicas", "-1", "busybox", "true").err
