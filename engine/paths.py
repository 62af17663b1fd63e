"""Where everything lives under one engine root.

Default root ``/var/lib/dockyard``; the ``DOCKYARD_ROOT`` variable or an explicit argument override it.
"""

from __future__ import annotations

import os

from engine.lean.record import record

DEFAULT_ROOT = "/var/lib/dockyard"


def resolve_root(root: str | None = None) -> str:
    return os.path.abspath(root or os.environ.get("DOCKYARD_ROOT") or DEFAULT_ROOT)


@record(frozen=True)
class Layout:
    root: str

    @property
    def blobs(self) -> str:
        return os.path.join(self.root, "blobs", "sha256")

    @property
    def layers(self) -> str:
        return os.path.join(self.root, "layers")

    @property
    def images(self) -> str:
        return os.path.join(self.root, "images")

    @property
    def containers(self) -> str:
        return os.path.join(self.root, "containers")

    @property
    def volumes(self) -> str:
        return os.path.join(self.root, "volumes")

    @property
    def networks(self) -> str:
        return os.path.join(self.root, "networks")

    @property
    def locks(self) -> str:
        return os.path.join(self.root, "locks")

    @property
    def tmp(self) -> str:
        return os.path.join(self.root, "tmp")

    @property
    def events(self) -> str:
        return os.path.join(self.root, "events.log")

    @property
    def build_cache(self) -> str:
        return os.path.join(self.root, "buildcache.db")

    @property
    def cgroup_parent(self) -> str:
        """Where the root's containers get their cgroups, recorded when the root is made."""
        return os.path.join(self.root, "cgroup-parent")

    @property
    def quarantine(self) -> str:
        """Damaged files moved aside by ``system check --repair`` or a rebuild (never deleted)."""
        return os.path.join(self.root, "quarantine")

    def lock(self, name: str) -> str:
        return os.path.join(self.locks, name + ".lock")

    def ensure(self) -> None:
        for d in (
            self.blobs,
            self.layers,
            self.images,
            self.containers,
            self.volumes,
            self.networks,
            self.locks,
            self.tmp,
        ):
            os.makedirs(d, exist_ok=True)
