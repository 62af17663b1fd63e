"""``events`` and ``system events``: what changes under the root, from any process, as Docker prints it."""

from __future__ import annotations

import sys

from . import flags
from .commands import engine

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from engine import Event


def register(sub: flags.Commands) -> None:
    add_events(sub, "events")


def add_events(parent: flags.Commands, name: str) -> None:
    p = parent.add_parser(name, help="Get real time events from the server")
    p.add_argument(
        "-f", "--filter", action="append", default=[], help="Filter output based on conditions provided"
    )
    p.add_argument(
        "--format",
        help="Format output using a custom template: 'json' prints one JSON object per event, or a Go template",
    )
    p.add_argument("--since", help="Show all events created since timestamp")
    p.add_argument("--until", help="Stream events until this timestamp")
    p.set_defaults(handler=cmd_events)


def _stamp(nanos: int) -> str:
    """Docker's event time: local time with nine fraction digits (``2024-01-01T12:00:00.123456789Z``)."""
    import time

    seconds, frac = divmod(nanos, 1_000_000_000)
    local = time.localtime(seconds)
    offset = local.tm_gmtoff or 0
    zone = (
        "Z"
        if offset == 0
        else f"{'+' if offset > 0 else '-'}{abs(offset) // 3600:02d}:{abs(offset) % 3600 // 60:02d}"
    )
    return time.strftime("%Y-%m-%dT%H:%M:%S", local) + f".{frac:09d}{zone}"


def message(e: Event) -> dict[str, Any]:
    """The event as Docker's API sends it (``--format json``)."""
    return e.message()


def _fields(m: dict[str, Any]) -> dict[str, Any]:
    """The event for a template: Go's field names (``.Type``, ``.Action``, ``.Actor.ID``, ``.Time``...)."""
    return {
        "Status": m.get("status", ""),
        "ID": m.get("id", ""),
        "From": m.get("from", ""),
        "Type": m["Type"],
        "Action": m["Action"],
        "Actor": m["Actor"],
        "Scope": m["scope"],
        "Time": m["time"],
        "TimeNano": m["timeNano"],
    }


def line(e: Event) -> str:
    """Docker's default line: ``TIME TYPE ACTION ID (key=value, ...)``, the attributes sorted by key."""
    text = f"{_stamp(e.time_nano)} {e.type} {e.action} {e.id}"
    if e.attributes:
        attrs = e.message()["Actor"]["Attributes"]
        text += " (" + ", ".join(f"{k}={attrs[k]}" for k in sorted(attrs)) + ")"
    return text


def cmd_events(a: flags.Namespace) -> int:
    import time

    from engine import InvalidArgument, parse_filters, parse_timestamp

    now = time.time()
    filters = parse_filters(a.filter) if a.filter else None
    since = parse_timestamp(a.since, now) if a.since else None
    until = parse_timestamp(a.until, now) if a.until else None
    if since is not None and until is not None and until < since:
        raise InvalidArgument(f"`since` time ({since:.9f}) cannot be after `until` time ({until:.9f})")
    fmt = a.format
    if fmt and fmt != "json":
        from .output import check_template, render_template

        check_template(fmt)  # a template that does not parse fails before any event is read
    stream = engine().events(filters=filters, since=since, until=until)  # the filters are checked first
    try:
        for e in stream:
            if fmt == "json":
                import json

                text = json.dumps(message(e), separators=(",", ":"))
            elif fmt:
                text = render_template(fmt, _fields(message(e)))
            else:
                text = line(e)
            sys.stdout.write(text + "\n")
            sys.stdout.flush()
    except KeyboardInterrupt:  # ctrl-C ends following, quietly
        return 0
    return 0
