"""``compose logs`` and the output of an attached ``compose up``: the containers' logs merged, each line
behind its container's name (coloured per container on a terminal)."""

from __future__ import annotations

import os
import sys
import threading

from .common import load

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from engine import Compose, Container

    from .. import flags

#: Compose's rainbow: cyan, yellow, green, magenta, blue, then their bright forms.
COLOURS = ("36", "33", "32", "35", "34", "96", "93", "92", "95", "94")


def register(cs: flags.Commands) -> None:
    p = cs.add_parser("logs", help="View output from containers")
    a = p.add_argument
    a("-f", "--follow", action="store_true", help="Follow log output")
    a(
        "-n",
        "--tail",
        default="all",
        help="Number of lines to show from the end of the logs for each container",
    )
    a("-t", "--timestamps", action="store_true", help="Show timestamps")
    a(
        "--since",
        default="",
        help="Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)",
    )
    a(
        "--until",
        default="",
        help="Show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)",
    )
    a("--no-color", action="store_true", help="Produce monochrome output")
    a("--no-log-prefix", action="store_true", help="Don't print prefix in logs")
    a("--index", type=int, default=0, help="index of the container if service has multiple replicas")
    p.add_argument("services", nargs="*", metavar="SERVICE")
    p.set_defaults(handler=cmd_logs)


class Printer:
    """Writes whole lines under a lock, each behind its container's prefix."""

    def __init__(self, names: list[str], colour: bool, prefix: bool, timestamps: bool) -> None:
        self.width = max([0, *map(len, names)])
        self.colour = colour
        self.prefix = prefix
        self.timestamps = timestamps
        self.lock = threading.Lock()
        self.colours: dict[str, str] = {}
        for i, n in enumerate(names):
            self.colours[n] = COLOURS[i % len(COLOURS)]
        self.out = sys.stdout.buffer

    def add(self, name: str) -> None:
        """A container found later: its own colour, and the prefixes widened to its name."""
        with self.lock:
            self.colours.setdefault(name, COLOURS[len(self.colours) % len(COLOURS)])
            self.width = max(self.width, len(name))

    def head(self, name: str) -> bytes:
        if not self.prefix:
            return b""
        text = f"{name.ljust(self.width)}  | "
        if self.colour:
            text = f"\x1b[{self.colours.get(name, '36')}m{name.ljust(self.width)}  |\x1b[0m "
        return text.encode()

    def line(self, name: str, data: bytes, time: str = "") -> None:
        stamp = (time + " ").encode() if self.timestamps and time else b""
        if not data.endswith(b"\n"):
            data += b"\n"
        with self.lock:
            self.out.write(self.head(name) + stamp + data)
            self.out.flush()

    def note(self, name: str, text: str) -> None:
        with self.lock:
            self.out.write(self.head(name) + text.encode() + b"\n")
            self.out.flush()


def _tail(text: str) -> int | None:
    if text == "all":
        return None
    try:
        n = int(text)
    except ValueError:
        from engine import InvalidArgument

        raise InvalidArgument(f'invalid value "{text}" for --tail: a number or "all"') from None
    return None if n < 0 else n


def _use_colour(no_color: bool, ansi: str) -> bool:
    if no_color or ansi == "never" or os.environ.get("NO_COLOR"):
        return False
    return ansi == "always" or sys.stdout.isatty()


def cmd_logs(a: flags.Namespace) -> int:
    from engine.units import parse_time_arg

    cp = load(a, need_file=False)
    cp.check_services(a.services)
    containers = cp.containers(a.services or None, all=True, oneoff=None)
    if a.index:
        containers = [
            c for c in containers if c.labels.get("com.docker.compose.container-number") == str(a.index)
        ]
    tail = _tail(a.tail)
    since = parse_time_arg(a.since) if a.since else None
    until = parse_time_arg(a.until) if a.until else None
    printer = Printer(
        [c.name for c in containers], _use_colour(a.no_color, a.ansi), not a.no_log_prefix, a.timestamps
    )
    if not a.follow:
        entries = []
        for c in containers:
            for e in cp.engine.containers.logs(c.id, False, tail, since, until):
                entries.append((e.timestamp, c.name, e))
        entries.sort(key=lambda t: t[0])
        for _, name, e in entries:
            printer.line(name, e.data, e.time)
        return 0
    services, one_off = a.services or None, None

    def discover() -> list[Container]:
        return [] if a.index else cp.containers(services, all=True, oneoff=one_off)

    follow(cp, containers, printer, tail=tail, since=since, until=until, discover=discover)
    return 0


def follow(
    cp: Compose,
    containers: list[Container],
    printer: Printer,
    *,
    tail: int | None = None,
    since: float | None = None,
    until: float | None = None,
    stop: Callable[[], bool] | None = None,
    on_exit: Callable[[Container], None] | None = None,
    discover: Callable[[], list[Container]] | None = None,
) -> None:
    """Each container's log followed in a thread of its own until it stops (or ``stop()``); with
    ``discover``, the containers it finds later (a scale, a recreation) are followed too, from their start."""

    def one(c: Container, tail: int | None) -> None:
        try:
            for e in cp.engine.containers.logs(c.id, True, tail, since, until, stop=stop):
                printer.line(c.name, e.data, e.time)
        except Exception:
            return
        if on_exit is not None:
            on_exit(c)

    seen = {c.id for c in containers}
    threads = [threading.Thread(target=one, args=(c, tail), daemon=True) for c in containers]
    for t in threads:
        t.start()
    while True:
        for t in threads:
            t.join(0.5 / max(1, len(threads)))
        if discover is not None and not (stop is not None and stop()):
            for c in discover():
                if c.id not in seen and c.running:
                    seen.add(c.id)
                    printer.add(c.name)
                    t = threading.Thread(target=one, args=(c, None), daemon=True)
                    t.start()
                    threads.append(t)
        if not any(t.is_alive() for t in threads):
            return


def attached(cp: Compose, shown: list[Container], a: flags.Namespace) -> int:
    """``compose up`` without ``-d``: the containers' logs until they have all stopped; Ctrl-C stops the
    project (``Gracefully stopping...``); ``--abort-on-container-exit`` stops it when one container stops;
    ``--exit-code-from SERVICE`` returns that service's exit code."""
    printer = Printer(
        [c.name for c in shown], _use_colour(a.no_color, a.ansi), not a.no_log_prefix, a.timestamps
    )
    sys.stderr.write(f"Attaching to {', '.join(c.name for c in shown)}\n")
    stopping = threading.Event()
    codes: dict[str, int] = {}
    abort = a.abort_on_container_exit or bool(a.exit_code_from) or a.abort_on_container_failure

    def exited(c: Container) -> None:
        try:
            code = cp.engine.containers.wait(c.id)
        except Exception:
            code = 0
        codes[c.labels.get("com.docker.compose.service", "")] = code
        printer.note(c.name, f"exited with code {code}")
        if abort and (not a.abort_on_container_failure or code != 0):
            stopping.set()

    def stop_all() -> None:
        sys.stderr.write("Gracefully stopping... (press Ctrl+C again to force)\n")
        cp.stop(None, a.timeout)

    runner = threading.Thread(
        target=follow,
        args=(cp, shown, printer),
        kwargs={"stop": stopping.is_set, "on_exit": exited},
        daemon=True,
    )
    runner.start()
    try:
        while runner.is_alive():
            runner.join(0.2)
            if stopping.is_set():
                if a.abort_on_container_exit or a.exit_code_from:
                    sys.stderr.write("Aborting on container exit...\n")
                stop_all()
                break
    except KeyboardInterrupt:
        stopping.set()
        stop_all()
        return 130
    if a.exit_code_from:
        return codes.get(a.exit_code_from, 0)
    if a.abort_on_container_failure:
        return next((c for c in codes.values() if c), 0)
    return 0
