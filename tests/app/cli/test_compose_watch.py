"""``dockyard compose watch``: a service's develop.watch rules followed on real containers (no network): a
file synced into the running container (and removed there when deleted, an ignored one left out), a change
under a rebuild path rebuilding the image and recreating the container, sync+restart restarting it, and the
refusals before anything is made."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time

import pytest

from tests.conftest import DOCKYARD

pytestmark = pytest.mark.timeout(180)

COMPOSE = """\
services:
  app:
    build: .
    network_mode: none
    develop:
      watch:
        - action: sync
          path: ./src
          target: /app/src
          ignore:
            - "*.tmp"
        - action: sync+restart
          path: ./conf
          target: /etc/app
        - action: rebuild
          path: Dockerfile
        - action: sync+exec
          path: ./hook
          target: /hook
          exec:
            command: ["sh", "-c", "cat /hook/in.txt > /hook/out.txt"]
  helper:
    image: busybox:latest
    network_mode: none
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
"""

DOCKERFILE = """\
FROM busybox
RUN echo {version} > /built
CMD ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
"""


def _write(path: str, text: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


class Watching:
    """``compose watch`` running in the background; its standard error gathered line by line."""

    def __init__(self, root: str, path: str, *args: str) -> None:
        env = {**os.environ, "DOCKYARD_ROOT": root}
        cmd = [DOCKYARD, "compose", "-f", path, "-p", "w", "watch", *args]
        self.proc = subprocess.Popen(
            cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            self.lines.append(raw.decode(errors="replace").rstrip("\n"))

    def wait_for(self, text: str, timeout: float = 60, after: int = 0) -> int:
        """The index of the first line from ``after`` on that contains ``text``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for i, line in enumerate(self.lines[after:], after):
                if text in line:
                    return i
            if self.proc.poll() is not None and not self.reader.is_alive():
                break
            time.sleep(0.05)
        raise AssertionError(f"no {text!r} in:\n" + "\n".join(self.lines))

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(timeout=30)
        self.reader.join(timeout=5)
        return code


def _until(check, timeout: float = 20):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


@pytest.fixture
def project(cli, busybox, tmp_path, root):
    d = str(tmp_path / "proj")
    _write(os.path.join(d, "compose.yaml"), COMPOSE)
    _write(os.path.join(d, "Dockerfile"), DOCKERFILE.format(version="one"))
    _write(os.path.join(d, "src", "a.txt"), "first\n")
    _write(os.path.join(d, "conf", "app.conf"), "conf one\n")
    _write(os.path.join(d, "hook", "in.txt"), "")
    path = os.path.join(d, "compose.yaml")
    started: list[Watching] = []

    def watch(*args: str) -> Watching:
        w = Watching(root, path, *args)
        started.append(w)
        return w

    watch.dir = d  # type: ignore[attr-defined]
    watch.path = path  # type: ignore[attr-defined]
    yield watch
    for w in started:
        w.stop()
    cli("compose", "-f", path, "-p", "w", "down", "-t", "1", "--rmi", "local", check=False)


def _cat(cli, path: str) -> str:  # type: ignore[no-untyped-def]
    r = cli("exec", "w-app-1", "cat", path, check=False)
    return r.out if r.code == 0 else ""


def test_sync_copies_changes_and_removes_deleted_files(project, cli, engine_):
    w = project()
    w.wait_for("Watch enabled")
    assert engine_.containers.get("w-app-1").running and engine_.containers.get("w-helper-1").running
    assert _cat(cli, "/app/src/a.txt") == ""  # nothing synced before a change
    d = project.dir
    _write(os.path.join(d, "src", "a.txt"), "second\n")
    _write(os.path.join(d, "src", "deep", "b.txt"), "in a new directory\n")
    _write(os.path.join(d, "src", "scratch.tmp"), "ignored\n")
    _write(os.path.join(d, "src", "a.txt~"), "an editor's backup\n")
    assert _until(lambda: _cat(cli, "/app/src/deep/b.txt")) == "in a new directory\n"
    assert _until(lambda: _cat(cli, "/app/src/a.txt") == "second\n")
    w.wait_for('Syncing service "app" after')
    ls = cli("exec", "w-app-1", "ls", "-A", "/app/src").out.split()
    assert sorted(ls) == ["a.txt", "deep"]  # the ignored and the scratch files stayed out
    owner = cli("exec", "w-app-1", "stat", "-c", "%u:%g", "/app/src/a.txt").out.strip()
    assert owner == "0:0"  # owned by root, as docker cp makes them
    os.remove(os.path.join(d, "src", "a.txt"))
    assert _until(lambda: "a.txt" not in cli("exec", "w-app-1", "ls", "/app/src").out)
    # sync+exec: synced, then the command run in the container
    _write(os.path.join(d, "hook", "in.txt"), "hooked\n")
    assert _until(lambda: _cat(cli, "/hook/out.txt")) == "hooked\n"
    assert w.stop() == 0
    assert engine_.containers.get("w-app-1").running  # stopping the watch leaves the services up


def test_sync_restart_restarts_the_service(project, cli, engine_):
    w = project()
    w.wait_for("Watch enabled")
    before = engine_.containers.get("w-app-1")
    pid = cli("inspect", "-f", "{{.State.Pid}}", "w-app-1").out.strip()
    _write(os.path.join(project.dir, "conf", "app.conf"), "conf two\n")
    w.wait_for('Restarting service "app"')
    w.wait_for("w-app-1  Started", after=w.wait_for('Restarting service "app"'))
    after = engine_.containers.get("w-app-1")
    assert after.id == before.id and after.running  # the same container, restarted
    assert after.started_at != before.started_at
    assert cli("inspect", "-f", "{{.State.Pid}}", "w-app-1").out.strip() != pid
    assert _cat(cli, "/etc/app/app.conf") == "conf two\n"
    helper = engine_.containers.get("w-helper-1")
    assert helper.running  # the other service is left alone


def test_rebuild_rebuilds_and_recreates(project, cli, engine_):
    w = project()
    w.wait_for("Watch enabled")
    old = engine_.containers.get("w-app-1")
    old_image = engine_.images.resolve("w-app")
    assert _cat(cli, "/built") == "one\n"
    _write(os.path.join(project.dir, "Dockerfile"), DOCKERFILE.format(version="two"))
    at = w.wait_for('Rebuilding service "app" after changes were detected')
    w.wait_for('service "app" successfully built', after=at)
    w.wait_for("w-app-1  Started", after=at)
    new = engine_.containers.get("w-app-1")
    assert new.id != old.id and new.running
    assert _cat(cli, "/built") == "two\n"
    assert engine_.images.resolve("w-app") != old_image
    # the image it replaced was pruned: nothing else used it
    assert old_image not in {i.id for i in engine_.images.list()}


def test_no_up_watches_what_runs_and_prune_false_keeps_the_old_image(project, cli, engine_):
    cli("compose", "-f", project.path, "-p", "w", "up", "-d", "app")
    old_image = engine_.images.resolve("w-app")
    w = project("--no-up", "--prune=false", "--quiet")
    w.wait_for("Watch enabled")
    assert not any("Container" in line for line in w.lines)  # nothing was brought up again
    assert [c.name for c in engine_.containers.list(all=True)] == ["w-app-1"]
    _write(os.path.join(project.dir, "Dockerfile"), DOCKERFILE.format(version="three"))
    w.wait_for("w-app-1  Started", after=w.wait_for('service "app" successfully built'))
    assert _cat(cli, "/built") == "three\n"
    assert not any("RUN echo" in line for line in w.lines)  # --quiet: no build output
    assert old_image in {i.id for i in engine_.images.list(all=True)}  # --prune=false: kept


def test_refusals(cli, busybox, tmp_path):
    d = str(tmp_path / "bad")
    path = os.path.join(d, "compose.yaml")
    _write(path, "services:\n  a:\n    image: busybox:latest\n    network_mode: none\n")
    r = cli.fails("compose", "-f", path, "watch")
    assert "none of the selected services is configured for watch" in r.err
    _write(
        path,
        "services:\n  a:\n    image: busybox:latest\n    network_mode: none\n    develop:\n      watch:\n"
        "        - action: rebuild\n          path: .\n",
    )
    r = cli.fails("compose", "-f", path, "watch")
    assert "can't watch service 'a' with action rebuild without a build context" in r.err
    _write(
        path,
        "services:\n  a:\n    image: busybox:latest\n    network_mode: none\n    develop:\n      watch:\n"
        "        - action: sync\n          path: .\n",
    )
    r = cli.fails("compose", "-f", path, "watch")
    assert "needs an absolute target path" in r.err
    _write(
        path,
        "services:\n  a:\n    image: busybox:latest\n    develop:\n      watch:\n"
        "        - action: copy\n          path: .\n",
    )
    r = cli.fails("compose", "-f", path, "watch")
    assert "copy" in r.err or "must be one of" in r.err
    assert "rebuild, sync, restart, sync+restart, sync+exec" in r.err
    r = cli.fails("compose", "-f", path, "watch", "nosuch")
    assert cli("ps", "-aq").out == ""  # nothing was made
    r = cli("compose", "-f", path, "up", "--watch", check=False)
    assert r.code == 125 and "dockyard compose watch" in r.err


def test_initial_sync_include_and_restart(cli, busybox, tmp_path, root, engine_):
    d = str(tmp_path / "more")
    _write(
        os.path.join(d, "compose.yaml"),
        """\
services:
  svc:
    image: busybox:latest
    network_mode: none
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
    develop:
      watch:
        - action: sync
          path: ./site
          target: /srv
          initial_sync: true
          include: ["*.html"]
        - action: restart
          path: ./trigger
""",
    )
    _write(os.path.join(d, "site", "index.html"), "<p>first</p>\n")
    _write(os.path.join(d, "site", "notes.txt"), "not included\n")
    _write(os.path.join(d, "trigger"), "0\n")
    path = os.path.join(d, "compose.yaml")
    w = Watching(root, path)
    try:
        w.wait_for("Watch enabled")
        # initial_sync: what the rule sees was copied before any change
        assert cli("exec", "w-svc-1", "cat", "/srv/index.html").out == "<p>first</p>\n"
        assert cli("exec", "w-svc-1", "ls", "/srv").out.split() == ["index.html"]  # include: *.html only
        _write(os.path.join(d, "site", "notes.txt"), "still not included\n")
        _write(os.path.join(d, "site", "about.html"), "<p>about</p>\n")
        assert (
            _until(lambda: cli("exec", "w-svc-1", "cat", "/srv/about.html", check=False).out)
            == "<p>about</p>\n"
        )
        assert "notes.txt" not in cli("exec", "w-svc-1", "ls", "/srv").out
        started = engine_.containers.get("w-svc-1").started_at
        _write(os.path.join(d, "trigger"), "1\n")
        w.wait_for("w-svc-1  Started", after=w.wait_for('Restarting service "svc"'))
        assert engine_.containers.get("w-svc-1").started_at != started
        assert cli("exec", "w-svc-1", "cat", "/srv/about.html").out == "<p>about</p>\n"  # a restart keeps it
    finally:
        w.stop()
        cli("compose", "-f", path, "-p", "w", "down", "-t", "1", check=False)
