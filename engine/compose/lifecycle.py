"""``compose start``, ``stop``, ``restart``, ``kill``, ``rm``, ``pause`` and ``unpause`` over a project's
service containers: stops in reverse dependency order, starts in dependency order with the ``depends_on``
conditions waited for."""

from __future__ import annotations

from ..errors import InvalidArgument
from . import labels as L
from .down import reverse_order
from .project import by_level, parallel
from .up import start_services

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

    from ..model.container import Container
    from .project import ComposeProject, Progress


def _quiet(_kind: str, _name: str, _action: str) -> None:
    return None


def _services(cp: ComposeProject, services: Iterable[str] | None) -> list[str] | None:
    names = list(services or [])
    if not names:
        return None
    if cp.services:
        cp.check_services(names)
    return names


def start(cp: ComposeProject, services: Iterable[str] | None = None, progress: Progress = _quiet) -> None:
    """Start the services' containers in dependency order, waiting for the ``depends_on`` conditions; a
    project known by its name alone has no order: its containers start as they are listed."""
    names = _services(cp, services)
    for svc in names or []:
        if not cp.containers([svc]):
            raise InvalidArgument(f'service "{svc}" has no container to start')
    found = cp.containers(names)
    if not found:
        raise InvalidArgument("no containers to start")
    if cp.services:
        start_services(
            cp, [s for s in cp.ordered() if any(c.labels.get(L.SERVICE) == s for c in found)], progress
        )
        return
    for c in found:
        if c.status in ("running", "restarting", "paused"):
            continue
        progress("Container", c.name, "Starting")
        cp.engine.containers.start(c.id)
        progress("Container", c.name, "Started")


def stop(
    cp: ComposeProject,
    services: Iterable[str] | None = None,
    timeout: int | None = None,
    progress: Progress = _quiet,
) -> None:
    stop_all(cp, cp.containers(_services(cp, services)), timeout, progress)


def stop_all(
    cp: ComposeProject, containers: list[Container], timeout: int | None, progress: Progress
) -> None:
    """Stop the running ones, dependents first, those of one level at once."""

    def one(c: Container) -> None:
        progress("Container", c.name, "Stopping")
        cp.engine.containers.stop(c.id, timeout)
        progress("Container", c.name, "Stopped")

    for group in by_level(cp, [c for c in containers if c.running], reverse=True):
        parallel(one, group)


def restart(
    cp: ComposeProject,
    services: Iterable[str] | None = None,
    timeout: int | None = None,
    progress: Progress = _quiet,
) -> None:
    order = {s: i for i, s in enumerate(cp.ordered())}
    found = cp.containers(_services(cp, services))
    for c in sorted(found, key=lambda c: order.get(c.labels.get(L.SERVICE, ""), -1)):
        progress("Container", c.name, "Restarting")
        cp.engine.containers.restart(c.id, timeout)
        progress("Container", c.name, "Started")


def kill(
    cp: ComposeProject,
    services: Iterable[str] | None = None,
    signal: str | None = None,
    progress: Progress = _quiet,
) -> None:
    running = [c for c in cp.containers(_services(cp, services)) if c.running]
    if not running:
        raise InvalidArgument("no container to kill")
    if signal:
        from ..runtime.signals import parse_signal

        parse_signal(signal)  # a bad signal is refused before any container is touched
    for c in reverse_order(cp, running):
        progress("Container", c.name, "Killing")
        cp.engine.containers.kill(c.id, signal)
        progress("Container", c.name, "Killed")


def removable(
    cp: ComposeProject, services: Iterable[str] | None = None, stopping: bool = False
) -> list[Container]:
    """What ``compose rm`` removes: the stopped service containers (all of them with ``-s``)."""
    found = cp.containers(_services(cp, services))
    return [c for c in found if stopping or not c.running]


def remove(
    cp: ComposeProject,
    containers: list[Container],
    *,
    stopping: bool = False,
    volumes: bool = False,
    progress: Progress = _quiet,
) -> None:
    if stopping:
        stop_all(cp, containers, None, progress)
    for c in containers:
        progress("Container", c.name, "Removing")
        cp.engine.containers.remove(c.id, force=stopping, volumes=volumes)
        progress("Container", c.name, "Removed")


def pause(cp: ComposeProject, services: Iterable[str] | None = None, progress: Progress = _quiet) -> None:
    for c in cp.containers(_services(cp, services)):
        if c.status != "running":
            continue
        progress("Container", c.name, "Pausing")
        cp.engine.containers.pause(c.id)
        progress("Container", c.name, "Paused")


def unpause(cp: ComposeProject, services: Iterable[str] | None = None, progress: Progress = _quiet) -> None:
    for c in cp.containers(_services(cp, services)):
        if c.status != "paused":
            continue
        progress("Container", c.name, "Unpausing")
        cp.engine.containers.unpause(c.id)
        progress("Container", c.name, "Unpaused")
