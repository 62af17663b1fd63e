"""After a crash: a container whose supervisor is gone is marked exited, its processes and cgroup removed.

Runs on every read of a container's state, so the next engine call after a crash of a supervisor, of the
caller, or a reboot shows the truth. Nothing stays mounted: the container's overlay lives only in its own
mount namespace, which dies with its processes.
"""

from __future__ import annotations

import time

from ..humanize import rfc3339
from ..lean import suppress
from ..paths import Layout
from .procinfo import alive
from .store import ContainerStore


def needs_reconcile(st: object) -> bool:
    s = st  # ContainerState
    if getattr(s, "status", "") not in ("running", "paused", "restarting"):
        return False
    return not alive(s.shim_pid, s.shim_start, s.boot_id)  # type: ignore[attr-defined]


def reconcile(layout: Layout, cid: str) -> bool:
    """Fix the state of ``cid`` if its supervisor died; True if something was fixed."""
    store = ContainerStore(layout)
    st = store.state(cid)
    if not needs_reconcile(st):
        return False
    with store.lock(cid):
        st = store.state(cid)
        if not needs_reconcile(st):
            return False
        rebooted = bool(st.boot_id) and not alive(st.shim_pid, 0, st.boot_id) and st.boot_id != _boot()
        from .cgroups import ContainerCgroup, parent_for_root

        killed = False
        with suppress(Exception):
            cg = ContainerCgroup.open(cid, parent_for_root(layout.root), must_exist=False)
            if cg.exists():
                killed = bool(cg.pids())
                cg.destroy()
        from .nethooks import teardown

        with suppress(Exception):
            teardown(layout, store.config(cid))
        st.status = "exited"
        st.exit_code = 255 if rebooted else 137
        st.pid = 0
        st.finished_at = st.finished_at or rfc3339(time.time())
        st.error = "the machine restarted" if rebooted else "the container's supervisor died"
        if killed:
            st.error += "; its processes were killed"
        store.save_state(cid, st)
        auto_remove = False
        with suppress(Exception):
            auto_remove = store.config(cid).auto_remove
    if auto_remove:
        from .remove import remove_stopped

        remove_stopped(layout, cid)
    from ..events import emit

    emit(layout, "container", "die", cid, {"exitCode": st.exit_code, "reconciled": True})
    return True


def _boot() -> str:
    from .procinfo import boot_id

    return boot_id()
