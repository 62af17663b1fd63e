"""The life of a supervisor process, from the fork to the end of its container (the work is in mainloop.py).

It detaches (stdio on /dev/null, no inherited descriptors, its own signals), then, before anything else,
imports the launcher (and on cgroup v2 warms the kernel's cgroup migration lock in a thread) while the
caller may still be writing the container; then it reads which container to start (``go_fd``) and runs
its Supervisor.
A caller with threads starts it as ``python -m engine.runtime.supervisor.process ROOT ID STATUS_FD [CLIENT_FD]``.
"""

from __future__ import annotations

import os
import sys

from ...lean import jsonio
from ...lean.tools import suppress
from ..trace import trace

TYPE_CHECKING = False
if TYPE_CHECKING:
    import signal
else:
    import _signal as signal  # the C module: ``signal`` would load ``enum``


def _detach_stdio() -> None:
    devnull = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    if devnull > 2:
        os.close(devnull)


def _close_all_but(keep: set[int]) -> None:
    os.closerange(3, min(keep))
    for fd in range(min(keep) + 1, max(keep)):
        if fd not in keep:
            with suppress(OSError):
                os.close(fd)
    os.closerange(max(keep) + 1, 65536)


def _preload() -> None:
    """Import what starting a container needs, while the caller is still writing the container."""
    from .. import cgroups, launch, nethooks, prepare  # noqa: F401
    from . import mainloop  # noqa: F401


def _read_container_id(go_fd: int) -> str:
    """The container to start, as the caller sends it ('' if the caller gave up)."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = os.read(go_fd, 128)
        if not chunk:
            return ""
        data += chunk
    os.close(go_fd)
    return data.decode().strip()


def become_supervisor(
    root: str, status_fd: int, client_fd: int | None, go_fd: int | None = None, cid: str | None = None
) -> None:
    """Run in the detached process; never returns. The container is ``cid``, or the one named on
    ``go_fd``: until it comes, the cgroup migration lock is warmed and the launcher imported."""
    code = 0
    sup = None
    try:
        _detach_stdio()
        _close_all_but({status_fd} | {fd for fd in (client_fd, go_fd) if fd is not None})
        for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGPIPE, signal.SIGTTOU, signal.SIGTTIN):
            signal.signal(sig, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        trace("forked")
        from ..cgroups import detect, warm_up_migration

        warm = None
        if detect().mode == "v2":  # the container's process will have to take the kernel's migration lock
            import threading

            sys.setswitchinterval(0.0005)  # the warming thread gets its turn while this one imports
            warm = threading.Thread(target=warm_up_migration, daemon=True)
            warm.start()
        _preload()
        trace("preloaded")
        if cid is None and go_fd is not None:
            cid = _read_container_id(go_fd)
            if not cid:
                return
        assert cid is not None
        trace("container named")
        from ..launch import set_child_subreaper
        from .mainloop import Supervisor

        sup = Supervisor(root, cid, status_fd, client_fd)
        sup.begin_cgroup(after=warm)
        set_child_subreaper()
        sup.run()
    except BaseException as e:
        code = 1
        if sup is not None and sup.reported and isinstance(e, Exception):
            sup.fail(e)
            os._exit(code)
        with suppress(Exception):
            if cid:
                import traceback

                from ...paths import Layout

                with open(os.path.join(Layout(root).containers, cid, "shim-error.log"), "a") as f:
                    f.write(traceback.format_exc())
            failure = {
                "ok": False,
                "kind": "RuntimeFailure",
                "error": "supervisor failed: see shim-error.log",
            }
            os.write(status_fd, jsonio.dumps(failure).encode() + b"\n")
    finally:
        os._exit(code)


if __name__ == "__main__":
    _root, _cid, _status = sys.argv[1], sys.argv[2], int(sys.argv[3])
    _client = int(sys.argv[4]) if len(sys.argv) > 4 else None
    os.setsid() if os.getsid(0) != os.getpid() else None
    become_supervisor(_root, _status, _client, cid=_cid)
