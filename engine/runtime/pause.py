"""``pause``/``unpause``: freeze every process of the container with the cgroup freezer."""

from __future__ import annotations

from ..errors import Conflict
from ..paths import Layout
from ..store.containers import ContainerStore
from .reconcile import reconcile


def _cgroup(layout: Layout, cid: str):
    from .cgroups import ContainerCgroup, parent_for_root

    return ContainerCgroup.open(cid, parent_for_root(layout.root))


def pause(layout: Layout, cid: str) -> None:
    store = ContainerStore(layout)
    reconcile(layout, cid)
    with store.lock(cid):
        st = store.state(cid)
        if st.status == "paused":
            raise Conflict(f"Container {cid} is already paused")
        if st.status != "running":
            raise Conflict(f"Container {cid} is not running")
        _cgroup(layout, cid).freeze()
        st.status = "paused"
        store.save_state(cid, st)
    from ..store.eventlog import emit

    emit(layout, "container", "pause", cid)


def unpause(layout: Layout, cid: str) -> None:
    store = ContainerStore(layout)
    reconcile(layout, cid)
    with store.lock(cid):
        st = store.state(cid)
        if st.status != "paused":
            raise Conflict(f"Container {cid} is not paused")
        _cgroup(layout, cid).thaw()
        st.status = "running"
        store.save_state(cid, st)
    from ..store.eventlog import emit

    emit(layout, "container", "unpause", cid)
