"""Listing and pruning containers: ps (container ls), container prune."""

from __future__ import annotations

from . import flags, output
from .commands import engine

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from engine import Container, EngineAPI

_FILTER_HELP = "Filter output based on conditions provided"


def register(sub: flags.Commands) -> None:
    add_ps(sub, "ps")


def register_group(cs: flags.Commands) -> None:
    """``dockyard container ls|list|ps|prune``."""
    for name in ("ls", "list", "ps"):
        add_ps(cs, name)
    p = cs.add_parser("prune", help="Remove all stopped containers")
    p.add_argument("-f", "--force", action="store_true", help="Do not prompt for confirmation")
    p.add_argument(
        "--filter", action="append", default=[], help="Provide filter values (e.g. 'until=<timestamp>')"
    )
    p.set_defaults(handler=cmd_container_prune)


def add_ps(parent: flags.Commands, name: str) -> None:
    p = parent.add_parser(name, help="List containers")
    p.add_argument(
        "-a", "--all", action="store_true", help="Show all containers (default shows just running)"
    )
    p.add_argument("-q", "--quiet", action="store_true", help="Only display container IDs")
    p.add_argument(
        "-n", "--last", type=int, default=-1, help="Show n last created containers (includes all states)"
    )
    p.add_argument(
        "-l", "--latest", action="store_true", help="Show the latest created container (includes all states)"
    )
    p.add_argument("-s", "--size", action="store_true", help="Display total file sizes")
    p.add_argument("--no-trunc", action="store_true", help="Don't truncate output")
    p.add_argument("-f", "--filter", action="append", default=[], help=_FILTER_HELP)
    p.add_argument("--format", help="Format output: 'table', 'json' or a Go template")
    p.set_defaults(handler=cmd_ps)


def filters_of(values: list[str]) -> dict[str, list[str]]:
    """``--filter key=value`` flags as the engine takes them: a dict of lists (nothing loaded without one)."""
    if not values:
        return {}
    from engine import parse_filters

    return parse_filters(values)


def plain(fmt: str | None, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows for ``--format json``: without their functions (``Label``), which JSON cannot hold."""
    if fmt != "json":
        return rows
    return [{k: v for k, v in r.items() if not callable(v)} for r in rows]


def _ports_text(ports: list[dict[str, Any]]) -> str:
    parts = []
    for p in ports:
        hp = p.get("host_port")
        proto = p.get("protocol", "tcp")
        if hp:
            parts.append(f"{p.get('host_ip') or '0.0.0.0'}:{hp}->{p['container_port']}/{proto}")
        else:
            parts.append(f"{p['container_port']}/{proto}")
    return ", ".join(parts)


def _label(labels: dict[str, str]) -> Any:
    """``{{.Label "key"}}``: the value of one label, "" when it has none."""
    return lambda key: labels.get(key, "")


def container_rows(containers: list[Container], no_trunc: bool = False) -> list[dict[str, Any]]:
    from engine.humanize import ago

    rows = []
    for c in containers:
        cmd = " ".join(c.command)
        rows.append(
            {
                "ID": c.id if no_trunc else c.short_id,
                "Image": c.image,
                "Command": f'"{cmd}"' if no_trunc else f'"{output.truncate(cmd, 20)}"',
                "CreatedAt": c.created,
                "RunningFor": ago(c.created),
                "Status": c.status_text(),
                "State": c.status,
                "Ports": _ports_text(c.ports),
                "Names": c.name,
                "Labels": ",".join(f"{k}={v}" for k, v in c.labels.items()),
                "Label": _label(c.labels),
                "Networks": ",".join(c.networks) or "",
            }
        )
    return rows


def _size(eng: EngineAPI, c: Container, image_sizes: dict[str, int]) -> str:
    """Docker's SIZE: the writable layer's size, and with the image's layers ``(virtual N)``."""
    from engine import DockyardError
    from engine.humanize import human_size

    try:
        rw = eng.containers.writable_size(c.id)
    except (DockyardError, OSError):
        rw = 0
    if c.image_id not in image_sizes:
        try:
            image_sizes[c.image_id] = eng.images.get(c.image_id).size
        except DockyardError:
            image_sizes[c.image_id] = 0
    virtual = rw + image_sizes[c.image_id]
    return f"{human_size(rw)} (virtual {human_size(virtual)})" if virtual else human_size(rw)


def cmd_ps(a: flags.Namespace) -> int:
    filters = filters_of(a.filter)
    show_all = a.all or a.last > 0 or a.latest or bool(filters.get("exited"))
    eng = engine()
    cs = eng.containers.list(all=show_all, filters=filters or None)
    if a.latest:
        cs = cs[:1]
    elif a.last > 0:
        cs = cs[: a.last]
    rows = container_rows(cs, a.no_trunc)
    if a.quiet:
        for r in rows:
            print(r["ID"])
        return 0
    headers = ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]
    fields = ["ID", "Image", "Command", "RunningFor", "Status", "Ports", "Names"]
    if a.size or (a.format and ".Size" in a.format):
        sizes: dict[str, int] = {}
        for row, c in zip(rows, cs, strict=True):
            row["Size"] = _size(eng, c, sizes)
        headers.append("SIZE")
        fields.append("Size")
    output.emit(a.format, headers, fields, plain(a.format, rows))
    return 0


def cmd_container_prune(a: flags.Namespace) -> int:
    from engine.humanize import human_size

    filters = filters_of(
        a.filter
    )  # checked by the engine before anything is removed (after the prompt, as Docker)
    if not output.confirmed(a.force, "This will remove all stopped containers."):
        return 0
    r = engine().containers.prune(filters=filters or None)
    if r.deleted:
        print("Deleted Containers:")
        print("\n".join(r.deleted) + "\n")
    print(f"Total reclaimed space: {human_size(r.reclaimed)}")
    return 0
