"""Signal names as users type them: ``KILL``, ``SIGKILL``, ``9``, ``SIGRTMIN+3``."""

from __future__ import annotations

import signal

from ..errors import InvalidArgument


def parse_signal(s: str | int | None, default: int = signal.SIGTERM) -> int:
    if s is None or s == "":
        return default
    if isinstance(s, int):
        return s
    t = s.strip().upper()
    if t.isdigit():
        n = int(t)
        if 0 < n < 65:
            return n
        raise InvalidArgument(f"invalid signal: {s}")
    if not t.startswith("SIG"):
        t = "SIG" + t
    if t.startswith("SIGRTMIN+") and t[9:].isdigit():
        return signal.SIGRTMIN + int(t[9:])
    try:
        return int(getattr(signal.Signals, t))
    except AttributeError:
        raise InvalidArgument(f"invalid signal: {s}") from None
