"""``compose watch``: the services brought up, then their ``develop.watch`` rules followed (sync, rebuild,
sync+restart, sync+exec, restart) until interrupted."""

from __future__ import annotations

import sys

from .common import load

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .. import flags


def register(cs: flags.Commands) -> None:
    p = cs.add_parser(
        "watch", help="Watch build context for service and rebuild/refresh containers when files are updated"
    )
    p.add_argument("--no-up", action="store_true", help="Do not build & start services before watching")
    p.add_argument(
        "--prune",
        action="store_true",
        default=True,
        help="Prune dangling images on rebuild (--prune=false: keep them)",
    )
    p.add_argument("--quiet", action="store_true", help="hide build output")
    p.add_argument("services", nargs="*", metavar="SERVICE")
    p.set_defaults(handler=cmd_watch)


def _say(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def cmd_watch(a: flags.Namespace) -> int:
    import gc
    import signal
    import threading

    from .cmd_up import _build_printer

    gc.enable()  # it runs until interrupted
    cp = load(a)
    stop = threading.Event()

    def on_term(_signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_term)
    try:
        cp.watch(
            a.services, stop=stop, say=_say, build_progress=_build_printer(a.quiet), up=not a.no_up,
            prune=a.prune,
        )  # fmt: skip
    except KeyboardInterrupt:
        stop.set()
    return 0
