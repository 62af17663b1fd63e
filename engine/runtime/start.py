"""``start``: bring a created or exited container up under a new supervisor."""

from __future__ import annotations

import os

from ..errors import Conflict
from ..fsutil import locked
from ..paths import Layout
from ..store.containers import ContainerStore
from .reconcile import reconcile
from .supervisor.spawning import PendingSupervisor


def start(
    layout: Layout, cid: str, client_fd: int | None = None, supervisor: PendingSupervisor | None = None
) -> bool:
    """Start ``cid``; False if it was already running. ``client_fd`` is attached before the process runs.
    ``supervisor``: one forked ahead of time for this start (``run``); else one is forked here."""
    store = ContainerStore(layout)
    try:
        with locked(layout.lock("start-" + cid[:32])):
            reconcile(layout, cid)
            with store.lock(cid):
                st = store.state(cid)
                if st.status == "paused":
                    raise Conflict("cannot start a paused container, try unpause instead")
                if st.status in ("running", "restarting"):
                    return False
                st.stop_requested = False
                st.error = ""
                store.save_state(cid, st)
            # Old sockets must be gone before the supervisor takes over.
            try:
                os.unlink(store.path(cid, "attach.sock"))
            except FileNotFoundError:
                pass
            (supervisor or PendingSupervisor(layout.root, client_fd)).go(cid)
    finally:
        if supervisor is not None:
            supervisor.cancel()  # when it was not used (nothing to do otherwise)
    from ..store.eventlog import emit

    emit(layout, "container", "start", cid)
    return True
