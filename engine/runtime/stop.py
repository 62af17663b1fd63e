"""``stop``, ``kill`` and ``restart``.

stop: the signal is ``-s``, else the container's stop signal (image STOPSIGNAL / --stop-signal), else
SIGTERM; after the timeout (``-t``, else --stop-timeout, else 10 s; -1 waits forever) SIGKILL.
"""

from __future__ import annotations

import os

from ..errors import Conflict, InvalidArgument
from ..kernel.procinfo import wait_exit
from ..lean.tools import suppress
from ..paths import Layout
from ..store.containers import ContainerStore
from .reconcile import reconcile
from .signals import parse_signal

TYPE_CHECKING = False
if TYPE_CHECKING:
    import signal
else:
    import _signal as signal  # the C module: ``signal`` would load ``enum``

DEFAULT_TIMEOUT = 10


def _signal_container(layout: Layout, cid: str, pid: int, sig: int, paused: bool) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return
    if sig == signal.SIGKILL and paused:  # a frozen process dies only once thawed
        _thaw(layout, cid)


def stop(layout: Layout, cid: str, timeout: int | None = None, sig: str | None = None) -> bool:
    """Stop ``cid``; False if it was not running."""
    store = ContainerStore(layout)
    signum = parse_signal(sig, 0)  # a bad signal is refused before anything changes
    reconcile(layout, cid)
    cfg = store.config(cid)
    with store.lock(cid):
        st = store.state(cid)
        if st.status not in ("running", "paused", "restarting"):
            return False
        st.stop_requested = True
        store.save_state(cid, st)
    if timeout is None:
        timeout = cfg.stop_timeout if cfg.stop_timeout is not None else DEFAULT_TIMEOUT
    signum = signum or _stop_signal(cfg.stop_signal)
    if st.pid:
        paused = st.status == "paused"
        if paused:
            _thaw(layout, cid)
        _signal_container(layout, cid, st.pid, signum, paused)
        done = wait_exit(st.pid, st.pid_start, None if timeout < 0 else float(timeout))
        if not done:
            _signal_container(layout, cid, st.pid, signal.SIGKILL, paused)
            wait_exit(st.pid, st.pid_start, 30.0)
    wait_supervisor(layout, cid)
    from ..store.eventlog import emit

    emit(layout, "container", "stop", cid, config=cfg)
    return True


def _stop_signal(name: str) -> int:
    """The container's stop signal; SIGTERM if it is none (a container made before create checked it)."""
    try:
        return parse_signal(name, signal.SIGTERM)
    except InvalidArgument:
        return signal.SIGTERM


def _thaw(layout: Layout, cid: str) -> None:
    from .cgroups import ContainerCgroup, parent_for_root

    with suppress(Exception):
        ContainerCgroup.open(cid, parent_for_root(layout.root), must_exist=False).thaw()


def wait_supervisor(layout: Layout, cid: str, timeout: float = 30.0) -> None:
    """Wait until the supervisor is done with the PID 1 it had (or is gone): the container is restarting or
    runs another PID 1, or it has exited and its attach socket is gone (the supervisor's last step for it),
    or with ``--rm`` it was removed. Polled: a millisecond apart at first, it is a few milliseconds away
    (an inotify watch costs more: closing one waits for the kernel's SRCU grace period, 10-20 ms)."""
    import time

    from ..errors import ContainerNotFound
    from ..kernel.procinfo import alive

    store = ContainerStore(layout)
    deadline = time.monotonic() + timeout
    socket = store.path(cid, "attach.sock")
    delay = 0.0005
    try:
        removed = store.config(cid).auto_remove
        st = store.state(cid)
        pid = st.pid
        while alive(st.shim_pid, st.shim_start):
            if st.status == "restarting" and not st.stop_requested:
                break
            if st.status in ("running", "paused") and st.pid != pid:
                break
            if st.status not in _LIVE and not removed and not os.path.lexists(socket):
                break
            if time.monotonic() > deadline:
                break
            time.sleep(delay)
            delay = min(delay * 1.2, 0.02)
            st = store.state(cid)
    except ContainerNotFound:
        return
    reconcile(layout, cid)


_LIVE = ("running", "paused", "restarting")


def kill(layout: Layout, cid: str, sig: str | None = None) -> None:
    store = ContainerStore(layout)
    reconcile(layout, cid)
    st = store.state(cid)
    if st.status not in ("running", "paused", "restarting") or not st.pid:
        raise Conflict(f"cannot kill container: {cid[:12]}: container {cid[:12]} is not running")
    signum = parse_signal(sig, signal.SIGKILL)
    if signum in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT):
        with store.lock(cid):  # a killed container is not brought back by its restart policy
            st2 = store.state(cid)
            st2.stop_requested = True
            store.save_state(cid, st2)
    _signal_container(layout, cid, st.pid, signum, st.status == "paused")
    if signum == signal.SIGKILL:
        wait_exit(st.pid, st.pid_start, 10.0)
        wait_supervisor(layout, cid)
    from ..store.eventlog import emit

    emit(layout, "container", "kill", cid, {"signal": signum})
