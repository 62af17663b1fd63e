"""``dockyard compose up -d``, ``ps``, ``logs``, ``--scale``, recreation of what changed and ``down -v`` on a
real three-service project (tests/app/cli/compose_project.py) on an internal network."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time

import pytest

from tests.app.cli.compose_project import write_project
from tests.conftest import DOCKYARD

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def project(cli, busybox, tmp_path):
    """The project's compose file, and a function running ``dockyard compose -f FILE -p demo ...``."""
    path = write_project(str(tmp_path / "demo"))

    def compose(*args, check=True, timeout=90):
        return cli("compose", "-f", path, "-p", "demo", *args, check=check, timeout=timeout)

    compose.path = path
    yield compose
    compose("down", "-v", "-t", "1", check=False)


def _ids(engine_):
    return {c.name: c.id for c in engine_.containers.list(all=True)}


def test_up_starts_in_dependency_order_after_the_database_is_healthy(project, cli, engine_):
    r = project("up", "-d")
    lines = [ln.strip() for ln in r.err.splitlines()]
    # Compose's progress lines, in the order the work was done
    order = [
        "Network demo_back  Created",
        'Volume "demo_data"  Created',
        "Container demo-db-1  Created",
        "Container demo-db-1  Started",
        "Container demo-db-1  Healthy",
        "Container demo-web-1  Started",
    ]
    at = [lines.index(x) for x in order]
    assert at == sorted(at), r.err
    assert lines.index("Container demo-worker-1  Started") > lines.index("Container demo-db-1  Started")
    # the database was healthy before web started: its file exists and web's image was built from its Dockerfile
    assert cli("exec", "demo-db-1", "cat", "/data/ready").out == "ready\n"
    assert cli("exec", "demo-web-1", "cat", "/built").out == "built by compose\n"
    web = engine_.containers.get("demo-web-1")
    assert web.image == "demo-web"
    db = engine_.containers.get("demo-db-1")
    assert db.health == "healthy"
    # Compose's labels and names
    labels = db.labels
    assert labels["com.docker.compose.project"] == "demo"
    assert labels["com.docker.compose.service"] == "db"
    assert labels["com.docker.compose.container-number"] == "1"
    assert labels["com.docker.compose.oneoff"] == "False"
    assert labels["com.docker.compose.project.config_files"] == project.path
    assert labels["com.docker.compose.project.working_dir"] == os.path.dirname(project.path)
    assert re.fullmatch(r"[0-9a-f]{64}", labels["com.docker.compose.config-hash"])
    assert labels["com.docker.compose.version"]
    net = json.loads(cli("network", "inspect", "demo_back").out)[0]
    assert net["Internal"] is True
    assert net["Labels"]["com.docker.compose.project"] == "demo"
    assert net["Labels"]["com.docker.compose.network"] == "back"
    vol = json.loads(cli("volume", "inspect", "demo_data").out)[0]
    assert vol["Labels"]["com.docker.compose.volume"] == "data"
    # the services reach each other by name on the internal network (/etc/hosts holds the aliases)
    hosts = cli("exec", "demo-web-1", "cat", "/etc/hosts").out
    assert re.search(r"\sdb(\s|$)", hosts) and re.search(r"\sdemo-worker-1(\s|$)", hosts), hosts
    # a second up changes nothing
    again = project("up", "-d")
    assert "Recreate" not in again.err and "Creating" not in again.err
    assert "Container demo-web-1  Running" in again.err


def test_ps_prints_compose_columns_and_json(project):
    project("up", "-d")
    out = project("ps").out.splitlines()
    assert re.split(r"\s{2,}", out[0].strip()) == [
        "NAME",
        "IMAGE",
        "COMMAND",
        "SERVICE",
        "CREATED",
        "STATUS",
        "PORTS",
    ]
    rows = {re.split(r"\s{2,}", ln)[0]: ln for ln in out[1:]}
    assert set(rows) == {"demo-db-1", "demo-web-1", "demo-worker-1"}
    assert "(healthy)" in rows["demo-db-1"] and " db " in rows["demo-db-1"]
    assert "demo-web" in rows["demo-web-1"]
    records = [json.loads(line) for line in project("ps", "--format", "json").out.splitlines()]
    by_name = {r["Name"]: r for r in records}
    assert by_name["demo-db-1"]["Service"] == "db"
    assert by_name["demo-db-1"]["Project"] == "demo"
    assert by_name["demo-db-1"]["State"] == "running"
    assert by_name["demo-db-1"]["Health"] == "healthy"
    assert by_name["demo-web-1"]["Image"] == "demo-web"
    assert by_name["demo-worker-1"]["Publishers"] == []
    assert project("ps", "--services").out.split() == ["db", "web", "worker"]
    assert len(project("ps", "-q").out.split()) == 3
    project("stop", "-t", "1", "worker")
    assert "demo-worker-1" not in project("ps").out
    assert (
        project("ps", "-a", "--format", "{{.Name}} {{.State}}").out.splitlines()[-1] == "demo-worker-1 exited"
    )
    assert project("ps", "--status", "exited", "--format", "{{.Name}}").out.split() == ["demo-worker-1"]
    assert "invalid status" in project("ps", "--status", "sleeping", check=False).err


def test_logs_merged_with_prefixes_tail_timestamps_and_follow(project, cli):
    project("up", "-d")
    out = project("logs").out
    assert "demo-db-1      | db up\n" in out
    assert "demo-web-1     | built by compose\n" in out
    assert re.search(r"^demo-worker-1  \| working [0-9a-f]{12}$", out, re.M), out
    assert "\x1b[" not in out  # no colours when standard output is not a terminal
    assert project("logs", "--no-log-prefix", "web").out == "built by compose\n"
    stamped = project("logs", "-t", "db").out
    assert re.fullmatch(r"demo-db-1  \| \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z db up\n", stamped), stamped
    cli("exec", "demo-db-1", "sh", "-c", "echo extra >> /proc/1/fd/1")
    assert project("logs", "--tail", "1", "db").out == "demo-db-1  | extra\n"
    coloured = project("--ansi", "always", "logs", "web").out
    assert coloured.startswith("\x1b[") and "|\x1b[0m built by compose" in coloured
    # -f follows until the containers stop
    env = {**os.environ, "DOCKYARD_ROOT": cli.root}
    follow = subprocess.Popen(
        [DOCKYARD, "compose", "-f", project.path, "-p", "demo", "logs", "-f", "db", "worker"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )  # fmt: skip
    time.sleep(0.5)
    cli("exec", "demo-db-1", "sh", "-c", "echo later >> /proc/1/fd/1")
    project("up", "-d", "--scale", "worker=2")  # a container made meanwhile is followed too
    time.sleep(1.5)
    project("stop", "-t", "2", "db", "worker")
    out_f, _ = follow.communicate(timeout=20)
    assert follow.returncode == 0
    assert b"demo-db-1      | later\n" in out_f
    assert b"demo-worker-1  | working" in out_f
    assert re.search(rb"demo-worker-2  \| working [0-9a-f]{12}", out_f), out_f


def test_logs_are_coloured_on_a_terminal(project, cli):
    import pty

    project("up", "-d", "web")
    master, slave = pty.openpty()
    env = {**os.environ, "DOCKYARD_ROOT": cli.root}
    p = subprocess.run(
        [DOCKYARD, "compose", "-f", project.path, "-p", "demo", "logs", "web"],
        stdout=slave, stderr=subprocess.PIPE, env=env, timeout=30,
    )  # fmt: skip
    os.close(slave)
    data = os.read(master, 65536)
    os.close(master)
    assert p.returncode == 0
    assert data.startswith(b"\x1b[36mdemo-web-1  |\x1b[0m built by compose"), data


def test_scale_and_back(project, engine_):
    project("up", "-d")
    r = project("up", "-d", "--scale", "worker=3")
    assert "Container demo-worker-3  Started" in r.err
    workers = sorted(
        c.name for c in engine_.containers.list() if c.labels["com.docker.compose.service"] == "worker"
    )
    assert workers == ["demo-worker-1", "demo-worker-2", "demo-worker-3"]
    numbers = {c.labels["com.docker.compose.container-number"] for c in engine_.containers.list()}
    assert numbers == {"1", "2", "3"}
    # each replica is its own container on the network: its own hostname in its own log
    logs = project("logs", "worker").out
    assert len(set(re.findall(r"working ([0-9a-f]{12})", logs))) == 3
    r = project("up", "-d", "--scale", "worker=1")
    assert "Container demo-worker-3  Removed" in r.err and "Container demo-worker-2  Removed" in r.err
    assert [c.name for c in engine_.containers.list(all=True) if "worker" in c.name] == ["demo-worker-1"]
    assert "no such service: nope" in project("up", "-d", "--scale", "nope=2", check=False).err


def test_up_recreates_only_the_changed_service(project, engine_):
    project("up", "-d")
    before = _ids(engine_)
    with open(project.path) as f:
        text = f.read()
    with open(project.path, "w") as f:
        f.write(text.replace("echo working", "echo changed"))
    r = project("up", "-d")
    after = _ids(engine_)
    assert after["demo-worker-1"] != before["demo-worker-1"]
    assert after["demo-db-1"] == before["demo-db-1"]
    assert after["demo-web-1"] == before["demo-web-1"]
    assert "Container demo-worker-1  Recreated" in r.err
    assert "demo-db-1  Recreate" not in r.err and "demo-web-1  Recreate" not in r.err
    assert "changed" in project("logs", "worker").out
    old = engine_.containers.get("demo-db-1").labels["com.docker.compose.config-hash"]
    # --force-recreate recreates even what did not change
    project("up", "-d", "--force-recreate", "db")
    assert _ids(engine_)["demo-db-1"] != before["demo-db-1"]
    assert engine_.containers.get("demo-db-1").labels["com.docker.compose.config-hash"] == old


def test_down_v_leaves_nothing(project, cli, engine_):
    project("up", "-d", "--scale", "worker=2")
    bridge = "dy-" + json.loads(cli("network", "inspect", "demo_back").out)[0]["Id"][:12]
    assert os.path.exists(f"/sys/class/net/{bridge}")
    r = project("down", "-v")
    for line in ("Container demo-web-1  Removed", "Network demo_back  Removed", "Volume demo_data  Removed"):
        assert line in r.err
    # dependents go first: web is removed before the database it depends on
    assert r.err.index("demo-web-1  Removed") < r.err.index("demo-db-1  Removed")
    assert engine_.containers.list(all=True) == []
    assert [n.name for n in engine_.networks.list()] == ["bridge", "host", "none"]
    assert engine_.volumes.list() == []
    assert not os.path.exists(f"/sys/class/net/{bridge}")
    with open("/proc/mounts") as f:
        assert cli.root not in f.read()
    assert project("ps", "-a", "-q").out == ""
    # without -v the named volume stays, and its data with it
    project("up", "-d", "db")
    project("down")
    assert [v.name for v in engine_.volumes.list()] == ["demo_data"]


def test_down_by_project_name_alone(project, cli, tmp_path, monkeypatch):
    project("up", "-d", "worker")
    monkeypatch.chdir(tmp_path)  # no compose file here: the project is known by its labels
    assert cli("compose", "-p", "demo", "ps", "--format", "{{.Name}}").out.split() == [
        "demo-db-1",
        "demo-worker-1",
    ]
    assert "demo-worker-1  | working" in cli("compose", "-p", "demo", "logs").out
    cli("compose", "-p", "demo", "stop", "-t", "1")
    assert cli("compose", "-p", "demo", "ps", "-q").out == ""
    r = cli("compose", "-p", "demo", "start")
    assert "Container demo-worker-1  Started" in r.err
    assert len(cli("compose", "-p", "demo", "ps", "-q").out.split()) == 2
    r = cli("compose", "-p", "demo", "down")
    assert "Container demo-worker-1  Removed" in r.err and "Network demo_back  Removed" in r.err


def test_dependency_failures(cli, busybox, tmp_path):
    path = tmp_path / "compose.yaml"
    path.write_text(
        """\
services:
  init:
    image: busybox:latest
    command: ["sh", "-c", "exit 3"]
    network_mode: none
  sick:
    image: busybox:latest
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
    healthcheck: {test: ["CMD", "false"], interval: 100ms, retries: 2}
    network_mode: none
  after-init:
    image: busybox:latest
    depends_on: {init: {condition: service_completed_successfully}}
    network_mode: none
  after-sick:
    image: busybox:latest
    depends_on: {sick: {condition: service_healthy}}
    network_mode: none
  plain:
    image: busybox:latest
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
    network_mode: none
  after-plain:
    image: busybox:latest
    depends_on: {plain: {condition: service_healthy}}
    network_mode: none
"""
    )
    r = cli.fails("compose", "-f", str(path), "up", "-d", "after-init")
    assert 'service "init" didn\'t complete successfully: exit 3' in r.err
    assert r.code == 1
    r = cli.fails("compose", "-f", str(path), "up", "-d", "after-sick")
    assert "dependency failed to start: container" in r.err and "sick-1 is unhealthy" in r.err
    r = cli.fails("compose", "-f", str(path), "up", "-d", "after-plain")
    assert (
        "dependency failed to start: container" in r.err and "plain-1 has no healthcheck configured" in r.err
    )
    r = cli.fails("compose", "-f", str(path), "up", "-d", "nothing")
    assert "no such service: nothing" in r.err
    cli("compose", "-f", str(path), "down", "-t", "1")


def test_no_start_no_deps_wait_and_rmi(project, engine_):
    project("up", "--no-start")
    assert {c.status for c in engine_.containers.list(all=True)} == {"created"}
    assert len(engine_.containers.list(all=True)) == 3
    r = project("up", "-d", "--no-deps", "worker")
    assert "demo-db-1  Start" not in r.err
    assert engine_.containers.get("demo-worker-1").status == "running"
    assert engine_.containers.get("demo-db-1").status == "created"
    r = project("up", "--wait", "web")
    assert engine_.containers.get("demo-db-1").health == "healthy"
    assert engine_.containers.get("demo-web-1").status == "running"
    assert "Container demo-db-1  Healthy" in r.err
    r = project("down", "--rmi", "local")
    assert "Image demo-web  Removed" in r.err
    assert [t for im in engine_.images.list() for t in im.tags] == ["busybox:latest"]
    # run brings up the dependencies first, then the one-off container
    r = project("run", "--rm", "web", "cat", "/built")
    assert r.out == "built by compose\n"
    assert "Container demo-db-1  Started" in r.err and "Container demo-db-1  Healthy" in r.err
