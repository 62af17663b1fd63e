"""Snapshots of the main screen, the layer pane and each dialog (``pytest --snapshot-update`` accepts new
ones after a look at the report). Fixed image content, fixed container IDs, a fixed clock and no
background feeds keep every run identical."""

from __future__ import annotations

import pytest

from engine import CreateOptions

from .conftest import fixed_clock, make_app, make_fixed_image, settle

pytestmark = pytest.mark.slow


@pytest.fixture
def world(tui_engine, fixed_ids):
    """A fixed image and two created (never started) containers from it."""
    make_fixed_image(tui_engine)
    for name in ("api", "worker"):
        tui_engine.containers.create(
            "fixture/app:1.0", CreateOptions(name=name, command=["sh"], network="none")
        )
    return tui_engine


def _app(world, config):
    app = make_app(world, config, clock=fixed_clock, feeds=False)
    app.root_label = "/var/lib/dockyard"  # the real root is a different temporary directory each run
    return app


def _steady(pilot) -> None:
    """No blinking cursors: a screenshot must not depend on when it was taken."""
    for field in pilot.app.screen.query("Input"):
        field.cursor_blink = False


def _before(*keys: str):
    async def run(pilot):
        await settle(pilot)
        if keys:
            await pilot.press(*keys)
            await settle(pilot)
        _steady(pilot)
        await pilot.pause(0.1)

    return run


def test_main_screen(world, config, snap_compare):
    assert snap_compare(_app(world, config), terminal_size=(120, 34), run_before=_before())


def test_main_screen_80x24(world, config, snap_compare):
    assert snap_compare(_app(world, config), terminal_size=(80, 24), run_before=_before())


def test_layer_pane(world, config, snap_compare):
    async def run(pilot):
        await settle(pilot)
        for key in ("2", "3", "down"):  # each once the layers it acts on are loaded (down: the second layer)
            await pilot.press(key)
            await settle(pilot)
        _steady(pilot)
        await pilot.pause(0.1)

    assert snap_compare(_app(world, config), terminal_size=(120, 34), run_before=run)


def test_run_dialog(world, config, snap_compare):
    assert snap_compare(_app(world, config), terminal_size=(80, 24), run_before=_before("2", "enter"))


def test_rename_dialog(world, config, snap_compare):
    assert snap_compare(_app(world, config), terminal_size=(80, 24), run_before=_before("n"))


def test_tag_dialog(world, config, snap_compare):
    assert snap_compare(_app(world, config), terminal_size=(80, 24), run_before=_before("2", "t"))


def test_confirm_dialog(world, config, snap_compare):
    assert snap_compare(_app(world, config), terminal_size=(80, 24), run_before=_before("d"))


def test_build_dialog(world, config, snap_compare):
    async def run(pilot):
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        field = pilot.app.screen.query_one("#context")
        field.value = "/build/context"
        field.cursor_position = len(field.value)  # no selection left from the working directory's path
        _steady(pilot)
        await pilot.pause(0.1)

    assert snap_compare(_app(world, config), terminal_size=(80, 24), run_before=run)


def test_commit_dialog(world, config, snap_compare):
    assert snap_compare(_app(world, config), terminal_size=(80, 24), run_before=_before("c"))


def test_help_screen(world, config, snap_compare):
    assert snap_compare(_app(world, config), terminal_size=(100, 30), run_before=_before("question_mark"))
