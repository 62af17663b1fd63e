"""What nothing owns: mounts below the root (a container's overlay lives only in its own mount namespace, so
none should be seen here), network endpoints of containers that are gone, interfaces on the root's bridges
that no endpoint owns. Container cgroups without a container are removed by the engine's recovery
(``Containers.reconcile_all``), which every check runs."""

from __future__ import annotations

import os

from ..model.reports import Finding
from ..paths import Layout


def check(layout: Layout, repair: bool) -> list[Finding]:
    return _mounts(layout, repair) + _network(layout, repair)


def _network(layout: Layout, repair: bool) -> list[Finding]:
    from ..net import leftovers
    from ..store.containers import ContainerStore

    out = []
    for kind, where, problem in leftovers.find(layout, set(ContainerStore(layout).ids())):
        f = Finding(kind, where, problem)
        if repair:
            try:
                f.repair = leftovers.remove(layout, kind, where)
            except OSError as e:
                f.problem += f" (removing it failed: {e.strerror})"
        out.append(f)
    return out


def _mounts_below(root: str) -> list[str]:
    root = os.path.realpath(root)
    found = []
    with open("/proc/self/mountinfo", "rb") as f:
        for line in f:
            point = line.split()[4].decode("unicode_escape")  # \040 for a space...
            if point == root or point.startswith(root + "/"):
                found.append(point)
    return found


def _mounts(layout: Layout, repair: bool) -> list[Finding]:
    from ..kernel.syscalls import umount2

    out = []
    for point in sorted(_mounts_below(layout.root), key=len, reverse=True):
        f = Finding("leftover mount", point, "mounted below the root, where no container's mount is seen")
        if repair:
            try:
                umount2(point, 2)  # MNT_DETACH
                f.repair = "unmounted"
            except OSError as e:
                f.problem += f" (unmount failed: {e.strerror})"
        out.append(f)
    return out
