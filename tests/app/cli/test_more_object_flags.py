"""The last of Docker's flags of the image, registry, network, volume and builder commands, each checked by
its effect (the printed output, what a container gets, what is left) or by Docker's refusal."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from tests.engine.registry.helpers import Registry

ARCH = {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)
OTHER = "s390x" if ARCH != "s390x" else "amd64"


@pytest.fixture
def registry(tmp_path, monkeypatch):
    if shutil.which("docker-registry") is None:
        pytest.skip("docker-registry is not installed")
    monkeypatch.setenv("DOCKYARD_AUTH_FILE", str(tmp_path / "auth.json"))
    reg = Registry(str(tmp_path / "registry"))
    yield reg
    reg.stop()


def test_platform_must_name_the_images_own(cli, busybox, tmp_path):
    mine, other = f"linux/{ARCH}", f"linux/{OTHER}"
    assert cli("history", "--platform", mine, busybox).out == cli("history", busybox).out
    assert json.loads(cli("image", "inspect", "--platform", mine, busybox).out)[0]["Architecture"] == ARCH
    want = (
        f"image with reference {busybox} was found but does not match the specified platform: wanted {other}"
    )
    for argv in (
        ["history", "--platform", other, busybox],
        ["image", "inspect", "--platform", other, busybox],
        ["rmi", "--platform", other, busybox],
        ["save", "--platform", other, "-o", str(tmp_path / "no.tar"), busybox],
    ):
        assert want in cli.fails(*argv).err, argv
    assert not (tmp_path / "no.tar").exists()
    cli("save", "--platform", mine, "-o", str(tmp_path / "bb.tar"), busybox)
    cli("tag", busybox, "copy:1")
    assert cli("rmi", "--platform", mine, "--no-prune", "copy:1").out == "Untagged: copy:1\n"
    cli("rmi", busybox)
    assert cli("load", "--platform", mine, "-i", str(tmp_path / "bb.tar")).out.startswith("Loaded image")
    r = cli.fails("load", "--platform", other, "-i", str(tmp_path / "bb.tar"))
    assert (
        f"no image for platform {other}: dockyard makes and loads images for this machine's platform" in r.err
    )
    r = cli.fails("import", "--platform", other, str(tmp_path / "bb.tar"), "imp")
    assert f"no image for platform {other}" in r.err
    assert "imp" not in cli("images", "--format", "{{.Repository}}").out


def test_pull_and_push_all_tags_and_quiet_run(cli, busybox, registry):
    repo = f"{registry.host}/bb"
    for tag in ("v1", "v2"):
        cli("tag", busybox, f"{repo}:{tag}")
    out = cli("push", "-a", repo).out
    assert "v1: digest: sha256:" in out and "v2: digest: sha256:" in out
    assert cli.fails("push", "-a", f"{repo}:v1").err == "Error: tag can't be used with --all-tags/-a\n"
    cli("rmi", f"{repo}:v1", f"{repo}:v2")
    out = cli("pull", "--all-tags", repo).out
    assert out.endswith(f"Status: Downloaded newer image for {repo}\n{repo}\n")
    tags = cli("images", "--format", "{{.Repository}}:{{.Tag}}").out.split()
    assert sorted(t for t in tags if t.startswith(repo)) == [f"{repo}:v1", f"{repo}:v2"]
    assert cli.fails("pull", "-a", f"{repo}:v1").err == "Error: tag can't be used with --all-tags/-a\n"
    # run -q: the pull says nothing (the container's output only)
    cli("rmi", f"{repo}:v1")
    r = cli("run", "--rm", "-q", "--pull", "missing", f"{repo}:v1", "echo", "hi")
    assert r.out == "hi\n" and "Digest:" not in r.err and "Status:" not in r.err
    cli("rmi", f"{repo}:v1")
    r = cli("run", "--rm", "--pull", "missing", f"{repo}:v1", "echo", "hi")
    assert "Digest: sha256:" in r.err


def test_network_ip_range_aux_address_and_ipv4(cli, busybox):
    cli("network", "create", "--internal", "--subnet", "10.123.7.0/24", "--ip-range", "10.123.7.128/28",
        "--aux-address", "router=10.123.7.128", "--ipv4", "rng")  # fmt: skip
    ipam = json.loads(cli("network", "inspect", "-v", "rng").out)[0]["IPAM"]["Config"][0]
    assert ipam == {"Subnet": "10.123.7.0/24", "IPRange": "10.123.7.128/28", "Gateway": "10.123.7.1",
                    "AuxiliaryAddresses": {"router": "10.123.7.128"}}  # fmt: skip
    out = cli("run", "--rm", "--network", "rng", busybox, "sh", "-c", "ip -4 -o addr show eth0").out
    assert "inet 10.123.7.129/24" in out  # the range's first address that is not reserved
    assert "--ip-range" not in cli("network", "inspect", "rng").out
    r = cli.fails("network", "create", "--subnet", "10.123.8.0/24", "--ip-range", "10.124.0.0/28", "x")
    assert r.err == "Error: no matching subnet for range 10.124.0.0/28\n"
    r = cli.fails("network", "create", "--aux-address", "a=10.1.1.1", "y")
    assert r.err == "Error: every aux-address must have a corresponding subnet\n"
    r = cli.fails("network", "create", "--ipv4=false", "z")
    assert r.err == "Error: IPv4 cannot be disabled: every network here has IPv4 addresses\n"
    names = cli("network", "ls", "--format", "{{.Name}}").out.split()
    assert "x" not in names and "y" not in names and "z" not in names


def test_network_connect_driver_opt_and_gw_priority(cli, busybox):
    cli("network", "create", "--subnet", "10.123.9.0/24", "neta")
    cli("network", "create", "--subnet", "10.123.10.0/24", "netb")
    cli("create", "--name", "gw", "--network", "neta", busybox, "sleep", "1000")
    cli("network", "connect", "--gw-priority", "10", "--driver-opt", "com.example.x=1", "netb", "gw")
    cli("start", "gw")
    route = cli("exec", "gw", "ip", "route", "show", "default").out
    assert route.startswith("default via 10.123.10.1 ")  # netb's gateway: the higher priority
    nets = json.loads(cli("inspect", "gw").out)[0]["NetworkSettings"]["Networks"]
    assert nets["netb"]["DriverOpts"] == {"com.example.x": "1"} and nets["netb"]["GwPriority"] == 10
    assert nets["neta"]["GwPriority"] == 0
    cli("create", "--name", "gw2", "--network", "neta", busybox, "true")
    r = cli.fails("network", "connect", "--driver-opt", "com.docker.network.endpoint.ifname=x", "netb", "gw2")
    assert "driver option com.docker.network.endpoint.ifname is not supported" in r.err


def test_volume_driver_and_options(cli, busybox, tmp_path):
    host = tmp_path / "shared"
    host.mkdir()
    (host / "from-host").write_text("hello\n")
    cli("volume", "create", "-d", "local", "-o", "type=tmpfs", "-o", "o=size=1m,mode=0700", "tv")
    cli("volume", "create", "--opt", "type=none", "--opt", "o=bind", "--opt", f"device={host}", "bv")
    out = cli("run", "--rm", "-v", "tv:/t", "-v", "bv:/b", busybox, "sh", "-c",
              "grep ' /t ' /proc/mounts; stat -c %a /t; cat /b/from-host; echo made > /b/in-ctr").out  # fmt: skip
    lines = out.splitlines()
    assert lines[0].startswith("tmpfs /t tmpfs ") and "size=1024k" in lines[0]
    assert lines[1:] == ["700", "hello"]
    assert (host / "in-ctr").read_text() == "made\n"
    assert json.loads(cli("volume", "inspect", "tv").out)[0]["Options"] == {
        "type": "tmpfs",
        "o": "size=1m,mode=0700",
    }
    cli("volume", "rm", "bv")
    assert (host / "from-host").exists()  # the bound directory is the user's: removing the volume keeps it
    r = cli.fails("volume", "create", "-d", "nfsplugin", "v1")
    assert (
        r.err == 'Error: create v1: error looking up volume plugin nfsplugin: plugin "nfsplugin" not found\n'
    )
    assert (
        cli.fails("volume", "create", "-o", "colour=red", "v2").err == 'Error: invalid option key: "colour"\n'
    )
    r = cli.fails("volume", "create", "-o", "type=nfs", "-o", "o=addr=10.0.0.1", "-o", "device=:/x", "v3")
    assert "the local driver's type=nfs is not supported" in r.err
    assert cli("volume", "ls", "-q").out.split() == ["tv"]


def test_builder_prune_keep_storage(cli, busybox, tmp_path):
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(
        f"FROM {busybox}\nRUN head -c 300000 /dev/urandom > /a\nRUN head -c 300000 /dev/urandom > /b\n"
    )
    cli("build", "-q", "-t", "kept", str(ctx))
    cli("rmi", "kept")  # its two steps' cache is now unused
    out = cli("builder", "prune", "-f", "--keep-storage", "400k").out
    assert out.startswith("Deleted build cache objects: 1\n")  # the newest step fits in 400 KiB, kept
    out = cli("builder", "prune", "-f").out
    assert out.startswith("Deleted build cache objects: 1\n")
