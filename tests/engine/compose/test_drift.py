"""``Compose.drift``: what ``compose up`` would change, read from the file and the containers' labels without
changing anything: services to create, containers whose config changed, a scale that differs, stopped
containers, orphans; and after ``up`` nothing."""

from __future__ import annotations

import textwrap

import pytest

from engine import Compose, ComposeDrift, load_compose

pytestmark = pytest.mark.timeout(180)

LOOP = '["sh", "-c", "trap \'exit 0\' TERM; while true; do sleep 0.1; done"]'


def _file(tmp_path, body: str) -> str:
    path = tmp_path / "compose.yaml"
    path.write_text(textwrap.dedent(body))
    return str(path)


def _project(web_env: str = "one", replicas: int = 1, extra: str = "") -> str:
    return f"""\
        services:
          web:
            image: busybox:latest
            network_mode: none
            command: {LOOP}
            environment: {{MODE: {web_env}}}
            scale: {replicas}
          db:
            image: busybox:latest
            network_mode: none
            command: {LOOP}
        {extra}"""


def _drift(engine_, path: str) -> ComposeDrift:
    return Compose(engine_, load_compose([path], project_name="shop")).drift()


def _up(cli, path: str, *args: str) -> None:
    cli("compose", "-f", path, "-p", "shop", "up", "-d", "-t", "1", *args, timeout=90)


def test_drift_names_what_up_would_change_and_nothing_after_up(cli, busybox, engine_, tmp_path):
    path = _file(tmp_path, _project())
    before = _drift(engine_, path)
    assert [(s.service, s.action, s.want, s.have) for s in before.services] == [
        ("db", "create", 1, 0),
        ("web", "create", 1, 0),
    ]
    assert before.service("web").reasons == ["1 missing"]
    assert not before.clean and engine_.containers.list(all=True) == []  # nothing was made

    try:
        _up(cli, path)
        after = _drift(engine_, path)
        assert after.clean, after
        assert [(s.service, s.have, s.running) for s in after.services] == [("db", 1, 1), ("web", 1, 1)]
        assert after.orphans == []

        # the file changes web's environment and scale and drops db: web's container has another config
        # hash, one replica is missing and db's container is an orphan
        _file(tmp_path, _project("two", 2).replace("  db:", "  cache:"))
        changed = _drift(engine_, path)
        web = changed.service("web")
        assert web is not None
        assert (web.action, web.want, web.have, web.changed) == ("recreate", 2, 1, ["shop-web-1"])
        assert web.reasons == ["config changed (shop-web-1)", "1 missing"]
        assert changed.service("cache").action == "create"
        assert changed.orphans == ["shop-db-1"]
        # the drift is only read: the old container still runs with its old config
        assert engine_.containers.get("shop-web-1").running

        _up(cli, path, "--remove-orphans")
        assert _drift(engine_, path).clean
        assert _drift(engine_, path).orphans == []
        assert "MODE=two" in engine_.containers.inspect("shop-web-2")["Config"]["Env"]

        # a stopped container is "start"; fewer replicas in the file is "scale"
        cli("stop", "-t", "1", "shop-cache-1")
        _file(tmp_path, _project("two", 1).replace("  db:", "  cache:"))
        again = _drift(engine_, path)
        assert again.service("cache").action == "start"
        assert again.service("cache").reasons == ["not running"]
        web = again.service("web")
        assert (web.action, web.want, web.have) == ("scale", 1, 2)
        assert web.reasons == ["1 more than the file's 1"]
    finally:
        cli("compose", "-f", path, "-p", "shop", "down", "-t", "1", "--remove-orphans", check=False)


def test_drift_of_a_missing_image_says_pull_or_build(busybox, engine_, tmp_path):
    path = _file(
        tmp_path,
        """\
        services:
          app:
            image: 127.0.0.1:9/absent/app:1
            network_mode: none
          built:
            build: .
            network_mode: none
        """,
    )
    (tmp_path / "Dockerfile").write_text("FROM busybox\n")
    d = _drift(engine_, path)
    assert d.service("app").reasons == ["image 127.0.0.1:9/absent/app:1 to pull", "1 missing"]
    assert d.service("built").reasons == ["image to build", "1 missing"]
    assert {s.action for s in d.services} == {"create"}
