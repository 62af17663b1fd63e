"""Named volumes: ``volumes/<name>/_data`` directories that outlive containers."""

from __future__ import annotations

import builtins
import os

from .errors import Conflict, CorruptRecord, NotFound
from .fsutil import dir_size, locked, read_json
from .model.volume import Volume
from .paths import Layout
from .runtime.volumes import ensure_volume, volume_dir
from .store import tmp as tmpfiles

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class Volumes:
    def __init__(self, layout: Layout) -> None:
        self.layout = layout

    def _dir(self, name: str) -> str:
        return volume_dir(self.layout, name)

    def _users(self, name: str) -> list[str]:
        from .store.containers import ContainerStore

        store = ContainerStore(self.layout)
        out = []
        for cid in store.ids():
            try:
                cfg = store.config(cid)
            except Exception:
                continue
            if any(m.type == "volume" and m.source == name for m in cfg.mounts):
                out.append(cid)
        return out

    def create(
        self,
        name: str | None = None,
        labels: dict[str, str] | None = None,
        driver: str = "local",
        options: dict[str, str] | None = None,
    ) -> Volume:
        """``docker volume create``: the local driver only; ``options`` are its ``type``/``device``/``o``
        (a tmpfs, or a bind of a host directory: engine.runtime.volumes.check_options)."""
        if name is None:
            name = os.urandom(32).hex()
        if driver != "local":
            raise NotFound(
                f'create {name}: error looking up volume plugin {driver}: plugin "{driver}" not found'
            )
        if options:
            from .runtime.volumes import check_options

            options = check_options(options)
            current = self._options(name)
            if current is not None and current != options:
                raise Conflict(f"create {name}: volume already exists with different options")
        ensure_volume(self.layout, name, labels, options or None)
        return self.get(name)

    def _options(self, name: str) -> dict[str, str] | None:
        """The options of the volume ``name`` if it exists ({} without), else None."""
        from .runtime.volumes import MOUNT_FILE

        d = self._dir(name)
        if not os.path.exists(os.path.join(d, "volume.json")):
            return None
        return read_json(os.path.join(d, MOUNT_FILE)) or {}

    def get(self, name: str, size: bool = False) -> Volume:
        try:
            meta = read_json(os.path.join(self._dir(name), "volume.json"))
        except CorruptRecord:
            meta = {}  # its labels and creation time are lost, not its data (system check rewrites it)
        if meta is None:
            raise NotFound(f"get {name}: no such volume")
        if not isinstance(meta, dict):
            meta = {}
        data = os.path.join(self._dir(name), "_data")
        return Volume(
            name,
            data,
            meta.get("created", ""),
            meta.get("labels") or {},
            bool(self._users(name)),
            dir_size(data) if size else 0,
            self._options(name) or {},
        )

    def inspect(self, name: str) -> dict[str, Any]:
        """The volume as ``docker volume inspect`` (and the Engine API) shows it."""
        return self.describe(self.get(name))

    @staticmethod
    def describe(v: Volume) -> dict[str, Any]:
        """Docker's JSON of a volume record (``inspect``; each of the Engine API's list)."""
        return {
            "CreatedAt": v.created,
            "Driver": "local",
            "Labels": v.labels,
            "Mountpoint": v.mountpoint,
            "Name": v.name,
            "Options": dict(v.options) or None,
            "Scope": "local",
        }

    def list(self, filters: dict[str, builtins.list[str]] | None = None) -> builtins.list[Volume]:
        """Every volume, by name. ``filters`` as ``docker volume ls --filter`` (engine/filters.py: dangling,
        name, label, driver); an unknown key is InvalidArgument."""
        if filters:
            from .filters import select_volumes

            return select_volumes(self.list(), filters)
        try:
            names = sorted(os.listdir(self.layout.volumes))
        except FileNotFoundError:
            return []
        out = []
        for n in names:
            try:
                out.append(self.get(n, size=True))
            except NotFound:
                continue
        return out

    def remove(self, name: str, force: bool = False) -> None:
        with locked(self.layout.lock("volumes")):
            self.get(name)
            users = self._users(name)
            if users and not force:
                raise Conflict(f"remove {name}: volume is in use - [{', '.join(users)}]")
            d = self._dir(name)
            dead = os.path.join(self.layout.tmp, f"{os.getpid()}-deadv-{os.urandom(4).hex()}")
            os.rename(d, dead)
            tmpfiles.remove_tree(dead)
            from .store.eventlog import emit

            emit(self.layout, "volume", "destroy", name, {"driver": "local"})

    def prune(self, *, filters: dict[str, builtins.list[str]] | None = None) -> builtins.list[str]:
        """Remove the volumes no container uses; ``filters``: ``label``, ``label!`` (what they spare:
        engine.filters.pruning), ``all`` (accepted: every unused volume goes either way)."""
        spares = None
        if filters:
            from .filters import VOLUME_PRUNE_KEYS, pruning

            spares = pruning(filters, VOLUME_PRUNE_KEYS)
        removed = []
        for v in self.list():
            if spares is not None and spares(0.0, v.labels):
                continue
            if not v.in_use:
                self.remove(v.name)
                removed.append(v.name)
        return removed
