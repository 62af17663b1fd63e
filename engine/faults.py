"""Named points where the engine can be made to fail on purpose, to prove that every failure leaves a root
that ``system check`` finds whole.

Each write step of run, commit, build, pull, load, save, rm and network setup calls ``point("name")``. With
no plan in the environment (always, outside the fault-injection tests) that is one global test and return.
``DOCKYARD_FAULT="name=mode"`` makes the process (a CLI call, or a supervisor it starts, which inherits the
environment) fail the first time it reaches ``name``:

- ``kill``: SIGKILL to itself, as a power cut or the OOM killer would;
- ``enospc`` / ``eio``: the step's write fails with ENOSPC ("no space left on device") or EIO;
- ``crash``: an unexpected exception (RuntimeError), as a bug would raise;
- ``crash1``: the same, the first time only (in a process that serves several containers, one of them).

``DOCKYARD_FAULT_TRACE=FILE`` appends the name of every point reached to FILE, one per line (the tests find
the points of each command with it, then fail each one in turn).
"""

from __future__ import annotations

import os

_PLAN = os.environ.get("DOCKYARD_FAULT") or ""
_TRACE = os.environ.get("DOCKYARD_FAULT_TRACE") or ""
ACTIVE = bool(_PLAN or _TRACE)


def point(name: str) -> None:
    """A named step: fail here if the plan says so."""
    if ACTIVE:
        _reached(name)


def _reached(name: str) -> None:
    if _TRACE:
        fd = os.open(_TRACE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, name.encode() + b"\n")
        finally:
            os.close(fd)
    target, _, mode = _PLAN.partition("=")
    if target != name:
        return
    if mode == "kill":
        import signal

        os.kill(os.getpid(), signal.SIGKILL)
    if mode == "enospc":
        import errno

        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    if mode == "eio":
        import errno

        raise OSError(errno.EIO, os.strerror(errno.EIO))
    if mode == "crash" or (mode == "crash1" and not _fired):
        _fired.append(name)
        raise RuntimeError(f"injected failure at {name}")


_fired: list[str] = []  # the points that failed (``crash1`` fails once)
