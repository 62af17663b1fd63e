"""``Supervisor``: one container's life in its supervisor process. It starts PID 1 (launching.py), serves
until PID 1 exits (its output to the log and to attached clients, their input to it, health probes, see
relay.py and health.py), records the exit, and restarts the container or finishes (exiting.py).
"""

from __future__ import annotations

import os
import time

from ...errors import DockyardError
from ...humanize import rfc3339
from ...kernel.procinfo import boot_id, start_time
from ...lean import jsonio
from ...lean.tools import suppress
from ...paths import Layout
from ...store.containers import ContainerStore
from ..trace import trace
from .cgroup import CgroupSetup
from .launching import launch_container
from .poller import Poller
from .relay import Relay

TYPE_CHECKING = False
if TYPE_CHECKING:
    from threading import Thread
    from typing import Any

    from ...model.config import ContainerConfig, ContainerState
    from .health import HealthMonitor


def _report(fd: int, msg: dict[str, Any]) -> None:
    """Tell the caller how the start went (spawning.py reads it)."""
    with suppress(OSError):
        os.write(fd, jsonio.dumps(msg).encode() + b"\n")
        os.close(fd)


class Supervisor:
    def __init__(self, root: str, cid: str, status_fd: int, client_fd: int | None) -> None:
        self.layout = Layout(root)
        self.store = ContainerStore(self.layout)
        self.cid = cid
        self.cdir = self.store.path(cid)
        self.status_fd = status_fd
        self.cfg: ContainerConfig = self.store.config(cid)
        self.sel = Poller()
        self.relay = Relay(self.sel, self.cfg)
        self.pending_client = client_fd
        self.cgroup = CgroupSetup(self.layout, cid, self.cfg)
        self.pid = 0
        self.health: HealthMonitor | None = None
        self.exit_code: int | None = None  # PID 1's last exit status, once it has exited
        self.reported = False  # the caller has been told how the start went
        self.servers: list[Any] = []  # the container's DNS server while it runs (engine/net/dns.py)

    def stop_servers(self) -> None:
        while self.servers:
            server = self.servers.pop()
            with suppress(Exception):
                server.stop()

    def fail(self, e: BaseException) -> str:
        """The supervisor itself failed (a bug, a disk refusing writes) after the start was reported: the
        container cannot be supervised any more, so it is stopped, its state says why, attached clients get
        its exit; the trace goes to ``ROOT/logs``. Best effort throughout: the failure may strike again.
        Returns the message recorded."""
        from ...crashes import record_crash
        from .exiting import finish, teardown

        path = ""
        with suppress(Exception):
            path = record_crash(e, self.layout.root)
        msg = f"the supervisor failed: {type(e).__name__}: {e}" + (f" (trace: {path})" if path else "")
        code = self.exit_code if self.exit_code is not None else 255
        self.stop_servers()
        with suppress(Exception):
            teardown(self.layout, self.cfg, self.cgroup)  # what still runs in the container is killed
        with suppress(Exception):
            self.update_state(
                status="exited", exit_code=code, pid=0, finished_at=rfc3339(time.time()), error=msg
            )
        with suppress(Exception):
            finish(self.layout, self.cid, self.cfg, self.relay, code)
        return msg

    def _back_off(self, seconds: float) -> None:
        """Wait before a restart, cut short by a ``stop`` (it waits for this container's end)."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            time.sleep(min(left, 0.05))
            with suppress(DockyardError):
                if self.store.state(self.cid).stop_requested:
                    return

    def _report(self, msg: dict[str, Any]) -> None:
        """Tell the caller how the start went, once."""
        if self.status_fd >= 0:
            _report(self.status_fd, msg)
            self.status_fd = -1

    def update_state(self, **changes: Any) -> ContainerState:
        with self.store.lock(self.cid):
            st = self.store.state(self.cid)
            for k, v in changes.items():
                setattr(st, k, v)
            self.store.save_state(self.cid, st)
            return st

    def _health_at_start(self) -> dict[str, Any]:
        """A container with a health check is "starting" as soon as it runs (as Docker's, before its start
        returns), not only once the loop has begun its checks."""
        if not self.cfg.healthcheck:
            return {}
        from .health import test_argv

        if test_argv(self.cfg.healthcheck.get("Test")) is None:
            return {}
        return {"health": "starting", "health_failing_streak": 0, "health_log": []}

    def begin_cgroup(self, after: Thread | None = None) -> None:
        """Start making the cgroup (after ``after``, an earlier warming of the kernel's migration lock)."""
        self.cgroup.begin(after)

    def _reap(self) -> int | None:
        """Reap this container's children (by PID: other threads of the process reap theirs); the
        container's exit status once PID 1 is gone."""
        from .exiting import exit_status

        result = None
        health = self.health
        if health is not None and health.probe_pid:
            with suppress(ChildProcessError):
                pid, status = os.waitpid(health.probe_pid, os.WNOHANG)
                if pid:
                    health.done(exit_status(status))
        try:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:  # reaped already: its status is lost
            return 255
        if pid == self.pid:
            result = exit_status(status)
        return result

    def serve_until_exit(self) -> int:
        """The loop: until PID 1 exits, relay its output and its clients' input, accept clients, run
        health probes; then drain its output. Its exit status."""
        wake = os.pidfd_open(self.pid)  # readable once PID 1 has exited
        self.sel.register(wake, "wake")
        code = self._reap()
        self.health = None
        if self.cfg.healthcheck:
            from .health import HealthMonitor

            self.health = HealthMonitor.start(self.layout, self.store, self.cid, self.cfg, self.sel)
        while code is None:
            timeout = 5.0 if self.health is None else min(1.0, self.health.due_in())
            for fd, what in self.sel.select(timeout):
                if what == "health":
                    if self.health is not None:
                        self.health.read_output()
                    continue
                if what == "wake":
                    pass
                elif what == "out":
                    self.relay.on_output(fd)
                elif what == "listen":
                    self.relay.accept()
                else:
                    self.relay.on_client(what)
            code = self._reap()
            if code is None and self.health is not None:
                self.health.tick(self.pid)
        if self.health is not None:
            self.health.stop()
        self.relay.drain()
        self.sel.unregister(wake)
        os.close(wake)
        return code

    def run(self) -> None:
        """Start the container, and restart it as its restart policy says, until it ends for good."""
        self.relay.open(self.store.log_path(self.cid), self.cdir, self.pending_client)
        reported = False
        backoff = 0.1
        while True:
            try:
                self.pid = launch_container(self.layout, self.cfg, self.cgroup, self.relay, self.servers)
            except BaseException as e:
                from .exiting import finish, teardown

                teardown(self.layout, self.cfg, self.cgroup)
                kind = type(e).__name__
                msg = str(e) if isinstance(e, DockyardError) else f"{kind}: {e}"
                code = getattr(e, "exit_code", 125)
                if reported:  # a restart failed: the container has exited
                    self.update_state(
                        status="exited", error=msg, exit_code=code, pid=0, finished_at=rfc3339(time.time())
                    )
                else:  # the first start failed: it stays created (as in Docker), the caller gets the error
                    self.update_state(status="created", error=msg, exit_code=0, pid=0, finished_at="")
                    self._report({"ok": False, "kind": kind, "error": msg})
                finish(self.layout, self.cid, self.cfg, self.relay, code)
                return
            self.update_state(
                status="running",
                pid=self.pid,
                pid_start=start_time(self.pid),
                shim_pid=os.getpid(),
                shim_start=start_time(os.getpid()),
                boot_id=boot_id(),
                started_at=rfc3339(time.time()),
                finished_at="",
                exit_code=0,
                oom_killed=False,
                error="",
                **self._health_at_start(),
            )
            if not reported:
                self._report({"ok": True, "pid": self.pid})
                self.reported = reported = True
                trace("reported")
            from .exiting import finish, record_exit, teardown  # here: what the start waits for is done

            t0 = time.monotonic()
            code = self.exit_code = self.serve_until_exit()
            trace("exited")
            self.stop_servers()
            oom = teardown(self.layout, self.cfg, self.cgroup)
            trace("torn down")
            if not record_exit(self.store, self.cid, self.cfg, code, oom):
                finish(self.layout, self.cid, self.cfg, self.relay, code)
                return
            self.relay.flush_log()
            if time.monotonic() - t0 > 10:
                backoff = 0.1
            self._back_off(backoff)
            backoff = min(backoff * 2, 60.0)
            with suppress(DockyardError):  # the next start takes what ``update`` changed meanwhile
                self.cfg = self.cgroup.cfg = self.store.config(self.cid)
            with self.store.lock(self.cid):
                stopped = self.store.state(self.cid).stop_requested
                if stopped:
                    st = self.store.state(self.cid)
                    st.status = "exited"
                    self.store.save_state(self.cid, st)
            if stopped:  # finished outside the lock: nothing it calls may wait for it
                finish(self.layout, self.cid, self.cfg, self.relay, code)
                return
