"""``dockyard update``: live cgroup values and the record change together, on running and stopped
containers, with Docker's output and errors."""

from __future__ import annotations

import json
import os
import time

import pytest

from engine.runtime.cgroups import ContainerCgroup, detect, parent_for_root

MiB = 1024 * 1024
needs_v1 = pytest.mark.skipif(detect().mode not in ("v1", "hybrid"), reason="reads cgroup v1 files")


def cgroup_value(root: str, cid: str, controller: str, name: str) -> str:
    cg = ContainerCgroup.open(cid, parent_for_root(root))
    with open(os.path.join(cg.dirs.get(controller) or cg.dirs["unified"], name)) as f:
        return f.read().strip()


def host_config(cli, ref: str) -> dict:
    return json.loads(cli("inspect", ref).out)[0]["HostConfig"]


@needs_v1
def test_update_a_running_container_writes_its_cgroup_and_record(cli, busybox, root):
    cid = cli("run", "-d", "--name", "web", "-m", "64m", busybox, "sleep", "100").out.strip()
    r = cli(
        "update", "--cpu-shares", "256", "--cpuset-cpus", "0", "--pids-limit", "30", "-m", "96m",
        "--memory-swap", "200m", "--memory-reservation", "40m", "--cpus", "0.5", "web",
    )  # fmt: skip
    assert r.out == "web\n"  # each container as it was named, as Docker prints them
    assert cgroup_value(root, cid, "cpu", "cpu.shares") == "256"
    assert cgroup_value(root, cid, "cpuset", "cpuset.cpus") == "0"
    assert cgroup_value(root, cid, "pids", "pids.max") == "30"
    assert cgroup_value(root, cid, "memory", "memory.limit_in_bytes") == str(96 * MiB)
    assert cgroup_value(root, cid, "memory", "memory.memsw.limit_in_bytes") == str(200 * MiB)
    assert cgroup_value(root, cid, "memory", "memory.soft_limit_in_bytes") == str(40 * MiB)
    assert cgroup_value(root, cid, "cpu", "cpu.cfs_quota_us") == "50000"
    hc = host_config(cli, "web")
    assert (hc["CpuShares"], hc["CpusetCpus"], hc["PidsLimit"]) == (256, "0", 30)
    assert (hc["Memory"], hc["MemorySwap"], hc["MemoryReservation"]) == (96 * MiB, 200 * MiB, 40 * MiB)
    assert hc["NanoCpus"] == 500_000_000
    # the next start takes the record: stop, start, the values are there again
    cli("stop", "-t", "0", "web")
    cli("start", "web")
    assert cgroup_value(root, cid, "cpu", "cpu.shares") == "256"
    assert cgroup_value(root, cid, "memory", "memory.limit_in_bytes") == str(96 * MiB)
    cli("rm", "-f", "web")


@needs_v1
def test_update_a_stopped_container_takes_effect_at_its_start(cli, busybox, root):
    cli("create", "--name", "later", busybox, "sleep", "100")
    assert cli("update", "--cpu-shares", "300", "--pids-limit", "12", "later").out == "later\n"
    assert host_config(cli, "later")["CpuShares"] == 300
    cli("start", "later")
    cid = cli("inspect", "-f", "{{.Id}}", "later").out.strip()
    assert cgroup_value(root, cid, "cpu", "cpu.shares") == "300"
    assert cgroup_value(root, cid, "pids", "pids.max") == "12"
    cli("rm", "-f", "later")


def test_update_errors_in_dockers_words(cli, busybox):
    cid = cli("run", "-d", "-m", "32m", "--name", "mem", busybox, "sleep", "100").out.strip()
    r = cli.fails("update", "-m", "128m", "mem", code=1)
    assert r.err == (
        f"Error: Cannot update container {cid}: Memory limit should be smaller than already set "
        "memoryswap limit, update the memoryswap at the same time\n"
    )
    assert host_config(cli, "mem")["Memory"] == 32 * MiB  # nothing changed
    assert "you must provide one or more flags" in cli.fails("update", "mem").err
    assert "Minimum memory limit allowed is 6MB" in cli.fails("update", "-m", "1m", "mem").err
    cli("update", "--cpu-period", "50000", "mem")
    assert (
        "Nano CPUs cannot be updated as CPU Period has already been set"
        in cli.fails("update", "--cpus", "1", "mem").err
    )
    assert "No such container: nope" in cli.fails("update", "--cpu-shares", "2", "nope").err
    rm = cli("run", "-d", "--rm", busybox, "sleep", "100").out.strip()
    assert (
        "Restart policy cannot be updated because AutoRemove is enabled for the container"
        in cli.fails("update", "--restart", "always", rm).err
    )
    cli("rm", "-f", "mem", rm)


@needs_v1
def test_memory_below_what_the_container_uses_is_refused_and_rolled_back(cli, busybox, root):
    cid = cli(
        "run", "-d", "--tmpfs", "/t:size=64m", busybox, "sh", "-c",
        "head -c 30000000 /dev/zero > /t/fill && touch /t/done && sleep 100",
    ).out.strip()  # fmt: skip
    for _ in range(100):
        if cli("exec", cid, "ls", "/t/done", check=False).code == 0:
            break
        time.sleep(0.05)
    r = cli.fails("update", "-m", "10m", "--memory-swap", "20m", cid, code=1)
    assert f"Cannot update container {cid}: unable to set memory limit to {10 * MiB} (current usage:" in r.err
    assert host_config(cli, cid)["Memory"] == 0  # the record is as it was
    assert int(cgroup_value(root, cid, "memory", "memory.limit_in_bytes")) > 1 << 40  # and the cgroup
    cli("rm", "-f", cid)


def test_update_restart_policy_restarts_the_container_it_runs(cli, busybox):
    cid = cli("run", "-d", busybox, "sh", "-c", "sleep 1; exit 3").out.strip()
    assert cli("update", "--restart", "on-failure:2", cid).out == f"{cid}\n"
    deadline = time.time() + 20
    while time.time() < deadline:
        doc = json.loads(cli("inspect", cid).out)[0]
        if doc["RestartCount"] == 2 and doc["State"]["Status"] == "exited":
            break
        time.sleep(0.2)
    assert doc["RestartCount"] == 2 and doc["State"]["ExitCode"] == 3
    assert doc["HostConfig"]["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 2}


def test_update_several_containers_prints_each_and_reports_failures(cli, busybox):
    cli("create", "--name", "ca", busybox, "true")
    cli("create", "--name", "cb", busybox, "true")
    r = cli.fails("update", "--cpu-shares", "512", "ca", "missing", "cb", code=1)
    assert r.out == "ca\ncb\n" and "missing" in r.err
    assert host_config(cli, "cb")["CpuShares"] == 512
