"""The Top tab (a container's processes, read every two seconds while shown) and the Env tab (its configuration
in sections), against real containers, checking what the screen shows."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from app.tui.widgets.containers_table import ContainersTable
from app.tui.widgets.env_view import EnvView
from app.tui.widgets.images_table import ImagesTable
from app.tui.widgets.top_view import TopView

from .conftest import make_app, settle, wait_for
from .screen_text import screen_text, shown_lines

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]

SLEEPERS = ["sh", "-c", "trap 'exit 0' TERM; sleep 4242 & sleep 4343 & wait"]


def _select(app, cid: str) -> None:
    table = app.main.query_one(ContainersTable)
    table.move_cursor(row=table.get_row_index(cid))
    table.focus()


def _cli(root: str, *args: str) -> None:
    cli = os.path.join(os.path.dirname(sys.executable), "dockyard")
    subprocess.run([cli, *args], env={**os.environ, "DOCKYARD_ROOT": root}, check=True, capture_output=True)


async def test_top_lists_the_processes_and_reads_them_only_while_shown(
    tui_engine, config, busybox, containers, root
):
    c = containers(command=SLEEPERS, name="sleepers")
    app = make_app(tui_engine, config)
    async with app.run_test(size=(130, 36)) as pilot:
        await settle(pilot)
        _select(app, c.id)
        await pilot.press("T")  # the Top tab
        top = app.main.query_one(TopView)
        await wait_for(
            pilot, lambda: shown_lines(app, "sleep 4242"), timeout=20, what="a process line in Top"
        )
        line = shown_lines(app, "sleep 4242")[0]
        assert "PID" in screen_text(app) and "CMD" in screen_text(app)
        pid = next(p[1] for p in top.result.processes if p[-1] == "sleep 4242")
        assert pid in line  # the host's PID, as dockyard top prints it
        assert shown_lines(app, "sleep 4343")
        assert "sleepers · 3 processes" in screen_text(app)

        # a process started by another process shows up at the next reading, without a key press
        _cli(root, "exec", "-d", "sleepers", "sleep", "4444")
        await wait_for(pilot, lambda: shown_lines(app, "sleep 4444"), timeout=6, what="the exec'd process")

        # hidden, the tab asks the engine nothing
        app.main.open_tab("tab-logs", focus=False)
        await pilot.pause(0.3)
        readings = top.readings
        await pilot.pause(4.5)
        assert top.readings == readings
        app.main.open_tab("tab-top", focus=False)
        await wait_for(pilot, lambda: top.readings > readings, what="a reading once shown again")

        # a stopped container has no processes
        tui_engine.containers.stop(c.id, timeout=1)
        await wait_for(pilot, lambda: shown_lines(app, "sleepers is not running"), what="the stopped state")
        assert not shown_lines(app, "sleep 4242")


async def test_env_tab_shows_the_configuration_in_sections(tui_engine, config, busybox, containers):
    c = containers(
        name="configured",
        env=["GREETING=hello there", "COUNT=3"],
        labels={"team": "infra"},
        working_dir="/tmp",
        user="1000:1000",
        memory=64 * 1024 * 1024,
        cpus=0.5,
        pids_limit=50,
        restart="on-failure:3",
        volumes=["t2data:/data"],
        entrypoint=["/bin/sh", "-c"],
        command=["trap 'exit 0' TERM; while true; do sleep 0.1; done"],
    )
    app = make_app(tui_engine, config)
    async with app.run_test(size=(130, 50)) as pilot:
        await settle(pilot)
        _select(app, c.id)
        app.main.open_tab("tab-env", focus=False)
        env = app.main.query_one(EnvView)
        await wait_for(pilot, lambda: shown_lines(app, "GREETING", "hello there"), what="an env var in Env")
        assert shown_lines(app, "COUNT", "3")
        for words in (
            ("Entrypoint", "/bin/sh -c"),
            ("Command", "'trap"),
            ("Working dir", "/tmp"),
            ("User", "1000:1000"),
            ("team", "infra"),
        ):
            assert shown_lines(app, *words), words
        text = env.text  # the whole tab (the end is scrolled off a terminal this size)
        for section in (
            "Environment",
            "Command",
            "Labels",
            "Mounts",
            "Ports",
            "Networks",
            "Restart policy",
            "Limits",
        ):
            assert f"\n{section}\n" in text, section
        assert "volume  t2data → /data  (rw)" in text
        assert "on-failure (at most 3 retries)" in text
        assert "64MiB" in text and "CPUs" in text and "0.5" in text
        assert "PIDs" in text and "50" in text
        assert "mode" in text and "none" in text  # the tests' network
        assert "{" not in text  # sections, not JSON

        # an image: what a container made from it starts with
        images = app.main.query_one(ImagesTable)
        images.focus()
        await wait_for(
            pilot, lambda: shown_lines(app, "PATH", "/usr/local/sbin"), what="the image's environment"
        )
        assert "busybox:latest" in env.text
