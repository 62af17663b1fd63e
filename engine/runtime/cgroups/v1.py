"""cgroup v1: one directory per controller hierarchy; limits, statistics, freezer and OOM in v1 file syntax.

Every function takes the container's directories as a mapping from controller name to directory (several
names map to one directory when controllers are co-mounted, as "cpu,cpuacct" often is).
"""

from __future__ import annotations

import os

from engine.errors import RuntimeFailure
from engine.runtime.cgroups.common import (
    CPU_PERIOD_US,
    UNLIMITED_THRESHOLD,
    CgroupStats,
    Limits,
    parse_keyed,
    poll_until,
    read_int,
    read_text,
    write_value,
)


def required_controllers(limits: Limits) -> dict[str, str]:
    """The controllers a limit needs, mapped to what the limit is called in messages."""
    need: dict[str, str] = {}
    if limits.memory_bytes() is not None:
        need["memory"] = "memory limit"
    if limits.cpu_quota_us() is not None:
        need["cpu"] = "CPU quota (--cpus)"
    if limits.shares() is not None:
        need["cpu"] = "CPU shares"
    if limits.pids_max() is not None:
        need["pids"] = "pids limit"
    return need


def prepare_cpuset(levels: list[str]) -> None:
    """Give each new cpuset level the CPUs and memory nodes of its parent (a task can't join an empty one).

    ``levels`` runs from the first directory below the caller's own cgroup down to the container's.
    """
    for level in levels:
        parent = os.path.dirname(level)
        for name in ("cpuset.cpus", "cpuset.mems"):
            current = read_text(os.path.join(level, name))
            if current is not None and current.strip():
                continue
            inherited = read_text(os.path.join(parent, name))
            if inherited is not None and inherited.strip():
                write_value(os.path.join(level, name), inherited.strip())


def _write_memory(memory_dir: str, memory: int | None, memsw: int | None) -> None:
    limit_file = os.path.join(memory_dir, "memory.limit_in_bytes")
    memsw_file = os.path.join(memory_dir, "memory.memsw.limit_in_bytes")
    has_memsw = memsw is not None and os.path.exists(memsw_file)
    mem_value = memory if memory is not None else -1
    try:
        write_value(limit_file, mem_value)
    except RuntimeFailure:
        # The kernel keeps memory <= memory+swap: when raising both, memsw has to move first.
        if not has_memsw:
            raise
        write_value(memsw_file, memsw if memsw is not None else -1)
        write_value(limit_file, mem_value)
        return
    if has_memsw:
        write_value(memsw_file, memsw if memsw is not None else -1)


def apply_limits(dirs: dict[str, str], limits: Limits) -> None:
    """Write the limits into the v1 files (memory+memsw, CFS quota and shares, pids.max)."""
    memory = limits.memory_bytes()
    if memory is not None and "memory" in dirs:
        _write_memory(dirs["memory"], memory, limits.memsw_bytes())
    quota = limits.cpu_quota_us()
    if quota is not None and "cpu" in dirs:
        write_value(os.path.join(dirs["cpu"], "cpu.cfs_period_us"), CPU_PERIOD_US)
        write_value(os.path.join(dirs["cpu"], "cpu.cfs_quota_us"), quota)
    shares = limits.shares()
    if shares is not None and "cpu" in dirs:
        write_value(os.path.join(dirs["cpu"], "cpu.shares"), shares)
    pids = limits.pids_max()
    if pids is not None and "pids" in dirs:
        write_value(os.path.join(dirs["pids"], "pids.max"), "max" if pids < 0 else pids)


def parse_blkio(text: str | None) -> tuple[int, int]:
    """Sum the Read and Write bytes of a blkio.*io_service_bytes* file over all devices."""
    read = write = 0
    if not text:
        return 0, 0
    for line in text.splitlines():
        parts = line.split()
        if len(parts) != 3:
            continue
        op = parts[1].lower()
        try:
            value = int(parts[2])
        except ValueError:
            continue
        if op == "read":
            read += value
        elif op == "write":
            write += value
    return read, write


def _limit(value: int | None) -> int | None:
    if value is None or value >= UNLIMITED_THRESHOLD:
        return None
    return value


def stats(dirs: dict[str, str]) -> CgroupStats:
    """Read the counters Docker shows from the v1 hierarchies."""
    st = CgroupStats()
    cpuacct = dirs.get("cpuacct")
    if cpuacct:
        st.cpu_usage_ns = read_int(os.path.join(cpuacct, "cpuacct.usage")) or 0
    memory = dirs.get("memory")
    if memory:
        st.memory_usage = read_int(os.path.join(memory, "memory.usage_in_bytes")) or 0
        st.memory_limit = _limit(read_int(os.path.join(memory, "memory.limit_in_bytes")))
        mstat = parse_keyed(read_text(os.path.join(memory, "memory.stat")))
        st.memory_inactive_file = mstat.get("total_inactive_file", mstat.get("inactive_file", 0))
    pids = dirs.get("pids")
    if pids:
        st.pids_current = read_int(os.path.join(pids, "pids.current")) or 0
        st.pids_limit = read_int(os.path.join(pids, "pids.max"))
    blkio = dirs.get("blkio")
    if blkio:
        text = read_text(os.path.join(blkio, "blkio.throttle.io_service_bytes_recursive"))
        if text is None:
            text = read_text(os.path.join(blkio, "blkio.throttle.io_service_bytes"))
        st.block_read, st.block_write = parse_blkio(text)
    return st


def oom_kill_count(dirs: dict[str, str]) -> int:
    """How many processes the kernel's OOM killer killed in the memory cgroup (memory.oom_control)."""
    memory = dirs.get("memory")
    if not memory:
        return 0
    return parse_keyed(read_text(os.path.join(memory, "memory.oom_control"))).get("oom_kill", 0)


def _freezer_state(freezer_dir: str) -> str:
    return (read_text(os.path.join(freezer_dir, "freezer.state")) or "").strip()


def freeze(freezer_dir: str, timeout: float) -> None:
    """Freeze every task and wait until the kernel reports FROZEN (not just FREEZING)."""
    state_file = os.path.join(freezer_dir, "freezer.state")

    def frozen() -> bool:
        state = _freezer_state(freezer_dir)
        if state == "FREEZING":
            # A task that was busy in the kernel can stall freezing; asking again re-kicks it.
            write_value(state_file, "FROZEN")
        return state == "FROZEN"

    write_value(state_file, "FROZEN")
    poll_until(frozen, timeout, f"the processes in {freezer_dir} to freeze")


def thaw(freezer_dir: str, timeout: float) -> None:
    """Thaw every task and wait until the kernel reports THAWED."""
    write_value(os.path.join(freezer_dir, "freezer.state"), "THAWED")
    poll_until(lambda: _freezer_state(freezer_dir) in ("THAWED", ""), timeout, f"{freezer_dir} to thaw")


def is_thawed(freezer_dir: str) -> bool:
    """True when the freezer reports THAWED (or the cgroup is gone)."""
    return _freezer_state(freezer_dir) in ("THAWED", "")


def is_frozen(freezer_dir: str) -> bool:
    """True when the freezer reports FROZEN."""
    return _freezer_state(freezer_dir) == "FROZEN"


class V1Manager:
    """The cgroup manager of a v1 (or hybrid) machine: ``dirs`` maps each controller to the container's
    directory in its hierarchy."""

    join_file = "tasks"  # a thread moving itself skips the kernel's global migration lock (see join_files)

    def __init__(self, dirs: dict[str, str]) -> None:
        self.dirs = dirs

    def required_controllers(self, limits: Limits) -> dict[str, str]:
        return required_controllers(limits)

    def missing_controllers(self, limits: Limits) -> list[tuple[str, str]]:
        return [(c, what) for c, what in required_controllers(limits).items() if c not in self.dirs]

    def apply(self, limits: Limits) -> None:
        apply_limits(self.dirs, limits)

    def _freezer(self) -> str:
        if "freezer" not in self.dirs:
            raise RuntimeFailure("this machine's cgroups have no freezer: cannot pause containers")
        return self.dirs["freezer"]

    def freeze(self, timeout: float) -> None:
        freeze(self._freezer(), timeout)

    def thaw(self, timeout: float) -> None:
        thaw(self._freezer(), timeout)

    def is_frozen(self) -> bool:
        return is_frozen(self._freezer())

    def kill(self) -> bool:
        return False  # v1 has no cgroup.kill: the caller signals the processes it lists

    def hold(self) -> None:
        freezer = self.dirs.get("freezer")
        if freezer and os.path.isdir(freezer):
            try:
                freeze(freezer, 0.5)
            except RuntimeFailure:
                pass

    def release(self) -> None:
        freezer = self.dirs.get("freezer")
        if freezer and os.path.isdir(freezer) and not is_thawed(freezer):
            thaw(freezer, 1.0)

    def stats(self) -> CgroupStats:
        return stats(self.dirs)

    def oom_kill_count(self) -> int:
        return oom_kill_count(self.dirs) if "memory" in self.dirs else 0
