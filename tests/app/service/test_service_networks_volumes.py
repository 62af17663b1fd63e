"""The network and volume endpoints of the Engine API service, driven by Docker's own client and docker-py.
Networks here are internal: nothing leaves the machine."""

from __future__ import annotations

import os

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.root]


def addresses(cli, name: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The IPv4 addresses inside a running container, as its own ``ip`` shows them."""
    out = cli("exec", name, "ip", "-4", "-o", "addr").out
    return sorted(line.split()[3] for line in out.splitlines() if " lo " not in line)


def test_network_create_ls_inspect_rm(docker, engine_) -> None:
    nid = docker(
        "network", "create", "--internal", "--subnet", "10.231.7.0/24", "--label", "team=a", "inside"
    ).out.strip()
    assert engine_.networks.get("inside").id == nid
    assert engine_.networks.get("inside").internal
    rows = docker("network", "ls", "--format", "{{.Name}} {{.Driver}}").out.split("\n")
    assert "inside bridge" in rows and "bridge bridge" in rows and "none null" in rows
    got = docker(
        "network",
        "inspect",
        "-f",
        "{{.Internal}} {{(index .IPAM.Config 0).Subnet}} {{.Labels.team}}",
        "inside",
    ).out
    assert got.strip() == "true 10.231.7.0/24 a"
    listed = docker("network", "ls", "-q", "--filter", "label=team=a").out.split()
    assert listed == [nid[:12]]

    r = docker.fails("network", "create", "inside")
    assert "network with name inside already exists" in r.err
    docker("network", "create", "--internal", "--ipv6", "six")
    assert docker("network", "inspect", "-f", "{{.EnableIPv6}}", "six").out == "true\n"
    docker("network", "rm", "six")
    r = docker.fails("network", "rm", "bridge")
    assert "pre-defined network" in r.err

    assert docker("network", "rm", "inside").out.strip() == "inside"
    with pytest.raises(Exception, match="not found"):
        engine_.networks.get("inside")
    r = docker.fails("network", "inspect", "inside")
    assert "No such network" in r.err or "not found" in r.err


def test_network_connect_disconnect_and_prune(docker, cli, busybox, engine_) -> None:
    docker("network", "create", "--internal", "--subnet", "10.231.8.0/24", "first")
    docker("network", "create", "--internal", "--subnet", "10.231.9.0/24", "second")
    docker("network", "create", "--internal", "unused")
    cli("run", "-d", "--name", "c1", "--network", "first", busybox, "sleep", "60")
    try:
        assert [a.split(".")[2] for a in addresses(cli, "c1")] == ["8"]
        docker("network", "connect", "--ip", "10.231.9.50", "second", "c1")
        assert addresses(cli, "c1") == [addresses(cli, "c1")[0], "10.231.9.50/24"]
        inspect = docker(
            "network", "inspect", "-f", "{{range .Containers}}{{.Name}} {{.IPv4Address}}{{end}}", "second"
        )
        assert inspect.out.strip() == "c1 10.231.9.50/24"
        r = docker.fails("network", "connect", "second", "c1")
        assert "already exists" in r.err
        docker("network", "disconnect", "second", "c1")
        assert [a.split(".")[2] for a in addresses(cli, "c1")] == ["8"]
        r = docker.fails("network", "connect", "second", "nosuchcontainer")
        assert "nosuchcontainer" in r.err

        out = docker("network", "prune", "-f").out
        assert "unused" in out and "second" in out and "first" not in out  # first: c1 uses it
        names = {n.name for n in engine_.networks.list()}
        assert "first" in names and "second" not in names and "unused" not in names
    finally:
        cli("rm", "-f", "c1")
    docker("network", "rm", "first")


def test_volume_create_ls_inspect_rm_prune(docker, cli, busybox, engine_) -> None:
    assert docker("volume", "create", "--label", "k=v", "data").out.strip() == "data"
    mountpoint = engine_.volumes.get("data").mountpoint
    assert os.path.isdir(mountpoint)
    got = docker("volume", "inspect", "-f", "{{.Name}} {{.Driver}} {{.Labels.k}} {{.Mountpoint}}", "data").out
    assert got.strip() == f"data local v {mountpoint}"
    anonymous = docker("volume", "create").out.strip()
    assert len(anonymous) == 64
    assert sorted(docker("volume", "ls", "-q").out.split()) == sorted(["data", anonymous])
    assert docker("volume", "ls", "-q", "--filter", "label=k=v").out.split() == ["data"]

    cli("create", "--name", "user", "-v", "data:/data", busybox, "true")
    r = docker.fails("volume", "rm", "data")
    assert "volume is in use" in r.err
    out = docker("volume", "prune", "-f").out
    assert anonymous in out and "data" not in out.replace(anonymous, "")
    assert [v.name for v in engine_.volumes.list()] == ["data"]
    cli("rm", "user")
    assert docker("volume", "rm", "data").out.strip() == "data"
    assert not os.path.exists(mountpoint)
    r = docker.fails("volume", "inspect", "data")
    assert "No such volume" in r.err


def test_docker_py_networks_and_volumes(docker_py, engine_) -> None:
    import docker as docker_sdk

    net = docker_py.networks.create("pynet", internal=True, labels={"a": "b"})
    assert net.attrs["Internal"] is True and net.attrs["Labels"] == {"a": "b"}
    assert "pynet" in [n.name for n in docker_py.networks.list()]
    assert [n.name for n in docker_py.networks.list(names=["pynet"])] == ["pynet"]
    net.remove()
    with pytest.raises(docker_sdk.errors.NotFound):
        docker_py.networks.get("pynet")

    vol = docker_py.volumes.create("pyvol", labels={"l": "1"})
    assert vol.attrs["Labels"] == {"l": "1"}
    assert os.path.isdir(vol.attrs["Mountpoint"])
    assert [v.name for v in docker_py.volumes.list()] == ["pyvol"]
    vol.remove()
    assert engine_.volumes.list() == []
    with pytest.raises(docker_sdk.errors.NotFound):
        docker_py.volumes.get("pyvol")
