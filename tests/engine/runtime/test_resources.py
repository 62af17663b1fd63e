"""run/create's resource flags reach the container's cgroup files (v1 here; v2's syntax on a directory laid
out as the kernel's), are shown by inspect, and are refused in Docker's words."""

from __future__ import annotations

import json
import os

import pytest

from engine.runtime.cgroups import ContainerCgroup, Limits, detect, parent_for_root
from engine.runtime.cgroups import v2 as cg_v2

MiB = 1024 * 1024
V1 = detect().mode in ("v1", "hybrid")
needs_v1 = pytest.mark.skipif(not V1, reason="reads the cgroup v1 files of this machine")


def cgroup_value(root: str, cid: str, controller: str, name: str) -> str:
    """The content of one cgroup file of the container (``controller``'s directory on v1)."""
    cg = ContainerCgroup.open(cid, parent_for_root(root))
    d = cg.dirs.get(controller) or cg.dirs["unified"]
    with open(os.path.join(d, name)) as f:
        return f.read().strip()


def inspect(cli, cid: str) -> dict:
    return json.loads(cli("inspect", cid).out)[0]


@needs_v1
def test_resource_flags_reach_the_cgroup_files(cli, busybox, root):
    r = cli(
        "run", "-d", "--cpuset-cpus", "0", "--cpu-shares", "512", "--cpu-period", "50000",
        "--cpu-quota", "25000", "-m", "64m", "--memory-swap", "-1", "--memory-reservation", "32m",
        "--memory-swappiness", "10", "--oom-kill-disable", "--pids-limit", "20",
        busybox, "sleep", "100",
    )  # fmt: skip
    cid = r.out.strip()
    assert cgroup_value(root, cid, "cpuset", "cpuset.cpus") == "0"
    assert cgroup_value(root, cid, "cpu", "cpu.shares") == "512"
    assert cgroup_value(root, cid, "cpu", "cpu.cfs_period_us") == "50000"
    assert cgroup_value(root, cid, "cpu", "cpu.cfs_quota_us") == "25000"
    assert cgroup_value(root, cid, "memory", "memory.limit_in_bytes") == str(64 * MiB)
    assert cgroup_value(root, cid, "memory", "memory.soft_limit_in_bytes") == str(32 * MiB)
    assert cgroup_value(root, cid, "memory", "memory.swappiness") == "10"
    assert "oom_kill_disable 1" in cgroup_value(root, cid, "memory", "memory.oom_control")
    memsw = cgroup_value(root, cid, "memory", "memory.memsw.limit_in_bytes")
    assert int(memsw) > 1 << 62  # -1: unlimited swap
    assert cgroup_value(root, cid, "pids", "pids.max") == "20"
    hc = inspect(cli, cid)["HostConfig"]
    assert (hc["CpusetCpus"], hc["CpuShares"], hc["CpuPeriod"], hc["CpuQuota"]) == ("0", 512, 50000, 25000)
    assert (hc["Memory"], hc["MemorySwap"], hc["MemoryReservation"]) == (64 * MiB, -1, 32 * MiB)
    assert (hc["MemorySwappiness"], hc["OomKillDisable"], hc["PidsLimit"]) == (10, True, 20)
    # the process itself runs on CPU 0 only
    assert cli("exec", cid, "cat", "/proc/self/status").out.split("Cpus_allowed_list:")[1].split()[0] == "0"
    cli("rm", "-f", cid)


@needs_v1
def test_memory_swap_defaults_to_twice_memory_as_in_docker(cli, busybox, root):
    cid = cli("run", "-d", "-m", "32m", busybox, "sleep", "100").out.strip()
    assert cgroup_value(root, cid, "memory", "memory.memsw.limit_in_bytes") == str(64 * MiB)
    assert inspect(cli, cid)["HostConfig"]["MemorySwap"] == 64 * MiB
    cli("rm", "-f", cid)


@needs_v1
def test_cpu_quota_minus_one_and_period_alone(cli, busybox, root):
    cid = cli("run", "-d", "--cpu-period", "20000", "--cpu-quota", "-1", busybox, "sleep", "100").out.strip()
    assert cgroup_value(root, cid, "cpu", "cpu.cfs_period_us") == "20000"
    assert cgroup_value(root, cid, "cpu", "cpu.cfs_quota_us") == "-1"
    cli("rm", "-f", cid)


def test_blkio_weight_applied_or_discarded_with_dockers_warning(cli, busybox, root):
    r = cli("run", "-d", "--blkio-weight", "300", busybox, "sleep", "100")
    cid = r.out.strip()
    cg = ContainerCgroup.open(cid, parent_for_root(root))
    blkio = cg.dirs.get("blkio", "")
    files = [n for n in ("blkio.weight", "blkio.bfq.weight") if os.path.exists(os.path.join(blkio, n))]
    if files:  # the machine has a weight: it is written
        assert cgroup_value(root, cid, "blkio", files[0]).split()[-1] == "300"
        assert inspect(cli, cid)["HostConfig"]["BlkioWeight"] == 300
    else:  # as Docker: dropped with its warning, inspect shows 0
        assert "WARNING: Your kernel does not support Block I/O weight" in r.err
        assert inspect(cli, cid)["HostConfig"]["BlkioWeight"] == 0
    cli("rm", "-f", cid)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--cpuset-cpus", "0-63"], "Requested CPUs are not available - requested 0-63, available: "),
        (["--cpuset-cpus", "0-x"], "Invalid value 0-x for cpuset cpus: invalid format: 0-x"),
        (["--cpuset-mems", "7"], "Requested memory nodes are not available - requested 7, available: "),
        (
            ["--cpus", "1", "--cpu-period", "10000"],
            "Conflicting options: Nano CPUs and CPU Period cannot both be set",
        ),
        (
            ["--cpus", "1", "--cpu-quota", "10000"],
            "Conflicting options: Nano CPUs and CPU Quota cannot both be set",
        ),
        (["--cpu-period", "500"], "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s"),
        (["--cpu-quota", "500"], "CPU cfs quota can not be less than 1ms (i.e. 1000)"),
        (["--memory-reservation", "1m"], "Minimum memory reservation allowed is 6MB"),
        (
            ["-m", "10m", "--memory-reservation", "20m"],
            "Minimum memory limit can not be less than memory reservation",
        ),
        (["--memory-swappiness", "101"], "Invalid value: 101, valid memory swappiness range is 0-100"),
        (["--blkio-weight", "5"], "Range of blkio weight is from 10 to 1000"),
        (["--kernel-memory", "10m"], "kernel memory limit is deprecated"),
    ],
)
def test_bad_resource_flags_are_refused_before_anything_is_written(cli, busybox, flags, message):
    r = cli.fails("create", *flags, busybox, "true", code=125)
    assert message in r.err
    assert cli("ps", "-aq").out == ""


def test_oom_kill_disable_without_memory_warns(cli, busybox):
    r = cli("create", "--oom-kill-disable", busybox, "true")
    assert "OOM killer is disabled for the container, but no memory limit is set" in r.err or (
        "OomKillDisable discarded" in r.err
    )


def test_v2_files_take_the_new_limits(tmp_path):
    d = str(tmp_path)
    for name, text in {"cpu.max": "max 100000", "io.weight": "default 100", "memory.low": "0"}.items():
        (tmp_path / name).write_text(text + "\n")
    cg_v2.apply_limits(
        d,
        Limits(cpu_period=50000, cpu_quota=20000, cpuset_cpus="0-1", cpuset_mems="0",
               memory_reservation=32 * MiB, blkio_weight=1000),
    )  # fmt: skip
    read = lambda n: (tmp_path / n).read_text().strip()  # noqa: E731
    assert read("cpu.max") == "20000 50000"
    assert (read("cpuset.cpus"), read("cpuset.mems")) == ("0-1", "0")
    assert read("memory.low") == str(32 * MiB)
    assert read("io.weight") == "default 10000"
    cg_v2.apply_limits(d, Limits(cpu_period=20000, cpu_quota=-1))
    assert read("cpu.max") == "max 20000"
    (tmp_path / "io.bfq.weight").write_text("100\n")
    cg_v2.apply_limits(d, Limits(blkio_weight=300))
    assert read("io.bfq.weight") == "300"


def test_limits_of_an_old_record_ask_for_nothing_new():
    class Old:  # a config written before the new fields existed
        memory = 64 * MiB
        memory_swap = None
        cpus = None
        cpu_shares = None
        pids_limit = None

    limits = Limits.of(Old())
    assert limits.memory == 64 * MiB and limits.cpuset_cpus == "" and limits.swappiness is None
    assert limits.cfs() == (None, None)
