"""A small rtnetlink client: the dozen link, address and route requests container networking needs.

dockyard talks to the kernel over a NETLINK_ROUTE socket directly (struct-packed messages, one
request and its acknowledgement at a time). It replaces a general netlink library on the container start
path: importing one costs 60-500 ms, this module under a millisecond, and every request below takes tens of
microseconds. Errors come back as ``OSError`` with the kernel's errno.

Operations in another network namespace use a socket opened there (``Netlink.in_namespace``): a netlink
socket stays bound to the namespace it was created in, so the calling thread only switches for the
``socket()`` call and comes straight back.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
import struct
from collections.abc import Iterator

# message types and flags (linux/netlink.h, linux/rtnetlink.h)
NLMSG_ERROR = 2
NLMSG_DONE = 3
RTM_NEWLINK = 16
RTM_DELLINK = 17
RTM_GETLINK = 18
RTM_NEWADDR = 20
RTM_NEWROUTE = 24
NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4
NLM_F_EXCL = 0x200
NLM_F_CREATE = 0x400
NLA_F_NESTED = 0x8000

# attributes
IFLA_ADDRESS = 1
IFLA_IFNAME = 3
IFLA_MTU = 4
IFLA_MASTER = 10
IFLA_LINKINFO = 18
IFLA_NET_NS_FD = 28
IFLA_INFO_KIND = 1
IFLA_INFO_DATA = 2
VETH_INFO_PEER = 1
IFA_ADDRESS = 1
IFA_LOCAL = 2
IFA_BROADCAST = 4
IFA_F_NODAD = 0x02
RTA_OIF = 4
RTA_GATEWAY = 5

IFF_UP = 0x1
RT_TABLE_MAIN = 254
RTPROT_BOOT = 3
RT_SCOPE_UNIVERSE = 0
RT_SCOPE_LINK = 253
RTN_UNICAST = 1

_HDR = struct.Struct("=IHHII")  # nlmsghdr: len, type, flags, seq, pid
_IFINFO = struct.Struct("=BxHiII")  # ifinfomsg: family, type, index, flags, change
_IFADDR = struct.Struct("=BBBBI")  # ifaddrmsg: family, prefixlen, flags, scope, index
# rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags
_RTMSG = struct.Struct("=BBBBBBBBI")


def _attr(kind: int, payload: bytes) -> bytes:
    length = 4 + len(payload)
    return struct.pack("=HH", length, kind) + payload + b"\0" * (-length % 4)


def _nest(kind: int, *attrs: bytes) -> bytes:
    return _attr(kind | NLA_F_NESTED, b"".join(attrs))


def _name(value: str) -> bytes:
    return value.encode() + b"\0"


def _u32(value: int) -> bytes:
    return struct.pack("=I", value)


def _mac(value: str) -> bytes:
    return bytes(int(x, 16) for x in value.split(":"))


def _ifinfo(index: int = 0, up: bool = False) -> bytes:
    return _IFINFO.pack(socket.AF_UNSPEC, 0, index, IFF_UP if up else 0, IFF_UP if up else 0)


def _ip(value: str) -> bytes:
    return ipaddress.IPv4Address(value).packed


class Netlink:
    """One NETLINK_ROUTE socket (in the namespace it was opened in)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, 0)
        self.sock.bind((0, 0))
        self.seq = 0

    @classmethod
    def in_namespace(cls, netns_fd: int) -> Netlink:
        """A socket in the network namespace ``netns_fd`` (an open /proc/PID/ns/net)."""
        with switched_namespace(netns_fd):
            return cls()

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> Netlink:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- transport ---------------------------------------------------------------------------
    def request(self, msg_type: int, flags: int, body: bytes) -> None:
        """Send one request and wait for its acknowledgement; raise OSError on a kernel error."""
        self.seq += 1
        seq = self.seq
        self.sock.send(
            _HDR.pack(_HDR.size + len(body), msg_type, flags | NLM_F_REQUEST | NLM_F_ACK, seq, 0) + body
        )
        while True:
            data = self.sock.recv(65536)
            off = 0
            while off + _HDR.size <= len(data):
                length, kind, _flags, rseq, _pid = _HDR.unpack_from(data, off)
                if length < _HDR.size:
                    raise OSError(0, "malformed netlink reply")
                if rseq == seq and kind == NLMSG_ERROR:
                    (err,) = struct.unpack_from("=i", data, off + _HDR.size)
                    if err:
                        raise OSError(-err, os.strerror(-err))
                    return
                if rseq == seq and kind == NLMSG_DONE:
                    return
                off += (length + 3) & ~3

    # -- links -----------------------------------------------------------------------------
    def add_bridge(self, name: str, mac: str, mtu: int = 1500) -> None:
        body = (
            _ifinfo()
            + _attr(IFLA_IFNAME, _name(name))
            + _attr(IFLA_ADDRESS, _mac(mac))
            + _attr(IFLA_MTU, _u32(mtu))
            + _nest(IFLA_LINKINFO, _attr(IFLA_INFO_KIND, b"bridge"))
        )
        self.request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, body)

    def add_veth(
        self,
        name: str,
        *,
        peer: str,
        peer_netns_fd: int,
        peer_mac: str,
        master: int,
        mtu: int = 1500,
    ) -> None:
        """A veth pair: ``name`` here (enslaved to ``master``), ``peer`` in the namespace ``peer_netns_fd``.

        Both ends start down (the kernel refuses to create the peer up): bring them up with ``set_up``."""
        peer_msg = (
            _ifinfo()
            + _attr(IFLA_IFNAME, _name(peer))
            + _attr(IFLA_NET_NS_FD, _u32(peer_netns_fd))
            + _attr(IFLA_ADDRESS, _mac(peer_mac))
            + _attr(IFLA_MTU, _u32(mtu))
        )
        body = (
            _ifinfo()
            + _attr(IFLA_IFNAME, _name(name))
            + _attr(IFLA_MTU, _u32(mtu))
            + _attr(IFLA_MASTER, _u32(master))
            + _nest(
                IFLA_LINKINFO,
                _attr(IFLA_INFO_KIND, b"veth"),
                _nest(IFLA_INFO_DATA, _attr(VETH_INFO_PEER, peer_msg)),
            )
        )
        self.request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, body)

    def set_up(self, index: int) -> None:
        self.request(RTM_NEWLINK, 0, _ifinfo(index, up=True))

    def delete_link(self, name: str) -> bool:
        """Delete the link ``name``; False if there was none."""
        try:
            self.request(RTM_DELLINK, 0, _ifinfo() + _attr(IFLA_IFNAME, _name(name)))
        except OSError as e:
            if e.errno in (19, 2):  # ENODEV, ENOENT
                return False
            raise
        return True

    def link_index(self, name: str) -> int:
        """The interface index of ``name`` in this socket's namespace (OSError ENODEV if none)."""
        self.seq += 1
        seq = self.seq
        body = _ifinfo() + _attr(IFLA_IFNAME, _name(name))
        self.sock.send(_HDR.pack(_HDR.size + len(body), RTM_GETLINK, NLM_F_REQUEST, seq, 0) + body)
        while True:
            data = self.sock.recv(65536)
            off = 0
            while off + _HDR.size <= len(data):
                length, kind, _flags, rseq, _pid = _HDR.unpack_from(data, off)
                if rseq == seq:
                    if kind == NLMSG_ERROR:
                        (err,) = struct.unpack_from("=i", data, off + _HDR.size)
                        raise OSError(-err, os.strerror(-err))
                    if kind == RTM_NEWLINK:
                        _fam, _type, index, _fl, _ch = _IFINFO.unpack_from(data, off + _HDR.size)
                        return int(index)
                off += max((length + 3) & ~3, _HDR.size)

    # -- addresses and routes ------------------------------------------------------------------
    def add_address(self, index: int, address: str, prefixlen: int) -> None:
        if ":" in address:  # IPv6: usable at once (no duplicate address detection: dockyard hands them out)
            packed = ipaddress.IPv6Address(address).packed
            body = _IFADDR.pack(socket.AF_INET6, prefixlen, IFA_F_NODAD, RT_SCOPE_UNIVERSE, index)
            self.request(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, body + _attr(IFA_ADDRESS, packed))
            return
        net = ipaddress.IPv4Network(f"{address}/{prefixlen}", strict=False)
        body = (
            _IFADDR.pack(socket.AF_INET, prefixlen, 0, RT_SCOPE_UNIVERSE, index)
            + _attr(IFA_LOCAL, _ip(address))
            + _attr(IFA_ADDRESS, _ip(address))
            + (_attr(IFA_BROADCAST, net.broadcast_address.packed) if prefixlen < 31 else b"")
        )
        self.request(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, body)

    def add_default_route(self, gateway: str, index: int) -> None:
        body = _RTMSG.pack(
            socket.AF_INET, 0, 0, 0, RT_TABLE_MAIN, RTPROT_BOOT, RT_SCOPE_UNIVERSE, RTN_UNICAST, 0
        )
        body += _attr(RTA_GATEWAY, _ip(gateway)) + _attr(RTA_OIF, _u32(index))
        self.request(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, body)


@contextlib.contextmanager
def switched_namespace(netns_fd: int) -> Iterator[None]:
    """Run the block with the calling thread in the network namespace ``netns_fd``."""
    from ..kernel.syscalls import CLONE_NEWNET, setns

    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        setns(netns_fd, CLONE_NEWNET)
        try:
            yield
        finally:
            setns(own, CLONE_NEWNET)
    finally:
        os.close(own)


def link_exists(name: str) -> bool:
    """Whether the host namespace (the one this process's /sys shows) has a link ``name``."""
    return os.path.exists(os.path.join("/sys/class/net", name))
