"""``compose ls``: the projects that have containers on this root, found by Compose's labels."""

from __future__ import annotations

from engine.lean.record import field, record

from . import labels as L

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..engine import Engine


@record
class ProjectSummary:
    """A row of ``compose ls``: its name, each state's count, the files it was started from."""

    name: str
    states: dict[str, int] = field(default_factory=dict)
    config_files: str = ""
    working_dir: str = ""

    @property
    def status(self) -> str:
        """Compose's STATUS: ``running(2)``, ``exited(1), running(2)``."""
        return ", ".join(f"{s}({n})" for s, n in sorted(self.states.items()))

    @property
    def running(self) -> bool:
        return any(s in ("running", "paused", "restarting") for s in self.states)


def projects(engine: Engine, all: bool = False) -> list[ProjectSummary]:
    """The projects of the root's containers, by name; with ``all``, those without a running one too."""
    found: dict[str, ProjectSummary] = {}
    for c in engine.containers.list(all=True, filters={"label": [L.PROJECT]}):
        name = c.labels.get(L.PROJECT, "")
        if not name:
            continue
        p = found.setdefault(name, ProjectSummary(name))
        p.states[c.status] = p.states.get(c.status, 0) + 1
        if not p.config_files and c.labels.get(L.CONFIG_FILES):
            p.config_files = c.labels[L.CONFIG_FILES]
            p.working_dir = c.labels.get(L.WORKING_DIR, "")
    return [p for _, p in sorted(found.items()) if all or p.running]
