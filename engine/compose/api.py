"""The public face of the orchestration: ``Compose(engine, project)`` runs a loaded project (or, with only
its name, acts on what carries its labels) as ``docker compose`` does."""

from __future__ import annotations

from . import down as _down
from . import labels as L
from . import lifecycle
from . import up as _up
from .convert import check_service
from .project import ComposeProject

TYPE_CHECKING = False
if TYPE_CHECKING:
    import threading
    from collections.abc import Callable, Iterable
    from typing import Any

    from ..engine import Engine
    from ..model.container import Container
    from .drift import ComposeDrift
    from .model import Project
    from .ps import ProjectSummary


def _quiet(_kind: str, _name: str, _action: str) -> None:
    return None


class Compose:
    """A project on an engine. ``project``: a loaded compose model; without it, ``name`` alone (what the
    labels say is enough for ps, logs, stop, down...). ``progress(kind, name, action)`` hears each step
    (``Container``, ``proj-web-1``, ``Started``); ``warn`` each warning."""

    #: the Docker Compose version whose behaviour and labels are followed
    VERSION = L.COMPOSE_VERSION

    def __init__(
        self,
        engine: Engine,
        project: Project | None = None,
        *,
        name: str = "",
        progress: Callable[[str, str, str], None] = _quiet,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        if project is not None:
            self.project = ComposeProject.of(engine, project)
        else:
            self.project = ComposeProject(engine, name, {})
        self.engine = engine
        self.progress = progress
        self.warn = warn

    @property
    def name(self) -> str:
        return self.project.name

    @property
    def services(self) -> list[str]:
        """The file's services in dependency order."""
        return self.project.ordered()

    def check_services(self, names: Iterable[str]) -> list[str]:
        return self.project.check_services(names) if self.project.services else list(names)

    def containers(
        self, services: Iterable[str] | None = None, *, all: bool = True, oneoff: bool | None = False
    ) -> list[Container]:
        """The project's containers (by label), by service and number."""
        return self.project.containers(services, all=all, oneoff=oneoff)

    def container(self, service: str, index: int = 1) -> Container:
        """The service's container numbered ``index`` (``exec --index``)."""
        from ..errors import NotFound
        from .project import number_of

        self.check_services([service])
        found = self.project.containers([service], all=True)
        for c in found:
            if number_of(c) == index:
                return c
        if not found:
            raise NotFound(f'service "{service}" is not running')
        raise NotFound(f'service "{service}" has no container number {index}')

    def up(
        self,
        services: Iterable[str] | None = None,
        build_progress: Callable[[str, Any], None] | None = None,
        **options: Any,
    ) -> list[Container]:
        """``compose up -d`` (options: UpOptions' keywords)."""
        services = list(services or [])
        self.project.enable(services)
        return _up.up(
            self.project, services or None, _up.UpOptions(**options), self.progress, build_progress, self.warn
        )

    def create_only(self, services: Iterable[str] | None = None, **options: Any) -> list[Container]:
        """``compose create``: as ``up --no-start``."""
        return self.up(services, no_start=True, **options)

    def build(
        self,
        services: Iterable[str] | None = None,
        progress: Callable[[str, Any], None] | None = None,
        no_cache: bool = False,
    ) -> dict[str, str]:
        """``compose build``: the image of each service that has a build, by service."""
        names = self.project.check_services(services or []) or self.project.ordered()
        return {
            s: _up.build_service(self.project, s, progress, no_cache)
            for s in names
            if self.project.services[s].get("build")
        }

    def drift(self) -> ComposeDrift:
        """What ``up`` would change: each service's containers to create, recreate, remove or start, and
        the orphans (engine.compose.drift); nothing is changed, pulled or built."""
        from .drift import drift

        return drift(self.project)

    def watch(
        self,
        services: Iterable[str] | None = None,
        *,
        stop: threading.Event,
        say: Callable[[str], None],
        build_progress: Callable[[str, Any], None] | None = None,
        up: bool = True,
        prune: bool = True,
        debounce: float = 0.3,
    ) -> None:
        """``compose watch``: the services brought up (their images built) unless ``up`` is off, then their
        ``develop.watch`` rules followed until ``stop`` is set (engine.compose.watch). InvalidArgument before
        anything is made when no selected service has a rule, or a rule cannot be followed."""
        from .watch import Watcher

        services = list(services or [])
        self.project.enable(services)
        names = self.project.check_services(services) or self.project.ordered()
        watcher = Watcher(
            self.project, names, say=say, progress=self.progress, build_progress=build_progress,
            prune=prune, debounce=debounce,
        )  # fmt: skip
        if up:
            self.up(services or None, build_progress, build=True)
        watcher.run(stop)

    def down(self, **options: Any) -> None:
        _down.down(self.project, progress=self.progress, warn=self.warn, **options)

    def start(self, services: Iterable[str] | None = None) -> None:
        lifecycle.start(self.project, services, self.progress)

    def stop(self, services: Iterable[str] | None = None, timeout: int | None = None) -> None:
        lifecycle.stop(self.project, services, timeout, self.progress)

    def restart(self, services: Iterable[str] | None = None, timeout: int | None = None) -> None:
        lifecycle.restart(self.project, services, timeout, self.progress)

    def kill(self, services: Iterable[str] | None = None, signal: str | None = None) -> None:
        lifecycle.kill(self.project, services, signal, self.progress)

    def removable(self, services: Iterable[str] | None = None, stopping: bool = False) -> list[Container]:
        return lifecycle.removable(self.project, services, stopping)

    def remove(self, containers: list[Container], *, stopping: bool = False, volumes: bool = False) -> None:
        lifecycle.remove(self.project, containers, stopping=stopping, volumes=volumes, progress=self.progress)

    def pause(self, services: Iterable[str] | None = None) -> None:
        lifecycle.pause(self.project, services, self.progress)

    def unpause(self, services: Iterable[str] | None = None) -> None:
        lifecycle.unpause(self.project, services, self.progress)

    def run_container(
        self, service: str, *, no_deps: bool = False, build: bool | None = None, **overrides: Any
    ) -> Container:
        """``compose run``: the dependencies brought up (unless ``no_deps``), then a one-off container of
        the service created (not started), named ``PROJECT-SERVICE-run-ID`` unless ``name`` is given."""
        from .run import create_oneoff

        self.project.enable([service])
        self.project.check_services([service])
        check_service(self.project, service)
        deps = [d for d in self.project.with_dependencies([service]) if d != service]
        if deps and not no_deps:
            _up.up(self.project, deps, _up.UpOptions(build=build), self.progress, None, self.warn)
        image_id = _up.ensure_images(self.project, [service], _up.UpOptions(build=build), None)[service]
        if not no_deps:
            _up.wait_dependencies(self.project, service, self.progress)
        return create_oneoff(self.project, service, image_id, **overrides)


def compose_projects(engine: Engine, all: bool = False) -> list[ProjectSummary]:
    """``compose ls``: the root's projects."""
    from .ps import projects

    return projects(engine, all)
