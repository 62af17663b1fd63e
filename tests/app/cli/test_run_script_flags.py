"""The run/create flags scripts pass: their effect inside the container or on the host, inspect's fields,
and Docker's refusals."""

from __future__ import annotations

import json
import os
import time

import pytest


def inspect(cli, ref: str) -> dict:
    return json.loads(cli("inspect", ref).out)[0]


def test_cidfile_is_written_at_create_and_refused_if_it_exists(cli, busybox, tmp_path):
    path = tmp_path / "cid"
    cid = cli("create", "--cidfile", str(path), busybox, "true").out.strip()
    assert path.read_text() == cid
    assert inspect(cli, cid)["HostConfig"]["ContainerIDFile"] == str(path)
    r = cli.fails("run", "--cidfile", str(path), busybox, "true", code=125)
    assert "container ID file found, make sure the other container isn't running or delete" in r.err
    assert cli("ps", "-aq").out.split() == [cid[:12]]  # nothing else was made
    assert path.read_text() == cid


def test_a_failed_create_leaves_no_cidfile(cli, busybox, tmp_path):
    path = tmp_path / "cid"
    cli("create", "--name", "taken", busybox, "true")
    cli.fails("create", "--cidfile", str(path), "--name", "taken", busybox, "true", code=125)
    assert not path.exists()


def test_label_file_and_labels(cli, busybox, tmp_path):
    f = tmp_path / "labels"
    f.write_text("# a comment\n\ncom.example.a=1\ncom.example.b\ncom.example.c=from-file\n")
    cid = cli("create", "--label-file", str(f), "-l", "com.example.c=flag", busybox, "true").out.strip()
    labels = inspect(cli, cid)["Config"]["Labels"]
    assert labels["com.example.a"] == "1" and labels["com.example.b"] == ""
    assert labels["com.example.c"] == "flag"  # --label wins over the file
    assert "open" in cli.fails("create", "--label-file", str(tmp_path / "none"), busybox, "true").err


def test_dns_search_and_options_reach_resolv_conf(cli, busybox):
    r = cli(
        "run", "--rm", "--dns", "192.0.2.53", "--dns-search", "example.com", "--dns-search", "corp.example",
        "--dns-option", "ndots:2", "--dns-option", "timeout:3", busybox, "cat", "/etc/resolv.conf",
    )  # fmt: skip
    assert r.out == "nameserver 192.0.2.53\nsearch example.com corp.example\noptions ndots:2 timeout:3\n"
    cid = cli("create", "--dns-search", "example.com", "--dns-option", "ndots:1", busybox, "true").out.strip()
    hc = inspect(cli, cid)["HostConfig"]
    assert hc["DnsSearch"] == ["example.com"] and hc["DnsOptions"] == ["ndots:1"]


def test_domainname_is_the_containers(cli, busybox):
    r = cli("run", "--rm", "--domainname", "example.org", busybox, "cat", "/proc/sys/kernel/domainname")
    assert r.out == "example.org\n"


def test_attach_stdout_only(cli, busybox):
    r = cli("run", "--rm", "-a", "stdout", busybox, "sh", "-c", "echo out; echo err >&2")
    assert r.out == "out\n" and "err" not in r.err
    r = cli("run", "--rm", "-a", "STDERR", busybox, "sh", "-c", "echo out; echo err >&2")
    assert r.out == "" and r.err == "err\n"
    r = cli.fails("run", "-a", "stdio", busybox, "true", code=125)
    assert "valid streams are STDIN, STDOUT and STDERR" in r.err
    assert "Conflicting options: -a and -d" in cli.fails("run", "-d", "-a", "stdout", busybox, "true").err


def test_attach_shows_in_inspect(cli, busybox):
    cid = cli("create", "-a", "stdout", "-a", "stderr", busybox, "true").out.strip()
    cfg = inspect(cli, cid)["Config"]
    assert (cfg["AttachStdin"], cfg["AttachStdout"], cfg["AttachStderr"]) == (False, True, True)


def test_expose_is_in_exposed_ports_and_published_by_P(cli, busybox):
    cid = cli("create", "--expose", "8080", "--expose", "9000-9001/udp", busybox, "true").out.strip()
    assert inspect(cli, cid)["Config"]["ExposedPorts"] == {"8080/tcp": {}, "9000/udp": {}, "9001/udp": {}}
    assert "invalid port format for --expose" in cli.fails("create", "--expose", "1:2", busybox, "true").err
    cli("network", "create", "--internal", "scriptnet")
    cid = cli("create", "--network", "scriptnet", "--expose", "8080", "-P", busybox, "true").out.strip()
    ports = inspect(cli, cid)["HostConfig"]["PortBindings"]
    assert list(ports) == ["8080/tcp"] and int(ports["8080/tcp"][0]["HostPort"]) > 0
    cli("rm", cid)
    cli("network", "rm", "scriptnet")


def test_platform_must_be_the_images(cli, busybox):
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)
    assert cli("run", "--rm", "--platform", f"linux/{arch}", busybox, "true").code == 0
    other = "arm64" if arch != "arm64" else "amd64"
    r = cli.fails("run", "--rm", "--platform", f"linux/{other}", busybox, "true", code=125)
    assert r.err == (
        f"Error: image with reference {busybox} was found but does not match the specified platform: "
        f"wanted linux/{other}, actual: linux/{arch}\n"
    )


def test_pull_never_and_bad_values(cli, busybox):
    r = cli.fails("run", "--pull", "never", "nosuchimage", "true", code=125)
    assert r.err == "Error: No such image: nosuchimage:latest\n"
    assert cli("run", "--rm", "--pull", "never", busybox, "true").code == 0
    assert cli("run", "--rm", "--pull", "missing", busybox, "true").code == 0
    r = cli.fails("run", "--pull", "sometimes", busybox, "true", code=125)
    assert 'invalid pull option: \'sometimes\': must be one of "always", "missing" or "never"' in r.err


def test_pull_always_and_missing_pull_from_a_local_registry(cli, busybox, tmp_path, monkeypatch):
    from tests.engine.registry.helpers import Registry

    if not __import__("shutil").which("docker-registry"):
        pytest.skip("docker-registry is not installed (apt-get install docker-registry)")
    monkeypatch.setenv("DOCKYARD_AUTH_FILE", str(tmp_path / "auth.json"))
    reg = Registry(str(tmp_path / "registry"))
    try:
        ref = f"{reg.host}/scripted/bb:1"
        cli("tag", busybox, ref)
        cli("push", ref)
        cli("rmi", ref)
        r = cli("run", "--rm", "--pull", "missing", ref, "echo", "pulled")
        assert r.out == "pulled\n" and f"Unable to find image '{ref}' locally" in r.err
        r = cli("run", "--rm", "--pull", "always", ref, "echo", "again")
        assert r.out == "again\n" and "Status: Image is up to date for" in r.err
    finally:
        reg.stop()


def test_log_driver_local_keeps_a_readable_rotated_log(cli, busybox, root):
    cid = cli("run", "-d", "--log-driver", "local", busybox, "echo", "hello").out.strip()
    cli("wait", cid)
    assert cli("logs", cid).out == "hello\n"
    cfg = inspect(cli, cid)["HostConfig"]["LogConfig"]
    assert cfg == {"Type": "local", "Config": {"max-size": "20m", "max-file": "5", "compress": "true"}}
    cid = cli("create", "--log-driver", "local", "--log-opt", "max-file=1", busybox, "true").out.strip()
    assert inspect(cli, cid)["HostConfig"]["LogConfig"]["Config"]["compress"] == "false"
    r = cli.fails("create", "--log-driver", "local", "--log-opt", "tag=x", busybox, "true", code=125)
    assert "unknown log opt 'tag' for local log driver" in r.err


def test_stop_timeout_is_used_by_stop(cli, busybox):
    cid = cli("run", "-d", "--stop-timeout", "1", busybox, "sleep", "100").out.strip()
    assert inspect(cli, cid)["Config"]["StopTimeout"] == 1
    t0 = time.monotonic()
    cli("stop", cid)
    took = time.monotonic() - t0
    assert 0.9 < took < 5  # sleep as PID 1 ignores SIGTERM: killed after 1 s, not 10
    assert inspect(cli, cid)["State"]["ExitCode"] == 137
    assert "invalid" in cli.fails("create", "--stop-timeout", "x", busybox, "true").err.lower()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--mac-address", "02:42:ac:11:00:02"], "conflicting options: mac-address and the network mode"),
        (
            ["--network", "bridge", "--mac-address", "02:42:ac:11:00"],
            "02:42:ac:11:00 is not a valid mac address",
        ),
        (["--isolation", "hyperv"], "invalid isolation: \"hyperv\" - linux only supports 'default'"),
        (["--runtime", "crun"], "unknown or invalid runtime name: crun"),
        (["--cgroupns", "shared"], "--cgroupns: invalid CGROUP mode"),
        (["--cgroup-parent", "/abs"], "invalid --cgroup-parent '/abs'"),
        (["--cgroup-parent", "a/../b"], "invalid --cgroup-parent 'a/../b'"),
    ],
)
def test_refused_flags_say_why(cli, busybox, flags, message):
    r = cli.fails("create", *flags, busybox, "true", code=125)
    assert message in r.err
    assert cli("ps", "-aq").out == ""


def test_default_isolation_and_runtime_are_accepted(cli, busybox):
    cid = cli("create", "--isolation", "default", "--runtime", "runc", busybox, "true").out.strip()
    assert inspect(cli, cid)["HostConfig"]["Runtime"] == "runc"


def test_cgroupns_host_shows_the_host_cgroup_paths(cli, busybox):
    private = cli("run", "--rm", busybox, "cat", "/proc/self/cgroup").out
    assert all(line.endswith(":/") for line in private.splitlines() if line and not line.startswith("0::"))
    cid = cli("create", "--cgroupns", "host", busybox, "cat", "/proc/self/cgroup").out.strip()
    assert inspect(cli, cid)["HostConfig"]["CgroupnsMode"] == "host"
    cli("start", cid)
    cli("wait", cid)
    assert cid in cli("logs", cid).out  # the container's own cgroup, named by its ID, from the host's root


def test_cgroup_parent_places_the_container_below_the_roots_parent(cli, busybox, root):
    from engine.runtime.cgroups import ContainerCgroup, parent_for_root

    cid = cli(
        "run", "-d", "--cgroup-parent", "team/web", "--pids-limit", "9", busybox, "sleep", "100"
    ).out.strip()
    cg = ContainerCgroup.open(cid, parent_for_root(root))
    parent = parent_for_root(root)
    for d in cg.dirs.values():
        assert d.endswith(f"/{parent.name}/team/web/{cid}")
    with open(os.path.join(cg.dirs["pids"], "pids.max")) as f:
        assert f.read().strip() == "9"
    pid = inspect(cli, cid)["State"]["Pid"]
    with open(f"/proc/{pid}/cgroup") as f:
        assert f"/{parent.name}/team/web/{cid}" in f.read()
    assert inspect(cli, cid)["HostConfig"]["CgroupParent"] == "team/web"
    cli("update", "--pids-limit", "11", cid)
    with open(os.path.join(cg.dirs["pids"], "pids.max")) as f:
        assert f.read().strip() == "11"
    cli("rm", "-f", cid)
    assert not cg.exists()
