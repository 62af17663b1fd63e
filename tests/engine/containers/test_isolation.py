"""Isolation and limits, checked from inside real containers started by the CLI (Docker's defaults)."""

from __future__ import annotations

import json
import os
import time

import pytest

pytestmark = pytest.mark.slow


def sh(cli, script: str, *flags: str, check: bool = True):
    return cli("run", "--rm", *flags, "busybox", "sh", "-c", script, check=check)


def test_own_pid1_hostname_and_no_host_processes(cli, busybox):
    out = sh(
        cli, "echo $$; hostname; ps -o pid | wc -l; cat /proc/1/cmdline | tr '\\0' ' '", "--hostname", "box1"
    ).out
    lines = out.splitlines()
    assert lines[0] == "1"
    assert lines[1] == "box1"
    assert int(lines[2]) <= 4  # header + sh + ps + wc: the host's processes are invisible
    assert lines[3].startswith("sh -c")


def test_capabilities_no_new_privs_and_fds(cli, busybox):
    status = sh(cli, "cat /proc/self/status").out
    assert "CapBnd:\t00000000a80425fb" in status
    assert "NoNewPrivs:\t1" in status
    assert "Seccomp:\t2" in status
    fds = sh(cli, "ls /proc/self/fd").out.split()
    assert set(fds) <= {"0", "1", "2", "3"}  # 3 is ls's own directory handle
    dropped = sh(cli, "cat /proc/self/status", "--cap-drop", "ALL", "--cap-add", "NET_BIND_SERVICE").out
    assert "CapBnd:\t0000000000000400" in dropped
    priv = sh(cli, "cat /proc/self/status", "--privileged").out
    host_bnd = [line for line in open("/proc/self/status").read().splitlines() if line.startswith("CapBnd")][
        0
    ]
    assert host_bnd in priv  # privileged: every capability the engine itself has


def test_masked_and_readonly_proc(cli, busybox):
    assert sh(cli, "cat /proc/timer_list | wc -c").out.strip() == "0"
    assert sh(cli, "cat /proc/kcore | wc -c").out.strip() == "0"
    r = sh(cli, "echo 1 > /proc/sys/kernel/domainname", check=False)
    assert r.code != 0 and "Read-only file system" in r.err
    r = sh(cli, "echo x > /proc/sysrq-trigger", check=False)
    assert r.code != 0


def test_cannot_mount_or_change_time(cli, busybox):
    r = sh(cli, "mkdir -p /mnt/x && mount -t tmpfs none /mnt/x", check=False)
    assert r.code != 0 and ("denied" in r.err.lower() or "not permitted" in r.err.lower())
    r = sh(cli, "date -s 2001-01-01", check=False)
    assert r.code != 0 or "not permitted" in r.err.lower()


def test_device_nodes_made_inside_do_not_open(cli, busybox, tmp_path):
    """CAP_MKNOD is in Docker's default set; what keeps a made node (here /dev/null's numbers) from opening is
    nodev on every writable place: the root, /dev, directory binds, tmpfs. The standard nodes still work,
    a bind of one device node too, and a privileged container may use what it makes."""
    script = (
        "for d in /tmp /dev /b /t; do mknod $d/n c 1 3 && (echo x > $d/n) 2>/dev/null; echo $d=$?; done; "
        "echo x > /dev/null && head -c 3 /dev/zero | wc -c && cat /blank && echo blank=ok"
    )
    flags = ("-v", f"{tmp_path}:/b", "--tmpfs", "/t", "-v", "/dev/null:/blank")
    assert sh(cli, script, *flags).out.split() == ["/tmp=1", "/dev=1", "/b=1", "/t=1", "3", "blank=ok"]
    privileged = sh(cli, "mknod /tmp/n c 1 3 && echo x > /tmp/n && echo opened", "--privileged").out
    assert privileged.strip() == "opened"


def test_writable_layer_only(cli, busybox, engine_):
    cli("run", "--name", "wl", "busybox", "sh", "-c", "echo x > /bin/new; rm /etc/passwd")
    cid = engine_.containers.resolve("wl")
    lower = engine_.images.get("busybox").layers[0].path
    assert os.path.exists(os.path.join(lower, "etc", "passwd"))  # the image is untouched
    assert not os.path.exists(os.path.join(lower, "bin", "new"))
    changes = dict((p, k) for k, p in engine_.containers.diff(cid))
    assert changes["/bin/new"] == "A" and changes["/etc/passwd"] == "D" and changes["/bin"] == "C"
    assert cli("diff", "wl").out.splitlines() == ["C /bin", "A /bin/new", "C /etc", "D /etc/passwd"]


def test_user_workdir_env_entrypoint(cli, busybox, tmp_path):
    assert sh(cli, "id -u; id -g", "-u", "nobody").out.split() == ["65534", "65534"]
    assert sh(cli, "id -u; id -g", "-u", "1234:5678").out.split() == ["1234", "5678"]
    assert "unable to find user nosuch" in sh(cli, "true", "-u", "nosuch", check=False).err
    assert sh(cli, "pwd", "-w", "/var/new/dir").out.strip() == "/var/new/dir"
    envf = tmp_path / "env"
    envf.write_text("# comment\nFROM_FILE=yes\n\n")
    out = sh(
        cli,
        "echo $A $B $FROM_FILE $HOSTNAME",
        "-e",
        "A=1",
        "--env",
        "B=two",
        "--env-file",
        str(envf),
        "--hostname",
        "hn",
    ).out
    assert out.split() == ["1", "two", "yes", "hn"]
    assert (
        cli("run", "--rm", "--entrypoint", "echo", "busybox", "from", "entrypoint").out == "from entrypoint\n"
    )


def test_read_only_tmpfs_and_binds(cli, busybox, tmp_path):
    r = sh(cli, "touch /x", "--read-only", check=False)
    assert r.code != 0 and "Read-only file system" in r.err
    assert sh(cli, "touch /scratch/x && mount | grep /scratch", "--read-only", "--tmpfs", "/scratch").out
    host = tmp_path / "shared"
    host.mkdir()
    (host / "in.txt").write_text("from host")
    assert sh(cli, "cat /data/in.txt; echo back > /data/out.txt", "-v", f"{host}:/data").out == "from host"
    assert (host / "out.txt").read_text() == "back\n"
    r = sh(cli, "echo no > /data/x", "-v", f"{host}:/data:ro", check=False)
    assert r.code != 0 and not (host / "x").exists()


def test_named_volume_persists(cli, busybox):
    cli("volume", "create", "vol1")
    sh(cli, "echo kept > /v/file", "-v", "vol1:/v")
    assert sh(cli, "cat /v/file", "-v", "vol1:/v").out == "kept\n"
    assert "vol1" in cli("volume", "ls").out
    cid = cli("create", "-v", "vol1:/v", "busybox", "true").out.strip()
    assert "volume is in use" in cli.fails("volume", "rm", "vol1").err
    cli("rm", cid)
    cli("volume", "rm", "vol1")
    # an anonymous volume goes with rm -v
    cid = cli("run", "-v", "/anon", "busybox", "touch", "/anon/f").out.strip()
    assert len(cli("volume", "ls", "-q").out.split()) == 1
    cli("rm", "-v", cid or cli("ps", "-aq").out.split()[0])
    assert cli("volume", "ls", "-q").out.split() == []


def test_memory_limit_oom_kills(cli, busybox):
    # tail buffers an endless line in memory: it grows until the 16 MiB limit kills it
    r = cli(
        "run",
        "--name",
        "oom",
        "-m",
        "16m",
        "--memory-swap",
        "16m",
        "busybox",
        "sh",
        "-c",
        "tail /dev/zero",
        check=False,
    )
    assert r.code == 137
    d = json.loads(cli("inspect", "oom").out)[0]
    assert d["State"]["OOMKilled"] is True and d["State"]["ExitCode"] == 137
    assert d["HostConfig"]["Memory"] == 16 * 1024 * 1024
    assert "Minimum memory limit" in cli.fails("run", "-m", "1m", "busybox", "true").err


def test_pids_limit_holds(cli, busybox):
    r = cli(
        "run",
        "--rm",
        "--pids-limit",
        "10",
        "busybox",
        "sh",
        "-c",
        "for i in $(seq 1 40); do echo $i; sleep 1000 & done",
        check=False,
    )
    assert r.code == 2 and "can't fork" in r.err
    started = int(r.out.split()[-1])
    assert 8 <= started <= 10  # sh itself and 9 sleeps fill the 10 slots; the next fork fails


def test_cpus_quota_written(cli, busybox, engine_):
    cid = cli("run", "-d", "--cpus", "0.5", "busybox", "sleep", "100").out.strip()
    from engine.runtime.cgroups import ContainerCgroup, parent_for_root

    cg = ContainerCgroup.open(cid, parent_for_root(engine_.root))
    quota_files = [os.path.join(d, "cpu.cfs_quota_us") for d in cg.dirs.values()] + [
        os.path.join(d, "cpu.max") for d in cg.dirs.values()
    ]
    values = [open(p).read().strip() for p in quota_files if os.path.exists(p)]
    assert "50000" in values or "50000 100000" in values
    cli("rm", "-f", cid)
    time.sleep(0.1)
    assert not cg.exists()
