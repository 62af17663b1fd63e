"""Parsing sizes and durations as Docker's flags accept them: ``512m``, ``1g``, ``1.5``, ``10s``, ``2m``."""

from __future__ import annotations

import time

from .errors import InvalidArgument

# Parsed by hand: ``re`` costs ~6 ms to import, on every ``create`` and ``run`` given ``--memory``.
_DIGITS = frozenset("0123456789")
_MULT = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}
_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}


def _number(s: str, i: int) -> int:
    """The end of the decimal number (``12`` or ``1.5``) that starts at ``s[i]``; ``i`` if there is none."""
    j = i
    while j < len(s) and s[j] in _DIGITS:
        j += 1
    if j == i:
        return i
    if j + 1 < len(s) and s[j] == "." and s[j + 1] in _DIGITS:
        j += 1
        while j < len(s) and s[j] in _DIGITS:
            j += 1
    return j


#: The largest size and duration Docker's flags take: Go's int64 (bytes; nanoseconds, about 292 years).
MAX_INT64 = (1 << 63) - 1
_MAX_SECONDS = MAX_INT64 / 1e9


def parse_bytes(s: str) -> int:
    """Binary units like Docker's RAMInBytes: ``512m`` = 512 MiB (also ``512MB``, ``512 MiB``)."""
    text = s.strip()
    end = _number(text, 0)
    unit = text[end:].lstrip().lower()
    if unit.endswith("b"):
        unit = unit[:-2] if unit.endswith("ib") else unit[:-1]
    if end == 0 or unit not in _MULT:
        raise InvalidArgument(f"invalid size: '{s}'")
    # Exact integer arithmetic (a float of "9" * 400 is infinite): whole part, then the fraction's share.
    whole, _, fraction = text[:end].partition(".")
    whole = whole.lstrip("0")
    fraction = fraction[:30]
    mult = _MULT[unit]
    if len(whole) > 19:
        raise InvalidArgument(f"invalid size: '{s}': more than {MAX_INT64} bytes")
    size = int(whole or 0) * mult + (int(fraction) * mult // 10 ** len(fraction) if fraction else 0)
    if size > MAX_INT64:
        raise InvalidArgument(f"invalid size: '{s}': more than {MAX_INT64} bytes")
    return size


def _decimal(s: str) -> float | None:
    """``s`` as a number when it is an optionally signed decimal in ASCII digits (``10``, ``-1.5``, ``.5``)."""
    body = s[1:] if s[:1] in ("+", "-") else s
    if body.startswith("."):
        body = "0" + body
    if not body or _number(body, 0) != len(body):
        return None
    return float(s)


def parse_duration(s: str) -> float:
    """Go-style durations: ``10s``, ``1m30s``, ``250ms``, ``2h``; a bare number means seconds. At most
    Go's longest duration (about 292 years) either way."""
    s = s.strip()
    total = _decimal(s)
    if total is None:
        total = 0.0
        pos = 0
        while pos < len(s):
            end = _number(s, pos)
            unit = next((u for u in ("ns", "us", "µs", "ms", "s", "m", "h") if s.startswith(u, end)), None)
            if end == pos or unit is None:
                raise InvalidArgument(f"invalid duration: {s}")
            total += float(s[pos:end]) * _SECONDS[unit]
            pos = end + len(unit)
        if not s:
            raise InvalidArgument(f"invalid duration: {s}")
    if not abs(total) <= _MAX_SECONDS:  # also a number too long for a float
        raise InvalidArgument(f"invalid duration: {s}: longer than Go's longest duration (about 292 years)")
    return total


def parse_time_arg(s: str, now: float | None = None) -> float:
    """``--since``/``--until``: a Unix timestamp, an RFC 3339 time, or a duration before now (``10m``)."""
    from .humanize import read_time

    now = now or time.time()
    s = s.strip()
    stamp = _decimal(s)
    if stamp is not None:
        if not abs(stamp) <= _MAX_SECONDS:
            raise InvalidArgument(f"invalid time: {s}")
        return stamp
    t = read_time(s)
    if t is not None:
        return t
    if len(s) == 10 and s[4] == s[7] == "-" and all(c in _DIGITS for c in s[:4] + s[5:7] + s[8:]):
        t = read_time(s + "T00:00:00Z")
        if t is None:
            raise InvalidArgument(f"invalid date: {s}")
        return t
    return now - parse_duration(s)
