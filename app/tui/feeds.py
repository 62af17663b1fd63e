"""The app's long-running background threads: engine events, resource sampling and the host's figures.

``EventFeed`` follows the engine's event log (inotify-driven inside the engine) and tells the app what kind
of thing changed, so lists refresh within a fraction of a second of a change made by any process; when the
stream breaks (a remote engine that went away), the lists are read whole once it is back, so what changed
meanwhile is not left stale.
``StatsFeed`` samples every running container once a second (one pass over all of them) and sleeps while
nothing runs. ``HostFeed`` reads the host's figures for the top bar every two seconds and tells the app
only when what the bar shows changed. All are daemon threads that stop with the app; none touches a widget:
they post messages.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from engine import EngineAPI

from .hostinfo import HostSummary
from .messages import EngineChanged, HostSampled, StatsSampled

Post = Callable[[Any], object]


def _safe(post: Post, message: Any) -> bool:
    try:
        post(message)
        return True
    except RuntimeError:  # the app's loop is closed: we are shutting down
        return False


ALL_KINDS = ("container", "image", "volume", "network")


class EventFeed(threading.Thread):
    def __init__(self, engine: EngineAPI, post: Post) -> None:
        super().__init__(name="dockyard-events", daemon=True)
        self.engine = engine
        self.post = post
        self.stopped = threading.Event()

    def run(self) -> None:
        broke = False
        while not self.stopped.is_set():
            try:
                offset = self.engine.event_offset()
                if broke:  # what happened while the stream was broken: the lists are read whole once
                    broke = False
                    if not _safe(self.post, EngineChanged(set(ALL_KINDS))):
                        return
                for event in self.engine.events(since_offset=offset, stop=self.stopped.is_set):
                    if self.stopped.is_set() or not _safe(self.post, EngineChanged({event.type}, event)):
                        return
            except Exception:
                broke = True
                if self.stopped.wait(2.0):
                    return

    def stop(self) -> None:
        self.stopped.set()


class StatsFeed(threading.Thread):
    """``wanted`` names the containers whose figures are on screen (None: all): only those are read, so
    that hundreds of running containers cost what the dozen rows shown do."""

    def __init__(
        self,
        engine: EngineAPI,
        post: Post,
        interval: float = 1.0,
        wanted: Callable[[], set[str] | None] | None = None,
        pace: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(name="dockyard-stats", daemon=True)
        self.engine = engine
        self.post = post
        self.interval = interval
        self.wanted = wanted
        self.pace = pace  # seconds between passes now (the figures may be shown less often than each second)
        self.stopped = threading.Event()
        self.dirty = threading.Event()  # the set of running containers may have changed
        self.dirty.set()

    def _wanted(self) -> set[str] | None:
        if self.wanted is None:
            return None
        try:
            return self.wanted()
        except Exception:  # noqa: BLE001 - the screen is being built or torn down: read them all
            return None

    def _reader(self, ids: set[str] | None, previous: Any = None) -> Any:
        reader = self.engine.containers.stats_reader(sorted(ids) if ids else None)
        if previous is not None:
            reader.sampler = previous.sampler  # CPU % goes on from the last pass
        return reader

    def run(self) -> None:
        ids = self._wanted()
        reader = self._reader(ids)
        while not self.stopped.is_set():
            now = self._wanted()
            if now != ids:
                ids, reader = now, self._reader(now, reader)
            if self.dirty.is_set():
                self.dirty.clear()
                reader.refresh()
            try:
                records = reader.sample() if ids != set() else []
            except Exception:  # the feed goes on; the next pass lists the containers again
                records = []
                reader.refresh()
            if not _safe(self.post, StatsSampled(records, time.monotonic())):
                return
            if not reader.running() and ids is None:
                self.dirty.wait(30.0)  # nothing runs: sleep until a container starts
                continue
            self.stopped.wait(self._pace())

    def _pace(self) -> float:
        try:
            return self.pace() if self.pace is not None else self.interval
        except Exception:  # noqa: BLE001 - the screen is being built or torn down
            return self.interval

    def changed(self) -> None:
        self.dirty.set()

    def stop(self) -> None:
        self.stopped.set()
        self.dirty.set()


class HostFeed(threading.Thread):
    """The host's figures every ``interval`` seconds, read by ``read`` (psutil) in this one thread."""

    def __init__(self, read: Callable[[], HostSummary], post: Post, interval: float = 2.0) -> None:
        super().__init__(name="dockyard-host", daemon=True)
        self.read = read
        self.post = post
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        shown = None
        while not self.stopped.is_set():
            try:
                summary = self.read()
            except Exception:  # noqa: BLE001 - the top bar goes without host figures until a reading works
                summary = None
            if summary is not None and summary.text() != shown:
                shown = summary.text()
                if not _safe(self.post, HostSampled(summary)):
                    return
            self.stopped.wait(self.interval)

    def stop(self) -> None:
        self.stopped.set()
