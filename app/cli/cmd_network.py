"""Network commands: network create, ls, inspect, rm, prune, connect, disconnect."""

from __future__ import annotations

from . import flags, output
from .commands import engine

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def register(sub: flags.Commands) -> None:
    g = sub.add_parser("network", help="Manage networks")
    ns = g.add_subparsers(dest="network_command", metavar="COMMAND")
    p = ns.add_parser("create", help="Create a network")
    p.add_argument("-d", "--driver", default="bridge")
    p.add_argument("--subnet", action="append", default=[], help="Subnet in CIDR format, e.g. 10.90.0.0/24")
    p.add_argument("--gateway", action="append", default=[], help="The bridge's address in the subnet")
    p.add_argument("--internal", action="store_true", help="No route out of the network, no outbound NAT")
    p.add_argument("-l", "--label", action="append", default=[])
    p.add_argument("-o", "--opt", action="append", default=[], help="Driver options (mtu=N)")
    p.add_argument("--ip-range", action="append", default=[], help="Allocate container ip from a sub-range")
    p.add_argument(
        "--aux-address", action="append", default=[], help="Addresses (NAME=IP) never given to a container"
    )
    p.add_argument(
        "--ipv4", action="store_true", default=True, help="Enable IPv4 address assignment (always)"
    )
    p.add_argument("--ipv6", action="store_true", help="Enable IPv6 address assignment")
    p.add_argument("name", metavar="NETWORK")
    p.set_defaults(handler=cmd_create)
    for name in ("ls", "list"):
        p = ns.add_parser(name, help="List networks")
        p.add_argument("-q", "--quiet", action="store_true", help="Only display network IDs")
        p.add_argument("--no-trunc", action="store_true", help="Do not truncate the output")
        p.add_argument(
            "-f", "--filter", action="append", default=[], help="Provide filter values (e.g. 'driver=bridge')"
        )
        p.add_argument("--format", help="Format output: 'table', 'json' or a Go template")
        p.set_defaults(handler=cmd_ls)
    p = ns.add_parser("inspect", help="Display detailed information on one or more networks")
    p.add_argument("-f", "--format")
    p.add_argument("-v", "--verbose", action="store_true", help="Verbose output for diagnostics")
    p.add_argument("names", nargs="+", metavar="NETWORK")
    p.set_defaults(handler=cmd_inspect)
    for name in ("rm", "remove"):
        p = ns.add_parser(name, help="Remove one or more networks")
        p.add_argument("-f", "--force", action="store_true")
        p.add_argument("names", nargs="+", metavar="NETWORK")
        p.set_defaults(handler=cmd_rm)
    p = ns.add_parser("prune", help="Remove all unused networks")
    p.add_argument("-f", "--force", action="store_true", help="Do not prompt for confirmation")
    p.add_argument(
        "--filter", action="append", default=[], help="Provide filter values (e.g. 'until=<timestamp>')"
    )
    p.set_defaults(handler=cmd_prune)
    p = ns.add_parser("connect", help="Connect a container to a network")
    p.add_argument("--ip", default="")
    p.add_argument("--ip6", default="", help="IPv6 address (on a network created with --ipv6)")
    p.add_argument("--alias", action="append", default=[])
    p.add_argument(
        "--link-local-ip", action="append", default=[], help="Add a link-local address for the container"
    )
    p.add_argument("--driver-opt", action="append", default=[], help="driver options for the network")
    p.add_argument(
        "--gw-priority", type=int, default=0, help="Highest gw-priority provides the default gateway"
    )
    p.add_argument("--link", action="append", default=[], help="Add link to another container")
    p.add_argument("network")
    p.add_argument("container")
    p.set_defaults(handler=cmd_connect)
    p = ns.add_parser("disconnect", help="Disconnect a container from a network")
    p.add_argument("-f", "--force", action="store_true")
    p.add_argument("network")
    p.add_argument("container")
    p.set_defaults(handler=cmd_disconnect)


def _pairs(values: list[str]) -> dict[str, str]:
    out = {}
    for v in values:
        k, _, val = v.partition("=")
        out[k] = val
    return out


def cmd_create(a: flags.Namespace) -> int:
    if not a.ipv4:
        from engine import InvalidArgument

        raise InvalidArgument("IPv4 cannot be disabled: every network here has IPv4 addresses")
    subnet, subnet6 = _by_family(a.subnet, "--subnet")
    gateway, gateway6 = _by_family(a.gateway, "--gateway")
    ip_range, ip_range6 = _by_family(a.ip_range, "--ip-range")
    net = engine().networks.create(
        a.name,
        driver=a.driver,
        subnet=subnet,
        gateway=gateway,
        internal=a.internal,
        labels=_pairs(a.label),
        options=_pairs(a.opt),
        ip_range=ip_range,
        aux_addresses=_pairs(a.aux_address),
        ipv6=a.ipv6,
        subnet6=subnet6,
        gateway6=gateway6,
        ip_range6=ip_range6,
    )
    print(net.id)
    return 0


def _by_family(values: list[str], flag: str) -> tuple[str, str]:
    """A repeated --subnet (--gateway, --ip-range) as (its IPv4 value, its IPv6 value): one of each at most."""
    from engine import InvalidArgument

    v4 = [v for v in values if ":" not in v]
    v6 = [v for v in values if ":" in v]
    if len(v4) > 1 or len(v6) > 1:
        raise InvalidArgument(
            f"{flag}: one IPv4 and one IPv6 value at most (a network here has one subnet of each)"
        )
    return (v4[0] if v4 else ""), (v6[0] if v6 else "")


def _label(labels: dict[str, str]) -> Any:
    """``{{.Label "key"}}``: the value of one label, "" when it has none."""
    return lambda key: labels.get(key, "")


def cmd_ls(a: flags.Namespace) -> int:
    from .cmd_ps import filters_of, plain

    nets = engine().networks.list(filters=filters_of(a.filter) or None)
    rows = [
        {
            "ID": n.id if a.no_trunc else n.id[:12],
            "Name": n.name,
            "Driver": n.driver,
            "Scope": "local",
            "Internal": str(n.internal).lower(),
            "Labels": ",".join(f"{k}={v}" for k, v in n.labels.items()),
            "Subnet": n.subnet,
            "IPv6": str(n.ipv6).lower(),
            "CreatedAt": n.created,
            "Label": _label(n.labels),
        }
        for n in nets
    ]
    if a.quiet:
        for r in rows:
            print(r["ID"])
        return 0
    output.emit(
        a.format,
        ["NETWORK ID", "NAME", "DRIVER", "SCOPE"],
        ["ID", "Name", "Driver", "Scope"],
        plain(a.format, rows),
    )
    return 0


def cmd_inspect(a: flags.Namespace) -> int:
    eng = engine()
    return output.inspect_each(a.names, eng.networks.inspect, a.format)


def cmd_rm(a: flags.Namespace) -> int:
    from engine import NotFound

    eng = engine()

    def remove(name: str) -> None:
        try:
            eng.networks.remove(name)
        except NotFound:
            if a.force:  # -f: a missing network is not an error
                return
            raise
        print(name)

    return output.for_each(a.names, remove)


def cmd_prune(a: flags.Namespace) -> int:
    from .cmd_ps import filters_of

    filters = filters_of(a.filter)
    if not output.confirmed(
        a.force, "This will remove all custom networks not used by at least one container."
    ):
        return 0
    removed = engine().networks.prune(filters=filters or None)
    if removed:
        print("Deleted Networks:")
        print("\n".join(removed))
    return 0


def cmd_connect(a: flags.Namespace) -> int:
    engine().networks.connect(
        a.network,
        a.container,
        ip=a.ip,
        aliases=a.alias,
        driver_opts=_pairs(a.driver_opt),
        gw_priority=a.gw_priority,
        link_local_ips=a.link_local_ip,
        links=a.link,
        ip6=a.ip6,
    )
    return 0


def cmd_disconnect(a: flags.Namespace) -> int:
    engine().networks.disconnect(a.network, a.container, force=a.force)
    return 0
