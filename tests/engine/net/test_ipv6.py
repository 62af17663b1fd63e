"""IPv6 on user networks (network create --ipv6, --subnet fd00:.../64, --ip6), with real containers.

Safety: every network here is ``--internal`` and its IPv6 subnet a unique local one; containers get no IPv6
route beyond their network's subnet, so nothing they send can leave the machine.
"""

from __future__ import annotations

import json

import pytest

from tests.engine.net import test_networking
from tests.engine.net.test_networking import ok

pytestmark = pytest.mark.slow

net = test_networking.net  # the fixture: a root with busybox, emptied afterwards


def test_ipv6_addresses_ping_and_names_between_two_containers(net):
    net(
        "network",
        "create",
        "--internal",
        "--ipv6",
        "--subnet",
        "fd00:d0c:1::/64",
        "--subnet",
        "10.231.9.0/24",
        "six",
    )
    info = json.loads(ok(net, "network", "inspect", "six"))[0]
    assert info["EnableIPv6"] is True
    assert info["IPAM"]["Config"] == [
        {"Subnet": "10.231.9.0/24", "Gateway": "10.231.9.1"},
        {"Subnet": "fd00:d0c:1::/64", "Gateway": "fd00:d0c:1::1"},
    ]
    net("run", "-d", "--name", "one", "--network", "six", "busybox", "sleep", "300")
    net(
        "run", "-d", "--name", "two", "--network", "six", "--ip6", "fd00:d0c:1::99", "busybox", "sleep", "300"
    )
    two = json.loads(ok(net, "inspect", "two"))[0]["NetworkSettings"]["Networks"]["six"]
    assert two["GlobalIPv6Address"] == "fd00:d0c:1::99" and two["GlobalIPv6PrefixLen"] == 64
    assert two["IPv6Gateway"] == "fd00:d0c:1::1" and two["IPAMConfig"]["IPv6Address"] == "fd00:d0c:1::99"
    one = json.loads(ok(net, "inspect", "one"))[0]["NetworkSettings"]["Networks"]["six"]
    assert one["GlobalIPv6Address"] == "fd00:d0c:1::2"
    # the address is on the interface, usable at once: ping6 by address and by name (AAAA from 127.0.0.11)
    assert "inet6 fd00:d0c:1::2/64" in ok(net, "exec", "one", "ip", "-6", "addr", "show", "eth0")
    assert " 0% packet loss" in ok(net, "exec", "one", "ping6", "-c", "1", "-W", "3", "fd00:d0c:1::99")
    assert " 0% packet loss" in ok(net, "exec", "one", "ping6", "-c", "1", "-W", "3", "two")
    out = ok(net, "exec", "one", "nslookup", "-type=AAAA", "two")
    assert "Address: fd00:d0c:1::99" in out
    # no IPv6 route beyond the network's own subnet: nothing is routed off the machine
    routes = ok(net, "exec", "one", "ip", "-6", "route")
    assert "default" not in routes and "fd00:d0c:1::/64 dev eth0" in routes
    members = json.loads(ok(net, "network", "inspect", "six"))[0]["Containers"]
    assert sorted(m["IPv6Address"] for m in members.values()) == ["fd00:d0c:1::2/64", "fd00:d0c:1::99/64"]


def test_ipv6_without_a_subnet_gets_a_unique_local_one_and_connect_takes_ip6(net):
    net("network", "create", "--internal", "--ipv6", "auto6")
    config = json.loads(ok(net, "network", "inspect", "auto6"))[0]["IPAM"]["Config"]
    subnet6 = next(c["Subnet"] for c in config if ":" in c["Subnet"])
    assert subnet6.startswith("fd") and subnet6.endswith("/64")
    assert "true" in ok(net, "network", "ls", "--format", "{{.Name}} {{.IPv6}}").split("auto6 ")[1]
    net("network", "create", "--internal", "plain")
    net("run", "-d", "--name", "box", "--network", "plain", "busybox", "sleep", "300")
    want = subnet6.split("/")[0] + "42"
    net("network", "connect", "--ip6", want, "auto6", "box")
    assert f"inet6 {want}/64" in ok(net, "exec", "box", "ip", "-6", "addr")


def test_what_ipv6_refuses(net):
    net("network", "create", "--internal", "v4only")
    r = net("run", "--rm", "--network", "v4only", "--ip6", "fd00::5", "busybox", "true", check=False)
    assert r.code == 125 and "supported only on networks created with --ipv6" in r.err
    r = net(
        "network",
        "create",
        "--ipv6",
        "--subnet",
        "fd00:1::/64",
        "--subnet",
        "fd00:2::/64",
        "two6",
        check=False,
    )
    assert r.code != 0 and "one IPv4 and one IPv6" in r.err
    r = net(
        "network",
        "create",
        "--ipv6",
        "--subnet",
        "fd00:1::/64",
        "--gateway",
        "fd00:9::1",
        "badgw",
        check=False,
    )
    assert r.code != 0 and "no matching subnet for gateway fd00:9::1" in r.err
    net("network", "create", "--internal", "--ipv6", "--subnet", "fd00:7::/64", "taken6")
    r = net("network", "create", "--ipv6", "--subnet", "fd00:7::/64", "again6", check=False)
    assert r.code != 0 and "overlaps" in r.err
    assert "again6" not in ok(net, "network", "ls")
