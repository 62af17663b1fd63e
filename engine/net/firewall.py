"""Firewall rules for bridge networks, in one nftables table of dockyard's own (``table ip dockyard``).

The whole table is rendered from the state on disk (the active networks and the running endpoints) and
replaced in one ``nft -f -`` transaction, so it is always exactly what the state says, whoever changed it
last; when nothing is active the table is deleted. Nothing outside the table is touched.

What it holds:

- outbound NAT: ``masquerade`` for traffic leaving a non-internal network's subnet through another device;
- published ports: DNAT in ``prerouting`` (traffic from other hosts and containers) and ``output``
  (programs on this host). A port published on 127.0.0.1 works because the bridge has ``route_localnet``
  set and such traffic is masqueraded to the bridge's address; packets that arrive *from* a bridge for
  127.0.0.0/8 are dropped (the route_localnet hole, CVE-2020-8558);
- isolation: nothing is forwarded between two dockyard bridges; an internal network forwards nothing in
  or out (so its published ports are reachable from this host only).

Another table's rules still apply on top (a FORWARD policy of DROP set by another engine drops bridged
traffic too): dockyard does not edit them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from ..errors import RuntimeFailure
from ..model.network import Endpoint, Network
from ..paths import Layout
from .netstore import NetStore, root_tag

BRIDGE_PATTERNS = ('"dy-*"', '"dockyard0"')


def table_name(layout: Layout) -> str:
    tag = root_tag(layout)
    return "dockyard" + (f"_{tag}" if tag else "")


def _q(name: str) -> str:
    return '"' + name.replace('"', "") + '"'


def render(table: str, networks: Iterable[Network], endpoints: Iterable[Endpoint]) -> str:
    nets = sorted(networks, key=lambda n: n.bridge)
    by_name = {n.name: n for n in nets}
    pre: list[str] = []
    out: list[str] = []
    post: list[str] = []
    fwd: list[str] = []
    guard: list[str] = []
    for n in nets:
        br = _q(n.bridge)
        guard.append(f"iifname {br} ip daddr 127.0.0.0/8 drop")
        post.append(f"ip saddr 127.0.0.0/8 oifname {br} masquerade")
        if n.internal:
            fwd.append(f"iifname {br} oifname != {br} drop")
            fwd.append(f"oifname {br} iifname != {br} drop")
        else:
            post.append(f"ip saddr {n.subnet} oifname != {br} masquerade")
            post.append(f"ct status dnat ip saddr {n.subnet} oifname {br} masquerade")
            fwd.append(f"iifname {br} oifname {{ {', '.join(BRIDGE_PATTERNS)} }} oifname != {br} drop")
    for ep in sorted(endpoints, key=lambda e: (e.network, e.container_id)):
        net = by_name.get(ep.network)
        if net is None:
            continue
        for p in ep.ports:
            proto = p.get("protocol", "tcp")
            match = f"ip daddr {p['host_ip']}" if p.get("host_ip") else "fib daddr type local"
            rule = f"{match} {proto} dport {int(p['host_port'])} dnat to {ep.ip}:{int(p['container_port'])}"
            out.append(rule)
            if not net.internal:
                pre.append(rule)

    def chain(name: str, hook: str, rules: list[str]) -> str:
        body = "".join(f"\t\t{r}\n" for r in rules)
        return f"\tchain {name} {{\n\t\t{hook}\n{body}\t}}\n"

    return (
        f"table ip {table} {{}}\ndelete table ip {table}\n"
        f"table ip {table} {{\n"
        + chain("guard", "type filter hook prerouting priority raw; policy accept;", guard)
        + chain("prerouting", "type nat hook prerouting priority dstnat; policy accept;", pre)
        + chain("output", "type nat hook output priority -100; policy accept;", out)
        + chain("postrouting", "type nat hook postrouting priority srcnat; policy accept;", post)
        + chain("forward", "type filter hook forward priority filter; policy accept;", fwd)
        + "}\n"
    )


def _nft(script: str) -> None:
    import shutil

    nft = shutil.which("nft") or ("/usr/sbin/nft" if os.path.exists("/usr/sbin/nft") else None)
    if nft is None:
        raise RuntimeFailure(
            "bridge networks need nftables: install the 'nftables' package (the nft command)"
        )
    import subprocess

    p = subprocess.run([nft, "-f", "-"], input=script.encode(), capture_output=True)
    if p.returncode != 0:
        raise RuntimeFailure(f"cannot install firewall rules: {p.stderr.decode(errors='replace').strip()}")


def apply(
    layout: Layout, store: NetStore, networks: list[Network], endpoints: list[Endpoint], force: bool = False
) -> None:
    """Make dockyard's table what the state says (delete it when no network is active).

    The last script applied is remembered (networks/.firewall.nft): an unchanged table is not sent again
    unless ``force``."""
    table = table_name(layout)
    if networks:
        script = render(table, networks, endpoints)
    else:
        script = f"table ip {table} {{}}\ndelete table ip {table}\n"
    if not force and store.installed_rules() == script:
        return
    _nft(script)
    store.save_installed_rules(script)


def active_networks(store: NetStore) -> list[Network]:
    """Networks with endpoints or with a bridge still up (idle ones linger until the janitor's sweep)."""
    from .rtnl import link_exists

    return [n for n in store.all() if store.endpoints(n.name) or (n.bridge and link_exists(n.bridge))]


def refresh(layout: Layout, store: NetStore, force: bool = False) -> None:
    """Firewall table and ip_forward as the state says (nft runs only when the rules change)."""
    from . import bridge

    nets = active_networks(store)
    if nets:
        bridge.set_forwarding(store, any(not n.internal for n in nets))
    apply(layout, store, nets, store.all_endpoints(), force=force)
    if not nets:
        bridge.set_forwarding(store, False)
