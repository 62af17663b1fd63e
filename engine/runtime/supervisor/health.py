"""HEALTHCHECK, run by the supervisor: the test command is exec'd into the container on a schedule and its
result sets the health status Docker users know (``starting`` -> ``healthy`` / ``unhealthy``).

``HealthChecker`` keeps the schedule and runs one probe at a time; ``HealthMonitor`` drives it from the
supervisor's loop and records each result in the container's state (and as a ``health_status`` event).

Times are nanoseconds in the config (Docker's format): Interval (default 30 s), Timeout (30 s), StartPeriod
(0), StartInterval (5 s), Retries (3). During the start period, while the container has not yet been
healthy, a failed check does not count and checks come every StartInterval (Docker's rules). The last five results are kept in the state, as ``docker inspect`` shows them.
"""

from __future__ import annotations

import os
import signal
import time

from engine.lean.record import record

from ...humanize import rfc3339
from ...lean.tools import suppress

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ...model.config import ContainerConfig
    from ...paths import Layout
    from ...store.containers import ContainerStore
    from .poller import Poller

NS = 1_000_000_000


def test_argv(test: list[str] | None) -> list[str] | None:
    """The command to run, or None when there is no health check (``NONE`` or empty)."""
    if not test or test[0] == "NONE":
        return None
    if test[0] == "CMD-SHELL":
        return ["/bin/sh", "-c", " ".join(test[1:])]
    if test[0] == "CMD":
        return list(test[1:])
    return list(test)


@record
class _Probe:
    pid: int
    out_fd: int
    started: float
    output: bytes = b""


class HealthChecker:
    def __init__(self, config: dict[str, Any]) -> None:
        self.argv = test_argv(config.get("Test"))
        self.interval = (config.get("Interval") or 30 * NS) / NS
        self.timeout = (config.get("Timeout") or 30 * NS) / NS
        self.start_period = (config.get("StartPeriod") or 0) / NS
        self.start_interval = (config.get("StartInterval") or 5 * NS) / NS
        self.retries = config.get("Retries") or 3
        self.started_at = time.monotonic()
        self.healthy_once = False
        self.next_run = self.started_at + self.next_interval(self.started_at)
        self.probe: _Probe | None = None

    def next_interval(self, now: float) -> float:
        """The time to the next check: StartInterval while in the start period and never healthy yet."""
        if now - self.started_at < self.start_period and not self.healthy_once:
            return self.start_interval
        return self.interval

    @property
    def enabled(self) -> bool:
        return self.argv is not None

    def due_in(self) -> float:
        if self.probe is not None:
            return max(0.0, self.probe.started + self.timeout - time.monotonic())
        return max(0.0, self.next_run - time.monotonic())

    def start_probe(self, container_pid: int, process: Any, cgroup_join: list[str]) -> int | None:
        """Exec the test command inside the container; returns the fd its output arrives on."""
        from ..enter import enter

        r, w = os.pipe2(os.O_CLOEXEC)
        devnull = os.open("/dev/null", os.O_RDONLY | os.O_CLOEXEC)
        try:
            pid = enter(container_pid, process, stdin=devnull, stdout=w, stderr=w, cgroup_join=cgroup_join)
        except Exception:  # noqa: BLE001 - a failing probe is an unhealthy result, not a crash
            os.close(r)
            return None
        finally:
            os.close(w)
            os.close(devnull)
        os.set_blocking(r, False)
        self.probe = _Probe(pid, r, time.monotonic())
        return r

    def read_output(self) -> None:
        if self.probe is None:
            return
        with suppress(BlockingIOError, OSError):
            while chunk := os.read(self.probe.out_fd, 4096):
                if len(self.probe.output) < 4096:
                    self.probe.output += chunk

    def timed_out(self) -> bool:
        return self.probe is not None and time.monotonic() - self.probe.started > self.timeout

    def kill_probe(self) -> None:
        if self.probe is not None:
            with suppress(ProcessLookupError):
                os.kill(self.probe.pid, signal.SIGKILL)

    def finish(self, exit_code: int, state: Any) -> dict[str, Any]:
        """Record a finished probe in ``state`` (a ContainerState); returns the log entry."""
        probe = self.probe
        assert probe is not None
        self.read_output()
        os.close(probe.out_fd)
        self.probe = None
        now = time.monotonic()
        entry = {
            "Start": rfc3339(time.time() - (now - probe.started)),
            "End": rfc3339(time.time()),
            "ExitCode": exit_code,
            "Output": probe.output.decode(errors="replace")[:4096],
        }
        state.health_log = (list(state.health_log) + [entry])[-5:]
        if exit_code == 0:
            state.health = "healthy"
            state.health_failing_streak = 0
            self.healthy_once = True
        else:
            in_grace = now - self.started_at < self.start_period and state.health == "starting"
            if not in_grace:
                state.health_failing_streak += 1
                if state.health_failing_streak >= self.retries:
                    state.health = "unhealthy"
        self.next_run = now + self.next_interval(now)
        return entry


class HealthMonitor:
    """The health checks of one run of a container, driven by the supervisor's loop: a probe starts when
    one is due (``tick``), its output is read as it comes (registered as ``"health"`` in the loop's
    poller: ``read_output``), and its exit code is recorded once the loop has reaped it (``done``)."""

    def __init__(
        self,
        layout: Layout,
        store: ContainerStore,
        cid: str,
        cfg: ContainerConfig,
        sel: Poller,
        checker: HealthChecker,
    ) -> None:
        self.layout = layout
        self.store = store
        self.cid = cid
        self.cfg = cfg
        self.sel = sel
        self.checker = checker

    @classmethod
    def start(
        cls, layout: Layout, store: ContainerStore, cid: str, cfg: ContainerConfig, sel: Poller
    ) -> HealthMonitor | None:
        """The checks of ``cfg``'s HEALTHCHECK, the container's health "starting"; None without checks."""
        if not cfg.healthcheck:
            return None
        checker = HealthChecker(cfg.healthcheck)
        if not checker.enabled:
            return None
        with store.lock(cid):
            st = store.state(cid)
            st.health = "starting"
            st.health_failing_streak = 0
            st.health_log = []
            store.save_state(cid, st)
        return cls(layout, store, cid, cfg, sel, checker)

    def due_in(self) -> float:
        return self.checker.due_in()

    @property
    def probe_pid(self) -> int | None:
        """The running probe's PID, for the loop to reap."""
        probe = self.checker.probe
        return None if probe is None else probe.pid

    def read_output(self) -> None:
        self.checker.read_output()

    def tick(self, container_pid: int) -> None:
        """Kill a probe past its timeout; start one when it is due."""
        h = self.checker
        if h.probe is not None:
            if h.timed_out():
                h.kill_probe()
            return
        if h.due_in() > 0:
            return
        from ..exec import probe_process

        process, procs = probe_process(self.layout, self.cfg, h.argv or [])
        fd = h.start_probe(container_pid, process, procs)
        if fd is None:
            self._record(-1)
            return
        self.sel.register(fd, "health")

    def done(self, code: int) -> None:
        """The probe exited with ``code``."""
        h = self.checker
        if h.probe is None:
            return
        with suppress(KeyError, ValueError):
            self.sel.unregister(h.probe.out_fd)
        self._record(code)

    def _record(self, code: int) -> None:
        h = self.checker
        with self.store.lock(self.cid):
            st = self.store.state(self.cid)
            if h.probe is not None:
                h.finish(code, st)
            else:
                st.health_failing_streak += 1
                h.next_run = time.monotonic() + h.next_interval(time.monotonic())
                if st.health_failing_streak >= h.retries:
                    st.health = "unhealthy"
            self.store.save_state(self.cid, st)
        from ...store.eventlog import emit

        with suppress(Exception):
            emit(self.layout, "container", "health_status", self.cid, {"status": st.health})

    def stop(self) -> None:
        """PID 1 has exited: a probe still running is let go (its output no longer read)."""
        probe = self.checker.probe
        if probe is not None:
            with suppress(KeyError, ValueError):
                self.sel.unregister(probe.out_fd)
            os.close(probe.out_fd)
            self.checker.probe = None
