"""The table of commands: each module registers its own subcommands.

Building the parsers of every command costs milliseconds, which ``run`` cannot afford; so only the parser of
the command being run is built (all of them for ``--help``).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from engine import Engine, EngineAPI, RemoteEngine

    from .flags import Commands

#: The module that registers each top-level command: running a command imports that module alone.
COMMANDS: dict[str, tuple[str, ...]] = {
    "app.cli.cmd_containers": (
        "container", "create", "run", "start", "stop", "restart", "kill", "pause", "unpause", "rename", "rm",
        "wait",
    ),
    "app.cli.cmd_ps": ("ps",),
    "app.cli.cmd_events": ("events",),
    "app.cli.cmd_inspect": (
        "commit", "export", "cp", "inspect", "logs", "attach", "exec", "top", "diff", "stats", "port",
    ),
    "app.cli.cmd_images": ("image", "images", "tag", "rmi", "history", "import", "save", "load"),
    "app.cli.cmd_system": ("system", "version", "info"),
    "app.cli.cmd_volumes": ("volume",),
    "app.cli.cmd_build": ("build", "builder"),
    "app.cli.cmd_network": ("network",),
    "app.cli.cmd_registry": ("pull", "push", "login", "logout"),
    "app.cli.cmd_update": ("update",),
    "app.cli.compose": ("compose",),
    "app.cli.cmd_kube": ("kube",),
    "app.cli.cmd_context": ("context",),
}  # fmt: skip


class Null:
    """Stands in for parsers of commands that are not being run: accepts every call, builds nothing."""

    def __getattr__(self, _name: str) -> Any:
        return self

    def __call__(self, *_a: Any, **_k: Any) -> Any:
        return self


class _Only:
    """A command table that builds only the parser named ``only``."""

    def __init__(self, sub: Commands, only: str | None) -> None:
        self.sub = sub
        self.only = only

    def add_parser(self, name: str, **kw: Any) -> Any:
        if self.only is not None and name != self.only and self.only not in kw.get("aliases", ()):
            return Null()
        return self.sub.add_parser(name, **kw)


def register_all(sub: Commands, only: str | None = None) -> None:
    """Register the commands: only ``only``'s parser when it is a known command, else every parser."""
    target = _Only(sub, only)
    owners = [m for m, names in COMMANDS.items() if only in names] or list(COMMANDS)
    for name in owners:
        __import__(name, fromlist=["register"]).register(target)  # importlib costs a millisecond to import


#: The engine of the service a command works on (``-H``/``--host``, $DOCKYARD_HOST: app/cli/remote.py), else None.
_service: RemoteEngine | None = None


def use_service(remote: RemoteEngine) -> None:
    global _service
    _service = remote


def service() -> RemoteEngine | None:
    """The remote engine when the command works on a service (``-H``), else None."""
    return _service


def engine() -> EngineAPI:
    """The engine every command works on: the root's (in this process), or the service's with ``-H``
    (both ``EngineAPI``: engine/interface.py)."""
    if _service is not None:
        return _service
    from engine import Engine

    return Engine()


def local_engine(eng: EngineAPI | None = None) -> Engine:
    """The engine root's own engine (``eng`` when it is, else the command's), for what only it does (its
    files, its processes, its credentials): app/cli/remote.py refuses those commands with ``-H`` before they
    run; NotSupported if one gets here."""
    from engine import Engine, NotSupported

    eng = eng or engine()
    if isinstance(eng, Engine):
        return eng
    why = (
        "it works on the engine root's own records on its machine: run it there, without --host or a context"
    )
    raise NotSupported("local", why, f"this is not sent over the Engine API: {why}")
