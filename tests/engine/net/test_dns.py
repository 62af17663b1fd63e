"""The embedded DNS server of containers on user networks (engine/net/dns.py), with real containers.

Safety: every network here is ``--internal``; queries go to 127.0.0.11 inside the containers' namespaces,
and names the networks do not know get NXDOMAIN without any packet leaving the machine.
"""

from __future__ import annotations

import os
import socket

import pytest
from dnslib import QTYPE, RCODE, DNSRecord

from engine.net.rtnl import switched_namespace
from tests.engine.net import test_networking
from tests.engine.net.test_networking import ok

net = test_networking.net  # the fixture: a root with busybox, emptied afterwards

pytestmark = pytest.mark.slow


def lookup(cli, ctr: str, name: str) -> tuple[int, str]:
    r = cli("exec", ctr, "nslookup", name, check=False)
    return r.code, r.out + r.err


def addresses(out: str) -> list[str]:
    """The answers busybox nslookup printed (after the server's own lines)."""
    return [ln.split()[-1] for ln in out.splitlines() if ln.startswith("Address:") and "#" not in ln][1:]


def ip_of(cli, ctr: str, network: str) -> str:
    return ok(
        cli, "inspect", "-f", f'{{{{(index .NetworkSettings.Networks "{network}").IPAddress}}}}', ctr
    ).strip()


def ask(pid: int, name: str, qtype: str = "A", tcp: bool = False) -> DNSRecord:
    """A query to 127.0.0.11:53 in the namespace of ``pid``, from this process (UDP, or TCP)."""
    fd = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY)
    try:
        with switched_namespace(fd):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM)
    finally:
        os.close(fd)
    with s:
        s.settimeout(5)
        s.connect(("127.0.0.11", 53))
        q = DNSRecord.question(name, qtype).pack()
        if tcp:
            s.sendall(len(q).to_bytes(2, "big") + q)
            data = b""
            while len(data) < 2 or len(data) < 2 + int.from_bytes(data[:2], "big"):
                chunk = s.recv(4096)
                assert chunk
                data += chunk
            return DNSRecord.parse(data[2:])
        s.send(q)
        return DNSRecord.parse(s.recv(4096))


def pid_of(cli, ctr: str) -> int:
    return int(ok(cli, "inspect", "-f", "{{.State.Pid}}", ctr))


def test_names_aliases_and_links_resolve_on_an_internal_network(net):
    net("network", "create", "--internal", "dnsnet")
    net("network", "create", "--internal", "othernet")
    net(
        "run",
        "-d",
        "--name",
        "web",
        "--network",
        "dnsnet",
        "--network-alias",
        "www",
        "busybox",
        "sleep",
        "300",
    )
    net("run", "-d", "--name", "lonely", "--network", "othernet", "busybox", "sleep", "300")
    net(
        "run",
        "-d",
        "--name",
        "client",
        "--network",
        "dnsnet",
        "--link",
        "web:backend",
        "busybox",
        "sleep",
        "300",
    )
    web_ip = ip_of(net, "web", "dnsnet")
    assert ok(net, "exec", "client", "cat", "/etc/resolv.conf") == "nameserver 127.0.0.11\noptions ndots:0\n"
    for name in ("web", "WEB", "www", "backend", "web.dnsnet", "client"):
        code, out = lookup(net, "client", name)
        assert code == 0, out
        want = ip_of(net, "client", "dnsnet") if name == "client" else web_ip
        assert addresses(out) == [want], out
    # a container on another network, a link alias seen by another container, a name outside: not found
    code, out = lookup(net, "client", "lonely")
    assert code != 0 and "NXDOMAIN" in out
    code, out = lookup(net, "web", "backend")
    assert code != 0 and "NXDOMAIN" in out
    code, out = lookup(net, "client", "example.com")
    assert code != 0 and "NXDOMAIN" in out
    # inspect shows the link on the network, as Docker's EndpointSettings.Links
    links = ok(net, "inspect", "-f", '{{json (index .NetworkSettings.Networks "dnsnet").Links}}', "client")
    assert links.strip() == '["web:backend"]'


def test_udp_tcp_ptr_and_aaaa_answers(net):
    net("network", "create", "--internal", "dnsnet")
    net("run", "-d", "--name", "web", "--network", "dnsnet", "busybox", "sleep", "300")
    web_ip = ip_of(net, "web", "dnsnet")
    pid = pid_of(net, "web")
    for tcp in (False, True):
        r = ask(pid, "web", tcp=tcp)
        assert r.header.rcode == RCODE.NOERROR and [str(rr.rdata) for rr in r.rr] == [web_ip]
    r = ask(pid, "web", "AAAA")  # the name exists, without an IPv6 address: no error, no answer
    assert r.header.rcode == RCODE.NOERROR and r.rr == []
    r = ask(pid, ".".join(reversed(web_ip.split("."))) + ".in-addr.arpa", "PTR")
    assert r.header.rcode == RCODE.NOERROR and r.rr[0].rtype == QTYPE.PTR
    assert str(r.rr[0].rdata) == "web.dnsnet."
    r = ask(pid, "nowhere.example", "A", tcp=True)
    assert r.header.rcode == RCODE.NXDOMAIN
    # names follow joins and renames at once
    net("rename", "web", "site")
    assert [str(rr.rdata) for rr in ask(pid, "site").rr] == [web_ip]
    assert ask(pid, "web").header.rcode == RCODE.NXDOMAIN


def test_link_by_network_connect_to_a_container_that_comes_later(net):
    net("network", "create", "--internal", "dnsnet")
    net("run", "-d", "--name", "client", "--network", "dnsnet", "busybox", "sleep", "300")
    net("network", "disconnect", "dnsnet", "client")
    net("network", "connect", "--link", "upstream:bar", "dnsnet", "client")
    links = ok(net, "inspect", "-f", '{{json (index .NetworkSettings.Networks "dnsnet").Links}}', "client")
    assert links.strip() == '["upstream:bar"]'
    code, out = lookup(net, "client", "bar")
    assert code != 0 and "NXDOMAIN" in out
    net("run", "-d", "--name", "upstream", "--network", "dnsnet", "busybox", "sleep", "300")
    code, out = lookup(net, "client", "bar")
    assert code == 0 and addresses(out) == [ip_of(net, "upstream", "dnsnet")], out


def test_the_server_goes_with_the_container(net, engine_):
    net("network", "create", "--internal", "dnsnet")
    net("run", "-d", "--name", "web", "--network", "dnsnet", "busybox", "sleep", "300")
    cid = ok(net, "inspect", "-f", "{{.Id}}", "web").strip()
    marker = os.path.join(engine_.layout.containers, cid, "resolver")
    assert os.path.exists(marker)
    net("stop", "-t", "0", "web")
    assert not os.path.exists(marker)
    # the default bridge and --network none get no server: resolv.conf names no 127.0.0.11
    out = ok(net, "run", "--rm", "--network", "none", "busybox", "cat", "/etc/resolv.conf")
    assert "127.0.0.11" not in out
