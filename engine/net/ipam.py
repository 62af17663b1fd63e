"""Address management: subnets for new networks and addresses for endpoints (IPv4).

Subnets are picked from a pool, skipping any that overlap another network of this root or a route the
host already has (another engine's bridge, a VPN, the LAN). Addresses are the lowest free one in the
subnet; the caller holds the network lock and passes the addresses in use (the endpoint files).
"""

from __future__ import annotations

import ipaddress
import socket
import struct
from collections.abc import Iterable

from ..errors import Conflict, InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing stays off the path that plans a container's network
    from collections.abc import Callable
    from typing import Any, TypeVar

    _Net = TypeVar("_Net", ipaddress.IPv4Network, ipaddress.IPv6Network)
    _Addr = TypeVar("_Addr", ipaddress.IPv4Address, ipaddress.IPv6Address)

IPv4Net = ipaddress.IPv4Network

# The default bridge prefers 10.88.0.0/16 (what users of Podman expect); user networks get /24s.
DEFAULT_BRIDGE_POOL = ["10.88.0.0/16", "10.87.0.0/16", "10.86.0.0/16", "10.85.0.0/16"]
USER_POOL_BASE = "10.89.0.0/16"


def _cidr(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """``cidr`` as a network (host bits allowed), or Docker's words for what is none."""
    try:
        return ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        raise InvalidArgument(f"invalid CIDR address: {cidr}") from None


def _subnet(cidr: str, kind: type[_Net], longest: int) -> _Net:
    """A network's subnet: a CIDR of the family ``kind`` with a prefix length of ``longest`` at the most."""
    net = _cidr(cidr)
    if not isinstance(net, kind) or "/" not in cidr:
        raise InvalidArgument(f"invalid CIDR address: {cidr}")
    if net.prefixlen > longest:
        raise InvalidArgument(
            f"invalid subnet {cidr}: it must hold at least two addresses besides the gateway"
        )
    return net


def _address(value: str, what: str, kind: type[_Addr], other_family: str) -> _Addr:
    try:
        addr = ipaddress.ip_address(value)
    except ValueError:
        raise InvalidArgument(f"invalid {what}: {value}") from None
    if not isinstance(addr, kind):
        raise InvalidArgument(f"invalid {what}: {value}{other_family}")
    return addr


def _requested(net: Any, requested: str, parse: Callable[[str], Any], unavailable: set[str]) -> str:
    """The address an endpoint asks for (--ip, --ip6): in the subnet ``net``, not one of ``unavailable``."""
    addr = parse(requested)
    if addr not in net:
        raise InvalidArgument(f"no configured subnet contains the IP address {requested}")
    if str(addr) in unavailable:
        raise Conflict(f"Address already in use: {requested}")
    return str(addr)


def parse_subnet(cidr: str) -> IPv4Net:
    return _subnet(cidr, ipaddress.IPv4Network, 30)


def parse_ip(value: str, what: str = "IP address") -> ipaddress.IPv4Address:
    return _address(value, what, ipaddress.IPv4Address, " (only IPv4 is supported)")


def default_gateway(net: IPv4Net) -> str:
    return str(net.network_address + 1)


def check_gateway(net: IPv4Net, gateway: str) -> str:
    addr = parse_ip(gateway, "gateway")
    if addr not in net or addr in (net.network_address, net.broadcast_address):
        raise InvalidArgument(f"no matching subnet for gateway {gateway}")
    return str(addr)


def host_routes() -> list[tuple[str, IPv4Net]]:
    """The host's IPv4 routes (device, destination), from /proc/net/route, without the default route."""
    out = []
    try:
        with open("/proc/net/route") as f:
            lines = f.read().splitlines()[1:]
    except OSError:
        return []
    for line in lines:
        parts = line.split()
        if len(parts) < 8:
            continue
        dest = socket.inet_ntoa(struct.pack("<I", int(parts[1], 16)))
        mask = socket.inet_ntoa(struct.pack("<I", int(parts[7], 16)))
        if mask == "0.0.0.0":
            continue
        out.append((parts[0], ipaddress.IPv4Network(f"{dest}/{mask}", strict=False)))
    return out


def clashing_route(net: IPv4Net, except_dev: str = "") -> str | None:
    """The host device that already routes part of ``net``, if any (other than ``except_dev``)."""
    for dev, dest in host_routes():
        if dev != except_dev and dest.overlaps(net):
            return dev
    return None


def pick_subnet(candidates: Iterable[str], taken: Iterable[IPv4Net]) -> IPv4Net:
    taken = list(taken)
    routes = [dest for _dev, dest in host_routes()]
    for cidr in candidates:
        net = ipaddress.IPv4Network(cidr)
        if any(net.overlaps(t) for t in taken) or any(net.overlaps(r) for r in routes):
            continue
        return net
    raise Conflict(
        "could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network"
    )


def user_pool() -> list[str]:
    return [str(s) for s in ipaddress.IPv4Network(USER_POOL_BASE).subnets(new_prefix=24)]


def check_ip_range(net: IPv4Net, ip_range: str) -> str:
    """``--ip-range``: a CIDR inside the subnet (Docker's words when it is not), as its network's CIDR."""
    rng = _cidr(ip_range)
    if not isinstance(rng, ipaddress.IPv4Network) or "/" not in ip_range:
        raise InvalidArgument(f"invalid CIDR address: {ip_range}")
    if not rng.subnet_of(net):
        raise InvalidArgument(f"no matching subnet for range {ip_range}")
    return str(rng)


def allocate(
    net: IPv4Net,
    gateway: str,
    used: set[str],
    requested: str = "",
    ip_range: str = "",
    aux: set[str] | None = None,
) -> str:
    """An address for a new endpoint: ``requested`` if free, else the lowest free one (of ``ip_range``, the
    network's --ip-range, when it has one); ``aux`` (its --aux-address) are never given out."""
    reserved = {str(net.network_address), str(net.broadcast_address), gateway, *(aux or ())}
    if requested:
        return _requested(net, requested, parse_ip, reserved | used)
    for addr in ipaddress.IPv4Network(ip_range, strict=False) if ip_range else net.hosts():
        s = str(addr)
        if s not in reserved and s not in used:
            return s
    if ip_range:
        raise Conflict(f"no available IPv4 addresses in the network's ip-range {ip_range}")
    raise Conflict(f"no available IPv4 addresses on this network's address pools: {net}")


def mac_for(ip: str) -> str:
    """A locally administered MAC derived from the address (02:42 + the four bytes), as Docker did."""
    return "02:42:" + ":".join(f"{b:02x}" for b in ipaddress.IPv4Address(ip).packed)


def random_mac() -> str:
    import os

    b = bytearray(os.urandom(6))
    b[0] = (b[0] & 0xFE) | 0x02
    return ":".join(f"{x:02x}" for x in b)


# -- IPv6 (networks made with --ipv6) -----------------------------------------------------------------
IPv6Net = ipaddress.IPv6Network
#: Where a network made with --ipv6 and no IPv6 --subnet gets its /64: unique local addresses (fd00::/8),
#: which no router forwards off a site; dockyard adds no IPv6 route off its bridges anyway.
USER_POOL6_BASE = "fd6b:7964:6f63::/48"


def parse_subnet6(cidr: str) -> IPv6Net:
    return _subnet(cidr, ipaddress.IPv6Network, 126)


def parse_ip6(value: str, what: str = "IPv6 address") -> ipaddress.IPv6Address:
    return _address(value, what, ipaddress.IPv6Address, "")


def check_gateway6(net: IPv6Net, gateway: str) -> str:
    addr = parse_ip6(gateway, "gateway")
    if addr not in net or addr == net.network_address:
        raise InvalidArgument(f"no matching subnet for gateway {gateway}")
    return str(addr)


def check_ip_range6(net: IPv6Net, ip_range: str) -> str:
    rng = _cidr(ip_range)
    if not isinstance(rng, ipaddress.IPv6Network) or not rng.subnet_of(net):
        raise InvalidArgument(f"no matching subnet for range {ip_range}")
    return str(rng)


def pick_subnet6(taken: Iterable[str]) -> IPv6Net:
    used = [ipaddress.ip_network(t) for t in taken]
    for net in ipaddress.IPv6Network(USER_POOL6_BASE).subnets(new_prefix=64):
        if not any(net.overlaps(t) for t in used):
            return net
    raise Conflict("could not find an available, non-overlapping IPv6 address pool to assign to the network")


def allocate6(net: IPv6Net, gateway: str, used: set[str], requested: str = "", ip_range: str = "") -> str:
    """An IPv6 address for a new endpoint: ``requested`` if free, else the lowest free one (of ``ip_range``)."""
    reserved = {str(net.network_address), gateway}
    if requested:
        return _requested(net, requested, parse_ip6, reserved | used)
    pool = ipaddress.IPv6Network(ip_range) if ip_range else net
    first = int(pool.network_address)
    for offset in range(min(pool.num_addresses, 1 << 16)):
        s = str(ipaddress.IPv6Address(first + offset))
        if s not in reserved and s not in used:
            return s
    raise Conflict(f"no available IPv6 addresses on this network's address pools: {pool}")
