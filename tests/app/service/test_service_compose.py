"""docker-compose (Debian's 1.29, on docker-py) driving the Engine API service: a three-service project with
an internal network, a named volume, a healthcheck and ``depends_on: condition: service_healthy``, brought
up, listed, logged, restarted, recreated and brought down with nothing left behind. Its image is the test's
busybox under the name the project file uses: compose never pulls."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.root]

IMAGE = "shop-base:1"

# Each service runs under an init (tini), which passes compose's SIGTERM on: stops take no grace period.
# db writes its greeting only after two seconds and is healthy only then: app, which starts once db is
# healthy, reads it at once, so its log shows it only if compose waited for the health status.
PROJECT_FILE = f"""
services:
  db:
    image: {IMAGE}
    init: true
    command: ["sh", "-c", "echo db starting; sleep 2; echo hello-from-db > /data/greeting; touch /data/ready; echo db ready; exec sleep 3600"]
    volumes:
      - dbdata:/data
    networks: [inner]
    healthcheck:
      test: ["CMD", "test", "-f", "/data/ready"]
      interval: 1s
      timeout: 2s
      retries: 30
  web:
    image: {IMAGE}
    init: true
    command: ["sh", "-c", "mkdir -p /www && echo web-page > /www/index.html && echo web serving && exec httpd -f -p 80 -h /www"]
    networks: [inner]
  app:
    image: {IMAGE}
    init: true
    command: ["sh", "-c", "echo app sees $$(cat /data/greeting); wget -q -O - http://web/index.html; echo app done; exec sleep 3600"]
    volumes:
      - dbdata:/data
    networks: [inner]
    depends_on:
      db:
        condition: service_healthy
      web:
        condition: service_started
networks:
  inner:
    internal: true
volumes:
  dbdata:
"""


@dataclass
class Result:
    code: int
    out: str
    err: str


class Compose:
    """``docker-compose -p shop`` in the project's directory, talking to the service (its ``run`` hands the
    container's input and output to Docker's client, as it does by default)."""

    def __init__(self, url: str, directory: str) -> None:
        binary = shutil.which("docker-compose")
        if binary is None:
            pytest.skip("docker-compose is not installed: apt-get install docker-compose")
        self.binary = binary
        self.dir = directory
        config = os.path.join(directory, ".docker")
        os.makedirs(config, exist_ok=True)
        self.env = {
            **os.environ,
            "DOCKER_HOST": url,
            "DOCKER_CONFIG": config,
        }
        for key in ("DOCKER_API_VERSION", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "COMPOSE_FILE"):
            self.env.pop(key, None)

    def __call__(self, *args: str, check: bool = True, timeout: float = 120) -> Result:
        p = subprocess.run(
            [self.binary, "--ansi", "never", "-p", "shop", *args],
            cwd=self.dir,
            env=self.env,
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
        )
        r = Result(p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace"))
        if check and r.code != 0:
            raise AssertionError(
                f"docker-compose {' '.join(args)} exited {r.code}\nstdout:{r.out}\nstderr:{r.err}"
            )
        return r


@pytest.fixture
def compose(service, busybox, engine_, tmp_path) -> Compose:
    engine_.images.tag(busybox, IMAGE)
    project = tmp_path / "shop"
    project.mkdir()
    (project / "docker-compose.yml").write_text(PROJECT_FILE)
    return Compose(service.url, str(project))


def _prefixed(logs: str) -> dict[str, list[str]]:
    """``logs --no-color``'s lines by service (compose's ``NAME_1  | line`` prefix)."""
    out: dict[str, list[str]] = {}
    for line in logs.splitlines():
        m = re.match(r"^(\w+)_1\s+\| (.*)$", line)
        if m:
            out.setdefault(m.group(1), []).append(m.group(2))
    return out


def _wait_logs(compose: Compose, service: str, last: str) -> dict[str, list[str]]:
    deadline = time.monotonic() + 30
    while True:
        lines = _prefixed(compose("logs", "--no-color").out)
        if last in lines.get(service, []) or time.monotonic() > deadline:
            return lines
        time.sleep(0.2)


def _cgroup_dirs(pid: int) -> list[str]:
    """The cgroup directories of process ``pid`` that belong to a dockyard root."""
    dirs = []
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f:
            _n, controllers, path = line.rstrip("\n").split(":", 2)
            if "dockyard" not in path:
                continue
            first = controllers.split(",")[0].removeprefix("name=") if controllers else ""
            dirs.append(f"/sys/fs/cgroup/{first}{path}" if first else f"/sys/fs/cgroup{path}")
    return dirs


def _gone(path: str, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while os.path.exists(path):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _shop_containers(engine_) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(c.name for c in engine_.containers.list(all=True) if c.name.startswith("shop_"))


def test_compose_up_ps_logs_down(compose, engine_, docker) -> None:
    compose("up", "-d")
    assert _shop_containers(engine_) == ["shop_app_1", "shop_db_1", "shop_web_1"]

    # logs: each service's lines under compose's prefix; app read db's file (the shared volume, written
    # only once db was healthy) and fetched web's page by service name over the internal network
    lines = _wait_logs(compose, "app", "app done")
    assert lines["db"] == ["db starting", "db ready"]
    assert lines["web"] == ["web serving"]
    assert lines["app"] == ["app sees hello-from-db", "web-page", "app done"]

    # ps: every service up, db healthy
    rows = {r.split()[0]: r for r in compose("ps").out.splitlines() if r.startswith("shop_")}
    assert sorted(rows) == ["shop_app_1", "shop_db_1", "shop_web_1"]
    assert "Up (healthy)" in rows["shop_db_1"]
    assert all(" Up " in r + " " for r in rows.values())
    assert compose("exec", "-T", "app", "wget", "-q", "-O", "-", "http://web/index.html").out == "web-page\n"

    # the network is internal (no route out of the containers) and shows only the options it was given, so
    # a second up finds everything as it wants it
    net = engine_.networks.get("shop_inner")
    assert net.internal
    assert docker("network", "inspect", "-f", "{{json .Options}}", "shop_inner").out.strip() == "{}"
    routes = compose("exec", "-T", "app", "ip", "route").out
    assert "default" not in routes and "dev eth0" in routes
    again = compose("up", "-d")
    assert again.err.count("is up-to-date") == 3, again.err

    # one volume, the named one: the paths it is mounted at get no anonymous volume as well
    assert [v.name for v in engine_.volumes.list()] == ["shop_dbdata"]
    with open(os.path.join(engine_.volumes.get("shop_dbdata").mountpoint, "greeting")) as f:
        assert f.read() == "hello-from-db\n"

    pids = [engine_.containers.inspect(n)["State"]["Pid"] for n in _shop_containers(engine_)]
    cgroups = [d for pid in pids for d in _cgroup_dirs(pid)]
    assert cgroups
    ids = [engine_.containers.inspect(n)["Id"] for n in _shop_containers(engine_)]

    # down: containers and network gone, the volume kept; with its bridge, endpoints and cgroups
    compose("down")
    assert _shop_containers(engine_) == []
    assert "shop_inner" not in {n.name for n in engine_.networks.list()}
    assert _gone(f"/sys/class/net/{net.bridge}"), f"bridge {net.bridge} left behind"
    for i in ids:  # each container's interface on the host is dyv<its ID><the network's ID>, six of each
        assert _gone(f"/sys/class/net/dyv{i[:6]}{net.id[:6]}"), f"the interface of {i[:12]} left behind"
    for d in cgroups:
        assert _gone(d), f"cgroup {d} left behind"
    assert [v.name for v in engine_.volumes.list()] == ["shop_dbdata"]

    # up again: the volume still holds db's file; down -v removes it too
    compose("up", "-d")
    assert compose("exec", "-T", "app", "cat", "/data/greeting").out == "hello-from-db\n"
    out = compose("down", "-v").err
    assert "Removing volume shop_dbdata" in out
    assert _shop_containers(engine_) == []
    assert engine_.volumes.list() == []
    assert [n.name for n in engine_.networks.list()] == ["bridge", "host", "none"]


def test_compose_restart_and_recreate_keep_the_network(compose, engine_, docker_py) -> None:
    """Containers restarted together keep their interfaces once the idle ones are swept (the name of a
    stopped container's interface comes back when it starts again), and a forced recreate works: compose
    reads image inspect's ContainerConfig, which the API versions before 1.44 have. Before that, a one-off
    ``run --rm`` starts what its service depends on, prints its command's output and is removed."""
    out = compose("run", "--rm", "-T", "app", "sh", "-c", "cat /data/greeting; wget -q -O - http://web/").out
    assert out == "hello-from-db\nweb-page\n"
    assert _shop_containers(engine_) == ["shop_db_1", "shop_web_1"]
    compose("up", "-d")
    _wait_logs(compose, "app", "app done")
    compose("restart")
    time.sleep(2.5)  # past the sweep of the interfaces the stops left (DOCKYARD_NET_LINGER, 1 s)
    for name in ("db", "web", "app"):
        assert "eth0" in compose("exec", "-T", name, "ip", "-o", "link").out, name
    assert compose("exec", "-T", "app", "wget", "-q", "-O", "-", "http://web/index.html").out == "web-page\n"

    assert docker_py.api.inspect_image(IMAGE)["ContainerConfig"]["Volumes"] is None
    before = {n: engine_.containers.inspect(n)["Id"] for n in _shop_containers(engine_)}
    compose("up", "-d", "--force-recreate")
    after = {n: engine_.containers.inspect(n)["Id"] for n in _shop_containers(engine_)}
    assert sorted(after) == sorted(before) and not set(after.values()) & set(before.values())
    assert compose("exec", "-T", "app", "cat", "/data/greeting").out == "hello-from-db\n"
    assert compose("exec", "-T", "app", "wget", "-q", "-O", "-", "http://web/index.html").out == "web-page\n"
    compose("down", "-v")
    assert _shop_containers(engine_) == [] and engine_.volumes.list() == []
