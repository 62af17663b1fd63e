"""One container's supervision, in a thread of the root's supervisor process (host.py), from the caller's
request to the end of its container (the work is in mainloop.py); and what that process loads first.
"""

from __future__ import annotations

import os

from ...lean import jsonio
from ...lean.tools import suppress
from ..trace import trace

TYPE_CHECKING = False
if TYPE_CHECKING:
    from threading import Thread

_warm: Thread | None = None  # the cgroup v2 migration-lock warming, started once by ``preload``


def preload() -> None:
    """Import what starting a container needs (and on cgroup v2 warm the kernel's migration lock in a
    thread), before the first container is named."""
    global _warm
    from ..cgroups import detect, warm_up_migration

    if detect().mode == "v2":  # the container's process will have to take the kernel's migration lock
        import sys

        from .cgroup import _Background

        sys.setswitchinterval(0.0005)  # the warming thread gets its turn while this one imports
        _warm = _Background(warm_up_migration)  # type: ignore[assignment]
    from .. import cgroups, launch, nethooks, prepare  # noqa: F401
    from . import exiting, mainloop  # noqa: F401


def supervise(root: str, cid: str, status_fd: int, client_fd: int | None) -> None:
    """Start ``cid`` and supervise it until it ends for good; how the start went is written to
    ``status_fd`` (spawning.py reads it). Never raises: what fails is recorded for this container only."""
    sup = None
    try:
        trace("container named")
        from .mainloop import Supervisor

        sup = Supervisor(root, cid, status_fd, client_fd)
        sup.begin_cgroup(after=_warm)
        sup.run()
    except BaseException as e:
        if sup is not None and sup.reported and isinstance(e, Exception):
            sup.fail(e)
            return
        with suppress(Exception):
            if cid and "/" not in cid:
                import traceback

                from ...paths import Layout

                with open(os.path.join(Layout(root).containers, cid, "shim-error.log"), "a") as f:
                    f.write(traceback.format_exc())
        if sup is None or sup.status_fd >= 0:
            failure = {
                "ok": False,
                "kind": "RuntimeFailure",
                "error": "supervisor failed: see shim-error.log",
            }
            with suppress(OSError):
                os.write(status_fd, jsonio.dumps(failure).encode() + b"\n")
    finally:
        if sup is None or sup.status_fd >= 0:  # not yet closed by the report
            with suppress(OSError):
                os.close(status_fd)
        if client_fd is not None and sup is None:
            with suppress(OSError):
                os.close(client_fd)
