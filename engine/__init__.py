"""dockyard's in-process container engine: a UI-free library.

    from engine import Engine
    eng = Engine("/var/lib/dockyard")
    eng.images.bootstrap("busybox")
    print([im.tags for im in eng.images.list()])

The CLI (app/cli) and the TUI (app/tui) use only what this module exports.
"""

from .engine import Engine
from .errors import (
    BuildError,
    CommandNotFound,
    CommandNotInvokable,
    Conflict,
    ContainerNotFound,
    DockyardError,
    ImageNotFound,
    InvalidArgument,
    NotFound,
    RuntimeFailure,
    StoreError,
    UnsafeArchive,
)
from .records import DiskUsage, HistoryEntry, Image, LayerInfo, Progress, PruneReport, RemovedImage

__all__ = [
    "BuildError",
    "CommandNotFound",
    "CommandNotInvokable",
    "Conflict",
    "ContainerNotFound",
    "DiskUsage",
    "DockyardError",
    "Engine",
    "HistoryEntry",
    "Image",
    "ImageNotFound",
    "InvalidArgument",
    "LayerInfo",
    "NotFound",
    "Progress",
    "PruneReport",
    "RemovedImage",
    "RuntimeFailure",
    "StoreError",
    "UnsafeArchive",
]

from .containers import CreateOptions  # noqa: E402
from .events import Event  # noqa: E402
from .records import Container  # noqa: E402

__all__ += ["Container", "CreateOptions", "Event"]
