"""Signal names as users type them: ``KILL``, ``SIGKILL``, ``9``, ``SIGRTMIN+3``."""

from __future__ import annotations

from ..errors import InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:
    import signal
else:
    import _signal as signal  # the C module: ``signal`` would load ``enum`` on every call


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
    number = getattr(signal, t, None) if not t.startswith("SIG_") else None
    if not isinstance(number, int):
        raise InvalidArgument(f"invalid signal: {s}")
    return int(number)
