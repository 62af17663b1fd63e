"""The engine events the app has seen, for the Events tab: the last part of the root's event log read once
at start, then every event the app's event feed (feeds.EventFeed) follows, whichever process caused it.

The store is filled on the UI thread (the backlog arrives through ``call``'s ``done``, the followed events
through the app's ``EngineChanged`` messages); listeners are called there too."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine import EngineAPI, Event

MAX_EVENTS = 2000
BACKLOG_BYTES = 256 * 1024  # how much of the end of the event log is read at start

TYPES = ("container", "image", "network", "volume")


def _key(e: Event) -> tuple[int, str, str, str]:
    return (e.time_nano or int(e.time * 1e9), e.type, e.action, e.id)


def event_name(e: Event) -> str:
    """The event's object as the lists show it: a container's name, an image's tag, a short ID else."""
    attrs = e.attributes or {}
    name = attrs.get("name")
    if isinstance(name, str) and name:
        return name
    if len(e.id.removeprefix("sha256:")) == 64:
        return e.id.removeprefix("sha256:")[:12]
    return e.id


def event_details(e: Event) -> str:
    """The event's other attributes, as ``docker events`` shows them (``image=busybox, exitCode=0``)."""
    attrs = e.attributes or {}
    return ", ".join(f"{k}={v}" for k, v in sorted(attrs.items()) if k != "name")


class EventHistory:
    def __init__(self, limit: int = MAX_EVENTS) -> None:
        self.limit = limit
        self.events: list[Event] = []  # oldest first
        self._keys: set[tuple[int, str, str, str]] = set()
        self._listeners: list[Callable[[], None]] = []
        self.version = 0  # grows with every change (views redraw only when it moved)

    def listen(self, fn: Callable[[], None]) -> None:
        self._listeners.append(fn)

    def add(self, events: Iterable[Event]) -> None:
        """Events from the feed or the backlog, in any order; ones already held are skipped."""
        added = False
        for e in events:
            key = _key(e)
            if key in self._keys:
                continue
            self._keys.add(key)
            if not self.events or _key(self.events[-1]) <= key:
                self.events.append(e)
            else:
                bisect.insort(self.events, e, key=_key)
            added = True
        if not added:
            return
        if len(self.events) > self.limit:
            for gone in self.events[: len(self.events) - self.limit]:
                self._keys.discard(_key(gone))
            del self.events[: len(self.events) - self.limit]
        self.version += 1
        for fn in list(self._listeners):
            fn()

    def newest_first(self) -> list[Event]:
        return self.events[::-1]


def read_backlog(engine: EngineAPI) -> list[Event]:
    """The events at the end of the engine's log (run in a worker: it reads the file); of each engine of a
    side-by-side set (one that does not answer is left out)."""
    from .engines import members_of

    members = members_of(engine)
    out: list[Event] = []
    for member in members.values():
        try:
            end = member.event_offset()
            # from the middle of a line the first, partial line is skipped by the reader
            out += member.events(since_offset=max(0, end - BACKLOG_BYTES), timeout=0)
        except Exception:
            if len(members) == 1:
                raise
    return out


def matches(e: Event, kind: str, words: list[str]) -> bool:
    """Does ``e`` pass the Events tab's filter: its type (``kind``, "" for any) and every word of the text
    (in its time, type, action, name, ID or attributes, ignoring case)?"""
    if kind and e.type != kind:
        return False
    if not words:
        return True
    text = " ".join((e.type, e.action, event_name(e), e.id, event_details(e))).lower()
    return all(w in text for w in words)


def parse_filter(text: str) -> tuple[str, list[str]]:
    """``type=container web`` -> ("container", ["web"]); ``type:image`` works too."""
    kind = ""
    words = []
    for word in text.lower().split():
        key, sep, value = word.replace(":", "=", 1).partition("=")
        if sep and key == "type":
            kind = value
        else:
            words.append(word)
    return kind, words
