"""PID 1 has exited: its exit status, the teardown (networking, then the cgroup, read for an OOM kill
first), the exit recorded with the restart policy's decision, and the end of the supervisor's work (the
``die`` event, ``--rm``, the attached clients told the exit code)."""

from __future__ import annotations

import os
import time

from ...humanize import rfc3339
from ...lean.tools import suppress
from ..trace import trace

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ...model.config import ContainerConfig, ContainerState
    from ...paths import Layout
    from ...store.containers import ContainerStore
    from .cgroup import CgroupSetup
    from .relay import Relay


def exit_status(status: int) -> int:
    """The exit code of a wait status: 128+signal for a process a signal ended."""
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


def teardown(layout: Layout, cfg: ContainerConfig, cgroup: CgroupSetup) -> bool:
    """Remove the container's networking and its cgroup (what fails is ignored); True if the OOM killer
    struck."""
    from ..nethooks import teardown as net_teardown

    with suppress(Exception):
        net_teardown(layout, cfg)
    return cgroup.end()


def should_restart(cfg: ContainerConfig, code: int, st: ContainerState) -> bool:
    pol = cfg.restart_policy
    if st.stop_requested or pol.name in ("", "no"):
        return False
    if pol.name == "on-failure":
        return code != 0 and (pol.max_retries <= 0 or st.restart_count < pol.max_retries)
    return pol.name in ("always", "unless-stopped")


def record_exit(store: ContainerStore, cid: str, cfg: ContainerConfig, code: int, oom: bool) -> bool:
    """Record PID 1's exit in the state: "restarting" if the restart policy says so (the return value),
    else "exited"."""
    with store.lock(cid):
        st = store.state(cid)
        with suppress(Exception):  # ``update --restart`` may have changed the policy since the start
            cfg = store.config(cid)
        restart = should_restart(cfg, code, st)
        st.status = "restarting" if restart else "exited"
        st.exit_code = code
        st.oom_killed = oom
        st.pid = 0
        st.finished_at = rfc3339(time.time())
        if restart:
            st.restart_count += 1
        store.save_state(cid, st)
    return restart


def finish(layout: Layout, cid: str, cfg: ContainerConfig, relay: Relay, code: int) -> None:
    """The container has ended for good: tell the event log, close the log (the attach socket's name goes
    with it: ``stop`` and ``kill`` wait for that, the supervisor process lives on for its other containers),
    remove it with ``--rm``, then tell the attached clients the exit code (and with ``--rm`` delete its
    files after that)."""
    trace("finishing")
    relay.flush_log()
    from ...store.eventlog import emit

    with suppress(Exception):
        emit(layout, "container", "die", cid, {"exitCode": code})
    relay.close_log()
    dead = None
    if cfg.auto_remove:
        from ..remove import retire

        with suppress(Exception):
            dead = retire(layout, cid)
    trace("removed" if cfg.auto_remove else "final state")
    relay.tell_exit(code)
    if dead is not None:  # out of every listing already: its files go after the caller has the exit code
        from ...store.tmp import remove_tree

        with suppress(OSError):
            remove_tree(dead)
