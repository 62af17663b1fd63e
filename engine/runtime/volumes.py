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


def ensure_volume(layout: Layout, name: str, labels: dict[str, str] | None = None) -> str:
    """Make the volume ``name`` unless it exists (Docker's name rules); returns its directory."""
    if not _NAME.match(name):
        raise InvalidArgument(
            f'create {name}: "{name}" includes invalid characters for a local volume name, only '
            '"[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed'
        )
    d = volume_dir(layout, name)
    with locked(layout.lock("volumes")):
        if not os.path.exists(os.path.join(d, "volume.json")):
            os.makedirs(os.path.join(d, "_data"), exist_ok=True)
            atomic_write_json(
                os.path.join(d, "volume.json"), {"created": rfc3339(time.time()), "labels": labels or {}}
            )
            from ..store.eventlog import emit

            emit(layout, "volume", "create", name, {"driver": "local"})
    return d
