"""The help screen: one line per key binding (its keys, its id, what it does), under a title per place the
keys work, with the user's remappings; generated from the key table."""

from __future__ import annotations

import pytest

from app.tui import keymap
from app.tui.config import Config

from .conftest import make_app, settle
from .screen_text import shown_lines

pytestmark = [pytest.mark.asyncio]


async def test_help_has_one_line_per_key(tui_engine, tmp_path):
    config = Config(path=str(tmp_path / "config.toml"), keys={"container.stop": "z"})
    app = make_app(tui_engine, config, feeds=False)
    async with app.run_test(size=(110, 40)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause(0.3)
        assert type(app.screen).__name__ == "HelpScreen"
        lines = app.screen.query_one("#help-text").source.splitlines()
        for k in keymap.KEYS:
            mine = [line for line in lines if f" {k.id} " in f"{line} "]
            assert len(mine) == 1, k.id
            keys = keymap.display(config.keys.get(k.id, k.keys))
            assert mine[0].strip().startswith(keys) or mine[0].strip().startswith(keys[:13]), (
                k.id
            )  # the keys first
            assert mine[0].rstrip().endswith(k.description) or mine[0].rstrip().endswith("…"), k.id
        assert sum(1 for line in lines if line.startswith("  ")) == len(keymap.KEYS)
        for title in keymap.SCOPES.values():
            assert title in lines

        # on screen: one line each, the remapped key in place of the default
        assert shown_lines(app, "z", "container.stop", "Stop")
        assert not shown_lines(app, " x ", "container.stop")
        assert shown_lines(app, "?", "app.help", "Help")
        await pilot.press("end")
        await pilot.pause(0.2)
        assert shown_lines(app, "y, c", "commands.copy", "Copy the selected command line")
        assert shown_lines(app, "t", "events.type", "Type filter (cycles)")
        await pilot.press("escape")
        assert type(app.screen).__name__ == "MainScreen"
