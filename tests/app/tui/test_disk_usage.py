"""Disk usage (key D): the app's ``system df -v``, checked against what is on disk."""

from __future__ import annotations

import os

import pytest

from app.tui.dialogs.disk_usage import DiskUsageDialog
from engine import BuildOptions
from engine.humanize import human_size

from .conftest import make_app, settle, wait_for

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]


async def test_disk_usage_lists_images_containers_volumes_and_build_cache(
    tui_engine, config, busybox, containers, tmp_path
):
    vol = tui_engine.volumes.create("bulk")
    with open(os.path.join(vol.mountpoint, "payload"), "wb") as f:
        f.write(b"x" * 300_000)
    tui_engine.volumes.create("idle")
    c = containers(name="holder", volumes=["bulk:/bulk"], start=False)
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM busybox\nRUN echo made > /made.txt\nENV MODE=test\n")
    built = tui_engine.images.build(BuildOptions(str(ctx), tags=["made:1"], network="none"))
    app = make_app(tui_engine, config, feeds=False)
    async with app.run_test(size=(140, 44)) as pilot:
        await settle(pilot)
        await pilot.press("D")
        await pilot.pause(0.2)
        dialog = app.screen
        assert isinstance(dialog, DiskUsageDialog)
        await wait_for(pilot, lambda: dialog.usage is not None, timeout=20, what="the usage read")
        await pilot.pause(0.2)
        summary = {row[0]: row[1:] for row in dialog.table_text("df-summary")}
        du = tui_engine.df()
        assert summary["Images"][:2] == [str(du.images), str(du.images_active)] == ["2", "1"]
        assert summary["Containers"][:2] == ["1", "0"]
        assert summary["Local Volumes"][:3] == ["2", "1", human_size(du.volumes_size)]
        assert du.volumes_size >= 300_000
        assert summary["Local Volumes"][3] == f"{human_size(0)} (0%)"  # only the idle, empty one would go
        cache_total, cache_active = int(summary["Build Cache"][0]), int(summary["Build Cache"][1])
        assert cache_total >= 2 and cache_active >= 1  # RUN and ENV, both used by the image made:1
        volumes = {row[0]: row[1:] for row in dialog.table_text("df-volumes")}
        assert volumes["bulk"][0] == "1" and volumes["idle"][0] == "0"
        containers_rows = dialog.table_text("df-containers")
        assert [r[0] for r in containers_rows] == [c.id[:12]] and containers_rows[0][-1] == "holder"
        images = {row[0] + ":" + row[1]: row for row in dialog.table_text("df-images")}
        assert images["made:1"][2] == built[7:19]
        cache = dialog.table_text("df-cache")
        assert any(r[1] == "regular" and r[5] == "true" and "echo made" in r[7] for r in cache)
        # the image goes: its RUN layer is now kept by the build cache only, and shown as reclaimable
        tui_engine.images.remove("made:1")
        await pilot.press("r")
        await wait_for(
            pilot, lambda: dialog.table_text("df-summary")[3][3] != "0B", timeout=20, what="re-read"
        )
        row = dialog.table_text("df-summary")[3]
        assert row[0] == "Build Cache" and row[3] == human_size(tui_engine.df().build_cache_size)
        assert row[4].startswith(row[3])  # all of it reclaimable
        await pilot.press("escape")
        assert not isinstance(app.screen, DiskUsageDialog)
