"""The container record, kept apart from the image records so the hot path of ``run`` imports only it."""

from __future__ import annotations

from engine.lean.record import field, record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


@record
class Container:
    """A container as ``ps`` and ``inspect`` see it."""

    id: str
    name: str
    image: str
    image_id: str
    command: list[str]
    created: str
    status: str  # created | running | paused | restarting | exited | dead | removing
    exit_code: int = 0
    started_at: str = ""
    finished_at: str = ""
    pid: int = 0
    oom_killed: bool = False
    error: str = ""
    restart_count: int = 0
    health: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    ports: list[dict[str, Any]] = field(default_factory=list)
    tty: bool = False
    networks: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def short_id(self) -> str:
        return self.id[:12]

    @property
    def running(self) -> bool:
        return self.status in ("running", "paused", "restarting")

    def status_text(self, now: float | None = None) -> str:
        """Docker's STATUS column: ``Up 3 minutes``, ``Exited (137) 2 seconds ago``, ``Created``..."""
        import time as _time

        from engine.humanize import human_duration, parse_time

        now = now or _time.time()
        if self.status in ("running", "paused"):
            s = "Up " + human_duration(max(0.0, now - parse_time(self.started_at)))
            if self.status == "paused":
                s += " (Paused)"
            elif self.health:
                s += f" (health: {self.health})" if self.health == "starting" else f" ({self.health})"
            return s
        if self.status == "restarting":
            return f"Restarting ({self.exit_code}) {human_duration(max(0.0, now - parse_time(self.finished_at)))} ago"
        if self.status == "exited":
            if not self.finished_at:
                return "Created" if not self.started_at else f"Exited ({self.exit_code})"
            return f"Exited ({self.exit_code}) {human_duration(max(0.0, now - parse_time(self.finished_at)))} ago"
        if self.status == "removing":
            return "Removal In Progress"
        if self.status == "dead":
            return "Dead"
        return "Created"
