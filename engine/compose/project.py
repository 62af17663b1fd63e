"""A loaded compose project seen by the orchestration: its services in dependency order, each service's
containers found by Compose's labels, and a service turned into the options of a container.

The orchestration reads the normalised model (``Project.to_dict()``, as ``docker compose config`` prints it),
so it follows Compose's own shapes: long-form ports and volumes, ``depends_on`` as a mapping of conditions,
durations as Go durations, sizes as bytes.
"""

from __future__ import annotations

from . import labels as L

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any, TypeVar

    from ..engine import Engine
    from ..model.container import Container

    T = TypeVar("T")

    #: (kind, name, action): "Container", "proj-web-1", "Started"; "Network", "proj_default", "Created"
    Progress = Callable[[str, str, str], None]


def _quiet(_kind: str, _name: str, _action: str) -> None:
    return None


class ComposeProject:
    """One project over one engine: ``name``, ``working_dir``, the files it came from and the normalised
    model (``services``, ``networks``, ``volumes``)."""

    def __init__(
        self,
        engine: Engine,
        name: str,
        model: dict[str, Any],
        *,
        working_dir: str = "",
        config_files: Iterable[str] = (),
        env_file: str = "",
    ) -> None:
        self.engine = engine
        self.name = name
        self.model = model
        self.working_dir = working_dir
        self.config_files = list(config_files)
        self.env_file = env_file
        self.services: dict[str, dict[str, Any]] = dict(model.get("services") or {})
        self.networks: dict[str, dict[str, Any]] = dict(model.get("networks") or {})
        self.volumes: dict[str, dict[str, Any]] = dict(model.get("volumes") or {})
        self.secrets: dict[str, dict[str, Any]] = dict(model.get("secrets") or {})
        self.configs: dict[str, dict[str, Any]] = dict(model.get("configs") or {})
        #: services whose profiles are not active: enabled when named on the command line
        self.disabled: dict[str, dict[str, Any]] = {}
        if any("default" in service_networks(s) for s in self.services.values()):
            self.networks.setdefault("default", {})

    @classmethod
    def of(cls, engine: Engine, project: Any) -> ComposeProject:
        """From a loaded ``Project`` (engine.compose.model)."""
        files = getattr(project, "config_files", None) or getattr(project, "files", None) or ()
        env_file = getattr(project, "env_file", "") or ""
        if isinstance(env_file, (list, tuple)):
            env_file = ",".join(env_file)
        out = cls(
            engine, project.name, project.to_dict(), working_dir=getattr(project, "working_dir", "") or "",
            config_files=files, env_file=env_file,
        )  # fmt: skip
        out.disabled = {k: s.to_dict() for k, s in (getattr(project, "disabled", None) or {}).items()}
        return out

    def enable(self, names: Iterable[str]) -> None:
        """As Compose: a service named on the command line runs whatever its profiles, and so do the
        services it depends on."""
        todo = [n for n in names if n in self.disabled]
        while todo:
            n = todo.pop()
            if n not in self.disabled:
                continue
            self.services[n] = self.disabled.pop(n)
            todo += [d for d in self.dependencies(n) if d in self.disabled]
        if any("default" in service_networks(s) for s in self.services.values()):
            self.networks.setdefault("default", {})

    # -- names ------------------------------------------------------------------------------------------
    def network_name(self, key: str) -> str:
        net = self.networks.get(key) or {}
        return str(net.get("name") or L.scoped_name(self.name, key))

    def volume_name(self, key: str) -> str:
        vol = self.volumes.get(key) or {}
        return str(vol.get("name") or L.scoped_name(self.name, key))

    def image_name(self, service: str) -> str:
        """The image a service runs: ``image:``, else the one its build makes, ``PROJECT-SERVICE``."""
        svc = self.services[service]
        return str(svc.get("image") or f"{self.name}-{service}")

    def check_services(self, names: Iterable[str]) -> list[str]:
        from ..errors import InvalidArgument

        out = []
        for n in names:
            if n not in self.services:
                raise InvalidArgument(f"no such service: {n}")
            out.append(n)
        return out

    # -- order ------------------------------------------------------------------------------------------
    def dependencies(self, service: str) -> dict[str, dict[str, Any]]:
        """``depends_on`` of a service: dependency -> {condition, required, restart}."""
        deps = self.services[service].get("depends_on") or {}
        if isinstance(deps, list):
            return {d: {"condition": "service_started", "required": True} for d in deps}
        return {d: dict(v or {}) for d, v in deps.items()}

    def with_dependencies(self, names: Iterable[str]) -> list[str]:
        """The services and everything they depend on (required or present in the file)."""
        seen: set[str] = set()
        todo = list(names)
        while todo:
            n = todo.pop()
            if n in seen:
                continue
            seen.add(n)
            todo += [d for d in self.dependencies(n) if d in self.services]
        return [n for n in self.services if n in seen]

    def ordered(self, names: Iterable[str] | None = None) -> list[str]:
        """Services in dependency order (dependencies first); a cycle is an error naming it."""
        from ..errors import InvalidArgument

        wanted = set(self.services if names is None else names)
        order: list[str] = []
        state: dict[str, int] = {}

        def visit(n: str, path: list[str]) -> None:
            if state.get(n) == 2:
                return
            if state.get(n) == 1:
                cycle = [*path[path.index(n) :], n]
                raise InvalidArgument(f"dependency cycle detected: {' -> '.join(cycle)}")
            state[n] = 1
            for d in sorted(self.dependencies(n)):
                if d in self.services:
                    visit(d, [*path, n])
            state[n] = 2
            order.append(n)

        for n in sorted(self.services):
            visit(n, [])
        return [n for n in order if n in wanted]

    def levels(self) -> dict[str, int]:
        """Each service's depth: 0 for one that depends on nothing, else one more than its deepest
        dependency. A level's services can be started (or, in reverse, stopped) together."""
        out: dict[str, int] = {}
        for n in self.ordered():
            deps = [out[d] for d in self.dependencies(n) if d in out]
            out[n] = 1 + max(deps) if deps else 0
        return out

    def dependents(self, names: Iterable[str]) -> list[str]:
        """The services that depend, directly or not, on any of ``names``."""
        found = set(names)
        grew = True
        while grew:
            grew = False
            for s in self.services:
                if s not in found and any(d in found for d in self.dependencies(s)):
                    found.add(s)
                    grew = True
        return [s for s in self.services if s in found]

    # -- containers ---------------------------------------------------------------------------------------
    def containers(
        self, services: Iterable[str] | None = None, *, all: bool = True, oneoff: bool | None = False
    ) -> list[Container]:
        """The project's containers (by label), of ``services`` if given, ordered by service and number."""
        found = self.engine.containers.list(all=all, filters=L.project_filter(self.name))
        wanted = None if services is None else set(services)
        out = []
        for c in found:
            if wanted is not None and c.labels.get(L.SERVICE) not in wanted:
                continue
            is_oneoff = c.labels.get(L.ONEOFF) == "True"
            if oneoff is not None and is_oneoff != oneoff:
                continue
            out.append(c)
        out.sort(key=lambda c: (c.labels.get(L.SERVICE, ""), number_of(c), c.name))
        return out

    def orphans(self) -> list[Container]:
        """Containers of services the file no longer has (under any profile)."""
        known = set(self.services) | set(self.disabled)
        return [c for c in self.containers() if c.labels.get(L.SERVICE) not in known]

    def replicas(self, service: str, scale: dict[str, int] | None = None) -> int:
        if scale and service in scale:
            return scale[service]
        svc = self.services[service]
        deploy = svc.get("deploy") or {}
        if deploy.get("replicas") is not None:
            return int(deploy["replicas"])
        if svc.get("scale") is not None:
            return int(svc["scale"])
        return 1

    # -- a service as a container ---------------------------------------------------------------------------
    def config_hash(self, service: str) -> str:
        """Compose's config hash: the service's configuration without what does not change its containers
        (build, pull policy, scale and replicas, depends_on, profiles)."""
        import hashlib
        import json

        svc = dict(self.services[service])
        for key in ("build", "pull_policy", "scale", "depends_on", "profiles"):
            svc.pop(key, None)
        if isinstance(svc.get("deploy"), dict):
            svc["deploy"] = {k: v for k, v in svc["deploy"].items() if k != "replicas"}
        text = json.dumps(svc, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def base_labels(self, service: str, *, oneoff: bool = False) -> dict[str, str]:
        return {
            L.PROJECT: self.name,
            L.SERVICE: service,
            L.ONEOFF: "True" if oneoff else "False",
            L.WORKING_DIR: self.working_dir,
            L.CONFIG_FILES: ",".join(self.config_files),
            L.ENVIRONMENT_FILE: self.env_file,
            L.VERSION: L.COMPOSE_VERSION,
        }


def parallel(fn: Callable[[T], None], items: Iterable[T]) -> None:
    """``fn`` on every item at once, as Compose does; the first failure is raised once all have ended."""
    items = list(items)
    if len(items) < 2:
        for item in items:
            fn(item)
        return
    import threading

    errors: list[BaseException] = []

    def one(item: T) -> None:
        try:
            fn(item)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=one, args=(i,)) for i in items]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def by_level(
    cp: ComposeProject, containers: Iterable[Container], reverse: bool = False
) -> list[list[Container]]:
    """Containers grouped by their service's level (engine.compose.project.ComposeProject.levels), the
    dependencies' group first (last with ``reverse``); those of services the file lacks come first when
    stopping."""
    levels = cp.levels()
    top = max(levels.values(), default=0) + 1
    groups: dict[int, list[Container]] = {}
    for c in containers:
        groups.setdefault(levels.get(c.labels.get(L.SERVICE, ""), top), []).append(c)
    return [groups[k] for k in sorted(groups, reverse=reverse)]


def number_of(c: Container) -> int:
    try:
        return int(c.labels.get(L.NUMBER, "0"))
    except ValueError:
        return 0


def service_networks(svc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A service's networks: name -> {aliases, ipv4_address, ...}; ``default`` when it names none and has
    no ``network_mode``."""
    if svc.get("network_mode"):
        return {}
    nets = svc.get("networks")
    if nets is None:
        return {"default": {}}
    if isinstance(nets, list):
        return {n: {} for n in nets}
    return {n: dict(v or {}) for n, v in nets.items()}
