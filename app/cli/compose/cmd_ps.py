"""``compose ps``, ``ls``, ``images``, ``top``, ``port``."""

from __future__ import annotations

import sys

from .. import output
from ..commands import local_engine
from .common import load

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from engine import Container

    from .. import flags

STATES = ("paused", "restarting", "removing", "running", "dead", "created", "exited")


def register(cs: flags.Commands) -> None:
    p = cs.add_parser("ps", help="List containers")
    a = p.add_argument
    a(
        "-a",
        "--all",
        action="store_true",
        help="Show all stopped containers (including those created by the run command)",
    )
    a(
        "--filter",
        action="append",
        default=[],
        help="Filter services by a property (supported filters: status)",
    )
    a(
        "--format",
        default="table",
        help="Format output using a custom template: 'table', 'json' or a Go template",
    )
    a("--no-trunc", action="store_true", help="Don't truncate output")
    a("--orphans", default="true", help="Include orphaned services (not declared by project)")
    a("-q", "--quiet", action="store_true", help="Only display IDs")
    a("--services", action="store_true", help="Display services")
    a(
        "--status",
        action="append",
        default=[],
        help="Filter services by status. Values: [paused | restarting | removing | running | dead | created | exited]",
    )
    p.add_argument("services_", nargs="*", metavar="SERVICE")
    p.set_defaults(handler=cmd_ps)

    p = cs.add_parser("ls", help="List running compose projects")
    p.add_argument("-a", "--all", action="store_true", help="Show all stopped Compose projects")
    p.add_argument("--filter", action="append", default=[], help="Filter output based on conditions provided")
    p.add_argument("--format", default="table", help="Format the output. Values: [table | json]")
    p.add_argument("-q", "--quiet", action="store_true", help="Only display project names")
    p.set_defaults(handler=cmd_ls)

    p = cs.add_parser("images", help="List images used by the created containers")
    p.add_argument("--format", default="table", help="Format the output. Values: [table | json]")
    p.add_argument("-q", "--quiet", action="store_true", help="Only display IDs")
    p.add_argument("services", nargs="*", metavar="SERVICE")
    p.set_defaults(handler=cmd_images)

    p = cs.add_parser("top", help="Display the running processes")
    p.add_argument("services", nargs="*", metavar="SERVICE")
    p.set_defaults(handler=cmd_top)

    p = cs.add_parser("port", help="Print the public port for a port binding")
    p.add_argument(
        "--index", type=int, default=0, help="Index of the container if service has multiple replicas"
    )
    p.add_argument("--protocol", default="tcp", help="tcp or udp")
    p.add_argument("service", metavar="SERVICE")
    p.add_argument("private_port", metavar="PRIVATE_PORT")
    p.set_defaults(handler=cmd_port)


def _publishers(c: Container) -> list[dict[str, Any]]:
    return [
        {
            "URL": p.get("host_ip") or ("0.0.0.0" if p.get("host_port") else ""),
            "TargetPort": int(p.get("container_port") or 0),
            "PublishedPort": int(p.get("host_port") or 0),
            "Protocol": p.get("protocol", "tcp"),
        }
        for p in c.ports
    ]


def ps_rows(containers: list[Container], no_trunc: bool) -> list[dict[str, Any]]:
    """Docker Compose's ps record: docker ps's fields and Name, Service, Project, Publishers, ExitCode,
    Health."""
    from ..cmd_ps import container_rows

    rows = container_rows(containers, no_trunc)
    for r, c in zip(rows, containers, strict=True):
        r.pop("Label", None)
        r["ID"] = c.id if no_trunc else c.short_id
        r["Name"] = c.name
        r["Service"] = c.labels.get("com.docker.compose.service", "")
        r["Project"] = c.labels.get("com.docker.compose.project", "")
        r["Publishers"] = _publishers(c)
        r["ExitCode"] = c.exit_code
        r["Health"] = c.health
        r["LocalVolumes"] = "0"
        r["Mounts"] = ""
        r["Size"] = "0B"
    return rows


def cmd_ps(a: flags.Namespace) -> int:
    from engine import InvalidArgument

    cp = load(a, need_file=False)
    cp.check_services(a.services_)
    statuses = list(a.status)
    for f in a.filter:
        key, eq, value = f.partition("=")
        if key != "status" or not eq:
            raise InvalidArgument(f"invalid filter '{f}': only status=STATE is supported")
        statuses.append(value)
    for s in statuses:
        if s not in STATES:
            raise InvalidArgument(f"invalid status: {s}: {' | '.join(STATES)}")
    if a.services:
        names = [s for s in cp.services if not a.services_ or s in a.services_]
        running = {c.labels.get("com.docker.compose.service") for c in cp.containers(all=a.all)}
        for s in names if a.all else [n for n in names if n in running]:
            print(s)
        return 0
    show_all = a.all or bool(statuses)
    containers = cp.containers(a.services_ or None, all=show_all, oneoff=None if a.all else False)
    if a.orphans == "false" and cp.services:
        containers = [c for c in containers if c.labels.get("com.docker.compose.service") in cp.services]
    if statuses:
        containers = [c for c in containers if c.status in statuses]
    if a.quiet:
        for c in containers:
            print(c.id)
        return 0
    rows = ps_rows(containers, a.no_trunc)
    output.emit(
        a.format,
        ["NAME", "IMAGE", "COMMAND", "SERVICE", "CREATED", "STATUS", "PORTS"],
        ["Name", "Image", "Command", "Service", "RunningFor", "Status", "Ports"],
        rows,
    )
    return 0


def cmd_ls(a: flags.Namespace) -> int:
    import re

    from engine import InvalidArgument, compose_projects

    found = compose_projects(local_engine(), a.all)
    for f in a.filter:
        key, eq, value = f.partition("=")
        if key != "name" or not eq:
            raise InvalidArgument(f"invalid filter '{f}': only name=NAME is supported")
        found = [p for p in found if re.search(value, p.name)]
    if a.quiet:
        for p in found:
            print(p.name)
        return 0
    rows = [{"Name": p.name, "Status": p.status, "ConfigFiles": p.config_files} for p in found]
    if a.format == "json":
        output.print_json(rows)
        return 0
    if a.format != "table":
        raise InvalidArgument(f"format value {a.format!r} could not be parsed: table or json")
    output.table(
        ["NAME", "STATUS", "CONFIG FILES"], [[r["Name"], r["Status"], r["ConfigFiles"]] for r in rows]
    )
    return 0


def cmd_images(a: flags.Namespace) -> int:
    from engine import DockyardError
    from engine.humanize import human_size

    cp = load(a, need_file=False)
    cp.check_services(a.services)
    containers = cp.containers(a.services or None, all=True, oneoff=None)
    if a.quiet:
        for image_id in dict.fromkeys(c.image_id for c in containers):
            print(image_id.removeprefix("sha256:"))
        return 0
    rows: list[dict[str, Any]] = []
    for c in containers:
        repo, _, tag = (
            c.image.rpartition(":") if ":" in c.image.rsplit("/", 1)[-1] else (c.image, "", "latest")
        )
        try:
            size = cp.engine.images.get(c.image_id).size
        except DockyardError:
            size = 0
        rows.append(
            {
                "ContainerName": c.name,
                "Repository": repo,
                "Tag": tag,
                "ID": c.image_id.removeprefix("sha256:")[:12],
                "Size": size,
            }
        )
    if a.format == "json":
        output.print_json(rows)
        return 0
    output.table(
        ["CONTAINER", "REPOSITORY", "TAG", "IMAGE ID", "SIZE"],
        [[r["ContainerName"], r["Repository"], r["Tag"], r["ID"], human_size(r["Size"])] for r in rows],
    )
    return 0


def cmd_top(a: flags.Namespace) -> int:
    cp = load(a, need_file=False)
    cp.check_services(a.services)
    first = True
    for c in cp.containers(a.services or None, all=False):
        if c.status not in ("running", "paused"):
            continue
        top = cp.engine.containers.top(c.id)
        if not first:
            print()
        first = False
        print(c.name)
        output.table(top.titles, top.processes, minwidth=4)
    return 0


def cmd_port(a: flags.Namespace) -> int:
    from engine import InvalidArgument

    cp = load(a, need_file=False)
    c = cp.container(a.service, a.index or 1)
    port = a.private_port
    if not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
        raise InvalidArgument(f"invalid port {port!r}")
    if a.protocol not in ("tcp", "udp", "sctp"):
        raise InvalidArgument(f"invalid protocol {a.protocol!r}: tcp, udp or sctp")
    for p in c.ports if c.running else []:
        if (
            str(p.get("container_port")) == port
            and p.get("protocol", "tcp") == a.protocol
            and p.get("host_port")
        ):
            print(f"{p.get('host_ip') or '0.0.0.0'}:{p['host_port']}")
            return 0
    sys.stderr.write(f"no port {port}/{a.protocol} for container {c.name}: not published\n")
    return 1
