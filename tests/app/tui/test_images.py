"""The app against a real engine: images, layers, tags, filters, help, themes, keymaps (no container runs)."""

from __future__ import annotations

import pytest

from app.tui.widgets.file_tree import FileTree
from app.tui.widgets.images_table import ImagesTable
from app.tui.widgets.layers_pane import LayersPane

from .conftest import make_app, make_fixed_image, notifications, settle, wait_for

pytestmark = pytest.mark.asyncio


async def test_images_and_layers(tui_engine, config):
    image_id = make_fixed_image(tui_engine)
    app = make_app(tui_engine, config, feeds=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = app.main.query_one(ImagesTable)
        assert table.current.id == image_id
        await pilot.press("2")
        await settle(pilot)
        pane = app.main.query_one(LayersPane)
        report = pane.report
        assert report is not None and report.title == "fixture/app:1.0"
        assert [r.command.split()[0] for r in report.rows] == ["RUN", "RUN", "ADD"]  # newest first
        assert report.wasted and report.wasted >= 120_000  # libbig.so stored, then deleted
        assert 0 < report.efficiency < 1
        tree = app.main.query_one(FileTree)
        # the top layer removes libbig.so and modifies app.conf
        usr = tree.source.children["usr"].children["lib"].children["libbig.so"]
        assert usr.kind == "R"
        assert tree.source.children["etc"].children["app.conf"].kind == "M"
        # ctrl+a: the aggregated view of the bottom layer is the whole base filesystem, all added
        await pilot.press("3", "down", "down", "ctrl+a")
        await settle(pilot)
        assert pane.aggregate
        assert tree.source.children["bin"].children["tool"].kind == "A"


async def test_tag_and_remove_image(tui_engine, config):
    make_fixed_image(tui_engine)
    app = make_app(tui_engine, config, feeds=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("2", "t")
        await pilot.press(*"fixture/app:2.0", "enter")
        await wait_for(pilot, lambda: tui_engine.images.exists("fixture/app:2.0"), what="the new tag")
        app.reload()
        images = app.main.images
        await wait_for(pilot, lambda: images.row_count == 2, what="a row for the new tag")
        await pilot.press("d")  # the row's tag goes, the image stays with the other
        await pilot.pause(0.2)
        await pilot.press("y")
        await wait_for(pilot, lambda: len(tui_engine.images.list()[0].tags) == 1, what="an untag")
        app.reload()
        await wait_for(pilot, lambda: images.row_count == 1, what="the row to go")
        await pilot.press("d")  # the last tag: the image goes
        await pilot.pause(0.2)
        await pilot.press("y")
        await wait_for(pilot, lambda: not tui_engine.images.list(), what="the image to go")


async def test_an_image_with_two_tags_shows_a_row_per_tag_and_d_untags_the_row_s_tag(tui_engine, config):
    from .screen_text import widget_lines

    image_id = make_fixed_image(tui_engine)  # fixture/app:1.0
    tui_engine.images.tag(image_id, "fixture/app:2.0")
    tui_engine.images.tag(image_id, "mirror/app:latest")
    short = image_id.partition(":")[2][:12]
    app = make_app(tui_engine, config, feeds=False)
    async with app.run_test(size=(180, 30)) as pilot:  # wide enough for the IMAGE ID column
        await settle(pilot)
        images = app.main.images
        # as docker images: a row per tag, each with the same IMAGE ID; the other version of a repository
        # is named under it
        assert images.row_count == 3
        shown = widget_lines(app, images, short)
        assert len(shown) == 3, shown
        assert any("fixture/app:2.0" in line or "fixture/app:1.0" in line for line in shown)
        assert any("└ :1.0" in line or "└ :2.0" in line for line in shown)
        assert any("mirror/app:latest" in line for line in shown)
        assert not widget_lines(app, images, "+1") and not widget_lines(app, images, "+2")
        # the row of mirror/app:latest: its d untags that tag alone (the image and its other tags stay)
        await pilot.press("2")
        mirror = next(key for key, im in images.records.items() if im.tags == ["mirror/app:latest"])
        assert mirror != image_id  # the image's first tag's row keeps the image ID as its key
        images.move_cursor(row=images.get_row_index(mirror))
        await pilot.pause(0.1)
        assert images.current.tags == ["mirror/app:latest"] and images.current.id == image_id
        await pilot.press("d")
        await pilot.pause(0.2)
        await pilot.press("y")
        await wait_for(pilot, lambda: not tui_engine.images.exists("mirror/app:latest"), what="the tag to go")
        assert sorted(tui_engine.images.get(image_id).tags) == ["fixture/app:1.0", "fixture/app:2.0"]
        app.reload()
        await wait_for(pilot, lambda: images.row_count == 2, what="the row to go")
        assert len(widget_lines(app, images, short)) == 2
        assert not widget_lines(app, images, "mirror/app")


async def test_filter_and_help(tui_engine, config):
    make_fixed_image(tui_engine, "one:1")
    make_fixed_image(tui_engine, "two:1")  # same content: one image, two tags
    app = make_app(tui_engine, config, feeds=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("2", "slash", *"zzz")
        await pilot.pause(0.1)
        assert app.main.images.row_count == 0
        await pilot.press("escape")
        assert app.main.images.row_count == 2  # a row per tag
        await pilot.press("question_mark")
        await pilot.pause(0.3)
        assert type(app.screen).__name__ == "HelpScreen"
        text = app.screen.query_one("#help-text").source
        assert "container.stop" in text and "Remove" in text
        await pilot.press("escape")
        assert type(app.screen).__name__ == "MainScreen"


async def test_theme_is_remembered(tui_engine, config):
    from app.tui.config import Config

    app = make_app(tui_engine, config, feeds=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.theme == "dockyard-dark"
        app.theme = "dockyard-high-contrast"
        await pilot.pause(0.1)
    assert Config.load(config.path).theme == "dockyard-high-contrast"
    again = make_app(tui_engine, Config.load(config.path), feeds=False)
    async with again.run_test(size=(80, 24)):
        assert again.theme == "dockyard-high-contrast"


async def test_palette_offers_every_action(tui_engine, config):
    app = make_app(tui_engine, config, feeds=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for wanted in (
            "Start",
            "Stop",
            "Restart",
            "Rename",
            "Remove",
            "Shell",
            "Attach",
            "Logs",
            "Inspect",
            "Commit to image",
            "Build",
            "Run",
            "Tag",
            "Prune unused images",
            "Prune stopped containers",
            "Theme: dockyard-light",
        ):
            assert wanted in titles, wanted


async def test_errors_are_notifications(tui_engine, config):
    app = make_app(tui_engine, config, feeds=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.call("Start nothing", tui_engine.containers.start, "no-such-container")
        await wait_for(pilot, lambda: notifications(app), what="a notification")
        assert (
            "no-such-container" in notifications(app)[0].lower() or "no such" in notifications(app)[0].lower()
        )
        assert app.is_running and type(app.screen).__name__ == "MainScreen"


@pytest.mark.parametrize("size", [(80, 24), (160, 50)])
async def test_panes_fit_the_terminal(tui_engine, config, size):
    make_fixed_image(tui_engine)
    app = make_app(tui_engine, config, feeds=False)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        for wid in ("#containers", "#images", "#details"):
            region = app.main.query_one(wid).region
            assert region.width >= 30 and region.height >= 8, (wid, region)
            assert region.right <= size[0] and region.bottom <= size[1]
        await pilot.resize_terminal(100, 30)
        await pilot.pause(0.2)
        assert app.main.query_one("#details").region.right <= 100


async def test_filter_file_tree(tui_engine, config):
    make_fixed_image(tui_engine)
    app = make_app(tui_engine, config, feeds=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("2", "3")
        await settle(pilot)
        await pilot.press("slash", *"app.conf", "enter")
        await pilot.pause(0.2)
        tree = app.main.query_one(FileTree)
        assert tree.filter_text == "app.conf"
        shown = [n.data.path for n in tree.root.children if n.data is not None]
        assert shown == ["/etc"]
        assert [c.data.name for c in tree.root.children[0].children] == ["app.conf"]


async def test_new_shell_without_a_container_says_so(tui_engine, config):
    app = make_app(tui_engine, config, feeds=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        new_shell = next(c for c in app.get_system_commands(app.screen) if c.title == "New shell session")
        new_shell.callback()
        await wait_for(pilot, lambda: notifications(app), what="a notification")
        assert notifications(app) == ["Select a container first."]


async def test_double_click_in_the_log_view(tui_engine, config):
    app = make_app(tui_engine, config, feeds=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.main.open_tab("tab-logs")
        await pilot.pause(0.2)
        await pilot.double_click("#log-view")  # selects the widget's text: Textual queries its children
        await pilot.pause(0.2)
        assert app.is_running and app.return_code is None
