"""A named volume on disk: ``volumes/<name>/_data`` and its ``volume.json``. Made here (by ``create`` for a
container's ``-v name:/path``, and by the volume API); listed and removed by ``engine.volumes``."""

from __future__ import annotations

import os
import re
import time

from ..errors import InvalidArgument
from ..fsutil import atomic_write_json, locked
from ..humanize import rfc3339
from ..paths import Layout

_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")


def volume_dir(layout: Layout, name: str) -> str:
    return os.path.join(layout.volumes, name)


#: Where a volume keeps the local driver's options (``volume create -o``), when it was given any.
MOUNT_FILE = "mount.json"
_KEYS = ("type", "device", "o")


def check_options(options: dict[str, str]) -> dict[str, str]:
    """The local driver's options (``volume create -o``) that dockyard can mount: ``type=tmpfs`` (with
    ``o=`` tmpfs options) or a bind (``type=none,o=bind,device=/path``); Docker's words for an unknown
    key, the reason for what it does not mount."""
    for key in options:
        if key == "size":
            raise InvalidArgument(
                "size is not supported: it needs the xfs project quotas of Docker's data root; "
                "give a tmpfs volume its size with o=size=N"
            )
        if key not in _KEYS:
            raise InvalidArgument(f'invalid option key: "{key}"')
    kind = options.get("type", "")
    mount_opts = [o for o in options.get("o", "").split(",") if o]
    if not kind:
        raise InvalidArgument('missing required option: "type"')
    if kind == "tmpfs":
        return dict(options)
    if kind == "none" and ("bind" in mount_opts or "rbind" in mount_opts):
        device = options.get("device", "")
        if not device.startswith("/"):
            raise InvalidArgument(
                f"invalid device for a bind volume: {device!r}: it must be an absolute path"
            )
        return dict(options)
    raise InvalidArgument(
        f"the local driver's type={kind} is not supported: dockyard's volumes are a directory, a tmpfs "
        "(type=tmpfs) or a bind (type=none,o=bind,device=/path); it mounts no block device or network file "
        "system"
    )


def volume_source(layout: Layout, name: str, read_only: bool) -> str | tuple[str, str, list[str]]:
    """What a container mounts for the volume ``name``: its data directory (a path), or, for a volume made
    with options, (type, source, options) of the mount: a tmpfs of the container's own, or a bind."""
    d = volume_dir(layout, name)
    try:
        with open(os.path.join(d, MOUNT_FILE), "rb") as f:
            import json

            options = json.loads(f.read())
    except FileNotFoundError:
        return os.path.join(d, "_data")
    mode = "ro" if read_only else "rw"
    extra = [o for o in str(options.get("o", "")).split(",") if o and o not in ("bind", "rbind", "ro", "rw")]
    if options.get("type") == "tmpfs":
        return "tmpfs", "tmpfs", [mode, "nosuid", "nodev", *extra]
    device = str(options.get("device", ""))
    if not os.path.isdir(device):
        from ..errors import RuntimeFailure

        raise RuntimeFailure(
            f"error while mounting volume '{d}/_data': failed to mount local volume: mount {device}: "
            "no such directory"
        )
    return "bind", device, ["rbind", mode, *extra]


def ensure_volume(
    layout: Layout, name: str, labels: dict[str, str] | None = None, options: dict[str, str] | None = None
) -> str:
    """Make the volume ``name`` unless it exists (Docker's name rules); returns its directory. ``options``
    (checked by check_options) are the local driver's: how containers mount it."""
    if not _NAME.match(name):
        raise InvalidArgument(
            f'create {name}: "{name}" includes invalid characters for a local volume name, only '
            '"[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed'
        )
    d = volume_dir(layout, name)
    with locked(layout.lock("volumes")):
        if not os.path.exists(os.path.join(d, "volume.json")):
            os.makedirs(os.path.join(d, "_data"), exist_ok=True)
            if options:
                atomic_write_json(os.path.join(d, MOUNT_FILE), options)
            atomic_write_json(
                os.path.join(d, "volume.json"), {"created": rfc3339(time.time()), "labels": labels or {}}
            )
            from ..store.eventlog import emit

            emit(layout, "volume", "create", name, {"driver": "local"})
    return d
