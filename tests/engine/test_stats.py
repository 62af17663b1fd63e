"""docker stats figures: formatting, formulas, and live samples of real cgroups and network namespaces."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import pytest

from engine.errors import RuntimeFailure
from engine.humanize import format_bytes_binary, format_bytes_decimal, format_percent
from engine.runtime.cgroups import CgroupStats, ContainerCgroup, detect, remove_leftovers, remove_parent
from engine.stats import (
    STATS_COLUMNS,
    ContainerSample,
    Sample,
    Sampler,
    StatsReader,
    StatsRecord,
    Target,
    cpu_percent,
    host_memory,
    net_io,
    parse_net_dev,
    sample,
    stats_row,
    system_cpu_ns,
)

MiB = 1024 * 1024


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0B"),
        (1023, "1023B"),
        (1024, "1KiB"),
        (1536 * 1024, "1.5MiB"),
        (int(15.55 * 1024**3), "15.55GiB"),
        (1621540 * 1024, "1.546GiB"),
        (100 * MiB, "100MiB"),
    ],
)
def test_binary_sizes_as_docker_prints_memory(size: int, text: str) -> None:
    assert format_bytes_binary(size) == text


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0B"),
        (648, "648B"),
        (1200, "1.2kB"),
        (1234, "1.23kB"),
        (3_456_789, "3.46MB"),
        (999_999, "1e+03kB"),  # Go's %.3g, as docker stats prints it
        (2_000_000_000, "2GB"),
    ],
)
def test_decimal_sizes_as_docker_prints_io(size: int, text: str) -> None:
    assert format_bytes_decimal(size) == text


def test_percent() -> None:
    assert format_percent(0) == "0.00%"
    assert format_percent(12.346) == "12.35%"
    assert format_percent(250) == "250.00%"


def test_system_cpu_is_the_first_seven_fields_in_ns() -> None:
    text = "cpu  100 5 50 1000 10 1 4 7 0 0\ncpu0 50 2 25 500 5 0 2 3 0 0\n"
    tck = os.sysconf("SC_CLK_TCK")
    assert system_cpu_ns(text) == (100 + 5 + 50 + 1000 + 10 + 1 + 4) * 1_000_000_000 // tck
    assert system_cpu_ns() > 0


def test_cpu_percent_formula() -> None:
    # 0.5 s of container CPU over 2 s of total CPU time (1 s wall on 2 CPUs) = 50 % of one CPU
    assert cpu_percent(0, 500_000_000, 0, 2_000_000_000, 2) == pytest.approx(50.0)
    assert cpu_percent(10, 10, 0, 1_000, 2) == 0.0
    assert cpu_percent(0, 10, 5, 5, 2) == 0.0


NET_DEV = """\
Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:  999999     100    0    0    0     0          0         0   999999     100    0    0    0     0       0          0
  eth0:    1296      16    0    0    0     0          0         0      648       8    0    0    0     0       0          0
  eth1:     100       1    0    0    0     0          0         0       50       1    0    0    0     0       0          0
"""


def test_net_dev_sums_interfaces_without_loopback() -> None:
    assert parse_net_dev(NET_DEV) == (1396, 698)


def test_record_uses_host_memory_when_unlimited_and_working_set() -> None:
    host = 16 * 1024**3
    cg = CgroupStats(
        cpu_usage_ns=3_000_000_000,
        memory_usage=10 * MiB,
        memory_inactive_file=2 * MiB,
        pids_current=3,
        block_read=4096,
        block_write=1_500_000,
    )
    before = CgroupStats(cpu_usage_ns=2_000_000_000)
    prev = Sample(0.0, 10_000_000_000, 2, host, {"a": ContainerSample("a", "web", 1, before, 0, 0)})
    entry = ContainerSample("a", "web", 1, cg, 1200, 648)
    cur = Sample(1.0, 14_000_000_000, 2, host, {"a": entry})
    rec = stats_row(cur, entry, prev)
    assert rec.cpu_percent == pytest.approx(50.0)
    assert rec.memory_usage == 8 * MiB and rec.memory_limit == host
    assert rec.memory_percent == pytest.approx(8 * MiB / host * 100)
    assert stats_row(cur, entry, None).cpu_percent == 0.0
    limited = stats_row(
        cur, ContainerSample("a", "web", 1, CgroupStats(memory_usage=MiB, memory_limit=4 * MiB), 0, 0), prev
    )
    assert limited.memory_limit == 4 * MiB and limited.memory_percent == pytest.approx(25.0)


def test_display_row_matches_docker_columns() -> None:
    rec = StatsRecord(
        "0123456789abcdef" * 4, "web", 0.0, 1536 * 1024, int(15.55 * 1024**3), 0.01, 1200, 648, 0, 0, 1
    )
    assert STATS_COLUMNS == (
        "CONTAINER ID",
        "NAME",
        "CPU %",
        "MEM USAGE / LIMIT",
        "MEM %",
        "NET I/O",
        "BLOCK I/O",
        "PIDS",
    )
    assert rec.display() == (
        "0123456789ab",
        "web",
        "0.00%",
        "1.5MiB / 15.55GiB",
        "0.01%",
        "1.2kB / 648B",
        "0B / 0B",
        "1",
    )


def test_host_memory_is_memtotal() -> None:
    assert host_memory() > 64 * MiB


def test_host_network_counts_as_none() -> None:
    assert net_io(os.getpid()) == (0, 0)
    assert net_io(2**22 + 12345) == (0, 0)  # no such process


# --- live --------------------------------------------------------------------------------------------------


def _v1_or_v2_with_cpu() -> bool:
    try:
        return os.geteuid() == 0 and detect().mode in ("v1", "hybrid", "v2")
    except RuntimeFailure:
        return False


needs_cgroups = pytest.mark.skipif(not _v1_or_v2_with_cpu(), reason="needs root and cgroups")


@pytest.fixture
def parent() -> Iterator[str]:
    name = f"dockyard-test-{uuid.uuid4().hex[:10]}"
    try:
        yield name
    finally:
        remove_leftovers(set(), parent=name)
        remove_parent(name)


BUSY = "import sys\nsys.stdin.read(1)\nheld = bytearray(4 << 20)\nwhile True:\n    pass\n"


@needs_cgroups
@pytest.mark.root
@pytest.mark.slow
def test_sampler_reports_a_busy_container(parent: str) -> None:
    cg = ContainerCgroup.create("busy", parent=parent)
    idle = ContainerCgroup.create("idle", parent=parent)
    busy = subprocess.Popen([sys.executable, "-c", BUSY], stdin=subprocess.PIPE)
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        cg.add(busy.pid)
        idle.add(sleeper.pid)
        assert busy.stdin is not None
        busy.stdin.write(b"x")
        busy.stdin.flush()
        targets = [Target("b" * 64, "busy", busy.pid, cg), Target("i" * 64, "idle", sleeper.pid, idle)]
        sampler = Sampler()
        first = sampler.update(targets)
        assert [r.cpu_percent for r in first] == [0.0, 0.0]
        time.sleep(0.5)
        records = {r.name: r for r in sampler.update(targets)}
        assert 40.0 < records["busy"].cpu_percent < 130.0, records["busy"]
        assert records["idle"].cpu_percent < 5.0
        assert records["busy"].pids == 1 and records["idle"].pids == 1
        assert records["busy"].memory_usage >= 4 * MiB
        assert records["busy"].memory_limit == host_memory()
        assert records["busy"].display()[0] == "b" * 12
    finally:
        for p in (busy, sleeper):
            p.kill()
            p.wait()
        cg.destroy()
        idle.destroy()


@needs_cgroups
@pytest.mark.root
@pytest.mark.slow
def test_reader_lists_the_containers_again_when_asked(parent: str) -> None:
    cg = ContainerCgroup.create("s", parent=parent)
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        cg.add(sleeper.pid)
        calls = []

        def source() -> list[Target]:
            calls.append(1)
            return [Target("s" * 64, "s", sleeper.pid, cg)] if len(calls) < 2 else []

        reader = StatsReader(source)
        assert [r.name for r in reader.sample()] == ["s"] and len(calls) == 1 and reader.running()
        assert [r.name for r in reader.sample()] == ["s"] and len(calls) == 1  # not listed again
        reader.refresh()  # a container started or stopped: the next sample lists them again
        assert reader.sample() == [] and len(calls) == 2 and not reader.running()
    finally:
        sleeper.kill()
        sleeper.wait()
        cg.destroy()


@needs_cgroups
@pytest.mark.root
@pytest.mark.slow
def test_reader_leaves_out_a_container_whose_pid_1_is_gone(parent: str) -> None:
    cg = ContainerCgroup.create("g", parent=parent)
    sleepers = [subprocess.Popen(["sleep", "30"]) for _ in range(2)]
    try:
        cg.add(sleepers[0].pid)
        calls = []

        def source() -> list[Target]:
            calls.append(1)
            live = [p for p in sleepers if p.poll() is None]
            return [Target(str(p.pid) * 8, str(p.pid), p.pid, cg) for p in live]

        reader = StatsReader(source)
        assert len(reader.sample()) == 2 and len(calls) == 1
        sleepers[1].kill()
        sleepers[1].wait()  # its cgroup would still read (as zeros): the dead PID 1 is what tells
        assert [r.name for r in reader.sample()] == [str(sleepers[0].pid)] and len(calls) == 1
        assert [r.name for r in reader.sample()] == [str(sleepers[0].pid)] and len(calls) == 2
    finally:
        for p in sleepers:
            p.kill()
            p.wait()
        cg.destroy()


@needs_cgroups
@pytest.mark.root
@pytest.mark.slow
def test_the_stream_lists_the_containers_on_every_tick(parent: str) -> None:
    cg = ContainerCgroup.create("t", parent=parent)
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        cg.add(sleeper.pid)
        calls = []

        def source() -> list[Target]:
            calls.append(1)
            return [Target("t" * 64, "t", sleeper.pid, cg)] if len(calls) < 3 else []

        reader = StatsReader(source)
        start = time.monotonic()
        gen = reader.stream(interval=0.1)
        assert [r.name for r in next(gen)] == ["t"] and len(calls) == 2  # the baseline, then the first tick
        assert next(gen) == [] and len(calls) == 3  # a container that stopped (or started) is followed
        assert 0.15 < time.monotonic() - start < 1.5
        gen.close()
    finally:
        sleeper.kill()
        sleeper.wait()
        cg.destroy()


@needs_cgroups
@pytest.mark.root
@pytest.mark.slow
def test_sample_of_a_vanished_container_reads_zeros(parent: str) -> None:
    cg = ContainerCgroup.create("gone", parent=parent)
    cg.destroy()  # a container that ended between listing and sampling still yields a (zero) entry
    s = sample([Target("g", "gone", 2**22 + 1, cg)])
    assert s.system_cpu_ns > 0 and s.online_cpus >= 1
    assert s.containers["g"].cgroup.pids_current == 0 and s.containers["g"].net_rx == 0


SEND = """\
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("veth-a", 0))
frame = b"\\xff" * 6 + b"\\x02\\x00\\x00\\x00\\x00\\x01" + b"\\x88\\xb5" + b"x" * 986
for _ in range(5):
    s.send(frame)
print("sent", flush=True)
sys.stdin.read()
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root for a network namespace")
@pytest.mark.root
@pytest.mark.slow
def test_net_io_counts_the_containers_own_interfaces() -> None:
    # A network namespace of our own with a veth pair inside it: frames sent on one end are received on
    # the other, all inside the namespace (nothing reaches the host's network).
    script = (
        "ip link add veth-a type veth peer name veth-b && ip link set veth-a up && ip link set veth-b up "
        f'&& exec {sys.executable} -c "$0"'
    )
    p = subprocess.Popen(
        ["unshare", "--net", "sh", "-c", script, SEND], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert p.stdout is not None
        assert p.stdout.readline() == b"sent\n"
        rx, tx = net_io(p.pid)
        assert tx >= 5 * 1000 and rx >= 5 * 1000
        assert os.stat(f"/proc/{p.pid}/ns/net").st_ino != os.stat("/proc/self/ns/net").st_ino
    finally:
        p.kill()
        p.wait()
    assert p.returncode == -signal.SIGKILL
