"""run/create --ulimit, --device, --gpus, --security-opt, --sysctl, --group-add, --add-host host-gateway and
--privileged, seen from inside containers."""

from __future__ import annotations

import json
import os

import pytest


def _host_config(cli, name: str) -> dict:
    return json.loads(cli("inspect", name).out)[0]["HostConfig"]


def _status(cli, busybox, *flags: str) -> dict[str, str]:
    out = cli("run", "--rm", *flags, busybox, "cat", "/proc/self/status").out
    return dict(line.split(":\t", 1) for line in out.splitlines() if ":\t" in line)


def test_ulimit(cli, busybox):
    out = cli("run", "--name", "ul", "--ulimit", "nofile=1024:2048", "--ulimit", "core=0", busybox,
              "sh", "-c", "ulimit -n; ulimit -Hn; ulimit -c").out  # fmt: skip
    assert out.split() == ["1024", "2048", "0"]
    assert _host_config(cli, "ul")["Ulimits"] == [
        {"Name": "nofile", "Soft": 1024, "Hard": 2048},
        {"Name": "core", "Soft": 0, "Hard": 0},
    ]
    for value, message in (
        ("nofile", "invalid ulimit argument: nofile"),
        ("bogus=1", "invalid ulimit type: bogus"),
        ("nofile=2048:1024", "ulimit soft limit must be less than hard limit: 2048 > 1024"),
        ("nofile=x", 'strconv.ParseInt: parsing "x": invalid syntax'),
    ):
        r = cli.fails("create", "--ulimit", value, busybox, code=125)
        assert f'invalid argument "{value}" for "--ulimit" flag: {message}' in r.err


def test_device(cli, busybox):
    out = cli("run", "--name", "dev", "--device", "/dev/null:/dev/xnull:rwm", busybox,
              "sh", "-c", "ls -l /dev/xnull; echo gone > /dev/xnull && echo written").out  # fmt: skip
    assert out.startswith("crw-rw-rw-") and "1,   3" in out and out.endswith("written\n")
    assert _host_config(cli, "dev")["Devices"] == [
        {"PathOnHost": "/dev/null", "PathInContainer": "/dev/xnull", "CgroupPermissions": "rwm"}
    ]
    r = cli.fails("create", "--device", "/dev/nope", busybox, code=125)
    assert 'error gathering device information while adding custom device "/dev/nope"' in r.err
    r = cli.fails("create", "--device", "/dev/null:/dev/x:r", busybox, code=125)
    assert "device permissions 'r' are not supported" in r.err
    r = cli.fails("create", "--device", "/dev/null:/dev/x:rwx", busybox, code=125)
    assert "bad mode specified: rwx" in r.err
    assert cli("ps", "-aq").out.split() == [cli("inspect", "-f", "{{.Id}}", "dev").out.strip()[:12]]


def test_gpus_refused(cli, busybox):
    r = cli.fails("run", "--rm", "--gpus", "all", busybox, "true", code=125)
    assert "GPU" in r.err


def test_no_new_privileges_and_seccomp(cli, busybox, tmp_path):
    st = _status(cli, busybox)
    assert (st["NoNewPrivs"], st["Seccomp"]) == ("1", "2")
    st = _status(cli, busybox, "--security-opt", "no-new-privileges:false")
    assert (st["NoNewPrivs"], st["Seccomp"]) == ("0", "2")
    st = _status(cli, busybox, "--security-opt", "no-new-privileges")
    assert st["NoNewPrivs"] == "1"
    st = _status(cli, busybox, "--security-opt", "seccomp=unconfined")
    assert st["Seccomp"] == "0"
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [
            {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
            {"names": ["fchmodat"], "action": "SCMP_ACT_ERRNO",
             "args": [{"index": 2, "value": 0o777, "op": "SCMP_CMP_EQ"}]},
            {"names": ["chmod"], "action": "SCMP_ACT_ERRNO",
             "args": [{"index": 1, "value": 0o777, "op": "SCMP_CMP_EQ"}]},
            {"names": ["no_such_call"], "action": "SCMP_ACT_ERRNO"},
        ],
    }))  # fmt: skip
    r = cli("run", "--rm", "--name", "sc", "--security-opt", f"seccomp={profile}", busybox, "sh", "-c",
            "grep Seccomp: /proc/self/status; mkdir /x; touch /f; chmod 700 /f && echo 700ok; "
            "chmod 777 /f || echo 777refused", check=False)  # fmt: skip
    assert "Seccomp:\t2" in r.out
    assert "can't create directory '/x': Permission denied" in r.err
    assert "700ok" in r.out and "777refused" in r.out
    deny = tmp_path / "deny.json"
    deny.write_text(json.dumps({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
        {"names": ["execve"], "action": "SCMP_ACT_ALLOW"}]}))  # fmt: skip
    r = cli("run", "--rm", "--security-opt", f"seccomp={deny}", busybox, "true", check=False)
    assert r.code != 0  # busybox cannot run without the rest: the profile really applies
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    r = cli.fails("create", "--security-opt", f"seccomp={bad}", busybox, code=125)
    assert f"compacting json for seccomp profile ({bad}) failed" in r.err
    r = cli.fails("create", "--security-opt", "seccomp=/nonexistent.json", busybox, code=125)
    assert "opening seccomp profile (/nonexistent.json) failed" in r.err
    r = cli.fails("create", "--security-opt", "bogus=1", busybox, code=125)
    assert 'invalid --security-opt 2: "bogus=1"' in r.err


def test_label_and_apparmor_recorded(cli, busybox):
    cli("create", "--name", "lab", "--security-opt", "label=disable", "--security-opt", "apparmor=unconfined",
        busybox, "true")  # fmt: skip
    assert _host_config(cli, "lab")["SecurityOpt"] == ["label=disable", "apparmor=unconfined"]


def test_systempaths_unconfined(cli, busybox):
    out = cli("run", "--rm", busybox, "grep", "-c", " /proc/interrupts ", "/proc/mounts").out
    assert out.strip() == "1"
    r = cli("run", "--rm", "--security-opt", "systempaths=unconfined", busybox,
            "grep", "-c", " /proc/interrupts ", "/proc/mounts", check=False)  # fmt: skip
    assert r.out.strip() == "0"


def test_sysctl(cli, busybox):
    out = cli("run", "--name", "sy", "--sysctl", "net.ipv4.ip_unprivileged_port_start=99",
              "--sysctl", "kernel.shmmax=123456", "--sysctl", "fs.mqueue.msg_max=20", busybox,
              "cat", "/proc/sys/net/ipv4/ip_unprivileged_port_start", "/proc/sys/kernel/shmmax",
              "/proc/sys/fs/mqueue/msg_max").out  # fmt: skip
    assert out.split() == ["99", "123456", "20"]
    with open("/proc/sys/kernel/shmmax") as f:
        assert f.read().strip() != "123456"  # the host's is untouched
    assert _host_config(cli, "sy")["Sysctls"] == {
        "net.ipv4.ip_unprivileged_port_start": "99", "kernel.shmmax": "123456", "fs.mqueue.msg_max": "20",
    }  # fmt: skip
    r = cli.fails("create", "--sysctl", "kernel.hostname=x", busybox, code=125)
    assert (
        'invalid argument "kernel.hostname=x" for "--sysctl" flag: sysctl \'kernel.hostname=x\' is not allowed'
        in r.err
    )
    r = cli.fails("create", "--network", "host", "--sysctl", "net.ipv4.ip_forward=1", busybox, code=125)
    assert "not allowed in host network namespace" in r.err
    r = cli.fails("create", "--ipc", "host", "--sysctl", "kernel.shmmax=1", busybox, code=125)
    assert "not allowed in the hosts ipc namespace" in r.err


def test_group_add(cli, busybox):
    out = cli("run", "--name", "ga", "--group-add", "1234", "--group-add", "daemon", "-u", "65534", busybox,
              "id", "-G").out.split()  # fmt: skip
    assert "1234" in out and "1" in out  # busybox's daemon group is gid 1
    assert _host_config(cli, "ga")["GroupAdd"] == ["1234", "daemon"]
    r = cli("run", "--rm", "--group-add", "nosuchgroup", busybox, "true", check=False)
    assert r.code == 125 and "Unable to find group nosuchgroup" in r.err


def test_add_host_gateway(cli, busybox, engine_):
    out = cli(
        "run", "--rm", "--network", "host", "--add-host", "gw:host-gateway", busybox, "cat", "/etc/hosts"
    ).out
    assert "127.0.0.1\tgw" in out.splitlines()
    out = cli("run", "--rm", "--add-host", "gw:host-gateway", "--add-host", "db:10.1.1.1", busybox,
              "cat", "/etc/hosts").out  # fmt: skip
    assert "10.1.1.1\tdb" in out and "gw" not in out and "host-gateway" not in out  # --network none
    cli("network", "create", "--internal", "--subnet", "10.231.7.0/24", "inner")
    try:
        out = cli("run", "--rm", "--network", "inner", "--add-host", "gw:host-gateway", busybox,
                  "grep", "gw", "/etc/hosts").out  # fmt: skip
        assert out == "10.231.7.1\tgw\n"
    finally:
        cli("network", "rm", "inner")


def test_privileged_gets_all_devices_and_capabilities(cli, busybox):
    st = _status(cli, busybox, "--privileged")
    bounding = int(st["CapBnd"], 16)
    with open("/proc/self/status") as f:
        own = int(next(line for line in f if line.startswith("CapBnd:")).split()[1], 16)
    assert bounding == own  # everything this process could give
    assert st["Seccomp"] == "0"
    host = {e for e in os.listdir("/dev") if not os.path.isdir(os.path.join("/dev", e))}
    inside = set(cli("run", "--rm", "--privileged", busybox, "ls", "/dev").out.split())
    assert {"kmsg", "mem", "loop-control"} & host <= inside
    assert not {"kmsg", "mem"} & set(cli("run", "--rm", busybox, "ls", "/dev").out.split())


@pytest.mark.parametrize("flag", ["--pid", "--ipc"])
def test_join_needs_a_running_container(cli, busybox, flag):
    cli("create", "--name", "idle", busybox, "true")
    r = cli("run", "--rm", flag, "container:idle", busybox, "true", check=False)
    assert r.code == 125 and "non running container" in r.err
