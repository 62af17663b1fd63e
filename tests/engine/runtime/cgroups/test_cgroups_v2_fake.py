"""cgroup v2: file syntax checked on a prepared cgroup2-like tree, protocols on the real cgroup2 mount.

The fake tree is a temporary directory laid out as the kernel lays out a cgroup2 hierarchy, with realistic
file contents; a small thread plays the kernel's part where a protocol needs an answer (cgroup.events after
cgroup.freeze or cgroup.kill). The real cgroup2 mount of this machine (the unified one on a hybrid machine)
then runs the same code against the kernel.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.errors import RuntimeFailure
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
ALL_CONTROLLERS = "cpuset cpu io memory hugetlb pids rdma misc"

KERNEL_FILES = {
    "cgroup.procs": "",
    "cgroup.subtree_control": "",
    "cgroup.events": "populated 0\nfrozen 0\n",
    "cgroup.freeze": "0\n",
    "cgroup.kill": "",
    "cgroup.type": "domain\n",
    "memory.max": "max\n",
    "memory.swap.max": "max\n",
    "memory.current": "0\n",
    "memory.events": "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n",
    "memory.stat": "anon 0\nfile 0\ninactive_file 0\nactive_file 0\n",
    "cpu.max": "max 100000\n",
    "cpu.weight": "100\n",
    "cpu.stat": "usage_usec 0\nuser_usec 0\nsystem_usec 0\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\n",
    "pids.max": "max\n",
    "pids.current": "0\n",
    "io.stat": "",
}


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".new")
    tmp.write_text(text)
    os.replace(tmp, path)


def kernel_mkdir(path: Path, controllers: str) -> Path:
    """Create a cgroup directory the way the kernel would: core files plus the controllers' files."""
    path.mkdir()
    for name, text in KERNEL_FILES.items():
        (path / name).write_text(text)
    (path / "cgroup.controllers").write_text(controllers + "\n")
    return path


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """The root of a fake cgroup2 hierarchy with every controller available."""
    root = tmp_path / "cgroup2"
    root.mkdir()
    (root / "cgroup.controllers").write_text(ALL_CONTROLLERS + "\n")
    (root / "cgroup.subtree_control").write_text("\n")
    (root / "cgroup.procs").write_text("1\n")
    return root


def _read(path: Path | str) -> str:
    return Path(path).read_text().strip()


# --- detection --------------------------------------------------------------------------------------------

MOUNTINFO_V2 = """\
22 28 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
26 23 0:25 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
"""
MOUNTINFO_HYBRID = """\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
"""


def test_parse_pure_v2() -> None:
    system = parse(MOUNTINFO_V2, "0::/user.slice/user-1000.slice/session-2.scope\n")
    assert system.mode == "v2" and system.v1 == {}
    assert system.unified is not None
    assert system.unified.own_dir == "/sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope"
    cg = ContainerCgroup.open("abc", system=system, must_exist=False)
    assert cg.dirs == {"unified": "/sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope/dockyard/abc"}
    assert cg.procs_files() == [cg.dirs["unified"] + "/cgroup.procs"]
    assert cg.join_files() == cg.procs_files()  # v2: cgroup.procs (tasks is v1 only)


def test_parse_hybrid() -> None:
    system = parse(MOUNTINFO_HYBRID, "4:memory:/process_api/x\n8:pids:/\n0::/\n")
    assert system.mode == "hybrid"
    assert system.unified is not None and system.unified.mount == "/sys/fs/cgroup/unified"
    cg = ContainerCgroup.open("abc", parent="p", system=system, must_exist=False)
    assert cg.dirs == {  # the controller-less cgroup2 tree is left alone
        "memory": "/sys/fs/cgroup/memory/process_api/x/p/abc",
        "pids": "/sys/fs/cgroup/pids/p/abc",
    }
    assert cg.join_files() == [d + "/tasks" for d in cg.dirs.values()]


# --- limits and delegation on the fake tree ---------------------------------------------------------------


def test_create_enables_controllers_and_writes_v2_limit_syntax(tree: Path) -> None:
    system = CgroupSystem.v2_at(str(tree))
    kernel_mkdir(tree / "dockyard", ALL_CONTROLLERS)
    leaf = kernel_mkdir(tree / "dockyard" / "c1", "cpu io memory pids")
    cg = ContainerCgroup.create(
        "c1", Limits(memory=64 * MiB, cpus=0.5, cpu_shares=512, pids=100), system=system
    )
    assert cg.dirs == {"unified": str(leaf)} and cg.path == "/dockyard/c1"
    assert _read(tree / "cgroup.subtree_control") == "+cpu +io +memory +pids"
    assert _read(tree / "dockyard" / "cgroup.subtree_control") == "+cpu +io +memory +pids"
    assert _read(leaf / "cgroup.subtree_control") == ""  # the container's own cgroup delegates nothing
    assert _read(leaf / "memory.max") == str(64 * MiB)
    assert _read(leaf / "memory.swap.max") == str(64 * MiB)  # Docker: as much swap as memory
    assert _read(leaf / "cpu.max") == "50000 100000"
    assert _read(leaf / "cpu.weight") == "20"
    assert _read(leaf / "pids.max") == "100"


@pytest.mark.parametrize(
    ("limits", "swap"),
    [
        (Limits(memory=64 * MiB, memory_swap=-1), "max"),
        (Limits(memory=64 * MiB, memory_swap=100 * MiB), str(36 * MiB)),
        (Limits(memory=64 * MiB, memory_swap=64 * MiB), "0"),
    ],
)
def test_swap_limit_is_swap_alone_in_v2(tree: Path, limits: Limits, swap: str) -> None:
    kernel_mkdir(tree / "dockyard", ALL_CONTROLLERS)
    leaf = kernel_mkdir(tree / "dockyard" / "c1", "cpu io memory pids")
    ContainerCgroup.create("c1", limits, system=CgroupSystem.v2_at(str(tree)))
    assert _read(leaf / "memory.swap.max") == swap


def test_unlimited_pids_and_defaults(tree: Path) -> None:
    kernel_mkdir(tree / "dockyard", ALL_CONTROLLERS)
    leaf = kernel_mkdir(tree / "dockyard" / "c1", "cpu io memory pids")
    ContainerCgroup.create("c1", Limits(pids=-1), system=CgroupSystem.v2_at(str(tree)))
    assert _read(leaf / "pids.max") == "max"
    assert _read(leaf / "memory.max") == "max" and _read(leaf / "cpu.max") == "max 100000"


def test_create_makes_the_directories_it_needs(tree: Path) -> None:
    cg = ContainerCgroup.create("c9", Limits(pids=10), parent="a/b", system=CgroupSystem.v2_at(str(tree)))
    for level in ("a", "a/b"):
        assert _read(tree / level / "cgroup.subtree_control") == "+cpu +io +memory +pids"
    assert cg.dirs["unified"] == str(tree / "a" / "b" / "c9")
    assert _read(tree / "a" / "b" / "c9" / "pids.max") == "10"
    assert list_leftovers("a/b", CgroupSystem.v2_at(str(tree))) == ["c9"]


def test_controller_not_delegated_fails_before_creating_anything(tree: Path) -> None:
    own = kernel_mkdir(tree / "user.slice", ALL_CONTROLLERS)  # holds processes: delegates nothing
    (own / "cgroup.procs").write_text("4242\n")
    system = CgroupSystem.v2_at(str(tree), own="/user.slice")
    with pytest.raises(RuntimeFailure, match='controller "memory" is not available below /user.slice'):
        ContainerCgroup.create("c1", Limits(memory=64 * MiB), system=system)
    assert not (own / "dockyard").exists()
    assert _read(own / "cgroup.subtree_control") == ""  # the caller's cgroup is left alone
    # without limits the container still gets its cgroup (for kill, freeze and statistics)
    cg = ContainerCgroup.create("c1", Limits(), system=system)
    assert cg.dirs["unified"] == str(own / "dockyard" / "c1")
    assert not (own / "dockyard" / "cgroup.subtree_control").exists()  # nothing to enable, nothing written


def test_delegated_controllers_below_own_cgroup(tree: Path) -> None:
    own = kernel_mkdir(tree / "svc", ALL_CONTROLLERS)
    (own / "cgroup.subtree_control").write_text("memory pids\n")
    system = CgroupSystem.v2_at(str(tree), own="/svc")
    with pytest.raises(
        RuntimeFailure, match='cannot apply the CPU quota \\(--cpus\\): the cgroup controller "cpu"'
    ):
        ContainerCgroup.create("c1", Limits(memory=64 * MiB, cpus=1), system=system)
    cg = ContainerCgroup.create("c1", Limits(memory=64 * MiB, pids=5), system=system)
    assert _read(own / "dockyard" / "cgroup.subtree_control") == "+memory +pids"
    assert _read(Path(cg.dirs["unified"]) / "memory.max") == str(64 * MiB)
    assert _read(tree / "cgroup.subtree_control") == ""  # nothing written above the own cgroup


def test_absolute_parent_starts_at_the_root(tree: Path) -> None:
    system = CgroupSystem.v2_at(str(tree), own="/user.slice/session-1.scope")
    cg = ContainerCgroup.create("c1", Limits(memory=64 * MiB), parent="/dockyard", system=system)
    assert cg.dirs["unified"] == str(tree / "dockyard" / "c1")
    assert _read(tree / "cgroup.subtree_control") == "+cpu +io +memory +pids"


# --- statistics -------------------------------------------------------------------------------------------

MEMORY_STAT = """\
anon 1601536
file 4096000
kernel 466944
kernel_stack 16384
pagetables 49152
percpu 0
sock 0
shmem 0
file_mapped 2048000
file_dirty 0
file_writeback 0
anon_thp 0
inactive_anon 1572864
active_anon 28672
inactive_file 3072000
active_file 1024000
unevictable 0
slab_reclaimable 171192
slab_unreclaimable 215768
pgfault 5280
pgmajfault 3
"""


def test_stats_parse_v2_files(tree: Path) -> None:
    kernel_mkdir(tree / "dockyard", ALL_CONTROLLERS)
    leaf = kernel_mkdir(tree / "dockyard" / "c1", "cpu io memory pids")
    cg = ContainerCgroup.create("c1", Limits(memory=64 * MiB, pids=100), system=CgroupSystem.v2_at(str(tree)))
    (leaf / "cpu.stat").write_text(
        "usage_usec 123456\nuser_usec 100000\nsystem_usec 23456\ncore_sched.force_idle_usec 0\n"
        "nr_periods 10\nnr_throttled 2\nthrottled_usec 5000\nnr_bursts 0\nburst_usec 0\n"
    )
    (leaf / "memory.current").write_text("6291456\n")
    (leaf / "memory.stat").write_text(MEMORY_STAT)
    (leaf / "pids.current").write_text("3\n")
    (leaf / "io.stat").write_text(
        "8:0 rbytes=1048576 wbytes=4096 rios=12 wios=1 dbytes=0 dios=0\n"
        "253:0 rbytes=2048 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n"
    )
    st = cg.stats()
    assert st.cpu_usage_ns == 123_456_000
    assert st.memory_usage == 6291456 and st.memory_inactive_file == 3072000
    assert st.memory_working_set == 6291456 - 3072000
    assert st.memory_limit == 64 * MiB
    assert st.pids_current == 3 and st.pids_limit == 100
    assert (st.block_read, st.block_write) == (1048576 + 2048, 4096 + 8192)
    (leaf / "memory.max").write_text("max\n")
    (leaf / "pids.max").write_text("max\n")
    st = cg.stats()
    assert st.memory_limit is None and st.pids_limit is None


def test_oom_kill_counter_from_memory_events(tree: Path) -> None:
    kernel_mkdir(tree / "dockyard", ALL_CONTROLLERS)
    leaf = kernel_mkdir(tree / "dockyard" / "c1", "cpu io memory pids")
    cg = ContainerCgroup.create("c1", Limits(memory=10 * MiB), system=CgroupSystem.v2_at(str(tree)))
    assert not cg.oom_killed()
    (leaf / "memory.events").write_text("low 0\nhigh 0\nmax 57\noom 3\noom_kill 2\noom_group_kill 0\n")
    assert cg.oom_killed() and cg.oom_kill_count() == 2


# --- freeze and kill protocols, with a thread playing the kernel ------------------------------------------


class FakeKernel(threading.Thread):
    """Answers cgroup.freeze and cgroup.kill writes in a fake cgroup after ``delay`` seconds."""

    def __init__(self, leaf: Path, delay: float = 0.05, answer_freeze: bool = True) -> None:
        super().__init__(daemon=True)
        self.leaf, self.delay, self.answer_freeze = leaf, delay, answer_freeze
        self.halt = threading.Event()

    def run(self) -> None:
        frozen = "0"
        while not self.halt.wait(0.002):
            want = _read(self.leaf / "cgroup.freeze")
            if want in ("0", "1") and want != frozen and self.answer_freeze:
                time.sleep(self.delay)
                frozen = want
                self._events(frozen)
            if _read(self.leaf / "cgroup.kill") == "1":
                time.sleep(self.delay)
                for pid in _read(self.leaf / "cgroup.procs").split():
                    os.kill(int(pid), signal.SIGKILL)  # only our own test children are listed
                _write(self.leaf / "cgroup.procs", "")
                _write(self.leaf / "cgroup.kill", "")
                self._events(frozen, populated="0")

    def _events(self, frozen: str, populated: str | None = None) -> None:
        current = dict(line.split() for line in _read(self.leaf / "cgroup.events").splitlines())
        current["frozen"] = frozen
        if populated is not None:
            current["populated"] = populated
        _write(self.leaf / "cgroup.events", "".join(f"{k} {v}\n" for k, v in current.items()))


@pytest.fixture
def fake_leaf(tree: Path) -> Iterator[tuple[ContainerCgroup, Path]]:
    kernel_mkdir(tree / "dockyard", ALL_CONTROLLERS)
    leaf = kernel_mkdir(tree / "dockyard" / "c1", "cpu io memory pids")
    yield ContainerCgroup.create("c1", system=CgroupSystem.v2_at(str(tree))), leaf


def test_freeze_waits_for_the_kernel_to_report_frozen(fake_leaf: tuple[ContainerCgroup, Path]) -> None:
    cg, leaf = fake_leaf
    kernel = FakeKernel(leaf, delay=0.05)
    kernel.start()
    try:
        start = time.monotonic()
        cg.freeze()
        assert time.monotonic() - start >= 0.04
        assert _read(leaf / "cgroup.freeze") == "1" and cg.frozen()
        cg.thaw()
        assert _read(leaf / "cgroup.freeze") == "0" and not cg.frozen()
    finally:
        kernel.halt.set()
        kernel.join()


def test_freeze_times_out_when_the_kernel_never_confirms(fake_leaf: tuple[ContainerCgroup, Path]) -> None:
    cg, leaf = fake_leaf
    with pytest.raises(RuntimeFailure, match="timed out after 0.1s waiting for .* to freeze"):
        cg.freeze(timeout=0.1)


def test_kill_all_writes_cgroup_kill_and_waits_until_empty(fake_leaf: tuple[ContainerCgroup, Path]) -> None:
    cg, leaf = fake_leaf
    child = subprocess.Popen(["sleep", "30"])
    try:
        (leaf / "cgroup.procs").write_text(f"{child.pid}\n")
        assert cg.pids() == [child.pid]
        kernel = FakeKernel(leaf, delay=0.05)
        kernel.start()
        try:
            cg.kill_all()
            assert cg.pids() == []
        finally:
            kernel.halt.set()
            kernel.join()
        assert child.wait(timeout=5) == -signal.SIGKILL
    finally:
        child.kill()
        child.wait()


def test_kill_all_without_cgroup_kill_signals_each_process(fake_leaf: tuple[ContainerCgroup, Path]) -> None:
    cg, leaf = fake_leaf
    (leaf / "cgroup.kill").unlink()  # a kernel before 5.14
    child = subprocess.Popen(["sleep", "30"])
    reaper = threading.Thread(target=lambda: (child.wait(), _write(leaf / "cgroup.procs", "")))
    try:
        (leaf / "cgroup.procs").write_text(f"{child.pid}\n")
        reaper.start()
        cg.kill_all(timeout=5)
        assert cg.pids() == [] and child.returncode == -signal.SIGKILL
    finally:
        child.kill()
        reaper.join()


# --- the real cgroup2 mount of this machine ---------------------------------------------------------------


def _real_v2() -> CgroupSystem | None:
    try:
        system = detect()
    except RuntimeFailure:
        return None
    u = system.unified
    if u is None or os.geteuid() != 0 or not os.access(u.own_dir, os.W_OK):
        return None
    return CgroupSystem.v2_at(u.mount, own=u.own)


REAL = _real_v2()
needs_real_v2 = pytest.mark.skipif(REAL is None, reason="needs root and a writable cgroup2 mount")


@pytest.fixture
def real_parent() -> Iterator[str]:
    name = f"dockyard-test-{uuid.uuid4().hex[:10]}"
    try:
        yield name
    finally:
        if REAL is not None:
            remove_leftovers(set(), parent=name, system=REAL)
            remove_parent(name, system=REAL)
            assert REAL.unified is not None
            assert not os.path.exists(os.path.join(REAL.unified.own_dir, name))


COUNTER = """\
import sys, time
i = 0
while True:
    i += 1
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(i))
    import os; os.replace(sys.argv[1] + ".tmp", sys.argv[1])
    time.sleep(0.002)
"""


def _gone(pid: int) -> bool:
    """The process has exited (it may linger as a zombie until its new parent reaps it)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def _counter(path: Path) -> int:
    for _ in range(200):
        if path.exists():
            return int(path.read_text())
        time.sleep(0.01)
    raise AssertionError("counter never written")


@needs_real_v2
@pytest.mark.root
@pytest.mark.slow
def test_real_v2_limits_without_controller_are_refused(real_parent: str) -> None:
    assert REAL is not None and REAL.unified is not None
    available = set(_read(os.path.join(REAL.unified.own_dir, "cgroup.controllers")).split())
    if "memory" in available:
        pytest.skip("this cgroup2 mount has the memory controller")
    with pytest.raises(RuntimeFailure, match='cgroup controller "memory" is not available'):
        ContainerCgroup.create("c1", Limits(memory=64 * MiB), parent=real_parent, system=REAL)
    assert not os.path.exists(os.path.join(REAL.unified.own_dir, real_parent))


@needs_real_v2
@pytest.mark.root
@pytest.mark.slow
def test_real_v2_freeze_kill_and_destroy(real_parent: str, tmp_path: Path) -> None:
    assert REAL is not None
    cg = ContainerCgroup.create("c1", parent=real_parent, system=REAL)
    counter = tmp_path / "counter"
    child = subprocess.Popen([sys.executable, "-c", COUNTER, str(counter)])
    try:
        cg.add(child.pid)
        assert cg.pids() == [child.pid]
        _counter(counter)
        cg.freeze()
        assert cg.frozen() and _read(Path(cg.dirs["unified"]) / "cgroup.freeze") == "1"
        before = _counter(counter)
        time.sleep(0.2)
        assert _counter(counter) == before
        cg.thaw()
        time.sleep(0.2)
        assert _counter(counter) > before and not cg.frozen()
        assert cg.stats().cpu_usage_ns > 0
        cg.freeze()
        cg.kill_all()  # cgroup.kill reaches frozen processes too
        assert cg.pids() == []
        assert child.wait(timeout=5) == -signal.SIGKILL
        assert not cg.oom_killed()
        cg.destroy()
        assert not cg.exists()
    finally:
        child.kill()
        child.wait()


@needs_real_v2
@pytest.mark.root
@pytest.mark.slow
def test_real_v2_destroy_kills_forked_processes(real_parent: str) -> None:
    assert REAL is not None
    cg = ContainerCgroup.create("c2", parent=real_parent, system=REAL)
    child = subprocess.Popen(["sh", "-c", "read x; sleep 30 & sleep 30 & wait"], stdin=subprocess.PIPE)
    sleeps: list[int] = []
    try:
        cg.add(child.pid)
        assert child.stdin is not None
        child.stdin.write(b"\n")  # the shell forks its sleeps once it is in the cgroup
        child.stdin.flush()
        deadline = time.monotonic() + 5
        while len(cg.pids()) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        sleeps = [pid for pid in cg.pids() if pid != child.pid]
        assert len(sleeps) == 2
        cg.destroy()
        assert not cg.exists()
        assert child.wait(timeout=5) == -signal.SIGKILL
        assert all(_gone(pid) for pid in sleeps)
    finally:
        for pid in sleeps:  # only if the test failed half-way: our own children's children, by PID
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        child.kill()
        child.wait()
