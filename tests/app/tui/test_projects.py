"""The Projects view (6): compose projects found by their labels or opened from a file, their services and
replicas with status and health, up/stop/restart/scale/down/rebuild/pull from the keyboard with progress per
service and the ``dockyard compose ...`` line in the command log, the merged logs coloured by service, and
the file beside the running state with what ``up`` would change marked. Real containers on an internal
network; the images are the fixtures' busybox tagged as the file names it (nothing is pulled)."""

from __future__ import annotations

import os
import textwrap

import pytest
from textual.widgets import Checkbox, Input

from app.tui.dialogs.compose_open import ComposeOpenDialog
from app.tui.dialogs.compose_scale import ComposeScaleDialog
from app.tui.dialogs.confirm import ConfirmDialog
from app.tui.log_sources import MergedLog
from app.tui.screens.projects import ProjectsScreen
from app.tui.widgets.projects_file import ProjectFile
from app.tui.widgets.projects_progress import ProjectProgress

from .conftest import make_app, notifications, settle, wait_for

pytestmark = [pytest.mark.asyncio, pytest.mark.slow, pytest.mark.timeout(240)]

IMAGE = "shopfix/app:1"
TALK = "trap 'exit 0' TERM; i=0; while true; do echo $$SVC $$i; i=$$((i+1)); sleep 0.1; done"


def compose_text(mode: str = "one", web_scale: int = 2) -> str:
    return textwrap.dedent(
        f"""\
        name: shop
        services:
          db:
            image: {IMAGE}
            command: ["sh", "-c", "{TALK}"]
            environment: {{SVC: db}}
            healthcheck:
              test: ["CMD", "true"]
              interval: 200ms
              retries: 20
            networks: [back]
          web:
            image: {IMAGE}
            command: ["sh", "-c", "{TALK}"]
            environment: {{SVC: web, MODE: {mode}}}
            scale: {web_scale}
            depends_on:
              db:
                condition: service_healthy
            networks: [back]
        networks:
          back:
            internal: true
        """
    )


@pytest.fixture
def shop(tmp_path, busybox, engine_, cli):
    """The project's compose file (busybox tagged as its image); everything it made is removed after."""
    engine_.images.tag(busybox, IMAGE)
    d = tmp_path / "shop"
    d.mkdir()
    path = d / "compose.yaml"
    path.write_text(compose_text())
    yield str(path)
    cli("compose", "-p", "shop", "down", "-t", "1", "--remove-orphans", check=False)


def _names(eng) -> dict[str, str]:
    return {c.name: c.status for c in eng.containers.list(all=True)}


def _image_of(eng, name: str) -> str:
    """The image of the container named ``name``; "" while there is none (a recreation moves it aside)."""
    return next((c.image_id for c in eng.containers.list(all=True) if c.name == name), "")


def _rows(screen: ProjectsScreen) -> dict[str, str]:
    """Each row of the list as its cells' text, by key."""
    return {k: " | ".join(str(c) for c in cells) for k, cells in screen.ptree.rows_shown}


async def _wait(pilot, condition, timeout: float = 10.0, what: str = "") -> None:
    """wait_for, saying what the app notified when it times out."""
    try:
        await wait_for(pilot, condition, timeout, what)
    except AssertionError as e:
        raise AssertionError(f"{e}; notifications: {notifications(pilot.app)}") from None


async def _open_view(pilot) -> ProjectsScreen:
    await settle(pilot)
    await pilot.press("6")
    await _wait(pilot, lambda: isinstance(pilot.app.screen, ProjectsScreen), what="the Projects view")
    return pilot.app.screen


async def _select(pilot, screen: ProjectsScreen, key: str) -> None:
    await _wait(pilot, lambda: key in dict(screen.ptree.rows_shown), what=f"the row {key}")
    screen.ptree.select_key(key)
    screen.ptree.focus()
    await pilot.pause(0.1)


def _lines(app) -> list[str]:
    return [e.line for e in app.commands.entries]


async def test_open_a_file_and_up_with_progress_per_service_then_drift(tui_engine, config, shop):
    app = make_app(tui_engine, config)
    async with app.run_test(size=(150, 40)) as pilot:
        screen = await _open_view(pilot)
        await pilot.press("o")
        await _wait(pilot, lambda: isinstance(app.screen, ComposeOpenDialog), what="the open dialog")
        box = app.screen.query_one("#path", Input)
        box.value = shop
        app.screen.query_one("#up", Checkbox).value = True
        box.focus()
        await pilot.press("enter")
        want = {"shop-db-1", "shop-web-1", "shop-web-2"}
        await _wait(
            pilot,
            lambda: all(_names(tui_engine).get(n) == "running" for n in want),
            timeout=60,
            what="the project up",
        )
        progress = screen.query_one(ProjectProgress)
        await _wait(pilot, lambda: progress.state == "done", timeout=30, what="the up to end")
        # progress per service, as Compose reports it, in the order the work was done
        assert progress.steps["db"] == "Healthy" or progress.steps["db"] == "Started", progress.steps
        assert progress.steps["web"] == "Started", progress.steps
        assert " Container shop-db-1  Healthy" in progress.lines
        assert progress.lines.index(" Container shop-db-1  Started") < progress.lines.index(
            " Container shop-web-1  Started"
        )
        assert " Network shop_back  Created" in progress.lines
        assert f"dockyard compose -f {shop} -p shop up -d" in _lines(app)
        # the tree: the project, its services (dependency order), the replicas under their service
        await _wait(
            pilot,
            lambda: (
                "2/2 running" in _rows(screen).get("s:shop:web", "")
                and "✓ in sync" in _rows(screen).get("s:shop:web", "")
            ),
            timeout=20,
            what="web's row in sync",
        )
        keys = [k for k, _ in screen.ptree.rows_shown]
        web = keys.index("s:shop:web")
        assert keys.index("s:shop:db") < web
        ids = {c.name: c.id for c in tui_engine.containers.list(all=True)}
        assert keys[web + 1 : web + 3] == [
            f"c:shop:web:{ids['shop-web-1']}",
            f"c:shop:web:{ids['shop-web-2']}",
        ]
        await _wait(
            pilot, lambda: "healthy" in _rows(screen)["s:shop:db"], timeout=20, what="db's health on its row"
        )
        assert "running(3)" in _rows(screen)["p:shop"]
        # the file beside the running state; an edit to web shows as drift once the file is read again
        with open(shop, "w") as f:
            f.write(compose_text(mode="two", web_scale=3))
        await _select(pilot, screen, "p:shop")
        await pilot.press("F")
        await _wait(
            pilot, lambda: "~ recreate" in _rows(screen)["s:shop:web"], timeout=20, what="web's drift"
        )
        text = str(screen.query_one("#file-text").render())
        state = str(screen.query_one("#file-state").render())
        web_line = next(line for line in text.splitlines() if line.strip().endswith("web:"))
        assert "~" in web_line.split("web:")[0]  # the service's line is marked in the file
        db_line = next(line for line in text.splitlines() if line.strip().endswith("db:"))
        assert "✓" in db_line
        assert "config changed (shop-web-1)" in state and "1 missing" in state
        assert "up would change what is marked" in state
        # up brings it back in line: web recreated with MODE=two and a third replica
        await pilot.press("u")
        await _wait(
            pilot,
            lambda: (
                "✓ in sync" in _rows(screen).get("s:shop:web", "")
                and "3/3 running" in _rows(screen)["s:shop:web"]
            ),
            timeout=60,
            what="web in sync again",
        )
        env = tui_engine.containers.inspect("shop-web-3")["Config"]["Env"]
        assert "MODE=two" in env
        assert "Recreated" in progress.steps["web"] or "Started" in progress.steps["web"]
        assert screen.query_one(ProjectFile) is not None


async def test_labelled_project_actions_scale_logs_and_down(tui_engine, config, shop, cli):
    cli("compose", "-f", shop, "up", "-d", timeout=90)
    config.confirm = True
    app = make_app(tui_engine, config)
    async with app.run_test(size=(150, 40)) as pilot:
        screen = await _open_view(pilot)
        # found by its labels (and its file, which the labels name, loaded quietly)
        await _select(pilot, screen, "s:shop:web")
        await _wait(pilot, lambda: "shop" in screen.opened, timeout=20, what="the labelled file loaded")
        # the merged logs of a service: its replicas only, in one colour
        await pilot.press("l")
        view = screen.query_one("#project-logs").view
        await _wait(pilot, lambda: isinstance(view.source, MergedLog), what="the merged logs")
        await _wait(pilot, lambda: view.rows >= 10, what="log lines")
        assert set(view.source.names) == {"shop-web-1", "shop-web-2"}
        assert {view.plain(r).split(" | ")[1].split()[0] for r in range(view.rows)} == {"web"}
        assert len({view._prefix(r).style for r in range(view.rows)}) == 1  # one service, one colour
        # the project's: every service, a colour per service
        await _select(pilot, screen, "p:shop")
        await _wait(pilot, lambda: len(view.source.names) == 3, what="the project's logs")
        await _wait(pilot, lambda: view.rows >= 20, what="lines of all")
        styles = {view.plain(r).split(" | ")[0].strip(): str(view._prefix(r).style) for r in range(view.rows)}
        assert styles["shop-web-1"] == styles["shop-web-2"] != styles["shop-db-1"]

        # stop one service: only its containers stop; the line is in the command log
        await _select(pilot, screen, "s:shop:web")
        await pilot.press("x")
        await _wait(
            pilot,
            lambda: (
                _names(tui_engine)["shop-web-1"] == "exited" and _names(tui_engine)["shop-web-2"] == "exited"
            ),
            timeout=30,
            what="web stopped",
        )
        assert _names(tui_engine)["shop-db-1"] == "running"
        assert f"dockyard compose -f {shop} -p shop stop web" in _lines(app)
        await _wait(pilot, lambda: "~ start" in _rows(screen)["s:shop:web"], timeout=20, what="web to start")
        # restart the project: everything runs again
        await _select(pilot, screen, "p:shop")
        await pilot.press("r")
        await _wait(
            pilot,
            lambda: all(s == "running" for s in _names(tui_engine).values()),
            timeout=60,
            what="all running",
        )
        assert f"dockyard compose -f {shop} -p shop restart" in _lines(app)

        # scale web to 1 from a dialog
        await _select(pilot, screen, "s:shop:web")
        await pilot.press("plus")
        await _wait(pilot, lambda: isinstance(app.screen, ComposeScaleDialog), what="the scale dialog")
        box = app.screen.query_one("#count", Input)
        box.value = "1"
        await pilot.press("enter")
        await _wait(pilot, lambda: "shop-web-2" not in _names(tui_engine), timeout=30, what="one web left")
        assert _names(tui_engine)["shop-web-1"] == "running"
        assert f"dockyard compose -f {shop} -p shop scale web=1" in _lines(app)
        # the file still says 2: the row says so, and that up would scale it back
        await _wait(
            pilot,
            lambda: (
                "1/2 running" in _rows(screen).get("s:shop:web", "")
                and "~ scale" in _rows(screen)["s:shop:web"]
            ),
            what="web's row",
        )

        # down, after a confirmation
        await _select(pilot, screen, "p:shop")
        await pilot.press("D")
        await _wait(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the confirmation")
        await pilot.click("#ok")
        await _wait(pilot, lambda: _names(tui_engine) == {}, timeout=30, what="the project down")
        assert f"dockyard compose -f {shop} -p shop down" in _lines(app)
        await _wait(
            pilot,
            lambda: "shop_back" not in [n.name for n in tui_engine.networks.list()],
            what="the project's network removed",
        )
        # the opened file stays: its services are listed as not created, up would create them
        await _wait(pilot, lambda: "+ create" in _rows(screen).get("s:shop:web", ""), what="web to create")
        # escape goes back to the containers
        screen.ptree.focus()
        await pilot.press("escape")
        assert not isinstance(app.screen, ProjectsScreen)


async def test_a_project_without_its_file_and_rebuild_and_pull(tui_engine, config, shop, cli, tmp_path):
    # a project whose file is gone: found by its labels, the actions its labels allow
    cli("compose", "-f", shop, "up", "-d", timeout=90)
    os.rename(shop, shop + ".gone")
    app = make_app(tui_engine, config)
    async with app.run_test(size=(150, 40)) as pilot:
        screen = await _open_view(pilot)
        await _select(pilot, screen, "p:shop")
        await pilot.pause(0.5)
        assert "file not open" in _rows(screen)["p:shop"]
        assert "not open" in str(screen.query_one("#file-text").render())
        await pilot.press("u")
        await _wait(pilot, lambda: any("open it" in n for n in notifications(app)), what="the refusal")
        await pilot.press("x")
        await _wait(
            pilot,
            lambda: all(s == "exited" for s in _names(tui_engine).values()),
            timeout=30,
            what="all stopped",
        )
        assert "dockyard compose -p shop stop" in _lines(app)
    os.rename(shop + ".gone", shop)

    # rebuild (up --build) builds the service's image again and recreates its container
    d = tmp_path / "built"
    d.mkdir()
    (d / "Dockerfile").write_text('FROM busybox\nCOPY stamp /stamp\nCMD ["sleep", "3600"]\n')
    (d / "stamp").write_text("one\n")
    (d / "compose.yaml").write_text(
        "services:\n  app:\n    build: .\n    network_mode: none\n"
        "  remote:\n    image: 127.0.0.1:9/absent/remote:1\n    network_mode: none\n"
    )
    cli("compose", "-f", str(d / "compose.yaml"), "up", "-d", "app", timeout=90)
    first = tui_engine.containers.get("built-app-1").image_id
    (d / "stamp").write_text("two\n")
    app = make_app(tui_engine, config)
    try:
        async with app.run_test(size=(150, 40)) as pilot:
            screen = await _open_view(pilot)
            await _select(pilot, screen, "s:built:app")
            await _wait(pilot, lambda: "built" in screen.opened, timeout=20, what="the file loaded")
            await pilot.press("b")
            await _wait(
                pilot,
                lambda: _image_of(tui_engine, "built-app-1") not in ("", first),
                timeout=90,
                what="the rebuilt container",
            )
            await _wait(pilot, lambda: screen.query_one(ProjectProgress).state == "done", timeout=30)
            assert "Recreated" in screen.query_one(ProjectProgress).lines[-3:][0] or any(
                "built-app-1  Recreate" in line for line in screen.query_one(ProjectProgress).lines
            )
            assert f"dockyard compose -f {d / 'compose.yaml'} -p built up -d --build app" in _lines(app)
            r = cli("exec", "built-app-1", "cat", "/stamp")
            assert r.out == "two\n"
            # pull: app is built here (skipped)
            await pilot.press("p")
            progress = screen.query_one(ProjectProgress)
            await _wait(pilot, lambda: progress.state == "done", timeout=30, what="the pull")
            assert progress.steps["app"] == "Skipped (built here)"
            assert f"dockyard compose -f {d / 'compose.yaml'} -p built pull app" in _lines(app)
            # the project's pull: remote's registry cannot be reached (127.0.0.1:9: nothing leaves the
            # machine): the error is shown, the progress and the command log say it failed
            await _select(pilot, screen, "p:built")
            await pilot.press("p")
            await _wait(pilot, lambda: progress.state == "failed", timeout=60, what="the failed pull")
            assert progress.steps["remote"] == "Pulling"
            entry = app.commands.entries[-1]
            assert entry.line == f"dockyard compose -f {d / 'compose.yaml'} -p built pull"
            assert entry.state == "failed"
            assert any("127.0.0.1:9" in n for n in notifications(app)), notifications(app)
            assert "+ create" in _rows(screen)["s:built:remote"]
    finally:
        cli("compose", "-f", str(d / "compose.yaml"), "down", "-t", "1", check=False)
