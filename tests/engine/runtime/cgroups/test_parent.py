"""Where a root's containers get their cgroups: the parent recorded when the root is made.

The kernel tests give the test process's own cgroup a sub-cgroup of the test's and move a process the test
started into it (nothing ever leaves the test process's cgroup): that process, running in another cgroup,
must find the root's containers where the root's maker put them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import pytest

from engine import Engine
from engine.errors import InvalidArgument, RuntimeFailure
from engine.runtime.cgroups import (
    CgroupParent,
    ContainerCgroup,
    detect,
    parent_for_root,
    parse,
    remove_parent,
)
from tests.conftest import DOCKYARD, REPO

MOUNTINFO_HYBRID = """\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
37 31 0:34 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
"""
MOUNTINFO_V2 = "26 23 0:25 / /sys/fs/cgroup rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n"


def _own() -> str:
    with open("/proc/self/cgroup") as f:
        return f.read()


# --- without the kernel -----------------------------------------------------------------------------------


def test_a_parent_given_as_text() -> None:
    assert CgroupParent.of(None) == CgroupParent.of("") == CgroupParent("dockyard")
    assert CgroupParent.of("a//b/") == CgroupParent("a/b") and str(CgroupParent.of("a//b/")) == "a/b"
    absolute = CgroupParent.of("/dock")
    assert absolute.at_root and str(absolute) == "/dock"
    for bad in ("/", "a/../b", ".", "a/\0"):
        with pytest.raises(InvalidArgument, match="invalid cgroup parent"):
            CgroupParent.of(bad)


def test_a_recorded_anchor_holds_whatever_cgroup_the_caller_runs_in() -> None:
    # the caller runs in /session-2 (memory) and /work (cpu); the root was made from /session-1 and /
    system = parse(MOUNTINFO_HYBRID, "4:memory:/session-2\n3:cpu,cpuacct:/work\n8:pids:/\n0::/\n")
    parent = CgroupParent("dockyard-x", {"memory": "/session-1", "cpu": "/", "cpuacct": "/", "pids": "/"})
    cg = ContainerCgroup.open("c1", parent, system, must_exist=False)
    assert cg.dirs == {
        "cpu": "/sys/fs/cgroup/cpu,cpuacct/dockyard-x/c1",
        "cpuacct": "/sys/fs/cgroup/cpu,cpuacct/dockyard-x/c1",
        "memory": "/sys/fs/cgroup/memory/session-1/dockyard-x/c1",
        "pids": "/sys/fs/cgroup/pids/dockyard-x/c1",
    }
    assert cg.path == "/session-1/dockyard-x/c1"
    # a hierarchy the record does not name (mounted since) falls back to the caller's own cgroup
    partial = CgroupParent("dockyard-x", {"memory": "/session-1"})
    assert (
        ContainerCgroup.open("c1", partial, system, must_exist=False).dirs["pids"].endswith("/dockyard-x/c1")
    )
    assert ContainerCgroup.open("c1", partial, system, must_exist=False).dirs["cpu"] == (
        "/sys/fs/cgroup/cpu,cpuacct/work/dockyard-x/c1"
    )
    v2 = parse(MOUNTINFO_V2, "0::/user.slice/session-9.scope\n")
    recorded = CgroupParent("dockyard", {"": "/user.slice/session-3.scope"})
    assert ContainerCgroup.open("c1", recorded, v2, must_exist=False).dirs == {
        "unified": "/sys/fs/cgroup/user.slice/session-3.scope/dockyard/c1"
    }


# --- the record of a root ---------------------------------------------------------------------------------


def test_a_new_root_records_its_parent_below_the_cgroup_that_made_it(tmp_path) -> None:
    root = str(tmp_path / "root")
    Engine(root)
    with open(os.path.join(root, "cgroup-parent")) as f:
        name, _, rest = f.read().partition("\n")
    assert name.startswith("dockyard-") and rest == _own()
    parent = parent_for_root(root)
    assert parent.name == name and not parent.at_root
    for h in detect().container_hierarchies():
        assert parent.anchor(h) == h.own  # made by this process: below its own cgroups
    assert parent_for_root(root) == parent and parent_for_root(root + "/") == parent
    assert os.listdir(tmp_path / "root").count("cgroup-parent") == 1  # no temporary file left


def test_the_record_holds_for_a_root_made_elsewhere(tmp_path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    # what a process in the hierarchies' root cgroups would have recorded (the root cgroups always exist)
    made_at_top = "".join(
        f"{line.split(':', 2)[0]}:{line.split(':', 2)[1]}:/\n" for line in _own().splitlines()
    )
    (root / "cgroup-parent").write_text("dockyard-elsewhere\n" + made_at_top)
    parent = parent_for_root(str(root))
    assert parent.name == "dockyard-elsewhere"
    for h in detect().container_hierarchies():
        assert parent.anchor(h) == "/" and parent.dir(h) == h.dir_for("/dockyard-elsewhere")
    assert Engine(str(root)) and (root / "cgroup-parent").read_text().startswith("dockyard-elsewhere\n")


def test_a_record_whose_cgroup_is_gone_is_made_again(tmp_path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    gone = f"/dockyard-test-gone-{uuid.uuid4().hex[:10]}"
    stale = "".join(
        f"{line.split(':', 2)[0]}:{line.split(':', 2)[1]}:{gone}\n" for line in _own().splitlines()
    )
    (root / "cgroup-parent").write_text("dockyard-old\n" + stale)
    parent = parent_for_root(str(root))
    for h in detect().container_hierarchies():
        assert parent.anchor(h) == h.own
    assert (root / "cgroup-parent").read_text().endswith(_own())
    assert parent_for_root(str(root)) == parent


def test_nothing_is_written_for_a_root_that_does_not_exist(tmp_path) -> None:
    parent = parent_for_root(str(tmp_path / "gone"))
    assert not (tmp_path / "gone").exists()
    assert parent.name.startswith("dockyard-")
    for h in detect().container_hierarchies():
        assert parent.anchor(h) == h.own


# --- from another cgroup, on the kernel -------------------------------------------------------------------


def _sub_hierarchy() -> str | None:
    """The own-cgroup directory a test may make a sub-cgroup in: the memory hierarchy's on v1 (where this
    machine's processes have a cgroup of their own), the unified one on v2."""
    try:
        system = detect()
    except RuntimeFailure:
        return None
    h = system.unified if system.mode == "v2" else system.hierarchy("memory")
    if h is None or os.geteuid() != 0 or not os.access(h.own_dir, os.W_OK):
        return None
    return h.own_dir


needs_sub_cgroup = pytest.mark.skipif(_sub_hierarchy() is None, reason="needs root and a writable cgroup")


@pytest.fixture
def other_cgroup() -> Iterator[str]:
    """A cgroup below the test process's own: its cgroup.procs, for processes the test starts."""
    base = _sub_hierarchy()
    assert base is not None
    path = os.path.join(base, f"dockyard-test-other-{uuid.uuid4().hex[:10]}")
    os.mkdir(path)
    try:
        yield os.path.join(path, "cgroup.procs")
    finally:
        deadline = time.monotonic() + 10
        while True:  # the processes the test moved there may take a moment to be reaped
            try:
                os.rmdir(path)
                break
            except FileNotFoundError:
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)


LOCATE = """\
import json, sys
sys.stdin.readline()
from engine.runtime.cgroups import ContainerCgroup, parent_for_root
cg = ContainerCgroup.open("c1", parent_for_root(sys.argv[1]))
print(json.dumps({"dirs": cg.dirs, "pids": cg.pids()}), flush=True)
"""


@needs_sub_cgroup
@pytest.mark.root
@pytest.mark.slow
def test_a_process_in_another_cgroup_finds_the_roots_containers(tmp_path, other_cgroup: str) -> None:
    root = str(tmp_path / "root")
    os.makedirs(root)
    parent = parent_for_root(root)
    cg = ContainerCgroup.create("c1", parent=parent)
    p = subprocess.Popen(
        [sys.executable, "-c", LOCATE, root], stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=REPO
    )
    try:
        with open(other_cgroup, "w") as f:
            f.write(str(p.pid))
        sleeper = subprocess.Popen(["sleep", "30"])
        try:
            cg.add(sleeper.pid)
            out, _ = p.communicate(b"go\n", timeout=30)
        finally:
            sleeper.kill()
            sleeper.wait()
        seen = json.loads(out)
        assert seen["dirs"] == cg.dirs and seen["pids"] == [sleeper.pid]
    finally:
        p.kill()
        p.wait()
        cg.destroy()
        remove_parent(parent)
    assert not os.path.exists(parent.dir(detect().container_hierarchies()[0]))


def _join(procs: str) -> None:
    with open(procs, "w") as f:
        f.write("0")


@needs_sub_cgroup
@pytest.mark.root
@pytest.mark.slow
def test_containers_run_from_another_cgroup_go_below_the_roots_maker(
    engine_, busybox: str, cli, other_cgroup: str
) -> None:
    root = engine_.root
    env = {**os.environ, "DOCKYARD_ROOT": root}
    run = subprocess.run(
        [DOCKYARD, "run", "-d", "--network", "none", busybox, "sleep", "60"],
        env=env,
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        preexec_fn=lambda: _join(other_cgroup),  # the CLI, and so the supervisor, run in the other cgroup
    )
    assert run.returncode == 0, run.stderr
    cid = run.stdout.decode().strip()
    try:
        parent = parent_for_root(root)
        cg = ContainerCgroup.open(cid, parent)
        assert cg.pids(), "the container's process is where this process, which made the root, looks"
        own_dirs = [h.own_dir for h in detect().container_hierarchies()]
        assert all(
            any(d.startswith(own + "/") and "dockyard-test-other-" not in d for own in own_dirs)
            for d in cg.dirs.values()
        )
        cli("pause", cid)
        assert cg.frozen()
        cli("unpause", cid)
    finally:
        cli("rm", "-f", cid)
    assert not ContainerCgroup.open(cid, parent_for_root(root), must_exist=False).exists()


def _parent_dirs(root: str) -> list[str]:
    """The root's cgroup parent's directories that exist, in every hierarchy."""
    from engine.runtime.cgroups import detect
    from engine.runtime.cgroups.parent import _parent_dirs as dirs

    return [d for d in dirs(parent_for_root(root), detect()) if os.path.isdir(d)]


def test_system_prune_and_discarding_a_root_remove_its_cgroup_parent(cli, busybox, root, tmp_path) -> None:
    cli("run", "--name", "once", "--network", "none", busybox, "true")
    assert _parent_dirs(root), "running a container made the root's cgroup parent"
    cli("system", "prune", "-f")
    assert _parent_dirs(root) == []

    other = str(tmp_path / "other")
    cli_other = type(cli)(other)
    cli_other("import", "--change", 'CMD ["sh"]', "-", "busybox:latest", input=_busybox_bytes())
    cli_other("run", "-d", "--name", "up", "--network", "none", "busybox:latest", "sleep", "60")
    assert _parent_dirs(other)
    Engine(other).discard()
    assert _parent_dirs(other) == [] and not os.path.exists(other)


def _busybox_bytes() -> bytes:
    from engine.store.bootstrap import busybox_tar, find_static_busybox

    return busybox_tar(find_static_busybox())


def test_no_cgroup_is_made_for_a_discarded_root(tmp_path) -> None:
    """A start racing ``discard`` (a restart policy, a service's request) makes no cgroup parent again."""
    import glob

    root = str(tmp_path / "gone")
    Engine(root)
    parent = parent_for_root(root)
    Engine(root).discard()
    with pytest.raises(RuntimeFailure, match="is gone"):
        ContainerCgroup.create(uuid.uuid4().hex * 2, parent=parent)
    assert not glob.glob(f"/sys/fs/cgroup/*/{parent.name}") and not glob.glob(f"/sys/fs/cgroup/{parent.name}")
