"""What a container asks of its cgroup, in Docker's terms, and the values the kernel's files take for it.

``Limits`` holds the resource flags of ``docker run`` and ``docker update`` (--memory, --memory-swap, --cpus,
--cpu-shares, --pids-limit), validates them with Docker's rules and wording, and translates each one into
controller values: the same on both versions where the files agree (memory limit, CFS quota, pids.max), v1's
(memory plus swap, cpu.shares) and v2's (swap alone, cpu.weight) where they differ. ``required_controllers``
names the controller each requested limit needs, for both versions.
"""

from __future__ import annotations

import os

from engine.errors import InvalidArgument
from engine.lean.record import record

#: Docker's smallest memory limit (linuxMinMemory): 6 MiB.
MIN_MEMORY = 6 * 1024 * 1024
#: CFS period dockyard uses for ``--cpus`` (as Docker, runc and crun do).
CPU_PERIOD_US = 100_000
#: The largest number Docker's limits take (Go's int64).
MAX_INT64 = (1 << 63) - 1
#: Bounds of cpu.shares in the kernel (v1) and in Docker.
MIN_CPU_SHARES = 2
MAX_CPU_SHARES = 262_144


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
    """

    memory: int | None = None
    memory_swap: int | None = None
    cpus: float | None = None
    cpu_shares: int | None = None
    pids: int | None = None

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

    @property
    def empty(self) -> bool:
        """True when no field asks for anything."""
        return not (self.memory or self.memory_swap or self.cpus or self.cpu_shares or self.pids)

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
    return need
