"""The embedded DNS server of containers on user-defined networks, as Docker's: 127.0.0.11:53 inside the
container's network namespace, over UDP and TCP.

It answers with the containers of the container's user networks: their names (also ``NAME.NETWORK``), network
aliases, short IDs and hostnames, and the aliases of the container's own links there (``--link NAME:ALIAS`` on a
user network is a name only this container resolves, looked up at each query, so the linked container may
come later). A and AAAA records, and PTR for their addresses. Other names go to the container's --dns servers,
else the host's, and only when one of its networks leads outside; on internal networks they get NXDOMAIN and
nothing leaves the machine.

The server is a thread of the container's supervisor (``Resolver.start`` between the fork and the exec, so the
command's first query finds it listening; ``stop`` when it exits). Its sockets are opened inside the
container's namespace (the thread switches only for the ``socket()`` calls); forwarded queries leave from the
host's. Messages are read and written with dnslib, loaded at the first query; the names are read from the
network store at each query, so joins, leaves and renames show at once. While it runs, the container's
directory holds a file ``resolver``: then /etc/resolv.conf names 127.0.0.11 (etcfiles.py).
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading

from ..model.config import ContainerConfig
from ..paths import Layout

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

ADDRESS = "127.0.0.11"
MARKER = "resolver"
_FORWARD_TIMEOUT = 3.0


def wanted(cfg: ContainerConfig) -> bool:
    """Does the container start on a user-defined network (the only ones with the embedded server)?"""
    from .netstore import DEFAULT_NETWORK

    return cfg.network_mode not in ("none", "host", "") and any(
        name != DEFAULT_NETWORK for name in cfg.networks
    )


class Resolver:
    """The server of one running container; ``stop`` closes its sockets (they hold the namespace)."""

    def __init__(self, layout: Layout, cfg: ContainerConfig, udp: socket.socket, tcp: socket.socket) -> None:
        self.layout = layout
        self.cfg = cfg
        self.udp = udp
        self.tcp = tcp
        self.wake_r, self.wake_w = os.pipe2(os.O_CLOEXEC)
        self.marker = os.path.join(layout.containers, cfg.id, MARKER)
        self.thread = threading.Thread(target=self._serve, name="dns", daemon=True)

    @classmethod
    def start(cls, layout: Layout, cfg: ContainerConfig, pid: int) -> Resolver | None:
        """Listen on 127.0.0.11:53 in the namespace of ``pid`` and serve from a thread; None when the
        container has no user network."""
        if not wanted(cfg):
            return None
        from .bridge import open_netns
        from .rtnl import Netlink, switched_namespace

        nsfd = open_netns(pid)
        try:
            # lo up now (the container's process may not have got there yet): bound before, the sockets
            # would answer from 127.0.0.1, which the container's resolver drops
            with Netlink.in_namespace(nsfd) as inner:
                inner.set_up(inner.link_index("lo"))
            with switched_namespace(nsfd):
                udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        finally:
            os.close(nsfd)
        try:
            for s in (udp, tcp):
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind((ADDRESS, 53))
            tcp.listen(16)
        except BaseException:
            udp.close()
            tcp.close()
            raise
        self = cls(layout, cfg, udp, tcp)
        with open(self.marker, "w"):
            pass
        self.thread.start()
        return self

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self.wake_w, b"x")
        self.thread.join(5)
        for s in (self.udp, self.tcp):
            s.close()
        for fd in (self.wake_r, self.wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.marker)

    # -- the thread ------------------------------------------------------------------------------------
    def _serve(self) -> None:
        import select

        poll = select.poll()
        for fd in (self.udp.fileno(), self.tcp.fileno(), self.wake_r):
            poll.register(fd, select.POLLIN)
        while True:
            for fd, _ in poll.poll():
                if fd == self.wake_r:
                    return
                try:
                    if fd == self.udp.fileno():
                        data, peer = self.udp.recvfrom(4096)
                        reply = self.answer(data, 512)
                        if reply:
                            self.udp.sendto(reply, peer)
                    else:
                        self._serve_tcp()
                except Exception:  # noqa: BLE001 - one bad query must not end the server
                    continue

    def _serve_tcp(self) -> None:
        conn, _ = self.tcp.accept()
        with conn:
            conn.settimeout(2.0)
            data = b""
            while len(data) < 2 or len(data) < 2 + int.from_bytes(data[:2], "big"):
                chunk = conn.recv(65537)
                if not chunk:
                    return
                data += chunk
            reply = self.answer(data[2 : 2 + int.from_bytes(data[:2], "big")], 65535)
            if reply:
                conn.sendall(len(reply).to_bytes(2, "big") + reply)

    # -- answers ---------------------------------------------------------------------------------------
    def answer(self, data: bytes, limit: int) -> bytes | None:
        """The reply to the query ``data`` (None to drop it: not a query)."""
        from dnslib import QTYPE, RCODE, DNSError, DNSRecord

        try:
            query = DNSRecord.parse(data)
        except (DNSError, Exception):  # noqa: BLE001 - dnslib raises more than DNSError on garbage
            return None
        if query.header.qr or len(query.questions) != 1:
            return None
        reply = query.reply()
        q = query.q
        name = str(q.qname).rstrip(".").lower()
        table = Names.read(self.layout, self.cfg.id)
        if q.qtype == QTYPE.PTR and name in table.reverse:
            from dnslib import PTR, RR

            reply.add_answer(RR(q.qname, QTYPE.PTR, rdata=PTR(table.reverse[name] + "."), ttl=600))
        elif name in table.names:
            from dnslib import AAAA, RR, A

            v4, v6 = table.names[name]
            if q.qtype in (QTYPE.A, QTYPE.ANY):
                for ip in v4:
                    reply.add_answer(RR(q.qname, QTYPE.A, rdata=A(ip), ttl=600))
            if q.qtype in (QTYPE.AAAA, QTYPE.ANY):
                for ip in v6:
                    reply.add_answer(RR(q.qname, QTYPE.AAAA, rdata=AAAA(ip), ttl=600))
        elif table.outbound:
            return self.forward(data, query)
        else:
            reply.header.set_rcode(RCODE.NXDOMAIN)
            reply.header.set_ra(0)
        packed: bytes = reply.pack()
        if len(packed) > limit:  # the question alone, truncated: the client asks again over TCP
            reply = query.reply()
            reply.header.set_tc(1)
            packed = reply.pack()
        return packed

    def forward(self, data: bytes, query: Any) -> bytes:
        """The answer of the first upstream server that gives one (the container's --dns, else the host's);
        SERVFAIL when none does."""
        from dnslib import RCODE

        for server in upstreams(self.cfg):
            family = socket.AF_INET6 if ":" in server else socket.AF_INET
            with socket.socket(family, socket.SOCK_DGRAM) as s:
                s.settimeout(_FORWARD_TIMEOUT)
                try:
                    s.connect((server, 53))
                    s.send(data)
                    got = s.recv(65535)
                except OSError:
                    continue
                if got[:2] == data[:2]:
                    return got
        reply = query.reply()
        reply.header.set_rcode(RCODE.SERVFAIL)
        packed: bytes = reply.pack()
        return packed


def upstreams(cfg: ContainerConfig) -> list[str]:
    """Where names the networks do not know are asked: --dns, else the host's resolvers."""
    if cfg.dns:
        return list(cfg.dns)
    from .etcfiles import host_nameservers_file

    out = []
    for line in host_nameservers_file().splitlines():
        words = line.split()
        if len(words) > 1 and words[0] == "nameserver":
            out.append(words[1].partition("%")[0])
    return out


def _reverse_name(ip: str) -> str:
    import ipaddress

    return ipaddress.ip_address(ip).reverse_pointer


class Names:
    """What one container's server answers: name -> (IPv4s, IPv6s); reverse name -> name; may it forward."""

    def __init__(self) -> None:
        self.names: dict[str, tuple[list[str], list[str]]] = {}
        self.reverse: dict[str, str] = {}
        self.outbound = False

    def add(self, name: str, v4: str, v6: str) -> None:
        if not name:
            return
        a, aaaa = self.names.setdefault(name.lower(), ([], []))
        if v4 and v4 not in a:
            a.append(v4)
        if v6 and v6 not in aaaa:
            aaaa.append(v6)

    @classmethod
    def read(cls, layout: Layout, cid: str) -> Names:
        from ..store.containers import ContainerStore
        from .netstore import DEFAULT_NETWORK, NetStore

        table = cls()
        store = NetStore(layout)
        cstore = ContainerStore(layout)
        nets = {n.name: n for n in store.all()}
        own = store.container_endpoints(cid)
        table.outbound = any(ep.network in nets and not nets[ep.network].internal for ep in own)
        configs: dict[str, Any] = {}

        def config(peer_id: str) -> Any:
            if peer_id not in configs:
                try:
                    configs[peer_id] = cstore.config(peer_id)
                except Exception:  # noqa: BLE001 - removed meanwhile
                    configs[peer_id] = None
            return configs[peer_id]

        for ep in own:
            if ep.network == DEFAULT_NETWORK:
                continue
            by_name: dict[str, Any] = {}
            for peer in store.endpoints(ep.network):
                pc = config(peer.container_id)
                name = pc.name if pc is not None else peer.container_name
                v6 = getattr(peer, "ipv6", "")
                by_name[name] = peer
                names = [name, f"{name}.{ep.network}", *peer.aliases, peer.container_id[:12]]
                if pc is not None and pc.hostname:
                    names.append(pc.hostname)
                for n in names:
                    table.add(n, peer.ip, v6)
                for ip in (peer.ip, v6):
                    if ip:
                        table.reverse.setdefault(_reverse_name(ip), f"{name}.{ep.network}")
            for link in getattr(ep, "links", None) or []:
                target, _, alias = str(link).partition(":")
                linked = by_name.get(target.lstrip("/"))
                if linked is not None:
                    table.add(alias or target, linked.ip, getattr(linked, "ipv6", ""))
        return table
