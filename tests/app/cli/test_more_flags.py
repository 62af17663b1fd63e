"""The last of Docker's run/create, start, restart, inspect and update flags, and the global options: each
checked by its effect (a cgroup file, a file inside the container, the printed output) or by its refusal."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

from tests.app.cli.test_exec_flags import _read_until, _session
from tests.conftest import DOCKYARD


def inspect(cli, ref: str) -> dict:
    return json.loads(cli("inspect", ref).out)[0]


def _env(cli) -> dict[str, str]:
    return {**os.environ, "DOCKYARD_ROOT": cli.root}


def _cgroup_file(cli, ref: str, controller: str, name: str) -> str:
    """A file of the container's cgroup (v1: the controller's hierarchy; v2: the unified one)."""
    pid = inspect(cli, ref)["State"]["Pid"]
    with open(f"/proc/{pid}/cgroup") as f:
        lines = [line.rstrip("\n").split(":", 2) for line in f]
    for _n, controllers, path in lines:
        if controller in controllers.split(","):
            with open(f"/sys/fs/cgroup/{controller}{path}/{name}") as g:
                return g.read()
    path = next(p for _n, c, p in lines if c == "")
    with open(f"/sys/fs/cgroup{path}/{name}") as g:
        return g.read()


def _v1(controller: str) -> bool:
    return os.path.isdir(f"/sys/fs/cgroup/{controller}") and not os.path.exists(
        "/sys/fs/cgroup/cgroup.controllers"
    )


@pytest.fixture
def loop_device(tmp_path):
    """A loop block device of the test's own (over a 16 MiB file), with the BFQ scheduler when there is one:
    (its path, MAJOR:MINOR)."""
    image = tmp_path / "disk.img"
    image.write_bytes(b"")
    os.truncate(image, 16 << 20)
    try:
        path = subprocess.run(
            ["losetup", "-f", "--show", str(image)], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError) as e:
        pytest.skip(f"no loop device here: {e}")
    try:
        rdev = os.stat(path).st_rdev
        sched = f"/sys/block/{os.path.basename(path)}/queue/scheduler"
        try:
            with open(sched, "w") as f:
                f.write("bfq")
        except OSError:
            pass
        yield path, f"{os.major(rdev)}:{os.minor(rdev)}"
    finally:
        subprocess.run(["losetup", "-d", path], check=False)


# -- run and create ----------------------------------------------------------------------------------------


def test_oom_score_adj_annotation_and_userns(cli, busybox):
    r = cli(
        "run",
        "--rm",
        "--oom-score-adj",
        "500",
        busybox,
        "sh",
        "-c",
        "cat /proc/self/oom_score_adj; cat /proc/1/oom_score_adj",
    )
    assert r.out == "500\n500\n"  # the container's process and what it starts
    cid = cli("create", "--annotation", "com.example.a=1", "--annotation", "flag", "--userns", "host",
              "--oom-score-adj", "300", busybox, "true").out.strip()  # fmt: skip
    host = inspect(cli, cid)["HostConfig"]
    assert host["Annotations"] == {"com.example.a": "1", "flag": ""}
    assert host["UsernsMode"] == "host" and host["OomScoreAdj"] == 300
    r = cli.fails("run", "--oom-score-adj", "1001", busybox, "true", code=125)
    assert r.err == "Error: Invalid value 1001, range for oom score adj is [-1000, 1000]\n"
    r = cli.fails("create", "--userns", "private", busybox, "true", code=125)
    assert r.err.startswith("Error: --userns: invalid USER mode (only host: dockyard does not remap user IDs")
    assert cli("ps", "-aq").out.split() == [cid[:12]]  # nothing else was made


def test_block_io_throttles_are_in_the_cgroup(cli, busybox, loop_device):
    path, number = loop_device
    cli("run", "-d", "--name", "io", "--device-read-bps", f"{path}:1mb", "--device-write-bps", f"{path}:2048",
        "--device-read-iops", f"{path}:100", "--device-write-iops", f"{path}:50", busybox, "sleep", "1000")  # fmt: skip
    if _v1("blkio"):
        assert _cgroup_file(cli, "io", "blkio", "blkio.throttle.read_bps_device") == f"{number} 1048576\n"
        assert _cgroup_file(cli, "io", "blkio", "blkio.throttle.write_bps_device") == f"{number} 2048\n"
        assert _cgroup_file(cli, "io", "blkio", "blkio.throttle.read_iops_device") == f"{number} 100\n"
        assert _cgroup_file(cli, "io", "blkio", "blkio.throttle.write_iops_device") == f"{number} 50\n"
    else:
        line = next(x for x in _cgroup_file(cli, "io", "io", "io.max").splitlines() if x.startswith(number))
        assert line == f"{number} rbps=1048576 wbps=2048 riops=100 wiops=50"
    host = inspect(cli, "io")["HostConfig"]
    assert host["BlkioDeviceReadBps"] == [{"Path": path, "Rate": 1048576}]
    assert host["BlkioDeviceWriteIOps"] == [{"Path": path, "Rate": 50}]
    # Docker's words for what is wrong, before anything is made
    for flag, value, want in (
        ("--device-read-bps", "/dev/sda", "bad format: /dev/sda"),
        ("--device-read-bps", "sda:1mb", "bad format for device path: sda:1mb"),
        ("--device-write-bps", f"{path}:x", f"invalid rate for device: {path}:x. The correct format is"),
        ("--device-read-iops", f"{path}:1.5", f"invalid rate for device: {path}:1.5. The correct format is"),
        ("--blkio-weight-device", f"{path}:5", f"invalid weight for device: {path}:5"),
    ):
        r = cli.fails("create", flag, value, busybox, "true", code=125)
        assert r.err.startswith(f'Error: invalid argument "{value}" for "{flag}" flag: {want}'), r.err
    r = cli.fails("create", "--device-read-bps", "/dev/no-such-disk:1mb", busybox, "true", code=125)
    assert r.err == "Error: stat /dev/no-such-disk: no such file or directory\n"
    r = cli.fails("create", "--device-read-bps", "/dev/null:1mb", busybox, "true", code=125)
    assert r.err == "Error: /dev/null is not a block device\n"
    assert len(cli("ps", "-aq").out.split()) == 1


def test_blkio_weight_device_is_in_the_cgroup(cli, busybox, loop_device):
    path, number = loop_device
    with open(f"/sys/block/{os.path.basename(path)}/queue/scheduler") as f:
        if "[bfq]" not in f.read():
            pytest.skip("no BFQ scheduler on this kernel")
    cli("run", "-d", "--name", "wd", "--blkio-weight-device", f"{path}:300", busybox, "sleep", "1000")
    if _v1("blkio"):
        text = _cgroup_file(cli, "wd", "blkio", "blkio.bfq.weight_device")
    else:
        text = _cgroup_file(cli, "wd", "io", "io.bfq.weight")
    assert f"{number} 300" in text.splitlines()
    assert inspect(cli, "wd")["HostConfig"]["BlkioWeightDevice"] == [{"Path": path, "Weight": 300}]
    # a device whose scheduler weighs no cgroups: refused at create, with the reason
    with open(f"/sys/block/{os.path.basename(path)}/queue/scheduler", "w") as f:
        f.write("none")
    r = cli.fails("create", "--blkio-weight-device", f"{path}:300", busybox, "true", code=125)
    assert "the device's I/O scheduler (none) gives no weight per cgroup; only BFQ does" in r.err


@pytest.mark.skipif(
    not os.path.exists("/sys/fs/cgroup/cpu/cpu.rt_runtime_us"), reason="no RT group scheduling"
)
def test_cpu_rt_runtime_and_period_and_their_update(cli, busybox):
    cli("run", "-d", "--name", "rt", "--cpu-rt-period", "500000", "--cpu-rt-runtime", "10000", busybox,
        "sleep", "1000")  # fmt: skip
    assert _cgroup_file(cli, "rt", "cpu", "cpu.rt_period_us") == "500000\n"
    assert _cgroup_file(cli, "rt", "cpu", "cpu.rt_runtime_us") == "10000\n"
    cli("run", "-d", "--name", "rt2", "--cpu-rt-runtime", "20000", busybox, "sleep", "1000")  # a sibling
    assert _cgroup_file(cli, "rt2", "cpu", "cpu.rt_runtime_us") == "20000\n"
    cli("container", "update", "--cpu-rt-runtime", "30000", "rt")
    assert _cgroup_file(cli, "rt", "cpu", "cpu.rt_runtime_us") == "30000\n"
    host = inspect(cli, "rt")["HostConfig"]
    assert (host["CpuRealtimePeriod"], host["CpuRealtimeRuntime"]) == (500000, 30000)
    r = cli.fails("run", "--cpu-rt-period", "1000", "--cpu-rt-runtime", "2000", busybox, "true", code=125)
    assert r.err == "Error: cpu-rt-runtime cannot be higher than cpu-rt-period\n"


def test_health_start_period_and_interval(cli, busybox):
    # failures during the start period do not count; checks come every start interval meanwhile
    cli("run", "-d", "--name", "hs", "--health-cmd", "false", "--health-interval", "1h", "--health-retries", "1",
        "--health-start-period", "1h", "--health-start-interval", "100ms", busybox, "sleep", "1000")  # fmt: skip
    deadline = time.monotonic() + 15
    while True:
        health = inspect(cli, "hs")["State"]["Health"]
        if len(health["Log"]) >= 3 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert len(health["Log"]) >= 3  # with a 1 h interval, only the start interval can have run them
    assert health["Status"] == "starting" and health["FailingStreak"] == 0
    hc = inspect(cli, "hs")["Config"]["Healthcheck"]
    assert hc["StartPeriod"] == 3600 * 10**9 and hc["StartInterval"] == 10**8
    # after the start period, failures count as usual
    cli("run", "-d", "--name", "hs2", "--health-cmd", "false", "--health-interval", "100ms", "--health-retries",
        "2", "--health-start-period", "300ms", busybox, "sleep", "1000")  # fmt: skip
    deadline = time.monotonic() + 15
    while inspect(cli, "hs2")["State"]["Health"]["Status"] != "unhealthy":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    r = cli.fails(
        "create", "--health-cmd", "true", "--health-start-interval", "10us", busybox, "true", code=125
    )
    assert r.err == "Error: StartInterval in Healthcheck cannot be less than 1ms\n"
    r = cli.fails("create", "--health-start-period", "-1s", busybox, "true", code=125)
    assert r.err == "Error: --health-start-period cannot be negative\n"


def test_run_forwards_signals_unless_sig_proxy_is_false(cli, busybox):
    trap = "trap 'echo got-term; exit 3' TERM; echo ready; while true; do sleep 0.1; done"
    p = subprocess.Popen([DOCKYARD, "run", "--name", "px", busybox, "sh", "-c", trap], stdout=subprocess.PIPE,
                         env=_env(cli))  # fmt: skip
    assert p.stdout is not None and p.stdout.readline() == b"ready\n"
    p.send_signal(signal.SIGTERM)
    out, _ = p.communicate(timeout=15)
    assert out == b"got-term\n" and p.returncode == 3
    p = subprocess.Popen([DOCKYARD, "run", "--sig-proxy=false", "--name", "kept", busybox, "sh", "-c", trap],
                         stdout=subprocess.PIPE, env=_env(cli))  # fmt: skip
    assert p.stdout is not None and p.stdout.readline() == b"ready\n"
    p.send_signal(signal.SIGTERM)
    p.communicate(timeout=15)
    assert p.returncode != 3
    assert inspect(cli, "kept")["State"]["Status"] == "running"


def test_run_and_start_take_detach_keys(cli, busybox):
    p, master = _session(cli.root, "run", "-it", "--name", "dk", "--detach-keys", "ctrl-a,x", busybox, "sh")
    try:
        _read_until(master, b"#")
        os.write(master, b"\x01x")
        assert p.wait(timeout=15) == 0
    finally:
        os.close(master)
    assert inspect(cli, "dk")["State"]["Status"] == "running"  # left running
    cli("stop", "-t", "0", "dk")
    p, master = _session(cli.root, "start", "-ai", "--detach-keys", "ctrl-b", "dk")
    try:
        _read_until(master, b"#")
        os.write(master, b"echo in-$((40+2))\r")
        _read_until(master, b"in-42")
        os.write(master, b"\x02")
        assert p.wait(timeout=15) == 0
    finally:
        os.close(master)
    assert inspect(cli, "dk")["State"]["Status"] == "running"
    r = cli.fails("run", "--detach-keys", "ctrl-Ö", busybox, "true", code=125)
    assert "Invalid detach keys (ctrl-Ö) provided" in r.err


def test_restart_signal_and_inspect_size(cli, busybox):
    script = "trap 'echo got-usr1; exit 0' USR1; echo up; while true; do sleep 0.1; done"
    cli("run", "-d", "--name", "rs", busybox, "sh", "-c", script)
    time.sleep(0.5)
    cli("restart", "-s", "USR1", "-t", "5", "rs")
    logs = cli("logs", "rs").out
    assert logs.startswith("up\ngot-usr1\nup") and inspect(cli, "rs")["State"]["Running"]
    cli("run", "--name", "big", busybox, "sh", "-c", "head -c 200000 /dev/zero > /big")
    plain = inspect(cli, "big")
    assert "SizeRw" not in plain
    for argv in (["inspect", "-s", "big"], ["container", "inspect", "--size", "big"]):
        doc = json.loads(cli(*argv).out)[0]
        assert doc["SizeRw"] >= 200000 and doc["SizeRootFs"] > doc["SizeRw"] + 100000  # with busybox's layer


def test_container_update_and_system_info_forms(cli, busybox):
    cli("run", "-d", "--name", "up", busybox, "sleep", "1000")
    assert cli("container", "update", "--cpu-shares", "512", "up").out == "up\n"
    assert inspect(cli, "up")["HostConfig"]["CpuShares"] == 512
    assert cli("system", "info", "--format", "{{.ContainersRunning}}").out == "1\n"


def test_disable_content_trust_and_quiet_are_accepted(cli, busybox):
    assert cli("run", "--rm", "--disable-content-trust", "-q", busybox, "echo", "ok").out == "ok\n"


# -- global options ------------------------------------------------------------------------------------------


def test_config_directory_holds_the_credentials(cli, tmp_path):
    conf = tmp_path / "dockercfg"
    conf.mkdir()
    (conf / "config.json").write_text(json.dumps({"auths": {"127.0.0.1:5999": {"auth": "dTpw"}}}))
    r = cli("--config", str(conf), "logout", "127.0.0.1:5999")
    assert r.out == "Removing login credentials for 127.0.0.1:5999\n"
    assert json.loads((conf / "config.json").read_text())["auths"] == {}
    assert cli("--config", str(conf), "logout", "127.0.0.1:5999").out == "Not logged in to 127.0.0.1:5999\n"


def test_debug_prints_the_trace_and_log_levels_are_checked(cli, root, busybox):
    env = {**os.environ, "DOCKYARD_ROOT": root, "DOCKYARD_FAULT": "write config.json=crash"}
    for flags in (["-D"], ["--debug"], ["-l", "debug"], ["--log-level=debug"]):
        p = subprocess.run(
            [DOCKYARD, *flags, "create", busybox, "true"], capture_output=True, text=True, env=env
        )
        assert p.returncode == 125
        assert "Traceback (most recent call last)" in p.stderr and "Error: unexpected" in p.stderr, flags
    p = subprocess.run([DOCKYARD, "create", busybox, "true"], capture_output=True, text=True, env=env)
    assert "Traceback" not in p.stderr and "Error: unexpected" in p.stderr
    for level in ("info", "warn", "error", "fatal"):
        assert cli("-l", level, "ps", "-q").out == ""
    r = cli.fails("--log-level", "loud", "ps", code=1)
    assert r.err == "Unable to parse logging level: loud\n"
