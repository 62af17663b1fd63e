"""What networking can leave behind when a process is killed: endpoints of containers that no longer exist
(an address and ports held for nobody), and interfaces on the root's bridges that no endpoint owns.

Only the root's own bridges are looked at, so another root's interfaces are never touched."""

from __future__ import annotations

import os

from ..paths import Layout
from .netstore import NetStore


def find(layout: Layout, containers: set[str]) -> list[tuple[str, str, str]]:
    """(kind, where, problem) for each leftover; ``containers``: the root's container IDs."""
    if not os.path.isdir(layout.networks):
        return []
    store = NetStore(layout)
    out = []
    owned: set[str] = set()
    for ep in store.all_endpoints():
        owned.add(ep.veth)
        if ep.container_id not in containers:
            out.append(
                (
                    "leftover endpoint",
                    f"{ep.network}/{ep.container_id[:12]}",
                    f"holds {ep.ip} for a container that no longer exists",
                )
            )
    for net in store.all():
        try:
            members = os.listdir(f"/sys/class/net/{net.bridge}/brif")
        except (FileNotFoundError, NotADirectoryError):
            continue
        for iface in members:
            if iface not in owned:
                out.append(
                    (
                        "leftover veth",
                        iface,
                        f"on bridge {net.bridge} of network {net.name}, owned by no endpoint",
                    )
                )
    return out


def remove(layout: Layout, kind: str, where: str) -> str:
    """Remove one leftover ``find`` reported; what was done."""
    from .attachment import _detach_locked
    from .rtnl import Netlink

    store = NetStore(layout)
    if kind == "leftover endpoint":
        network, _, short = where.partition("/")
        with store.lock():
            for ep in store.endpoints(network):
                if ep.container_id.startswith(short):
                    _detach_locked(layout, store, ep.container_id, {network}, immediate=True)
        return "removed (its address and ports are free)"
    with Netlink() as nl:
        nl.delete_link(where)
    return "deleted"
