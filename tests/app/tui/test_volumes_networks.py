"""The Volumes and Networks panes (keys 4 and 5 in the lower-left pane), driven through the app's keys
against the real engine: what the lists show, and that the engine made, refused or removed what was asked.
Networks made here are internal: nothing leaves the machine."""

from __future__ import annotations

import pytest

from app.tui.widgets.images_table import ImagesTable
from app.tui.widgets.inspect_tree import InspectTree
from app.tui.widgets.networks_table import NetworksTable
from app.tui.widgets.volumes_table import VolumesTable
from engine import CreateOptions, NotFound

from .conftest import BUSY_LOOP, make_app, notifications, settle, wait_for

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]


def _row(table, key: str) -> list[str]:
    """The cells of the row ``key`` as text, by column key."""
    row = table.get_row(key)
    keys = ["mark", *table.shown_columns]
    return {k: getattr(cell, "plain", str(cell)) for k, cell in zip(keys, row, strict=False)}


def _select(table, key: str) -> None:
    table.move_cursor(row=table.get_row_index(key))
    table.focus()


async def test_switcher_keys_and_border_title(tui_engine, config, busybox):
    app = make_app(tui_engine, config, feeds=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        main = app.main
        images, volumes, networks = (main.query_one(t) for t in (ImagesTable, VolumesTable, NetworksTable))
        assert images.display and not volumes.display and not networks.display
        assert "[2] Images" in str(images.border_title) and "5 Networks" in str(images.border_title)
        await pilot.press("4")
        assert volumes.display and not images.display and app.focused is volumes
        assert "[4] Volumes" in str(volumes.border_title)
        await pilot.press("5")
        assert networks.display and not volumes.display and app.focused is networks
        assert {"bridge", "host", "none"} <= set(networks.records)
        await pilot.press("slash", *"no")  # the filter works on the list shown, and the title says so
        assert networks.row_count == 1 and "[filter: no]" in str(networks.border_title)
        await pilot.press("escape")
        assert networks.row_count == 3 and "filter" not in str(networks.border_title)
        await pilot.press("1", "tab")
        assert app.focused is networks  # tab goes to the lower-left pane, whichever list it shows
        await pilot.press("2")
        assert images.display and app.focused is images


async def test_volumes_list_inspect_create_and_remove(tui_engine, config, busybox, containers):
    tui_engine.volumes.create("data", {"tier": "db"})
    c = containers(name="dbserver", volumes=["data:/data"])
    app = make_app(tui_engine, config)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        table = app.main.query_one(VolumesTable)
        await pilot.press("4")
        await wait_for(pilot, lambda: "data" in table.records, what="the volume listed")
        row = _row(table, "data")
        assert row["users"] == "dbserver" and row["driver"] == "local"
        _select(table, "data")
        await pilot.press("enter")
        tree = app.main.query_one(InspectTree)
        await wait_for(pilot, lambda: str(tree.root.label) == "volume data", what="the volume inspected")
        assert app.main.tabs.active == "tab-inspect"
        shown = {str(n.label) for n in tree.root.children}
        assert 'Name: "data"' in shown and 'Driver: "local"' in shown
        # remove while a container uses it: the engine refuses, the app says so, the volume stays
        _select(table, "data")
        await pilot.press("d")
        await pilot.pause(0.2)
        assert type(app.screen).__name__ == "ConfirmDialog"
        await pilot.press("y")
        await wait_for(pilot, lambda: any("in use" in n for n in notifications(app)), what="the refusal")
        assert tui_engine.volumes.get("data").name == "data"
        # a new volume through the dialog
        await pilot.press("c")
        await pilot.pause(0.2)
        assert type(app.screen).__name__ == "VolumeDialog"
        await pilot.press(*"cache", "tab", *"team=web,keep=1", "enter")
        await wait_for(pilot, lambda: "cache" in table.records, what="the new volume listed")
        assert tui_engine.volumes.get("cache").labels == {"team": "web", "keep": "1"}
        # the same name again: as Docker, the volume there is kept as it was, and the app says so
        await pilot.press("c")
        await pilot.pause(0.2)
        await pilot.press(*"data", "tab", *"tier=web", "enter")
        await wait_for(pilot, lambda: any("exists already" in n for n in notifications(app)), what="the news")
        assert tui_engine.volumes.get("data").labels == {"tier": "db"}
        # remove the unused one
        _select(table, "cache")
        await pilot.press("d", "y")
        await wait_for(pilot, lambda: "cache" not in table.records, what="the volume gone from the list")
        with pytest.raises(NotFound):
            tui_engine.volumes.get("cache")
        tui_engine.containers.remove(c.id, force=True)


async def test_volume_prune_says_how_many_and_which(tui_engine, config, busybox, containers):
    for name in ("old1", "old2", "kept"):
        tui_engine.volumes.create(name)
    containers(name="user", volumes=["kept:/k"], start=False)
    app = make_app(tui_engine, config)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await wait_for(pilot, lambda: len(app.main.query_one(VolumesTable).records) == 3, what="the volumes")
        await pilot.press("P")
        await pilot.pause(0.2)
        screen = app.screen
        assert type(screen).__name__ == "ConfirmDialog"
        assert screen.TITLE_TEXT == "Prune 2 unused volumes?"
        assert "old1, old2" in screen.detail
        await pilot.press("y")
        await wait_for(
            pilot, lambda: [v.name for v in tui_engine.volumes.list()] == ["kept"], what="the prune"
        )
        await wait_for(
            pilot, lambda: any("Removed 2 unused volumes" in n for n in notifications(app)), what="news"
        )
        await wait_for(
            pilot, lambda: list(app.main.query_one(VolumesTable).records) == ["kept"], what="the list"
        )


async def test_networks_create_inspect_remove_prune(tui_engine, config, busybox):
    app = make_app(tui_engine, config)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        table = app.main.query_one(NetworksTable)
        await pilot.press("5", "c")
        await pilot.pause(0.2)
        assert type(app.screen).__name__ == "NetworkDialog"
        await pilot.press(*"backnet", "tab", *"10.231.7.0/24", "tab", *"10.231.7.254", "tab", "space")
        await pilot.press("tab", *"role=test", "enter")
        await wait_for(pilot, lambda: "backnet" in table.records, what="the new network listed")
        net = tui_engine.networks.get("backnet")
        assert (net.subnet, net.gateway, net.internal, net.labels) == (
            "10.231.7.0/24", "10.231.7.254", True, {"role": "test"}
        )  # fmt: skip
        row = _row(table, "backnet")
        assert row["subnet"] == "10.231.7.0/24" and row["internal"] == "yes"
        # an overlapping subnet: the dialog keeps its fields and shows the engine's words
        await pilot.press("c")
        await pilot.pause(0.2)
        await pilot.press(*"clash", "tab", *"10.231.7.0/25", "tab", "tab", "space", "tab", "enter")
        await wait_for(
            pilot,
            lambda: "overlaps" in str(app.screen.query_one("#dialog-error").render()),
            what="the refusal",
        )
        await pilot.press("escape")
        assert "clash" not in [n.name for n in tui_engine.networks.list()]
        # inspect
        _select(table, "backnet")
        await pilot.press("enter")
        tree = app.main.query_one(InspectTree)
        await wait_for(pilot, lambda: str(tree.root.label) == "network backnet", what="the network inspected")
        assert "Internal: true" in {str(n.label) for n in tree.root.children}
        # a pre-defined network is not removed
        _select(table, "bridge")
        await pilot.press("d")
        await wait_for(pilot, lambda: any("pre-defined" in n for n in notifications(app)), what="the warning")
        # prune: only the user network goes, and the app says which
        tui_engine.networks.create("spare", internal=True)
        await wait_for(pilot, lambda: "spare" in table.records, what="a network made elsewhere")
        await pilot.press("P")
        await pilot.pause(0.2)
        assert app.screen.TITLE_TEXT == "Prune 2 unused networks?"
        assert "backnet, spare" in app.screen.detail
        await pilot.press("y")
        await wait_for(
            pilot, lambda: "backnet" not in table.records and "spare" not in table.records, what="prune"
        )
        assert {n.name for n in tui_engine.networks.list()} == {"bridge", "host", "none"}
        assert any("Removed 2 unused networks: backnet, spare" in n for n in notifications(app))


async def test_connect_and_disconnect_a_container(tui_engine, config, busybox):
    tui_engine.networks.create("front", internal=True)
    tui_engine.networks.create("back", internal=True)
    c = tui_engine.containers.run("busybox", CreateOptions(name="svc", command=BUSY_LOOP, network="front"))
    try:
        app = make_app(tui_engine, config)
        async with app.run_test(size=(140, 40)) as pilot:
            await settle(pilot)
            networks = app.main.query_one(NetworksTable)
            assert _row(networks, "front")["users"] == "svc"
            # a network with a container on it: the engine refuses to remove it
            await pilot.press("5")
            _select(networks, "front")
            await pilot.press("d", "y")
            await wait_for(
                pilot, lambda: any("active endpoints" in n for n in notifications(app)), what="refusal"
            )
            await pilot.press("1")
            await pilot.press("N")
            await pilot.pause(0.2)
            dialog = app.screen
            assert type(dialog).__name__ == "ConnectDialog"
            assert set(dialog.networks) == {"bridge", "back", "front"}  # host and none cannot be joined later
            boxes = {str(b.label): b for b in dialog.query("Checkbox")}
            assert boxes["front"].value and not boxes["back"].value
            boxes["back"].value = True
            boxes["front"].value = False
            await pilot.click("#ok")
            await wait_for(pilot, lambda: c.id in tui_engine.networks.containers("back"), what="connected")
            await wait_for(pilot, lambda: c.id not in tui_engine.networks.containers("front"), what="gone")
            assert set(tui_engine.containers.get(c.id).networks) == {"back"}
            await wait_for(pilot, lambda: _row(networks, "back")["users"] == "svc", what="the list")
            await wait_for(pilot, lambda: _row(networks, "front")["users"] == "-", what="front left")
    finally:
        tui_engine.containers.remove(c.id, force=True)
