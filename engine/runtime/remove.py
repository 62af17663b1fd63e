"""Removing a stopped container: its cgroup, its name, its directory (writable layer, logs, state)."""

from __future__ import annotations

import contextlib

from ..paths import Layout
from .store import ContainerStore


def remove_stopped(layout: Layout, cid: str) -> None:
    store = ContainerStore(layout)
    try:
        cfg = store.config(cid)
    except Exception:
        cfg = None
    from .cgroups import ContainerCgroup, parent_for_root

    with contextlib.suppress(Exception):
        ContainerCgroup.open(cid, parent_for_root(layout.root), must_exist=False).destroy()
    if cfg is not None:
        from .nethooks import teardown

        with contextlib.suppress(Exception):
            teardown(layout, cfg)
        with store.names_lock():
            store.release_name(cfg.name, cid)
    store.delete_dir(cid)
    from ..events import emit

    emit(layout, "container", "destroy", cid)
