"""Volumes and networks: their records readable. A volume's record is only its labels and creation time
(its data is never touched): a damaged one is written again; a damaged network record is quarantined."""

from __future__ import annotations

import os
import time

from ..errors import CorruptRecord
from ..fsutil import atomic_write_json, read_json
from ..humanize import rfc3339
from ..model.reports import Finding
from ..net.netstore import NetStore
from ..paths import Layout
from ..store.quarantine import keep


def check(layout: Layout, repair: bool) -> list[Finding]:
    return _volumes(layout, repair) + _networks(layout, repair)


def _volumes(layout: Layout, repair: bool) -> list[Finding]:
    out: list[Finding] = []
    try:
        names = sorted(os.listdir(layout.volumes))
    except FileNotFoundError:
        return out
    for name in names:
        path = os.path.join(layout.volumes, name, "volume.json")
        try:
            meta = read_json(path)
            problem = None if meta is None or isinstance(meta, dict) else "not an object"
        except CorruptRecord as e:
            problem = e.reason
        if problem is None:
            continue
        f = Finding("volume record", path, problem)
        if repair:
            moved = keep(layout, path)
            atomic_write_json(path, {"created": rfc3339(time.time()), "labels": {}})
            f.repair = f"written again without its labels; its data is untouched (the damaged file: {moved})"
        out.append(f)
    return out


def _networks(layout: Layout, repair: bool) -> list[Finding]:
    store = NetStore(layout)
    out = []
    for damage in store.damaged():
        f = Finding("network record", damage.path, damage.reason)
        if repair:
            f.repair = "quarantined as " + keep(layout, os.path.dirname(damage.path))
        out.append(f)
    return out
