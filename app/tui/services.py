"""What the main screen asks of the app: the engine, the app's state, and the app's ways of running engine
calls in workers and of opening sessions. ``DockyardApp`` provides it; the screen knows only this protocol, so
the app and its screen do not import each other."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

TYPE_CHECKING = False
if TYPE_CHECKING:
    import threading

    from engine import Container, EngineAPI, Image, PruneReport

    from .command_log import CommandLog
    from .config import Config
    from .dialogs.run import RunRequest, RunResult
    from .hostinfo import HostSummary
    from .messages import Snapshot
    from .stats_history import StatsHistory


class AppServices(Protocol):
    engine: EngineAPI
    config: Config
    clock: Callable[[], float]
    history: StatsHistory
    snapshot: Snapshot
    snapshot_loaded: bool
    loaded: threading.Event
    root_label: str
    host: HostSummary | None
    commands: CommandLog  # each action as a dockyard command line

    def call(
        self,
        label: str,
        fn: Callable[..., Any],
        *args: Any,
        done: Callable[[Any], None] | None = None,
        failed: Callable[[str], None] | None = None,
        **kw: Any,
    ) -> None:
        """Run ``fn(*args, **kw)`` in a worker thread; ``done(result)`` runs on the UI thread afterwards."""
        ...

    def reload(self) -> None: ...

    def image_by_id(self, image_id: str) -> Image | None: ...

    def load_layers(
        self, image: Image | None, container: Container | None, done: Callable[[Any], None]
    ) -> None: ...

    def pruned(self, report: PruneReport) -> None: ...

    def confirm(self, question: str, detail: str, go: Callable[[], None], ok: str = "Remove") -> None: ...

    def run_request(self, req: RunRequest) -> Container: ...

    def container_started(self, result: RunResult) -> None: ...

    def open_shell(self, c: Container, title: str, argv: list[str]) -> None: ...

    def open_attach(self, c: Container, title: str) -> None: ...

    def action_help(self) -> None: ...
