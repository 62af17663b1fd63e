"""Parsing sizes and durations as Docker's flags accept them: ``512m``, ``1g``, ``1.5``, ``10s``, ``2m``."""

from __future__ import annotations

import re
import time

from .errors import InvalidArgument

_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b)?$", re.I)
_MULT = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


def parse_bytes(s: str) -> int:
    """Binary units like Docker's RAMInBytes: ``512m`` = 512 MiB."""
    m = _SIZE.match(s.strip())
    if not m:
        raise InvalidArgument(f"invalid size: '{s}'")
    return int(float(m.group(1)) * _MULT[m.group(2).lower()])


def parse_duration(s: str) -> float:
    """Go-style durations: ``10s``, ``1m30s``, ``250ms``, ``2h``; a bare number means seconds."""
    s = s.strip()
    try:
        return float(s)
    except ValueError:
        pass
    total = 0.0
    pos = 0
    for m in re.finditer(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)", s):
        if m.start() != pos:
            raise InvalidArgument(f"invalid duration: {s}")
        n = float(m.group(1))
        total += n * {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}[m.group(2)]
        pos = m.end()
    if pos != len(s) or not s:
        raise InvalidArgument(f"invalid duration: {s}")
    return total


def parse_time_arg(s: str, now: float | None = None) -> float:
    """``--since``/``--until``: a Unix timestamp, an RFC 3339 time, or a duration before now (``10m``)."""
    from .humanize import parse_time

    now = now or time.time()
    try:
        return float(s)
    except ValueError:
        pass
    t = parse_time(s)
    if t:
        return t
    if re.match(r"^\d{4}-\d{2}-\d{2}$", s):
        return parse_time(s + "T00:00:00Z")
    return now - parse_duration(s)
