"""Pull from the app (key u): per-layer progress, cancelling, and searching a registry, against a real
registry on a loopback port (docker-registry) whose images are pushed from another engine root."""

from __future__ import annotations

import io
import os
import tarfile
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread
from typing import Any

import pytest

from app.tui.dialogs.pull import PullDialog
from app.tui.widgets.images_table import ImagesTable
from engine import Engine, ImageNotFound
from tests.engine.registry.helpers import Front, Registry

from .conftest import make_app, make_fixed_image, notifications, settle, wait_for

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]


@pytest.fixture(autouse=True)
def auth_file(tmp_path, monkeypatch) -> None:
    """Registry credentials go to a file of the test's own."""
    monkeypatch.setenv("DOCKYARD_AUTH_FILE", str(tmp_path / "auth" / "auth.json"))
    monkeypatch.delenv("DOCKYARD_INSECURE_REGISTRIES", raising=False)


@pytest.fixture
def registry(tmp_path) -> Iterator[Registry]:
    import shutil

    if shutil.which("docker-registry") is None:
        pytest.skip("docker-registry is not installed (apt-get install docker-registry)")
    reg = Registry(str(tmp_path / "registry"))
    yield reg
    reg.stop()


@pytest.fixture
def source(tmp_path) -> Iterator[Engine]:
    """Another engine root: the machine that pushed the images."""
    from tests.conftest import _cleanup_root

    path = str(tmp_path / "source-root")
    os.makedirs(path)
    yield Engine(path)
    _cleanup_root(path)


def push_fixture(source: Engine, host: str, *tags: str) -> str:
    """The three-layer fixture image pushed as ``host/fixture/app:TAG`` for each tag; its ID."""
    image_id = make_fixed_image(source)
    for tag in tags:
        source.images.tag(image_id, f"{host}/fixture/app:{tag}")
        source.images.push(f"{host}/fixture/app", tag)
    return image_id


def push_big(source: Engine, ref: str, size: int = 6 << 20) -> None:
    """An image of one layer holding ``size`` random bytes (so that its download takes a while)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("blob.bin")
        info.size = size
        tar.addfile(info, io.BytesIO(os.urandom(size)))
    import hashlib

    data = buf.getvalue()
    layer = source.images.store.add_layer_from_tar(io.BytesIO(data), None)
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(data).hexdigest()]},
        "history": [{"created_by": "ADD blob.bin /"}],
    }
    source.images.store.create([layer], config, [ref])
    source.images.push(ref)


class SlowFront(Front):
    """The registry behind a front end that sends blobs slowly (64 kB every 30 ms)."""

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        if h.command == "GET" and "/blobs/sha256:" in h.path:
            inner = h.wfile

            class Slow:
                def write(self, data: bytes) -> int:
                    time.sleep(0.03)
                    return inner.write(data)

                def flush(self) -> None:
                    inner.flush()

            h.wfile = Slow()  # type: ignore[assignment]
        super().handle(h)


async def test_pull_shows_each_layer_and_the_image_arrives(tui_engine, config, registry, source):
    image_id = push_fixture(source, registry.host, "1.0")
    ref = f"{registry.host}/fixture/app:1.0"
    app = make_app(tui_engine, config)
    async with app.run_test(size=(130, 40)) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await pilot.pause(0.2)
        dialog = app.screen
        assert isinstance(dialog, PullDialog)
        dialog.query_one("#ref").focus()
        await pilot.press(*ref, "enter")
        await wait_for(pilot, lambda: not dialog.pulling and dialog.pulled, timeout=30, what="the pull")
        rows = dialog.layer_rows()
        assert len(rows) == 3
        for state, current, total in rows.values():
            assert state == "Pull complete" and current == total > 0
        assert "Downloaded newer image for" in dialog.status_text
        # the engine has the image, byte for byte the one pushed, and the Images list shows it
        assert tui_engine.images.get(ref).id == image_id
        images = app.main.query_one(ImagesTable)
        await wait_for(pilot, lambda: image_id in images.records, what="the image listed")
        # again: nothing to download
        await pilot.press("enter")
        await wait_for(pilot, lambda: "up to date" in dialog.status_text, timeout=30, what="the second pull")
        assert {s for s, _c, _t in dialog.layer_rows().values()} == {"Already exists"}
        await pilot.press("escape")
        assert not isinstance(app.screen, PullDialog)
        assert any(ref in n for n in notifications(app))


async def test_pull_failure_is_shown(tui_engine, config, registry):
    app = make_app(tui_engine, config, feeds=False)
    async with app.run_test(size=(130, 40)) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await pilot.pause(0.2)
        dialog = app.screen
        dialog.query_one("#ref").focus()
        await pilot.press(*f"{registry.host}/no/such:1", "enter")
        await wait_for(
            pilot, lambda: not dialog.pulling and dialog.status_text, timeout=30, what="the failure"
        )
        await wait_for(pilot, lambda: "not found" in dialog.status_text or "denied" in dialog.status_text)
        assert isinstance(app.screen, PullDialog)  # the dialog stays, with the engine's words
        assert not tui_engine.images.list()


async def test_cancel_a_pull_under_way(tui_engine, config, registry, source):
    ref_path = "big/blob:1"
    push_big(source, f"{registry.host}/{ref_path}")
    front = SlowFront(registry.host)
    try:
        app = make_app(tui_engine, config, feeds=False)
        async with app.run_test(size=(130, 40)) as pilot:
            await settle(pilot)
            await pilot.press("u")
            await pilot.pause(0.2)
            dialog = app.screen
            dialog.query_one("#ref").focus()
            await pilot.press(*f"{front.host}/{ref_path}", "enter")
            await wait_for(
                pilot,
                lambda: any(s == "Downloading" and c > 0 for s, c, _t in dialog.layer_rows().values()),
                timeout=30,
                what="the download under way",
            )
            await pilot.press("escape")
            assert isinstance(app.screen, PullDialog)  # the first escape cancels, the dialog stays
            await wait_for(pilot, lambda: not dialog.pulling, timeout=30, what="the pull to stop")
            assert "Cancelled" in dialog.status_text
            ((state, current, total),) = dialog.layer_rows().values()
            assert current < total
            with pytest.raises(ImageNotFound):
                tui_engine.images.get(f"{front.host}/{ref_path}")
            await pilot.press("escape")
            assert not isinstance(app.screen, PullDialog)
    finally:
        front.stop()


class NoCatalog:
    """A server that answers like a registry (``/v2/``) but has no catalog (404), as most public ones."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_a: Any) -> None:
                pass

            def do_GET(self) -> None:
                body = b"{}" if self.path == "/v2/" else b'{"errors":[{"code":"UNSUPPORTED","message":"no"}]}'
                self.send_response(200 if self.path == "/v2/" else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


async def test_search_a_registry_then_pull_what_was_found(tui_engine, config, registry, source):
    push_fixture(source, registry.host, "latest")
    source.images.tag("fixture/app:1.0", f"{registry.host}/other/thing:latest")
    source.images.push(f"{registry.host}/other/thing", "latest")
    app = make_app(tui_engine, config, feeds=False)
    async with app.run_test(size=(130, 40)) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await pilot.pause(0.2)
        dialog = app.screen
        assert app.focused is dialog.query_one("#search")
        await pilot.press(*f"{registry.host}/fix", "enter")
        await wait_for(pilot, lambda: dialog.found, timeout=20, what="the search")
        assert [r.name for r in dialog.found] == [f"{registry.host}/fixture/app"]
        assert "1 found" in dialog.status_text
        await pilot.press("enter")  # take the result
        assert dialog.query_one("#ref").value == f"{registry.host}/fixture/app"
        await pilot.press("enter")
        await wait_for(pilot, lambda: not dialog.pulling and dialog.pulled, timeout=30, what="the pull")
        assert tui_engine.images.get(f"{registry.host}/fixture/app:latest")
        # a registry without a catalog says it offers no search
        other = NoCatalog()
        try:
            dialog.query_one("#search").value = ""
            dialog.query_one("#search").focus()
            await pilot.press(*f"{other.host}/anything", "enter")
            await wait_for(
                pilot, lambda: "offers no search" in dialog.status_text, timeout=20, what="the refusal"
            )
        finally:
            other.stop()
