"""Live resource usage of running containers, computed and formatted as ``docker stats`` shows it.

``sample()`` reads every running container's cgroup counters and network counters in one pass, plus
/proc/stat once per tick. A ``Sampler`` keeps the previous sample and turns two of them into
``StatsRecord``s with Docker's columns; a ``StatsReader`` follows a set of containers (listing them again
when one starts or stops) for ``Containers.stats``: the CLI's ``stats`` and the app's stats feed.

Docker's formulas: CPU % = (delta container CPU ns / delta system CPU ns) x online CPUs x 100, where the
system figure is the sum of the first seven fields of /proc/stat's ``cpu`` line converted from clock ticks
to ns. Memory usage is usage minus inactive file cache; the limit is the host's memory when the container
has none. Memory sizes are shown in binary units (MiB), network and block I/O in decimal units (kB).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

from engine.errors import DockyardError
from engine.humanize import format_bytes_binary, format_bytes_decimal, format_percent
from engine.lean.record import field, record
from engine.runtime.cgroups import CgroupStats, ContainerCgroup

STATS_COLUMNS: tuple[str, ...] = (
    "CONTAINER ID",
    "NAME",
    "CPU %",
    "MEM USAGE / LIMIT",
    "MEM %",
    "NET I/O",
    "BLOCK I/O",
    "PIDS",
)

_CLK_TCK = os.sysconf("SC_CLK_TCK")


class Target(NamedTuple):
    """A running container to sample: its id, name, PID 1 on the host, and cgroup."""

    id: str
    name: str
    pid: int
    cgroup: ContainerCgroup


@record(frozen=True)
class ContainerSample:
    """The raw counters of one container at one instant."""

    id: str
    name: str
    pid: int
    cgroup: CgroupStats
    net_rx: int
    net_tx: int


@record(frozen=True)
class Sample:
    """One sampling pass: host figures read once, and every container's counters."""

    time: float
    system_cpu_ns: int
    online_cpus: int
    host_memory: int
    containers: dict[str, ContainerSample] = field(default_factory=dict)


@record(frozen=True)
class StatsRecord:
    """One row of ``docker stats``, as numbers (``display()`` gives the strings)."""

    id: str
    name: str
    cpu_percent: float
    memory_usage: int
    memory_limit: int
    memory_percent: float
    net_rx: int
    net_tx: int
    block_read: int
    block_write: int
    pids: int

    @staticmethod
    def idle(cid: str, name: str) -> StatsRecord:
        """The row of a container that is not running (``stats -a``, or one named): all zeros, as Docker
        shows it."""
        return StatsRecord(cid, name, 0.0, 0, 0, 0.0, 0, 0, 0, 0, 0)

    def display(self) -> tuple[str, ...]:
        """The row in ``STATS_COLUMNS`` order, formatted exactly as Docker's CLI formats it."""
        return (
            self.id[:12],
            self.name,
            format_percent(self.cpu_percent),
            f"{format_bytes_binary(self.memory_usage)} / {format_bytes_binary(self.memory_limit)}",
            format_percent(self.memory_percent),
            f"{format_bytes_decimal(self.net_rx)} / {format_bytes_decimal(self.net_tx)}",
            f"{format_bytes_decimal(self.block_read)} / {format_bytes_decimal(self.block_write)}",
            str(self.pids),
        )


# --- host figures -----------------------------------------------------------------------------------------


def system_cpu_ns(proc_stat: str | None = None) -> int:
    """Total CPU time of the host: first seven fields of /proc/stat's ``cpu`` line, in nanoseconds."""
    if proc_stat is None:
        with open("/proc/stat", "rb") as f:
            first = f.readline().decode()
    else:
        first = proc_stat.split("\n", 1)[0]
    fields = first.split()
    if not fields or fields[0] != "cpu":
        return 0
    ticks = sum(int(v) for v in fields[1:8])
    return ticks * 1_000_000_000 // _CLK_TCK


def host_memory() -> int:
    """The host's total memory in bytes (MemTotal)."""
    with open("/proc/meminfo", "rb") as f:
        for line in f:
            if line.startswith(b"MemTotal:"):
                return int(line.split()[1]) * 1024
    return 0


def online_cpus() -> int:
    """Online CPUs, as Docker counts them for the CPU % formula."""
    try:
        return int(os.sysconf("SC_NPROCESSORS_ONLN"))
    except (ValueError, OSError):
        return os.cpu_count() or 1


def parse_net_dev(text: str) -> tuple[int, int]:
    """Sum received and transmitted bytes of /proc/<pid>/net/dev over every interface except ``lo``."""
    rx = tx = 0
    for line in text.splitlines()[2:]:
        name, sep, rest = line.partition(":")
        if not sep or name.strip() == "lo":
            continue
        fields = rest.split()
        if len(fields) >= 9:
            rx += int(fields[0])
            tx += int(fields[8])
    return rx, tx


_OWN_NETNS: int | None = None


def _own_netns() -> int:
    global _OWN_NETNS
    if _OWN_NETNS is None:
        _OWN_NETNS = os.stat("/proc/self/ns/net").st_ino
    return _OWN_NETNS


def net_io(pid: int) -> tuple[int, int]:
    """The container's own network traffic (its namespace, without loopback); 0/0 on the host's network."""
    try:
        if os.stat(f"/proc/{pid}/ns/net").st_ino == _own_netns():
            return 0, 0
        with open(f"/proc/{pid}/net/dev", "rb") as f:
            return parse_net_dev(f.read().decode("ascii", "replace"))
    except OSError:
        return 0, 0


# --- sampling ---------------------------------------------------------------------------------------------

_HOST_MEMORY: int | None = None


def sample(containers: Iterable[tuple[str, str, int, ContainerCgroup]]) -> Sample:
    """Read every container's counters in one pass (a container whose cgroup is already gone reads as zeros)."""
    global _HOST_MEMORY
    if _HOST_MEMORY is None:
        _HOST_MEMORY = host_memory()
    now = time.monotonic()
    out: dict[str, ContainerSample] = {}
    system = system_cpu_ns()
    for cid, name, pid, cgroup in containers:
        try:
            stats = cgroup.stats()
        except DockyardError:
            continue
        rx, tx = net_io(pid)
        out[cid] = ContainerSample(cid, name, pid, stats, rx, tx)
    return Sample(now, system, online_cpus(), _HOST_MEMORY, out)


def cpu_percent(
    prev_container_ns: int, container_ns: int, prev_system_ns: int, system_ns: int, cpus: int
) -> float:
    """Docker's CPU %: the container's share of all CPU time in the interval, times the online CPUs."""
    cpu_delta = container_ns - prev_container_ns
    system_delta = system_ns - prev_system_ns
    if cpu_delta <= 0 or system_delta <= 0:
        return 0.0
    return cpu_delta / system_delta * cpus * 100.0


def stats_row(current: Sample, entry: ContainerSample, previous: Sample | None) -> StatsRecord:
    """One ``docker stats`` row from a container's counters and the previous sample (if any)."""
    cg = entry.cgroup
    cpu = 0.0
    if previous is not None:
        before = previous.containers.get(entry.id)
        if before is not None:
            cpu = cpu_percent(
                before.cgroup.cpu_usage_ns,
                cg.cpu_usage_ns,
                previous.system_cpu_ns,
                current.system_cpu_ns,
                current.online_cpus,
            )
    limit = current.host_memory
    if cg.memory_limit is not None and (limit == 0 or cg.memory_limit < limit):
        limit = cg.memory_limit
    usage = cg.memory_working_set
    mem_percent = usage / limit * 100.0 if limit else 0.0
    return StatsRecord(
        id=entry.id,
        name=entry.name,
        cpu_percent=cpu,
        memory_usage=usage,
        memory_limit=limit,
        memory_percent=mem_percent,
        net_rx=entry.net_rx,
        net_tx=entry.net_tx,
        block_read=cg.block_read,
        block_write=cg.block_write,
        pids=cg.pids_current,
    )


def _cpu_stats(entry: ContainerSample | None, at: Sample | None) -> dict[str, Any]:
    return {
        "cpu_usage": {
            "total_usage": entry.cgroup.cpu_usage_ns if entry else 0,
            "usage_in_kernelmode": 0,
            "usage_in_usermode": 0,
        },
        **({"system_cpu_usage": at.system_cpu_ns, "online_cpus": at.online_cpus} if entry and at else {}),
        "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0},
    }


def docker_stats(
    record: StatsRecord,
    entry: ContainerSample,
    current: Sample,
    prev: ContainerSample | None,
    previous: Sample | None,
    read: str,
    preread: str,
) -> dict[str, Any]:
    """A container's stats document as Docker's API has it (the cgroup v2 names, which clients read on
    either version)."""
    cg = entry.cgroup
    doc: dict[str, Any] = {
        "read": read,
        "preread": preread,
        "pids_stats": {"current": cg.pids_current, **({"limit": cg.pids_limit} if cg.pids_limit else {})},
        "blkio_stats": {
            "io_service_bytes_recursive": [
                {"major": 0, "minor": 0, "op": "read", "value": cg.block_read},
                {"major": 0, "minor": 0, "op": "write", "value": cg.block_write},
            ],
        },
        "num_procs": 0,
        "storage_stats": {},
        "cpu_stats": _cpu_stats(entry, current),
        "precpu_stats": _cpu_stats(prev, previous),
        "memory_stats": {
            "usage": cg.memory_usage,
            "stats": {"inactive_file": cg.memory_inactive_file},
            "limit": record.memory_limit,
        },
        "name": "/" + record.name,
        "id": record.id,
    }
    if entry.net_rx or entry.net_tx:
        doc["networks"] = {"eth0": {"rx_bytes": entry.net_rx, "rx_packets": 0, "rx_errors": 0, "rx_dropped": 0,
                                    "tx_bytes": entry.net_tx, "tx_packets": 0, "tx_errors": 0, "tx_dropped": 0}}  # fmt: skip
    return doc


def idle_stats(cid: str, name: str) -> dict[str, Any]:
    """The stats document of a container that is not running: zeros, as Docker sends it."""
    zero = "0001-01-01T00:00:00Z"
    return {
        "read": zero, "preread": zero, "pids_stats": {}, "blkio_stats": {}, "num_procs": 0, "storage_stats": {},
        "cpu_stats": _cpu_stats(None, None), "precpu_stats": _cpu_stats(None, None), "memory_stats": {},
        "name": "/" + name, "id": cid,
    }  # fmt: skip


class Sampler:
    """Keeps the previous sample so each ``update`` can report CPU % over the interval since the last."""

    def __init__(self) -> None:
        self.previous: Sample | None = None

    def update(self, containers: Iterable[tuple[str, str, int, ContainerCgroup]]) -> list[StatsRecord]:
        """Sample now and return one record per container, in the order given (CPU % is 0 the first time)."""
        current = sample(containers)
        records = [stats_row(current, entry, self.previous) for entry in current.containers.values()]
        self.previous = current
        return records


class StatsReader:
    """``docker stats`` for a set of containers: each :meth:`sample` is one pass over their cgroups, with
    CPU % over the time since the previous pass (0 on the first). The containers are listed again when
    :meth:`refresh` was called or when one of them stopped (a stopped one is left out at once: its PID 1 is
    gone, though its cgroup may still read as zeros); ``source`` lists them (id, name, pid, cgroup)."""

    def __init__(self, source: Callable[[], Iterable[tuple[str, str, int, ContainerCgroup]]]) -> None:
        self.source = source
        self.sampler = Sampler()
        self.targets: list[tuple[str, str, int, ContainerCgroup]] | None = None
        self.listed = 0  # containers found by the last listing
        self.read_wall = 0.0  # when the last pass read, on the wall clock (for ``documents``)

    def refresh(self) -> None:
        """List the containers again at the next sample (one may have started)."""
        self.targets = None

    def sample(self) -> list[StatsRecord]:
        if self.targets is None:
            self.targets = list(self.source())
            self.listed = len(self.targets)
            if not self.targets:
                self.sampler = Sampler()  # nothing to compare with when containers come back
        try:
            records = self.sampler.update(self.targets)
        except (DockyardError, OSError):
            records = []
            self.targets = None
        if self.targets is not None:
            gone = {t[0] for t in self.targets if not _alive(t[2])}
            if gone:
                records = [r for r in records if r.id not in gone]
            if gone or len(records) < len(self.targets):
                self.targets = None  # one of them stopped: list them again next time
        return records

    def documents(self) -> list[dict[str, Any]]:
        """One pass as Docker's stats API sends it (``GET /containers/{id}/stats``): per container, this
        pass's raw counters (``cpu_stats``, ``memory_stats``...) and the previous pass's CPU counters
        (``precpu_stats``), from which a client computes the figures ``docker stats`` shows."""
        from .humanize import rfc3339

        before, before_wall = self.sampler.previous, self.read_wall
        records = self.sample()
        current, self.read_wall = self.sampler.previous, time.time()
        if current is None:
            return []
        out = []
        for r in records:
            entry = current.containers.get(r.id)
            if entry is None:
                continue
            prev = before.containers.get(r.id) if before is not None else None
            out.append(
                docker_stats(
                    r,
                    entry,
                    current,
                    prev,
                    before,
                    rfc3339(self.read_wall),
                    rfc3339(before_wall) if prev is not None and before_wall else "0001-01-01T00:00:00Z",
                )  # fmt: skip
            )
        return out

    @staticmethod
    def idle_document(cid: str, name: str) -> dict[str, Any]:
        """The stats document of a container that is not running (zeros), as Docker's API sends it."""
        return idle_stats(cid, name)

    def running(self) -> bool:
        """Whether the last listing found any container to sample."""
        return self.listed > 0

    def stream(self, interval: float = 1.0, first: float | None = None) -> Iterator[list[StatsRecord]]:
        """A list of records every ``interval`` seconds, for ever; the first after ``first`` seconds
        (default ``interval``), once the CPU % has something to compare with. The containers are listed on
        every tick, as ``docker stats`` follows containers that start and stop."""
        self.sample()
        deadline = time.monotonic()
        step = interval if first is None else first
        while True:
            deadline += step
            step = interval
            delay = deadline - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:
                deadline = time.monotonic()
            self.refresh()
            yield self.sample()


def _alive(pid: int) -> bool:
    """Whether the process ``pid`` (a container's PID 1 on the host) still exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
