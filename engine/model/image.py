"""An image as the API hands it out: its layers, its history. Plain records, no behaviour."""

from __future__ import annotations

from engine.lean.record import field, record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


@record
class LayerInfo:
    """One read-only layer of an image, with the history entry that made it."""

    chain_id: str
    diff_id: str
    size: int
    path: str  # the unpacked directory (what overlayfs stacks)
    created_by: str = ""
    created: str = ""
    comment: str = ""


@record
class HistoryEntry:
    """One line of ``history``: layers and empty (metadata-only) steps, newest first."""

    id: str  # image ID for the top entry, "<missing>" below (as Docker shows)
    created: str
    created_by: str
    size: int
    comment: str = ""
    empty_layer: bool = False


@record
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


@record
class RemovedImage:
    untagged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
