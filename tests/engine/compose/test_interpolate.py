"""Variable interpolation in compose files, seen in what ``dockyard compose config`` prints."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap

import pytest

from tests.conftest import DOCKYARD

#: no COMPOSE_* variables of the caller's; a root of its own (config never uses the engine's)
ENV = {k: v for k, v in os.environ.items() if not k.startswith(("COMPOSE_", "DOCKER_", "DOCKYARD_"))}
ENV["DOCKYARD_ROOT"] = "/nonexistent/dockyard-compose-config-tests"


def config(d, compose: str, *args: str, env: dict[str, str] | None = None, dot_env: str | None = None):
    (d / "compose.yaml").write_text(textwrap.dedent(compose))
    if dot_env is not None:
        (d / ".env").write_text(dot_env)
    return subprocess.run(
        [DOCKYARD, "compose", *args, "config", "--format", "json"],
        cwd=d,
        env={**ENV, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


def environment_of(d, values: dict[str, str], **kw) -> dict[str, str]:
    body = "".join(f"      {k}: {json.dumps(v)}\n" for k, v in values.items())
    p = config(d, "services:\n  s:\n    image: busybox\n    environment:\n" + body, **kw)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)["services"]["s"]["environment"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${SET}", "value"),
        ("$SET", "value"),
        ("pre-${SET}-post", "pre-value-post"),
        ("$SET.suffix", "value.suffix"),
        ("${UNSET:-default}", "default"),
        ("${EMPTY:-default}", "default"),
        ("${UNSET-default}", "default"),
        ("${EMPTY-default}", ""),
        ("${SET:-default}", "value"),
        ("${SET:+replacement}", "replacement"),
        ("${EMPTY:+replacement}", ""),
        ("${EMPTY+replacement}", "replacement"),
        ("${UNSET+replacement}", ""),
        ("${UNSET:-${SET}}", "value"),
        ("${UNSET:-${ALSO_UNSET:-deep}}", "deep"),
        ("$${SET}", "$${SET}"),
        ("cost: $$5", "cost: $$5"),
        ("${SET:?must be set}", "value"),
        ("${UNSET}", ""),
        ("a $ b", "a $$ b"),
    ],
)
def test_forms(tmp_path, text, expected):
    env = environment_of(tmp_path, {"X": text}, env={"SET": "value", "EMPTY": ""})
    assert env["X"] == expected


def test_unset_variable_warns_once(tmp_path):
    p = config(tmp_path, "services:\n  s:\n    image: busybox:${NOPE}\n    command: echo ${NOPE}\n")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["services"]["s"]["image"] == "busybox:"
    assert p.stderr.count('The "NOPE" variable is not set. Defaulting to a blank string.') == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("${UNSET:?you must set UNSET}", "required variable UNSET is missing a value: you must set UNSET"),
        ("${EMPTY:?}", "required variable EMPTY is missing a value"),
        ("${UNSET?}", "required variable UNSET is missing a value"),
        ("${UNCLOSED", 'invalid interpolation format: "${UNCLOSED"'),
        ("${}", 'invalid interpolation format: "${}"'),
        ("${A B}", 'invalid interpolation format: "${A B}"'),
    ],
)
def test_errors_name_file_line_and_key(tmp_path, text, message):
    compose = f"services:\n  s:\n    image: busybox\n    labels:\n      note: {json.dumps(text)}\n"
    p = config(tmp_path, compose, env={"EMPTY": ""})
    assert p.returncode == 1
    assert p.stderr.strip() == f"Error: {tmp_path}/compose.yaml:5: services.s.labels.note: {message}"


def test_dot_env_and_environment_precedence(tmp_path):
    dot_env = textwrap.dedent(
        """\
        # a comment
        PLAIN=plain
        export EXPORTED=exported
        SINGLE='single $NOT expanded'
        DOUBLE="line1\\nline2"
        COMMENTED=value # trailing comment
        SHADOWED=from-dot-env
        """
    )
    values = {k: "${" + k + "}" for k in ("PLAIN", "EXPORTED", "SINGLE", "DOUBLE", "COMMENTED", "SHADOWED")}
    env = environment_of(tmp_path, values, env={"SHADOWED": "from-environment"}, dot_env=dot_env)
    assert env == {
        "PLAIN": "plain",
        "EXPORTED": "exported",
        "SINGLE": "single $$NOT expanded",
        "DOUBLE": "line1\nline2",
        "COMMENTED": "value",
        "SHADOWED": "from-environment",
    }


def test_env_file_flag_replaces_dot_env(tmp_path):
    (tmp_path / "other.env").write_text("WHICH=other\n")
    env = environment_of(tmp_path, {"W": "${WHICH}"}, dot_env="WHICH=dot\n")
    assert env == {"W": "dot"}
    p = config(tmp_path, (tmp_path / "compose.yaml").read_text(), "--env-file", "other.env")
    assert json.loads(p.stdout)["services"]["s"]["environment"] == {"W": "other"}


def test_no_interpolate(tmp_path):
    p = config(tmp_path, "services:\n  s:\n    image: busybox\n    command: echo ${HOME}\n")
    assert json.loads(p.stdout)["services"]["s"]["command"] == ["echo", os.environ["HOME"]]
    p = subprocess.run(
        [DOCKYARD, "compose", "config", "--no-interpolate", "--format", "json"],
        cwd=tmp_path,
        env=ENV,
        capture_output=True,
        text=True,
    )
    assert json.loads(p.stdout)["services"]["s"]["command"] == ["echo", "$${HOME}"]
