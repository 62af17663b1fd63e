"""``wait``: block until a container stops, then give its exit code."""

from __future__ import annotations

import time

from ..kernel.procinfo import alive, wait_exit
from ..paths import Layout
from ..store.containers import ContainerStore
from .reconcile import reconcile


def wait(layout: Layout, cid: str, timeout: float | None = None) -> int:
    store = ContainerStore(layout)
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        reconcile(layout, cid)
        st = store.state(cid)
        if st.status in ("created", "exited", "dead"):
            return st.exit_code
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        if deadline is not None and left == 0:
            raise TimeoutError(f"container {cid[:12]} still running")
        if st.status == "restarting" or not st.pid:
            time.sleep(0.05)
            continue
        wait_exit(st.pid, st.pid_start, left)
        # The supervisor records the exit right after reaping; give it a moment.
        for _ in range(200):
            st2 = store.state(cid)
            if st2.status != "running" or st2.pid != st.pid:
                break
            if not alive(st.shim_pid, st.shim_start):
                break
            time.sleep(0.002)
        st2 = store.state(cid)
        if st2.status in ("exited", "dead", "created"):
            return st2.exit_code
        if st2.status == "restarting" or (st2.status == "running" and st2.pid != st.pid):
            return st2.exit_code  # Docker's wait returns on the first exit even when a restart follows
