"""Which cgroup hierarchies this machine has, and where the calling process sits in each of them.

Read once from /proc/self/mountinfo and /proc/self/cgroup (no subprocess, a few microseconds) and cached.
Three layouts exist in the wild:

- ``v2``: one cgroup2 hierarchy (usually at /sys/fs/cgroup) with the controllers;
- ``v1``: one cgroup v1 hierarchy per controller (or per group of co-mounted controllers);
- ``hybrid``: v1 controller hierarchies plus a cgroup2 mount (often /sys/fs/cgroup/unified) that has no
  controllers but offers the v2 core files (cgroup.kill, cgroup.events, cgroup.freeze).
"""

from __future__ import annotations

import os
import posixpath

from engine.errors import RuntimeFailure
from engine.lean.record import field, record

from ...lean.tools import cache

#: v1 controllers dockyard puts every container into (devices is left to the mount and device setup).
V1_CONTROLLERS: tuple[str, ...] = ("cpu", "cpuacct", "cpuset", "memory", "blkio", "pids", "freezer")
_KNOWN_V1 = frozenset(V1_CONTROLLERS) | {
    "devices",
    "net_cls",
    "net_prio",
    "perf_event",
    "hugetlb",
    "rdma",
    "misc",
}


@record(frozen=True)
class Hierarchy:
    """One mounted cgroup hierarchy.

    ``mount``: where it is mounted; ``root``: the cgroup path the mount shows at its top (``/`` unless the
    mount is a bind of a sub-tree); ``own``: the cgroup path of the calling process in this hierarchy;
    ``controllers``: the v1 controllers it carries (empty for cgroup2: those are read from the tree).
    """

    mount: str
    root: str = "/"
    own: str = "/"
    controllers: frozenset[str] = field(default_factory=frozenset)
    version: int = 1

    def dir_for(self, cgroup_path: str) -> str:
        """The directory of a cgroup given by its absolute path in this hierarchy."""
        path = posixpath.normpath("/" + cgroup_path.lstrip("/"))
        if self.root != "/" and (path == self.root or path.startswith(self.root + "/")):
            path = path[len(self.root) :] or "/"
        return os.path.join(self.mount, path.lstrip("/")).rstrip("/") or "/"

    @property
    def own_dir(self) -> str:
        """The directory of the calling process's own cgroup."""
        return self.dir_for(self.own)

    @property
    def key(self) -> str:
        """A name for this hierarchy that outlives its mount and its number in /proc/<pid>/cgroup: the first
        of its v1 controllers in sorted order (no two hierarchies share one); "" for cgroup2."""
        return min(self.controllers) if self.controllers else ""


@record(frozen=True)
class CgroupSystem:
    """The cgroup layout of the machine as seen by the calling process.

    ``mode`` is "v1", "v2" or "hybrid"; ``v1`` maps each v1 controller to its hierarchy; ``unified`` is the
    cgroup2 hierarchy (the only one in v2 mode, the controller-less one in hybrid mode).
    """

    mode: str
    v1: dict[str, Hierarchy] = field(default_factory=dict)
    unified: Hierarchy | None = None

    @classmethod
    def v2_at(cls, mount: str, own: str = "/") -> CgroupSystem:
        """A pure v2 system whose cgroup2 tree is at ``mount`` (another mount, or a prepared directory)."""
        return cls(mode="v2", unified=Hierarchy(mount=mount, own=own, version=2))

    def hierarchy(self, controller: str) -> Hierarchy | None:
        """The v1 hierarchy carrying ``controller`` (None in v2 mode or when it is not mounted)."""
        return self.v1.get(controller)

    def container_hierarchies(self) -> list[Hierarchy]:
        """The hierarchies a container gets a cgroup in: v1's on v1 and hybrid machines (a hybrid machine's
        controller-less cgroup2 tree is left alone), the unified one on v2."""
        if self.mode == "v2":
            return [self.unified] if self.unified is not None else []
        return self.v1_hierarchies()

    def v1_hierarchies(self) -> list[Hierarchy]:
        """The v1 hierarchies dockyard uses, each once even when controllers are co-mounted."""
        seen: dict[str, Hierarchy] = {}
        for name in V1_CONTROLLERS:
            h = self.v1.get(name)
            if h is not None and h.mount not in seen:
                seen[h.mount] = h
        return list(seen.values())


def _unescape(field_text: str) -> str:
    """mountinfo escapes space, tab, newline and backslash as octal (\\040)."""
    parts = field_text.split("\\")
    out = [parts[0]]
    for part in parts[1:]:
        code = part[:3]
        if len(code) == 3 and all(c in "01234567" for c in code):
            out.append(chr(int(code, 8)) + part[3:])
        else:
            out.append("\\" + part)
    return "".join(out)


def _mount_preference(mount: str) -> int:
    return 0 if mount.startswith("/sys/fs/cgroup") else 1


def parse(mountinfo: str, proc_cgroup: str) -> CgroupSystem:
    """Build the CgroupSystem from the text of /proc/<pid>/mountinfo and /proc/<pid>/cgroup."""
    v1_mounts: dict[frozenset[str], tuple[str, str]] = {}
    v2_mounts: list[tuple[str, str]] = []
    for line in mountinfo.splitlines():
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        fields = left.split()
        rfields = right.split()
        if len(fields) < 5 or len(rfields) < 1:
            continue
        fstype = rfields[0]
        root, mount = _unescape(fields[3]), _unescape(fields[4])
        if fstype == "cgroup2":
            v2_mounts.append((mount, root))
        elif fstype == "cgroup" and len(rfields) >= 3:
            opts = frozenset(o for o in rfields[2].split(",") if o in _KNOWN_V1 or o.startswith("name="))
            if not opts:
                continue
            prev = v1_mounts.get(opts)
            if prev is None or _mount_preference(mount) < _mount_preference(prev[0]):
                v1_mounts[opts] = (mount, root)

    own_v1: dict[frozenset[str], str] = {}
    own_v2 = "/"
    for line in proc_cgroup.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        hid, ctrls, path = parts
        if hid == "0" and ctrls == "":
            own_v2 = path
        else:
            own_v1[frozenset(c for c in ctrls.split(",") if c)] = path

    v1: dict[str, Hierarchy] = {}
    for opts, (mount, root) in v1_mounts.items():
        own = own_v1.get(opts)
        if own is None:
            continue
        controllers = frozenset(o for o in opts if not o.startswith("name="))
        h = Hierarchy(mount=mount, root=root, own=own, controllers=controllers, version=1)
        for c in controllers:
            v1[c] = h

    unified: Hierarchy | None = None
    if v2_mounts:
        v2_mounts.sort(key=lambda m: (m[0] not in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified"), m[0]))
        mount, root = v2_mounts[0]
        unified = Hierarchy(mount=mount, root=root, own=own_v2, version=2)

    if v1:
        return CgroupSystem(mode="hybrid" if unified is not None else "v1", v1=v1, unified=unified)
    if unified is not None:
        return CgroupSystem(mode="v2", unified=unified)
    raise RuntimeFailure("no cgroup filesystem is mounted: dockyard needs cgroups to run containers")


@cache
def detect(proc: str = "/proc") -> CgroupSystem:
    """The calling process's cgroup layout (cached: the layout does not change while dockyard runs)."""
    try:
        with open(os.path.join(proc, "self", "mountinfo"), encoding="utf-8") as f:
            mountinfo = f.read()
        with open(os.path.join(proc, "self", "cgroup"), encoding="utf-8") as f:
            proc_cgroup = f.read()
    except OSError as e:
        raise RuntimeFailure(f"cannot read the process's cgroup information: {e}") from e
    return parse(mountinfo, proc_cgroup)
