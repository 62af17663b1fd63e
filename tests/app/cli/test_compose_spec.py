"""The Compose Specification's features, each in a project of our own that runs offline (busybox only, no
network or an internal one): the application model (services, networks, volumes, configs, secrets), YAML
fragments and ``x-`` extensions, interpolation, merging several files (``!reset``, ``!override``),
``include`` and profiles. Each is read by ``compose config`` and, where it runs containers, brought up and
down, checking what the containers see."""

from __future__ import annotations

import os

import pytest
import yaml

pytestmark = pytest.mark.timeout(180)

LOOP = '["sh", "-c", "trap \'exit 0\' TERM; while true; do sleep 0.1; done"]'


def _files(d: str, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = os.path.join(d, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)


@pytest.fixture
def spec(cli, busybox, tmp_path):
    """``spec(files)`` lays a project out and returns a runner of ``dockyard compose`` in it; ``down -v``
    follows each test."""
    made: list[tuple[str, list[str]]] = []

    def lay(files: dict[str, str], *compose_files: str, project: str = "spec"):  # type: ignore[no-untyped-def]
        d = str(tmp_path / project)
        _files(d, files)
        flags = [a for f in compose_files for a in ("-f", os.path.join(d, f))]
        made.append((project, flags))

        def compose(*args: str, check: bool = True):  # type: ignore[no-untyped-def]
            return cli("compose", *flags, "-p", project, *args, check=check)

        compose.dir = d  # type: ignore[attr-defined]
        return compose

    yield lay
    for project, flags in made:
        cli("compose", *flags, "-p", project, "down", "-v", "-t", "1", check=False)


def _config(compose) -> dict:  # type: ignore[no-untyped-def]
    return yaml.safe_load(compose("config").out)


def test_application_model(spec, cli, engine_):
    """A front service on two networks with a config and a secret from files, a back service writing to a
    named volume (labels, driver options of the local driver) that a backup service reads."""
    compose = spec(
        {
            "compose.yaml": f"""\
services:
  frontend:
    image: busybox:latest
    command: {LOOP}
    networks: [front-tier, back-tier]
    configs:
      - httpd-config
    secrets:
      - server-certificate
  backend:
    image: busybox:latest
    command: ["sh", "-c", "echo stored > /etc/data/record; trap 'exit 0' TERM; while true; do sleep 0.1; done"]
    volumes:
      - db-data:/etc/data
    networks: [back-tier]
  backup:
    image: busybox:latest
    command: {LOOP}
    depends_on: [backend]
    volumes:
      - db-data:/var/lib/backup/data:ro
    networks: [back-tier]
volumes:
  db-data:
    driver: local
    labels:
      com.example.description: "Database volume"
      com.example.label-with-empty-value: ""
configs:
  httpd-config:
    file: ./httpd.conf
secrets:
  server-certificate:
    file: ./server.cert
networks:
  front-tier:
    internal: true
  back-tier:
    internal: true
""",
            "httpd.conf": "Listen 8043\n",
            "server.cert": "CERTIFICATE\n",
        },
        "compose.yaml",
    )
    model = _config(compose)
    assert set(model["services"]) == {"frontend", "backend", "backup"}
    assert set(model["networks"]) == {"front-tier", "back-tier"}
    assert model["volumes"]["db-data"]["labels"]["com.example.description"] == "Database volume"
    assert model["configs"]["httpd-config"]["file"] == os.path.join(compose.dir, "httpd.conf")
    compose("up", "-d")
    assert cli("exec", "spec-frontend-1", "cat", "/httpd-config").out == "Listen 8043\n"
    assert cli("exec", "spec-frontend-1", "cat", "/run/secrets/server-certificate").out == "CERTIFICATE\n"
    nets = cli(
        "inspect", "-f", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}", "spec-frontend-1"
    )
    assert sorted(nets.out.split()) == ["spec_back-tier", "spec_front-tier"]
    assert cli("exec", "spec-backup-1", "cat", "/var/lib/backup/data/record").out == "stored\n"
    volume = engine_.volumes.get("spec_db-data")
    assert volume.labels["com.docker.compose.volume"] == "db-data"
    assert volume.labels["com.example.label-with-empty-value"] == ""
    compose("down", "-v")
    assert cli("ps", "-aq").out == "" and cli("volume", "ls", "-q").out == ""


def test_volumes_names_labels_and_external(spec, cli):
    cli("volume", "create", "actual-name-of-volume")
    cli("run", "--rm", "-v", "actual-name-of-volume:/v", "busybox", "sh", "-c", "echo outside > /v/made")
    compose = spec(
        {
            "compose.yaml": f"""\
services:
  app:
    image: busybox:latest
    command: {LOOP}
    network_mode: none
    volumes:
      - data:/data
      - db-data:/ext
volumes:
  data:
    name: "my-app-data"
    labels:
      - "com.example.department=IT/Ops"
      - "com.example.label-with-empty-value"
  db-data:
    external: true
    name: ${{DATABASE_VOLUME}}
""",
            ".env": "DATABASE_VOLUME=actual-name-of-volume\n",
        },
        "compose.yaml",
    )
    model = _config(compose)
    assert model["volumes"]["data"]["name"] == "my-app-data"
    assert model["volumes"]["data"]["labels"] == {
        "com.example.department": "IT/Ops",
        "com.example.label-with-empty-value": "",
    }
    assert model["volumes"]["db-data"] == {"name": "actual-name-of-volume", "external": True}
    compose("up", "-d")
    assert cli("exec", "spec-app-1", "cat", "/ext/made").out == "outside\n"
    assert "my-app-data" in cli("volume", "ls", "-q").out.split()  # the name as given, not scoped
    compose("down", "-v")
    volumes = cli("volume", "ls", "-q").out.split()
    assert "actual-name-of-volume" in volumes and "my-app-data" not in volumes  # external: left alone


def test_fragments_and_extensions(spec, cli):
    compose = spec(
        {
            "compose.yaml": f"""\
x-custom:
  foo: [bar, zot]
x-loop: &loop
  command: {LOOP}
  network_mode: none
x-environment: &default-environment
  FOO: BAR
  ZOT: QUIX
x-keys: &keys
  KEY: VALUE
services:
  first:
    <<: *loop
    image: busybox:latest
    x-foo: bar
    environment: &env
      - CONFIG_KEY=one
      - EXAMPLE_KEY=two
    volumes: [db-data:/a, metrics:/b]
  second:
    <<: *loop
    image: busybox:latest
    environment: *env
  third:
    <<: *loop
    image: busybox:latest
    environment:
      <<: [*default-environment, *keys]
      YET_ANOTHER: VARIABLE
      ZOT: overridden
volumes:
  db-data: &default-volume
    driver: local
    name: "data"
  metrics:
    <<: *default-volume
    name: "metrics"
""",
        },
        "compose.yaml",
    )
    model = _config(compose)
    assert model["volumes"]["metrics"] == {"name": "metrics", "driver": "local"}
    assert model["volumes"]["db-data"]["name"] == "data"
    assert model["services"]["second"]["environment"] == {"CONFIG_KEY": "one", "EXAMPLE_KEY": "two"}
    assert model["services"]["third"]["environment"] == {
        "FOO": "BAR", "ZOT": "overridden", "KEY": "VALUE", "YET_ANOTHER": "VARIABLE"
    }  # fmt: skip
    assert model["services"]["first"]["network_mode"] == "none"
    compose("up", "-d")
    env = cli("exec", "spec-third-1", "env").out.splitlines()
    assert {"FOO=BAR", "ZOT=overridden", "KEY=VALUE", "YET_ANOTHER=VARIABLE"} <= set(env)
    assert "EXAMPLE_KEY=two" in cli("exec", "spec-second-1", "env").out.splitlines()
    assert {"data", "metrics"} <= set(cli("volume", "ls", "-q").out.split())


def test_interpolation(spec, cli):
    compose = spec(
        {
            "compose.yaml": """\
services:
  web:
    image: busybox:latest
    network_mode: none
    command: ["sh", "-c", "echo $$HOSTNAME-${GREETING:-hello}-${EMPTY-unset}-${EMPTY:-empty}-${MISSING:-${NESTED:-deep}}; sleep 1000"]
    labels:
      "$NOT_A_KEY": "BAR"
    environment:
      - "STAGE=${STAGE?the stage must be set}"
  tagged:
    image: busybox:latest
    network_mode: none
    labels:
      - "${LABEL_KEY}=BAR"
""",
            ".env": "STAGE=test\nEMPTY=\nLABEL_KEY=com.example.key\n",
        },
        "compose.yaml",
    )
    model = _config(compose)
    web = model["services"]["web"]
    assert web["command"][2].startswith("echo $$HOSTNAME-hello--empty-deep;")
    assert web["labels"] == {"$NOT_A_KEY": "BAR"}  # keys are not interpolated
    assert web["environment"] == {"STAGE": "test"}
    assert model["services"]["tagged"]["labels"] == {"com.example.key": "BAR"}  # the list form is
    compose("up", "-d", "web")
    logs = ""
    for _ in range(50):
        logs = cli("logs", "spec-web-1").out
        if logs:
            break
        import time

        time.sleep(0.1)
    hostname = cli("inspect", "-f", "{{.Config.Hostname}}", "spec-web-1").out.strip()
    assert logs == f"{hostname}-hello--empty-deep\n"  # $$ left for the container's shell
    os.remove(os.path.join(compose.dir, ".env"))
    r = compose("config", check=False)
    assert r.code != 0 and "the stage must be set" in r.err


def test_merging_files(spec, cli):
    compose = spec(
        {
            "compose.yaml": """\
services:
  app:
    image: busybox:latest
    network_mode: none
    command: ["echo", "foo"]
    dns: [10.0.0.1]
    environment:
      FOO: BAR
      KEEP: yes
    labels:
      key1: value1
      key2: value2
    volumes:
      - foo:/work
    ports:
      - "8080:80"
volumes:
  foo:
  bar:
""",
            "compose.override.yaml": f"""\
services:
  app:
    command: {LOOP}
    dns: [10.0.0.2]
    environment:
      FOO: !reset null
    labels:
      key2: VALUE
      key3: value3
    volumes:
      - bar:/work
    ports: !override
      - "127.0.0.1:8443:443"
""",
        },
        "compose.yaml",
        "compose.override.yaml",
    )
    app = _config(compose)["services"]["app"]
    assert app["labels"] == {"key1": "value1", "key2": "VALUE", "key3": "value3"}  # mappings merge
    assert app["dns"] == ["10.0.0.1", "10.0.0.2"]  # sequences append
    assert app["command"][0] == "sh"  # a command is replaced
    assert app["environment"] == {"KEEP": "yes"}  # !reset
    assert [v["source"] for v in app["volumes"]] == ["bar"]  # one volume per target
    assert [(p["target"], p["published"]) for p in app["ports"]] == [(443, "8443")]  # !override
    # a third file resets the ports (no port is published with network_mode none): the merge runs
    with open(os.path.join(compose.dir, "no-ports.yaml"), "w") as f:
        f.write("services:\n  app:\n    ports: !reset []\n")
    three = [
        a
        for n in ("compose.yaml", "compose.override.yaml", "no-ports.yaml")
        for a in ("-f", os.path.join(compose.dir, n))
    ]
    assert "ports" not in yaml.safe_load(cli("compose", *three, "config").out)["services"]["app"]
    cli("compose", *three, "-p", "spec", "up", "-d")
    env = cli("exec", "spec-app-1", "env").out.splitlines()
    assert "KEEP=yes" in env and not any(e.startswith("FOO=") for e in env)
    assert cli(
        "inspect", "-f", "{{range .Mounts}}{{.Name}}:{{.Destination}}{{end}}", "spec-app-1"
    ).out.strip() == ("spec_bar:/work")


def test_include(spec, cli, tmp_path):
    compose = spec(
        {
            "commons/compose.yaml": f"""\
services:
  included-service:
    image: busybox:latest
    network_mode: none
    command: {LOOP}
    env_file: ./common.env
""",
            "commons/common.env": "FROM_COMMONS=yes\n",
            "another/compose.yaml": f"""\
services:
  other:
    image: busybox:latest
    network_mode: none
    command: {LOOP}
    environment:
      OTHER: ${{OTHER_VALUE}}
""",
            "another/.env": "OTHER_VALUE=from another/.env\n",
            "another/dev.env": "OTHER_VALUE=from dev.env\n",
            "app/compose.yaml": f"""\
include:
  - ../commons/compose.yaml
  - path: ../another/compose.yaml
    env_file:
      - ../another/.env
      - ../another/dev.env
services:
  webapp:
    image: busybox:latest
    network_mode: none
    command: {LOOP}
    depends_on:
      - included-service
      - other
""",
        },
        "app/compose.yaml",
    )
    model = _config(compose)
    assert set(model["services"]) == {"webapp", "included-service", "other"}
    assert model["services"]["other"]["environment"] == {"OTHER": "from dev.env"}  # the later env file wins
    compose("up", "-d", "webapp")  # its dependencies from the included files come up with it
    running = sorted(cli("ps", "--format", "{{.Names}}").out.split())
    assert running == ["spec-included-service-1", "spec-other-1", "spec-webapp-1"]
    # the included file's relative env_file is read from its own directory
    assert "FROM_COMMONS=yes" in cli("exec", "spec-included-service-1", "env").out.splitlines()


def test_profiles(spec, cli):
    files = {
        "compose.yaml": f"""\
x-base: &base
  image: busybox:latest
  network_mode: none
  command: {LOOP}
services:
  foo:
    <<: *base
  bar:
    <<: *base
    profiles: [test]
  baz:
    <<: *base
    depends_on: [bar]
    profiles: [test]
  zot:
    <<: *base
    depends_on: [bar]
    profiles: [debug]
"""
    }
    compose = spec(files, "compose.yaml")

    def services(*profiles: str) -> list[str]:
        flags = [a for p in profiles for a in ("--profile", p)]
        r = cli("compose", "-f", os.path.join(compose.dir, "compose.yaml"), *flags, "config", "--services")
        return sorted(r.out.split())

    assert services() == ["foo"]
    assert services("test") == ["bar", "baz", "foo"]
    assert services("debug", "test") == ["bar", "baz", "foo", "zot"]
    # naming a service enables it, and its dependency comes with it
    compose("up", "-d", "baz")
    assert sorted(cli("ps", "--format", "{{.Names}}").out.split()) == ["spec-bar-1", "spec-baz-1"]
    # zot's dependency bar is under a profile that is not active
    r = cli(
        "compose",
        "-f",
        os.path.join(compose.dir, "compose.yaml"),
        "--profile",
        "debug",
        "config",
        check=False,
    )
    assert r.code != 0 and "bar" in r.err


def test_what_is_refused(spec, cli):
    """The examples that need what dockyard does not have (a Swarm store of configs and secrets, other
    volume drivers) are refused with the reason before anything is made."""
    compose = spec(
        {
            "compose.yaml": """\
services:
  app:
    image: busybox:latest
    network_mode: none
    secrets: [token, server-certificate]
secrets:
  token:
    environment: "OAUTH_TOKEN"
  server-certificate:
    external: true
""",
        },
        "compose.yaml",
    )
    r = compose("up", "-d", check=False)
    assert r.code == 1 and "secret token is not from a file" in r.err and "from files only" in r.err
    compose = spec(
        {
            "compose.yaml": """\
services:
  app:
    image: busybox:latest
    network_mode: none
    volumes: [example:/data]
volumes:
  example:
    driver: foobar
""",
        },
        "compose.yaml",
        project="drivers",
    )
    r = compose("up", "-d", check=False)
    assert r.code != 0 and "foobar" in r.err
    assert cli("ps", "-aq").out == ""
