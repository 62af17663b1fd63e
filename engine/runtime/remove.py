"""Removing a stopped container: its cgroup, its name, its directory (writable layer, logs, state)."""

from __future__ import annotations

from .. import faults
from ..lean.tools import suppress
from ..paths import Layout
from ..store.containers import ContainerStore
from ..store.tmp import remove_tree


def remove_stopped(layout: Layout, cid: str) -> None:
    dead = retire(layout, cid)
    if dead is not None:
        faults.point("container delete")
        remove_tree(dead)


def retire(layout: Layout, cid: str) -> str | None:
    """Remove the container but for deleting its files: its directory is moved into the engine's tmp and
    that path returned (``run --rm``'s supervisor reports the exit first, then deletes it)."""
    store = ContainerStore(layout)
    try:
        cfg = store.config(cid)
    except Exception:
        cfg = None
    from .cgroups import ContainerCgroup, parent_for_root

    with suppress(Exception):
        ContainerCgroup.open(cid, parent_for_root(layout.root), must_exist=False).destroy()
    if cfg is not None:
        from .nethooks import teardown

        with suppress(Exception):
            teardown(layout, cfg)
    # The container goes before its name: a process killed in between leaves a name entry whose container
    # is gone (free to take; the sweep drops it), never a container whose name another can take.
    with store.names_lock():
        if cfg is not None:
            dead = store.retire_dir(cid)
            store.release_name(cfg.name, cid)
        else:  # a damaged config: every name the index gives this container goes
            names = [n for n, owner in store.names().items() if owner == cid]
            dead = store.retire_dir(cid)
            for name in names:
                store.release_name(name, cid)
    from ..store.eventlog import emit

    emit(layout, "container", "destroy", cid, config=cfg)
    return dead
