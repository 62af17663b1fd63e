"""Registry commands: pull, push, login, logout.

Output follows Docker's: one line per layer state on a pipe, live per-layer bars on a terminal, then
``Digest:``/``Status:`` lines (pull) or ``TAG: digest: sha256:... size: N`` (push).
"""

from __future__ import annotations

import sys

from . import flags
from .commands import engine, local_engine

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def add_pull(parent: flags.Commands) -> None:
    """``pull`` (also ``image pull``)."""
    p = parent.add_parser("pull", help="Download an image from a registry")
    p.add_argument("--platform", help="Platform (os/arch[/variant]) to pull from a multi-platform image")
    p.add_argument("-q", "--quiet", action="store_true", help="Suppress verbose output")
    p.add_argument(
        "-a", "--all-tags", action="store_true", help="Download all tagged images in the repository"
    )
    p.add_argument("--disable-content-trust", action="store_true", default=True, help=flags.SUPPRESS)
    p.add_argument("reference", metavar="NAME[:TAG|@DIGEST]")
    p.set_defaults(handler=cmd_pull)


def add_push(parent: flags.Commands) -> None:
    """``push`` (also ``image push``)."""
    p = parent.add_parser("push", help="Upload an image to a registry")
    p.add_argument("-q", "--quiet", action="store_true", help="Suppress verbose output")
    p.add_argument(
        "-a", "--all-tags", action="store_true", help="Push all tags of an image to the repository"
    )
    p.add_argument("--platform", default="", help="Push the image only if it is of this platform")
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


def _no_tag(a: flags.Namespace) -> None:
    """-a takes a repository: Docker's words for a tag or digest with it."""
    from engine import InvalidArgument, parse_remote

    name = parse_remote(a.reference)
    if "@" in a.reference or ":" in a.reference.rpartition("/")[2] or name.digest:
        raise InvalidArgument("tag can't be used with --all-tags/-a")


def cmd_pull(a: flags.Namespace) -> int:
    from engine import parse_remote

    name = parse_remote(a.reference)  # a bad reference is refused before anything else
    images = engine().images
    if a.all_tags:
        return _pull_all(a, images)
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


def _pull_all(a: flags.Namespace, images: Any) -> int:
    """``pull -a``: every tag the repository has, each as ``pull`` does it, then the repository's name."""
    _no_tag(a)
    tags = images.remote_tags(a.reference)
    if not tags:
        from engine import NotFound

        raise NotFound(f"no tags found for {a.reference}")
    newer, full = False, a.reference
    for tag in tags:
        display = _Display(a.quiet)
        try:
            result = images.pull(f"{a.reference}:{tag}", platform=a.platform, progress=display)
        finally:
            display.close()
        if not a.quiet:
            print(f"Digest: {result.digest}")
        newer = newer or not result.up_to_date
        full = result.full_name.rpartition(":")[0]
    if not a.quiet:
        state = "Downloaded newer image for" if newer else "Image is up to date for"
        print(f"Status: {state} {a.reference}")
    print(full)
    return 0


def cmd_push(a: flags.Namespace) -> int:
    images = engine().images
    if a.all_tags:
        _no_tag(a)
        repo = images.tagged_name(a.reference).rpartition(":")[0]
        refs = sorted(t for im in images.list() for t in im.tags if t.rpartition(":")[0] == repo)
        if not refs:
            from engine import NotFound

            raise NotFound(f"An image does not exist locally with the tag: {a.reference}")
    else:
        refs = [a.reference]
    for ref in refs:
        if a.platform:
            images.check_platform(a.platform, ref)
    for ref in refs:
        _push_one(a, images, ref)
    return 0


def _push_one(a: flags.Namespace, images: Any, ref: str) -> None:
    display = _Display(a.quiet)
    try:
        result = images.push(ref, progress=display)
    finally:
        display.close()
    print(f"{result.tag}: digest: {result.digest} size: {result.size}")


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
    local_engine().login(username, password, registry=a.server)
    print("Login Succeeded")
    return 0


def cmd_logout(a: flags.Namespace) -> int:
    name, had = local_engine().logout(a.server)
    if had:
        print(f"Removing login credentials for {name}")
    else:
        print(f"Not logged in to {name}")
    return 0
