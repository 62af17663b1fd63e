"""With ``DOCKYARD_TRACE=FILE``, the steps of a container's start are timed into FILE (for profiling).

Lines read ``PID MILLISECONDS ms STEP``; the clock starts when the caller first loads this module, and the
supervisor, forked from the caller, keeps that clock.
"""

from __future__ import annotations

import os
import time

from .. import faults

_TRACE = os.environ.get("DOCKYARD_TRACE", "")
_T0 = time.perf_counter()


def trace(what: str) -> None:
    """Append the time since the clock started and ``what`` (nothing without DOCKYARD_TRACE); each step is
    also a fault-injection point (``engine.faults``)."""
    if faults.ACTIVE:
        faults.point("supervisor " + what)
    if _TRACE:
        with open(_TRACE, "a") as f:
            f.write(f"{os.getpid()} {(time.perf_counter() - _T0) * 1e3:8.2f} ms {what}\n")
