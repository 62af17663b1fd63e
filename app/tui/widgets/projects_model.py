"""What the Projects view shows and does, without widgets: the compose projects found on the engine (by
Compose's labels on the containers) and those opened from a file, each with its services and their
containers; and an action on a project or on some of its services (up, down, restart, stop, start, rebuild,
scale, pull) as one call a worker runs, with its ``dockyard compose ...`` line for the command log."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine import Compose, ComposeDrift, ComposeModel, Container, Engine, load_compose

PROJECT = "com.docker.compose.project"
SERVICE = "com.docker.compose.service"
NUMBER = "com.docker.compose.container-number"
ONEOFF = "com.docker.compose.oneoff"
CONFIG_FILES = "com.docker.compose.project.config_files"
WORKING_DIR = "com.docker.compose.project.working_dir"

#: (project, kind, name, action): "shop", "Container", "shop-web-1", "Started"
Progress = Callable[[str, str, str, str], None]


@dataclass
class ProjectInfo:
    """One project: its files (from its containers' labels or opened), its services in the file's
    dependency order (then those only its containers name), each with its containers by number."""

    name: str
    config_files: list[str] = field(default_factory=list)
    working_dir: str = ""
    services: dict[str, list[Container]] = field(default_factory=dict)
    model: ComposeModel | None = None  # the loaded file, when there is one
    drift: ComposeDrift | None = None

    @property
    def containers(self) -> list[Container]:
        return [c for cs in self.services.values() for c in cs]

    @property
    def states(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for c in self.containers:
            out[c.status] = out.get(c.status, 0) + 1
        return out

    @property
    def status(self) -> str:
        """As ``compose ls``: ``exited(1), running(2)``; ``not created`` for an opened file without any."""
        return ", ".join(f"{s}({n})" for s, n in sorted(self.states.items())) or "not created"

    def file_services(self) -> list[str]:
        return list(self.model.services) if self.model is not None else []


def _number(c: Container) -> int:
    try:
        return int(c.labels.get(NUMBER, "0"))
    except ValueError:
        return 0


def group_projects(containers: list[Container], opened: dict[str, ProjectInfo]) -> list[ProjectInfo]:
    """The projects of ``containers`` (their Compose labels; one-off ``run`` containers left out) and the
    ``opened`` ones (loaded files), by name. A service of an opened file without containers is listed
    empty; a project whose file is not open shows what its labels say."""
    found: dict[str, ProjectInfo] = {}
    for name, info in opened.items():
        order = info.drift.services if info.drift is not None else []
        services: dict[str, list[Container]] = {d.service: [] for d in order}
        services.update({s: [] for s in info.file_services() if s not in services})
        found[name] = ProjectInfo(
            name, list(info.config_files), info.working_dir, services, info.model, info.drift
        )
    for c in containers:
        name = c.labels.get(PROJECT, "")
        if not name or c.labels.get(ONEOFF) == "True":
            continue
        files = [f for f in c.labels.get(CONFIG_FILES, "").split(",") if f]
        info = found.setdefault(name, ProjectInfo(name, files, c.labels.get(WORKING_DIR, "")))
        if not info.config_files:
            info.config_files = files
        info.services.setdefault(c.labels.get(SERVICE, "?"), []).append(c)
    for info in found.values():
        for cs in info.services.values():
            cs.sort(key=lambda c: (_number(c), c.name))
    return [found[n] for n in sorted(found)]


def service_summary(cs: list[Container], want: int | None = None) -> tuple[str, str]:
    """(status, health) of a service at a glance: ``2/3 running`` (of the file's replicas when known),
    ``exited``; ``healthy``, ``1 unhealthy``, ``starting``."""
    running = sum(1 for c in cs if c.running)
    total = want if want is not None else len(cs)
    if not cs:
        status = "not created"
    elif running:
        status = f"{running}/{total} running"
    else:
        status = ", ".join(sorted({c.status for c in cs}))
    health = [c.health for c in cs if c.health]
    if not health:
        return status, ""
    if all(h == "healthy" for h in health):
        return status, "healthy"
    bad = sum(1 for h in health if h == "unhealthy")
    return status, f"{bad} unhealthy" if bad else "starting"


def service_of(project: str, services: list[str], name: str) -> str:
    """The service a progress line's container belongs to (``shop-web-2`` -> ``web``); "" for the
    project's networks and volumes."""
    for s in sorted(services, key=len, reverse=True):
        prefix = f"{project}-{s}-"
        if name.startswith(prefix) and name[len(prefix) :].isdigit():
            return s
    return ""


def load_project(files: list[str], name: str = "", working_dir: str = "") -> ComposeModel:
    """A compose file loaded as ``dockyard compose -f FILE [-p NAME]`` loads it (called in a worker)."""
    return load_compose(
        files,
        project_name=name or None,
        project_directory=working_dir or None,
        workdir=os.path.dirname(files[0]) if files else None,
    )


def default_file(cwd: str) -> str:
    """The working directory's compose file (or its nearest parent's), else ``cwd/compose.yaml``."""
    names = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
    here = os.path.abspath(cwd)
    while True:
        for n in names:
            if os.path.isfile(os.path.join(here, n)):
                return os.path.join(here, n)
        parent = os.path.dirname(here)
        if parent == here:
            return os.path.join(os.path.abspath(cwd), names[0])
        here = parent


def read_file(path: str) -> str:
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def refresh(engine: Engine, info: ProjectInfo) -> tuple[ComposeModel, str, ComposeDrift]:
    """The project's files read again (they may have been edited), their text and what ``up`` would
    change now (called in a worker)."""
    model = load_project(info.config_files, info.name, info.working_dir)
    return model, read_file(info.config_files[0]), Compose(engine, model).drift()


VERBS = {
    "up": "Up",
    "rebuild": "Rebuild",
    "down": "Down",
    "restart": "Restart",
    "stop": "Stop",
    "start": "Start",
    "scale": "Scale",
    "pull": "Pull",
}


@dataclass
class ComposeAction:
    """One ``dockyard compose`` command on a project: ``verb`` (a key of VERBS), the services it is
    limited to (none: the whole project), ``scale`` (service -> replicas) for a scale. Without a model
    (the file is not open) only what the labels allow: down, restart, stop, start."""

    engine: Engine
    verb: str
    project: str
    model: ComposeModel | None = None
    config_files: list[str] = field(default_factory=list)
    services: list[str] = field(default_factory=list)
    scale: dict[str, int] = field(default_factory=dict)
    timeout: int | None = None
    progress: Progress | None = None

    @property
    def label(self) -> str:
        what = " ".join(self.services) if self.services else self.project
        return f"{VERBS[self.verb]} {what}"

    def needs_file(self) -> bool:
        return self.verb in ("up", "rebuild", "scale", "pull")

    def argv(self) -> list[str]:
        """The ``dockyard compose`` line that does the same (without ``dockyard``)."""
        out = ["compose"]
        if self.model is not None:
            for f in self.config_files:
                out += ["-f", f]
        out += ["-p", self.project]
        t = ["-t", str(self.timeout)] if self.timeout is not None and self.timeout != 10 else []
        if self.verb in ("up", "rebuild"):
            out += ["up", "-d", *(["--build"] if self.verb == "rebuild" else []), *t]
        elif self.verb == "scale":
            return [*out, "scale", *(f"{s}={n}" for s, n in self.scale.items())]
        elif self.verb in ("down", "restart", "stop"):
            out += [self.verb, *t]
        else:
            out.append(self.verb)
        return [*out, *([] if self.verb == "down" else self.services)]

    def run(self) -> Any:
        """Do it (in a worker): Compose's progress lines go to ``progress``."""
        from engine import InvalidArgument

        if self.needs_file() and self.model is None:
            raise InvalidArgument(
                f"{self.verb} needs the project's compose file: open it first (o), {self.project} was "
                "found by its containers' labels only"
            )
        report = self.progress

        def progress(kind: str, name: str, action: str) -> None:
            if report is not None:
                report(self.project, kind, name, action)

        cp = (
            Compose(self.engine, self.model, progress=progress, warn=lambda _m: None)
            if self.model is not None
            else Compose(self.engine, name=self.project, progress=progress)
        )
        names = self.services or None
        if self.verb == "up":
            return cp.up(names)
        if self.verb == "rebuild":
            return cp.up(names, build=True)
        if self.verb == "scale":
            return cp.up(list(self.scale), no_recreate=True, scale=dict(self.scale))
        if self.verb == "down":
            return cp.down(timeout=self.timeout)
        if self.verb == "restart":
            return cp.restart(names, self.timeout)
        if self.verb == "stop":
            return cp.stop(names, self.timeout)
        if self.verb == "start":
            return cp.start(names)
        return self._pull(cp, progress)

    def _pull(self, cp: Compose, progress: Callable[[str, str, str], None]) -> list[str]:
        """``compose pull``: each service's image that is not built here (service -> pulled ref)."""
        pulled = []
        for svc in cp.check_services(self.services) or cp.services:
            spec = cp.project.services[svc]
            if spec.get("build") and not spec.get("image"):
                progress("Service", svc, "Skipped (built here)")
                continue
            ref = cp.project.image_name(svc)
            progress("Image", ref, "Pulling")
            self.engine.images.pull(ref)
            progress("Image", ref, "Pulled")
            pulled.append(ref)
        return pulled


def compose_action(action: ComposeAction) -> Any:
    """Run ``action`` (the app's ``call`` logs its ``dockyard compose ...`` line: command_log.py)."""
    return action.run()
