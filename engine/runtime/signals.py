"""Signal names as users type them: ``KILL``, ``SIGKILL``, ``9``, ``SIGRTMIN+3``, ``RTMAX-1``."""

from __future__ import annotations

from ..errors import InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:
    import signal
else:
    import _signal as signal  # the C module: ``signal`` would load ``enum`` on every call


def parse_signal(s: str | int | None, default: int = signal.SIGTERM) -> int:
    """The signal's number; Docker's error for a name or number that is no signal (nor 0)."""
    if s is None or s == "":
        return default
    if isinstance(s, int):
        return s
    t = s.strip().upper()
    name = t[3:] if t.startswith("SIG") else t
    number = 0
    if t.isascii() and t.isdigit():
        number = int(t) if len(t) < 6 else 0
    elif name[:6] in ("RTMIN+", "RTMAX-") and name[6:].isascii() and name[6:].isdigit() and len(name) < 12:
        offset = int(name[6:])
        if offset <= signal.SIGRTMAX - signal.SIGRTMIN:
            number = signal.SIGRTMIN + offset if name[5] == "+" else signal.SIGRTMAX - offset
    elif name.isalnum():  # not SIG_DFL, SIG_IGN, ...
        number = getattr(signal, "SIG" + name, 0)
    if not 0 < number <= signal.SIGRTMAX:
        raise InvalidArgument(f"Invalid signal: {s}")
    return int(number)
