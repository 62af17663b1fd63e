"""Network options checked before anything is written: -p/-P, --ip, aliases, subnets; the rules and hosts
files dockyard renders. Fast: no kernel state is touched."""

from __future__ import annotations

import ipaddress
import os
import socket

import pytest

from engine.errors import Conflict, InvalidArgument, NotFound
from engine.model.config import ContainerConfig
from engine.model.network import Endpoint, Network
from engine.net import etcfiles, firewall, ipam, ports
from engine.net.netstore import NetStore, veth_name
from engine.paths import Layout
from engine.runtime.create import CreateOptions


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("80", [{"host_ip": "", "host_port": 0, "container_port": 80, "protocol": "tcp"}]),
        ("8080:80", [{"host_ip": "", "host_port": 8080, "container_port": 80, "protocol": "tcp"}]),
        (
            "127.0.0.1:8080:80/udp",
            [{"host_ip": "127.0.0.1", "host_port": 8080, "container_port": 80, "protocol": "udp"}],
        ),
        (
            "127.0.0.1::80",
            [{"host_ip": "127.0.0.1", "host_port": 0, "container_port": 80, "protocol": "tcp"}],
        ),
        ("0.0.0.0:81:80", [{"host_ip": "", "host_port": 81, "container_port": 80, "protocol": "tcp"}]),
        (
            "8000-8001:80-81",
            [
                {"host_ip": "", "host_port": 8000, "container_port": 80, "protocol": "tcp"},
                {"host_ip": "", "host_port": 8001, "container_port": 81, "protocol": "tcp"},
            ],
        ),
        (
            "9000-9005:80",
            [
                {
                    "host_ip": "",
                    "host_port": 0,
                    "host_range": [9000, 9005],
                    "container_port": 80,
                    "protocol": "tcp",
                }
            ],
        ),
    ],
)
def test_port_specs(spec: str, expected: list[dict]) -> None:
    assert ports.parse_spec(spec) == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("abc", "invalid containerPort: abc"),
        ("x:80", "invalid hostPort: x"),
        ("8080:80/icmp", "invalid proto: icmp"),
        ("1.2.3:8080:80", "invalid IP address: 1.2.3"),
        ("8080:", "no port specified: 8080:<empty>"),
        ("8000-8002:80-81", "invalid ranges specified for container and host Ports: 80-81 and 8000-8002"),
        ("70000", "invalid containerPort: 70000"),
        ("[::1]:80:80", "IPv4"),
    ],
)
def test_bad_port_specs_use_dockers_wording(spec: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message.replace("[", r"\[").replace("(", r"\(")):
        ports.parse_spec(spec)


def test_exposed_ports_and_random_host_ports_avoid_reserved() -> None:
    assert ports.exposed_ports({"ExposedPorts": {"80/tcp": {}, "53/udp": {}, "x/tcp": {}}}) == [
        (80, "tcp"),
        (53, "udp"),
    ]
    first = ports.assign_host_ports(
        [{"host_ip": "127.0.0.1", "host_port": 0, "container_port": 80, "protocol": "tcp"}], []
    )
    port = first[0]["host_port"]
    assert 0 < port < 65536
    reserved = [{"host_ip": "", "host_port": port, "container_port": 1, "protocol": "tcp"}]
    for _ in range(5):
        again = ports.assign_host_ports(
            [{"host_ip": "127.0.0.1", "host_port": 0, "container_port": 80, "protocol": "tcp"}], reserved
        )
        assert again[0]["host_port"] != port
    with pytest.raises(Conflict, match="port is already allocated"):
        ports.assign_host_ports(
            [
                {"host_ip": "", "host_port": 8080, "container_port": 80, "protocol": "tcp"},
                {"host_ip": "127.0.0.1", "host_port": 8080, "container_port": 81, "protocol": "tcp"},
            ],
            [],
        )


def test_check_free_refuses_held_ports_and_host_listeners() -> None:
    p = {"host_ip": "127.0.0.1", "host_port": 0, "container_port": 80, "protocol": "tcp"}
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        busy = s.getsockname()[1]
        with pytest.raises(Conflict, match=f"listen tcp4 127.0.0.1:{busy}: bind: address already in use"):
            ports.check_free([{**p, "host_port": busy}], [])
    held = [{"host_ip": "", "host_port": 18999, "container_port": 80, "protocol": "tcp"}]
    with pytest.raises(Conflict, match="Bind for 127.0.0.1:18999 failed: port is already allocated"):
        ports.check_free([{**p, "host_port": 18999}], held)
    ports.check_free([{**p, "host_port": 18999, "protocol": "udp"}], held)  # another protocol is another port


def test_ipam_allocates_lowest_free_and_refuses_taken_or_outside() -> None:
    net = ipam.parse_subnet("10.200.0.0/29")
    used: set[str] = set()
    got = [ipam.allocate(net, "10.200.0.1", used | set(), "") for _ in range(1)]
    assert got == ["10.200.0.2"]
    used = {"10.200.0.2", "10.200.0.3"}
    assert ipam.allocate(net, "10.200.0.1", used) == "10.200.0.4"
    assert ipam.allocate(net, "10.200.0.1", used, "10.200.0.6") == "10.200.0.6"
    with pytest.raises(Conflict, match="Address already in use"):
        ipam.allocate(net, "10.200.0.1", used, "10.200.0.3")
    with pytest.raises(Conflict, match="Address already in use"):
        ipam.allocate(net, "10.200.0.1", used, "10.200.0.1")
    with pytest.raises(InvalidArgument, match="no configured subnet contains the IP address 10.9.9.9"):
        ipam.allocate(net, "10.200.0.1", used, "10.9.9.9")
    full = {str(a) for a in net.hosts()}
    with pytest.raises(Conflict, match="no available IPv4 addresses"):
        ipam.allocate(net, "10.200.0.1", full)
    assert ipam.mac_for("10.88.0.2") == "02:42:0a:58:00:02"


def test_subnets_are_validated_and_picked_clear_of_routes() -> None:
    for bad in ("10.0.0.0", "10.0.0.0/33", "fd00::/64", "nonsense/8"):
        with pytest.raises(InvalidArgument, match="invalid CIDR address"):
            ipam.parse_subnet(bad)
    with pytest.raises(InvalidArgument, match="no matching subnet for gateway 10.1.0.1"):
        ipam.check_gateway(ipam.parse_subnet("10.2.0.0/24"), "10.1.0.1")
    routed = [dest for _dev, dest in ipam.host_routes()]
    taken = [ipaddress.IPv4Network("10.89.0.0/24")]
    picked = ipam.pick_subnet(ipam.user_pool(), taken)
    assert picked != taken[0] and not any(picked.overlaps(r) for r in routed)


def _layout(tmp_path) -> Layout:
    layout = Layout(str(tmp_path / "root"))
    layout.ensure()
    return layout


def test_plan_refuses_bad_input_before_writing(tmp_path) -> None:
    from engine.net.plan import plan_networking

    layout = _layout(tmp_path)
    store = NetStore(layout)
    store.save(Network(name="web", id="ab" * 32, created="", subnet="10.210.0.0/24", gateway="10.210.0.1"))

    def plan(**kw):
        return plan_networking(layout, CreateOptions(**kw), {})

    with pytest.raises(NotFound, match="network nosuch not found"):
        plan(network="nosuch")
    with pytest.raises(InvalidArgument, match="invalid hostPort"):
        plan(network="web", ports=["x:80"])
    with pytest.raises(InvalidArgument, match="no configured subnet contains the IP address 10.9.0.5"):
        plan(network="web", ip="10.9.0.5")
    with pytest.raises(InvalidArgument, match="user configured subnets"):
        plan(network="bridge", ip="10.88.0.5")
    with pytest.raises(InvalidArgument, match="network-scoped alias is supported only"):
        plan(network="bridge", aliases=["x"])
    with pytest.raises(InvalidArgument, match="--dns"):
        plan(network="web", dns=["nope"])
    with pytest.raises(InvalidArgument, match="--add-host"):
        plan(network="web", extra_hosts=["justaname"])
    assert store.names() == ["web"]  # no bridge record was written for the failed plans
    published, networks = plan(
        network="ab" * 3, ip="10.210.0.9", aliases=["api"], ports=["127.0.0.1:18080:80"]
    )
    assert published == [
        {"host_ip": "127.0.0.1", "host_port": 18080, "container_port": 80, "protocol": "tcp"}
    ]
    assert networks == {"web": {"aliases": ["api"], "ip": "10.210.0.9", "network_id": "ab" * 32}}


def test_firewall_rules_render_nat_ports_and_isolation() -> None:
    nets = [
        Network(
            name="bridge",
            id="1" * 64,
            created="",
            subnet="10.88.0.0/16",
            gateway="10.88.0.1",
            bridge="dockyard0",
        ),
        Network(
            name="priv",
            id="2" * 64,
            created="",
            subnet="10.89.3.0/24",
            gateway="10.89.3.1",
            bridge="dy-222",
            internal=True,
        ),
    ]
    ep = Endpoint(
        container_id="c" * 64,
        container_name="web",
        network="priv",
        network_id="2" * 64,
        ip="10.89.3.2",
        prefixlen=24,
        gateway="10.89.3.1",
        mac="",
        veth="dyvc",
        ifname="eth0",
        ports=[{"host_ip": "127.0.0.1", "host_port": 8080, "container_port": 80, "protocol": "tcp"}],
    )
    text = firewall.render("dockyard_t", nets, [ep])
    assert text.startswith("table ip dockyard_t {}\ndelete table ip dockyard_t\n")
    assert 'ip saddr 10.88.0.0/16 oifname != "dockyard0" masquerade' in text
    assert "10.89.3.0/24 oifname" not in text  # internal: no NAT
    assert 'iifname "dy-222" oifname != "dy-222" drop' in text
    assert 'oifname "dy-222" iifname != "dy-222" drop' in text
    assert 'iifname "dockyard0" ip daddr 127.0.0.0/8 drop' in text
    out_chain = text.split("chain output")[1].split("}")[0]
    pre_chain = text.split("chain prerouting")[1].split("}")[0]
    assert "ip daddr 127.0.0.1 tcp dport 8080 dnat to 10.89.3.2:80" in out_chain
    assert "dnat" not in pre_chain  # an internal network's ports are for this host only


def test_hosts_file_lists_peers_and_is_rewritten_in_place(tmp_path) -> None:
    cfg = ContainerConfig(
        id="a" * 64, name="api", created="", image="x", image_id="y", extra_hosts=["db:10.1.1.1"]
    )
    own = [
        Endpoint("a" * 64, "api", "priv", "n", "10.89.3.2", 24, "10.89.3.1", "", "v", "eth0", aliases=["svc"])
    ]
    peer = Endpoint(
        "b" * 64, "old", "priv", "n", "10.89.3.3", 24, "10.89.3.1", "", "w", "eth0", aliases=["cache"]
    )
    text = etcfiles.render_hosts(cfg, own, [(peer, "redis")])
    lines = text.splitlines()
    assert lines[0] == "127.0.0.1\tlocalhost"
    assert "10.1.1.1\tdb" in lines
    assert f"10.89.3.2\t{'a' * 12} api svc" in lines
    assert f"10.89.3.3\tredis cache {'b' * 12}" in lines
    assert not [line for line in lines[6:] if ":" in line.split("\t")[0]]  # no IPv6 on an IPv4 network
    own[0].ipv6, peer.ipv6 = "fd00:3::2", "fd00:3::3"  # a network made with --ipv6
    lines6 = etcfiles.render_hosts(cfg, own, [(peer, "redis")]).splitlines()
    assert f"fd00:3::2\t{'a' * 12} api svc" in lines6
    assert f"fd00:3::3\tredis cache {'b' * 12}" in lines6
    path = tmp_path / "hosts"
    path.write_text("old\n")
    inode = os.stat(path).st_ino
    assert etcfiles.write_in_place(str(path), text)
    assert os.stat(path).st_ino == inode and path.read_text() == text
    assert not etcfiles.write_in_place(str(tmp_path / "gone"), text)
    assert etcfiles.render_resolv(cfg, outbound=False) == ""
    cfg.dns = ["10.0.0.53"]
    assert etcfiles.render_resolv(cfg, outbound=True) == "nameserver 10.0.0.53\n"


def test_names_fit_the_kernel_limit() -> None:
    assert len(veth_name("c" * 64, "d" * 64)) <= 15
    assert len("dy-" + "e" * 12) <= 15
