"""cgroup v2: one unified tree; controller delegation, limits, statistics, freeze, kill and OOM in v2 syntax.

The same functions serve the controller-less cgroup2 mount of a hybrid machine, where only the core files
(cgroup.procs, cgroup.events, cgroup.freeze, cgroup.kill) are used.
"""

from __future__ import annotations

import os

from engine.errors import RuntimeFailure
from engine.runtime.cgroups.common import (
    CPU_PERIOD_US,
    CgroupStats,
    Limits,
    parse_keyed,
    poll_until,
    read_int,
    read_text,
    write_value,
)

#: Controllers dockyard enables for containers when the tree offers them (for limits and statistics).
WANTED: tuple[str, ...] = ("cpu", "io", "memory", "pids")


def required_controllers(limits: Limits) -> dict[str, str]:
    """The v2 controllers a limit needs, mapped to what the limit is called in messages."""
    need: dict[str, str] = {}
    if limits.memory_bytes() is not None:
        need["memory"] = "memory limit"
    if limits.cpu_quota_us() is not None:
        need["cpu"] = "CPU quota (--cpus)"
    if limits.cpu_weight() is not None:
        need["cpu"] = "CPU shares"
    if limits.pids_max() is not None:
        need["pids"] = "pids limit"
    return need


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
    quota = limits.cpu_quota_us()
    if quota is not None:
        write_value(os.path.join(cgroup_dir, "cpu.max"), f"{quota} {CPU_PERIOD_US}")
    weight = limits.cpu_weight()
    if weight is not None:
        write_value(os.path.join(cgroup_dir, "cpu.weight"), weight)
    pids = limits.pids_max()
    if pids is not None:
        write_value(os.path.join(cgroup_dir, "pids.max"), "max" if pids < 0 else pids)


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


#: A file whose presence shows that a v2 controller is enabled in a cgroup.
_PROBE = {"memory": "memory.max", "cpu": "cpu.max", "pids": "pids.max", "io": "io.stat"}


class V2Manager:
    """The cgroup manager of a v2 machine: ``path`` is the container's directory in the unified tree."""

    join_file = "cgroup.procs"

    def __init__(self, path: str) -> None:
        self.path = path

    def required_controllers(self, limits: Limits) -> dict[str, str]:
        return required_controllers(limits)

    def missing_controllers(self, limits: Limits) -> list[tuple[str, str]]:
        return [
            (c, what)
            for c, what in required_controllers(limits).items()
            if not os.path.exists(os.path.join(self.path, _PROBE[c]))
        ]

    def apply(self, limits: Limits) -> None:
        apply_limits(self.path, limits)

    def _freezable(self) -> str:
        if not can_freeze(self.path):
            raise RuntimeFailure("this machine's cgroups have no freezer: cannot pause containers")
        return self.path

    def freeze(self, timeout: float) -> None:
        freeze(self._freezable(), timeout)

    def thaw(self, timeout: float) -> None:
        thaw(self._freezable(), timeout)

    def is_frozen(self) -> bool:
        return is_frozen(self._freezable())

    def kill(self) -> bool:
        if not (os.path.isdir(self.path) and can_kill(self.path)):
            return False
        kill(self.path)
        return True

    def hold(self) -> None:
        pass  # cgroup.kill (above) leaves no process to fork; without it, signals go out one by one

    def release(self) -> None:
        pass

    def stats(self) -> CgroupStats:
        return stats(self.path)

    def oom_kill_count(self) -> int:
        return oom_kill_count(self.path)
