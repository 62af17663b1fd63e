"""Volume commands: volume create, ls, inspect, rm, prune."""

from __future__ import annotations

from . import flags, output
from .commands import engine

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def register(sub: flags.Commands) -> None:
    g = sub.add_parser("volume", help="Manage volumes")
    vs = g.add_subparsers(dest="volume_command", metavar="COMMAND")
    p = vs.add_parser("create", help="Create a volume")
    p.add_argument("-l", "--label", action="append", default=[])
    p.add_argument("-d", "--driver", default="local", help="Specify volume driver name (local only)")
    p.add_argument(
        "-o", "--opt", action="append", default=[], help="Set driver specific options (type, device, o)"
    )
    p.add_argument("name", nargs="?", metavar="VOLUME")
    p.set_defaults(handler=cmd_create)
    for name in ("ls", "list"):
        p = vs.add_parser(name, help="List volumes")
        p.add_argument("-q", "--quiet", action="store_true", help="Only display volume names")
        p.add_argument(
            "-f", "--filter", action="append", default=[], help="Provide filter values (e.g. 'dangling=true')"
        )
        p.add_argument("--format", help="Format output: 'table', 'json' or a Go template")
        p.set_defaults(handler=cmd_ls)
    p = vs.add_parser("inspect", help="Display detailed information on one or more volumes")
    p.add_argument("-f", "--format", help="Format output using a custom template")
    p.add_argument("names", nargs="+", metavar="VOLUME")
    p.set_defaults(handler=cmd_inspect)
    for name in ("rm", "remove"):
        p = vs.add_parser(name, help="Remove one or more volumes")
        p.add_argument("-f", "--force", action="store_true")
        p.add_argument("names", nargs="+", metavar="VOLUME")
        p.set_defaults(handler=cmd_rm)
    p = vs.add_parser("prune", help="Remove unused volumes")
    p.add_argument("-f", "--force", action="store_true")
    p.add_argument(
        "-a", "--all", action="store_true", help="Remove all unused volumes, not just anonymous ones"
    )
    p.add_argument(
        "--filter", action="append", default=[], help="Provide filter values (e.g. 'label=<label>')"
    )
    p.set_defaults(handler=cmd_prune)


def cmd_create(a: flags.Namespace) -> int:
    labels = dict(lab.partition("=")[::2] for lab in a.label)
    opts = dict(o.partition("=")[::2] for o in a.opt)
    print(engine().volumes.create(a.name, labels, driver=a.driver, options=opts).name)
    return 0


def _label(labels: dict[str, str]) -> Any:
    """``{{.Label "key"}}``: the value of one label, "" when it has none."""
    return lambda key: labels.get(key, "")


def cmd_ls(a: flags.Namespace) -> int:
    from .cmd_ps import filters_of, plain

    vols = engine().volumes.list(filters=filters_of(a.filter) or None)
    if a.quiet:
        for v in vols:
            print(v.name)
        return 0
    output.emit(
        a.format,
        ["DRIVER", "VOLUME NAME"],
        ["Driver", "Name"],
        plain(
            a.format,
            [
                {
                    "Driver": "local",
                    "Name": v.name,
                    "Mountpoint": v.mountpoint,
                    "Scope": "local",
                    "Labels": ",".join(f"{k}={val}" for k, val in v.labels.items()),
                    "Label": _label(v.labels),
                    "Links": "N/A",
                    "Size": "N/A",
                    "CreatedAt": v.created,
                }
                for v in vols
            ],
        ),
    )
    return 0


def cmd_inspect(a: flags.Namespace) -> int:
    return output.inspect_each(a.names, engine().volumes.inspect, a.format)


def cmd_rm(a: flags.Namespace) -> int:
    eng = engine()

    def remove(name: str) -> None:
        eng.volumes.remove(name, force=a.force)
        print(name)

    return output.for_each(a.names, remove)


def cmd_prune(a: flags.Namespace) -> int:
    if not output.confirmed(
        a.force, "This will remove all local volumes not used by at least one container."
    ):
        return 0
    from .cmd_ps import filters_of

    filters = filters_of(a.filter)
    if a.all:
        filters.setdefault("all", []).append("true")
    removed = engine().volumes.prune(filters=filters or None)
    if removed:
        print("Deleted Volumes:")
        print("\n".join(removed) + "\n")
    print("Total reclaimed space: 0B")
    return 0
