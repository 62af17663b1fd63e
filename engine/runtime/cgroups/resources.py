"""What a container asks of its cgroup, in Docker's terms, and the values the kernel's files take for it.

``Limits`` holds the resource flags of ``docker run`` and ``docker update`` (--memory, --memory-swap,
--memory-reservation, --memory-swappiness, --oom-kill-disable, --cpus, --cpu-shares, --cpu-period,
--cpu-quota, --cpuset-cpus, --cpuset-mems, --blkio-weight, --pids-limit), validates them with Docker's rules
and wording, and translates each one into controller values: the same on both versions where the files agree
(memory limit, CFS quota, cpuset, pids.max), v1's (memory plus swap, cpu.shares, soft limit, blkio.weight)
and v2's (swap alone, cpu.weight, memory.low, io.weight) where they differ. ``required_controllers`` names
the controller each requested limit needs, for both versions.
"""

from __future__ import annotations

import os

from engine.errors import InvalidArgument
from engine.lean.record import record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: Docker's smallest memory limit (linuxMinMemory): 6 MiB.
MIN_MEMORY = 6 * 1024 * 1024
#: CFS period dockyard uses for ``--cpus`` (as Docker, runc and crun do).
CPU_PERIOD_US = 100_000
#: The largest number Docker's limits take (Go's int64).
MAX_INT64 = (1 << 63) - 1
#: Bounds of cpu.shares in the kernel (v1) and in Docker.
MIN_CPU_SHARES = 2
MAX_CPU_SHARES = 262_144
#: Bounds of the CFS period (--cpu-period) and the smallest quota, in microseconds, as Docker checks them.
MIN_CFS_PERIOD_US = 1000
MAX_CFS_PERIOD_US = 1_000_000
#: Bounds of --blkio-weight (0: not set).
MIN_BLKIO_WEIGHT = 10
MAX_BLKIO_WEIGHT = 1000


def parse_cpu_list(text: str, what: str = "cpus") -> set[int]:
    """A cpuset list (``0-2,5``) as Docker reads it; InvalidArgument in its words (``Invalid value 0-x for
    cpuset cpus: invalid format: 0-x``)."""
    out: set[int] = set()
    bad = InvalidArgument(f"Invalid value {text} for cpuset {what}: invalid format: {text}")
    if not text:
        return out
    for part in text.split(","):
        low, dash, high = part.partition("-")
        for n in (low, high) if dash else (low,):
            if not (n.isascii() and n.isdigit()) or len(n) > 9:
                raise bad
        first, last = int(low), int(high) if dash else int(low)
        if last < first:
            raise bad
        out.update(range(first, last + 1))
    return out


def online_cpus() -> int:
    """The CPUs this process may run on (what Docker calls NumCPU)."""
    try:
        return len(os.sched_getaffinity(0))
    except OSError:
        return os.cpu_count() or 1


@record(frozen=True)
class Limits:
    """A container's resource limits, with Docker's meaning for each field.

    ``memory``: bytes, None or 0 for no limit. ``memory_swap``: memory plus swap in bytes, -1 for unlimited
    swap; None or 0 means "as much swap as memory" (Docker's default: memory + swap = 2 x memory).
    ``cpus``: number of CPUs (a CFS quota over a 100 ms period). ``cpu_shares``: relative weight (default
    1024, clamped to 2..262144). ``pids``: most processes at once; None, 0 or -1 for no limit.
    ``cpu_period``/``cpu_quota``: the CFS period and quota in microseconds (quota -1: none), not with
    ``cpus``. ``cpuset_cpus``/``cpuset_mems``: lists (``0-1,3``) of CPUs and memory nodes.
    ``memory_reservation``: the soft limit in bytes. ``oom_kill_disable``: True keeps the OOM killer off the
    container (v1). ``blkio_weight``: 10..1000. ``swappiness``: 0..100 (v1).
    """

    memory: int | None = None
    memory_swap: int | None = None
    cpus: float | None = None
    cpu_shares: int | None = None
    pids: int | None = None
    cpu_period: int | None = None
    cpu_quota: int | None = None
    cpuset_cpus: str = ""
    cpuset_mems: str = ""
    memory_reservation: int | None = None
    oom_kill_disable: bool | None = None
    blkio_weight: int | None = None
    swappiness: int | None = None
    # per-device block I/O: ((path, weight or rate), ...) as given (the device numbers are read when written)
    blkio_weight_device: tuple[tuple[str, int], ...] = ()
    device_read_bps: tuple[tuple[str, int], ...] = ()
    device_write_bps: tuple[tuple[str, int], ...] = ()
    device_read_iops: tuple[tuple[str, int], ...] = ()
    device_write_iops: tuple[tuple[str, int], ...] = ()
    # real-time scheduling budget in microseconds (cgroup v1 with RT group scheduling only)
    cpu_rt_period: int | None = None
    cpu_rt_runtime: int | None = None

    @classmethod
    def of(cls, cfg: Any) -> Limits:
        """The limits a container's stored config asks for (a ContainerConfig, or anything with its fields;
        records written before a field existed read as not asking for it)."""

        def get(name: str) -> Any:
            return getattr(cfg, name, None)

        return cls(
            memory=get("memory"),
            memory_swap=get("memory_swap"),
            cpus=get("cpus"),
            cpu_shares=get("cpu_shares"),
            pids=get("pids_limit"),
            cpu_period=get("cpu_period"),
            cpu_quota=get("cpu_quota"),
            cpuset_cpus=get("cpuset_cpus") or "",
            cpuset_mems=get("cpuset_mems") or "",
            memory_reservation=get("memory_reservation"),
            oom_kill_disable=get("oom_kill_disable"),
            blkio_weight=get("blkio_weight"),
            swappiness=get("memory_swappiness"),
            blkio_weight_device=_devices(get("blkio_weight_device"), "Weight"),
            device_read_bps=_devices(get("blkio_device_read_bps"), "Rate"),
            device_write_bps=_devices(get("blkio_device_write_bps"), "Rate"),
            device_read_iops=_devices(get("blkio_device_read_iops"), "Rate"),
            device_write_iops=_devices(get("blkio_device_write_iops"), "Rate"),
            cpu_rt_period=get("cpu_rt_period"),
            cpu_rt_runtime=get("cpu_rt_runtime"),
        )

    def validate(self) -> None:
        """Raise InvalidArgument, with Docker's message where Docker has one, if a limit is impossible."""
        for what, value in (("memory", self.memory), ("memory-swap", self.memory_swap), ("pids", self.pids)):
            if value is not None and value > MAX_INT64:
                raise InvalidArgument(f"invalid {what} limit {value}: more than {MAX_INT64}")
        if self.cpu_shares is not None and self.cpu_shares > MAX_INT64:
            raise InvalidArgument(f"invalid cpu-shares {self.cpu_shares}: more than {MAX_INT64}")
        memory = self.memory or 0
        if memory < 0:
            raise InvalidArgument(f"invalid memory limit {memory}: it must be a positive number of bytes")
        if 0 < memory < MIN_MEMORY:
            raise InvalidArgument("Minimum memory limit allowed is 6MB")
        swap = self.memory_swap or 0
        if swap < -1:
            raise InvalidArgument(f"invalid memory-swap limit {swap}: use -1 for unlimited swap")
        if swap != 0 and memory == 0:
            raise InvalidArgument(
                "You should always set the Memory limit when using Memoryswap limit, see usage"
            )
        if swap > 0 and swap < memory:
            raise InvalidArgument("Minimum memoryswap limit should be larger than memory limit, see usage")
        if self.cpus is not None and self.cpus != 0:
            ncpu = online_cpus()
            if not 0.01 <= self.cpus <= ncpu:  # NaN too
                raise InvalidArgument(
                    f"Range of CPUs is from 0.01 to {ncpu}.00, as there are only {ncpu} CPUs available"
                )
        if self.cpu_shares is not None and self.cpu_shares < 0:
            raise InvalidArgument(f"invalid cpu-shares {self.cpu_shares}: it must not be negative")
        if self.pids is not None and self.pids < -1:
            raise InvalidArgument(f"invalid pids-limit {self.pids}: use -1 or 0 for no limit")
        self._validate_more(memory)

    def _validate_more(self, memory: int) -> None:
        """The checks of the flags added after the first five, in Docker's order and words."""
        for what, value in (
            ("memory-reservation", self.memory_reservation),
            ("cpu-period", self.cpu_period),
            ("cpu-quota", self.cpu_quota),
        ):
            if value is not None and abs(value) > MAX_INT64:
                raise InvalidArgument(f"invalid {what} {value}: more than {MAX_INT64}")
        if self.swappiness is not None and not 0 <= self.swappiness <= 100:
            raise InvalidArgument(f"Invalid value: {self.swappiness}, valid memory swappiness range is 0-100")
        reservation = self.memory_reservation or 0
        if reservation < 0:
            raise InvalidArgument(
                f"invalid memory reservation {reservation}: it must be a positive number of bytes"
            )
        if 0 < reservation < MIN_MEMORY:
            raise InvalidArgument("Minimum memory reservation allowed is 6MB")
        if memory > 0 and reservation > 0 and memory < reservation:
            raise InvalidArgument(
                "Minimum memory limit can not be less than memory reservation limit, see usage"
            )
        if self.cpus and self.cpu_period:
            raise InvalidArgument("Conflicting options: Nano CPUs and CPU Period cannot both be set")
        if self.cpus and self.cpu_quota and self.cpu_quota > 0:
            raise InvalidArgument("Conflicting options: Nano CPUs and CPU Quota cannot both be set")
        period = self.cpu_period or 0
        if period != 0 and not MIN_CFS_PERIOD_US <= period <= MAX_CFS_PERIOD_US:
            raise InvalidArgument(
                "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)"
            )
        quota = self.cpu_quota or 0
        if 0 < quota < MIN_CFS_PERIOD_US:
            raise InvalidArgument("CPU cfs quota can not be less than 1ms (i.e. 1000)")
        if quota < -1:
            raise InvalidArgument(f"invalid cpu-quota {quota}: use -1 for no quota")
        weight = self.blkio_weight or 0
        if weight != 0 and not MIN_BLKIO_WEIGHT <= weight <= MAX_BLKIO_WEIGHT:
            raise InvalidArgument("Range of blkio weight is from 10 to 1000")
        parse_cpu_list(self.cpuset_cpus, "cpus")
        parse_cpu_list(self.cpuset_mems, "mems")
        rt_period, rt_runtime = self.cpu_rt_period or 0, self.cpu_rt_runtime or 0
        if rt_period < 0 or rt_runtime < -1:
            raise InvalidArgument("invalid cpu-rt-period or cpu-rt-runtime: it must not be negative")
        if rt_runtime > (rt_period or 1_000_000):  # the kernel's default period: 1 s
            raise InvalidArgument("cpu-rt-runtime cannot be higher than cpu-rt-period")

    @property
    def empty(self) -> bool:
        """True when no field asks for anything."""
        return not (
            self.memory
            or self.memory_swap
            or self.cpus
            or self.cpu_shares
            or self.pids
            or self.cpu_period
            or self.cpu_quota
            or self.cpuset_cpus
            or self.cpuset_mems
            or self.memory_reservation
            or self.oom_kill_disable
            or self.blkio_weight
            or self.swappiness is not None
            or self.blkio_devices
            or self.cpu_rt_period
            or self.cpu_rt_runtime
        )

    @property
    def blkio_devices(self) -> bool:
        """True when a per-device weight or throttle is asked for."""
        return bool(
            self.blkio_weight_device
            or self.device_read_bps
            or self.device_write_bps
            or self.device_read_iops
            or self.device_write_iops
        )

    # --- controller values --------------------------------------------------------------------------------

    def memory_bytes(self) -> int | None:
        """memory.limit_in_bytes / memory.max, or None to leave it unlimited."""
        return self.memory or None

    def memsw_bytes(self) -> int | None:
        """v1 memory.memsw.limit_in_bytes (memory + swap): None to leave alone, -1 for unlimited."""
        if not self.memory:
            return None
        if self.memory_swap == -1:
            return -1
        if self.memory_swap:
            return self.memory_swap
        return 2 * self.memory

    def swap_only_bytes(self) -> int | None:
        """v2 memory.swap.max (swap alone): None to leave alone, -1 for unlimited."""
        total = self.memsw_bytes()
        if total is None or total == -1:
            return total
        assert self.memory
        return total - self.memory

    def cpu_quota_us(self) -> int | None:
        """CFS quota in microseconds per ``CPU_PERIOD_US``, or None for no quota."""
        if not self.cpus:
            return None
        return max(1000, round(self.cpus * CPU_PERIOD_US))

    def cfs(self) -> tuple[int | None, int | None]:
        """(period, quota) in microseconds to write, each None to leave alone; a quota of -1 is "no quota".
        ``cpus`` gives both; else --cpu-period and --cpu-quota as given."""
        quota = self.cpu_quota_us()
        if quota is not None:
            return CPU_PERIOD_US, quota
        return (self.cpu_period or None), (self.cpu_quota or None)

    def blkio_v2_weight(self) -> int | None:
        """io.weight for --blkio-weight (10..1000 -> 1..10000), as runc converts it."""
        if not self.blkio_weight:
            return None
        return 1 + (self.blkio_weight - 10) * 9999 // 990

    def shares(self) -> int | None:
        """cpu.shares clamped to the kernel's range, or None to keep the default (1024)."""
        if not self.cpu_shares:
            return None
        return min(MAX_CPU_SHARES, max(MIN_CPU_SHARES, self.cpu_shares))

    def cpu_weight(self) -> int | None:
        """cgroup v2 cpu.weight for the shares, converted as runc and crun do (2..262144 -> 1..10000)."""
        shares = self.shares()
        if shares is None:
            return None
        return 1 + ((shares - 2) * 9999) // 262_142

    def pids_max(self) -> int | None:
        """pids.max: a positive number, -1 for "max", None to leave alone."""
        if self.pids is None:
            return None
        return self.pids if self.pids > 0 else -1


def required_controllers(limits: Limits) -> dict[str, str]:
    """The controllers the requested limits need (the same names on v1 and v2), each mapped to what the
    limit is called in messages."""
    need: dict[str, str] = {}
    if limits.memory_bytes() is not None:
        need["memory"] = "memory limit"
    if limits.cpu_quota_us() is not None:
        need["cpu"] = "CPU quota (--cpus)"
    if limits.shares() is not None:
        need["cpu"] = "CPU shares"
    if limits.pids_max() is not None:
        need["pids"] = "pids limit"
    if limits.cfs() != (None, None) and "cpu" not in need:
        need["cpu"] = "CPU period/quota"
    if limits.cpuset_cpus or limits.cpuset_mems:
        need["cpuset"] = "cpuset"
    if limits.memory_reservation and "memory" not in need:
        need["memory"] = "memory reservation"
    if (limits.cpu_rt_period or limits.cpu_rt_runtime) and "cpu" not in need:
        need["cpu"] = "CPU real-time period/runtime"
    return need


def _devices(entries: Any, key: str) -> tuple[tuple[str, int], ...]:
    """Docker's [{"Path": "/dev/sda", "Rate": 1048576}] (or "Weight") as ((path, value), ...)."""
    return tuple((str(e["Path"]), int(e[key])) for e in entries or ())


def device_number(path: str) -> str:
    """``MAJOR:MINOR`` of the block device at ``path``; InvalidArgument when it is none."""
    import stat

    try:
        st = os.stat(path)
    except OSError as e:
        raise InvalidArgument(f"stat {path}: {(e.strerror or str(e)).lower()}") from None
    if not stat.S_ISBLK(st.st_mode):
        raise InvalidArgument(f"{path} is not a block device")
    return f"{os.major(st.st_rdev)}:{os.minor(st.st_rdev)}"
