"""``create``-time checks of everything network-related, done before the container is written.

Returns the published ports (host ports picked now, see ports.py) and the networks the container joins
(``{name: {"aliases": [...], "ip": "" or the --ip asked for, "network_id": ...}}``).
"""

from __future__ import annotations

from ..errors import InvalidArgument, NotFound
from ..model.network import Network
from ..paths import Layout
from . import ipam, ports
from .netstore import DEFAULT_NETWORK, NetStore

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _validate_hosts_and_dns(opts: Any) -> None:
    for h in opts.extra_hosts or []:
        name, sep, ip = h.partition(":")
        if not sep or not name or not ip:
            raise InvalidArgument(
                f'invalid argument "{h}" for "--add-host" flag: bad format for add-host: "{h}"'
            )
        if ip != "host-gateway":
            try:
                ipam.parse_ip(ip)
            except InvalidArgument:
                raise InvalidArgument(
                    f'invalid argument "{h}" for "--add-host" flag: invalid IP address in add-host: "{ip}"'
                ) from None
    for d in opts.dns or []:
        try:
            ipam.parse_ip(d)
        except InvalidArgument:
            raise InvalidArgument(
                f'invalid argument "{d}" for "--dns" flag: {d} is not an ip address'
            ) from None


def _reserved_ports(layout: Layout) -> list[dict[str, Any]]:
    """Host ports other containers of this root have taken (running or not)."""
    from ..store.containers import ContainerStore

    store = ContainerStore(layout)
    out: list[dict[str, Any]] = []
    for cid in store.ids():
        try:
            out += store.config(cid).ports
        except Exception:
            continue
    return out


def resolve_network(store: NetStore, ref: str) -> Network | None:
    """The stored network ``ref`` names; None for ``bridge`` before its record exists."""
    net = store.find(ref)
    if net is None and ref != DEFAULT_NETWORK:
        raise NotFound(f"network {ref} not found")
    return net


def link_local_ips(values: list[str] | None) -> list[str]:
    """``--link-local-ip``'s addresses, checked: IPv4 addresses, each added to the container's interface on
    the network with the /16 of 169.254.0.0/16 (Docker's LinkLocalIPs)."""
    out: list[str] = []
    for value in values or []:
        text = str(value).strip()
        try:
            addr = ipam.parse_ip(text, "link-local IP address")
        except InvalidArgument:
            if ":" in text:
                raise InvalidArgument(
                    f"invalid link-local IP address {text}: only IPv4 link-local addresses are taken"
                ) from None
            raise
        if str(addr) not in out:
            out.append(str(addr))
    return out


def checked_ip6(net: Network | None, value: str) -> str:
    """``--ip6``: an IPv6 address of the network's IPv6 subnet (a network made with --ipv6)."""
    if net is None or not net.ipv6:
        raise InvalidArgument("user specified IPv6 address is supported only on networks created with --ipv6")
    addr = ipam.parse_ip6(value)
    if addr not in ipam.parse_subnet6(net.subnet6):
        raise InvalidArgument(f"no configured subnet contains the IP address {value}")
    if str(addr) == net.gateway6:
        raise InvalidArgument(f"Address already in use: {value} is reserved on network {net.name}")
    return str(addr)


def plan_networking(
    layout: Layout, opts: Any, image_cfg: dict[str, Any]
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    mode = opts.network or DEFAULT_NETWORK
    if mode == "default":
        mode = DEFAULT_NETWORK
    if mode.startswith("container:"):
        raise InvalidArgument(
            f"network mode {mode} is not supported: use a user network to share one between containers"
        )
    store = NetStore(layout)
    net = resolve_network(store, mode)
    name = net.name if net is not None else DEFAULT_NETWORK
    user_net = name != DEFAULT_NETWORK
    if opts.aliases and not user_net:
        raise InvalidArgument(
            "network-scoped alias is supported only for containers in user defined networks"
        )
    ip = ""
    if opts.ip:
        if net is None or net.auto_subnet:
            raise InvalidArgument(
                "user specified IP address is supported only when connecting to networks with "
                "user configured subnets"
            )
        addr = ipam.parse_ip(opts.ip)
        subnet = ipam.parse_subnet(net.subnet)
        if addr not in subnet:
            raise InvalidArgument(f"no configured subnet contains the IP address {opts.ip}")
        if str(addr) in (net.gateway, str(subnet.network_address), str(subnet.broadcast_address)):
            raise InvalidArgument(f"Address already in use: {opts.ip} is reserved on network {name}")
        ip = str(addr)
    _validate_hosts_and_dns(opts)
    wanted: list[dict[str, Any]] = []
    for spec in opts.ports or []:
        wanted += ports.parse_spec(spec)
    if opts.publish_all:
        have = {(p["container_port"], p["protocol"]) for p in wanted}
        for port, proto in ports.exposed_ports(image_cfg):
            if (port, proto) not in have:
                wanted.append({"host_ip": "", "host_port": 0, "container_port": port, "protocol": proto})
    published = ports.assign_host_ports(wanted, _reserved_ports(layout)) if wanted else []
    networks = {name: {"aliases": list(opts.aliases or []), "ip": ip, "network_id": net.id if net else ""}}
    if getattr(opts, "ip6", ""):
        networks[name]["ip6"] = checked_ip6(net, opts.ip6)
    if opts.mac_address:  # the interface on the network it starts on (Docker's --mac-address)
        networks[name]["mac"] = opts.mac_address
    lls = link_local_ips(opts.link_local_ips)
    if lls:
        networks[name]["link_local_ips"] = lls
    return published, networks
