"""run/create --mount, --volumes-from, --init, --shm-size and the namespace modes, seen from inside containers."""

from __future__ import annotations

import json
import os
import shutil

import pytest


def _inspect(cli, name: str) -> dict:
    return json.loads(cli("inspect", name).out)[0]


def test_mount_bind_readonly_and_propagation(cli, busybox, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "f").write_text("hello\n")
    r = cli(
        "run", "--name", "bb", "--mount", f"type=bind,source={src},target=/m,readonly", busybox,
        "sh", "-c", "cat /m/f; touch /m/x 2>&1; grep ' /m ' /proc/self/mountinfo", check=False,
    )  # fmt: skip
    assert r.out.startswith("hello\n")
    assert "Read-only file system" in r.out
    assert " ro," in r.out.splitlines()[-1]
    assert not (src / "x").exists()
    info = _inspect(cli, "bb")
    assert info["HostConfig"]["Mounts"] == [
        {"Type": "bind", "Source": str(src), "Target": "/m", "ReadOnly": True}
    ]
    assert info["HostConfig"]["Binds"] is None
    assert info["Mounts"][0] == {
        "Type": "bind", "Name": "", "Source": str(src), "Destination": "/m", "Mode": "", "RW": False,
        "Propagation": "rprivate",
    }  # fmt: skip
    out = cli(
        "run", "--rm", "--mount", f"type=bind,src={src},dst=/m,bind-propagation=shared", busybox,
        "grep", " /m ", "/proc/self/mountinfo",
    ).out  # fmt: skip
    assert " shared:" in out


def test_mount_bind_source_must_exist_unlike_v(cli, busybox, tmp_path):
    missing = tmp_path / "missing"
    r = cli.fails("create", "--mount", f"type=bind,src={missing},dst=/m", busybox, code=125)
    assert f'invalid mount config for type "bind": bind source path does not exist: {missing}' in r.err
    assert not missing.exists()
    assert cli("ps", "-aq").out == ""
    cli("run", "--rm", "-v", f"{missing}:/m", busybox, "true")  # -v makes it
    assert missing.is_dir()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("src=/tmp", 'invalid argument "src=/tmp" for "--mount" flag: target is required'),
        ("type=bind,dst=/m,bogus", "invalid field 'bogus' must be a key=value pair"),
        ("type=bind,dst=/m,size=1", "unexpected key 'size' in 'size=1'"),
        ("type=bind,dst=/m,ro=maybe", "invalid value for ro: maybe"),
        ("type=tmpfs,dst=/m,bind-propagation=shared", "cannot mix 'bind-*' options with mount type 'tmpfs'"),
        ("type=bind,dst=/m", 'invalid mount config for type "bind": field Source must not be empty'),
        (
            "type=tmpfs,src=/x,dst=/m",
            'invalid mount config for type "tmpfs": field Source must not be specified',
        ),
        ("type=foo,dst=/m", 'invalid mount config for type "foo": mount type unknown'),
        ("type=volume,dst=m", "mount path must be absolute"),
        ("type=tmpfs,dst=/m,tmpfs-mode=9", "invalid value for tmpfs-mode: 9"),
    ],
)
def test_mount_errors(cli, busybox, spec, message):
    r = cli.fails("create", "--mount", spec, busybox, code=125)
    assert message in r.err
    assert cli("ps", "-aq").out == ""


def test_mount_tmpfs_and_volume(cli, busybox):
    out = cli(
        "run", "--rm", "--mount", "type=tmpfs,destination=/t,tmpfs-size=1m,tmpfs-mode=1770",
        "--mount", "type=volume,source=data,target=/v", busybox,
        "sh", "-c", "grep ' /t ' /proc/mounts; stat -c %a /t; echo kept > /v/f",
    ).out  # fmt: skip
    assert "size=1024k" in out and "mode=1770" in out and "noexec" in out
    assert out.splitlines()[1] == "1770"
    assert cli("run", "--rm", "-v", "data:/d", busybox, "cat", "/d/f").out == "kept\n"
    r = cli.fails("create", "-v", "/tmp:/x", "--mount", "type=tmpfs,dst=/x", busybox, code=125)
    assert "Duplicate mount point: /x" in r.err


def test_volumes_from_shares_and_can_force_readonly(cli, busybox):
    cli("run", "-d", "--name", "src", "-v", "shared:/data", busybox, "sleep", "100")
    cli("run", "--rm", "--name", "bb", "--volumes-from", "src", busybox, "sh", "-c", "echo from-b > /data/b")
    assert cli("exec", "src", "cat", "/data/b").out == "from-b\n"
    r = cli("run", "--rm", "--volumes-from", "src:ro", busybox, "sh", "-c", "echo x > /data/c", check=False)
    assert r.code != 0 and "Read-only file system" in r.err
    cli("create", "--name", "cc", "--volumes-from", "src", busybox, "true")
    info = _inspect(cli, "cc")
    assert info["HostConfig"]["VolumesFrom"] == ["src"]
    assert [(m["Name"], m["Destination"]) for m in info["Mounts"]] == [("shared", "/data")]
    r = cli.fails("create", "--volumes-from", "nosuch", busybox, code=125)
    assert "No such container: nosuch" in r.err
    cli("rm", "-f", "src")


@pytest.mark.skipif(
    not os.path.exists("/usr/bin/tini-static"), reason="tini not installed (apt-get install tini)"
)
def test_init_is_pid1_reaps_zombies_and_forwards_term(cli, busybox):
    out = cli(
        "run", "--rm", "--init", busybox, "sh", "-c", "(sleep 0.2 &); sleep 1; ps -o pid,stat,args",
    ).out  # fmt: skip
    lines = out.splitlines()
    assert lines[1].split()[0] == "1" and "/sbin/docker-init -- sh -c" in lines[1]
    assert "defunct" not in out and " Z " not in out
    cli("run", "-d", "--name", "ss", "--init", busybox, "sleep", "1000")
    import time

    t0 = time.monotonic()
    cli("stop", "ss")
    assert time.monotonic() - t0 < 5
    info = _inspect(cli, "ss")
    assert info["State"]["ExitCode"] == 143
    assert info["HostConfig"]["Init"] is True
    cli("run", "-d", "--name", "plain", busybox, "sleep", "1000")
    cli("stop", "-t", "1", "plain")  # sleep as PID 1 ignores TERM: killed after the timeout
    assert _inspect(cli, "plain")["State"]["ExitCode"] == 137


def test_init_binary_missing_is_a_clear_error(cli, busybox, monkeypatch):
    if shutil.which("tini-static") is None:
        r = cli.fails("create", "--init", busybox, code=125)
        assert "apt-get install tini" in r.err


def test_shm_size(cli, busybox):
    out = cli("run", "--rm", busybox, "df", "-k", "/dev/shm").out
    assert out.splitlines()[1].split()[1] == "65536"
    cli("run", "--name", "ss", "--shm-size", "16m", busybox, "df", "-k", "/dev/shm")
    assert _inspect(cli, "ss")["HostConfig"]["ShmSize"] == 16 << 20
    assert cli("logs", "ss").out.splitlines()[1].split()[1] == "16384"


def test_pid_host_and_container(cli, busybox):
    out = cli("run", "--rm", "--pid", "host", busybox, "sh", "-c", "echo $$; cat /proc/1/comm").out.split()
    assert out[0] != "1" and int(out[0]) > 1
    with open("/proc/1/comm") as f:
        assert out[1] == f.read().strip()
    cli("run", "-d", "--name", "target", busybox, "sleep", "100")
    out = cli("run", "--rm", "--pid", "container:target", busybox, "ps", "-o", "pid,args").out
    assert "    1 sleep 100" in out
    cli("rm", "-f", "target")
    r = cli.fails("create", "--pid", "bogus", busybox, code=125)
    assert "--pid: invalid PID mode" in r.err


def test_ipc_modes(cli, busybox):
    with open("/proc/self/ns/ipc") as _:
        pass
    host_ns = os.readlink("/proc/self/ns/ipc")
    assert (
        cli("run", "--rm", "--ipc", "host", busybox, "readlink", "/proc/self/ns/ipc").out.strip() == host_ns
    )
    out = cli("run", "--rm", "--ipc", "none", busybox, "sh", "-c", "ls /dev/shm || echo none", check=False)
    assert "none" in out.out
    cli("run", "-d", "--name", "donor", "--ipc", "shareable", busybox, "sleep", "100")
    cli("exec", "donor", "sh", "-c", "echo shared > /dev/shm/s")
    out = cli(
        "run", "--rm", "--ipc", "container:donor", busybox, "sh", "-c",
        "cat /dev/shm/s; echo back > /dev/shm/t; readlink /proc/self/ns/ipc",
    ).out.split()  # fmt: skip
    assert out[0] == "shared"
    assert out[1] == cli("exec", "donor", "readlink", "/proc/self/ns/ipc").out.strip()
    assert cli("exec", "donor", "cat", "/dev/shm/t").out == "back\n"
    cli("run", "-d", "--name", "private", busybox, "sleep", "100")
    r = cli.fails("run", "--rm", "--ipc", "container:private", busybox, "true", code=125)
    assert "non-shareable IPC" in r.err
    assert _inspect(cli, "donor")["HostConfig"]["IpcMode"] == "shareable"
    cli("rm", "-f", "donor", "private")


def test_uts_host(cli, busybox):
    assert cli("run", "--rm", "--uts", "host", busybox, "hostname").out.strip() == os.uname().nodename
    r = cli.fails("create", "--uts", "host", "-h", "x", busybox, code=125)
    assert "Conflicting options: hostname and the UTS mode" in r.err


def test_uts_container_joins_its_uts_namespace(cli, busybox):
    cli("run", "-d", "--name", "named", "-h", "alpha", busybox, "sleep", "100")
    ns = cli("exec", "named", "readlink", "/proc/self/ns/uts").out
    out = cli(
        "run", "--rm", "--uts", "container:named", busybox, "sh", "-c", "hostname; readlink /proc/self/ns/uts"
    )
    assert out.out == "alpha\n" + ns
    assert _inspect(cli, "named")["HostConfig"]["UTSMode"] == ""
    r = cli.fails("create", "--uts", "container:named", "-h", "x", busybox, code=125)
    assert "Conflicting options: hostname and the UTS mode" in r.err
    cli.fails("create", "--uts", "container:nothing-of-that-name", busybox, code=125)
    cli("stop", "-t", "0", "named")
    r = cli.fails("run", "--rm", "--uts", "container:named", busybox, "true", code=125)
    assert "cannot join UTS of a non running container" in r.err
    cli("rm", "-f", "named")
