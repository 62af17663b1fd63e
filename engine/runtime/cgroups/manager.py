"""The one interface a container's cgroup is driven through, whatever the machine's cgroup version.

runc's ``cgroups.Manager`` is the model. ``Manager`` is abstract: ``V1Manager`` (v1.py) works over one
directory per controller hierarchy (a hybrid machine's too, whose controller-less cgroup2 tree is left
alone), ``V2Manager`` (v2.py) over one directory of the unified tree. Which one drives a container follows
from the machine's cgroup mode, detected once (detect.py); the package maps each mode to its implementation
(``IMPLEMENTATIONS``), and ``Manager.open``/``create``/``from_state`` hand out the right one.

What a manager does, and where:

- make the container's cgroup below its parent with the limits written (``create``), or find it again
  (``open``, ``from_state``/``state``), tell whether it is there (``exists``);
- put processes in it: ``join_files`` (what a new process writes "0" into to join itself), ``add(pid)``
  (runc's Apply), and list them (``pids``);
- change its limits (``update``: runc's Set), freeze and thaw it (``freeze``, ``thaw``, ``frozen``);
- signal or kill every process (``kill_all``), read its counters (``stats``, ``oom_kill_count``);
- kill what is left and remove it (``destroy``).

The shared steps are written here once; each version supplies the part whose files differ (the methods
marked abstract).
"""

from __future__ import annotations

import os
import time
from abc import ABC, abstractmethod

from engine.errors import Conflict, InvalidArgument, NotFound, RuntimeFailure
from engine.lean.record import record
from engine.runtime.cgroups.common import make_dir, read_pids, remove_dir, wait_for, write_value
from engine.runtime.cgroups.detect import CgroupSystem, detect
from engine.runtime.cgroups.parent import CgroupParent, list_leftovers_at
from engine.runtime.cgroups.resources import Limits

from ...lean.tools import suppress

TYPE_CHECKING = False
if TYPE_CHECKING:
    import signal
    from collections.abc import Iterable
    from typing import Any
else:
    import _signal as signal  # the C module: ``signal`` would load ``enum``


@record
class CgroupStats:
    """One reading of a container cgroup's counters (zeros where a controller is missing).

    ``memory_limit`` and ``pids_limit`` are None when unlimited. ``memory_working_set`` is the memory figure
    Docker shows: usage minus the inactive file cache.
    """

    cpu_usage_ns: int = 0
    memory_usage: int = 0
    memory_limit: int | None = None
    memory_inactive_file: int = 0
    pids_current: int = 0
    pids_limit: int | None = None
    block_read: int = 0
    block_write: int = 0

    @property
    def memory_working_set(self) -> int:
        if self.memory_inactive_file < self.memory_usage:
            return self.memory_usage - self.memory_inactive_file
        return self.memory_usage


#: The implementation for each cgroup mode ("v1", "hybrid", "v2"); the package fills it in.
IMPLEMENTATIONS: dict[str, type[Manager]] = {}


def implementation(mode: str) -> type[Manager]:
    """The manager class for a machine in cgroup ``mode``."""
    try:
        return IMPLEMENTATIONS[mode]
    except KeyError:
        raise RuntimeFailure(f"no cgroup manager for cgroup mode {mode!r}") from None


class Manager(ABC):
    """One container's cgroup, across the hierarchies its machine gives containers.

    ``dirs`` maps each controller (v1) or ``"unified"`` (v2) to the container's directory (co-mounted
    controllers share one); ``path`` is the container's cgroup path (in the memory hierarchy on v1);
    ``mode`` is the machine's cgroup mode.
    """

    #: The file, in each of the container's directories, that a new single-threaded process writes "0"
    #: into to join the container.
    join_file: str

    def __init__(self, container_id: str, mode: str, dirs: dict[str, str], path: str) -> None:
        self.container_id = container_id
        self.mode = mode
        self.dirs = dirs
        self.path = path

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.container_id!r}, mode={self.mode!r}, path={self.path!r})"

    # --- finding and making -------------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        container_id: str,
        parent: str | CgroupParent | None = None,
        system: CgroupSystem | None = None,
        must_exist: bool = True,
    ) -> Manager:
        """Reattach to a container's cgroup that any dockyard process made below ``parent``.

        Raises NotFound when ``must_exist`` and no directory of it exists.
        """
        _check_id(container_id)
        cg = _locate(container_id, CgroupParent.of(parent), system or detect())
        if must_exist and not cg.exists():
            raise NotFound(f"no cgroup found for container {container_id}")
        return cg

    @classmethod
    def create(
        cls,
        container_id: str,
        limits: Limits | None = None,
        parent: str | CgroupParent | None = None,
        system: CgroupSystem | None = None,
    ) -> Manager:
        """Make the container's cgroup below ``parent`` (and the levels of the parent that are missing)
        and write its limits, before any process is in it.

        Bad limits raise InvalidArgument and missing controllers RuntimeFailure, both before anything is
        made; if the kernel refuses a write, what was made is removed again.
        """
        limits = limits or Limits()
        _check_id(container_id)
        limits.validate()
        asked = CgroupParent.of(parent)
        if asked.root and not os.path.isdir(asked.root):
            # the root was discarded meanwhile (a start racing ``discard``): its parent is not made again
            raise RuntimeFailure(f"the engine root {asked.root} is gone: no cgroup is made for it")
        where = asked.for_container(container_id)
        system = system or detect()
        cg = _locate(container_id, where, system)
        created: list[str] = []
        try:
            cg._make(limits, where, system, created)
            cg._write_limits(limits)
        except BaseException:
            for d in reversed(created):
                # the parent's levels may meanwhile hold another container's cgroup: those stay
                with suppress(OSError, RuntimeFailure):
                    if os.path.basename(d) == container_id:
                        remove_dir(d)
                    else:
                        os.rmdir(d)
            raise
        return cg

    def state(self) -> dict[str, Any]:
        """The exact directories, to store with the container (reopen with ``from_state``)."""
        return {"id": self.container_id, "mode": self.mode, "path": self.path, "dirs": dict(self.dirs)}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Manager:
        """Reopen from ``state()``: works from any cgroup the caller runs in."""
        mode = str(state["mode"])
        return implementation(mode)(
            str(state["id"]),
            mode,
            {str(k): str(v) for k, v in state["dirs"].items()},
            str(state.get("path", "")),
        )

    def exists(self) -> bool:
        """True while at least one of its directories exists."""
        return any(os.path.isdir(d) for d in self._unique_dirs())

    def _unique_dirs(self) -> list[str]:
        return list(dict.fromkeys(self.dirs.values()))

    @classmethod
    @abstractmethod
    def locate(cls, container_id: str, parent: CgroupParent, system: CgroupSystem) -> Manager:
        """The container's cgroup below ``parent`` on ``system``, whether it exists or not."""

    @abstractmethod
    def _make(self, limits: Limits, parent: CgroupParent, system: CgroupSystem, created: list[str]) -> None:
        """Make the container's directories (and the parent's missing levels), listing each new one in
        ``created``. A limit whose controller is not available raises RuntimeFailure before anything is
        made."""

    # --- limits ---------------------------------------------------------------------------------------------

    def update(self, limits: Limits) -> None:
        """Change the limits of an existing (possibly running) container, as ``docker update`` does."""
        limits.validate()
        missing = self._missing_controllers(limits)
        if missing:
            controller, what = missing[0]
            raise RuntimeFailure(
                f'cannot apply the {what}: the cgroup controller "{controller}" is not available'
            )
        self._write_limits(limits)

    @abstractmethod
    def _missing_controllers(self, limits: Limits) -> list[tuple[str, str]]:
        """(controller, what the limit is called) for each limit whose controller this cgroup lacks."""

    @abstractmethod
    def _write_limits(self, limits: Limits) -> None:
        """Write the limits that are set into the controllers' files (the others stay as they are)."""

    # --- processes ------------------------------------------------------------------------------------------

    def procs_files(self) -> list[str]:
        """Every cgroup.procs file of the container (one per directory)."""
        return [os.path.join(d, "cgroup.procs") for d in self._unique_dirs()]

    def join_files(self) -> list[str]:
        """The files a new single-threaded process writes "0" into to join the container (``join_file`` in
        each directory)."""
        return [os.path.join(d, self.join_file) for d in self._unique_dirs()]

    def add(self, pid: int) -> None:
        """Move process ``pid`` (a process dockyard started) into the container's cgroup everywhere."""
        for f in self.procs_files():
            write_value(f, pid)

    def pids(self) -> list[int]:
        """The processes in the container's cgroup (the union over its directories), sorted."""
        found: set[int] = set()
        for f in self.procs_files():
            found.update(read_pids(f))
        return sorted(found)

    @staticmethod
    @abstractmethod
    def warm_up_migration(system: CgroupSystem) -> None:
        """Ready the kernel, before the container exists, for its first process to join quickly."""

    # --- freezing -------------------------------------------------------------------------------------------

    @abstractmethod
    def freeze(self, timeout: float = 5.0) -> None:
        """Stop every process of the container (``docker pause``); returns once all are frozen."""

    @abstractmethod
    def thaw(self, timeout: float = 5.0) -> None:
        """Let the container's processes run again (``docker unpause``)."""

    @abstractmethod
    def frozen(self) -> bool:
        """True when the container is frozen."""

    # --- signalling -----------------------------------------------------------------------------------------

    def kill_all(self, sig: int = signal.SIGKILL, timeout: float = 10.0) -> None:
        """Send ``sig`` to every process of the container.

        For SIGKILL, wait until the cgroup is empty: at once where the kernel kills a whole cgroup (v2's
        cgroup.kill: no fork escapes), else in rounds that hold the processes where possible (v1's
        freezer), signal every listed one and let them go, until none is left. Other signals are sent once
        to each process.
        """
        if sig != signal.SIGKILL:
            for pid in self.pids():
                _signal(pid, sig)
            return
        with suppress(RuntimeFailure):
            if self._kill_at_once() and wait_for(lambda: not self.pids(), min(timeout, 1.0)):
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
            self._hold()
            for pid in self.pids() or pids:
                _signal(pid, signal.SIGKILL)
            with suppress(RuntimeFailure):
                self._release()
            wait_for(lambda: not self.pids(), 0.2)

    @abstractmethod
    def _kill_at_once(self) -> bool:
        """SIGKILL every process of the container in one step if the kernel can; False if it cannot."""

    @abstractmethod
    def _hold(self) -> None:
        """Keep the processes from forking while they are signalled one by one, where the version can."""

    @abstractmethod
    def _release(self) -> None:
        """Undo ``_hold``."""

    # --- reading --------------------------------------------------------------------------------------------

    @abstractmethod
    def stats(self) -> CgroupStats:
        """CPU, memory, pids and block I/O counters of the container."""

    @abstractmethod
    def oom_kill_count(self) -> int:
        """How many of the container's processes the kernel's OOM killer killed."""

    def oom_killed(self) -> bool:
        """True if the OOM killer killed any process of the container (read it before ``destroy``)."""
        return self.oom_kill_count() > 0

    # --- removing -------------------------------------------------------------------------------------------

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


def make_level(path: str, leaf: bool, created: list[str], container_id: str) -> None:
    """Make one directory on the way to a container's cgroup, listing it in ``created`` if it is new;
    refuse a leaf that exists with processes in it."""
    if make_dir(path):
        created.append(path)
    elif leaf and read_pids(os.path.join(path, "cgroup.procs")):
        raise Conflict(f"the cgroup of container {container_id} already exists and has processes: {path}")


def _locate(container_id: str, parent: CgroupParent, system: CgroupSystem) -> Manager:
    return implementation(system.mode).locate(container_id, parent.for_container(container_id), system)


def _check_id(container_id: str) -> None:
    if not container_id or "/" in container_id or container_id in (".", "..") or "\0" in container_id:
        raise InvalidArgument(f"invalid container id for a cgroup: {container_id!r}")


def _signal(pid: int, sig: int) -> None:
    with suppress(ProcessLookupError):
        os.kill(pid, sig)


# --- without a container ---------------------------------------------------------------------------------


def warm_up_migration(system: CgroupSystem | None = None) -> None:
    """Ready the kernel for the container's first process to join its cgroup quickly, where the machine's
    manager needs it (v2; see ``V2Manager.warm_up_migration``). Any failure is ignored: this only saves time."""
    with suppress(OSError, RuntimeFailure):
        system = system or detect()
        implementation(system.mode).warm_up_migration(system)


def remove_leftovers(
    known_ids: Iterable[str],
    parent: str | CgroupParent | None = None,
    system: CgroupSystem | None = None,
    timeout: float = 10.0,
) -> list[str]:
    """Kill and remove every container cgroup below ``parent`` whose id is not in ``known_ids``.

    Returns the ids removed. Meant for the engine's recovery pass, with the parent of its own root.
    """
    system = system or detect()
    known = set(known_ids)
    removed = []
    where = CgroupParent.of(parent)
    for cid, sub in sorted(list_leftovers_at(where, system)):
        if cid in known:
            continue
        below = CgroupParent(f"{where.name}/{sub}", where.anchors, where.at_root) if sub else where
        _locate(cid, below, system).destroy(timeout)
        if cid not in removed:
            removed.append(cid)
    return removed
