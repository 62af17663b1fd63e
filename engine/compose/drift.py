"""What ``compose up`` would change, found without changing anything: for each service of the file, the
containers it would create, recreate (their config hash or image differs from the file's), remove (more
than the file's replicas) or start; the project's orphans (containers of services the file no longer has).

The config hash is the one ``up`` writes on the containers it makes (``ComposeProject.config_hash``); the
image is the one the service's reference resolves to here (nothing is pulled or built to find it).
"""

from __future__ import annotations

from engine.lean.record import field, record

from ..errors import DockyardError
from . import labels as L
from .project import number_of

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .project import ComposeProject

#: a service's verdict, in the order the view lists them
ACTIONS = ("create", "recreate", "scale", "start", "pull", "ok")


@record
class ServiceDrift:
    """One service: what ``up`` would do (``action``: create, recreate, scale, start, pull or ok), the
    replicas the file wants and the containers there are, and each reason in words."""

    service: str
    action: str = "ok"
    want: int = 1
    have: int = 0
    running: int = 0
    #: the names of the containers ``up`` would recreate (config hash or image changed)
    changed: list[str] = field(default_factory=list)
    #: "config changed (web-1)", "image changed", "1 missing", "2 more than the file's 1", "not running"
    reasons: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return self.action == "ok"


@record
class ComposeDrift:
    """A project's file beside its containers: each service (in dependency order) and the orphans."""

    project: str
    services: list[ServiceDrift] = field(default_factory=list)
    #: names of containers whose service the file does not have (under any profile)
    orphans: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """``up`` would change nothing (orphans aside, which it only warns about)."""
        return all(s.clean for s in self.services)

    def service(self, name: str) -> ServiceDrift | None:
        return next((s for s in self.services if s.service == name), None)


def drift(cp: ComposeProject) -> ComposeDrift:
    """The drift of ``cp`` (a project loaded from its files) against the engine's containers."""
    out = ComposeDrift(cp.name)
    images = cp.engine.images
    for svc in cp.ordered():
        want = cp.replicas(svc)
        found = sorted(cp.containers([svc]), key=number_of)
        d = ServiceDrift(svc, want=want, have=len(found), running=sum(1 for c in found if c.running))
        image_id = ""
        try:
            image_id = images.resolve(cp.image_name(svc))
        except DockyardError:
            spec = cp.services[svc]
            d.reasons.append("image to build" if spec.get("build") else f"image {cp.image_name(svc)} to pull")
        config_hash = cp.config_hash(svc)
        for c in found[:want]:
            if c.labels.get(L.CONFIG_HASH) != config_hash:
                d.changed.append(c.name)
                d.reasons.append(f"config changed ({c.name})")
            elif image_id and c.labels.get(L.IMAGE, image_id) != image_id:
                d.changed.append(c.name)
                d.reasons.append(f"image changed ({c.name})")
        if len(found) < want:
            d.reasons.append(f"{want - len(found)} missing")
        elif len(found) > want:
            d.reasons.append(f"{len(found) - want} more than the file's {want}")
        stopped = [c for c in found[:want] if not c.running and c.name not in d.changed]
        if stopped:
            d.reasons.append("not running" if len(stopped) == len(found) else f"{len(stopped)} not running")
        if not found and want:
            d.action = "create"
        elif d.changed:
            d.action = "recreate"
        elif len(found) != want:
            d.action = "scale"
        elif stopped:
            d.action = "start"
        elif not image_id:
            d.action = "pull"
        out.services.append(d)
    out.orphans = [c.name for c in cp.orphans()]
    return out
