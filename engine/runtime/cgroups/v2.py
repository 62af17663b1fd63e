"""cgroup v2: one unified tree; ``V2Manager`` and the v2 file syntax it writes and reads.

A container gets one directory in the unified tree (``dirs["unified"]``), below a parent whose levels pass the
controllers down (cgroup.subtree_control): below the caller's own cgroup only what that cgroup delegates
already, since a cgroup that holds processes may not enable more (and the caller's processes are never moved
out of it to allow it). A new process joins through cgroup.procs.
"""

from __future__ import annotations

import os
import posixpath

from engine.errors import RuntimeFailure
from engine.runtime.cgroups.common import (
    parse_keyed,
    poll_until,
    read_int,
    read_text,
    write_value,
)
from engine.runtime.cgroups.detect import CgroupSystem
from engine.runtime.cgroups.manager import CgroupStats, Manager, make_level
from engine.runtime.cgroups.parent import CgroupParent
from engine.runtime.cgroups.resources import Limits, required_controllers

UNIFIED = "unified"
#: Controllers dockyard enables for containers when the tree offers them (for limits and statistics).
WANTED: tuple[str, ...] = ("cpu", "io", "memory", "pids")
#: A file whose presence shows that a controller is enabled in a cgroup.
_PROBE = {
    "memory": "memory.max",
    "cpu": "cpu.max",
    "pids": "pids.max",
    "io": "io.stat",
    "cpuset": "cpuset.cpus",
}


class V2Manager(Manager):
    """A container's cgroup on a v2 machine: one directory of the unified tree."""

    join_file = "cgroup.procs"

    @classmethod
    def locate(cls, container_id: str, parent: CgroupParent, system: CgroupSystem) -> V2Manager:
        u = system.unified
        if u is None:
            raise RuntimeFailure("no cgroup2 hierarchy is mounted")
        leaf = posixpath.join(parent.path(u), container_id)
        return cls(container_id, system.mode, {UNIFIED: u.dir_for(leaf)}, leaf)

    @property
    def _dir(self) -> str:
        return self.dirs[UNIFIED]

    def _make(self, limits: Limits, parent: CgroupParent, system: CgroupSystem, created: list[str]) -> None:
        u = system.unified
        assert u is not None
        anchor = u.dir_for(parent.anchor(u))
        at_root = anchor == u.dir_for("/")
        available = delegated(anchor, at_root)
        for controller, what in required_controllers(limits).items():
            if controller not in available:
                raise RuntimeFailure(
                    f'cannot apply the {what}: the cgroup controller "{controller}" is not available below '
                    f"{parent.anchor(u)} (use a cgroup parent where it is delegated)"
                )
        enable = [c for c in WANTED if c in available]
        if (limits.cpuset_cpus or limits.cpuset_mems) and "cpuset" in available:
            enable.append("cpuset")  # only when asked for: enabling it costs every container's start
        if enable and at_root:
            enable_controllers(anchor, enable)
        levels = parent.levels(u, posixpath.join(parent.path(u), self.container_id))
        for i, level in enumerate(levels):
            make_level(level, i == len(levels) - 1, created, self.container_id)
            if i < len(levels) - 1:
                enable_controllers(level, enable)

    def _missing_controllers(self, limits: Limits) -> list[tuple[str, str]]:
        return [
            (c, what)
            for c, what in required_controllers(limits).items()
            if not os.path.exists(os.path.join(self._dir, _PROBE[c]))
        ]

    def _write_limits(self, limits: Limits) -> None:
        apply_limits(self._dir, limits)

    def _freezable(self) -> str:
        if not can_freeze(self._dir):
            raise RuntimeFailure("this machine's cgroups have no freezer: cannot pause containers")
        return self._dir

    def freeze(self, timeout: float = 5.0) -> None:
        freeze(self._freezable(), timeout)

    def thaw(self, timeout: float = 5.0) -> None:
        thaw(self._freezable(), timeout)

    def frozen(self) -> bool:
        return is_frozen(self._freezable())

    def _kill_at_once(self) -> bool:
        if not (os.path.isdir(self._dir) and can_kill(self._dir)):
            return False
        kill(self._dir)
        return True

    def _hold(self) -> None:
        pass  # only without cgroup.kill (Linux before 5.14); the processes are signalled as they are

    def _release(self) -> None:
        pass

    def stats(self) -> CgroupStats:
        return stats(self._dir)

    def oom_kill_count(self) -> int:
        return oom_kill_count(self._dir)

    @staticmethod
    def warm_up_migration(system: CgroupSystem) -> None:
        """Take the kernel's cgroup migration lock once, moving nothing, so that the next join is quick.

        The first write to a ``cgroup.procs`` after a quiet spell waits for an RCU grace period (5-20 ms on
        a small VM); writes in the ~10 ms after one do not wait. The container's first process must be moved
        that way on v2, so the supervisor calls this in a thread as soon as it starts: the wait overlaps its
        own set-up instead of delaying the container (on v1 the process joins through ``tasks``, which never
        waits). The calling process writes itself into the cgroup it is already in: nothing moves.
        """
        if system.unified is not None:
            with open(os.path.join(system.unified.own_dir, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))


# --- the v2 files ------------------------------------------------------------------------------------------


def _words(path: str) -> set[str]:
    return set((read_text(path) or "").split())


def delegated(own_dir: str, own_is_root: bool) -> set[str]:
    """Controllers that the cgroups below ``own_dir`` can have.

    Below a non-root cgroup only what its cgroup.subtree_control already enables reaches the children (a
    cgroup holding processes cannot enable more). The root cgroup may enable everything it lists.
    """
    if own_is_root:
        return _words(os.path.join(own_dir, "cgroup.controllers"))
    return _words(os.path.join(own_dir, "cgroup.subtree_control"))


def enable_controllers(cgroup_dir: str, controllers: list[str]) -> None:
    """Enable ``controllers`` for the children of ``cgroup_dir`` (one write; one by one if that fails)."""
    if not controllers:
        return
    path = os.path.join(cgroup_dir, "cgroup.subtree_control")
    enabled = _words(path)
    missing = [c for c in controllers if c not in enabled]
    if not missing:
        return
    try:
        write_value(path, " ".join("+" + c for c in missing))
    except RuntimeFailure:
        for c in missing:
            write_value(path, "+" + c)


def apply_limits(cgroup_dir: str, limits: Limits) -> None:
    """Write memory.max, memory.swap.max, cpu.max, cpu.weight and pids.max as the limits ask."""
    memory = limits.memory_bytes()
    if memory is not None:
        write_value(os.path.join(cgroup_dir, "memory.max"), memory)
        swap = limits.swap_only_bytes()
        swap_file = os.path.join(cgroup_dir, "memory.swap.max")
        if swap is not None and os.path.exists(swap_file):
            write_value(swap_file, "max" if swap < 0 else swap)
    period, quota = limits.cfs()
    if period is not None or quota is not None:  # runc's syntax: "max" for no quota, the period if given
        text = str(quota) if quota is not None and quota > 0 else "max"
        write_value(os.path.join(cgroup_dir, "cpu.max"), f"{text} {period}" if period else text)
    weight = limits.cpu_weight()
    if weight is not None:
        write_value(os.path.join(cgroup_dir, "cpu.weight"), weight)
    pids = limits.pids_max()
    if pids is not None:
        write_value(os.path.join(cgroup_dir, "pids.max"), "max" if pids < 0 else pids)
    if limits.cpuset_cpus:
        write_value(os.path.join(cgroup_dir, "cpuset.cpus"), limits.cpuset_cpus)
    if limits.cpuset_mems:
        write_value(os.path.join(cgroup_dir, "cpuset.mems"), limits.cpuset_mems)
    if limits.memory_reservation:
        write_value(os.path.join(cgroup_dir, "memory.low"), limits.memory_reservation)
    if limits.blkio_weight:
        bfq = os.path.join(cgroup_dir, "io.bfq.weight")
        if os.path.exists(bfq):
            write_value(bfq, limits.blkio_weight)
        elif os.path.exists(os.path.join(cgroup_dir, "io.weight")):
            write_value(os.path.join(cgroup_dir, "io.weight"), f"default {limits.blkio_v2_weight()}")
    if limits.blkio_devices:
        apply_device_limits(cgroup_dir, limits)


def apply_device_limits(cgroup_dir: str, limits: Limits) -> None:
    """io.max (``MAJOR:MINOR rbps=N wbps=N riops=N wiops=N``) for the throttles, io.bfq.weight (else
    io.weight, on its scale) for the weights, one line per device, as runc writes them."""
    from engine.runtime.cgroups.resources import device_number
    from engine.runtime.cgroups.v1 import write_device_value

    bfq = os.path.join(cgroup_dir, "io.bfq.weight")
    for path, weight in limits.blkio_weight_device:
        if os.path.exists(bfq):
            write_device_value(bfq, path, device_number(path), weight)
        else:
            value = 1 + (weight - 10) * 9999 // 990
            write_device_value(os.path.join(cgroup_dir, "io.weight"), path, device_number(path), value)
    for key, entries in (
        ("rbps", limits.device_read_bps),
        ("wbps", limits.device_write_bps),
        ("riops", limits.device_read_iops),
        ("wiops", limits.device_write_iops),
    ):
        for path, rate in entries:
            write_value(os.path.join(cgroup_dir, "io.max"), f"{device_number(path)} {key}={rate}")


def parse_io_stat(text: str | None) -> tuple[int, int]:
    """Sum rbytes and wbytes of io.stat ("8:0 rbytes=1 wbytes=2 rios=...") over all devices."""
    read = write = 0
    if not text:
        return 0, 0
    for line in text.splitlines():
        for item in line.split()[1:]:
            key, _, value = item.partition("=")
            if key == "rbytes":
                read += int(value)
            elif key == "wbytes":
                write += int(value)
    return read, write


def stats(cgroup_dir: str) -> CgroupStats:
    """Read the counters Docker shows from a v2 cgroup."""
    st = CgroupStats()
    cpu = parse_keyed(read_text(os.path.join(cgroup_dir, "cpu.stat")))
    st.cpu_usage_ns = cpu.get("usage_usec", 0) * 1000
    st.memory_usage = read_int(os.path.join(cgroup_dir, "memory.current")) or 0
    st.memory_limit = read_int(os.path.join(cgroup_dir, "memory.max"))
    st.memory_inactive_file = parse_keyed(read_text(os.path.join(cgroup_dir, "memory.stat"))).get(
        "inactive_file", 0
    )
    st.pids_current = read_int(os.path.join(cgroup_dir, "pids.current")) or 0
    st.pids_limit = read_int(os.path.join(cgroup_dir, "pids.max"))
    st.block_read, st.block_write = parse_io_stat(read_text(os.path.join(cgroup_dir, "io.stat")))
    return st


def oom_kill_count(cgroup_dir: str) -> int:
    """How many processes the OOM killer killed in this cgroup and below (memory.events ``oom_kill``)."""
    return parse_keyed(read_text(os.path.join(cgroup_dir, "memory.events"))).get("oom_kill", 0)


def events(cgroup_dir: str) -> dict[str, int]:
    """cgroup.events as a dict ({"populated": 0|1, "frozen": 0|1})."""
    return parse_keyed(read_text(os.path.join(cgroup_dir, "cgroup.events")))


def can_freeze(cgroup_dir: str) -> bool:
    return os.path.exists(os.path.join(cgroup_dir, "cgroup.freeze"))


def freeze(cgroup_dir: str, timeout: float) -> None:
    """Write 1 to cgroup.freeze and wait for "frozen 1" in cgroup.events."""
    write_value(os.path.join(cgroup_dir, "cgroup.freeze"), "1")
    poll_until(lambda: events(cgroup_dir).get("frozen") == 1, timeout, f"{cgroup_dir} to freeze")


def thaw(cgroup_dir: str, timeout: float) -> None:
    """Write 0 to cgroup.freeze and wait for "frozen 0" in cgroup.events."""
    write_value(os.path.join(cgroup_dir, "cgroup.freeze"), "0")
    poll_until(lambda: events(cgroup_dir).get("frozen", 0) == 0, timeout, f"{cgroup_dir} to thaw")


def is_frozen(cgroup_dir: str) -> bool:
    return events(cgroup_dir).get("frozen") == 1


def can_kill(cgroup_dir: str) -> bool:
    """cgroup.kill exists from Linux 5.14 on."""
    return os.path.exists(os.path.join(cgroup_dir, "cgroup.kill"))


def kill(cgroup_dir: str) -> None:
    """SIGKILL every process in the cgroup and below, atomically (no fork can escape)."""
    write_value(os.path.join(cgroup_dir, "cgroup.kill"), "1")
