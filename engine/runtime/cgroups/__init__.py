"""Container cgroups on cgroup v1, v2 and hybrid machines: create, limit, join, freeze, kill, read, remove.

On a hybrid machine the controller-less cgroup2 tree is left alone: nothing is limited or counted there,
and joining it would cost every start a kernel grace period (see ``join_files``); containers stay in their
supervisor's cgroup of that tree.

Each container gets one cgroup per hierarchy, ``<own cgroup>/<parent>/<container id>``, where the own
cgroup is the one the calling process runs in and ``parent`` defaults to ``dockyard`` (an absolute parent
such as ``/dockyard`` starts at the hierarchy's root instead). The paths follow from the container id and
the parent, so any dockyard process can reopen a container's cgroup (``ContainerCgroup.open``), and the
recovery pass can find the ones nobody owns (``list_leftovers``/``remove_leftovers``).

Life of a container cgroup:

1. ``ContainerCgroup.create(id, Limits(...))`` validates the limits and writes them before any process runs;
2. the container's first process joins through ``join_files()`` before it execs;
3. pause/unpause use ``freeze()``/``thaw()``; stop and kill use ``kill_all()``; ``stats()`` feeds
   ``docker stats``-style figures;
4. when PID 1 has exited, the supervisor reads ``oom_killed()`` and then calls ``destroy()``.
"""

from __future__ import annotations

import os
import posixpath
import time

from engine.errors import Conflict, InvalidArgument, NotFound, RuntimeFailure
from engine.paths import DEFAULT_ROOT
from engine.runtime.cgroups import v1, v2
from engine.runtime.cgroups.common import (
    CgroupStats,
    Limits,
    make_dir,
    read_pids,
    remove_dir,
    wait_for,
    write_value,
)
from engine.runtime.cgroups.detect import V1_CONTROLLERS, CgroupSystem, Hierarchy, detect, parse
from engine.runtime.cgroups.manager import manager_for

from ...lean.tools import suppress

TYPE_CHECKING = False
if TYPE_CHECKING:
    import signal
    from collections.abc import Iterable
    from typing import Any
else:
    import _signal as signal  # the C module: ``signal`` would load ``enum``

__all__ = [
    "DEFAULT_PARENT",
    "CgroupStats",
    "CgroupSystem",
    "ContainerCgroup",
    "Hierarchy",
    "Limits",
    "detect",
    "list_leftovers",
    "parent_for_root",
    "parse",
    "remove_leftovers",
    "remove_parent",
    "warm_up_migration",
]

#: The parent below the caller's own cgroup that holds the containers of the default engine root.
DEFAULT_PARENT = "dockyard"
UNIFIED = "unified"


def parent_for_root(root: str) -> str:
    """The cgroup parent for an engine root: ``dockyard`` for the default root, ``dockyard-<hash>`` else.

    Engines with different roots must not share a parent, or one's recovery pass would remove the other's
    containers. (CRC-32 names them well enough; hashlib would load OpenSSL on every stop and rm.)
    """
    import zlib

    root = os.path.abspath(root)
    if root == DEFAULT_ROOT:
        return DEFAULT_PARENT
    return f"{DEFAULT_PARENT}-{zlib.crc32(root.encode()):08x}"


def _check_id(container_id: str) -> None:
    if not container_id or "/" in container_id or container_id in (".", "..") or "\0" in container_id:
        raise InvalidArgument(f"invalid container id for a cgroup: {container_id!r}")


def _check_parent(parent: str | None) -> str:
    parent = parent or DEFAULT_PARENT
    parts = [p for p in parent.split("/") if p]
    if not parts or any(p in (".", "..") for p in parts) or "\0" in parent:
        raise InvalidArgument(f"invalid cgroup parent {parent!r}")
    return ("/" if parent.startswith("/") else "") + "/".join(parts)


def _base_path(h: Hierarchy, parent: str) -> str:
    """The cgroup path of the parent in hierarchy ``h`` (absolute parents start at the root)."""
    if parent.startswith("/"):
        return parent
    return posixpath.join(h.own, parent)


def _anchor_path(h: Hierarchy, parent: str) -> str:
    """The existing cgroup dockyard creates below: the caller's own, or the root for an absolute parent."""
    return "/" if parent.startswith("/") else h.own


def _levels(h: Hierarchy, parent: str, leaf: str) -> list[str]:
    """Directories from just below the anchor down to the container's cgroup, top first."""
    anchor = posixpath.normpath(_anchor_path(h, parent))
    below = posixpath.relpath(leaf, anchor).split("/")
    out = []
    path = anchor
    for part in below:
        path = posixpath.join(path, part)
        out.append(h.dir_for(path))
    return out


class ContainerCgroup:
    """One container's cgroup across all hierarchies.

    ``dirs`` maps each controller (v1) and ``"unified"`` (the cgroup2 tree) to the container's directory
    (co-mounted controllers share one); ``state()`` saves them and ``from_state()`` restores them.
    """

    def __init__(self, container_id: str, mode: str, dirs: dict[str, str], path: str) -> None:
        self.container_id = container_id
        self.mode = mode
        self.dirs = dirs
        #: The container's cgroup path (in the memory hierarchy on v1, the unified one on v2).
        self.path = path
        #: What limits, freezes, kills and reads it: v1's or v2's (cgroups/manager.py).
        self.manager = manager_for(mode, dirs)

    def __repr__(self) -> str:
        return f"ContainerCgroup({self.container_id!r}, mode={self.mode!r}, path={self.path!r})"

    # --- locating ---------------------------------------------------------------------------------------

    @classmethod
    def _locate(cls, container_id: str, parent: str, system: CgroupSystem) -> ContainerCgroup:
        dirs: dict[str, str] = {}
        path = ""
        if system.mode in ("v1", "hybrid"):
            for name in V1_CONTROLLERS:
                h = system.hierarchy(name)
                if h is not None:
                    leaf = posixpath.join(_base_path(h, parent), container_id)
                    dirs[name] = h.dir_for(leaf)
                    if name == "memory" or not path:
                        path = leaf
        if system.unified is not None and system.mode == "v2":
            leaf = posixpath.join(_base_path(system.unified, parent), container_id)
            dirs[UNIFIED] = system.unified.dir_for(leaf)
            path = leaf
        return cls(container_id, system.mode, dirs, path)

    @classmethod
    def open(
        cls,
        container_id: str,
        parent: str | None = None,
        system: CgroupSystem | None = None,
        must_exist: bool = True,
    ) -> ContainerCgroup:
        """Reattach to a container's cgroup made by any dockyard process (same parent, same own cgroup).

        Raises NotFound when ``must_exist`` and no directory of it exists.
        """
        _check_id(container_id)
        cg = cls._locate(container_id, _check_parent(parent), system or detect())
        if must_exist and not cg.exists():
            raise NotFound(f"no cgroup found for container {container_id}")
        return cg

    def state(self) -> dict[str, Any]:
        """The exact directories, to store with the container (reopen with ``from_state``)."""
        return {"id": self.container_id, "mode": self.mode, "path": self.path, "dirs": dict(self.dirs)}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> ContainerCgroup:
        """Reopen from ``state()``: works from any cgroup the caller runs in."""
        return cls(
            str(state["id"]),
            str(state["mode"]),
            {str(k): str(v) for k, v in state["dirs"].items()},
            str(state.get("path", "")),
        )

    def _unique_dirs(self) -> list[str]:
        return list(dict.fromkeys(self.dirs.values()))

    def exists(self) -> bool:
        """True while at least one of its directories exists."""
        return any(os.path.isdir(d) for d in self._unique_dirs())

    # --- creating ---------------------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        container_id: str,
        limits: Limits | None = None,
        parent: str | None = None,
        system: CgroupSystem | None = None,
    ) -> ContainerCgroup:
        """Create the container's cgroup in every hierarchy and write its limits.

        Bad limits raise InvalidArgument and missing controllers RuntimeFailure, both before anything is
        created; if the kernel refuses a write, what was created is removed again.
        """
        limits = limits or Limits()
        _check_id(container_id)
        limits.validate()
        parent_path = _check_parent(parent)
        system = system or detect()
        cg = cls._locate(container_id, parent_path, system)
        delegated = cg._check_controllers(limits, system, parent_path)

        created: list[str] = []
        try:
            if system.mode in ("v1", "hybrid"):
                for h in system.v1_hierarchies():
                    leaf = posixpath.join(_base_path(h, parent_path), container_id)
                    levels = _levels(h, parent_path, leaf)
                    for level in levels:
                        _make_level(level, level == levels[-1], created, container_id)
                    if "cpuset" in h.controllers:
                        v1.prepare_cpuset(levels)
            if system.unified is not None and system.mode == "v2":
                u = system.unified
                leaf = posixpath.join(_base_path(u, parent_path), container_id)
                levels = _levels(u, parent_path, leaf)
                enable = [c for c in v2.WANTED if c in delegated]
                anchor = u.dir_for(_anchor_path(u, parent_path))
                if enable and anchor == u.dir_for("/"):
                    v2.enable_controllers(anchor, enable)
                for i, level in enumerate(levels):
                    _make_level(level, i == len(levels) - 1, created, container_id)
                    if i < len(levels) - 1:
                        v2.enable_controllers(level, enable)
            cg._apply(limits)
        except BaseException:
            for d in reversed(created):
                # parents may meanwhile hold another container's cgroup: those stay
                with suppress(OSError, RuntimeFailure):
                    if os.path.basename(d) == container_id:
                        remove_dir(d)
                    else:
                        os.rmdir(d)
            raise
        return cg

    def _check_controllers(self, limits: Limits, system: CgroupSystem, parent: str) -> set[str]:
        """Raise RuntimeFailure if a requested limit has no controller; return the v2 delegated set."""
        if system.mode in ("v1", "hybrid"):
            for controller, what in v1.required_controllers(limits).items():
                if system.hierarchy(controller) is None:
                    raise RuntimeFailure(
                        f'cannot apply the {what}: the cgroup controller "{controller}" is not mounted'
                    )
            return set()
        u = system.unified
        assert u is not None
        anchor = _anchor_path(u, parent)
        available = v2.delegated(u.dir_for(anchor), u.dir_for(anchor) == u.dir_for("/"))
        for controller, what in v2.required_controllers(limits).items():
            if controller not in available:
                raise RuntimeFailure(
                    f'cannot apply the {what}: the cgroup controller "{controller}" is not available below '
                    f"{anchor} (use a cgroup parent where it is delegated)"
                )
        return available

    def _apply(self, limits: Limits) -> None:
        self.manager.apply(limits)

    def update(self, limits: Limits, system: CgroupSystem | None = None) -> None:
        """Change the limits of an existing (possibly running) container, as ``docker update`` does."""
        limits.validate()
        missing = self.manager.missing_controllers(limits)
        if missing:
            controller, what = missing[0]
            raise RuntimeFailure(
                f'cannot apply the {what}: the cgroup controller "{controller}" is not available'
            )
        self._apply(limits)

    # --- processes --------------------------------------------------------------------------------------

    def procs_files(self) -> list[str]:
        """Every cgroup.procs file of the container (one per hierarchy)."""
        return [os.path.join(d, "cgroup.procs") for d in self._unique_dirs()]

    def join_files(self) -> list[str]:
        """The files a new single-threaded process writes "0" into to join the container: on cgroup v1 each
        hierarchy's ``tasks`` (a thread moving itself does not take the kernel's global migration lock, whose
        first use after a quiet spell waits for an RCU grace period: 5-20 ms), on v2 ``cgroup.procs``."""
        return [os.path.join(d, self.manager.join_file) for d in self._unique_dirs()]

    def add(self, pid: int) -> None:
        """Move process ``pid`` (a process dockyard started) into the container's cgroup everywhere."""
        for f in self.procs_files():
            write_value(f, pid)

    def pids(self) -> list[int]:
        """The processes in the container's cgroup (the union over all hierarchies), sorted."""
        found: set[int] = set()
        for f in self.procs_files():
            found.update(read_pids(f))
        return sorted(found)

    # --- freezing ---------------------------------------------------------------------------------------

    def freeze(self, timeout: float = 5.0) -> None:
        """Stop every process of the container (``docker pause``); returns once all are frozen."""
        self.manager.freeze(timeout)

    def thaw(self, timeout: float = 5.0) -> None:
        """Let the container's processes run again (``docker unpause``)."""
        self.manager.thaw(timeout)

    def frozen(self) -> bool:
        """True when the container is frozen."""
        return self.manager.is_frozen()

    # --- signalling -------------------------------------------------------------------------------------

    def kill_all(self, sig: int = signal.SIGKILL, timeout: float = 10.0) -> None:
        """Send ``sig`` to every process of the container.

        For SIGKILL, wait until the cgroup is empty: with v2's cgroup.kill where the kernel has it (atomic,
        no fork escapes), else by freezing, signalling every listed process and thawing, until none is left.
        Other signals are sent once to each process.
        """
        if sig != signal.SIGKILL:
            for pid in self.pids():
                _signal(pid, sig)
            return
        with suppress(RuntimeFailure):
            if self.manager.kill():
                self.manager.release()  # tasks frozen by a v1 freezer only die once thawed
                if wait_for(lambda: not self.pids(), min(timeout, 1.0)):
                    return
        deadline = time.monotonic() + timeout
        while True:
            pids = self.pids()
            if not pids:
                return
            if time.monotonic() >= deadline:
                raise RuntimeFailure(
                    f"processes {' '.join(map(str, pids))} of container {self.container_id} survived SIGKILL"
                )
            self._kill_round(pids)
            wait_for(lambda: not self.pids(), 0.2)

    def _kill_round(self, pids: list[int]) -> None:
        """SIGKILL the listed processes, held meanwhile (v1's freezer) so that none can fork a new one."""
        self.manager.hold()
        pids = self.pids() or pids
        for pid in pids:
            _signal(pid, signal.SIGKILL)
        with suppress(RuntimeFailure):
            self.manager.release()

    # --- reading ----------------------------------------------------------------------------------------

    def oom_kill_count(self) -> int:
        """How many of the container's processes the kernel's OOM killer killed."""
        return self.manager.oom_kill_count()

    def oom_killed(self) -> bool:
        """True if the OOM killer killed any process of the container (read it before ``destroy``)."""
        return self.oom_kill_count() > 0

    def stats(self) -> CgroupStats:
        """CPU, memory, pids and block I/O counters of the container."""
        return self.manager.stats()

    # --- removing ---------------------------------------------------------------------------------------

    def destroy(self, timeout: float = 10.0) -> None:
        """Kill what is left, wait until empty and remove the container's directories everywhere.

        Idempotent: directories already gone are fine.
        """
        if not self.exists():
            return
        if self.pids():
            self.kill_all(signal.SIGKILL, timeout)
        for d in self._unique_dirs():
            remove_dir(d)


def warm_up_migration(system: CgroupSystem | None = None) -> None:
    """Take the kernel's cgroup migration lock once, moving nothing, so that the next join is quick.

    The first write to a ``cgroup.procs`` after a quiet spell waits for an RCU grace period (5-20 ms on a
    small VM); writes in the ~10 ms after one do not wait. On cgroup v2 the container's first process must
    be moved that way, so the supervisor calls this in a thread as soon as it starts: the wait overlaps its
    own set-up instead of delaying the container (on v1 the process joins through ``tasks``, which never
    waits: see ``join_files``). The calling process writes itself into the cgroup it is already in:
    nothing moves. Any failure is ignored: this only saves time.
    """
    with suppress(OSError, RuntimeFailure):
        system = system or detect()
        h = system.unified if system.mode == "v2" else None
        if h is not None:
            with open(os.path.join(h.own_dir, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))


def _make_level(path: str, leaf: bool, created: list[str], container_id: str) -> None:
    """Create one directory on the way to a container's cgroup; refuse a leaf that is in use."""
    if make_dir(path):
        created.append(path)
    elif leaf and read_pids(os.path.join(path, "cgroup.procs")):
        raise Conflict(f"the cgroup of container {container_id} already exists and has processes: {path}")


def _signal(pid: int, sig: int) -> None:
    with suppress(ProcessLookupError):
        os.kill(pid, sig)


def _parent_dirs(parent: str | None, system: CgroupSystem) -> list[str]:
    parent_path = _check_parent(parent)
    hierarchies: list[Hierarchy] = []
    if system.mode in ("v1", "hybrid"):
        hierarchies.extend(system.v1_hierarchies())
    if system.unified is not None and system.mode == "v2":
        hierarchies.append(system.unified)
    return [h.dir_for(_base_path(h, parent_path)) for h in hierarchies]


def list_leftovers(parent: str | None = None, system: CgroupSystem | None = None) -> list[str]:
    """The container ids that have a cgroup below ``parent`` in any hierarchy."""
    found: set[str] = set()
    for d in _parent_dirs(parent, system or detect()):
        with suppress(FileNotFoundError, NotADirectoryError):
            with os.scandir(d) as it:
                found.update(e.name for e in it if e.is_dir(follow_symlinks=False))
    return sorted(found)


def remove_leftovers(
    known_ids: Iterable[str],
    parent: str | None = None,
    system: CgroupSystem | None = None,
    timeout: float = 10.0,
) -> list[str]:
    """Kill and remove every container cgroup below ``parent`` whose id is not in ``known_ids``.

    Returns the ids removed. Meant for the engine's recovery pass, with the parent of its own root.
    """
    system = system or detect()
    known = set(known_ids)
    removed = []
    for cid in list_leftovers(parent, system):
        if cid in known:
            continue
        ContainerCgroup.open(cid, parent, system, must_exist=False).destroy(timeout)
        removed.append(cid)
    return removed


def remove_parent(parent: str | None = None, system: CgroupSystem | None = None) -> None:
    """Remove the parent's directories where they are empty (a relative parent: every level of it)."""
    system = system or detect()
    parent_path = _check_parent(parent)
    depth = 1 if parent_path.startswith("/") else len(parent_path.split("/"))
    for d in _parent_dirs(parent, system):
        for _ in range(depth):
            try:
                os.rmdir(d)
            except OSError:
                break
            d = os.path.dirname(d)
