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
