"""Make the screenshots in screenshots/: ``python -m app.tui.screenshots DIR [--debian]``.

A throw-away engine root gets busybox (and with ``--debian`` a Debian image, for a bash session; that takes
about 40 s), a two-layer image committed from a container, a few real containers (one writing logs, one
busy, one exited, one created), two volumes and an internal network; the last view adds 196 containers. The app then runs headless at fixed sizes; each view is saved as SVG
and turned into PNG with ``rsvg-convert`` (Debian package librsvg2-bin). Everything is removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from typing import Any

from engine import CreateOptions, Engine

from .app import DockyardApp
from .config import Config
from .hostinfo import example_host

Step = Callable[[Any], Awaitable[None]]

WEB = (
    "trap 'exit 0' TERM; i=0; while true; do i=$((i+1)); "
    'echo "$(date +%T) GET /api/items/$i 200 $((i*7%300))ms"; '
    '[ $((i % 9)) -eq 0 ] && echo "warning: slow query on items ($i)" >&2; sleep 0.3; done'
)
BUSY = "trap 'exit 0' TERM; while true; do i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; sleep 0.2; done"


def prepare(eng: Engine, debian: bool) -> list[str]:
    """Images and containers to show; returns the container ids (to remove afterwards)."""
    eng.images.bootstrap("busybox")
    made: list[str] = []

    def run(name: str, script: str, image: str = "busybox", start: bool = True, **kw: Any) -> str:
        opts = CreateOptions(name=name, command=["sh", "-c", script], network="none", **kw)
        c = eng.containers.run(image, opts) if start else eng.containers.create(image, opts)
        made.append(c.id)
        return c.id

    builder = run(
        "builder",
        "mkdir -p /srv/app && echo 'listen 8080' > /srv/app/app.conf && "
        "dd if=/dev/zero of=/srv/app/data.bin bs=1024 count=300 2>/dev/null && rm /bin/vi",
    )
    eng.containers.wait(builder)
    eng.containers.commit(builder, "shop/web:1.4", "add the app")
    if debian:
        debian_id = eng.images.bootstrap("debian")
        run("devbox", "trap 'exit 0' TERM; while true; do sleep 1; done", debian_id)
    image = "shop/web:1.4"
    run("web", WEB, image, memory=256 * 1024 * 1024)
    run("worker", BUSY, cpus=0.5)
    run("migrate", "echo migrated 12 tables; exit 0")
    run("cache", "sleep 3600", start=False)
    eng.containers.remove(builder, force=True)
    made.remove(builder)
    eng.volumes.create("shop-data", labels={"app": "shop"})
    eng.volumes.create("uploads")
    eng.networks.create("shop-internal", internal=True, labels={"app": "shop"})  # no route off the machine
    return made


async def _settle(pilot: Any, seconds: float = 0.6) -> None:
    app = pilot.app
    deadline = time.monotonic() + 10
    while not app.loaded.is_set() and time.monotonic() < deadline:
        await pilot.pause(0.05)
    await pilot.pause(seconds)
    await app.workers.wait_for_complete()
    await pilot.pause(0.2)


def _select(app: DockyardApp, name: str) -> None:
    table = app.main.containers
    for cid, c in table.records.items():
        if c.name == name:
            table.move_cursor(row=table.get_row_index(cid))
    table.focus()


def views(debian: bool) -> list[tuple[str, tuple[int, int], Step]]:
    async def main(pilot: Any) -> None:
        await _settle(pilot, 2.5)
        _select(pilot.app, "web")
        await _settle(pilot)

    async def layers(pilot: Any) -> None:
        await _settle(pilot)
        await pilot.press("2")
        images = pilot.app.main.images
        for iid, im in images.records.items():
            if "shop/web:1.4" in im.tags:
                images.move_cursor(row=images.get_row_index(iid))
        await _settle(pilot)
        await pilot.press("3")
        await _settle(pilot)

    async def logs(pilot: Any) -> None:
        await _settle(pilot, 1.0)
        _select(pilot.app, "web")
        await pilot.press("l")
        await _settle(pilot, 1.0)
        await pilot.press("slash", *"slow", "enter")
        await _settle(pilot)
        await pilot.press("G")
        await _settle(pilot)

    async def stats(pilot: Any) -> None:
        await _settle(pilot)
        _select(pilot.app, "worker")
        await pilot.press("S")
        await pilot.pause(12)
        await _settle(pilot)

    async def terminal(pilot: Any) -> None:
        await _settle(pilot)
        _select(pilot.app, "devbox" if debian else "web")
        await pilot.press("e")
        await pilot.pause(1.5)
        for line in (
            "echo $0; id",
            "ls /",
            "ls -l /srv/app 2>/dev/null || ls /bin | head -5",
            "head -3 /etc/os-release",
            "printf '\\033[1;32mgreen\\033[0m \\033[7mreverse\\033[0m \\033[4munderline\\033[0m\\n'",
        ):
            await pilot.press(*line, "enter")
            await pilot.pause(0.6)
        await _settle(pilot)

    async def run_dialog(pilot: Any) -> None:
        await _settle(pilot)
        await pilot.press("2", "enter")
        await _settle(pilot, 0.3)

    def press_on(keys: tuple[str, ...], select: str = "web", wait: float = 0.6) -> Step:
        async def step(pilot: Any) -> None:
            await _settle(pilot)
            _select(pilot.app, select)
            await _settle(pilot, 0.3)
            await pilot.press(*keys)
            await _settle(pilot, wait)

        return step

    async def env(pilot: Any) -> None:
        await _settle(pilot)
        _select(pilot.app, "web")
        pilot.app.main.open_tab("tab-env", focus=False)
        await _settle(pilot)

    async def command_log(pilot: Any) -> None:
        await _settle(pilot)
        _select(pilot.app, "cache")
        await pilot.press("s")
        await _settle(pilot, 1.0)
        await pilot.press("h")
        await _settle(pilot)

    async def projects(pilot: Any) -> None:
        await _settle(pilot)
        await asyncio.to_thread(_compose_project, pilot.app.engine)
        pilot.app.reload()
        await _settle(pilot)
        await pilot.press("6")
        await _settle(pilot, 1.5)
        screen = pilot.app.screen
        screen.ptree.select_key("p:shop")
        await _settle(pilot, 1.0)

    async def many(pilot: Any) -> None:
        eng = pilot.app.engine
        await asyncio.to_thread(
            lambda: [
                eng.containers.create(
                    "busybox", CreateOptions(name=f"job-{i:03}", command=["true"], network="none")
                )
                for i in range(1, 197)
            ]
        )
        pilot.app.reload()
        await _settle(pilot, 2.0)

    async def light(pilot: Any) -> None:
        pilot.app.theme = "dockyard-light"
        await main(pilot)

    async def high_contrast(pilot: Any) -> None:
        pilot.app.theme = "dockyard-high-contrast"
        await main(pilot)

    return [
        ("main", (130, 36), main),
        ("main-80x24", (80, 24), main),
        ("layers", (130, 36), layers),
        ("logs", (130, 36), logs),
        ("stats", (130, 36), stats),
        ("terminal", (130, 36), terminal),
        ("run-dialog", (100, 30), run_dialog),
        ("theme-light", (130, 36), light),
        ("theme-high-contrast", (130, 36), high_contrast),
        ("help", (130, 40), press_on(("question_mark",))),
        ("palette", (130, 36), press_on(("ctrl+p",))),
        ("build-dialog", (110, 32), press_on(("b",))),
        ("pull-dialog", (110, 32), press_on(("u",))),
        ("volumes", (130, 36), press_on(("4",))),
        ("networks", (130, 36), press_on(("5",))),
        ("env", (130, 36), env),
        ("top", (130, 36), press_on(("T",), "worker")),
        ("events", (130, 36), press_on(("E",))),
        ("filter", (130, 36), press_on(("slash", *"w"), wait=0.3)),
        ("disk-usage", (130, 36), press_on(("D",), wait=1.5)),
        ("command-log", (130, 36), command_log),
        ("projects", (150, 40), projects),
        ("list-200", (130, 40), many),  # last: it adds 196 containers
    ]


SHOP = """\
name: shop
services:
  db:
    image: shop/web:1.4
    command: ["sh", "-c", "trap 'exit 0' TERM; echo db ready; while true; do sleep 1; done"]
    healthcheck: {test: ["CMD", "true"], interval: 1s}
    networks: [back]
  api:
    image: shop/web:1.4
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do echo GET /api/items 200; sleep 0.5; done"]
    environment: {MODE: %s}
    scale: %d
    depends_on: {db: {condition: service_healthy}}
    networks: [back]
  worker:
    image: shop/web:1.4
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
    networks: [back]
networks:
  back: {internal: true}
"""


def _compose_project(eng: Engine) -> None:
    """A compose project brought up, then its file edited (api's environment and scale): the Projects view
    shows what up would change."""
    from engine import Compose, load_compose

    d = os.path.join(eng.root, "shop")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "compose.yaml")
    with open(path, "w") as f:
        f.write(SHOP % ("live", 2))
    Compose(eng, load_compose([path])).up()
    with open(path, "w") as f:
        f.write(SHOP % ("canary", 3))


async def shoot(eng: Engine, out: str, name: str, size: tuple[int, int], step: Step, config_path: str) -> str:
    app = DockyardApp(eng, Config(path=config_path), host=example_host)
    app.root_label = "/var/lib/dockyard"
    async with app.run_test(size=size) as pilot:
        await step(pilot)
        svg = os.path.join(out, f"{name}.svg")
        app.save_screenshot(os.path.basename(svg), os.path.dirname(svg))
        for view in app.main.query("TerminalView"):
            view.session.close()  # type: ignore[attr-defined]
    return svg


def to_png(svg: str) -> str | None:
    tool = shutil.which("rsvg-convert")
    if tool is None:
        return None
    png = svg[:-4] + ".png"
    subprocess.run([tool, svg, "-o", png], check=True)
    return png


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.tui.screenshots")
    parser.add_argument("out", nargs="?", default="screenshots")
    parser.add_argument("--debian", action="store_true", help="bootstrap Debian for a bash session (~40 s)")
    parser.add_argument("--only", action="append", help="only these views (main, layers, logs, stats, ...)")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    if shutil.which("rsvg-convert") is None:
        print("rsvg-convert is missing (apt-get install librsvg2-bin): writing SVG only", file=sys.stderr)
    root = tempfile.mkdtemp(prefix="dockyard-shots-")
    eng = Engine(root)
    made: list[str] = []
    try:
        made = prepare(eng, args.debian)
        for name, size, step in views(args.debian):
            if args.only and name not in args.only:
                continue
            svg = asyncio.run(shoot(eng, args.out, name, size, step, os.path.join(root, "config.toml")))
            png = to_png(svg)
            print(f"{name}: {svg}" + (f", {png}" if png else ""))
    finally:
        for cid in set(made) | {c.id for c in eng.containers.list(all=True)}:
            with contextlib.suppress(Exception):
                eng.containers.remove(cid, force=True)
        eng.discard()  # the root's cgroup parent, its networks' bridges and firewall rules, its files
    return 0


if __name__ == "__main__":
    sys.exit(main())
