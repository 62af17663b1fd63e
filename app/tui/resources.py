"""What the Volumes and Networks panes show, read in the reload worker with the other lists: every volume
and network, and the containers using each (by name, as the lists name them)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine import DockyardError, EngineAPI

from .messages import Snapshot


def read_volumes_networks(
    engine: EngineAPI, snap: Snapshot, volumes_of: Callable[[str], list[str]] | None = None
) -> None:
    """Fill ``snap``'s volumes and networks (its containers are read already). ``volumes_of``: the volumes a
    container mounts, by its ID (app/tui/listing.py keeps them; else each container's config is read)."""
    snap.volumes = engine.volumes.list()
    snap.network_records = engine.networks.list()
    names = {c.id: c.name for c in snap.containers}
    for c in snap.containers:
        for net in c.networks:
            snap.network_users.setdefault(net, []).append(c.name)
    in_use = {v.name for v in snap.volumes if v.in_use}
    if not in_use:
        return
    for cid, name in names.items():
        if volumes_of is not None:
            for volume in volumes_of(cid):
                if volume in in_use and name not in snap.volume_users.get(volume, []):
                    snap.volume_users.setdefault(volume, []).append(name)
            continue
        try:
            mounts = engine.containers.config(cid).mounts
        except DockyardError:
            continue  # a damaged container: the Containers pane says so
        for m in mounts:
            if m.type == "volume" and m.source in in_use and name not in snap.volume_users.get(m.source, []):
                snap.volume_users.setdefault(m.source, []).append(name)


def volume_inspect(v: Any, users: list[str]) -> dict[str, Any]:
    """A volume as ``docker volume inspect`` shows it (and what uses it)."""
    return {
        "CreatedAt": v.created,
        "Driver": "local",
        "Labels": dict(v.labels) or None,
        "Mountpoint": v.mountpoint,
        "Name": v.name,
        "Options": dict(getattr(v, "options", None) or {}) or None,
        "Scope": "local",
        "UsageData": {"Size": v.size, "RefCount": len(users)},
        "UsedBy": list(users),
    }
