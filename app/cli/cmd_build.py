"""``build`` (with ``--watch``) and ``builder prune``.

Progress goes to standard error: ``--progress plain`` prints BuildKit-style lines (``#3 [2/5] RUN echo hi``,
the step's output, ``#3 DONE 0.2s``); ``--progress tty`` draws a live view with rich (steps, durations,
the last output lines of the running step); ``auto`` picks tty on a terminal. ``-q`` prints nothing but the
image ID, on standard output.
"""

from __future__ import annotations

import os
import sys
import time

from . import flags, output
from .commands import engine

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from engine import BuildOptions, Engine


def register(sub: flags.Commands) -> None:
    p = sub.add_parser("build", help="Build an image from a Dockerfile")
    p.add_argument("-t", "--tag", action="append", default=[], metavar="REF", help="Name and tag the image")
    p.add_argument("-f", "--file", metavar="FILE", help="The Dockerfile (default: CONTEXT/Dockerfile)")
    p.add_argument(
        "--build-arg", action="append", default=[], metavar="K=V", help="Set a build-time variable"
    )
    p.add_argument("--target", metavar="STAGE", help="Build this stage and what it needs, not the last one")
    p.add_argument("--no-cache", action="store_true", help="Do not use the build cache")
    p.add_argument("--label", action="append", default=[], metavar="K=V", help="Set a label on the image")
    p.add_argument("-q", "--quiet", action="store_true", help="Print only the image ID")
    p.add_argument("--progress", choices=("auto", "plain", "tty"), default="auto", help="Progress output")
    p.add_argument("--watch", action="store_true", help="Rebuild whenever the context changes")
    p.add_argument("--run", metavar="NAME", help="With --watch: (re)start container NAME from each new image")
    p.add_argument("context", metavar="CONTEXT", help="The build context directory")
    p.set_defaults(handler=cmd_build)

    builder = sub.add_parser("builder", help="Manage the build cache")
    bsub = builder.add_subparsers(dest="builder_command", metavar="COMMAND")
    pr = bsub.add_parser("prune", help="Remove build cache")
    pr.add_argument("-a", "--all", action="store_true", help="Remove all cache, not only unused entries")
    pr.add_argument("-f", "--force", action="store_true", help="Do not prompt for confirmation")
    pr.add_argument(
        "--filter", action="append", default=[], metavar="until=DURATION", help="Keep newer cache"
    )
    pr.set_defaults(handler=cmd_builder_prune)


# -- argument parsing --------------------------------------------------------------------------------


def _pairs(items: list[str], what: str, from_env: bool) -> dict[str, Any]:
    from engine import InvalidArgument

    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not key:
            raise InvalidArgument(f"invalid {what}: {item!r} (want KEY=VALUE)")
        if sep:
            out[key] = value
        elif from_env:
            out[key] = os.environ.get(key)  # Docker takes a bare --build-arg NAME from the environment
        else:
            out[key] = ""
    return out


def _dockerfile(a: flags.Namespace) -> str | None:
    if not a.file:
        return None
    if os.path.isabs(a.file) or os.path.exists(a.file):
        return os.path.abspath(a.file)
    return a.file  # relative to the context


# -- renderers ---------------------------------------------------------------------------------------------


class PlainProgress:
    """BuildKit's ``--progress plain``: one line per event on standard error."""

    def __init__(self, out: Any = None) -> None:
        self.out = out or sys.stderr

    def __call__(self, event: Any) -> None:
        self.out.write(event.message + "\n")
        self.out.flush()

    def close(self) -> None:
        pass


class TtyProgress:
    """A live view: one line per step (CACHED, running with a spinner, done with its time, ERROR), the last
    output lines of the running step, and a header with the elapsed time."""

    TAIL = 6

    def __init__(self) -> None:
        from rich.console import Console

        self.console = Console(stderr=True)
        self.live: Any = None
        self.steps: dict[int, dict[str, Any]] = {}
        self.order: list[int] = []
        self.started = time.monotonic()
        self.drawn = 0.0
        self.title = "Building"

    def _start(self) -> None:
        from rich.live import Live

        self.started = time.monotonic()
        self.steps.clear()
        self.order.clear()
        # No refresh thread: the view is redrawn on each event. (A second thread would make every RUN
        # step start its container's supervisor as a new interpreter instead of a fork.)
        self.live = Live(self.render(), console=self.console, auto_refresh=False, transient=False)
        self.live.start()

    def __call__(self, event: Any) -> None:
        kind = event.kind
        if kind == "watch":
            self.close()
            self.console.print(f"[bold cyan]watch[/] {event.text}")
            return
        if self.live is None:
            if kind in ("warning", "error") and not event.vertex:
                self.console.print(f"[yellow]{event.message}[/]")
                return
            self._start()
        if kind == "info":
            pass
        elif kind == "warning":
            self.console.print(f"[yellow]{event.message}[/]")
        elif event.vertex:
            step = self.steps.get(event.vertex)
            if step is None:
                step = {"label": event.label, "status": "running", "start": time.monotonic(), "lines": []}
                self.steps[event.vertex] = step
                self.order.append(event.vertex)
            if kind == "output":
                step["lines"].append(event.text)
            elif kind in ("done", "cached", "error"):
                step["status"] = kind
                step["elapsed"] = event.elapsed
                if kind == "error":
                    step["error"] = event.text
        elif kind == "error":
            self.console.print(f"[red]{event.message}[/]")
        if kind == "result":
            self.title = "Built"
            self.live.update(self.render(done=True, image=event.image_id), refresh=True)
            self.close()
            return
        now = time.monotonic()
        if kind != "output" or now - self.drawn > 0.05:
            self.drawn = now
            self.live.update(self.render(), refresh=True)

    def render(self, done: bool = False, image: str = "") -> Any:
        from rich.table import Table
        from rich.text import Text

        elapsed = time.monotonic() - self.started
        finished = sum(1 for v in self.steps.values() if v["status"] != "running")
        table = Table.grid(padding=(0, 1), expand=True)
        table.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        table.add_column(justify="right", width=7)
        head = "FINISHED" if done else ""
        table.add_row(
            Text(f"[+] {self.title} {elapsed:.1f}s ({finished}/{len(self.steps)}) {head}", style="bold"), ""
        )
        for vertex in self.order:
            step = self.steps[vertex]
            status = step["status"]
            if status == "cached":
                line = Text(" => ") + Text("CACHED ", style="cyan") + Text(step["label"])
                took = f"{step.get('elapsed', 0):.1f}s"
            elif status == "running":
                line = Text(" => ", style="yellow") + Text(step["label"], style="yellow")
                took = f"{time.monotonic() - step['start']:.1f}s"
            elif status == "error":
                line = Text(" => ERROR ", style="bold red") + Text(step["label"], style="red")
                took = f"{step.get('elapsed', 0):.1f}s"
            else:
                line = Text(" => ") + Text(step["label"], style="blue")
                took = f"{step.get('elapsed', 0):.1f}s"
            table.add_row(line, took)
            if status in ("running", "error"):
                for out in step["lines"][-self.TAIL :]:
                    table.add_row(Text(" => => # " + out, style="dim"), "")
        if image:
            table.add_row(Text(f" => writing image {image}", style="green"), "")
        return table

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None


def _renderer(mode: str) -> Any:
    if mode == "auto":
        mode = "tty" if sys.stderr.isatty() else "plain"
    return TtyProgress() if mode == "tty" else PlainProgress()


# -- commands -------------------------------------------------------------------------------------------


def cmd_build(a: flags.Namespace) -> int:
    from engine import BuildOptions, InvalidArgument

    if a.run and not a.watch:
        raise InvalidArgument("--run needs --watch")
    eng = engine()
    options = BuildOptions(
        a.context,
        dockerfile=_dockerfile(a),
        tags=list(a.tag),
        build_args=_pairs(a.build_arg, "build argument", True),
        target=a.target,
        no_cache=a.no_cache,
        labels=_pairs(a.label, "label", False),
    )
    render: Callable[[Any], None]
    renderer = None
    if a.quiet:
        render = _quiet
    else:
        renderer = _renderer(a.progress)
        render = renderer
    try:
        if a.watch:
            return _watch(eng, a, options, render)
        image_id = eng.images.build(options, progress=render)
    finally:
        if renderer is not None:
            renderer.close()
    if a.quiet:
        print(image_id)
    return 0


def _quiet(event: Any) -> None:
    if event.kind == "result":
        return


def _watch(eng: Engine, a: flags.Namespace, options: BuildOptions, render: Callable[[Any], None]) -> int:
    import threading

    def show(event: Any) -> None:
        if a.quiet and event.kind == "result":
            print(event.image_id, flush=True)
        render(event)

    stop = threading.Event()
    try:
        eng.watch_build(options, progress=show, run_name=a.run, stop=stop)
    except KeyboardInterrupt:
        stop.set()
    return 0


def _parse_until(filters: list[str]) -> float | None:
    from engine import InvalidArgument
    from engine.units import parse_duration

    older = None
    for f in filters:
        key, _, value = f.partition("=")
        if key != "until":
            raise InvalidArgument(f"invalid filter '{key}'")
        older = parse_duration(value)
    return older


def cmd_builder_prune(a: flags.Namespace) -> int:
    from engine.humanize import human_size

    older = _parse_until(a.filter)
    what = "all build cache" if a.all else "all dangling build cache"
    if not output.confirmed(a.force, f"This will remove {what}."):
        return 0
    eng = engine()
    report = eng.images.prune_builds(all=a.all, older_than=older)
    if report.deleted:
        print(f"Deleted build cache objects: {report.deleted}")
    print(f"Total:\t{human_size(report.reclaimed)}")
    return 0
