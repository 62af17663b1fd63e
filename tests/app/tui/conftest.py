"""Fixtures for the app's tests: a real engine in a temporary root, images with fixed content (so
snapshots do not change from run to run), real containers that are always removed, and helpers that
drive the app with Textual's Pilot and wait for what the engine does in the background."""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import tarfile
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

from app.tui.app import DockyardApp
from app.tui.config import Config
from app.tui.hostinfo import example_host
from engine import CreateOptions, Engine
from engine.humanize import parse_time

from .screen_text import screen_text

FIXED_NOW = parse_time("2024-03-01T12:00:00Z")
BUSY_LOOP = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]


def fixed_clock() -> float:
    return FIXED_NOW


@pytest.fixture
def tui_engine(root: str) -> Engine:
    """An engine over the test's own root (the ``root`` fixture removes every container afterwards)."""
    return Engine(root)


@pytest.fixture
def config(tmp_path) -> Config:
    return Config(path=str(tmp_path / "config.toml"))


def _tar(files: dict[str, bytes | None]) -> bytes:
    """A layer tar with fixed metadata; a None value is a whiteout (the path is deleted)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        dirs: set[str] = set()
        for path in sorted(files):
            parts = path.split("/")[:-1]
            for i in range(1, len(parts) + 1):
                d = "/".join(parts[:i])
                if d not in dirs:
                    dirs.add(d)
                    info = tarfile.TarInfo(d)
                    info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, 1700000000
                    tar.addfile(info)
            data = files[path]
            name = path if data is not None else "/".join(parts + [".wh." + path.split("/")[-1]])
            info = tarfile.TarInfo(name)
            info.mode, info.mtime = 0o644, 1700000000
            info.size = len(data or b"")
            tar.addfile(info, io.BytesIO(data or b""))
    return buf.getvalue()


FIXED_LAYERS = [
    (
        "ADD rootfs.tar / # buildkit",
        {"etc/os-release": b"NAME=fixture\n", "bin/tool": b"\x7fELF" + b"x" * 4000},
    ),
    ("RUN /bin/sh -c make install", {"usr/lib/libbig.so": b"L" * 120_000, "etc/app.conf": b"debug=1\n"}),
    (
        "RUN /bin/sh -c rm /usr/lib/libbig.so && edit conf",
        {"usr/lib/libbig.so": None, "etc/app.conf": b"debug=0\n"},
    ),
]


def make_fixed_image(eng: Engine, tag: str = "fixture/app:1.0") -> str:
    """A three-layer image whose every byte is fixed (so its ID, sizes and dates never change)."""
    layers, diff_ids, history = [], [], []
    parent = None
    for created_by, files in FIXED_LAYERS:
        data = _tar(files)
        layer = eng.images.store.add_layer_from_tar(io.BytesIO(data), parent)
        parent = layer.chain_id
        layers.append(layer)
        diff_ids.append("sha256:" + hashlib.sha256(data).hexdigest())
        history.append({"created": "2024-01-15T10:00:00Z", "created_by": created_by})
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": "2024-01-15T10:00:00Z",
        "config": {"Cmd": ["sh"], "Env": ["PATH=/usr/bin:/bin"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": history,
    }
    return eng.images.store.create(layers, config, [tag])


@pytest.fixture
def fixed_ids(monkeypatch) -> None:
    """Container IDs from a counter instead of random bytes, so screenshots are the same on every run."""
    counter = itertools.count(1)
    monkeypatch.setattr(
        "engine.runtime.create.new_id", lambda: hashlib.sha256(str(next(counter)).encode()).hexdigest()
    )


@pytest.fixture
def containers(tui_engine: Engine) -> Iterator[Callable[..., Any]]:
    """Start real containers (``containers(command=[...], name=...)``); all are removed afterwards."""
    made: list[str] = []

    def run(command: list[str] | None = None, name: str | None = None, start: bool = True, **kw: Any) -> Any:
        opts = CreateOptions(command=command or BUSY_LOOP, name=name, network="none", **kw)
        c = (
            tui_engine.containers.run("busybox", opts)
            if start
            else tui_engine.containers.create("busybox", opts)
        )
        made.append(c.id)
        return c

    try:
        yield run
    finally:
        for cid in made:
            try:
                tui_engine.containers.remove(cid, force=True)
            except Exception:
                pass


def make_app(
    eng: Engine, config: Config, clock: Callable[[], float] | None = None, feeds: bool = True
) -> DockyardApp:
    return DockyardApp(eng, config, clock=clock or time.time, feeds=feeds, host=example_host)


async def wait_for(pilot: Any, condition: Callable[[], bool], timeout: float = 10.0, what: str = "") -> None:
    """Let the app run until ``condition()`` holds (engine work happens in threads)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            shown = screen_text(pilot.app)
            raise AssertionError(f"timed out waiting for {what or condition}; the screen shows:\n{shown}")
        await pilot.pause(0.05)


async def settle(pilot: Any) -> None:
    """Wait until the lists are loaded and no worker is busy (before a screenshot)."""
    app = pilot.app
    await wait_for(pilot, app.loaded.is_set, what="the first lists")
    for _ in range(3):
        await pilot.pause(0.3)
        await app.workers.wait_for_complete()
    await pilot.pause(0.2)


async def select_container(pilot: Any, cid: str) -> Any:
    """Once the lists are on screen, put the containers list's cursor on container ``cid`` and the focus in
    the list (what the detail tabs then show is that container's); returns the list."""
    from app.tui.widgets.containers_table import ContainersTable

    app = pilot.app
    await settle(pilot)
    table = app.main.query_one(ContainersTable)
    await wait_for(pilot, lambda: cid in table.records, what="the container's row")
    table.move_cursor(row=table.get_row_index(cid))
    table.focus()
    return table


async def open_logs(pilot: Any, cid: str) -> Any:
    """Container ``cid`` selected (see ``select_container``) and its Logs tab opened: the tab's log view."""
    from app.tui.widgets.log_view import LogView

    await select_container(pilot, cid)
    await pilot.press("l")
    return pilot.app.main.query_one(LogView)


def status_of(eng: Engine, ref: str) -> str:
    return eng.containers.get(ref).status


def notifications(app: DockyardApp) -> list[str]:
    return [n.message for n in app._notifications]


Waiter = Callable[..., Awaitable[None]]
__all__ = [
    "FIXED_NOW",
    "fixed_clock",
    "make_app",
    "make_fixed_image",
    "select_container",
    "settle",
    "status_of",
    "wait_for",
    "json",
]
