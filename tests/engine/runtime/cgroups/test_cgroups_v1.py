"""Container cgroups on this machine's real cgroup v1 (hybrid) hierarchies.

Every test creates its cgroups below a parent of its own under the test process's cgroup, puts real child
processes in them, and removes processes and directories at the end.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import pytest

from engine.errors import Conflict, InvalidArgument, NotFound, RuntimeFailure
from engine.runtime.cgroups import (
    CgroupSystem,
    ContainerCgroup,
    Limits,
    detect,
    list_leftovers,
    parse,
    remove_leftovers,
    remove_parent,
)

MiB = 1024 * 1024


def _system() -> CgroupSystem | None:
    try:
        system = detect()
    except RuntimeFailure:
        return None
    return system if system.mode in ("v1", "hybrid") else None


SYSTEM = _system()
needs_v1 = pytest.mark.skipif(
    SYSTEM is None or os.geteuid() != 0, reason="needs root and cgroup v1 hierarchies"
)


@pytest.fixture
def parent() -> Iterator[str]:
    """A parent cgroup name unique to the test; everything below it is removed afterwards."""
    name = f"dockyard-test-{uuid.uuid4().hex[:10]}"
    try:
        yield name
    finally:
        if SYSTEM is not None:
            remove_leftovers(set(), parent=name)
            remove_parent(name)
            for h in SYSTEM.v1_hierarchies() + ([SYSTEM.unified] if SYSTEM.unified else []):
                assert not os.path.exists(os.path.join(h.own_dir, name)), "test parent left behind"


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Child processes started by the test; killed and reaped afterwards."""
    started: list[subprocess.Popen[bytes]] = []
    try:
        yield started
    finally:
        for p in started:
            if p.poll() is None:
                p.kill()
            p.wait(timeout=10)


def _start(procs: list[subprocess.Popen[bytes]], *args: str, **kw: object) -> subprocess.Popen[bytes]:
    p = subprocess.Popen(list(args), **kw)  # type: ignore[call-overload]
    procs.append(p)
    return p


def _read(path: str) -> str:
    with open(path) as f:
        return f.read().strip()


# --- parsing (no kernel needed) ---------------------------------------------------------------------------

MOUNTINFO_V1 = """\
24 30 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
25 24 0:23 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:8 - tmpfs tmpfs ro,mode=755
26 25 0:24 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:9 - cgroup cgroup rw,xattr,name=systemd
29 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,cpu,cpuacct
30 25 0:28 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,memory
31 25 0:29 /docker/abc /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,pids
32 25 0:30 / /sys/fs/cgroup/my\\040freezer rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,freezer
"""
PROC_CGROUP_V1 = """\
12:pids:/docker/abc/user
7:freezer:/
5:memory:/user.slice
3:cpu,cpuacct:/user.slice
1:name=systemd:/user.slice/session-1.scope
"""


def test_parse_v1_co_mounted_and_sub_tree_mounts() -> None:
    system = parse(MOUNTINFO_V1, PROC_CGROUP_V1)
    assert system.mode == "v1"
    assert system.unified is None
    cpu, cpuacct = system.hierarchy("cpu"), system.hierarchy("cpuacct")
    assert cpu is cpuacct and cpu is not None
    assert cpu.mount == "/sys/fs/cgroup/cpu,cpuacct" and cpu.own == "/user.slice"
    assert cpu.own_dir == "/sys/fs/cgroup/cpu,cpuacct/user.slice"
    pids = system.hierarchy("pids")
    assert pids is not None and pids.own_dir == "/sys/fs/cgroup/pids/user"  # mount shows /docker/abc
    freezer = system.hierarchy("freezer")
    assert freezer is not None and freezer.mount == "/sys/fs/cgroup/my freezer"
    assert system.hierarchy("systemd") is None and system.hierarchy("cpuset") is None
    assert [h.mount for h in system.v1_hierarchies()] == [
        "/sys/fs/cgroup/cpu,cpuacct",
        "/sys/fs/cgroup/memory",
        "/sys/fs/cgroup/pids",
        "/sys/fs/cgroup/my freezer",
    ]


def test_locate_co_mounted_controllers_share_one_directory() -> None:
    cg = ContainerCgroup.open("c1", system=parse(MOUNTINFO_V1, PROC_CGROUP_V1), must_exist=False)
    assert cg.dirs["cpu"] == cg.dirs["cpuacct"] == "/sys/fs/cgroup/cpu,cpuacct/user.slice/dockyard/c1"
    assert cg.dirs["memory"] == "/sys/fs/cgroup/memory/user.slice/dockyard/c1"
    assert cg.path == "/user.slice/dockyard/c1"
    assert len(cg.procs_files()) == 4
    absolute = ContainerCgroup.open("c1", "/dock", parse(MOUNTINFO_V1, PROC_CGROUP_V1), must_exist=False)
    assert absolute.dirs["memory"] == "/sys/fs/cgroup/memory/dock/c1"


def test_parse_refuses_a_machine_without_cgroups() -> None:
    with pytest.raises(RuntimeFailure, match="no cgroup filesystem"):
        parse("25 24 0:23 / /sys/fs/cgroup ro - tmpfs tmpfs ro\n", "0::/\n")


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        (Limits(memory=5 * MiB), "Minimum memory limit allowed is 6MB"),
        (Limits(memory=-1), "invalid memory limit"),
        (Limits(memory_swap=100 * MiB), "You should always set the Memory limit when using Memoryswap"),
        (Limits(memory=64 * MiB, memory_swap=32 * MiB), "Minimum memoryswap limit should be larger"),
        (Limits(cpus=-0.5), "Range of CPUs is from 0.01 to"),
        (Limits(cpus=10_000.0), "Range of CPUs is from 0.01 to"),
        (Limits(cpu_shares=-3), "invalid cpu-shares"),
        (Limits(pids=-5), "invalid pids-limit"),
    ],
)
def test_invalid_limits_are_refused(limits: Limits, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        limits.validate()


def test_limit_conversions() -> None:
    assert Limits(memory=64 * MiB).memsw_bytes() == 128 * MiB  # Docker: as much swap as memory
    assert Limits(memory=64 * MiB, memory_swap=-1).memsw_bytes() == -1
    assert Limits(memory=64 * MiB, memory_swap=100 * MiB).swap_only_bytes() == 36 * MiB
    assert Limits(cpus=1.5).cpu_quota_us() == 150_000
    assert Limits(cpu_shares=1).shares() == 2
    assert Limits(cpu_shares=1024).cpu_weight() == 39
    assert Limits(cpu_shares=2).cpu_weight() == 1 and Limits(cpu_shares=262_144).cpu_weight() == 10_000
    assert Limits(pids=0).pids_max() == -1 and Limits(pids=-1).pids_max() == -1
    assert Limits().empty and not Limits(pids=3).empty


# --- the real hierarchies ---------------------------------------------------------------------------------


@needs_v1
@pytest.mark.root
def test_detect_matches_proc_self_cgroup() -> None:
    assert SYSTEM is not None
    with open("/proc/self/cgroup") as f:
        lines = dict(line.rstrip("\n").split(":", 2)[1:] for line in f)
    memory = SYSTEM.hierarchy("memory")
    assert memory is not None and memory.own == lines["memory"]
    assert os.path.isfile(os.path.join(memory.own_dir, "cgroup.procs"))
    assert detect() is detect()  # cached


@needs_v1
@pytest.mark.root
@pytest.mark.slow
def test_invalid_limits_create_nothing(parent: str) -> None:
    with pytest.raises(InvalidArgument, match="Minimum memory limit allowed is 6MB"):
        ContainerCgroup.create("c1", Limits(memory=1 * MiB), parent=parent)
    assert list_leftovers(parent) == []
    cg = ContainerCgroup.open("c1", parent, must_exist=False)
    assert not cg.exists()


@needs_v1
@pytest.mark.root
@pytest.mark.slow
def test_create_writes_limits_and_a_process_joins(parent: str, procs: list[subprocess.Popen[bytes]]) -> None:
    assert SYSTEM is not None
    own_limit = _read(os.path.join(SYSTEM.v1["memory"].own_dir, "memory.limit_in_bytes"))
    limits = Limits(memory=64 * MiB, cpus=0.5, cpu_shares=512, pids=100)
    cg = ContainerCgroup.create("c1", limits, parent=parent)
    d = cg.dirs
    assert _read(os.path.join(d["memory"], "memory.limit_in_bytes")) == str(64 * MiB)
    memsw = os.path.join(d["memory"], "memory.memsw.limit_in_bytes")
    if os.path.exists(memsw):
        assert _read(memsw) == str(128 * MiB)
    assert _read(os.path.join(d["cpu"], "cpu.cfs_period_us")) == "100000"
    assert _read(os.path.join(d["cpu"], "cpu.cfs_quota_us")) == "50000"
    assert _read(os.path.join(d["cpu"], "cpu.shares")) == "512"
    assert _read(os.path.join(d["pids"], "pids.max")) == "100"
    cpuset_parent = os.path.dirname(d["cpuset"])
    assert _read(os.path.join(d["cpuset"], "cpuset.cpus")) == _read(
        os.path.join(cpuset_parent, "cpuset.cpus")
    )
    assert _read(os.path.join(d["cpuset"], "cpuset.mems")) != ""
    assert "unified" not in d  # a hybrid machine's controller-less cgroup2 tree is left alone
    # the caller's own cgroup is never limited
    assert _read(os.path.join(SYSTEM.v1["memory"].own_dir, "memory.limit_in_bytes")) == own_limit

    p = _start(procs, "sleep", "30")
    for f in cg.procs_files():
        with open(f, "w") as fh:
            fh.write(str(p.pid))
    assert cg.pids() == [p.pid]
    with open(f"/proc/{p.pid}/cgroup") as f:
        membership = f.read()
    assert f"memory:{cg.path}\n" in membership
    st = cg.stats()
    assert st.memory_limit == 64 * MiB and st.pids_limit == 100 and st.pids_current == 1

    cg.destroy()
    assert p.wait(timeout=5) == -signal.SIGKILL
    assert not cg.exists()
    assert all(not os.path.exists(x) for x in d.values())
    cg.destroy()  # idempotent


@needs_v1
@pytest.mark.root
@pytest.mark.slow
def test_open_and_state_reattach(parent: str, procs: list[subprocess.Popen[bytes]]) -> None:
    with pytest.raises(NotFound):
        ContainerCgroup.open("c2", parent)
    cg = ContainerCgroup.create("c2", parent=parent)
    p = _start(procs, "sleep", "30")
    cg.add(p.pid)
    with pytest.raises(Conflict, match="already exists and has processes"):
        ContainerCgroup.create("c2", parent=parent)
    again = ContainerCgroup.open("c2", parent)
    assert again.dirs == cg.dirs and again.pids() == [p.pid]
    restored = ContainerCgroup.from_state(cg.state())
    assert restored.dirs == cg.dirs and restored.path == cg.path
    restored.destroy()
    assert p.wait(timeout=5) == -signal.SIGKILL
    assert not again.exists()


@needs_v1
@pytest.mark.root
@pytest.mark.slow
def test_memory_limit_oom_kills(parent: str, procs: list[subprocess.Popen[bytes]]) -> None:
    cg = ContainerCgroup.create("oom", Limits(memory=10 * MiB), parent=parent)
    script = (
        "import sys\nsys.stdin.read(1)\nheld = [bytearray(1 << 20) for _ in range(200)]\nprint('survived')"
    )
    p = _start(procs, sys.executable, "-c", script, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    cg.add(p.pid)
    assert not cg.oom_killed()
    assert p.stdin is not None
    p.stdin.write(b"x")
    p.stdin.close()
    assert p.wait(timeout=20) == -signal.SIGKILL
    assert p.stdout is not None and p.stdout.read() == b""
    assert cg.oom_killed() and cg.oom_kill_count() >= 1
    cg.destroy()
    assert not cg.exists()


FORKER = """\
import os, sys, time
sys.stdin.read(1)
made = 0
for _ in range(20):
    try:
        pid = os.fork()
    except OSError as e:
        print(made, e.errno, flush=True)
        break
    if pid == 0:
        time.sleep(60)
        os._exit(0)
    made += 1
else:
    print(made, 0, flush=True)
time.sleep(60)
"""


@needs_v1
@pytest.mark.root
@pytest.mark.slow
def test_pids_limit_stops_forks_and_kill_all_gets_every_process(
    parent: str, procs: list[subprocess.Popen[bytes]]
) -> None:
    cg = ContainerCgroup.create("pids", Limits(pids=5), parent=parent)
    p = _start(procs, sys.executable, "-c", FORKER, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    cg.add(p.pid)
    assert p.stdin is not None and p.stdout is not None
    p.stdin.write(b"x")
    p.stdin.flush()
    made, err = p.stdout.readline().split()
    assert (int(made), int(err)) == (4, 11)  # 1 + 4 processes, then EAGAIN
    assert len(cg.pids()) == 5
    st = cg.stats()
    assert st.pids_current == 5 and st.pids_limit == 5
    children = [pid for pid in cg.pids() if pid != p.pid]
    cg.kill_all(signal.SIGKILL)
    assert cg.pids() == []
    assert p.wait(timeout=5) == -signal.SIGKILL
    assert all(not os.path.exists(f"/proc/{c}/cmdline") or _is_zombie(c) for c in children)
    cg.destroy()


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


@needs_v1
@pytest.mark.root
@pytest.mark.slow
def test_kill_all_without_cgroup_kill_freezes_and_signals(
    parent: str, procs: list[subprocess.Popen[bytes]]
) -> None:
    assert SYSTEM is not None
    pure_v1 = CgroupSystem(mode="v1", v1=SYSTEM.v1)  # as a machine without the unified mount
    cg = ContainerCgroup.create("v1kill", parent=parent, system=pure_v1)
    assert "unified" not in cg.dirs
    p = _start(procs, sys.executable, "-c", FORKER, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    cg.add(p.pid)
    assert p.stdin is not None and p.stdout is not None
    p.stdin.write(b"x")
    p.stdin.flush()
    assert p.stdout.readline().split()[0] == b"20"
    assert len(cg.pids()) == 21
    cg.kill_all()
    assert cg.pids() == [] and not cg.frozen()
    assert p.wait(timeout=5) == -signal.SIGKILL
    cg.destroy()
    assert not cg.exists()


@needs_v1
@pytest.mark.root
@pytest.mark.slow
def test_kill_all_with_another_signal_sends_it_once(
    parent: str, procs: list[subprocess.Popen[bytes]]
) -> None:
    cg = ContainerCgroup.create("term", parent=parent)
    p = _start(procs, "sleep", "30")
    cg.add(p.pid)
    cg.kill_all(signal.SIGTERM)
    assert p.wait(timeout=5) == -signal.SIGTERM
    cg.destroy()


COUNTER = """\
import sys, time
i = 0
while True:
    i += 1
    with open(sys.argv[1], "w") as f:
        f.write(str(i))
    time.sleep(0.002)
"""


def _counter(path: str) -> int:
    for _ in range(100):
        text = _read(path) if os.path.exists(path) else ""
        if text:
            return int(text)
        time.sleep(0.01)
    raise AssertionError("counter never written")


@needs_v1
@pytest.mark.root
@pytest.mark.slow
def test_freeze_stops_progress_and_thaw_resumes(
    parent: str, procs: list[subprocess.Popen[bytes]], tmp_path: os.PathLike[str]
) -> None:
    counter = os.path.join(tmp_path, "counter")
    cg = ContainerCgroup.create("pause", parent=parent)
    p = _start(procs, sys.executable, "-c", COUNTER, counter)
    cg.add(p.pid)
    _counter(counter)
    assert not cg.frozen()
    cg.freeze()
    assert cg.frozen()
    before = _counter(counter)
    time.sleep(0.2)
    assert _counter(counter) == before
    cg.thaw()
    assert not cg.frozen()
    time.sleep(0.2)
    assert _counter(counter) > before
    cg.freeze()
    cg.destroy()  # a frozen container can still be destroyed
    assert p.wait(timeout=5) == -signal.SIGKILL
    assert not cg.exists()


BURN = """\
import sys, time
sys.stdin.read(1)
held = bytearray(24 << 20)
for i in range(0, len(held), 4096):
    held[i] = 1
end = time.process_time() + 0.3
while time.process_time() < end:
    pass
print("done", flush=True)
time.sleep(60)
"""


@needs_v1
@pytest.mark.root
@pytest.mark.slow
def test_stats_move(parent: str, procs: list[subprocess.Popen[bytes]]) -> None:
    cg = ContainerCgroup.create("stats", parent=parent)
    p = _start(procs, sys.executable, "-c", BURN, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    cg.add(p.pid)
    before = cg.stats()
    assert p.stdin is not None and p.stdout is not None
    p.stdin.write(b"x")
    p.stdin.flush()
    assert p.stdout.readline() == b"done\n"
    after = cg.stats()
    assert after.cpu_usage_ns - before.cpu_usage_ns >= 250_000_000
    assert after.memory_usage >= 24 * MiB > before.memory_usage
    assert after.memory_working_set >= 24 * MiB
    assert after.memory_limit is None and after.pids_current == 1
    cg.destroy()


@needs_v1
@pytest.mark.root
@pytest.mark.slow
def test_update_changes_limits_of_a_running_container(parent: str) -> None:
    cg = ContainerCgroup.create("upd", Limits(memory=32 * MiB), parent=parent)
    cg.update(Limits(memory=256 * MiB, memory_swap=-1, pids=7))  # memory above the old memsw
    assert _read(os.path.join(cg.dirs["memory"], "memory.limit_in_bytes")) == str(256 * MiB)
    assert _read(os.path.join(cg.dirs["pids"], "pids.max")) == "7"
    cg.update(Limits(memory=16 * MiB, memory_swap=32 * MiB))
    assert _read(os.path.join(cg.dirs["memory"], "memory.limit_in_bytes")) == str(16 * MiB)
    cg.destroy()


@needs_v1
@pytest.mark.root
@pytest.mark.slow
def test_kernel_refusal_rolls_back_what_was_created(parent: str) -> None:
    assert SYSTEM is not None
    cpu = SYSTEM.v1["cpu"]
    parent_dir = os.path.join(cpu.own_dir, parent)
    os.mkdir(parent_dir)
    with open(os.path.join(parent_dir, "cpu.cfs_quota_us"), "w") as f:
        f.write("50000")  # the parent may use half a CPU: a child asking for one is refused
    with pytest.raises(RuntimeFailure, match="cpu.cfs_quota_us"):
        ContainerCgroup.create("big", Limits(cpus=1.0), parent=parent)
    cg = ContainerCgroup.open("big", parent, must_exist=False)
    assert not cg.exists()


@needs_v1
@pytest.mark.root
@pytest.mark.slow
def test_leftovers_are_found_and_only_unknown_ones_removed(
    parent: str, procs: list[subprocess.Popen[bytes]]
) -> None:
    keep = ContainerCgroup.create("keep", parent=parent)
    lost = ContainerCgroup.create("lost", parent=parent)
    p = _start(procs, "sleep", "30")
    lost.add(p.pid)
    assert list_leftovers(parent) == ["keep", "lost"]
    assert remove_leftovers({"keep"}, parent=parent) == ["lost"]
    assert p.wait(timeout=5) == -signal.SIGKILL
    assert keep.exists() and not lost.exists()
    assert list_leftovers(parent) == ["keep"]
    keep.destroy()


@needs_v1
@pytest.mark.root
@pytest.mark.slow
def test_create_is_fast(parent: str) -> None:
    cgs = []
    start = time.perf_counter()
    for i in range(10):
        cgs.append(ContainerCgroup.create(f"fast{i}", Limits(memory=64 * MiB, pids=100), parent=parent))
    per_create = (time.perf_counter() - start) / 10
    start = time.perf_counter()
    for cg in cgs:
        cg.destroy()
    per_destroy = (time.perf_counter() - start) / 10
    assert per_create < 0.02 and per_destroy < 0.02, (per_create, per_destroy)
