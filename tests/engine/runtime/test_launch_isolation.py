"""What a container process can see and do: namespaces, masked and read-only paths, /dev, cgroups."""

from __future__ import annotations

import os

import pytest

from tests.engine.runtime.conftest import Runner

pytestmark = [pytest.mark.slow, pytest.mark.root]


def test_only_its_own_processes_are_visible(runner: Runner) -> None:
    code, out = runner.sh("sleep 5 & ps -o pid,comm; kill $!")
    lines = out.splitlines()
    assert code == 0
    assert lines[1].split() == ["1", "sh"]
    assert [line.split()[0] for line in lines[1:]] == ["1", "2", "3"]  # sh, the sleep, ps itself


def test_host_processes_are_invisible(runner: Runner) -> None:
    code, out = runner.sh("ls /proc | grep '^[0-9]' | sort -n | tail -1")
    assert code == 0 and int(out) < 10  # the biggest PID in there is the container's own


@pytest.mark.parametrize("ns", ["mnt", "uts", "ipc", "net", "pid", "cgroup"])
def test_namespaces_differ_from_the_host(runner: Runner, ns: str) -> None:
    code, out = runner.sh(f"readlink /proc/1/ns/{ns}")
    assert code == 0 and out.strip() != os.readlink(f"/proc/self/ns/{ns}")


def test_masked_paths_are_empty(runner: Runner) -> None:
    code, out = runner.sh("wc -c < /proc/timer_list; wc -c < /proc/interrupts; ls -A /sys/firmware | wc -l")
    assert (code, out.split()) == (0, ["0", "0", "0"])


def test_masked_file_is_the_null_device(runner: Runner) -> None:
    code, out = runner.sh("echo x > /proc/timer_list && echo written; stat -c '%t,%T' /proc/timer_list")
    assert (code, out) == (0, "written\n1,3\n")


def test_proc_sys_is_read_only(runner: Runner) -> None:
    code, out = runner.sh(
        "echo 1 > /proc/sys/kernel/ns_last_pid || echo refused; echo y > /proc/sysrq-trigger"
    )
    assert code != 0
    assert "refused" in out and "Read-only file system" in out


def test_sys_is_read_only(runner: Runner) -> None:
    code, out = runner.sh("grep -E ' /sys(/fs/cgroup)? ' /proc/mounts")
    assert code == 0
    for line in out.splitlines():
        assert line.split()[3].split(",")[0] == "ro", line


def test_mounting_is_refused(runner: Runner) -> None:
    code, out = runner.sh("mkdir -p /mnt; mount -t tmpfs x /mnt || echo refused")
    assert code == 0 and out.endswith("refused\n")


def test_dev_has_the_standard_nodes_and_links(runner: Runner) -> None:
    code, out = runner.sh(
        "for d in null zero full random urandom tty; do stat -c '%n %F %t,%T %a' /dev/$d; done; "
        "readlink /dev/ptmx; readlink /dev/fd; readlink /dev/stdin; grep -E ' /dev(/pts|/shm|/mqueue)? ' /proc/mounts | cut -d' ' -f2,3"
    )
    assert code == 0
    lines = out.splitlines()
    assert lines[:6] == [
        "/dev/null character special file 1,3 666",
        "/dev/zero character special file 1,5 666",
        "/dev/full character special file 1,7 666",
        "/dev/random character special file 1,8 666",
        "/dev/urandom character special file 1,9 666",
        "/dev/tty character special file 5,0 666",
    ]
    assert lines[6:9] == ["pts/ptmx", "/proc/self/fd", "/proc/self/fd/0"]
    assert sorted(lines[9:]) == ["/dev tmpfs", "/dev/mqueue mqueue", "/dev/pts devpts", "/dev/shm tmpfs"]


def test_no_host_filesystem_is_reachable(runner: Runner) -> None:
    code, out = runner.sh(
        "readlink /proc/1/exe; cut -d' ' -f5 /proc/self/mountinfo | sort -u | head -3; ls /"
    )
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "/bin/busybox"  # PID 1 is the command, not the host's python
    assert os.path.basename(runner.rootfs) not in out
    assert "/work" not in lines[1:]


def test_cgroup_namespace_root_is_the_container_cgroup(runner: Runner) -> None:
    code, out = runner.sh("cat /proc/self/cgroup")
    assert code == 0
    assert all(line.endswith(":/") for line in out.splitlines())


def test_the_process_joins_its_cgroups_itself_before_the_cgroup_namespace(
    runner: Runner, memory_cgroup: str
) -> None:
    seen = []

    def before_exec(pid: int) -> None:
        with open(os.path.join(memory_cgroup, "cgroup.procs")) as f:
            seen.append(f.read().split())

    code, out = runner.sh(
        "grep memory /proc/self/cgroup; cat /sys/fs/cgroup/memory/cgroup.procs",
        cgroup_join=[os.path.join(memory_cgroup, "tasks")],  # v1: a thread moving itself, no global lock
        before_exec=before_exec,
    )
    assert code == 0
    lines = out.splitlines()
    assert lines[0].endswith(":memory:/")
    assert lines[1] == "1"  # the namespace's cgroup tree starts at the container's cgroup
    assert seen == [[]]  # it joined after the caller's hook, by itself
