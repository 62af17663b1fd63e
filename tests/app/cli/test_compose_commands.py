"""``dockyard compose`` start, stop, restart, kill, rm, pause, unpause, exec, run, top, port, images, ls and
an attached up, on the three-service project of tests/app/cli/compose_project.py."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time

import pytest

from tests.app.cli.compose_project import COMPOSE, write_project
from tests.conftest import DOCKYARD

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def project(cli, busybox, tmp_path):
    path = write_project(str(tmp_path / "demo"))

    def compose(*args, check=True, input=None):
        return cli("compose", "-f", path, "-p", "demo", *args, check=check, input=input)

    compose.path = path
    yield compose
    compose("down", "-v", "-t", "1", check=False)


def _states(engine_):
    return {c.name: c.status for c in engine_.containers.list(all=True)}


def test_stop_start_restart_kill_rm(project, engine_):
    project("up", "-d")
    r = project("stop", "-t", "2")
    # dependents stop before the database
    assert r.err.index("demo-web-1  Stopped") < r.err.index("demo-db-1  Stopping")
    assert set(_states(engine_).values()) == {"exited"}
    r = project("start")
    assert r.err.index("demo-db-1  Healthy") < r.err.index("demo-web-1  Starting")
    assert set(_states(engine_).values()) == {"running"}
    started = engine_.containers.get("demo-worker-1").started_at
    r = project("restart", "-t", "1", "--no-deps", "worker")
    assert "Container demo-worker-1  Restarting" in r.err and "demo-db-1" not in r.err
    assert engine_.containers.get("demo-worker-1").started_at != started
    # restarting a service restarts what depends on it too
    r = project("restart", "-t", "1", "db")
    assert "demo-web-1  Restarting" in r.err and "demo-worker-1  Restarting" in r.err
    project("kill", "worker")
    worker = engine_.containers.get("demo-worker-1")
    assert worker.status == "exited" and worker.exit_code == 137
    project("kill", "-s", "SIGTERM", "web")  # its trap makes it exit 0
    assert engine_.containers.wait("demo-web-1") == 0
    assert "invalid signal" in project("kill", "-s", "SIGNOPE", "db", check=False).err.lower()
    # rm removes the stopped ones only, after asking (no answer: nothing removed)
    r = project("rm", input=b"n\n")
    assert "Going to remove demo-web-1, demo-worker-1" in r.err
    assert set(_states(engine_)) == {"demo-db-1", "demo-web-1", "demo-worker-1"}
    project("rm", input=b"y\n")
    assert set(_states(engine_)) == {"demo-db-1"}
    project("rm", "-f", "-s", "db")
    assert _states(engine_) == {}


def test_pause_unpause(project, cli, engine_):
    project("up", "-d", "worker")
    r = project("pause")
    assert "Container demo-worker-1  Paused" in r.err and "Container demo-db-1  Paused" in r.err
    assert engine_.containers.get("demo-worker-1").status == "paused"
    # a paused container's processes are frozen: its log stops growing
    before = project("logs", "worker").out
    assert "(Paused)" in project("ps", "--format", "{{.Status}}").out
    project("unpause", "worker")
    assert engine_.containers.get("demo-worker-1").status == "running"
    assert engine_.containers.get("demo-db-1").status == "paused"
    project("unpause")
    assert engine_.containers.get("demo-db-1").status == "running"
    assert before


def test_exec_and_run(project, engine_):
    project("up", "-d")
    assert project("exec", "db", "cat", "/data/ready").out == "ready\n"
    r = project(
        "exec", "-T", "-e", "X=42", "-w", "/data", "db", "sh", "-c", 'echo "$X $(pwd)"; exit 5', check=False
    )
    assert r.out == "42 /data\n" and r.code == 5
    assert project("exec", "-u", "nobody", "db", "id", "-un").out == "nobody\n"
    r = project("exec", "nothing", "true", check=False)
    assert "no such service: nothing" in r.err
    # run: a one-off container of the service, with the service's volumes and network, removed with --rm
    r = project("run", "--rm", "worker", "sh", "-c", "cat /etc/hostname; echo $FOO; exit 7", check=False)
    assert r.code == 7
    assert not [c for c in engine_.containers.list(all=True) if "run" in c.name]
    r = project("run", "--rm", "-e", "FOO=bar", "db", "sh", "-c", "echo $FOO; cat /data/ready")
    assert r.out == "bar\nready\n"
    r = project("run", "-d", "--name", "oneoff", "worker")
    assert r.out.strip() == "oneoff"
    one = engine_.containers.get("oneoff")
    assert one.labels["com.docker.compose.oneoff"] == "True"
    assert one.labels["com.docker.compose.service"] == "worker"
    assert one.status == "running"
    # one-off containers are not the service's: ps leaves them out, ps -a shows them, down removes them
    assert "oneoff" not in project("ps").out
    assert "oneoff" in project("ps", "-a").out
    r = project("run", "--rm", "--entrypoint", "echo", "worker", "from", "entrypoint")
    assert r.out == "from entrypoint\n"


def test_top_images_ls_port(cli, busybox, project, tmp_path):
    project("up", "-d", "db")
    top = project("top").out.splitlines()
    assert top[0] == "demo-db-1"
    assert top[1].split()[:3] == ["UID", "PID", "PPID"] and top[1].split()[-1] == "CMD"
    assert any("echo ready" in line for line in top[2:])
    images = project("images").out.splitlines()
    assert images[0].split() == ["CONTAINER", "REPOSITORY", "TAG", "IMAGE", "ID", "SIZE"]
    assert images[1].split()[:3] == ["demo-db-1", "busybox", "latest"]
    ls = cli("compose", "ls").out.splitlines()
    assert ls[0].split() == ["NAME", "STATUS", "CONFIG", "FILES"]
    assert ls[1].split() == ["demo", "running(1)", project.path]
    assert json.loads(cli("compose", "ls", "--format", "json").out) == [
        {"Name": "demo", "Status": "running(1)", "ConfigFiles": project.path}
    ]
    assert cli("compose", "ls", "-q").out == "demo\n"
    project("stop", "-t", "1")
    assert cli("compose", "ls").out.splitlines()[1:] == []
    assert cli("compose", "ls", "-a").out.splitlines()[1].split()[:2] == ["demo", "exited(1)"]
    # port: the published address of a service's port
    ported = tmp_path / "ported" / "compose.yaml"
    ported.parent.mkdir()
    ported.write_text(
        "services:\n  p:\n    image: busybox:latest\n    command: [sleep, '30']\n"
        "    ports: ['127.0.0.1:18431:80', '127.0.0.1:18432:53/udp']\n    networks: [inner]\nnetworks:\n  inner:\n    internal: true\n"
    )
    cli("compose", "-f", str(ported), "up", "-d")
    assert cli("compose", "-f", str(ported), "port", "p", "80").out == "127.0.0.1:18431\n"
    assert (
        cli("compose", "-f", str(ported), "port", "--protocol", "udp", "p", "53").out == "127.0.0.1:18432\n"
    )
    assert "no port 81/tcp" in cli.fails("compose", "-f", str(ported), "port", "p", "81").err
    cli("compose", "-f", str(ported), "kill")
    cli("compose", "-f", str(ported), "down")


def test_attached_up_streams_logs_and_returns_the_exit_code(cli, busybox, tmp_path):
    path = tmp_path / "compose.yaml"
    path.write_text(
        """\
services:
  job:
    image: busybox:latest
    command: ["sh", "-c", "sleep 0.3; echo job done; exit 3"]
    network_mode: none
  side:
    image: busybox:latest
    command: ["sh", "-c", "trap 'exit 0' TERM; echo side up; while true; do sleep 0.1; done"]
    network_mode: none
"""
    )
    r = cli("compose", "-f", str(path), "-p", "att", "up", "--exit-code-from", "job", check=False)
    assert r.code == 3, r.err
    assert "att-job-1   | job done\n" in r.out
    assert "att-side-1  | side up\n" in r.out
    assert "att-job-1 exited with code 3" in r.out.replace("   |", "")
    assert "Attaching to att-job-1, att-side-1" in r.err
    assert "Aborting on container exit..." in r.err
    states = {c.name: c.status for c in __import__("engine").Engine(cli.root).containers.list(all=True)}
    assert states == {"att-job-1": "exited", "att-side-1": "exited"}
    cli("compose", "-f", str(path), "-p", "att", "down")


def test_attached_up_stops_on_interrupt(cli, busybox, tmp_path):
    path = write_project(str(tmp_path / "demo"), COMPOSE)
    env = {**os.environ, "DOCKYARD_ROOT": cli.root}
    p = subprocess.Popen(
        [DOCKYARD, "compose", "-f", path, "-p", "demo", "up", "worker", "db"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    from engine import Engine

    eng = Engine(cli.root)
    while time.monotonic() < deadline:
        if {c.name for c in eng.containers.list()} == {"demo-db-1", "demo-worker-1"}:
            break
        time.sleep(0.1)
    time.sleep(0.5)
    p.send_signal(2)
    out, err = p.communicate(timeout=30)
    assert b"Gracefully stopping..." in err
    assert re.search(rb"demo-worker-1  \| working [0-9a-f]{12}", out), out
    assert {c.status for c in eng.containers.list(all=True)} == {"exited"}
    cli("compose", "-f", path, "-p", "demo", "down", "-v")


def test_refusals_and_errors(project, cli):
    # flags refused on purpose say why, with status 125
    r = project("--dry-run", "up", "-d", check=False)
    assert r.code == 125 and "--dry-run is not supported" in r.err
    r = project("up", "--watch", check=False)
    assert r.code == 125 and "--watch is not supported" in r.err
    assert project("--compatibility", "ps", check=False).code == 125
    assert project("up", "-d", "--always-recreate-deps", check=False).code == 125
    assert cli("ps", "-aq").out == ""  # nothing was made
    r = project("up", "-d", "--abort-on-container-exit", check=False)
    assert "incompatible" in r.err
    r = project("down", "--rmi", "some", check=False)
    assert "invalid value for --rmi" in r.err
    r = cli.fails("compose", "-f", "/nonexistent/compose.yaml", "ps")
    assert "/nonexistent/compose.yaml" in r.err


def test_create_build_scale_wait_cp_commit_export_version(project, cli, engine_, tmp_path):
    r = project("create", "db")
    assert "Container demo-db-1  Created" in r.err
    assert engine_.containers.get("demo-db-1").status == "created"
    r = project("build", "web")
    assert "Service web  Built" in r.err
    assert engine_.images.resolve("demo-web")
    project("build", "--no-cache", "-q", "web")
    project("up", "-d")
    r = project("scale", "worker=2")
    assert "Container demo-worker-2  Started" in r.err
    assert "demo-worker-1  Recreate" not in r.err
    # wait: blocks until a container of the service stops, with its exit code
    env = {**os.environ, "DOCKYARD_ROOT": cli.root}
    waiter = subprocess.Popen(
        [DOCKYARD, "compose", "-f", project.path, "-p", "demo", "wait", "web"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )  # fmt: skip
    time.sleep(0.5)
    assert waiter.poll() is None
    cli("exec", "demo-web-1", "sh", "-c", "kill -TERM 1")
    assert waiter.wait(timeout=20) == 0
    # cp both ways
    (tmp_path / "in.txt").write_text("copied in\n")
    project("cp", str(tmp_path / "in.txt"), "db:/data/in.txt")
    assert cli("exec", "demo-db-1", "cat", "/data/in.txt").out == "copied in\n"
    project("cp", "db:/data/ready", str(tmp_path / "out.txt"))
    assert (tmp_path / "out.txt").read_text() == "ready\n"
    project("cp", "--index", "2", str(tmp_path / "in.txt"), "worker:/tmp/x")
    assert cli("exec", "demo-worker-2", "cat", "/tmp/x").out == "copied in\n"
    # commit and export a service container
    image_id = project("commit", "db", "demo-db-snapshot:1").out.strip()
    assert engine_.images.resolve("demo-db-snapshot:1") == image_id
    project("export", "-o", str(tmp_path / "db.tar"), "db")
    import tarfile

    with tarfile.open(tmp_path / "db.tar") as t:
        assert "bin/busybox" in t.getnames()
    assert project("version", "--short").out.strip().count(".") == 2
    assert project("version").out.startswith("Docker Compose version v")
    assert json.loads(project("version", "--format", "json").out)["version"].startswith("v")
    r = project("viz", check=False)
    assert r.code == 125 and "'compose viz' is not supported" in r.err
    stats = project("stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}}").out.split("\n")
    assert sorted(line.split()[0] for line in stats if line) == [
        "demo-db-1",
        "demo-worker-1",
        "demo-worker-2",
    ]
    # pull with the missing policy: busybox is here, so nothing is fetched
    r = project("pull", "--policy", "missing", "worker")
    assert "Pulling" not in r.err


def test_a_service_named_on_the_command_line_runs_whatever_its_profiles(cli, busybox, tmp_path):
    path = tmp_path / "compose.yaml"
    path.write_text(
        """\
services:
  app:
    image: busybox:latest
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
    network_mode: none
  debug:
    image: busybox:latest
    command: ["echo", "debugging"]
    profiles: [tools]
    network_mode: none
"""
    )
    cli("compose", "-f", str(path), "-p", "prof", "up", "-d")
    assert cli(
        "compose", "-f", str(path), "-p", "prof", "ps", "-a", "--format", "{{.Service}}"
    ).out.split() == ["app"]
    assert cli("compose", "-f", str(path), "-p", "prof", "run", "--rm", "debug").out == "debugging\n"
    cli("compose", "-f", str(path), "-p", "prof", "up", "-d", "debug")
    assert (
        "prof-debug-1" in cli("compose", "-f", str(path), "-p", "prof", "--profile", "tools", "ps", "-a").out
    )
    r = cli("compose", "-f", str(path), "-p", "prof", "down", "-t", "1")
    assert "orphan" not in r.err and "Container prof-debug-1  Removed" in r.err
    assert cli("ps", "-aq").out == ""


def test_orphans_warned_then_removed(project, cli, engine_):
    project("up", "-d", "worker")
    with open(project.path) as f:
        text = f.read()
    with open(project.path, "w") as f:
        f.write(text.replace("  worker:", "  helper:"))
    r = project("up", "-d", "helper")
    assert "Found orphan containers ([demo-worker-1]) for this project" in r.err
    assert engine_.containers.get("demo-worker-1").status == "running"
    r = project("down", "-t", "1")
    assert "Found orphan containers ([demo-worker-1])" in r.err
    assert [c.name for c in engine_.containers.list(all=True)] == ["demo-worker-1"]
    r = project("up", "-d", "--remove-orphans", "helper")
    assert "Container demo-worker-1  Removed" in r.err
    assert "demo-worker-1" not in {c.name for c in engine_.containers.list(all=True)}


def test_secrets_configs_restart_policy_and_refused_keys(cli, busybox, tmp_path):
    (tmp_path / "token.txt").write_text("s3cret\n")
    (tmp_path / "app.conf").write_text("level=debug\n")
    path = tmp_path / "compose.yaml"
    path.write_text(
        """\
services:
  app:
    image: busybox:latest
    command: ["sh", "-c", "cat /run/secrets/token /app.conf /etc/other.conf; exit 1"]
    network_mode: none
    secrets: [token]
    configs:
      - app.conf
      - source: app.conf
        target: /etc/other.conf
    deploy:
      restart_policy: {condition: on-failure, max_attempts: 2}
secrets:
  token: {file: ./token.txt}
configs:
  app.conf: {file: ./app.conf}
"""
    )
    cli("compose", "-f", str(path), "-p", "sec", "up", "-d")
    eng = __import__("engine").Engine(cli.root)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        c = eng.containers.get("sec-app-1")
        if c.status == "exited" and c.restart_count == 2:
            break
        time.sleep(0.2)
    assert c.restart_count == 2, c
    assert cli("logs", "sec-app-1").out.startswith("s3cret\nlevel=debug\nlevel=debug\n")
    r = cli(
        "compose",
        "-f",
        str(path),
        "-p",
        "sec",
        "run",
        "--rm",
        "app",
        "sh",
        "-c",
        "echo x > /run/secrets/token",
        check=False,
    )
    assert r.code != 0  # secrets are read-only
    cli("compose", "-f", str(path), "-p", "sec", "down")
    path.write_text(
        "services:\n  a:\n    image: busybox:latest\n    network_mode: none\n    links: [b]\n"
        "  b:\n    image: busybox:latest\n    network_mode: none\n"
    )
    r = cli.fails("compose", "-f", str(path), "up", "-d")
    assert "service a: links is not supported" in r.err
    assert cli("ps", "-aq").out == ""  # refused before anything was made


def test_events(project, cli):
    project("up", "-d", "worker")
    env = {**os.environ, "DOCKYARD_ROOT": cli.root}
    base = [DOCKYARD, "compose", "-f", project.path, "-p", "demo", "events"]
    plain = subprocess.Popen([*base, "worker"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    js = subprocess.Popen([*base, "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    time.sleep(1)
    project("restart", "-t", "1", "--no-deps", "worker")
    time.sleep(1)
    plain.terminate()
    js.terminate()
    lines = plain.communicate(timeout=10)[0].decode().splitlines()
    records = [json.loads(line) for line in js.communicate(timeout=10)[0].decode().splitlines()]
    assert any(
        re.fullmatch(
            r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} container start [0-9a-f]{64} \(image=busybox:latest, name=demo-worker-1\)",
            ln,
        )
        for ln in lines
    ), lines
    assert {"stop", "start"} <= {r["action"] for r in records if r["service"] == "worker"}
    assert all(r["type"] == "container" for r in records)


def test_build_push_and_pull_through_a_local_registry(cli, busybox, tmp_path, monkeypatch):
    import shutil

    if shutil.which("docker-registry") is None:
        pytest.skip("docker-registry is not installed")
    from tests.engine.registry.helpers import Registry

    monkeypatch.setenv("DOCKYARD_AUTH_FILE", str(tmp_path / "auth.json"))
    registry = Registry(str(tmp_path / "registry"))
    try:
        path = write_project(str(tmp_path / "demo"))
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write(
                text.replace(
                    "    build: ./web\n", f"    build: ./web\n    image: {registry.host}/demo/web:1\n"
                )
            )

        def compose(*args):
            return cli("compose", "-f", path, "-p", "demo", *args)

        compose("build", "web")
        r = compose("push", "web")
        assert f"Image {registry.host}/demo/web:1  Pushed" in r.err
        image_id = cli("images", "-q", f"{registry.host}/demo/web:1").out.strip()
        cli("rmi", f"{registry.host}/demo/web:1")
        r = compose("pull", "web")
        assert f"Image {registry.host}/demo/web:1  Pulled" in r.err
        assert cli("images", "-q", f"{registry.host}/demo/web:1").out.strip() == image_id
        assert cli("run", "--rm", f"{registry.host}/demo/web:1", "cat", "/built").out == "built by compose\n"
    finally:
        registry.stop()
