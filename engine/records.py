"""Typed records the engine hands to its callers (CLI, TUI, tests). Plain dataclasses, no behaviour."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class LayerInfo:
    """One read-only layer of an image, with the history entry that made it."""

    chain_id: str
    diff_id: str
    size: int
    path: str  # the unpacked directory (what overlayfs stacks)
    created_by: str = ""
    created: str = ""
    comment: str = ""


@dataclass
class HistoryEntry:
    """One line of ``history``: layers and empty (metadata-only) steps, newest first."""

    id: str  # image ID for the top entry, "<missing>" below (as Docker shows)
    created: str
    created_by: str
    size: int
    comment: str = ""
    empty_layer: bool = False


@dataclass
class Image:
    id: str
    tags: list[str]
    created: str
    size: int
    layers: list[LayerInfo]
    config: dict[str, Any]  # the container config: Env, Cmd, Entrypoint, WorkingDir, User, ...
    history: list[dict[str, Any]]
    architecture: str = ""
    os: str = "linux"
    repo_digests: list[str] = field(default_factory=list)
    parent: str = ""
    manifest_digest: str = ""

    @property
    def short_id(self) -> str:
        return self.id.partition(":")[2][:12]


@dataclass
class RemovedImage:
    untagged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)


@dataclass
class PruneReport:
    deleted: list[str] = field(default_factory=list)
    reclaimed: int = 0


@dataclass
class DiskUsage:
    images: int
    images_active: int
    images_size: int
    images_reclaimable: int
    containers: int
    containers_active: int
    containers_size: int
    containers_reclaimable: int
    volumes: int = 0
    volumes_active: int = 0
    volumes_size: int = 0
    volumes_reclaimable: int = 0
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Progress:
    """A step of long work, streamed to the CLI (rich) and the TUI (widgets)."""

    message: str
    current: int = 0
    total: int = 0  # 0 when unknown
    done: bool = False


@dataclass
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

        from .humanize import human_duration, parse_time

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
