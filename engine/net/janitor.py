"""Deferred host cleanup: idle bridges, leftover veths, and the firewall table once nothing is active.

A container's exit path only updates the state on disk (``detach`` frees its address and ports at once)
and asks for a cleanup. The kernel work is slow (deleting a bridge waits ~50 ms for the network stack to
quiesce, a veth ~20 ms) and often useless (the next ``run`` would create the same bridge and rules again),
so it is done by one short-lived detached process once the root's networks have been idle for ``LINGER``
seconds. Until then an idle bridge keeps its address and rules; a container that starts meanwhile finds
them ready. ``network rm`` and ``network prune`` clean up at once (``sweep``).

Only one janitor runs per root (a lock held for its life); the request (``cleanup_after`` in the host
state file) is written under the network lock, and a janitor gives up its lock only while it holds the
network lock, so a request is never left without a janitor to serve it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import time

from ..paths import Layout
from .netstore import NetStore

LINGER = float(os.environ.get("DOCKYARD_NET_LINGER", "1.0"))


def request(store: NetStore) -> None:
    """Ask for a cleanup ``LINGER`` seconds from now (caller holds the network lock)."""
    state = store.host_state()
    state["cleanup_after"] = time.time() + LINGER
    store.save_host_state(state)


def add_stale_veths(store: NetStore, names: list[str]) -> None:
    """Remember host-side veths to delete if the kernel has not removed them with their namespace."""
    if not names:
        return
    state = store.host_state()
    state["stale_veths"] = sorted(set(state.get("stale_veths", [])) | set(names))
    store.save_host_state(state)


def sweep(layout: Layout, store: NetStore) -> None:
    """Delete idle bridges and leftover veths now, then bring the firewall in line (caller holds the lock)."""
    from . import firewall
    from .rtnl import Netlink, link_exists

    state = store.host_state()
    with Netlink() as nl:
        for net in store.all():
            if net.bridge and not store.endpoints(net.name) and link_exists(net.bridge):
                with contextlib.suppress(OSError):
                    nl.delete_link(net.bridge)
        live = {ep.veth for ep in store.all_endpoints()}  # a container started again has its veth's name back
        for veth in state.get("stale_veths", []):
            if veth not in live and link_exists(veth):
                with contextlib.suppress(OSError):
                    nl.delete_link(veth)
    state = store.host_state()
    state.pop("stale_veths", None)
    state.pop("cleanup_after", None)
    store.save_host_state(state)
    firewall.refresh(layout, store, force=True)


def _janitor_lock(layout: Layout) -> int | None:
    """The janitor's lock, or None when another janitor holds it or the root is gone (discarded meanwhile:
    nothing is left to clean, and nothing of the root is made again)."""
    if not os.path.isdir(layout.containers):
        return None
    os.makedirs(layout.locks, exist_ok=True)
    fd = os.open(layout.lock("net-janitor"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def serve(root: str) -> None:
    """The janitor's life: wait until the requested time, sweep, exit (returns at once if another serves)."""
    layout = Layout(root)
    fd = _janitor_lock(layout)
    if fd is None:
        return
    store = NetStore(layout)
    try:
        while True:
            if not os.path.isdir(layout.containers):
                return  # the root was discarded meanwhile (with its bridges): nothing to clean or make
            with store.lock():
                due = store.host_state().get("cleanup_after")
                wait = 0.0 if due is None else float(due) - time.time()
                if due is not None and wait <= 0:
                    sweep(layout, store)
                if due is None or wait <= 0:
                    os.close(fd)  # released under the network lock: see the module doc
                    fd = -1
                    return
            time.sleep(min(max(wait, 0.02), LINGER + 0.1))
    finally:
        if fd >= 0:
            os.close(fd)


def serving(layout: Layout) -> bool:
    """Is a janitor alive for this root? Asked under the network lock, a yes means it will see the request
    just written (it lets go of its lock only under the network lock, after a last look at the state)."""
    fd = _janitor_lock(layout)
    if fd is None:
        return True
    os.close(fd)
    return False


def spawn(layout: Layout) -> None:
    """Start a detached janitor for ``layout`` (a fork when this process has one thread, else a new
    interpreter); never waits for it."""
    import threading

    if threading.active_count() > 1:
        import subprocess

        here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env = {**os.environ, "PYTHONPATH": here}
        with contextlib.suppress(OSError):
            subprocess.Popen(
                [sys.executable, "-m", "engine.net.janitor", layout.root],
                start_new_session=True,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd="/",
                env=env,
            )
        return
    try:
        pid = os.fork()
    except OSError:
        return
    if pid == 0:  # pragma: no cover - runs in the child
        code = 0
        try:
            os.setsid()
            if os.fork() != 0:
                os._exit(0)
            import signal

            with contextlib.suppress(ValueError):
                signal.set_wakeup_fd(-1)
            for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                signal.signal(sig, signal.SIG_DFL)
            devnull = os.open("/dev/null", os.O_RDWR)
            for target in (0, 1, 2):
                os.dup2(devnull, target)
            os.closerange(3, 65536)
            os.chdir("/")
            serve(layout.root)
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


if __name__ == "__main__":
    serve(sys.argv[1])
