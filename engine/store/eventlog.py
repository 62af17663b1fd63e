"""What changed, for whoever watches: an append-only JSON-lines log under the engine root.

Every state change (create, start, die, stop, rename, destroy, connect, ...) appends one line with
:func:`emit`. A watcher (``Engine.events``, which the app follows) reads new lines by offset with :func:`read`
when the file changes.

A line holds what ``docker events`` shows: the time in nanoseconds (``timeNano``), and the actor's attributes.
A container's event carries the container's labels, ``image`` and ``name`` (read from its config when the
caller gave none), as Docker's do.
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
    time_nano: int = 0  # the same time in nanoseconds since the epoch (0 in lines written before it was kept)

    def message(self) -> dict[str, Any]:
        """The event as Docker's API sends it (``GET /events``, ``docker events --format json``)."""
        attrs = {k: _text(v) for k, v in self.attributes.items()}
        out: dict[str, Any] = {}
        if self.type in ("container", "image"):  # the old fields, which Docker still sends for these
            out = {"status": self.action, "id": self.id}
            if self.type == "container" and attrs.get("image"):
                out["from"] = attrs["image"]
        return {
            **out,
            "Type": self.type,
            "Action": self.action,
            "Actor": {"ID": self.id, "Attributes": attrs},
            "scope": "local",
            "time": self.time_nano // 1_000_000_000,
            "timeNano": self.time_nano,
        }


def _text(value: Any) -> str:
    """An attribute's value as Docker's (strings only): ``true``, ``137``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def container_actor(config: Any) -> dict[str, Any]:
    """A container's attributes as Docker's events carry them: its labels, ``image`` and ``name``."""
    if config is None:
        return {}
    return {**dict(config.labels), "image": config.image, "name": config.name}


def _container_attributes(layout: Layout, cid: str, given: dict[str, Any]) -> dict[str, Any]:
    """``given`` over the container's labels, image and name (from its config when it is still there)."""
    try:
        with open(os.path.join(layout.containers, cid, "config.json"), "rb") as f:
            cfg = jsonio.loads(f.read())
    except (OSError, ValueError):
        return given
    if not isinstance(cfg, dict):
        return given
    labels = cfg.get("labels")
    out = {k: v for k, v in labels.items() if isinstance(v, str)} if isinstance(labels, dict) else {}
    for key in ("image", "name"):
        if isinstance(cfg.get(key), str):
            out[key] = cfg[key]
    return {**out, **given}


def emit(
    layout: Layout,
    type: str,
    action: str,
    id: str,
    attributes: dict[str, Any] | None = None,
    config: Any = None,
) -> None:
    """Append one event. ``config``: the container's config when the caller holds it (saves reading it)."""
    attributes = attributes or {}
    if config is not None:
        attributes = {**container_actor(config), **attributes}
    elif type == "container":
        attributes = _container_attributes(layout, id, attributes)
    nanos = time.time_ns()
    record = {"type": type, "action": action, "id": id, "time": nanos / 1e9, "timeNano": nanos}
    line = jsonio.dumps({**record, "attributes": attributes}).encode() + b"\n"
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
            out.append(_event(d))
    return out, offset + end + 1


def _event(d: dict[str, Any]) -> Event:
    attributes = dict(d.get("attributes") or {})
    action = d["action"]
    if action == "health_status" and isinstance(attributes.get("status"), str):
        action = f"health_status: {attributes.pop('status')}"  # Docker's action: ``health_status: healthy``
    nanos = d.get("timeNano")
    if not isinstance(nanos, int) or isinstance(nanos, bool) or nanos <= 0:
        nanos = int(d["time"] * 1e9) if 0 < d["time"] < 1e11 else 0
    return Event(d["type"], action, d["id"], d["time"], attributes, nanos)


def _is_event(d: object) -> bool:
    from engine.model.shape import problems_of

    return problems_of(Event, d) is None


def end_offset(layout: Layout) -> int:
    try:
        return os.stat(layout.events).st_size
    except FileNotFoundError:
        return 0
