"""``dockyard kube generate PROJECT``: a running compose project (two services, one of two replicas, a
named volume, a healthcheck, an internal network) as Deployments, Services and a claim that pass kube
play's schema check; after ``compose down -v``, ``kube play`` of that YAML runs containers with the same
image, env, command, limits, healthcheck and volume, and ``kube play --down`` removes them."""

from __future__ import annotations

import json

import pytest
import yaml

from engine import Kube

pytestmark = pytest.mark.timeout(180)

COMPOSE = """\
services:
  web:
    image: demo/box:1
    command: ["sh", "-c", "trap 'exit 0' TERM; echo $$GREETING > /tmp/said; while true; do sleep 0.1; done"]
    environment:
      GREETING: hello
    expose: ["8080"]
    deploy:
      replicas: 2
    depends_on: [db]
    networks: [back]
  db:
    image: demo/box:1
    command: ["sh", "-c", "trap 'exit 0' TERM; echo ready > /data/ready; while true; do sleep 0.1; done"]
    environment:
      ROLE: store
    mem_limit: 64m
    volumes:
      - data:/data
    healthcheck:
      test: ["CMD", "test", "-f", "/data/ready"]
      interval: 1s
      retries: 3
    networks: [back]
networks:
  back:
    internal: true
volumes:
  data:
"""

WEB_CMD = ["sh", "-c", "trap 'exit 0' TERM; echo $GREETING > /tmp/said; while true; do sleep 0.1; done"]


def docs_of(text: str) -> list[dict]:
    return [d for d in yaml.safe_load_all(text) if d is not None]


def names(cli) -> set[str]:
    return set(cli("ps", "-a", "--format", "{{.Names}}").out.split())


def running(cli, name: str) -> dict:
    return json.loads(cli("inspect", name).out)[0]


@pytest.fixture
def compose(cli, busybox, tmp_path):
    cli("tag", busybox, "demo/box:1")
    path = tmp_path / "compose.yaml"
    path.write_text(COMPOSE)

    def run(*args, check=True):
        return cli("compose", "-f", str(path), "-p", "demo", *args, check=check, timeout=90)

    yield run
    run("down", "-v", "-t", "1", check=False)


def test_generate_a_compose_project_and_play_it(compose, cli, engine_, tmp_path):
    compose("up", "-d", "--wait")
    assert names(cli) == {"demo-web-1", "demo-web-2", "demo-db-1"}
    out = tmp_path / "demo.yaml"
    r = cli("kube", "generate", "-f", str(out), "demo")
    # what the manifest cannot say is named, on stderr and in the YAML
    for warning in (
        "service web: depends_on (db) is not expressed",
        "volume demo_data is claimed as demo-data",
        "the project's networks (demo_back) are not expressed",
        "service db: a Deployment's pods restart Always; the service's restart policy (no) is not kept",
    ):
        assert f"WARNING: {warning}" in r.err
        assert f"# NOTE: {warning}" in out.read_text()
    # the same schema check as kube play's
    assert Kube.validate(str(out)) == 4
    docs = docs_of(out.read_text())
    assert [(d["kind"], d["metadata"]["name"]) for d in docs] == [
        ("PersistentVolumeClaim", "demo-data"),
        ("Deployment", "db"),
        ("Deployment", "web"),
        ("Service", "web"),
    ]
    claim, db, web, svc = docs
    assert claim["spec"]["resources"]["requests"]["storage"] == "1Gi"
    assert web["spec"]["replicas"] == 2 and db["spec"]["replicas"] == 1
    assert web["spec"]["selector"] == {"matchLabels": {"app": "web"}}
    assert svc["spec"] == {
        "ports": [{"name": "8080-tcp", "port": 8080, "protocol": "TCP", "targetPort": 8080}],
        "selector": {"app": "web"},
    }
    (wctr,) = web["spec"]["template"]["spec"]["containers"]
    assert wctr["name"] == "web" and wctr["image"] == "demo/box:1"
    assert wctr["args"] == WEB_CMD and wctr["env"] == [{"name": "GREETING", "value": "hello"}]
    (dctr,) = db["spec"]["template"]["spec"]["containers"]
    assert dctr["livenessProbe"] == {
        "exec": {"command": ["test", "-f", "/data/ready"]},
        "periodSeconds": 1,
        "failureThreshold": 3,
    }
    assert dctr["resources"] == {"limits": {"memory": "64Mi"}}
    assert dctr["volumeMounts"] == [{"name": "demo-data", "mountPath": "/data"}]
    assert db["spec"]["template"]["spec"]["volumes"] == [
        {"name": "demo-data", "persistentVolumeClaim": {"claimName": "demo-data"}}
    ]
    # --type pod: a Pod per service, the replicas named
    r = cli("kube", "generate", "--type", "pod", "demo")
    assert [d["kind"] for d in docs_of(r.out)] == ["PersistentVolumeClaim", "Pod", "Pod", "Service"]
    assert "service web: a Pod is one of its 2 containers" in r.err
    r = cli.fails("kube", "generate", "--replicas", "3", "demo")
    assert "--replicas cannot be used with compose project demo" in r.err
    # a container's name wins over a project's; a name that is neither is not found
    assert [d["kind"] for d in docs_of(cli("kube", "generate", "demo-db-1").out)] == ["Pod"]
    cli.fails("kube", "generate", "nothere", code=125)

    compose("down", "-v", "-t", "1")
    assert names(cli) == set() and "demo_data" not in cli("volume", "ls", "-q").out.split()

    r = cli("kube", "play", str(out))
    assert names(cli) == {
        "web-pod-0-web",
        "web-pod-0-infra",
        "web-pod-1-web",
        "web-pod-1-infra",
        "db-pod-db",
        "db-pod-infra",
    }
    for name in ("web-pod-0-web", "web-pod-1-web"):
        info = running(cli, name)
        assert info["Config"]["Image"] == "demo/box:1" and info["Config"]["Cmd"] == WEB_CMD
        assert "GREETING=hello" in info["Config"]["Env"]
        assert cli("exec", name, "sh", "-c", "cat /tmp/said; echo $GREETING").out == "hello\nhello\n"
    info = running(cli, "db-pod-db")
    assert "ROLE=store" in info["Config"]["Env"]
    assert info["HostConfig"]["Memory"] == 64 * 1024 * 1024
    assert info["Config"]["Healthcheck"]["Test"] == ["CMD", "test", "-f", "/data/ready"]
    assert [(m["Type"], m["Name"], m["Destination"]) for m in info["Mounts"]] == [
        ("volume", "demo-data", "/data")
    ]
    assert cli("exec", "db-pod-db", "cat", "/data/ready").out == "ready\n"

    r = cli("kube", "play", "--down", "--force", str(out))
    assert "Volumes removed:\ndemo-data" in r.out
    assert names(cli) == set() and cli("volume", "ls", "-q").out.split() == []
