"""The lists the app shows, read in the reload worker: the first time every container, afterwards only the
containers the engine's events named.

With a thousand containers, reading every record again for each event (another process creating,
starting and removing containers) cost a tenth of a second and more of the worker's time per reload, all of
it holding the interpreter's lock the UI thread needs for the keys. ``ListReader`` keeps the records it
read; an event about a container marks that one to be read again (a network's connect or disconnect marks
the container it names); a reload then reads those, drops the ones that are gone and keeps the order
``containers.list`` gives (newest first). The images, volumes and networks are read each time (a few
records), and which volumes each container mounts is read once per container (mounts do not change).
Anything the reader cannot place (an event without an ID, a read that fails) makes the next reload read
every container again, as does ``reload()`` (ctrl+r); engines side by side (``EngineSet``) are listed
whole, the set asking again only the engines whose events said something changed.
"""

from __future__ import annotations

import threading
from typing import Any

from engine import Container, DockyardError, EngineAPI

from .engines import EngineSet
from .messages import Snapshot
from .resources import read_volumes_networks


class ListReader:
    def __init__(self) -> None:
        self.engine: EngineAPI | None = None  # the engine read last (the app may move to another context)
        self._lock = threading.Lock()
        self._full = True  # the next read lists every container
        self._changed: set[str] = set()  # container IDs to read again
        self._records: dict[str, Container] = {}
        self._order_keys: dict[str, float] = {}  # container ID -> its creation time (the list's order)
        self._mounts: dict[str, list[str]] = {}  # container ID -> the volumes it mounts

    def note(self, event: Any) -> None:
        """An engine event (any thread): mark what it changed."""
        kind = getattr(event, "type", None)
        cid = ""
        if kind == "container":
            cid = getattr(event, "id", "") or ""
        elif kind == "network":
            cid = str((getattr(event, "attributes", None) or {}).get("container", ""))
        elif kind in ("image", "volume"):
            return  # read each time anyway
        with self._lock:
            if cid:
                self._changed.add(cid)
            elif kind in (None, "container"):
                self._full = True

    def everything(self) -> None:
        """The next read lists every container."""
        with self._lock:
            self._full = True

    def read(self, engine: EngineAPI) -> Snapshot:
        """The lists of ``engine`` now (in the worker thread); another engine than last time is read whole."""
        if engine is not self.engine:
            self.engine, self._mounts = engine, {}
            self.everything()
        snap = Snapshot()
        snap.containers = self._containers(engine)
        snap.images = engine.images.list()
        snap.networks = [n.name for n in engine.networks.list()]
        snap.default_network = engine.default_network()
        read_volumes_networks(engine, snap, self._volumes_of)
        for c in snap.containers:
            snap.image_users[c.image_id] = snap.image_users.get(c.image_id, 0) + 1
        return snap

    def _containers(self, engine: EngineAPI) -> list[Container]:
        with self._lock:
            full, changed = self._full, self._changed
            self._full, self._changed = False, set()
        if not full and not isinstance(engine, EngineSet):  # a set lists again only its engines that changed
            try:
                return self._update(engine, changed)
            except Exception:  # noqa: BLE001 - read them all instead
                pass
        try:
            listed = engine.containers.list(all=True)
        except BaseException:
            with self._lock:
                self._full = True
            raise
        self._records = {c.id: c for c in listed}
        self._order_keys = {c.id: -i for i, c in enumerate(listed)}  # the engine's order, kept
        return listed

    def _update(self, engine: EngineAPI, changed: set[str]) -> list[Container]:
        from engine import NotFound
        from engine.humanize import parse_time

        if not changed:
            return list(self._records.values())
        newest = max(self._order_keys.values(), default=0.0)
        added = False
        for cid in changed:
            try:
                c = engine.containers.get(cid)
            except NotFound:
                self._records.pop(cid, None)
                self._order_keys.pop(cid, None)
                self._mounts.pop(cid, None)
                continue
            if cid not in self._records:
                added = True
                # after every container listed so far (newest first), by creation time among the new ones
                self._order_keys[cid] = newest + 1.0 + parse_time(c.created) / 1e10
            self._records[cid] = c
        if added:
            order = sorted(self._records, key=lambda i: self._order_keys[i], reverse=True)
            self._records = {i: self._records[i] for i in order}
        return list(self._records.values())

    def _volumes_of(self, cid: str) -> list[str]:
        mounts = self._mounts.get(cid)
        if mounts is None and self.engine is not None:
            try:
                config = self.engine.containers.config(cid)
            except DockyardError:
                return []  # a damaged container: the Containers pane says so
            mounts = [m.source for m in config.mounts if m.type == "volume"]
            self._mounts[cid] = mounts
        return mounts or []
