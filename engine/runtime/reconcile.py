"""After a crash: a container whose supervisor is gone is marked exited, its processes and cgroup removed.

Runs on every read of a container's state, so the next engine call after a crash of a supervisor, of the
caller, or a reboot shows the truth. Nothing stays mounted: the container's overlay lives only in its own
mount namespace, which dies with its processes.
"""

from __future__ import annotations

import os
import time

from ..errors import ContainerNotFound
from ..humanize import rfc3339
from ..kernel.procinfo import alive
from ..lean.tools import suppress
from ..paths import Layout
from ..store.containers import ContainerStore
from ..store.tmp import dead_write


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
    from ..store.eventlog import emit

    emit(layout, "container", "die", cid, {"exitCode": st.exit_code, "reconciled": True})
    return True


def clear_stale_start(layout: Layout, cid: str) -> bool:
    """A container that is not running but still has a cgroup or network endpoints: its supervisor was killed
    while starting it. The cgroup (and whatever runs in it) and the endpoints go, unless a start of it is
    under way (a start holds the container's start lock until its supervisor reports). True if something
    was cleared."""
    import fcntl

    store = ContainerStore(layout)
    if store.state(cid).status in ("running", "paused", "restarting"):
        return False
    from .cgroups import ContainerCgroup, parent_for_root
    from .nethooks import attached

    cg = ContainerCgroup.open(cid, parent_for_root(layout.root), must_exist=False)
    cfg = store.config(cid)
    if not cg.exists() and not attached(layout, cfg):
        return False
    fd = os.open(layout.lock("start-" + cid[:32]), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # being started right now
        if store.state(cid).status in ("running", "paused", "restarting"):
            return False
        with suppress(Exception):
            cg.destroy()
        from .nethooks import teardown

        with suppress(Exception):
            teardown(layout, cfg)
        return True
    finally:
        os.close(fd)


def sweep(layout: Layout) -> list[str]:
    """Remove what killed processes left among the containers: a directory that is no whole container (no
    config.json), the temporary of a write that never finished; and make the name index hold exactly each
    container's name (a create killed after reserving its name, a rename or rm killed halfway). Returns
    what was removed."""
    store = ContainerStore(layout)
    removed: list[str] = []
    with store.names_lock():  # a create or a rename holds it from its first write to its last
        for entry in os.listdir(store.dir):
            path = os.path.join(store.dir, entry)
            if dead_write(entry):
                os.unlink(path)
                removed.append(path)
            elif len(entry) == 64 and not os.path.exists(os.path.join(path, "config.json")):
                with suppress(FileNotFoundError):  # an rm moved it away just now
                    store.delete_dir(entry)
                removed.append(path)
            elif len(entry) == 64:
                removed += _sweep_writes(path)
        names = store.names()
        held: dict[str, str] = {}
        for cid in store.ids():
            with suppress(ContainerNotFound):
                name = store.config(cid).name
                if name not in held or names.get(name) == cid:
                    held[name] = cid
        removed += [f"name {n}" for n in store.set_names(held) if n in names and held.get(n) != names[n]]
        store.set_ids()
    return removed


def _sweep_writes(directory: str) -> list[str]:
    removed = [os.path.join(directory, n) for n in os.listdir(directory) if dead_write(n)]
    for path in removed:
        with suppress(FileNotFoundError):
            os.unlink(path)
    return removed


def _boot() -> str:
    from ..kernel.procinfo import boot_id

    return boot_id()
