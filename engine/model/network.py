"""A network and a container's endpoint on it, as stored under ``<root>/networks`` (engine/net/netstore.py)
and as the network API shows them."""

from __future__ import annotations

from engine.lean.record import asdict, field, fields, record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


@record
class Network:
    name: str
    id: str
    created: str
    driver: str = "bridge"
    subnet: str = ""  # CIDR, e.g. 10.88.0.0/16
    gateway: str = ""  # the bridge's address
    internal: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)
    bridge: str = ""  # Linux bridge interface name
    auto_subnet: bool = False  # chosen by dockyard: may move while nothing is attached (avoids clashes)
    ip_range: str = ""  # --ip-range: the sub-range containers' addresses come from
    aux_addresses: dict[str, str] = field(default_factory=dict)  # --aux-address NAME=IP: never given out
    ipv6: bool = False  # --ipv6: containers get an address of subnet6 too (engine/net/ipam.py)
    subnet6: str = ""
    gateway6: str = ""  # the bridge's IPv6 address
    ip_range6: str = ""

    @property
    def prefixlen(self) -> int:
        return int(self.subnet.partition("/")[2] or 0)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Network:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


@record
class Endpoint:
    container_id: str
    container_name: str
    network: str
    network_id: str
    ip: str
    prefixlen: int
    gateway: str
    mac: str
    veth: str  # host side
    ifname: str  # inside the container (eth0, eth1, ...)
    aliases: list[str] = field(default_factory=list)
    ports: list[dict[str, Any]] = field(default_factory=list)
    default_route: bool = False
    link_local_ips: list[str] = field(default_factory=list)  # more addresses on ifname, each a /16
    links: list[str] = field(default_factory=list)  # NAME:ALIAS on a user network: names its DNS server gives
    ipv6: str = ""  # its address on a network made with --ipv6
    ipv6_prefixlen: int = 0
    ipv6_gateway: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Endpoint:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})
