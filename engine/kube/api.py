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
        self, refs: list[str], *, kind: str = "pod", replicas: int = 1, service: bool = False
    ) -> tuple[str, list[str]]:
        from .generate import dump, generate

        docs, warnings = generate(self.engine, refs, kind=kind, replicas=replicas, service=service)
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
