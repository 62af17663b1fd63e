"""What an operation reports back: what a prune or a removal did, disk usage, progress, a ``top`` table."""

from __future__ import annotations

from engine.lean.record import field, record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


@record
class PruneReport:
    deleted: list[str] = field(default_factory=list)
    reclaimed: int = 0
    untagged: list[str] = field(default_factory=list)  # image prune: the tags the deleted images had


@record
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
    build_cache: int = 0  # records of build steps and RUN --mount=type=cache directories
    build_cache_active: int = 0  # those an image still uses (their layers are counted with the images)
    build_cache_size: int = 0  # bytes only the build cache keeps (Docker leaves shared records out)
    build_cache_reclaimable: int = 0
    details: dict[str, Any] = field(default_factory=dict)


@record
class Progress:
    """A step of long work, streamed to the CLI (rich) and the TUI (widgets)."""

    message: str
    current: int = 0
    total: int = 0  # 0 when unknown
    done: bool = False


@record
class TopResult:
    """``top``: ps's column titles and one row per process of the container (docker-py's ``Titles`` and
    ``Processes``)."""

    titles: tuple[str, ...]
    processes: list[tuple[str, ...]] = field(default_factory=list)


@record
class Finding:
    """One thing ``system check`` found wrong in a root: what (``kind``), where (a path or an object), the
    problem, and what ``--repair`` did about it ("" when not repaired)."""

    kind: str  # e.g. "container config", "name index", "blob", "leftover cgroup"
    where: str
    problem: str
    repair: str = ""  # "rebuilt", "removed", "quarantined as PATH", ... ("" : left as found)


@record
class CheckReport:
    """What ``system check`` did: the leftovers of killed processes it cleaned (always safe) and the damage it
    found (repaired only when asked)."""

    cleaned: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    quarantine: list[str] = field(default_factory=list)  # what the quarantine holds now

    @property
    def ok(self) -> bool:
        """Nothing is left wrong: every finding was repaired."""
        return all(f.repair for f in self.findings)
