"""The network half of the engine API: ``engine.networks.create/list/get/inspect/remove/prune/connect/disconnect``.

Shaped after docker-py's ``client.networks``. A network is a Linux bridge with a subnet; ``bridge`` (the
default) always exists, ``host`` and ``none`` are the two pseudo-networks. User networks' bridges come
and go with their containers (see engine/net/attachment.py); their records stay until removed.
"""

from __future__ import annotations

import builtins
import hashlib
import os
import time

from .errors import Conflict, InvalidArgument, NotFound
from .humanize import rfc3339
from .model.network import Network
from .net import ipam
from .net.builtin import ensure_default_network
from .net.netstore import DEFAULT_NETWORK, NAME_RE, PREDEFINED, NetStore

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .paths import Layout

__all__ = ["Network", "Networks"]


def _pseudo(layout_root: str, name: str) -> Network:
    nid = hashlib.sha256(f"{layout_root}:{name}".encode()).hexdigest()
    return Network(name=name, id=nid, created="", driver="host" if name == "host" else "null")


class Networks:
    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.store = NetStore(self.layout)

    # -- lookup -----------------------------------------------------------------------------------
    def _default(self) -> Network:
        net = self.store.load(DEFAULT_NETWORK)
        if net is not None:
            return net
        with self.store.lock():
            return ensure_default_network(self.store)

    def list(self, filters: dict[str, builtins.list[str]] | None = None) -> list[Network]:
        """Every network: bridge, host, none, then the user networks by name. ``filters`` as ``docker
        network ls --filter`` (engine/filters.py: name, id, driver, label, scope, type, dangling); an
        unknown key is InvalidArgument."""
        if filters:
            from .filters import select_networks

            return select_networks(self.list(), filters, in_use=lambda n: bool(self.store.endpoints(n.name)))
        self._default()
        nets = [n for n in self.store.all() if n.name != DEFAULT_NETWORK]
        return [self._default(), _pseudo(self.layout.root, "host"), _pseudo(self.layout.root, "none"), *nets]

    def get(self, ref: str) -> Network:
        """A network by name, ID or unique ID prefix."""
        if ref == DEFAULT_NETWORK:
            return self._default()
        for n in self.list():
            if ref in (n.name, n.id):
                return n
        net = self.store.find(ref)
        if net is None:
            raise NotFound(f"network {ref} not found")
        return net

    def containers(self, ref: str) -> builtins.list[str]:
        """IDs of the containers attached to the network now."""
        net = self.get(ref)
        return [ep.container_id for ep in self.store.endpoints(net.name)]

    def inspect(self, ref: str) -> dict[str, Any]:
        """The network as ``docker network inspect`` shows it."""
        net = self.get(ref)
        containers = {
            ep.container_id: {
                "Name": ep.container_name,
                "EndpointID": ep.veth,
                "MacAddress": ep.mac,
                "IPv4Address": f"{ep.ip}/{ep.prefixlen}",
                "IPv6Address": f"{ep.ipv6}/{ep.ipv6_prefixlen}" if ep.ipv6 else "",
            }
            for ep in self.store.endpoints(net.name)
        }
        options = dict(net.options)
        if net.bridge and net.name == DEFAULT_NETWORK:  # a user network shows only the options it was given
            options["com.docker.network.bridge.name"] = net.bridge
        return {
            "Name": net.name,
            "Id": net.id,
            "Created": net.created or "0001-01-01T00:00:00Z",
            "Scope": "local",
            "Driver": net.driver,
            "EnableIPv4": True,
            "EnableIPv6": net.ipv6,
            "IPAM": {
                "Driver": "default",
                "Options": None,  # no IPAM driver options are taken
                "Config": ([_ipam_config(net)] if net.subnet else []) + _ipam_config6(net),
            },
            "Internal": net.internal,
            "Attachable": False,
            "Ingress": False,
            "ConfigFrom": {"Network": ""},
            "ConfigOnly": False,
            "Containers": containers,
            "Options": options,
            "Labels": dict(net.labels),
        }

    # -- create / remove ------------------------------------------------------------------------------
    def create(
        self,
        name: str,
        *,
        driver: str = "bridge",
        subnet: str = "",
        gateway: str = "",
        internal: bool = False,
        labels: dict[str, str] | None = None,
        options: dict[str, str] | None = None,
        ip_range: str = "",
        aux_addresses: dict[str, str] | None = None,
        ipv6: bool = False,
        subnet6: str = "",
        gateway6: str = "",
        ip_range6: str = "",
    ) -> Network:
        """A new user network (its bridge appears when its first container starts). ``ip_range``: the
        sub-range of the subnet its containers get addresses from; ``aux_addresses``: addresses (by name)
        that are never given to a container. ``ipv6`` (implied by ``subnet6``): containers get an IPv6
        address too, of ``subnet6`` or else of a /64 of unique local addresses; the subnet stays on the
        network's bridge (no IPv6 route leads off it)."""
        if not NAME_RE.match(name or ""):
            raise InvalidArgument(
                f'invalid network name "{name}": a network name may not be empty, start with "." or hold "/" '
                "or control characters"
            )
        if driver != "bridge":
            raise InvalidArgument(f'plugin "{driver}" not found')
        if (gateway or ip_range) and not subnet:
            raise InvalidArgument("every ip-range or gateway must have a corresponding subnet")
        if aux_addresses and not subnet:
            raise InvalidArgument("every aux-address must have a corresponding subnet")
        if (gateway6 or ip_range6) and not subnet6:
            raise InvalidArgument("every ip-range or gateway must have a corresponding subnet")
        ipv6 = ipv6 or bool(subnet6)
        wanted6 = ipam.parse_subnet6(subnet6) if subnet6 else None
        gw6 = ipam.check_gateway6(wanted6, gateway6) if wanted6 is not None and gateway6 else ""
        rng6 = ipam.check_ip_range6(wanted6, ip_range6) if wanted6 is not None and ip_range6 else ""
        wanted = ipam.parse_subnet(subnet) if subnet else None
        gw = ipam.check_gateway(wanted, gateway) if wanted is not None and gateway else ""
        rng = ipam.check_ip_range(wanted, ip_range) if wanted is not None and ip_range else ""
        aux: dict[str, str] = {}
        for aux_name, addr in (aux_addresses or {}).items():
            if wanted is None or ipam.parse_ip(addr) not in wanted:
                raise InvalidArgument(f"no matching subnet for aux-address {addr}")
            aux[aux_name] = str(ipam.parse_ip(addr))
        opts = dict(options or {})
        if "mtu" in opts or "com.docker.network.driver.mtu" in opts:
            mtu = opts.pop("com.docker.network.driver.mtu", opts.get("mtu", ""))
            if not str(mtu).isdigit() or not 68 <= int(mtu) <= 65535:
                raise InvalidArgument(f"invalid MTU number: {mtu}")
            opts["mtu"] = str(mtu)
        with self.store.lock():
            if name in PREDEFINED or self.store.load(name) is not None:
                raise Conflict(f"network with name {name} already exists")
            ensure_default_network(self.store)
            taken = [ipam.parse_subnet(n.subnet) for n in self.store.all() if n.subnet]
            if wanted is not None:
                if any(wanted.overlaps(t) for t in taken) or ipam.clashing_route(wanted):
                    raise Conflict("Pool overlaps with other one on this address space")
                net_subnet = wanted
            else:
                net_subnet = ipam.pick_subnet(ipam.user_pool(), taken)
            taken6 = [n.subnet6 for n in self.store.all() if n.subnet6]
            if wanted6 is not None and any(wanted6.overlaps(ipam.parse_subnet6(t)) for t in taken6):
                raise Conflict("Pool overlaps with other one on this address space")
            net_subnet6 = (wanted6 or ipam.pick_subnet6(taken6)) if ipv6 else None
            nid = os.urandom(32).hex()
            net = Network(
                name=name,
                id=nid,
                created=rfc3339(time.time()),
                subnet=str(net_subnet),
                gateway=gw or ipam.default_gateway(net_subnet),
                internal=internal,
                labels=dict(labels or {}),
                options=opts,
                bridge="dy-" + nid[:12],
                ip_range=rng,
                aux_addresses=aux,
                ipv6=ipv6,
                subnet6=str(net_subnet6) if net_subnet6 is not None else "",
                gateway6=gw6 or (str(net_subnet6.network_address + 1) if net_subnet6 is not None else ""),
                ip_range6=rng6,
            )
            self.store.save(net)
        from .store.eventlog import emit

        emit(self.layout, "network", "create", net.id, {"name": name})
        return net

    def remove(self, ref: str) -> None:
        net = self.get(ref)
        if net.name in PREDEFINED:
            raise Conflict(f"{net.name} is a pre-defined network and cannot be removed")
        with self.store.lock():
            if self.store.endpoints(net.name):
                raise Conflict(f"error while removing network: network {net.name} has active endpoints")
            from .net import janitor
            from .net.rtnl import Netlink, link_exists

            if link_exists(net.bridge):
                with Netlink() as nl:
                    nl.delete_link(net.bridge)
            self.store.delete(net.name)
            janitor.sweep(self.layout, self.store)
        from .store.eventlog import emit

        emit(self.layout, "network", "destroy", net.id, {"name": net.name})

    def _referenced(self) -> set[str]:
        from .store.containers import ContainerStore

        cs = ContainerStore(self.layout)
        used: set[str] = set()
        for cid in cs.ids():
            try:
                used |= set(cs.config(cid).networks)
            except Exception:
                continue
        return used

    def prune(self, *, filters: dict[str, builtins.list[str]] | None = None) -> builtins.list[str]:
        """Remove the user networks no container uses or refers to; their names. ``filters``: ``until``,
        ``label``, ``label!`` (what they spare: engine.filters.pruning)."""
        spares = None
        if filters:
            from .filters import pruning
            from .humanize import parse_time

            spares = pruning(filters)
        used = self._referenced()
        removed = []
        for net in self.store.all():
            if net.name in PREDEFINED or net.name in used or self.store.endpoints(net.name):
                continue
            if spares is not None and spares(parse_time(net.created), net.labels):
                continue
            try:
                self.remove(net.name)
            except Conflict:
                continue
            removed.append(net.name)
        from .net import janitor

        with self.store.lock():
            janitor.sweep(self.layout, self.store)  # idle bridges (the default one too) and rules go now
        return removed

    # -- connect / disconnect ---------------------------------------------------------------------------
    def connect(
        self,
        network: str,
        container: str,
        *,
        ip: str = "",
        aliases: builtins.list[str] | None = None,
        driver_opts: dict[str, str] | None = None,
        gw_priority: int = 0,
        link_local_ips: builtins.list[str] | None = None,
        links: builtins.list[str] | None = None,
        ip6: str = "",
    ) -> None:
        """Attach a container to one more network (now if it runs, else from its next start). ``links``
        (``NAME[:ALIAS]``, user networks only): names the container's DNS server gives it there.
        ``driver_opts`` are kept with the endpoint (DriverOpts); ``gw_priority``: of the networks a container
        starts on, the highest gives its default route; ``link_local_ips``: more IPv4 addresses on the
        container's interface there (Docker's ``--link-local-ip``)."""
        for key in driver_opts or {}:
            if key.startswith("com.docker.network.endpoint."):
                raise InvalidArgument(
                    f"driver option {key} is not supported: dockyard's bridge driver sets no interface name "
                    "or sysctl of an endpoint"
                )
        from .net.attachment import connect_running
        from .store.containers import ContainerStore

        net = self.get(network)
        if net.name in ("host", "none"):
            raise InvalidArgument(f"container cannot be connected to the {net.name} network")
        cs = ContainerStore(self.layout)
        cid = cs.resolve(container)
        if aliases and net.name == DEFAULT_NETWORK:
            raise InvalidArgument(
                "network-scoped alias is supported only for containers in user defined networks"
            )
        if ip:
            if net.auto_subnet:
                raise InvalidArgument(
                    "user specified IP address is supported only when connecting to networks with user configured subnets"
                )
            addr = ipam.parse_ip(ip)
            if addr not in ipam.parse_subnet(net.subnet):
                raise InvalidArgument(f"no configured subnet contains the IP address {ip}")
        opts: dict[str, Any] = {"aliases": list(aliases or []), "ip": ip, "network_id": net.id}
        if ip6:
            from .net.plan import checked_ip6

            opts["ip6"] = checked_ip6(net, ip6)
        if driver_opts:
            opts["driver_opts"] = dict(driver_opts)
        if gw_priority:
            opts["gw_priority"] = gw_priority
        if links:
            if net.name == DEFAULT_NETWORK:
                raise InvalidArgument(
                    "links on the default bridge network are given at create: --link on run or create"
                )
            from .runtime.links import endpoint_links

            opts["links"] = endpoint_links(list(links))
        from .net.plan import link_local_ips as checked

        lls = checked(link_local_ips)
        if lls:
            opts["link_local_ips"] = lls
        with cs.lock(cid):
            cfg = cs.config(cid)
            if cfg.network_mode in ("none", "host") or cfg.network_mode.startswith("container:"):
                raise InvalidArgument(
                    f"container {cfg.name} uses network mode {cfg.network_mode}: it cannot be connected to a network"
                )
            if net.name in cfg.networks:
                raise Conflict(f"endpoint with name {cfg.name} already exists in network {net.name}")
            st = cs.state(cid)
            before = dict(cfg.networks)
            cfg.networks[net.name] = opts
            cs.save_config(cfg)
            if st.status in ("running", "paused") and st.pid:
                try:
                    connect_running(self.layout, cfg, st.pid, net.name, opts)
                except BaseException:
                    cfg.networks = before
                    cs.save_config(cfg)
                    raise
        from .store.eventlog import emit

        emit(self.layout, "network", "connect", net.id, {"name": net.name, "container": cid})

    def disconnect(self, network: str, container: str, *, force: bool = False) -> None:
        """Detach a container from a network (at once if it runs)."""
        from .net.attachment import disconnect_running
        from .store.containers import ContainerStore

        net = self.get(network)
        cs = ContainerStore(self.layout)
        cid = cs.resolve(container)
        with cs.lock(cid):
            cfg = cs.config(cid)
            attached = self.store.endpoint(net.name, cid) is not None
            if net.name not in cfg.networks and not attached:  # with force too, as Docker's
                raise InvalidArgument(f"container {cid} is not connected to network {net.name}")
            cfg.networks.pop(net.name, None)
            cs.save_config(cfg)
            if attached:
                disconnect_running(self.layout, cid, net.name)
        from .store.eventlog import emit

        emit(self.layout, "network", "disconnect", net.id, {"name": net.name, "container": cid})


def _ipam_config6(net: Network) -> builtins.list[dict[str, Any]]:
    """The network's IPv6 ``IPAM.Config`` entry, if it has one."""
    if not net.ipv6:
        return []
    out: dict[str, Any] = {"Subnet": net.subnet6}
    if net.ip_range6:
        out["IPRange"] = net.ip_range6
    out["Gateway"] = net.gateway6
    return [out]


def _ipam_config(net: Network) -> dict[str, Any]:
    """One ``IPAM.Config`` entry as Docker shows it (IPRange and AuxiliaryAddresses only when set)."""
    out: dict[str, Any] = {"Subnet": net.subnet}
    if net.ip_range:
        out["IPRange"] = net.ip_range
    out["Gateway"] = net.gateway
    if net.aux_addresses:
        out["AuxiliaryAddresses"] = dict(net.aux_addresses)
    return out
