"""What docker-py's own network, exec and client tests need from the service, checked with docker-py and
Docker's client: Swarm's endpoints answer as a daemon in no swarm, a container's network settings have
Docker's names before it runs, a disconnect of a container that is not connected fails even with force,
network names as Docker takes them, and one info/version document for the CLI and the API."""

from __future__ import annotations

import json

import pytest


def _network(docker_py, name, subnet):  # type: ignore[no-untyped-def]
    from docker.types import IPAMConfig, IPAMPool

    return docker_py.networks.create(
        name, internal=True, ipam=IPAMConfig(pool_configs=[IPAMPool(subnet=subnet)])
    )


def test_swarm_endpoints_answer_as_a_daemon_in_no_swarm(service, docker_py, docker):
    import docker as sdk

    assert docker_py.api.leave_swarm(force=True) is True  # docker-py's tests leave after each network test
    with pytest.raises(sdk.errors.APIError) as e:
        docker_py.api.inspect_swarm()
    assert e.value.response.status_code == 503 and "not a swarm manager" in str(e.value.explanation)
    with pytest.raises(sdk.errors.APIError) as e:
        docker_py.swarm.init(advertise_addr="127.0.0.1")
    assert e.value.response.status_code == 503 and "swarm mode is not supported" in str(e.value.explanation)
    r = docker.fails("swarm", "leave")
    assert "This node is not part of a swarm" in r.err
    r = docker.fails("service", "ls")
    assert "This node is not a swarm manager" in r.err
    with pytest.raises(sdk.errors.APIError) as e:
        docker_py.api.create_secret("s", b"data")
    assert e.value.response.status_code == 503


def test_network_settings_of_a_container_before_and_after_it_runs(service, docker_py, busybox, cli):
    net = _network(docker_py, "front", "10.231.41.0/24")
    api = docker_py.api
    cid = api.create_container(
        busybox,
        "sleep 60",
        host_config=api.create_host_config(network_mode="front"),
        networking_config=api.create_networking_config(
            {"front": api.create_endpoint_config(ipv4_address="10.231.41.23", aliases=["foo", "bar"])}
        ),
    )["Id"]
    ep = api.inspect_container(cid)["NetworkSettings"]["Networks"]["front"]
    assert ep["IPAMConfig"] == {"IPv4Address": "10.231.41.23"}
    assert ep["Aliases"] == ["foo", "bar"] and ep["NetworkID"] == net.id
    assert ep["IPAddress"] == "" and ep["Links"] is None and "aliases" not in ep and "ip" not in ep
    # the CLI's inspect is the same document
    shown = json.loads(cli("inspect", "--format", "{{json .NetworkSettings.Networks}}", cid).out)
    assert shown["front"]["IPAMConfig"] == {"IPv4Address": "10.231.41.23"}
    api.start(cid)
    ep = api.inspect_container(cid)["NetworkSettings"]["Networks"]["front"]
    assert ep["IPAddress"] == "10.231.41.23" and ep["IPAMConfig"] == {"IPv4Address": "10.231.41.23"}
    assert "foo" in ep["Aliases"]
    api.remove_container(cid, force=True)


def test_disconnecting_a_container_that_is_not_connected_fails_even_with_force(
    service, docker_py, busybox, cli
):
    import docker as sdk

    _network(docker_py, "one", "10.231.42.0/24")
    _network(docker_py, "two", "10.231.43.0/24")
    c = docker_py.containers.create(busybox, "sleep 60", network="one")
    for force in (False, True):
        with pytest.raises(sdk.errors.APIError) as e:
            docker_py.api.disconnect_container_from_network(c.id, "two", force=force)
        assert "is not connected to network two" in str(e.value.explanation)
    r = cli.fails("network", "disconnect", "-f", "two", c.id)
    assert "is not connected to network two" in r.err
    docker_py.api.disconnect_container_from_network(c.id, "one", force=True)
    assert docker_py.api.inspect_container(c.id)["NetworkSettings"]["Networks"] == {}
    c.remove(force=True)


def test_network_names_as_docker_takes_them_and_ipam_as_docker_shows_it(service, docker_py, cli):
    import docker as sdk
    from docker.types import IPAMConfig, IPAMPool

    net_id = docker_py.api.create_network("test 01", internal=True)["Id"]
    doc = docker_py.api.inspect_network("test 01")
    assert doc["Id"] == net_id and doc["IPAM"]["Options"] is None
    assert "test 01" in cli("network", "ls", "--format", "{{.Name}}").out.splitlines()
    assert docker_py.api.remove_network("test 01") is None
    for bad in (".hidden", "a/b"):
        with pytest.raises(sdk.errors.APIError) as e:
            docker_py.api.create_network(bad)
        assert e.value.response.status_code == 400 and "invalid network name" in str(e.value.explanation)
    pool = IPAMPool(subnet="fd00:389::/64")  # an IPv6 subnet alone: IPv6 on, an IPv4 subnet picked
    docker_py.api.create_network("six", internal=True, ipam=IPAMConfig(pool_configs=[pool]))
    doc = docker_py.api.inspect_network("six")
    assert doc["EnableIPv6"] is True and doc["IPAM"]["Config"][1] == {
        "Subnet": "fd00:389::/64",
        "Gateway": "fd00:389::1",
    }
    docker_py.api.remove_network("six")
    with pytest.raises(sdk.errors.APIError) as e:
        docker_py.api.create_network(
            "six", ipam=IPAMConfig(pool_configs=[pool, IPAMPool(subnet="fd00:390::/64")])
        )
    assert e.value.response.status_code == 400 and "one IPv4 and one IPv6" in str(e.value.explanation)
    assert "six" not in cli("network", "ls", "--format", "{{.Name}}").out.split()


def test_info_and_version_are_one_document_for_the_cli_and_the_api(service, docker_py, docker, cli, busybox):
    cli("create", "--name", "made", busybox, "true")
    api_info = docker_py.info()
    cli_info = json.loads(cli("info", "--format", "{{json .}}").out)
    assert api_info["Driver"] == cli_info["Driver"] == "overlay2"
    assert set(api_info) == set(cli_info)
    for key in (
        "Containers",
        "ContainersStopped",
        "Images",
        "DockerRootDir",
        "NCPU",
        "MemTotal",
        "ServerVersion",
    ):
        assert api_info[key] == cli_info[key], key
    assert api_info["Containers"] == 1 and api_info["DockerRootDir"] == service.root
    assert "Storage Driver: overlay2\n" in cli("info").out
    assert docker("info", "--format", "{{.Driver}}").out == "overlay2\n"
    server = json.loads(cli("version", "--format", "{{json .Server}}").out)
    assert server == docker_py.version()
    assert (server["ApiVersion"], server["MinAPIVersion"]) == ("1.43", "1.24")


def test_create_refuses_what_its_endpoint_asks_that_no_network_here_gives(service, docker_py, busybox):
    import docker as sdk

    _network(docker_py, "edge", "10.231.44.0/24")
    api = docker_py.api
    asks = {
        "supported only on networks created with --ipv6": api.create_endpoint_config(ipv6_address="fd00::d"),
    }
    for why, endpoint in asks.items():
        with pytest.raises(sdk.errors.APIError) as e:
            api.create_container(
                busybox,
                "true",
                host_config=api.create_host_config(network_mode="edge"),
                networking_config=api.create_networking_config({"edge": endpoint}),
            )
        assert e.value.response.status_code == 400 and why in str(e.value.explanation)
    assert api.containers(all=True) == []


def test_link_local_addresses_through_the_api_and_the_cli(service, docker_py, busybox, cli):
    import docker as sdk

    _network(docker_py, "ll", "10.231.45.0/24")
    _network(docker_py, "ll2", "10.231.46.0/24")
    api = docker_py.api
    cid = api.create_container(
        busybox,
        "sleep 60",
        host_config=api.create_host_config(network_mode="ll"),
        networking_config=api.create_networking_config(
            {"ll": api.create_endpoint_config(link_local_ips=["169.254.8.8"])}
        ),
    )["Id"]
    ep = api.inspect_container(cid)["NetworkSettings"]["Networks"]["ll"]
    assert ep["IPAMConfig"] == {"LinkLocalIPs": ["169.254.8.8"]}
    api.start(cid)
    api.connect_container_to_network(cid, "ll2", link_local_ips=["169.254.9.9"])
    addrs = cli("exec", cid, "ip", "-o", "-4", "addr").out
    assert "eth0    inet 169.254.8.8/16" in addrs and "eth1    inet 169.254.9.9/16" in addrs
    assert "eth0    inet 10.231.45." in addrs
    nets = api.inspect_container(cid)["NetworkSettings"]["Networks"]
    assert nets["ll"]["IPAMConfig"] == {"LinkLocalIPs": ["169.254.8.8"]}
    assert nets["ll2"]["IPAMConfig"] == {"LinkLocalIPs": ["169.254.9.9"]}
    api.remove_container(cid, force=True)

    out = cli(
        "run", "--rm", "--network", "ll", "--link-local-ip", "169.254.7.7", busybox, "ip", "-o", "-4", "addr"
    )
    assert "eth0    inet 169.254.7.7/16" in out.out
    r = cli.fails("run", "--rm", "--network", "ll", "--link-local-ip", "fe80::1", busybox, "true", code=125)
    assert "invalid link-local IP address fe80::1: only IPv4 link-local addresses are taken" in r.err
    with pytest.raises(sdk.errors.APIError) as e:
        api.create_container(
            busybox,
            "true",
            host_config=api.create_host_config(network_mode="ll"),
            networking_config=api.create_networking_config(
                {"ll": api.create_endpoint_config(link_local_ips=["nope"])}
            ),
        )
    assert e.value.response.status_code == 400 and "invalid link-local IP address: nope" in str(
        e.value.explanation
    )
