"""What changed, for whoever watches: an append-only JSON-lines log under the engine root.

Every state change (create, start, die, stop, rename, destroy, connect, ...) appends one line with
:func:`emit`. A watcher (``Engine.events``, which the app follows) reads new lines by offset with :func:`read`
when the file changes.
"""

from __future__ import annotations

import os
import time

from engine.lean.record import field, record

from .. import faults
from ..lean import jsonio
from ..paths import Layout

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


@record
class Event:
    type: str  # container | image | volume | network
    action: str
    id: str
    time: float
    attributes: dict[str, Any] = field(default_factory=dict)


def emit(layout: Layout, type: str, action: str, id: str, attributes: dict[str, Any] | None = None) -> None:
    line = (
        jsonio.dumps(
            {"type": type, "action": action, "id": id, "time": time.time(), "attributes": attributes or {}}
        ).encode()
        + b"\n"
    )
    if faults.ACTIVE:
        faults.point(f"event {type} {action}")
    fd = os.open(layout.events, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def read(layout: Layout, offset: int = 0) -> tuple[list[Event], int]:
    """Events after ``offset`` and the new offset (only whole lines are consumed)."""
    try:
        with open(layout.events, "rb") as f:
            f.seek(offset)
            data = f.read()
    except FileNotFoundError:
        return [], offset
    end = data.rfind(b"\n")
    if end < 0:
        return [], offset
    out = []
    for line in data[: end + 1].splitlines():
        try:
            d = jsonio.loads(line)
        except ValueError:
            continue  # a damaged line is skipped: the log is only ever appended to
        if _is_event(d):
            out.append(Event(d["type"], d["action"], d["id"], d["time"], d.get("attributes") or {}))
    return out, offset + end + 1


def _is_event(d: object) -> bool:
    from engine.model.shape import problems_of

    return problems_of(Event, d) is None


def end_offset(layout: Layout) -> int:
    try:
        return os.stat(layout.events).st_size
    except FileNotFoundError:
        return 0
