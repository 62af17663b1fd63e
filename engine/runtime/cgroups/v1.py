"""cgroup v1: one directory per controller hierarchy; ``V1Manager`` and the v1 file syntax it writes and reads.

A container gets a directory in each hierarchy that carries one of ``V1_CONTROLLERS``; ``dirs`` maps each of
those controllers to it (several names map to one directory when controllers are co-mounted, as "cpu,cpuacct"
often is). A new process joins through each directory's ``tasks`` file. Hybrid machines are v1 machines here:
their controller-less cgroup2 tree is left alone.
"""

from __future__ import annotations

import errno
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
from engine.runtime.cgroups.detect import V1_CONTROLLERS, CgroupSystem
from engine.runtime.cgroups.manager import CgroupStats, Manager, make_level
from engine.runtime.cgroups.parent import CgroupParent
from engine.runtime.cgroups.resources import Limits, required_controllers

#: v1 reports "no limit" as a huge number (PAGE_COUNTER_MAX pages); anything from here on means unlimited.
UNLIMITED_THRESHOLD = 1 << 62


class V1Manager(Manager):
    """A container's cgroup on a v1 (or hybrid) machine: a directory in each controller hierarchy."""

    #: A thread moving itself through ``tasks`` does not take the kernel's global migration lock, whose first
    #: use after a quiet spell waits for an RCU grace period (5-20 ms); cgroup.procs would.
    join_file = "tasks"

    @classmethod
    def locate(cls, container_id: str, parent: CgroupParent, system: CgroupSystem) -> V1Manager:
        dirs: dict[str, str] = {}
        path = ""
        for name in V1_CONTROLLERS:
            h = system.hierarchy(name)
            if h is not None:
                leaf = posixpath.join(parent.path(h), container_id)
                dirs[name] = h.dir_for(leaf)
                if name == "memory" or not path:
                    path = leaf
        return cls(container_id, system.mode, dirs, path)

    def _make(self, limits: Limits, parent: CgroupParent, system: CgroupSystem, created: list[str]) -> None:
        for controller, what in required_controllers(limits).items():
            if system.hierarchy(controller) is None:
                raise RuntimeFailure(
                    f'cannot apply the {what}: the cgroup controller "{controller}" is not mounted'
                )
        for h in system.v1_hierarchies():
            levels = parent.levels(h, posixpath.join(parent.path(h), self.container_id))
            for level in levels:
                make_level(level, level == levels[-1], created, self.container_id)
            if "cpuset" in h.controllers:
                prepare_cpuset(levels)

    def _missing_controllers(self, limits: Limits) -> list[tuple[str, str]]:
        return [(c, what) for c, what in required_controllers(limits).items() if c not in self.dirs]

    def _write_limits(self, limits: Limits) -> None:
        apply_limits(self.dirs, limits)

    def _freezer(self) -> str:
        if "freezer" not in self.dirs:
            raise RuntimeFailure("this machine's cgroups have no freezer: cannot pause containers")
        return self.dirs["freezer"]

    def freeze(self, timeout: float = 5.0) -> None:
        freeze(self._freezer(), timeout)

    def thaw(self, timeout: float = 5.0) -> None:
        thaw(self._freezer(), timeout)

    def frozen(self) -> bool:
        return is_frozen(self._freezer())

    def _kill_at_once(self) -> bool:
        return False  # no cgroup.kill in v1: the processes are signalled one by one, frozen meanwhile

    def _hold(self) -> None:
        freezer = self.dirs.get("freezer")
        if freezer and os.path.isdir(freezer):
            try:
                freeze(freezer, 0.5)
            except RuntimeFailure:
                pass

    def _release(self) -> None:
        # frozen tasks die only once thawed
        freezer = self.dirs.get("freezer")
        if freezer and os.path.isdir(freezer) and not is_thawed(freezer):
            thaw(freezer, 1.0)

    def stats(self) -> CgroupStats:
        return stats(self.dirs)

    def oom_kill_count(self) -> int:
        return oom_kill_count(self.dirs)

    @staticmethod
    def warm_up_migration(system: CgroupSystem) -> None:
        pass  # a process joining through ``tasks`` never waits for the migration lock


# --- the v1 files ------------------------------------------------------------------------------------------


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
    """memory.limit_in_bytes and memory.memsw.limit_in_bytes in the order the kernel takes them (it keeps
    memory <= memory+swap at every step), as runc orders them: swap first when it is unlimited or above
    the current memory limit, else memory first."""
    limit_file = os.path.join(memory_dir, "memory.limit_in_bytes")
    memsw_file = os.path.join(memory_dir, "memory.memsw.limit_in_bytes")
    has_memsw = memsw is not None and os.path.exists(memsw_file)
    mem_value = memory if memory is not None else -1
    swap_value = memsw if memsw is not None else -1
    current = read_int(limit_file)
    swap_first = has_memsw and (swap_value == -1 or (current is not None and current < swap_value))
    if swap_first:
        write_value(memsw_file, swap_value)
    _write_memory_limit(memory_dir, limit_file, mem_value)
    if has_memsw and not swap_first:
        write_value(memsw_file, swap_value)


def _write_memory_limit(memory_dir: str, limit_file: str, value: int) -> None:
    """Write the memory limit; runc's words when the kernel cannot reclaim the container below it."""
    try:
        write_value(limit_file, value)
    except RuntimeFailure as e:
        if getattr(e.__cause__, "errno", 0) == errno.EBUSY:
            usage = read_int(os.path.join(memory_dir, "memory.usage_in_bytes")) or 0
            peak = read_int(os.path.join(memory_dir, "memory.max_usage_in_bytes")) or 0
            raise RuntimeFailure(
                f"unable to set memory limit to {value} (current usage: {usage}, peak usage: {peak})"
            ) from None
        raise


def apply_limits(dirs: dict[str, str], limits: Limits) -> None:
    """Write the limits into the v1 files (memory+memsw, CFS quota and shares, pids.max)."""
    memory = limits.memory_bytes()
    if memory is not None and "memory" in dirs:
        _write_memory(dirs["memory"], memory, limits.memsw_bytes())
    period, quota = limits.cfs()
    if period is not None and "cpu" in dirs:
        write_value(os.path.join(dirs["cpu"], "cpu.cfs_period_us"), period)
    if quota is not None and "cpu" in dirs:
        write_value(os.path.join(dirs["cpu"], "cpu.cfs_quota_us"), quota)
    shares = limits.shares()
    if shares is not None and "cpu" in dirs:
        write_value(os.path.join(dirs["cpu"], "cpu.shares"), shares)
    pids = limits.pids_max()
    if pids is not None and "pids" in dirs:
        write_value(os.path.join(dirs["pids"], "pids.max"), "max" if pids < 0 else pids)
    apply_more_limits(dirs, limits)


def apply_more_limits(dirs: dict[str, str], limits: Limits) -> None:
    """cpuset.cpus and .mems, the memory soft limit, swappiness and OOM killer, and the blkio weight."""
    cpuset = dirs.get("cpuset")
    if cpuset and limits.cpuset_cpus:
        write_value(os.path.join(cpuset, "cpuset.cpus"), limits.cpuset_cpus)
    if cpuset and limits.cpuset_mems:
        write_value(os.path.join(cpuset, "cpuset.mems"), limits.cpuset_mems)
    memory = dirs.get("memory")
    if memory and limits.memory_reservation:
        write_value(os.path.join(memory, "memory.soft_limit_in_bytes"), limits.memory_reservation)
    if memory and limits.swappiness is not None:
        write_value(os.path.join(memory, "memory.swappiness"), limits.swappiness)
    if memory and limits.oom_kill_disable:
        write_value(os.path.join(memory, "memory.oom_control"), 1)
    blkio = dirs.get("blkio")
    if blkio and limits.blkio_weight:
        for name in ("blkio.weight", "blkio.bfq.weight"):  # the CFQ scheduler's, else BFQ's
            if os.path.exists(os.path.join(blkio, name)):
                write_value(os.path.join(blkio, name), limits.blkio_weight)
                break
    if blkio and limits.blkio_devices:
        apply_device_limits(blkio, limits)
    cpu = dirs.get("cpu")
    if cpu and (limits.cpu_rt_period or limits.cpu_rt_runtime):
        apply_rt(cpu, limits.cpu_rt_period, limits.cpu_rt_runtime)


def apply_device_limits(blkio: str, limits: Limits) -> None:
    """blkio.{bfq.,}weight_device and the blkio.throttle.* files: one ``MAJOR:MINOR VALUE`` line per device
    (the kernel keeps the others)."""
    from engine.runtime.cgroups.resources import device_number

    weight_file = os.path.join(blkio, "blkio.weight_device")
    if not os.path.exists(weight_file):
        weight_file = os.path.join(blkio, "blkio.bfq.weight_device")
    for name, entries in (
        (weight_file, limits.blkio_weight_device),
        ("blkio.throttle.read_bps_device", limits.device_read_bps),
        ("blkio.throttle.write_bps_device", limits.device_write_bps),
        ("blkio.throttle.read_iops_device", limits.device_read_iops),
        ("blkio.throttle.write_iops_device", limits.device_write_iops),
    ):
        for path, value in entries:
            write_device_value(os.path.join(blkio, name), path, device_number(path), value)


def write_device_value(file: str, path: str, number: str, value: int | str) -> None:
    """One device's line; the reason in words when the kernel refuses it (EOPNOTSUPP: the device's I/O
    scheduler keeps no weights per cgroup, only BFQ does)."""
    try:
        write_value(file, f"{number} {value}")
    except RuntimeFailure as e:
        if getattr(e.__cause__, "errno", 0) == errno.EOPNOTSUPP:
            raise RuntimeFailure(
                f"cannot set the block I/O weight of {path}: its I/O scheduler gives no weight per cgroup "
                "(the BFQ scheduler does: /sys/block/DEVICE/queue/scheduler)"
            ) from None
        raise


def apply_rt(cpu_dir: str, period: int | None, runtime: int | None) -> None:
    """cpu.rt_period_us and cpu.rt_runtime_us of the container. The kernel lets a cgroup have no more of
    the real-time budget (runtime / period) than its parent has left for it, and a new cgroup has none: the
    levels above the container that have too little get what their children need, top first (Docker's
    daemon does this with its own --cpu-rt-runtime)."""
    cur_period = read_int(os.path.join(cpu_dir, "cpu.rt_period_us")) or 1_000_000
    period = period or cur_period
    runtime = runtime if runtime is not None else read_int(os.path.join(cpu_dir, "cpu.rt_runtime_us")) or 0
    if runtime > 0:
        _make_rt_room(cpu_dir, runtime / period)
    runtime_file = os.path.join(cpu_dir, "cpu.rt_runtime_us")
    period_file = os.path.join(cpu_dir, "cpu.rt_period_us")
    if period < cur_period:  # keep runtime <= period at every step
        write_value(runtime_file, min(runtime, period) if runtime >= 0 else runtime)
        write_value(period_file, period)
        write_value(runtime_file, runtime)
    else:
        write_value(period_file, period)
        write_value(runtime_file, runtime)


def _rt_share(cgroup_dir: str) -> float:
    runtime = read_int(os.path.join(cgroup_dir, "cpu.rt_runtime_us")) or 0
    period = read_int(os.path.join(cgroup_dir, "cpu.rt_period_us")) or 1_000_000
    return max(runtime, 0) / period


def _make_rt_room(cpu_dir: str, share: float) -> None:
    """Give the levels above ``cpu_dir`` enough real-time budget for its siblings' and ``share``."""
    import math

    parent = os.path.dirname(cpu_dir)
    if not os.path.exists(os.path.join(os.path.dirname(parent), "cpu.rt_runtime_us")):
        return  # the hierarchy's root: its budget is the machine's (sched_rt_runtime_us)
    siblings = [
        os.path.join(parent, n)
        for n in os.listdir(parent)
        if n != os.path.basename(cpu_dir) and os.path.isdir(os.path.join(parent, n))
    ]
    need = share + sum(_rt_share(d) for d in siblings)
    if _rt_share(parent) >= need:
        return
    _make_rt_room(parent, need)
    period = read_int(os.path.join(parent, "cpu.rt_period_us")) or 1_000_000
    write_value(os.path.join(parent, "cpu.rt_runtime_us"), min(period, math.ceil(need * period)))


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
