"""Docker's human wording for sizes, durations and times (shared by the CLI and the TUI)."""

from __future__ import annotations

import time


def human_size(n: float) -> str:
    """Decimal units, three significant digits, as ``docker images`` prints: ``4.26MB``, ``1.2GB``, ``0B``."""
    units = ["B", "kB", "MB", "GB", "TB", "PB"]
    i = 0
    while n >= 1000 and i < len(units) - 1:
        n /= 1000.0
        i += 1
    s = f"{n:.3g}"
    if "e" in s:
        s = f"{n:.0f}"
    return f"{s}{units[i]}"


def human_duration(seconds: float) -> str:
    """``Less than a second``, ``1 second``, ``About a minute``, ``3 hours``, ``2 weeks`` ... (Docker's units)."""
    s = int(seconds)
    if seconds < 1:
        return "Less than a second"
    if s == 1:
        return "1 second"
    if s < 60:
        return f"{s} seconds"
    m = int(s / 60)
    if m == 1:
        return "About a minute"
    if m < 60:
        return f"{m} minutes"
    h = int(round(s / 3600.0))
    if h == 1:
        return "About an hour"
    if h < 48:
        return f"{h} hours"
    if h < 24 * 7 * 2:
        return f"{h // 24} days"
    if h < 24 * 30 * 2:
        return f"{h // 24 // 7} weeks"
    if h < 24 * 365 * 2:
        return f"{h // 24 // 30} months"
    return f"{h // 24 // 365} years"


def parse_time(ts: str) -> float:
    """Seconds since the epoch for an RFC 3339 timestamp (nanoseconds tolerated); 0 when empty or not a time."""
    return read_time(ts) or 0.0


_READ: dict[str, float | None] = {}  # the same records' times are read again on each listing


def read_time(ts: str) -> float | None:
    """Seconds since the epoch for an RFC 3339 timestamp (nanoseconds tolerated); None when ``ts`` is none
    (so that the epoch itself, 0, is told apart)."""
    try:
        return _READ[ts]
    except KeyError:
        pass
    if len(_READ) >= 8192:
        _READ.clear()
    _READ[ts] = t = _read_time(ts)
    return t


def _read_time(ts: str) -> float | None:
    if not ts:
        return None
    ts = ts.strip()
    frac = 0.0
    if ts.endswith("Z"):
        ts = ts[:-1] + "+00:00"
    main, dot, rest = ts.partition(".")
    if dot:
        digits = ""
        i = 0
        while i < len(rest) and rest[i] in "0123456789":  # not str.isdigit: "²" is no digit to float()
            digits += rest[i]
            i += 1
        frac = float("0." + digits) if digits else 0.0
        ts = main + rest[i:]
    from datetime import UTC, datetime  # not at the top: most commands never parse a time

    try:
        dt = datetime.fromisoformat(ts)
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        return dt.timestamp() + frac
    except (ValueError, OverflowError):  # not a time, or one before year 1 or after 9999 in UTC
        return None


def ago(ts: str | float, now: float | None = None) -> str:
    t = parse_time(ts) if isinstance(ts, str) else ts
    if not t:
        return "N/A"
    return human_duration(max(0.0, (now or time.time()) - t)) + " ago"


def rfc3339(t: float) -> str:
    """Nanosecond-precision UTC timestamp, as Docker writes in logs and inspect."""
    whole = int(t)
    nanos = int(round((t - whole) * 1e9))
    if nanos >= 1_000_000_000:
        whole, nanos = whole + 1, 0
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{nanos:09d}Z"


# --- formatting (Docker's go-units) -----------------------------------------------------------------------

_DECIMAL_UNITS = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")
_BINARY_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB")


def _scaled(size: float, base: float, units: tuple[str, ...], precision: int) -> str:
    i = 0
    while size >= base and i < len(units) - 1:
        size /= base
        i += 1
    return f"{size:.{precision}g}{units[i]}"


def format_bytes_binary(size: float, precision: int = 4) -> str:
    """Memory sizes as Docker shows them: ``1.5MiB``, ``15.55GiB``, ``0B``."""
    return _scaled(float(size), 1024.0, _BINARY_UNITS, precision)


def format_bytes_decimal(size: float, precision: int = 3) -> str:
    """Network and block I/O as Docker's ``stats`` shows them: ``1.2kB``, ``648B``, ``3.46MB``."""
    return _scaled(float(size), 1000.0, _DECIMAL_UNITS, precision)


def format_percent(value: float) -> str:
    """``0.00%``."""
    return f"{value:.2f}%"
