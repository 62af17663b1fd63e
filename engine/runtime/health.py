"""HEALTHCHECK, run by the supervisor: the test command is exec'd into the container on a schedule and its
result sets the health status Docker users know (``starting`` -> ``healthy`` / ``unhealthy``).

Times are nanoseconds in the config (Docker's format): Interval (default 30 s), Timeout (30 s), StartPeriod
(0), Retries (3). The last five results are kept in the state, as ``docker inspect`` shows them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time

from engine.lean.record import record

from ..humanize import rfc3339

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

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
        self.retries = config.get("Retries") or 3
        self.started_at = time.monotonic()
        self.next_run = self.started_at + self.interval
        self.probe: _Probe | None = None

    @property
    def enabled(self) -> bool:
        return self.argv is not None

    def due_in(self) -> float:
        if self.probe is not None:
            return max(0.0, self.probe.started + self.timeout - time.monotonic())
        return max(0.0, self.next_run - time.monotonic())

    def start_probe(self, container_pid: int, process: Any, cgroup_join: list[str]) -> int | None:
        """Exec the test command inside the container; returns the fd its output arrives on."""
        from .enter import enter

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
        with contextlib.suppress(BlockingIOError, OSError):
            while chunk := os.read(self.probe.out_fd, 4096):
                if len(self.probe.output) < 4096:
                    self.probe.output += chunk

    def timed_out(self) -> bool:
        return self.probe is not None and time.monotonic() - self.probe.started > self.timeout

    def kill_probe(self) -> None:
        if self.probe is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.probe.pid, signal.SIGKILL)

    def finish(self, exit_code: int, state: Any) -> dict[str, Any]:
        """Record a finished probe in ``state`` (a ContainerState); returns the log entry."""
        probe = self.probe
        assert probe is not None
        self.read_output()
        os.close(probe.out_fd)
        self.probe = None
        now = time.monotonic()
        self.next_run = now + self.interval
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
        else:
            in_grace = now - self.started_at < self.start_period
            if not in_grace:
                state.health_failing_streak += 1
                if state.health_failing_streak >= self.retries:
                    state.health = "unhealthy"
        return entry
