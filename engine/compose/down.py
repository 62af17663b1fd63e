"""``compose down``: the project's containers stopped and removed in reverse dependency order, then its
networks, and with ``volumes`` its named and anonymous volumes, with ``images`` its images. What belongs to
the project is found by Compose's labels, so ``down -p NAME`` works without the file."""

from __future__ import annotations

from ..errors import Conflict, NotFound
from ..lean.tools import suppress
from . import labels as L
from .project import by_level, parallel
from .up import remove_container

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ..model.container import Container
    from .project import ComposeProject, Progress


def _quiet(_kind: str, _name: str, _action: str) -> None:
    return None


def reverse_order(cp: ComposeProject, containers: list[Container]) -> list[Container]:
    """Dependents before their dependencies; containers of services the file does not have first."""
    order = {s: i for i, s in enumerate(cp.ordered())}
    return sorted(containers, key=lambda c: -order.get(c.labels.get(L.SERVICE, ""), len(order)))


def down(
    cp: ComposeProject,
    *,
    remove_orphans: bool = False,
    volumes: bool = False,
    images: str | None = None,
    timeout: int | None = None,
    progress: Progress = _quiet,
    warn: Callable[[str], None] | None = None,
) -> None:
    known = bool(cp.services)
    containers = cp.containers(oneoff=None)
    orphans = [c for c in cp.orphans() if known]
    if orphans and not remove_orphans:
        orphan_ids = {c.id for c in orphans}
        containers = [c for c in containers if c.id not in orphan_ids]
        if warn is not None:
            warn(
                f"Found orphan containers ([{' '.join(c.name for c in orphans)}]) for this project. If you "
                "removed or renamed this service in your compose file, you can run this command with the "
                "--remove-orphans flag to clean it up."
            )
    image_ids = {c.image_id for c in containers}
    for group in by_level(cp, containers, reverse=True):
        parallel(lambda c: remove_container(cp, c, progress, timeout=timeout, volumes=volumes), group)
    for name in project_networks(cp):
        progress("Network", name, "Removing")
        try:
            cp.engine.networks.remove(name)
        except NotFound:
            continue
        except Conflict as e:
            if warn is not None:
                warn(f"network {name}: {e}")
            continue
        progress("Network", name, "Removed")
    if volumes:
        for name in project_volumes(cp):
            progress("Volume", name, "Removing")
            try:
                cp.engine.volumes.remove(name)
            except NotFound:
                continue
            progress("Volume", name, "Removed")
    if images:
        _remove_images(cp, images, image_ids, progress)


def project_networks(cp: ComposeProject) -> list[str]:
    """The networks the project made: declared (not external) or labelled with its name."""
    declared = [cp.network_name(k) for k, n in cp.networks.items() if not (n or {}).get("external")]
    return _made_by(cp, declared, cp.engine.networks)


def project_volumes(cp: ComposeProject) -> list[str]:
    """The volumes the project made: declared (not external) or labelled with its name."""
    declared = [cp.volume_name(k) for k, v in cp.volumes.items() if not (v or {}).get("external")]
    return _made_by(cp, declared, cp.engine.volumes)


def _made_by(cp: ComposeProject, declared: list[str], objects: Any) -> list[str]:
    """Of ``declared`` and the networks or volumes (``objects``: the engine's) labelled with the project's
    name, those that exist and carry no other project's label."""
    names = list(declared)
    with suppress(Exception):
        for obj in objects.list(filters=L.project_filter(cp.name)):
            if obj.name not in names:
                names.append(obj.name)
    out = []
    for name in names:
        try:
            obj = objects.get(name)
        except NotFound:
            continue
        if obj.labels.get(L.PROJECT, cp.name) == cp.name:
            out.append(name)
    return out


def _remove_images(cp: ComposeProject, which: str, image_ids: set[str], progress: Progress) -> None:
    """``--rmi local``: the images the project built (those without an ``image:``); ``--rmi all``: every
    image its services use."""
    refs: list[str] = []
    for svc, spec in cp.services.items():
        if which == "all" or not spec.get("image"):
            refs.append(cp.image_name(svc))
    if not cp.services and which == "all":
        refs += sorted(image_ids)
    for ref in dict.fromkeys(refs):
        progress("Image", ref, "Removing")
        try:
            cp.engine.images.remove(ref)
        except NotFound:
            continue
        except Conflict:
            continue
        progress("Image", ref, "Removed")
