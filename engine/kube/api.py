"""The public face of kube: generate a manifest from containers, play one, take it down."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..engine import Engine


class Kube:
    """``podman kube`` over one engine: ``generate`` (YAML text and warnings), ``play`` and ``down``
    (what was made or removed, by kind: Pod, Container, Volume)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def generate(
        self, refs: list[str], *, kind: str = "", replicas: int | None = None, service: bool = False
    ) -> tuple[str, list[str]]:
        """``refs``' containers as a Pod (or a Deployment), or, when ``refs`` is one name that is no
        container's but a compose project's, the project as a Deployment (or Pod) per service."""
        from .generate import dump, generate
        from .project import find_project, generate_project

        project = find_project(self.engine, refs)
        if project is not None:
            docs, warnings = generate_project(
                self.engine, refs[0], project, kind=kind or "deployment", replicas=replicas
            )
        else:
            docs, warnings = generate(
                self.engine,
                refs,
                kind=kind or "pod",
                replicas=1 if replicas is None else replicas,
                service=service,
            )
        return dump(docs, warnings), warnings

    def play(self, path: str, *, network: str = "", replace: bool = False) -> dict[str, list[str]]:
        from .play import play

        return play(self.engine, path, network=network, replace=replace)

    def down(self, path: str, *, force: bool = False) -> dict[str, list[str]]:
        from .play import down

        return down(self.engine, path, force=force)

    @staticmethod
    def validate(path: str) -> int:
        """Check a manifest against the Kubernetes schema; the number of its documents."""
        from .play import load

        return len(load(path))
