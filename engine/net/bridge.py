"""The host side of a network: its Linux bridge (created when the first container joins, deleted when it
has been idle a moment, see janitor.py) and the ``ip_forward`` switch that outbound NAT needs (turned on
while a non-internal network is in use, and put back as it was once no dockyard bridge is left).
"""

from __future__ import annotations

import contextlib
import os

from ..errors import Conflict
from ..model.network import Network
from . import ipam
from .netstore import NetStore
from .rtnl import Netlink, link_exists

IP_FORWARD = "/proc/sys/net/ipv4/ip_forward"
RUN_DIR = "/run/dockyard"


def _sysctl(path: str, value: str) -> None:
    with contextlib.suppress(OSError), open(path, "w") as f:
        f.write(value)


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return ""


def check_subnet(store: NetStore, net: Network) -> Network:
    """Make sure no other device routes the network's subnet; an automatic subnet moves if one does."""
    subnet = ipam.parse_subnet(net.subnet)
    dev = ipam.clashing_route(subnet, except_dev=net.bridge)
    if dev is None:
        return net
    if net.auto_subnet and not store.endpoints(net.name):
        taken = [ipam.parse_subnet(n.subnet) for n in store.all() if n.name != net.name and n.subnet]
        new = ipam.pick_subnet(ipam.DEFAULT_BRIDGE_POOL + ipam.user_pool(), taken)
        net.subnet, net.gateway = str(new), ipam.default_gateway(new)
        store.save(net)
        return net
    raise Conflict(f"network {net.name}: its subnet {net.subnet} overlaps a route of the host (device {dev})")


def bridge_up(nl: Netlink, net: Network) -> None:
    """Create the network's bridge with the gateway address, unless it is already there."""
    if link_exists(net.bridge):
        return
    nl.add_bridge(net.bridge, ipam.random_mac(), int(net.options.get("mtu", 1500)))
    try:
        conf = f"/proc/sys/net/ipv4/conf/{net.bridge}"
        _sysctl(f"{conf}/route_localnet", "1")  # published ports on 127.0.0.1 (see firewall.py)
        conf6 = f"/proc/sys/net/ipv6/conf/{net.bridge}"
        if net.ipv6:  # its IPv6 subnet stays on the bridge: no router advertisements taken or routes out
            _sysctl(f"{conf6}/accept_ra", "0")
            _sysctl(f"{conf6}/disable_ipv6", "0")
        else:
            _sysctl(f"{conf6}/disable_ipv6", "1")
        index = nl.link_index(net.bridge)
        nl.add_address(index, net.gateway, net.prefixlen)
        if net.ipv6:
            nl.add_address(index, net.gateway6, int(net.subnet6.partition("/")[2]))
        nl.set_up(index)
    except BaseException:
        nl.delete_link(net.bridge)
        raise


def dockyard_bridges() -> list[str]:
    """Bridges of any dockyard root on this host."""
    try:
        names = os.listdir("/sys/class/net")
    except OSError:
        return []
    return [n for n in names if n.startswith("dy-") or n == "dockyard0"]


def set_forwarding(store: NetStore, needed: bool) -> None:
    """Turn ip_forward on while outbound NAT is needed; turn it back off when no dockyard bridge is left
    on the host, if dockyard turned it on (a flag in /run, shared by every root, gone after a reboot)."""
    from ..fsutil import locked

    os.makedirs(RUN_DIR, exist_ok=True)
    flag = os.path.join(RUN_DIR, "ip_forward.restore")
    with locked(os.path.join(RUN_DIR, "ip_forward.lock")):
        if needed:
            if _read(IP_FORWARD) == "0":
                _sysctl(IP_FORWARD, "1")
                with open(flag, "w") as f:
                    f.write(store.layout.root + "\n")
        elif os.path.exists(flag) and not dockyard_bridges():
            _sysctl(IP_FORWARD, "0")
            os.unlink(flag)


def open_netns(pid: int, timeout: float = 5.0) -> int:
    """An fd of the network namespace of ``pid`` once it is not ours any more (the process may still be
    unsharing it when the supervisor calls attach)."""
    import time

    from ..errors import RuntimeFailure

    own = os.stat("/proc/self/ns/net").st_ino
    path = f"/proc/{pid}/ns/net"
    deadline = time.monotonic() + timeout
    while True:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            raise RuntimeFailure(f"the container's process {pid} is gone") from None
        if os.fstat(fd).st_ino != own:
            return fd
        os.close(fd)
        if time.monotonic() > deadline:
            raise RuntimeFailure(f"process {pid} has no network namespace of its own")
        time.sleep(0.0005)
