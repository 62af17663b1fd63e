"""Joining and leaving networks: what happens in the kernel when a container starts, ends, connects or
disconnects.

``attach`` (supervisor, between the container's fork and exec): for each network of the container, make
sure the bridge is up, allocate an address, create a veth pair whose peer is born inside the container's
namespace (``eth0``, ``eth1`` ...), address it, add the default route (first non-internal network only),
then install the firewall rules (NAT, published ports) and write the hosts files.

``detach`` (container ended, removed, or found dead by recovery): undo all of it; idempotent. A network's
bridge goes away with its last endpoint, the firewall table with the last active network.

All of it runs under the root's network lock, so concurrent starts never share an address or a port.
"""

from __future__ import annotations

import contextlib
import os

from .. import faults
from ..errors import Conflict, InvalidArgument, NotFound, RuntimeFailure
from ..model.config import ContainerConfig
from ..model.network import Endpoint, Network
from ..paths import Layout
from ..store.containers import ContainerStore
from . import bridge, etcfiles, firewall, ipam, janitor, ports
from .builtin import ensure_default_network
from .netstore import DEFAULT_NETWORK, NetStore, veth_name

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _network(store: NetStore, name: str) -> Network:
    if name == DEFAULT_NETWORK:
        return ensure_default_network(store)
    net = store.find(name)
    if net is None:
        raise NotFound(f"network {name} not found")
    return net


def _kernel_error(what: str, e: OSError) -> RuntimeFailure:
    return RuntimeFailure(f"{what}: {e.strerror or e}")


# -- attach -----------------------------------------------------------------------------------------
def attach(layout: Layout, cfg: ContainerConfig, pid: int) -> None:
    """Connect the container whose PID 1 is ``pid`` (a fresh network namespace) to its networks."""
    if not cfg.networks:
        return
    nsfd = bridge.open_netns(pid)
    try:
        store = NetStore(layout)
        with store.lock():
            stale = [ep.network for ep in store.container_endpoints(cfg.id)]
            if stale:  # left by a supervisor that died before it could clean up
                _detach_locked(layout, store, cfg.id, set(stale))
            _join(layout, store, cfg, list(cfg.networks.items()), nsfd)
    finally:
        os.close(nsfd)


def _join(
    layout: Layout,
    store: NetStore,
    cfg: ContainerConfig,
    targets: list[tuple[str, dict[str, Any]]],
    nsfd: int,
) -> list[Endpoint]:
    """Create the endpoints of ``cfg.id`` on ``targets`` (caller holds the lock); undone on failure."""
    from .rtnl import Netlink

    existing = store.container_endpoints(cfg.id)
    used_ifnames = {ep.ifname for ep in existing}
    has_route = any(ep.default_route for ep in existing)
    resolved = [(_network(store, name), dict(opts or {})) for name, opts in targets]
    # --gw-priority: of the networks attached now, the highest gives the default route (the first on a tie)
    routable = [(net, opts) for net, opts in resolved if not net.internal]
    gw_net = max(routable, key=lambda no: int(no[1].get("gw_priority") or 0))[0].name if routable else ""
    created: list[Endpoint] = []
    try:
        with Netlink() as nl, Netlink.in_namespace(nsfd) as inner:
            for net, opts in resolved:
                if store.endpoint(net.name, cfg.id) is not None:
                    raise Conflict(f"container {cfg.name} is already attached to network {net.name}")
                first_on_net = not store.endpoints(net.name)
                if first_on_net:
                    net = bridge.check_subnet(store, net)
                subnet = ipam.parse_subnet(net.subnet)
                requested = str(opts.get("ip") or "")
                if requested and net.auto_subnet:
                    raise InvalidArgument(
                        "user specified IP address is supported only when connecting to networks "
                        "with user configured subnets"
                    )
                used = {ep.ip for ep in store.endpoints(net.name)}
                ip = ipam.allocate(
                    subnet, net.gateway, used, requested, net.ip_range, set(net.aux_addresses.values())
                )
                ip6 = ""
                if net.ipv6:
                    used6 = {ep.ipv6 for ep in store.endpoints(net.name)}
                    requested6 = str(opts.get("ip6") or "")
                    ip6 = ipam.allocate6(
                        ipam.parse_subnet6(net.subnet6), net.gateway6, used6, requested6, net.ip_range6
                    )
                elif opts.get("ip6"):
                    raise InvalidArgument(
                        f"network {net.name} has no IPv6 subnet: it was not created with --ipv6"
                    )
                published: list[dict[str, Any]] = []
                if not existing and not created and cfg.ports:
                    published = [dict(p) for p in cfg.ports]
                    held = [p for ep in store.all_endpoints() if ep.container_id != cfg.id for p in ep.ports]
                    try:
                        ports.check_free(published, held)
                    except Conflict as e:
                        raise Conflict(
                            f"driver failed programming external connectivity on endpoint {cfg.name} "
                            f"({cfg.id}): {e}"
                        ) from None
                ifname = next(f"eth{i}" for i in range(64) if f"eth{i}" not in used_ifnames)
                used_ifnames.add(ifname)
                route = not has_route and net.name == gw_net
                has_route = has_route or route
                ep = Endpoint(
                    container_id=cfg.id,
                    container_name=cfg.name,
                    network=net.name,
                    network_id=net.id,
                    ip=ip,
                    prefixlen=subnet.prefixlen,
                    gateway=net.gateway,
                    mac=str(opts.get("mac") or "") or ipam.mac_for(ip),
                    veth=veth_name(cfg.id, net.id),
                    ifname=ifname,
                    aliases=[a for a in opts.get("aliases") or [] if a]
                    if net.name != DEFAULT_NETWORK
                    else [],
                    ports=published,
                    default_route=route,
                    link_local_ips=[str(a) for a in opts.get("link_local_ips") or []],
                    links=[str(a) for a in opts.get("links") or []] if net.name != DEFAULT_NETWORK else [],
                    ipv6=ip6,
                    ipv6_prefixlen=int(net.subnet6.partition("/")[2] or 0) if ip6 else 0,
                    ipv6_gateway=net.gateway6 if ip6 else "",
                )
                store.save_endpoint(ep)  # first, so that a detach after any failure below finds it
                created.append(ep)
                faults.point("net endpoint")
                try:
                    bridge.bridge_up(nl, net)
                except OSError as e:
                    raise _kernel_error(
                        f"cannot create bridge {net.bridge} for network {net.name}", e
                    ) from None
                faults.point("net bridge")
                _plug(nl, inner, nsfd, net, ep)
                faults.point("net veth")
            firewall.refresh(layout, store)
            faults.point("net firewall")
            peers = {
                p.container_id
                for ep in created
                if ep.network != DEFAULT_NETWORK
                for p in store.endpoints(ep.network)
            }
            refresh_etc_files(layout, store, {cfg.id} | peers)
    except BaseException:
        if created:
            _detach_locked(layout, store, cfg.id, {ep.network for ep in created}, immediate=True)
        raise
    return created


def _plug(nl: Any, inner: Any, nsfd: int, net: Network, ep: Endpoint) -> None:
    """The veth pair of ``ep``: host side on the bridge, the other end configured inside the container."""
    mtu = int(net.options.get("mtu", 1500))
    try:
        master = nl.link_index(net.bridge)
        nl.delete_link(ep.veth)  # a leftover of a crash would block the name
        nl.add_veth(ep.veth, peer=ep.ifname, peer_netns_fd=nsfd, peer_mac=ep.mac, master=master, mtu=mtu)
        nl.set_up(nl.link_index(ep.veth))
    except OSError as e:
        raise _kernel_error(f"cannot create the interface of network {net.name}", e) from None
    try:
        index = inner.link_index(ep.ifname)
        inner.add_address(index, ep.ip, ep.prefixlen)
        for address in ep.link_local_ips:
            inner.add_address(index, address, 16)
        if ep.ipv6:  # on-link only: no IPv6 default route, nothing is routed off the machine
            inner.add_address(index, ep.ipv6, ep.ipv6_prefixlen)
        inner.set_up(index)
        if ep.default_route:
            inner.add_default_route(ep.gateway, index)
    except OSError as e:
        raise _kernel_error(f"cannot configure {ep.ifname} in the container", e) from None


# -- detach -----------------------------------------------------------------------------------------
def detach(layout: Layout, cfg: ContainerConfig) -> None:
    """Disconnect the container from every network (idempotent; cheap when it has no endpoint).

    Its addresses and ports are free when this returns; idle bridges and rules go a moment later
    (janitor.py)."""
    store = NetStore(layout)
    if not store.has_endpoints_of(cfg.id):
        return
    with store.lock():
        _detach_locked(layout, store, cfg.id, None)
        needed = not janitor.serving(layout)
    if needed:
        janitor.spawn(layout)


def _detach_locked(
    layout: Layout, store: NetStore, cid: str, only: set[str] | None, immediate: bool = False
) -> None:
    """Remove the endpoints of ``cid`` (on the networks ``only``, else all). ``immediate``: the container
    lives on (disconnect, a failed attach), so its interfaces are deleted now rather than with it."""
    from .rtnl import Netlink, link_exists

    eps = [ep for ep in store.container_endpoints(cid) if only is None or ep.network in only]
    if not eps:
        return
    peers: set[str] = set()
    for ep in eps:
        store.delete_endpoint(ep.network, cid)
        if ep.network != DEFAULT_NETWORK:
            peers |= {p.container_id for p in store.endpoints(ep.network)}
    if immediate:
        with Netlink() as nl:
            for ep in eps:
                if link_exists(ep.veth):
                    with contextlib.suppress(OSError):
                        nl.delete_link(ep.veth)
    else:
        janitor.add_stale_veths(store, [ep.veth for ep in eps])
    if any(ep.ports for ep in eps):
        firewall.refresh(layout, store)  # the published ports stop at once
    janitor.request(store)
    refresh_etc_files(layout, store, peers | ({cid} if only is not None else set()))


# -- shared state -----------------------------------------------------------------------------------
def _link_lines(cstore: ContainerStore, store: NetStore, cfg: ContainerConfig) -> list[str]:
    """Hosts lines for the container's legacy links, as Docker writes them: ``IP ALIAS HOSTNAME NAME``."""
    lines = []
    for link in cfg.links:
        try:
            child = cstore.config(link["id"])
        except Exception:  # noqa: BLE001 - a linked container removed since
            continue
        ip = next((ep.ip for ep in store.container_endpoints(child.id) if ep.network == DEFAULT_NETWORK), "")
        if ip:
            names = [link["alias"], child.hostname or child.id[:12]]
            if link["alias"] != child.name:
                names.append(child.name)
            lines.append(f"{ip}\t{' '.join(names)}")
    return lines


def refresh_etc_files(layout: Layout, store: NetStore, cids: set[str]) -> None:
    """Rewrite (in place) the hosts and resolv.conf files of the running containers ``cids``."""
    cstore = ContainerStore(layout)
    names: dict[str, str] = {}

    def name_of(ep: Endpoint) -> str:
        if ep.container_id not in names:
            try:
                names[ep.container_id] = cstore.config(ep.container_id).name
            except Exception:
                names[ep.container_id] = ep.container_name
        return names[ep.container_id]

    nets = {n.name: n for n in store.all()}
    for cid in cids:
        own = store.container_endpoints(cid)
        if not own:
            continue
        try:
            cfg = cstore.config(cid)
        except Exception:
            continue
        peers: list[tuple[Endpoint, str]] = []
        for ep in own:
            if ep.network == DEFAULT_NETWORK:
                continue
            peers += [(p, name_of(p)) for p in store.endpoints(ep.network) if p.container_id != cid]
        hosts = etcfiles.render_hosts(cfg, own, peers)
        if cfg.links:
            hosts += "".join(line + "\n" for line in _link_lines(cstore, store, cfg))
        etcfiles.write_in_place(cstore.path(cid, "hosts"), hosts)
        outbound = any(ep.network in nets and not nets[ep.network].internal for ep in own)
        embedded = os.path.exists(cstore.path(cid, "resolver"))  # its DNS server runs (dns.py)
        etcfiles.write_in_place(
            cstore.path(cid, "resolv.conf"), etcfiles.render_resolv(cfg, outbound, embedded)
        )


# -- running containers: connect / disconnect ---------------------------------------------------------
def connect_running(
    layout: Layout, cfg: ContainerConfig, pid: int, network: str, opts: dict[str, Any]
) -> None:
    """Attach the running container (PID 1 = ``pid``) to one more network."""
    nsfd = bridge.open_netns(pid)
    try:
        store = NetStore(layout)
        with store.lock():
            _join(layout, store, cfg, [(network, opts)], nsfd)
    finally:
        os.close(nsfd)


def disconnect_running(layout: Layout, cid: str, network: str) -> None:
    store = NetStore(layout)
    with store.lock():
        _detach_locked(layout, store, cid, {network}, immediate=True)
        needed = not janitor.serving(layout)
    if needed:
        janitor.spawn(layout)


def endpoints(layout: Layout, cid: str) -> dict[str, dict[str, Any]]:
    """The container's live attachments, as Docker's ``NetworkSettings.Networks`` shows them."""
    out: dict[str, dict[str, Any]] = {}
    for ep in NetStore(layout).container_endpoints(cid):
        out[ep.network] = {
            "Aliases": ep.aliases or None,
            "NetworkID": ep.network_id,
            "EndpointID": ep.veth,
            "Gateway": ep.gateway,
            "IPAddress": ep.ip,
            "IPPrefixLen": ep.prefixlen,
            "MacAddress": ep.mac,
            "IPv6Gateway": ep.ipv6_gateway,
            "GlobalIPv6Address": ep.ipv6,
            "GlobalIPv6PrefixLen": ep.ipv6_prefixlen,
            "InterfaceName": ep.ifname,
            "HostInterface": ep.veth,
        }
    return out
