"""What both cgroup versions share: the limits a container asks for, the statistics read back, file I/O.

``Limits`` validates a container's resource request with Docker's rules and wording, and converts it to
the values the kernel files take (v1 and v2 alike). ``CgroupStats`` is one reading of a container's
counters. The small read/write helpers turn kernel errors into ``RuntimeFailure``s that name the file.
"""

from __future__ import annotations

import errno
import os
import time

from engine.errors import InvalidArgument, RuntimeFailure
from engine.lean.record import record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

#: Docker's smallest memory limit (linuxMinMemory): 6 MiB.
MIN_MEMORY = 6 * 1024 * 1024
#: CFS period dockyard uses for ``--cpus`` (as Docker, runc and crun do).
CPU_PERIOD_US = 100_000
#: Bounds of cpu.shares in the kernel (v1) and in Docker.
MIN_CPU_SHARES = 2
MAX_CPU_SHARES = 262_144
#: v1 reports "no limit" as a huge number (PAGE_COUNTER_MAX pages); anything from here on means unlimited.
UNLIMITED_THRESHOLD = 1 << 62


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
            if not 0.01 <= self.cpus <= ncpu:
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


# --- file helpers ------------------------------------------------------------------------------------------

_GONE = (errno.ENOENT, errno.ENODEV, errno.ESRCH)


def read_text(path: str) -> str | None:
    """The file's content, or None if it (or its cgroup) does not exist."""
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError as e:
        if e.errno in _GONE:
            return None
        raise RuntimeFailure(f"cannot read {path}: {e.strerror}") from e


def read_int(path: str) -> int | None:
    """An integer file; None if missing or "max" (unlimited)."""
    text = read_text(path)
    if text is None:
        return None
    text = text.strip()
    if not text or text == "max":
        return None
    try:
        return int(text)
    except ValueError:
        return None


def write_value(path: str, value: str | int) -> None:
    """Write one value to a cgroup file; RuntimeFailure naming the file and value when the kernel refuses."""
    data = str(value).encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    except OSError as e:
        raise RuntimeFailure(f"cannot open cgroup file {path}: {e.strerror}") from e
    try:
        os.write(fd, data)
    except OSError as e:
        raise RuntimeFailure(f"cannot write {str(value)!r} to {path}: {e.strerror}") from e
    finally:
        os.close(fd)


def parse_keyed(text: str | None) -> dict[str, int]:
    """Parse "key value" lines (memory.stat, cpu.stat, memory.events, memory.oom_control)."""
    out: dict[str, int] = {}
    if not text:
        return out
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2:
            try:
                out[parts[0]] = int(parts[1])
            except ValueError:
                continue
    return out


def read_pids(path: str) -> list[int]:
    """The pids listed in a cgroup.procs file (empty if the cgroup is gone)."""
    text = read_text(path)
    if not text:
        return []
    return [int(p) for p in text.split()]


def wait_for(done: Callable[[], bool], timeout: float) -> bool:
    """Wait for ``done()`` with short, growing sleeps; False if ``timeout`` passed first."""
    deadline = time.monotonic() + timeout
    delay = 0.0005
    while not done():
        if time.monotonic() >= deadline:
            return False
        time.sleep(delay)
        delay = min(delay * 2, 0.02)
    return True


def poll_until(done: Callable[[], bool], timeout: float, what: str) -> None:
    """Like ``wait_for``, but a RuntimeFailure naming ``what`` after ``timeout``."""
    if not wait_for(done, timeout):
        raise RuntimeFailure(f"timed out after {timeout:g}s waiting for {what}")


def remove_dir(path: str) -> bool:
    """rmdir a cgroup directory, retrying briefly while the kernel still reports it busy.

    Returns False if it was already gone.
    """
    for attempt in range(50):
        try:
            os.rmdir(path)
            return True
        except FileNotFoundError:
            return False
        except OSError as e:
            if e.errno != errno.EBUSY or attempt == 49:
                raise RuntimeFailure(f"cannot remove cgroup {path}: {e.strerror}") from e
            time.sleep(0.002)
    return False


def make_dir(path: str) -> bool:
    """Create one cgroup directory; False if it already existed."""
    try:
        os.mkdir(path, 0o755)
        return True
    except FileExistsError:
        return False
    except OSError as e:
        raise RuntimeFailure(f"cannot create cgroup {path}: {e.strerror}") from e
