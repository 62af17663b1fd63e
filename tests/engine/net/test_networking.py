"""Bridge and user networks with real containers, namespaces, veths and nftables rules.

Safety: traffic goes only to 127.0.0.1 and between containers of this test. Every network here is
``--internal`` (no route out, no NAT) except in the default-bridge test, whose container never sends a
packet: its outbound NAT is checked by reading the rules. Every test removes what it made.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request

import pytest

from engine.net import janitor
from engine.net.bridge import dockyard_bridges
from engine.net.firewall import table_name
from engine.net.netstore import PREDEFINED, NetStore
from tests.conftest import DOCKYARD

pytestmark = pytest.mark.slow

PAGE_CMD = "mkdir -p /www && echo {text} > /www/index.html && exec httpd -f -p {port} -h /www"


@pytest.fixture
def net(cli, engine_, busybox):
    """The CLI over a root with busybox; afterwards every container and network of the root is gone."""
    try:
        yield cli
    finally:
        for c in engine_.containers.list(all=True):
            try:
                engine_.containers.remove(c.id, force=True)
            except Exception:
                pass
        for n in engine_.networks.list():
            if n.name not in PREDEFINED:
                try:
                    engine_.networks.remove(n.name)
                except Exception:
                    pass
        store = NetStore(engine_.layout)
        with store.lock():
            janitor.sweep(engine_.layout, store)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fetch(url: str, timeout: float = 5.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                return r.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def ok(cli, *args: str) -> str:
    return cli(*args).out


def runs(cli, *args: str) -> bool:
    return cli(*args, check=False).code == 0


def links() -> str:
    return subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=True).stdout


def nft_tables() -> str:
    return subprocess.run(["nft", "list", "tables"], capture_output=True, text=True, check=True).stdout


def wait_until(pred, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def http_get(cli, container: str, host: str, port: int) -> str:
    """An HTTP GET from inside ``container`` with busybox nc ("" when it cannot connect)."""
    r = cli(
        "exec",
        container,
        "sh",
        "-c",
        f"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 {host} {port}",
        check=False,
    )
    return r.out if r.code == 0 else ""


def net_ip(cli, network: str, name: str) -> str:
    doc = json.loads(ok(cli, "network", "inspect", network))[0]
    for c in doc["Containers"].values():
        if c["Name"] == name:
            return c["IPv4Address"].split("/")[0]
    raise AssertionError(f"{name} is not on {network}")


def test_network_commands_use_dockers_wording(net, engine_) -> None:
    nid = ok(
        net, "network", "create", "--internal", "--subnet", "10.231.7.0/24", "--label", "team=a", "front"
    ).strip()
    assert re.fullmatch(r"[0-9a-f]{64}", nid)
    assert "network with name front already exists" in net.fails("network", "create", "front").err
    assert "network with name bridge already exists" in net.fails("network", "create", "bridge").err
    assert "Pool overlaps" in net.fails("network", "create", "--subnet", "10.231.7.128/25", "other").err
    assert (
        "invalid CIDR address: 10.1.2.0/40"
        in net.fails("network", "create", "--subnet", "10.1.2.0/40", "x").err
    )
    assert (
        "no matching subnet for gateway"
        in net.fails("network", "create", "--subnet", "10.231.8.0/24", "--gateway", "10.9.9.1", "y").err
    )
    names = ok(net, "network", "ls", "--format", "{{.Name}}").split()
    assert names[:3] == ["bridge", "host", "none"] and "front" in names
    doc = json.loads(ok(net, "network", "inspect", "front"))[0]
    assert doc["Id"] == nid and doc["Internal"] is True and doc["Labels"] == {"team": "a"}
    assert doc["IPAM"]["Config"] == [{"Subnet": "10.231.7.0/24", "Gateway": "10.231.7.1"}]
    assert ok(net, "network", "inspect", "-f", "{{.Name}}", nid[:10]).strip() == "front"
    assert "bridge is a pre-defined network and cannot be removed" in net.fails("network", "rm", "bridge").err
    assert "network nosuch not found" in net.fails("network", "rm", "nosuch").err
    assert (
        "network nosuch not found" in net.fails("run", "--rm", "--network", "nosuch", "busybox", "true").err
    )
    ok(net, "run", "-d", "--name", "c1", "--network", "front", "busybox", "sleep", "30")
    err = net.fails("network", "rm", "front").err
    assert "error while removing network: network front has active endpoints" in err
    assert ok(net, "network", "prune", "-f").strip() == ""  # in use: kept
    ok(net, "rm", "-f", "c1")
    ok(net, "network", "rm", "front")
    assert "front" not in ok(net, "network", "ls")
    assert not os.path.exists(os.path.join(engine_.layout.networks, "front"))


def test_names_aliases_isolation_connect_and_disconnect(net) -> None:
    ok(net, "network", "create", "--internal", "front")
    ok(net, "network", "create", "--internal", "back")
    ok(
        net,
        "run",
        "-d",
        "--name",
        "web",
        "--network",
        "front",
        "--network-alias",
        "www",
        "busybox",
        "sh",
        "-c",
        PAGE_CMD.format(text="hello-front", port=8080),
    )
    ok(net, "run", "-d", "--name", "client", "--network", "front", "busybox", "sleep", "60")
    ok(net, "run", "-d", "--name", "outsider", "--network", "back", "busybox", "sleep", "60")
    web_ip = net_ip(net, "front", "web")

    # same network: by name and by alias, with ping and nc (this busybox's wget crashes, on the host too)
    assert runs(net, "exec", "client", "ping", "-c", "1", "-W", "2", "web")
    assert wait_until(lambda: "hello-front" in http_get(net, "client", "www", 8080))
    assert "hello-front" in http_get(net, "client", "web", 8080)
    hosts = ok(net, "exec", "client", "cat", "/etc/hosts")
    assert re.search(rf"^{re.escape(web_ip)}\tweb www ", hosts, re.M)

    # another network: no name, no route
    assert "bad address" in net("exec", "outsider", "ping", "-c", "1", "-W", "1", "web", check=False).err
    assert "hello-front" not in http_get(net, "outsider", web_ip, 8080)
    assert not runs(net, "exec", "outsider", "ping", "-c", "1", "-W", "1", web_ip)

    # connect: a second interface, and names both ways
    ok(net, "network", "connect", "--alias", "probe", "front", "outsider")
    assert "eth1" in ok(net, "exec", "outsider", "ip", "-o", "-4", "addr")
    assert "hello-front" in http_get(net, "outsider", "www", 8080)
    assert runs(net, "exec", "client", "ping", "-c", "1", "-W", "2", "probe")
    assert "front" in json.loads(ok(net, "inspect", "outsider"))[0]["NetworkSettings"]["Networks"]

    # disconnect: gone again, and the others forget the name
    ok(net, "network", "disconnect", "front", "outsider")
    assert "eth1" not in ok(net, "exec", "outsider", "ip", "-o", "link")
    assert "hello-front" not in http_get(net, "outsider", web_ip, 8080)
    assert "probe" not in ok(net, "exec", "client", "cat", "/etc/hosts")
    assert "is not connected to network front" in net.fails("network", "disconnect", "front", "outsider").err

    # a restart gives the container its network back
    ok(net, "restart", "-t", "0", "client")
    assert runs(net, "exec", "client", "ping", "-c", "1", "-W", "2", "www")


def test_published_port_serves_the_host_and_refuses_a_second_taker(net, engine_, busybox_tar) -> None:
    ok(net, "network", "create", "--internal", "pub")
    port = free_port()
    ok(
        net,
        "run",
        "-d",
        "--name",
        "site",
        "--network",
        "pub",
        "-p",
        f"127.0.0.1:{port}:80",
        "busybox",
        "sh",
        "-c",
        PAGE_CMD.format(text="hello-host", port=80),
    )
    assert fetch(f"http://127.0.0.1:{port}/").strip() == "hello-host"
    assert ok(net, "port", "site").strip() == f"80/tcp -> 127.0.0.1:{port}"
    assert f"127.0.0.1:{port}->80/tcp" in ok(net, "ps")

    r = net.fails(
        "run",
        "-d",
        "--name",
        "site2",
        "--network",
        "pub",
        "-p",
        f"127.0.0.1:{port}:80",
        "busybox",
        "sh",
        "-c",
        PAGE_CMD.format(text="second", port=80),
        code=125,
    )
    assert f"Bind for 127.0.0.1:{port} failed: port is already allocated" in r.err
    assert engine_.containers.get("site2").status != "running"
    assert len(NetStore(engine_.layout).endpoints("pub")) == 1  # the refused one holds no address

    ok(net, "rm", "-f", "site")
    ok(net, "start", "site2")  # the port is free again
    assert fetch(f"http://127.0.0.1:{port}/").strip() == "second"

    # -P: every EXPOSEd port on a random host port
    with open(busybox_tar, "rb") as f:
        engine_.images.import_(
            f,
            "exposing:latest",
            changes={"ExposedPorts": {"8081/tcp": {}}, "Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]},
        )
    ok(
        net,
        "run",
        "-d",
        "--name",
        "auto",
        "--network",
        "pub",
        "-P",
        "exposing",
        "sh",
        "-c",
        PAGE_CMD.format(text="random-port", port=8081),
    )
    line = ok(net, "port", "auto").strip()
    m = re.fullmatch(r"8081/tcp -> 0\.0\.0\.0:(\d+)", line)
    assert m, line
    assert fetch(f"http://127.0.0.1:{m.group(1)}/").strip() == "random-port"


def test_concurrent_runs_get_distinct_addresses(net, root) -> None:
    ok(net, "network", "create", "--internal", "many")
    env = {**os.environ, "DOCKYARD_ROOT": root}
    procs = [
        subprocess.Popen(
            [DOCKYARD, "run", "-d", "--name", f"m{i}", "--network", "many", "busybox", "sleep", "60"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
        )
        for i in range(10)
    ]
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err.decode()
    doc = json.loads(ok(net, "network", "inspect", "many"))[0]
    addrs = [c["IPv4Address"] for c in doc["Containers"].values()]
    assert len(addrs) == 10 and len(set(addrs)) == 10
    inside = ok(net, "exec", "m3", "ip", "-o", "-4", "addr", "show", "eth0")
    assert any(a in inside for a in addrs)
    hosts = ok(net, "exec", "m0", "cat", "/etc/hosts")
    assert all(re.search(rf"[\t ]m{i}( |$)", hosts, re.M) for i in range(10))


def test_stats_count_eth0_traffic(net) -> None:
    ok(net, "network", "create", "--internal", "talk")
    ok(net, "run", "-d", "--name", "pa", "--network", "talk", "busybox", "sleep", "60")
    ok(net, "run", "-d", "--name", "pb", "--network", "talk", "busybox", "sleep", "60")
    ok(net, "exec", "pa", "ping", "-c", "3", "-i", "0.2", "-s", "1000", "pb")
    row = ok(net, "stats", "--no-stream", "--format", "{{.Name}} {{.NetIO}}", "pb")
    rx = row.split()[1]
    assert rx != "0B" and float(re.match(r"[\d.]+", rx).group()) > 0, row


def test_default_bridge_has_outbound_nat_rules(net, engine_) -> None:
    """Read, never exercised: the container only sleeps and its resolver is its own loopback."""
    with open("/proc/sys/net/ipv4/ip_forward") as f:
        forward_before = f.read().strip()
    ok(
        net,
        "run",
        "-d",
        "--name",
        "nat",
        "--network",
        "bridge",
        "--dns",
        "127.0.0.1",
        "busybox",
        "sleep",
        "60",
    )
    bridge = engine_.networks.get("bridge")
    route = ok(net, "exec", "nat", "ip", "route")
    assert f"default via {bridge.gateway} dev eth0" in route
    assert ok(net, "exec", "nat", "cat", "/etc/resolv.conf") == "nameserver 127.0.0.1\n"
    table = table_name(engine_.layout)
    rules = subprocess.run(
        ["nft", "list", "table", "ip", table], capture_output=True, text=True, check=True
    ).stdout
    assert f'ip saddr {bridge.subnet} oifname != "{bridge.bridge}" masquerade' in rules
    with open("/proc/sys/net/ipv4/ip_forward") as f:
        assert f.read().strip() == "1"
    ok(net, "rm", "-f", "nat")
    ok(net, "network", "prune", "-f")
    assert f"table ip {table}" not in nft_tables()
    assert f" {bridge.bridge}:" not in links()
    if not dockyard_bridges():  # another root's bridge on this host would keep forwarding on
        with open("/proc/sys/net/ipv4/ip_forward") as f:
            assert f.read().strip() == forward_before


def test_supervisor_crash_frees_the_address(net, engine_) -> None:
    ok(net, "network", "create", "--internal", "crash")
    cid = ok(net, "run", "-d", "--name", "victim", "--network", "crash", "busybox", "sleep", "60").strip()
    ip = net_ip(net, "crash", "victim")
    st = engine_.containers.store.state(cid)
    os.kill(st.shim_pid, signal.SIGKILL)
    assert wait_until(lambda: engine_.containers.get(cid).status == "exited")
    assert NetStore(engine_.layout).endpoints("crash") == []
    ok(net, "run", "-d", "--name", "next", "--network", "crash", "busybox", "sleep", "60")
    assert net_ip(net, "crash", "next") == ip


def test_nothing_is_left_behind(net, engine_) -> None:
    before_netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    port = free_port()
    ok(net, "network", "create", "--internal", "one")
    ok(net, "network", "create", "--internal", "--subnet", "10.232.9.0/24", "two")
    ok(net, *f"run -d --name cx --network one -p 127.0.0.1:{port}:80 busybox sleep 60".split())
    ok(net, "run", "-d", "--name", "cy", "--network", "two", "busybox", "sleep", "60")
    ok(net, "network", "connect", "one", "cy")
    store = NetStore(engine_.layout)
    nets = {n.name: n for n in store.all()}
    veths = [ep.veth for ep in store.all_endpoints()]
    assert len(veths) == 3 and all(f" {v}@" in links() for v in veths)
    assert f" {nets['two'].bridge}:" in links()
    table = table_name(engine_.layout)
    assert f"table ip {table}" in nft_tables()

    ok(net, "rm", "-f", "cx")
    ok(net, "stop", "-t", "0", "cy")
    # the last container gone, idle bridges and rules are swept a moment later without being asked
    assert wait_until(lambda: f"table ip {table}" not in nft_tables(), timeout=janitor.LINGER + 5)
    ok(net, "rm", "cy")
    ok(net, "network", "rm", "one", "two")
    ok(net, "network", "prune", "-f")
    listing = links()
    for name in [n.bridge for n in nets.values()] + veths:
        assert f" {name}:" not in listing and f" {name}@" not in listing
    assert f"table ip {table}" not in nft_tables()
    ruleset = subprocess.run(["nft", "list", "ruleset"], capture_output=True, text=True, check=True).stdout
    assert not any(n.bridge in ruleset for n in nets.values())
    addrs = subprocess.run(["ip", "-o", "-4", "addr"], capture_output=True, text=True, check=True).stdout
    for n in nets.values():
        assert f" {n.gateway}/" not in addrs
    assert subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout == before_netns
    assert store.all_endpoints() == []
    # and pyroute2, an independent netlink implementation, agrees that no link of ours is left
    from pyroute2 import IPRoute

    with IPRoute() as ipr:
        names = {link.get_attr("IFLA_IFNAME") for link in ipr.get_links()}
    assert not names & ({n.bridge for n in nets.values()} | set(veths))


def test_restart_keeps_the_interface_past_the_sweep(net, engine_) -> None:
    """A container started again has the same host-side interface name as before its stop: the sweep of
    the stopped one's interface must not take the new one."""
    ok(net, "network", "create", "--internal", "again")
    ok(net, "run", "-d", "--name", "r1", "--network", "again", "busybox", "sleep", "60")
    ok(net, "run", "-d", "--name", "r2", "--network", "again", "busybox", "sleep", "60")
    ok(net, "restart", "-t", "0", "r1", "r2")
    time.sleep(janitor.LINGER + 1.5)  # the janitor has swept what the stops left
    for name in ("r1", "r2"):
        assert "eth0" in ok(net, "exec", name, "ip", "-o", "link"), name
    assert ok(net, "exec", "r1", "ping", "-c", "1", "-W", "2", "r2").count("1 packets received") == 1
