"""Containers: each config and state readable and well shaped, the name index equal to the records."""

from __future__ import annotations

from ..errors import ContainerNotFound, CorruptRecord
from ..lean.tools import suppress
from ..model.reports import Finding
from ..paths import Layout
from ..store.containers import ContainerStore
from ..store.quarantine import keep


def check(layout: Layout, repair: bool) -> list[Finding]:
    store = ContainerStore(layout)
    out: list[Finding] = []
    for cid in store.ids():
        try:
            store.config(cid)
        except ContainerNotFound:
            continue
        except CorruptRecord as e:
            f = Finding("container config", e.path, e.reason)
            if repair:
                f.repair = "quarantined as " + _quarantine(layout, store, cid)
            out.append(f)
            continue
        try:
            store.read_state(cid)
        except ContainerNotFound:
            continue
        except CorruptRecord as e:
            # Rebuilt whether asked or not, as every read of the container does: from its processes (found
            # by their cgroup), the damaged file kept in the quarantine.
            st = store.state(cid)
            where = f", PID {st.pid}" if st.pid else ""
            out.append(Finding("container state", e.path, e.reason, f"rebuilt ({st.status}{where})"))
    out += _check_names(store, repair)
    return out


def _check_names(store: ContainerStore, repair: bool) -> list[Finding]:
    if not store.names_damaged():
        return []
    f = Finding("name index", store.names_dir, "unreadable or misshapen")
    if repair:
        with store.names_lock():
            store.rebuild_names()
        f.repair = "rebuilt from the containers' records"
    return [f]


def _quarantine(layout: Layout, store: ContainerStore, cid: str) -> str:
    """A container whose config is lost: its processes killed, its names released, its directory moved."""
    from ..runtime.cgroups import ContainerCgroup, parent_for_root

    with suppress(Exception):
        ContainerCgroup.open(cid, parent_for_root(layout.root), must_exist=False).destroy()
    with store.names_lock():
        for name in [n for n, owner in store.names().items() if owner == cid]:
            store.release_name(name, cid)
        return keep(layout, store.path(cid))
