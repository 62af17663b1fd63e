"""dockyard's in-process container engine: a UI-free library.

    from engine import Engine
    eng = Engine("/var/lib/dockyard")
    eng.images.bootstrap("busybox")
    print([im.tags for im in eng.images.list()])

The CLI (app/cli) and the TUI (app/tui) use only what this module exports.
"""

from __future__ import annotations

from .errors import (
    BuildError,
    CommandNotFound,
    CommandNotInvokable,
    ComposeError,
    Conflict,
    ContainerNotFound,
    CorruptRecord,
    DockyardError,
    ImageNotFound,
    InvalidArgument,
    NotFound,
    NotSupported,
    RuntimeFailure,
    StoreError,
    UnsafeArchive,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .build.cache import CachePruneReport
    from .build.events import BuildEvent, BuildResult
    from .build.options import BuildOptions
    from .compose.api import Compose, compose_projects
    from .compose.drift import ComposeDrift, ServiceDrift
    from .compose.load import load as load_compose
    from .compose.model import Project as ComposeModel
    from .containers import CreateOptions
    from .context import Context, ContextStore, Endpoint, open_engine
    from .crashes import record_crash
    from .engine import Engine
    from .filters import parse_filters, parse_timestamp
    from .images import parse_changes
    from .interface import (
        FEATURES,
        AttachAPI,
        ContainersAPI,
        EngineAPI,
        ExecProcessAPI,
        ExecPtyAPI,
        ImagesAPI,
        NetworksAPI,
        StatsReaderAPI,
        VolumesAPI,
    )
    from .kube.api import Kube
    from .model.config import ContainerConfig
    from .model.container import Container
    from .model.image import HistoryEntry, Image, LayerInfo, RemovedImage
    from .model.network import Network
    from .model.reports import CheckReport, DiskUsage, Finding, Progress, PruneReport, TopResult
    from .model.volume import Volume
    from .registry.events import TransferEvent
    from .registry.names import RemoteName, parse_remote
    from .registry.pull import PullResult
    from .registry.push import PushResult
    from .registry.search import SearchResult
    from .remote import NotAvailable, RemoteEngine, TLSOptions
    from .runtime.attach import AttachSession
    from .runtime.exec import ExecProcess, ExecPty
    from .runtime.logindex import LogFollower, LogIndex, LogLine
    from .runtime.sysinfo import version_document
    from .stats import STATS_COLUMNS, StatsReader, StatsRecord
    from .store.analysis import FileTree, ImageAnalysis
    from .store.eventlog import Event

# The rest is imported on first use: a CLI command (and every container's supervisor) pays only for what it
# touches.
_LAZY = {
    "Engine": "engine.engine",
    "EngineAPI": "engine.interface",
    "ContainersAPI": "engine.interface",
    "ImagesAPI": "engine.interface",
    "NetworksAPI": "engine.interface",
    "VolumesAPI": "engine.interface",
    "ExecPtyAPI": "engine.interface",
    "ExecProcessAPI": "engine.interface",
    "AttachAPI": "engine.interface",
    "StatsReaderAPI": "engine.interface",
    "FEATURES": "engine.interface",
    "ComposeModel": "engine.compose.model",
    "load_compose": "engine.compose.load",
    "Compose": "engine.compose.api",
    "ComposeDrift": "engine.compose.drift",
    "ServiceDrift": "engine.compose.drift",
    "Kube": "engine.kube.api",
    "compose_projects": "engine.compose.api",
    "RemoteEngine": "engine.remote",
    "Context": "engine.context",
    "ContextStore": "engine.context",
    "Endpoint": "engine.context",
    "open_engine": "engine.context",
    "TLSOptions": "engine.remote",
    "NotAvailable": "engine.remote",
    "record_crash": "engine.crashes",
    "BuildOptions": "engine.build.options",
    "BuildEvent": "engine.build.events",
    "BuildResult": "engine.build.events",
    "CachePruneReport": "engine.build.cache",
    "parse_remote": "engine.registry.names",
    "RemoteName": "engine.registry.names",
    "PullResult": "engine.registry.pull",
    "PushResult": "engine.registry.push",
    "SearchResult": "engine.registry.search",
    "TransferEvent": "engine.registry.events",
    "ImageAnalysis": "engine.store.analysis",
    "FileTree": "engine.store.analysis",
    "ContainerConfig": "engine.model.config",
    "StatsRecord": "engine.stats",
    "StatsReader": "engine.stats",
    "STATS_COLUMNS": "engine.stats",
    "AttachSession": "engine.runtime.attach",
    "LogIndex": "engine.runtime.logindex",
    "ExecProcess": "engine.runtime.exec",
    "ExecPty": "engine.runtime.exec",
    "LogFollower": "engine.runtime.logindex",
    "LogLine": "engine.runtime.logindex",
    "CreateOptions": "engine.runtime.create",
    "version_document": "engine.runtime.sysinfo",
    "Event": "engine.store.eventlog",
    "parse_filters": "engine.filters",
    "parse_changes": "engine.images",
    "parse_timestamp": "engine.filters",
    "Container": "engine.model.container",
    "DiskUsage": "engine.model.reports",
    "HistoryEntry": "engine.model.image",
    "Image": "engine.model.image",
    "LayerInfo": "engine.model.image",
    "Progress": "engine.model.reports",
    "PruneReport": "engine.model.reports",
    "CheckReport": "engine.model.reports",
    "Finding": "engine.model.reports",
    "RemovedImage": "engine.model.image",
    "TopResult": "engine.model.reports",
    "Network": "engine.model.network",
    "Volume": "engine.model.volume",
}


#: exported names that differ from the name in their module
_RENAMED = {"ComposeModel": "Project", "load_compose": "load"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'engine' has no attribute {name!r}")
    # importlib would load warnings
    value = getattr(__import__(module, fromlist=[name]), _RENAMED.get(name, name))
    globals()[name] = value
    return value


__all__ = [
    "Context",
    "ContextStore",
    "Endpoint",
    "open_engine",
    "STATS_COLUMNS",
    "AttachSession",
    "BuildError",
    "BuildEvent",
    "BuildOptions",
    "BuildResult",
    "CachePruneReport",
    "CommandNotFound",
    "CommandNotInvokable",
    "Compose",
    "ComposeDrift",
    "ServiceDrift",
    "ComposeError",
    "ComposeModel",
    "load_compose",
    "Conflict",
    "Container",
    "Kube",
    "ContainerConfig",
    "ContainerNotFound",
    "CreateOptions",
    "DiskUsage",
    "DockyardError",
    "Engine",
    "EngineAPI",
    "ContainersAPI",
    "ImagesAPI",
    "NetworksAPI",
    "VolumesAPI",
    "ExecPtyAPI",
    "ExecProcessAPI",
    "AttachAPI",
    "StatsReaderAPI",
    "FEATURES",
    "NotSupported",
    "Event",
    "ExecProcess",
    "ExecPty",
    "FileTree",
    "HistoryEntry",
    "Image",
    "ImageAnalysis",
    "ImageNotFound",
    "InvalidArgument",
    "LayerInfo",
    "LogFollower",
    "LogIndex",
    "LogLine",
    "NotAvailable",
    "NotFound",
    "Progress",
    "PruneReport",
    "CheckReport",
    "Finding",
    "CorruptRecord",
    "record_crash",
    "PullResult",
    "PushResult",
    "RemoteEngine",
    "RemoteName",
    "RemovedImage",
    "SearchResult",
    "Network",
    "Volume",
    "RuntimeFailure",
    "StatsReader",
    "StatsRecord",
    "StoreError",
    "TLSOptions",
    "TopResult",
    "TransferEvent",
    "UnsafeArchive",
    "compose_projects",
    "parse_changes",
    "parse_filters",
    "parse_remote",
    "parse_timestamp",
    "version_document",
]
