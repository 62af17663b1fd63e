"""``dockyard compose config`` against Docker Compose 1.29.2's ``docker-compose config`` (Debian's package) on
the same projects: the parsed outputs are equal once docker-compose's output is normalised for the
differences docs/COMPOSE.md lists, and only those (each ``_normalise`` step is one item of that list)."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import textwrap

import pytest
import yaml

from tests.conftest import DOCKYARD

DOCKER_COMPOSE = shutil.which("docker-compose")
pytestmark = pytest.mark.skipif(DOCKER_COMPOSE is None, reason="docker-compose is not installed (make deps)")

#: the environment both commands see: no COMPOSE_* variables of the caller's
BASE_ENV = {k: v for k, v in os.environ.items() if not k.startswith(("COMPOSE_", "DOCKER_"))}


def _write(d, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = d / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def _run(argv: list[str], cwd, env: dict[str, str]) -> dict:
    p = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, f"{shlex.join(argv)} exited {p.returncode}\n{p.stdout}\n{p.stderr}"
    return yaml.safe_load(p.stdout)


# ----------------------------------------------------------------------------------------------------------
# docker-compose 1.29.2's output in the shapes dockyard (and Compose v2) print, one documented difference each
# ----------------------------------------------------------------------------------------------------------


def _port(spec) -> list[dict]:
    """1.29.2 prints a port with a host IP in short syntax, the others in long syntax without protocol and
    mode and with ``published`` as a number: Compose v2 (and dockyard) print every port in long syntax."""
    if isinstance(spec, dict):
        out = {
            "mode": spec.get("mode", "ingress"),
            "protocol": spec.get("protocol", "tcp"),
            "target": spec["target"],
        }
        if spec.get("published") is not None:
            out["published"] = str(spec["published"])
        if spec.get("host_ip"):
            out["host_ip"] = spec["host_ip"]
        return [out]
    text, _, proto = str(spec).partition("/")
    parts = text.split(":")
    ip, published, target = (
        parts if len(parts) == 3 else ["", *parts] if len(parts) == 2 else ["", "", parts[0]]
    )
    out = {"mode": "ingress", "protocol": proto or "tcp", "target": int(target)}
    if published:
        out["published"] = published
    if ip:
        out["host_ip"] = ip
    return [out]


def _volume(spec) -> dict:
    """1.29.2 prints short-syntax volumes as strings (adding ``:rw``); v2 and dockyard in long syntax, a short
    bind with ``bind.create_host_path: true`` and a volume with ``volume: {}``."""
    if isinstance(spec, dict):
        out = dict(spec)
        if out.get("type") == "volume":
            out.setdefault("volume", {})
        return out
    parts = spec.split(":")
    if len(parts) == 1:
        return {"type": "volume", "target": parts[0], "volume": {}}
    source, target, mode = parts[0], parts[1], (parts[2] if len(parts) > 2 else "rw")
    if source.startswith("/"):
        out = {"type": "bind", "source": source, "target": target, "bind": {"create_host_path": True}}
    else:
        out = {"type": "volume", "source": source, "target": target, "volume": {}}
    if "ro" in mode.split(","):
        out["read_only"] = True
    return out


def _seconds(duration: str) -> float:
    """A Go duration ("1m30s", "90s", "500ms") in seconds."""
    import re

    scale = {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 1e-6, "ns": 1e-9}
    return sum(float(n) * scale[u] for n, u in re.findall(r"([0-9.]+)(ms|us|ns|h|m|s)", duration))


def _same_order(doc: dict) -> dict:
    """What both sides get before the comparison: 10. healthcheck durations as seconds (1.29.2 rewrites
    "1m30s" as "90s", v2 and dockyard keep what was written); 11. a service's volumes in target order (1.29.2
    orders them so after merging files, v2 and dockyard keep the files' order)."""
    for svc in (doc.get("services") or {}).values():
        hc = svc.get("healthcheck") or {}
        for key in ("interval", "timeout", "start_period"):
            if key in hc:
                hc[key] = _seconds(hc[key])
        if "volumes" in svc:
            svc["volumes"] = sorted(svc["volumes"], key=lambda v: v["target"])
    return doc


def _normalise(doc: dict, project: str, profiles: set[str]) -> dict:
    doc = dict(doc)
    # 1. 1.29.2 prints the file format's version; v2 and dockyard print none
    doc.pop("version", None)
    # 2. v2 and dockyard print the project's name
    doc = {"name": project, **doc}
    services = {}
    for name, svc in (doc.get("services") or {}).items():
        svc = dict(svc)
        # 3. 1.29.2 prints the services every profile enables; v2 and dockyard only the active profiles'
        if svc.get("profiles") and not (set(svc["profiles"]) & profiles):
            continue
        if "ports" in svc:
            svc["ports"] = [p for spec in svc["ports"] for p in _port(spec)]
        if "volumes" in svc:
            svc["volumes"] = [_volume(v) for v in svc["volumes"]]
        # 4. a command or entrypoint written as a string: 1.29.2 prints the string, v2 and dockyard the
        #    words a shell would make of it
        for key in ("command", "entrypoint"):
            if isinstance(svc.get(key), str):
                svc[key] = shlex.split(svc[key].replace("$$", "$")).copy()
                svc[key] = [w.replace("$", "$$") for w in svc[key]]
        # 5. a healthcheck test written as a string: v2 and dockyard print ["CMD-SHELL", string]
        hc = svc.get("healthcheck")
        if hc and isinstance(hc.get("test"), str):
            svc["healthcheck"] = {**hc, "test": ["CMD-SHELL", hc["test"]]}
        # 6. depends_on: v2 and dockyard print each dependency's ``required`` too
        if "depends_on" in svc:
            svc["depends_on"] = {k: {**v, "required": True} for k, v in svc["depends_on"].items()}
        # 14. environment values written as numbers: 1.29.2 prints numbers, v2 and dockyard strings
        if isinstance(svc.get("environment"), dict):
            svc["environment"] = {k: None if v is None else str(v) for k, v in svc["environment"].items()}
        # 15. a disabled healthcheck: 1.29.2 prints test: [NONE], v2 and dockyard disable: true
        if (svc.get("healthcheck") or {}).get("test") == ["NONE"] and len(svc["healthcheck"]) == 1:
            svc["healthcheck"] = {"disable": True}
        # 9. expose: v2 and dockyard print each port as a string
        if "expose" in svc:
            svc["expose"] = [str(e) for e in svc["expose"]]
        # 7. extra_hosts written as a mapping: v2 and dockyard print the list form "HOST:IP"
        if isinstance(svc.get("extra_hosts"), dict):
            svc["extra_hosts"] = [f"{h}:{ip}" for h, ip in svc["extra_hosts"].items()]
        services[name] = svc
    doc["services"] = services
    # 8. networks and volumes: v2 and dockyard print each one's real name (PROJECT_KEY unless set)
    for kind in ("networks", "volumes"):
        if doc.get(kind):
            named = {}
            for key, spec in doc[kind].items():
                spec = dict(spec or {})
                external = spec.get("external")
                if isinstance(external, dict):
                    spec["name"] = external["name"]
                    spec["external"] = True
                spec.setdefault("name", key if external else f"{project}_{key}")
                named[key] = spec
            doc[kind] = named
    return doc


def _compare(tmp_path, root: str, args: list[str], *, project: str, profiles=(), env=None, cwd=None) -> dict:
    environ = {**BASE_ENV, **(env or {}), "DOCKYARD_ROOT": root}
    cwd = cwd or tmp_path
    profile_args = [a for p in profiles for a in ("--profile", p)]
    theirs = _run([DOCKER_COMPOSE, *profile_args, *args, "config"], cwd, environ)
    ours = _run([DOCKYARD, "compose", *profile_args, *args, "config"], cwd, environ)
    import copy

    assert _same_order(copy.deepcopy(ours)) == _same_order(_normalise(theirs, project, set(profiles)))
    ours_json = subprocess.run(
        [DOCKYARD, "compose", *profile_args, *args, "config", "--format", "json"],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    import json

    assert json.loads(ours_json) == ours
    return ours


def test_interpolation_with_dot_env(tmp_path, root):
    _write(
        tmp_path,
        {
            "docker-compose.yml": """
                services:
                  app:
                    image: "busybox:${TAG:-latest}"
                    command: echo "${GREETING-hello} $$HOME ${UNSET:-fallback} ${EMPTY:-empty} ${EMPTY-kept}"
                    environment:
                      FROM_DOT_ENV: ${FROM_DOT_ENV}
                      OVERRIDDEN: ${OVERRIDDEN}
                      BRACED: "${TAG}"
                      BARE: "$TAG"
                    labels:
                      - "port=${PORT:-8080}"
                    ports:
                      - "${PORT:-8080}:80"
                """,
            ".env": "TAG=1.36\nFROM_DOT_ENV='from .env'\nOVERRIDDEN=by-dot-env\nEMPTY=\nPORT=9090\n",
        },
    )
    ours = _compare(tmp_path, root, [], project=tmp_path.name.lower(), env={"OVERRIDDEN": "by-environment"})
    app = ours["services"]["app"]
    assert app["image"] == "busybox:1.36"
    assert app["environment"]["FROM_DOT_ENV"] == "from .env"
    assert app["environment"]["OVERRIDDEN"] == "by-environment"
    assert app["command"] == ["echo", "hello $$HOME fallback empty "]
    assert app["ports"][0]["published"] == "9090"


def test_two_files_merged(tmp_path, root):
    (tmp_path / "data").mkdir()
    _write(
        tmp_path,
        {
            "base.yml": """
                services:
                  web:
                    image: busybox
                    command: ["sleep", "1"]
                    environment: [A=1, B=2]
                    labels: {one: "1"}
                    ports: ["8080:80"]
                    volumes: ["./data:/data", "cache:/cache"]
                    cap_add: [NET_ADMIN]
                    dns: [10.0.0.1]
                  db:
                    image: busybox
                volumes:
                  cache: {}
                """,
            "override.yml": """
                services:
                  web:
                    command: sleep 2
                    environment: {B: "3", C: "4"}
                    labels: [two=2]
                    ports: ["8081:81"]
                    volumes: ["./data:/cache:ro"]
                    cap_add: [SYS_TIME]
                    dns: 10.0.0.2
                  db:
                    image: busybox:1.36
                    restart: always
                """,
        },
    )
    ours = _compare(
        tmp_path, root, ["-f", "base.yml", "-f", "override.yml", "-p", "merged"], project="merged"
    )
    web = ours["services"]["web"]
    assert web["command"] == ["sleep", "2"]
    assert web["environment"] == {"A": "1", "B": "3", "C": "4"}
    assert [p["target"] for p in web["ports"]] == [80, 81]
    assert [v["target"] for v in web["volumes"]] == ["/data", "/cache"]
    assert web["volumes"][1]["read_only"] is True


def test_default_files_and_override(tmp_path, root):
    _write(
        tmp_path,
        {
            "docker-compose.yml": "services:\n  s:\n    image: busybox\n    environment: [X=1]\n",
            "docker-compose.override.yml": "services:\n  s:\n    environment: [Y=2]\n    tty: true\n",
        },
    )
    sub = tmp_path / "sub"
    sub.mkdir()
    ours = _compare(tmp_path, root, [], project=tmp_path.name.lower(), cwd=sub)
    assert ours["services"]["s"]["environment"] == {"X": "1", "Y": "2"}


def test_extends(tmp_path, root):
    _write(
        tmp_path,
        {
            "common/base.yml": """
                services:
                  base:
                    image: busybox
                    environment: {FROM: base, KEEP: kept}
                    cap_add: [NET_ADMIN]
                    labels: {layer: base}
                """,
            "docker-compose.yml": """
                services:
                  local:
                    image: busybox
                    user: "1000"
                    command: echo local
                  child:
                    extends: {service: local}
                    command: echo child
                  remote:
                    extends:
                      file: common/base.yml
                      service: base
                    environment: {FROM: remote}
                    labels: {layer: remote}
                """,
        },
    )
    ours = _compare(tmp_path, root, [], project=tmp_path.name.lower())
    assert ours["services"]["child"]["user"] == "1000"
    assert ours["services"]["remote"]["environment"] == {"FROM": "remote", "KEEP": "kept"}


def test_profiles(tmp_path, root):
    _write(
        tmp_path,
        {
            "docker-compose.yml": """
                services:
                  always:
                    image: busybox
                  debug:
                    image: busybox
                    profiles: [debug]
                  tools:
                    image: busybox
                    profiles: [tools, debug]
                  other:
                    image: busybox
                    profiles: [other]
                """
        },
    )
    ours = _compare(tmp_path, root, [], project=tmp_path.name.lower(), profiles=["debug"])
    assert sorted(ours["services"]) == ["always", "debug", "tools"]
    none = _compare(tmp_path, root, [], project=tmp_path.name.lower())
    assert sorted(none["services"]) == ["always"]


def test_short_and_long_syntax(tmp_path, root):
    (tmp_path / "ctx").mkdir()
    _write(
        tmp_path,
        {
            "compose.yaml": """
                services:
                  short:
                    build: ./ctx
                    ports: ["3000", "8000:8000", "127.0.0.1:9000:9000/udp", "5353:53/udp"]
                    expose: ["4000", 5000]
                    volumes: ["/srv:/srv:ro", "named:/named", "/anonymous"]
                    depends_on: [long]
                    environment: [A=1, "B=two words", C]
                    healthcheck:
                      test: "wget -q -O- localhost"
                      interval: 10s
                    extra_hosts: ["host1:10.0.0.5"]
                    tmpfs: /run
                    entrypoint: /bin/sh -c
                  long:
                    image: busybox
                    build:
                      context: ./ctx
                      dockerfile: Other.Dockerfile
                      args: {VERSION: "1"}
                      target: final
                    ports:
                      - target: 80
                        published: 8080
                        protocol: tcp
                        mode: host
                      - target: 443
                        published: "8443"
                    volumes:
                      - type: bind
                        source: /srv
                        target: /srv
                        read_only: true
                      - type: volume
                        source: named
                        target: /data
                        volume: {nocopy: true}
                      - type: tmpfs
                        target: /tmp
                        tmpfs: {size: 1000}
                    depends_on:
                      db:
                        condition: service_healthy
                    environment: {A: "1", B: ""}
                    healthcheck:
                      test: ["CMD", "true"]
                      interval: 1m30s
                      timeout: 5s
                      retries: 3
                      start_period: 2s
                    extra_hosts: {host2: 10.0.0.6}
                    deploy:
                      replicas: 2
                      resources:
                        limits: {cpus: "0.5", memory: 64M}
                    networks:
                      front:
                        aliases: [web]
                        ipv4_address: 10.9.0.5
                      back:
                    restart: on-failure
                    stop_grace_period: 1m
                    stop_signal: SIGINT
                    init: true
                    read_only: true
                    cap_drop: [ALL]
                    privileged: false
                    hostname: long-host
                    working_dir: /work
                  db:
                    image: busybox
                    healthcheck: {test: ["CMD-SHELL", "true"]}
                networks:
                  front:
                    internal: true
                    ipam:
                      config: [{subnet: 10.9.0.0/24}]
                    labels: {purpose: test}
                  back:
                    external: true
                volumes:
                  named:
                    labels: [kind=named]
                """
        },
    )
    ours = _compare(tmp_path, root, ["-p", "syntax"], project="syntax", env={"C": "from-env"})
    short = ours["services"]["short"]
    assert short["environment"] == {"A": "1", "B": "two words", "C": "from-env"}
    assert short["depends_on"] == {"long": {"condition": "service_started", "required": True}}
    assert short["ports"][2] == {
        "mode": "ingress",
        "protocol": "udp",
        "target": 9000,
        "published": "9000",
        "host_ip": "127.0.0.1",
    }
    assert ours["networks"]["front"]["name"] == "syntax_front"
    assert ours["volumes"]["named"]["name"] == "syntax_named"


def test_anchors_extensions_secrets_and_passthrough_keys(tmp_path, root):
    _write(
        tmp_path,
        {
            "docker-compose.yml": """
                x-common: &common
                  image: busybox
                  restart: unless-stopped
                  environment:
                    NUM: 5
                    FLOAT: 1.5
                    WORD: "yes"
                services:
                  a:
                    <<: *common
                    container_name: a-ctr
                    tmpfs: [/run, /tmp]
                    secrets: [s1]
                    configs: [c1]
                    healthcheck: {disable: true}
                    user: "1000:1000"
                    working_dir: /w
                    stop_signal: SIGTERM
                    mem_limit: 64m
                    cpus: 0.5
                    pids_limit: 10
                    ulimits: {nofile: {soft: 10, hard: 20}}
                    sysctls: [net.core.somaxconn=1024]
                    dns: 8.8.8.8
                    network_mode: none
                    logging: {driver: json-file, options: {max-size: 1m}}
                  b:
                    build:
                      context: ctx
                      labels: [a=b]
                      target: t
                    networks:
                      ext:
                        aliases: [x]
                    volumes:
                      - type: volume
                        source: vext
                        target: /v
                    deploy:
                      resources:
                        reservations: {memory: 32M}
                        limits: {cpus: "0.25"}
                secrets:
                  s1: {file: ./secret.txt}
                configs:
                  c1: {file: ./config.txt}
                networks:
                  ext: {external: true, name: realnet}
                volumes:
                  vext: {external: true}
            """,
            "secret.txt": "s",
            "config.txt": "c",
            "ctx/Dockerfile": "FROM busybox\n",
        },
    )
    ours = _compare(tmp_path, root, ["-p", "anchors"], project="anchors")
    assert ours["services"]["a"]["environment"] == {"NUM": "5", "FLOAT": "1.5", "WORD": "yes"}
    assert ours["networks"]["ext"] == {"name": "realnet", "external": True}
