"""Loading compose projects: errors that name the file, the line and the key; discovery, project names,
include, extends, env_file, profiles and the flags of ``dockyard compose config``."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap

import pytest
import yaml

from tests.conftest import DOCKYARD

#: no COMPOSE_* variables of the caller's; a root of its own (config never uses the engine's)
ENV = {k: v for k, v in os.environ.items() if not k.startswith(("COMPOSE_", "DOCKER_", "DOCKYARD_"))}
ENV["DOCKYARD_ROOT"] = "/nonexistent/dockyard-compose-config-tests"


def write(d, files: dict[str, str]) -> None:
    for name, text in files.items():
        (d / name).parent.mkdir(parents=True, exist_ok=True)
        (d / name).write_text(textwrap.dedent(text))


def compose(d, *args: str, env: dict[str, str] | None = None, input: str | None = None):
    return subprocess.run(
        [DOCKYARD, "compose", *args],
        cwd=d,
        env={**ENV, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        input=input,
    )


def model(d, *args: str, **kw) -> dict:
    p = compose(d, *args, "config", "--format", "json", **kw)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def error(d, *args: str, **kw) -> str:
    p = compose(d, *args, "config", **kw)
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    assert p.stdout == ""
    return p.stderr.strip()


# --- errors: file, line, key ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ("services:\n  web:\n    image: busybox\n    ports: 80\n", 4, "services.web.ports must be an array"),
        ("services:\n  web:\n    image: [busybox]\n", 3, "services.web.image must be a string"),
        (
            "services:\n  web:\n    image: busybox\n    bogus: 1\n",
            4,
            "services.web additional property 'bogus' is not allowed",
        ),
        (
            "services:\n  web:\n    image: busybox\n    depends_on:\n      db: {condition: sometimes}\n",
            5,
            "services.web.depends_on.db.condition must be one of: service_started, service_healthy, "
            "service_completed_successfully",
        ),
        (
            "services:\n  web:\n    image: busybox\n    deploy:\n      replicas: two\n",
            5,
            "services.web.deploy.replicas must be an integer",
        ),
        (
            "services:\n  web:\n    image: busybox\nbogus: {}\n",
            4,
            "(root) additional property 'bogus' is not allowed",
        ),
        (
            "services:\n  web:\n    image: busybox\n    ports: ['80:eighty']\n",
            4,
            "services.web.ports.0: invalid port '80:eighty'",
        ),
        (
            "services:\n  web:\n    image: busybox\n    volumes: ['/a:/b:rx']\n",
            4,
            "services.web.volumes.0: invalid mode 'rx' in '/a:/b:rx'",
        ),
        (
            "services:\n  web:\n    image: busybox\n    depends_on: [db]\n",
            4,
            'service "web" depends on undefined service "db": invalid compose project',
        ),
        (
            "services:\n  web:\n    image: busybox\n    networks: [front]\n",
            4,
            'service "web" refers to undefined network front: invalid compose project',
        ),
        (
            "services:\n  web:\n    image: busybox\n    volumes: ['data:/data']\n",
            4,
            'service "web" refers to undefined volume data: invalid compose project',
        ),
        (
            "services:\n  web:\n    restart: always\n",
            2,
            'service "web" has neither an image nor a build context specified',
        ),
        (
            'services:\n  web:\n    image: busybox\n    command: "echo \'unclosed"\n',
            4,
            "services.web.command: No closing quotation",
        ),
        ("- just\n- a list\n", 1, "top-level object must be a mapping"),
    ],
)
def test_bad_file_names_file_line_and_key(tmp_path, body, line, message):
    write(tmp_path, {"compose.yaml": body})
    assert error(tmp_path) == f"Error: {tmp_path}/compose.yaml:{line}: {message}"


def test_yaml_syntax_error(tmp_path):
    write(tmp_path, {"compose.yaml": "services:\n  web:\n    image: [busybox\n    ports: []\n"})
    message = error(tmp_path)
    assert message.startswith(f"Error: {tmp_path}/compose.yaml:")
    assert "invalid YAML (key 'image', line 3)" in message


def test_error_in_second_file_names_that_file(tmp_path):
    write(
        tmp_path,
        {
            "a.yml": "services:\n  web:\n    image: busybox\n",
            "b.yml": "services:\n  web:\n    environment:\n      - A=1\n    cap_add: NET_ADMIN\n",
        },
    )
    assert error(tmp_path, "-f", "a.yml", "-f", "b.yml") == (
        f"Error: {tmp_path}/b.yml:5: services.web.cap_add must be an array"
    )


def test_missing_files(tmp_path):
    assert error(tmp_path, "-f", "nope.yml") == f"Error: open {tmp_path}/nope.yml: no such file or directory"
    assert error(tmp_path).startswith("Error: no configuration file provided: not found")


def test_extends_cycle_and_missing_base(tmp_path):
    write(
        tmp_path,
        {
            "compose.yaml": "services:\n  a:\n    image: busybox\n    extends: b\n  b:\n    image: busybox\n    extends: a\n"
        },
    )
    assert "circular reference with extends" in error(tmp_path)
    write(tmp_path, {"compose.yaml": "services:\n  a:\n    extends: {service: nothere}\n"})
    assert error(tmp_path) == (
        f'Error: {tmp_path}/compose.yaml:3: services.a.extends: cannot extend service "nothere" of '
        f"{tmp_path}/compose.yaml: no such service"
    )


# --- project names -------------------------------------------------------------------------------------------


def test_project_name_rules(tmp_path):
    d = tmp_path / "My.Project_Dir"
    d.mkdir()
    write(d, {"compose.yaml": "services:\n  s:\n    image: busybox\n"})
    assert model(d)["name"] == "myproject_dir"
    assert model(d, "-p", "given")["name"] == "given"
    assert model(d, env={"COMPOSE_PROJECT_NAME": "fromenv"})["name"] == "fromenv"
    write(d, {".env": "COMPOSE_PROJECT_NAME=fromdotenv\n"})
    assert model(d)["name"] == "fromdotenv"
    os.unlink(d / ".env")
    write(d, {"compose.yaml": "name: fromfile\nservices:\n  s:\n    image: busybox\n"})
    assert model(d)["name"] == "fromfile"
    assert model(d, "-p", "flagwins")["name"] == "flagwins"
    assert "invalid project name 'Bad Name' (-p)" in error(d, "-p", "Bad Name")


def test_project_directory_and_paths(tmp_path):
    write(
        tmp_path,
        {
            "files/compose.yaml": """
                services:
                  s:
                    build: ./ctx
                    volumes: ["./data:/data", "~/cache:/cache"]
                    env_file: vars.env
            """,
            "files/vars.env": "FROM_FILES=1\n",
            "elsewhere/vars.env": "FROM_ELSEWHERE=1\n",
        },
    )
    m = model(tmp_path, "-f", "files/compose.yaml")
    s = m["services"]["s"]
    assert s["build"] == {"context": f"{tmp_path}/files/ctx"}
    assert [v["source"] for v in s["volumes"]] == [f"{tmp_path}/files/data", f"{os.environ['HOME']}/cache"]
    assert s["environment"] == {"FROM_FILES": "1"}
    m = model(tmp_path, "-f", "files/compose.yaml", "--project-directory", "elsewhere")
    assert m["name"] == "elsewhere"
    assert m["services"]["s"]["environment"] == {"FROM_ELSEWHERE": "1"}


# --- include, env_file, profiles, stdin ---------------------------------------------------------------------


def test_include(tmp_path):
    write(
        tmp_path,
        {
            "compose.yaml": """
                include:
                  - lib/db.yaml
                services:
                  web:
                    image: busybox
                    depends_on: [db]
            """,
            "lib/db.yaml": """
                services:
                  db:
                    image: busybox:${DB_TAG}
                    volumes: ["./init:/init", "dbdata:/var/lib/db"]
                volumes:
                  dbdata: {}
            """,
            "lib/.env": "DB_TAG=1.36\n",
        },
    )
    m = model(tmp_path)
    assert sorted(m["services"]) == ["db", "web"]
    assert m["services"]["db"]["image"] == "busybox:1.36"
    assert m["services"]["db"]["volumes"][0]["source"] == f"{tmp_path}/lib/init"
    assert m["volumes"]["dbdata"]["name"] == f"{tmp_path.name.lower()}_dbdata"
    write(tmp_path, {"lib/db.yaml": "services:\n  web:\n    image: busybox\n"})
    assert "include: service 'web' of" in error(tmp_path)


def test_env_file_then_environment(tmp_path):
    write(
        tmp_path,
        {
            "compose.yaml": """
                services:
                  s:
                    image: busybox
                    env_file: [one.env, two.env]
                    environment: [FROM_ENVIRONMENT=yes, SHARED=environment]
            """,
            "one.env": "ONE=1\nSHARED=one\n",
            "two.env": "TWO=2\nSHARED=two\n",
        },
    )
    assert model(tmp_path)["services"]["s"]["environment"] == {
        "ONE": "1",
        "TWO": "2",
        "SHARED": "environment",
        "FROM_ENVIRONMENT": "yes",
    }
    os.unlink(tmp_path / "two.env")
    assert error(tmp_path) == f"Error: {tmp_path}/compose.yaml:5: env file {tmp_path}/two.env not found"


def test_profiles_from_flag_and_environment(tmp_path):
    write(
        tmp_path,
        {
            "compose.yaml": """
                services:
                  app: {image: busybox}
                  debug: {image: busybox, profiles: [debug]}
                  test: {image: busybox, profiles: [test]}
            """
        },
    )
    assert sorted(model(tmp_path)["services"]) == ["app"]
    assert sorted(model(tmp_path, "--profile", "test")["services"]) == ["app", "test"]
    assert sorted(model(tmp_path, env={"COMPOSE_PROFILES": "debug,test"})["services"]) == [
        "app",
        "debug",
        "test",
    ]
    assert sorted(model(tmp_path, "--profile", "*")["services"]) == ["app", "debug", "test"]
    p = compose(tmp_path, "config", "--profiles")
    assert p.stdout == "debug\ntest\n"


def test_file_from_stdin(tmp_path):
    m = model(tmp_path, "-f", "-", input="services:\n  s:\n    image: busybox\n")
    assert m["services"]["s"]["image"] == "busybox"


def test_compose_file_variable(tmp_path):
    write(
        tmp_path,
        {"a.yml": "services:\n  a: {image: busybox}\n", "b.yml": "services:\n  b: {image: busybox}\n"},
    )
    assert sorted(model(tmp_path, env={"COMPOSE_FILE": "a.yml:b.yml"})["services"]) == ["a", "b"]


# --- config's listing flags and refusals ---------------------------------------------------------------------


def test_listing_flags_and_quiet(tmp_path):
    write(
        tmp_path,
        {
            "compose.yaml": """
                services:
                  web: {image: "busybox:1.36", networks: [front], volumes: ["data:/d"]}
                  built: {build: ., deploy: {replicas: 3}}
                networks:
                  front: {}
                volumes:
                  data: {}
            """
        },
    )
    assert compose(tmp_path, "config", "--services").stdout == "web\nbuilt\n"
    assert compose(tmp_path, "config", "--networks").stdout == "front\n"
    assert compose(tmp_path, "config", "--volumes").stdout == "data\n"
    assert compose(tmp_path, "config", "--images").stdout == f"busybox:1.36\n{tmp_path.name.lower()}-built\n"
    q = compose(tmp_path, "config", "-q")
    assert (q.returncode, q.stdout) == (0, "")
    out = tmp_path / "out.yaml"
    assert compose(tmp_path, "config", "-o", str(out)).returncode == 0
    printed = yaml.safe_load(out.read_text())
    assert list(printed) == ["name", "services", "networks", "volumes"]
    assert printed["services"]["built"]["deploy"] == {"replicas": 3}


@pytest.mark.parametrize(
    ("flag", "reason"),
    [
        ("--resolve-image-digests", "asks a registry for each image's digest"),
        ("--no-normalize", "always normalised"),
        ("--variables", "does not keep the files' variables apart"),
    ],
)
def test_refused_flags_say_why(tmp_path, flag, reason):
    write(tmp_path, {"compose.yaml": "services:\n  s: {image: busybox}\n"})
    p = compose(tmp_path, "config", flag)
    assert p.returncode == 125
    assert reason in p.stderr


# --- typed values after interpolation; validation without the schema package ----------------------------------


def test_interpolated_numbers_and_booleans_are_typed(tmp_path):
    write(
        tmp_path,
        {
            "compose.yaml": """
                services:
                  web:
                    image: busybox
                    deploy: {replicas: "${N}"}
                    init: "${FLAG}"
                    ports: [{target: "${PORT}", published: "${PORT}"}]
                networks:
                  n: {internal: "${FLAG}"}
            """
        },
    )
    m = model(tmp_path, env={"N": "3", "FLAG": "true", "PORT": "80"})
    web = m["services"]["web"]
    assert (web["deploy"]["replicas"], web["init"], web["ports"][0]["target"]) == (3, True, 80)
    assert m["networks"]["n"]["internal"] is True
    assert error(tmp_path, env={"N": "three", "FLAG": "true", "PORT": "80"}) == (
        f"Error: {tmp_path}/compose.yaml:5: services.web.deploy.replicas must be an integer"
    )


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ("services:\n  web:\n    image: busybox\n    ports: 80\n", 4, "services.web.ports must be an array"),
        ("services:\n  web:\n    image: [busybox]\n", 3, "services.web.image must be a string"),
        (
            "services:\n  web:\n    image: busybox\n    volumes: {a: b}\n",
            4,
            "services.web.volumes must be an array",
        ),
        (
            "services:\n  web:\n    image: busybox\n    depends_on: 5\n",
            4,
            "services.web.depends_on must be a mapping or an array",
        ),
        (
            "services:\n  web:\n    image: busybox\n    deploy: {resources: {limits: 5}}\n",
            4,
            "services.web.deploy.resources.limits must be a mapping",
        ),
        ("services:\n  web:\n    image: busybox\n    init: 1\n", 4, "services.web.init must be a boolean"),
        ("networks: {a: 5}\nservices: {}\n", 1, "networks.a must be a mapping"),
    ],
)
def test_without_the_schema_the_model_still_refuses_bad_types(tmp_path, body, line, message):
    write(tmp_path, {"compose.yaml": body})
    assert error(tmp_path, env={"DOCKYARD_COMPOSE_SCHEMA": "/nonexistent"}) == (
        f"Error: {tmp_path}/compose.yaml:{line}: {message}"
    )


def test_yaml_1_2_booleans_and_string_keys(tmp_path):
    write(
        tmp_path,
        {
            "compose.yaml": "services:\n  s:\n    image: busybox\n    environment:\n      YES: on\n      80: no\n    tty: true\n"
        },
    )
    s = model(tmp_path)["services"]["s"]
    assert s["environment"] == {"YES": "on", "80": "no"}
    assert s["tty"] is True


def test_hash_changes_with_the_service_config(tmp_path, root):
    write(tmp_path, {"compose.yaml": "services:\n  web: {image: busybox}\n  db: {image: busybox}\n"})
    env = {"DOCKYARD_ROOT": root}
    first = dict(
        line.split() for line in compose(tmp_path, "config", "--hash", "*", env=env).stdout.splitlines()
    )
    assert sorted(first) == ["db", "web"] and all(len(h) == 64 for h in first.values())
    write(
        tmp_path, {"compose.yaml": "services:\n  web: {image: busybox, tty: true}\n  db: {image: busybox}\n"}
    )
    second = dict(
        line.split() for line in compose(tmp_path, "config", "--hash", "web,db", env=env).stdout.splitlines()
    )
    assert second["db"] == first["db"] and second["web"] != first["web"]
    p = compose(tmp_path, "config", "--hash", "nope", env=env)
    assert (p.returncode, p.stderr) == (1, "Error: no such service: nope\n")


def test_version_is_obsolete(tmp_path):
    write(tmp_path, {"compose.yaml": "version: '3.8'\nservices:\n  s: {image: busybox}\n"})
    p = compose(tmp_path, "config")
    assert p.returncode == 0 and "version" not in yaml.safe_load(p.stdout)
    assert p.stderr == (
        f"WARN[0000] {tmp_path}/compose.yaml: the attribute `version` is obsolete, it will be ignored, please "
        "remove it to avoid potential confusion\n"
    )
