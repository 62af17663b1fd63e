"""``compose up``: networks, volumes and images first, then each service's containers created or recreated
(only those whose config hash or image changed) in dependency order, then started in that order, each
service once its dependencies reach their ``depends_on`` condition."""

from __future__ import annotations

import time

from ..errors import Conflict, ImageNotFound, InvalidArgument, NotFound, RuntimeFailure
from ..lean.tools import suppress
from . import labels as L
from .convert import check_service, container_options, network_attachments
from .project import number_of, parallel, service_networks

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any

    from ..model.container import Container
    from ..runtime.create import CreateOptions
    from .project import ComposeProject, Progress


def _quiet(_kind: str, _name: str, _action: str) -> None:
    return None


class UpOptions:
    """``compose up``'s choices. ``build``: True to build every image that has a build, False never to,
    None to build only missing ones. ``wait``: wait for health after starting (``--wait``)."""

    def __init__(
        self,
        *,
        scale: dict[str, int] | None = None,
        build: bool | None = None,
        force_recreate: bool = False,
        no_recreate: bool = False,
        no_deps: bool = False,
        no_start: bool = False,
        remove_orphans: bool = False,
        pull: str = "missing",
        timeout: int | None = None,
        wait: bool = False,
        wait_timeout: float | None = None,
    ) -> None:
        self.scale = dict(scale or {})
        self.build = build
        self.force_recreate = force_recreate
        self.no_recreate = no_recreate
        self.no_deps = no_deps
        self.no_start = no_start
        self.remove_orphans = remove_orphans
        self.pull = pull
        self.timeout = timeout
        self.wait = wait
        self.wait_timeout = wait_timeout


def selected(cp: ComposeProject, services: Iterable[str] | None, no_deps: bool = False) -> list[str]:
    names = cp.check_services(services or [])
    if not names:
        return cp.ordered()
    return cp.ordered(names if no_deps else cp.with_dependencies(names))


def up(
    cp: ComposeProject,
    services: Iterable[str] | None = None,
    opts: UpOptions | None = None,
    progress: Progress = _quiet,
    build_progress: Callable[[str, Any], None] | None = None,
    warn: Callable[[str], None] | None = None,
) -> list[Container]:
    """Bring the services (and, unless ``no_deps``, their dependencies) to what the file says; returns the
    containers of the services, in dependency order."""
    opts = opts or UpOptions()
    names = selected(cp, services, opts.no_deps)
    for svc, n in opts.scale.items():
        if svc not in cp.services:
            raise InvalidArgument(f"no such service: {svc}")
        if n < 0:
            raise InvalidArgument(f"invalid scale value {n} for service {svc}: it must be 0 or more")
    if opts.force_recreate and opts.no_recreate:
        raise InvalidArgument("--force-recreate and --no-recreate are incompatible")
    for svc in names:
        check_service(cp, svc)
    orphans = cp.orphans()
    if orphans and opts.remove_orphans:
        for c in orphans:
            remove_container(cp, c, progress, timeout=opts.timeout)
    elif orphans and warn is not None:
        warn(
            f"Found orphan containers ([{' '.join(c.name for c in orphans)}]) for this project. If you "
            "removed or renamed this service in your compose file, you can run this command with the "
            "--remove-orphans flag to clean it up."
        )
    ensure_networks(cp, names, progress)
    ensure_volumes(cp, names, progress)
    images = ensure_images(cp, names, opts, build_progress)
    existing = _by_service(cp.containers(names))  # one listing for all the services
    for svc in names:
        converge(cp, svc, images[svc], opts, progress, existing.get(svc, []))
    if not opts.no_start:
        start_services(cp, names, progress, timeout=opts.timeout)
        if opts.wait:
            wait_healthy(cp, names, progress, opts.wait_timeout)
    now = _by_service(cp.containers(names))
    return [c for svc in names for c in now.get(svc, [])]


def _by_service(containers: Iterable[Container]) -> dict[str, list[Container]]:
    out: dict[str, list[Container]] = {}
    for c in containers:
        out.setdefault(c.labels.get(L.SERVICE, ""), []).append(c)
    return out


# -- networks, volumes, images ------------------------------------------------------------------------------


def project_networks(cp: ComposeProject, services: Iterable[str]) -> list[str]:
    used: list[str] = []
    for s in services:
        for key in service_networks(cp.services[s]):
            if key not in used:
                used.append(key)
    return used


def ensure_networks(cp: ComposeProject, services: Iterable[str], progress: Progress) -> None:
    nets = cp.engine.networks
    for key in project_networks(cp, services):
        spec = cp.networks.get(key) or {}
        name = cp.network_name(key)
        try:
            nets.get(name)
            continue
        except NotFound:
            if spec.get("external"):
                raise NotFound(f"network {name} declared as external, but could not be found") from None
        progress("Network", name, "Creating")
        ipam = (spec.get("ipam") or {}).get("config") or [{}]
        first = ipam[0] if ipam else {}
        driver = spec.get("driver") or "bridge"
        labels = {
            **(spec.get("labels") or {}),
            L.PROJECT: cp.name,
            L.NETWORK: key,
            L.VERSION: L.COMPOSE_VERSION,
        }
        nets.create(
            name, driver=driver, internal=bool(spec.get("internal")), labels=labels,
            subnet=str(first.get("subnet") or ""), gateway=str(first.get("gateway") or ""),
            ip_range=str(first.get("ip_range") or ""), options=dict(spec.get("driver_opts") or {}),
        )  # fmt: skip
        progress("Network", name, "Created")


def project_volumes(cp: ComposeProject, services: Iterable[str]) -> list[str]:
    used: list[str] = []
    for s in services:
        for m in cp.services[s].get("volumes") or []:
            if isinstance(m, dict) and m.get("type", "volume") == "volume" and m.get("source") in cp.volumes:
                if m["source"] not in used:
                    used.append(m["source"])
    return used


def ensure_volumes(cp: ComposeProject, services: Iterable[str], progress: Progress) -> None:
    vols = cp.engine.volumes
    for key in project_volumes(cp, services):
        spec = cp.volumes.get(key) or {}
        name = cp.volume_name(key)
        try:
            vols.get(name)
            continue
        except NotFound:
            if spec.get("external"):
                raise NotFound(f'external volume "{name}" not found') from None
        progress("Volume", f'"{name}"', "Creating")
        labels = {
            **(spec.get("labels") or {}),
            L.PROJECT: cp.name,
            L.VOLUME: key,
            L.VERSION: L.COMPOSE_VERSION,
        }
        vols.create(
            name,
            labels,
            driver=spec.get("driver") or "local",
            options=dict(spec.get("driver_opts") or {}) or None,
        )
        progress("Volume", f'"{name}"', "Created")


def ensure_images(
    cp: ComposeProject,
    services: Iterable[str],
    opts: UpOptions,
    build_progress: Callable[[str, Any], None] | None,
) -> dict[str, str]:
    """Each service's image ID: built when it has a build and (``--build`` or the image is missing), pulled
    when it is missing and has none."""
    images = cp.engine.images
    out: dict[str, str] = {}
    for svc in services:
        spec = cp.services[svc]
        ref = cp.image_name(svc)
        image_id = ""
        if opts.pull == "always" and not spec.get("build"):
            images.pull(ref)
        with suppress(ImageNotFound, NotFound):
            image_id = images.resolve(ref)
        if spec.get("build") and (opts.build is True or (not image_id and opts.build is None)):
            image_id = build_service(cp, svc, build_progress)
        elif not image_id:
            if spec.get("build") and opts.build is False:
                raise ImageNotFound(f"image {ref} for service {svc} is missing and --no-build was given")
            if opts.pull == "never":
                raise ImageNotFound(f"No such image: {ref}")
            images.pull(ref)
            image_id = images.resolve(ref)
        out[svc] = image_id
    return out


def build_service(
    cp: ComposeProject,
    service: str,
    progress: Callable[[str, Any], None] | None = None,
    no_cache: bool = False,
) -> str:
    import os

    from ..build.options import BuildOptions

    build = cp.services[service]["build"]
    if isinstance(build, str):
        build = {"context": build}
    context = str(build.get("context") or ".")
    if not os.path.isabs(context):
        context = os.path.join(cp.working_dir or os.getcwd(), context)
    dockerfile = build.get("dockerfile")
    if dockerfile and not os.path.isabs(dockerfile):
        dockerfile = os.path.join(context, dockerfile)
    labels = {**(build.get("labels") or {}), L.PROJECT: cp.name, L.SERVICE: service}
    options = BuildOptions(
        context, dockerfile, tags=[cp.image_name(service)], build_args=build.get("args") or None,
        target=build.get("target"), labels=labels, no_cache=no_cache or bool(build.get("no_cache")),
    )  # fmt: skip
    return cp.engine.images.build(options, None if progress is None else (lambda e: progress(service, e)))


# -- containers ----------------------------------------------------------------------------------------------


def converge(
    cp: ComposeProject,
    service: str,
    image_id: str,
    opts: UpOptions,
    progress: Progress,
    found: list[Container] | None = None,
) -> None:
    """Make the service's containers match the file: extras removed, changed ones recreated, missing ones
    created (none started here). ``found``: the service's containers, when the caller has listed them."""
    want = cp.replicas(service, opts.scale)
    existing = sorted(cp.containers([service]) if found is None else found, key=number_of)
    fixed_name = cp.services[service].get("container_name")
    if fixed_name and want > 1:
        raise InvalidArgument(
            f'service "{service}" has container_name "{fixed_name}": it cannot be scaled to {want} containers'
        )
    keep, extra = existing[:want], existing[want:]
    parallel(lambda c: remove_container(cp, c, progress, timeout=opts.timeout), reversed(extra))
    config_hash = cp.config_hash(service)
    for c in keep:
        changed = c.labels.get(L.CONFIG_HASH) != config_hash or c.labels.get(L.IMAGE, image_id) != image_id
        if opts.force_recreate or (changed and not opts.no_recreate):
            recreate(cp, service, c, image_id, progress, opts.timeout)
    used = {number_of(c) for c in keep}
    number = 1
    for _ in range(want - len(keep)):
        while number in used:
            number += 1
        used.add(number)
        name = fixed_name or L.container_name(cp.name, service, number)
        progress("Container", name, "Creating")
        create(cp, service, name, number, image_id)
        progress("Container", name, "Created")


def create(
    cp: ComposeProject,
    service: str,
    name: str,
    number: int,
    image_id: str,
    options: CreateOptions | None = None,
) -> Container:
    """One container of the service, on each of its networks (not started). ``options``: made by the
    caller (``compose run``), else from the service."""
    opts = options or container_options(cp, service, name, number=number, image_id=image_id)
    c = cp.engine.containers.create(cp.image_name(service), opts)
    try:
        if opts.network not in ("none", "host") and not opts.network.startswith("container:"):
            for net, aliases, ip in network_attachments(cp, service, name)[1:]:
                cp.engine.networks.connect(net, c.id, aliases=aliases, ip=ip)
    except BaseException:
        with suppress(Exception):
            cp.engine.containers.remove(c.id, force=True)
        raise
    return c


def recreate(
    cp: ComposeProject, service: str, old: Container, image_id: str, progress: Progress, timeout: int | None
) -> Container:
    """As Compose: stop the old container, move it aside, create the new one under its name and number,
    then remove the old one (put back if the new one cannot be made)."""
    progress("Container", old.name, "Recreate")
    containers = cp.engine.containers
    if old.running:
        containers.stop(old.id, timeout)
    aside = f"{old.id[:12]}_{old.name}"
    containers.rename(old.id, aside)
    try:
        new = create(cp, service, old.name, number_of(old) or 1, image_id)
    except BaseException:
        with suppress(Exception):
            containers.rename(old.id, old.name)
        raise
    containers.remove(old.id, force=True)
    progress("Container", old.name, "Recreated")
    return new


def remove_container(
    cp: ComposeProject, c: Container, progress: Progress, *, timeout: int | None = None, volumes: bool = False
) -> None:
    containers = cp.engine.containers
    if c.running:
        progress("Container", c.name, "Stopping")
        containers.stop(c.id, timeout)
        progress("Container", c.name, "Stopped")
    progress("Container", c.name, "Removing")
    containers.remove(c.id, force=True, volumes=volumes)
    progress("Container", c.name, "Removed")


# -- start and the dependencies' conditions --------------------------------------------------------------------


def start_services(
    cp: ComposeProject, names: Iterable[str], progress: Progress, *, timeout: int | None = None
) -> None:
    """Start the services' containers level by level (engine.compose.project.ComposeProject.levels): the
    services of a level at once, as Compose does, each once its dependencies reach their condition."""
    names = cp.ordered(list(names))
    found = _by_service(cp.containers(names))  # starting one service changes no other's containers
    levels = cp.levels()
    groups: dict[int, list[str]] = {}
    for svc in names:
        groups.setdefault(levels.get(svc, 0), []).append(svc)
    for level in sorted(groups):
        _start_level(cp, groups[level], found, progress)


def _start_level(
    cp: ComposeProject, services: list[str], found: dict[str, list[Container]], progress: Progress
) -> None:
    todo: dict[str, list[Container]] = {}
    for svc in services:
        for c in found.get(svc, []):
            if c.status == "paused":
                raise Conflict(f"container {c.name} is paused: unpause it first")
            todo.setdefault(svc, []).append(c)
    # Each container's supervisor is forked now, while this process has one thread (the fast way to start
    # one: runtime/supervisor/spawning.py); the threads below only tell each to go and wait for its report.
    count = sum(1 for cs in todo.values() for c in cs if c.status not in ("running", "restarting"))
    supervisors = {}
    if count > 1:
        for cs in todo.values():
            for c in cs:
                if c.status not in ("running", "restarting"):
                    supervisors[c.id] = cp.engine.containers.supervisor()

    def one(svc: str) -> None:
        wait_dependencies(cp, svc, progress)
        for c in todo.get(svc, []):
            if c.status in ("running", "restarting"):
                progress("Container", c.name, "Running")
                continue
            progress("Container", c.name, "Starting")
            supervisor = supervisors.pop(c.id, None)
            if supervisor is None:
                cp.engine.containers.start(c.id)
            else:
                from ..runtime.start import start

                start(cp.engine.layout, c.id, None, supervisor)
            progress("Container", c.name, "Started")

    try:
        parallel(one, services)
    finally:
        for supervisor in supervisors.values():
            supervisor.cancel()


def wait_dependencies(cp: ComposeProject, service: str, progress: Progress) -> None:
    for dep, spec in cp.dependencies(service).items():
        condition = spec.get("condition") or "service_started"
        if condition == "service_started" and dep in cp.services:
            continue  # started before this service: nothing to wait for
        found = cp.containers([dep]) if dep in cp.services else []
        if not found:
            if spec.get("required", True) and dep not in cp.services:
                raise InvalidArgument(f'service "{service}" depends on undefined service "{dep}"')
            continue
        for c in found:
            if condition == "service_healthy":
                _wait_healthy(cp, c, progress)
            elif condition == "service_completed_successfully":
                _wait_completed(cp, dep, c, progress)


def _wait_healthy(
    cp: ComposeProject, c: Container, progress: Progress, deadline: float | None = None
) -> None:
    progress("Container", c.name, "Waiting")
    delay = 0.05
    while True:
        cur = cp.engine.containers.get(c.id)
        if cur.health == "healthy":
            progress("Container", c.name, "Healthy")
            return
        if cur.health == "unhealthy":
            progress("Container", c.name, "Error")
            raise RuntimeFailure(f"dependency failed to start: container {c.name} is unhealthy")
        if not cur.health and cur.running:
            raise InvalidArgument(
                f"dependency failed to start: container {c.name} has no healthcheck configured"
            )
        if not cur.running:
            progress("Container", c.name, "Error")
            raise RuntimeFailure(f"dependency failed to start: container {c.name} exited ({cur.exit_code})")
        if deadline is not None and time.monotonic() > deadline:
            raise RuntimeFailure(f"timeout waiting for container {c.name} to be healthy")
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)


def _wait_completed(cp: ComposeProject, service: str, c: Container, progress: Progress) -> None:
    progress("Container", c.name, "Waiting")
    code = cp.engine.containers.wait(c.id)
    if code != 0:
        progress("Container", c.name, "Error")
        raise RuntimeFailure(f'service "{service}" didn\'t complete successfully: exit {code}')
    progress("Container", c.name, "Exited")


def wait_healthy(cp: ComposeProject, names: Iterable[str], progress: Progress, timeout: float | None) -> None:
    """``up --wait``: every started container running, and healthy when it has a healthcheck."""
    deadline = None if timeout is None else time.monotonic() + timeout
    for svc in names:
        for c in cp.containers([svc]):
            cur = cp.engine.containers.get(c.id)
            if cur.health:
                _wait_healthy(cp, cur, progress, deadline)
            elif not cur.running:
                raise RuntimeFailure(f"container {c.name} exited ({cur.exit_code})")
            else:
                progress("Container", c.name, "Healthy")
