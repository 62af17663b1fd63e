"""Registry commands: pull, push, login, logout.

Output follows Docker's: one line per layer state on a pipe, live per-layer bars on a terminal, then
``Digest:``/``Status:`` lines (pull) or ``TAG: digest: sha256:... size: N`` (push).
"""

from __future__ import annotations

import sys

from . import flags
from .commands import engine

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def add_pull(parent: flags.Commands) -> None:
    """``pull`` (also ``image pull``)."""
    p = parent.add_parser("pull", help="Download an image from a registry")
    p.add_argument("--platform", help="Platform (os/arch[/variant]) to pull from a multi-platform image")
    p.add_argument("-q", "--quiet", action="store_true", help="Suppress verbose output")
    p.add_argument("--disable-content-trust", action="store_true", default=True, help=flags.SUPPRESS)
    p.add_argument("reference", metavar="NAME[:TAG|@DIGEST]")
    p.set_defaults(handler=cmd_pull)


def add_push(parent: flags.Commands) -> None:
    """``push`` (also ``image push``)."""
    p = parent.add_parser("push", help="Upload an image to a registry")
    p.add_argument("-q", "--quiet", action="store_true", help="Suppress verbose output")
    p.add_argument("--disable-content-trust", action="store_true", default=True, help=flags.SUPPRESS)
    p.add_argument("reference", metavar="NAME[:TAG]")
    p.set_defaults(handler=cmd_push)


def register(sub: flags.Commands) -> None:
    add_pull(sub)
    add_push(sub)

    p = sub.add_parser("login", help="Log in to a registry")
    p.add_argument("-u", "--username")
    p.add_argument("-p", "--password")
    p.add_argument("--password-stdin", action="store_true", help="Take the password from stdin")
    p.add_argument("server", nargs="?", help="Registry host[:port] (default: Docker Hub)")
    p.set_defaults(handler=cmd_login)

    p = sub.add_parser("logout", help="Log out from a registry")
    p.add_argument("server", nargs="?", help="Registry host[:port] (default: Docker Hub)")
    p.set_defaults(handler=cmd_logout)


class _Display:
    """Renders engine.registry.TransferEvent records: rich bars per layer on a terminal, lines otherwise."""

    _QUIET_STATUSES = ("Downloading", "Pushing", "Extracting")

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.tty = sys.stdout.isatty() and not quiet
        self._last: dict[str, str] = {}
        self._tasks: dict[str, Any] = {}
        self._progress: Any = None
        if self.tty:
            from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(bar_width=36),
                DownloadColumn(),
                TransferSpeedColumn(),
                transient=False,
            )
            self._progress.start()

    def line(self, text: str) -> None:
        if self.quiet:
            return
        if self._progress is not None:
            self._progress.console.print(text, highlight=False, markup=False)
        else:
            sys.stdout.write(text + "\n")
            sys.stdout.flush()

    def __call__(self, ev: Any) -> None:
        if self.quiet:
            return
        if not ev.id:
            self.line(ev.status)
            return
        if self._progress is None:
            status = ev.status
            if status in self._QUIET_STATUSES or self._last.get(ev.id) == status:
                return
            self._last[ev.id] = status
            self.line(f"{ev.id}: {status}")
            return
        task = self._tasks.get(ev.id)
        total = ev.total or None
        if task is None:
            task = self._tasks[ev.id] = self._progress.add_task(f"{ev.id}: {ev.status}", total=total)
        finished = ev.status in ("Pull complete", "Already exists", "Pushed", "Layer already exists") or (
            ev.status.startswith("Mounted from")
        )
        completed = ev.total if finished and ev.total else ev.current
        self._progress.update(task, description=f"{ev.id}: {ev.status}", completed=completed, total=total)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def cmd_pull(a: flags.Namespace) -> int:
    from engine import parse_remote

    name = parse_remote(a.reference)  # a bad reference is refused before anything else
    images = engine().images
    if not a.quiet and not name.digest and ":" not in a.reference.rpartition("/")[2]:
        print("Using default tag: latest", flush=True)
    display = _Display(a.quiet)
    try:
        result = images.pull(a.reference, platform=a.platform, progress=display)
    finally:
        display.close()
    if not a.quiet:
        print(f"Digest: {result.digest}")
        if result.up_to_date:
            print(f"Status: Image is up to date for {result.name}")
        else:
            print(f"Status: Downloaded newer image for {result.name}")
    print(result.full_name)
    return 0


def cmd_push(a: flags.Namespace) -> int:
    images = engine().images
    display = _Display(a.quiet)
    try:
        result = images.push(a.reference, progress=display)
    finally:
        display.close()
    print(f"{result.tag}: digest: {result.digest} size: {result.size}")
    return 0


def _read_password_stdin() -> str:
    data = sys.stdin.read()
    return data.rstrip("\r\n")


def cmd_login(a: flags.Namespace) -> int:
    from engine import InvalidArgument

    username, password = a.username, a.password
    if a.password_stdin:
        if a.password:
            raise InvalidArgument("--password and --password-stdin are mutually exclusive")
        if not username:
            raise InvalidArgument("Must provide --username with --password-stdin")
        password = _read_password_stdin()
    elif password:
        sys.stderr.write("WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n")
    interactive = sys.stdin.isatty()
    if not username:
        if not interactive:
            raise InvalidArgument("Cannot perform an interactive login from a non TTY device")
        username = input("Username: ").strip()
    if not password:
        if not interactive:
            raise InvalidArgument("Cannot perform an interactive login from a non TTY device")
        import getpass

        password = getpass.getpass("Password: ")
    if not password:
        raise InvalidArgument("Error: Password Required")
    engine().login(username, password, registry=a.server)
    print("Login Succeeded")
    return 0


def cmd_logout(a: flags.Namespace) -> int:
    name, had = engine().logout(a.server)
    if had:
        print(f"Removing login credentials for {name}")
    else:
        print(f"Not logged in to {name}")
    return 0
