"""``compose version``, ``events``, ``stats``, ``wait``, ``scale``, ``pull``, ``cp``, ``attach``, ``commit``,
``export``, and the commands refused on purpose (``publish``, ``viz``, ``alpha``); ``push``."""

from __future__ import annotations

import sys

from .. import flags
from .common import load, refuse

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

#: Docker Compose's commands dockyard refuses, with the reason.
REFUSED = {
    "publish": "there is no OCI artifact store for compose applications in dockyard",
    "viz": "dockyard compose draws no graphs",
    "alpha": "Docker Compose's experimental commands are not offered",
}


def register(cs: flags.Commands) -> None:
    p = cs.add_parser("version", help="Show the Docker Compose version information")
    p.add_argument("--short", action="store_true", help="Shows only Compose's version number")
    p.add_argument("--format", default="", help="Format the output. Values: [pretty | json]")
    p.set_defaults(handler=cmd_version)

    p = cs.add_parser("events", help="Receive real time events from containers")
    p.add_argument("--json", action="store_true", help="Output events as a stream of json objects")
    p.add_argument("--since", default="", help="Show all events created since timestamp")
    p.add_argument("--until", default="", help="Stream events until this timestamp")
    p.add_argument("services", nargs="*", metavar="SERVICE")
    p.set_defaults(handler=cmd_events)

    p = cs.add_parser("stats", help="Display a live stream of container(s) resource usage statistics")
    p.add_argument(
        "-a", "--all", action="store_true", help="Show all containers (default shows just running)"
    )
    p.add_argument(
        "--no-stream", action="store_true", help="Disable streaming stats and only pull the first result"
    )
    p.add_argument("--no-trunc", action="store_true", help="Do not truncate output")
    p.add_argument(
        "--format", default="", help="Format output using a custom template: 'table', 'json' or a Go template"
    )
    p.add_argument("services", nargs="*", metavar="SERVICE")
    p.set_defaults(handler=cmd_stats)

    p = cs.add_parser("wait", help="Block until containers of all (or specified) services stop.")
    p.add_argument("--down-project", action="store_true", help="Drops project when the first container stops")
    p.add_argument("services", nargs="+", metavar="SERVICE")
    p.set_defaults(handler=cmd_wait)

    p = cs.add_parser("scale", help="Scale services")
    p.add_argument("--no-deps", action="store_true", help="Don't start linked services")
    p.add_argument("scales", nargs="+", metavar="SERVICE=REPLICAS")
    p.set_defaults(handler=cmd_scale)

    p = cs.add_parser("pull", help="Pull service images")
    p.add_argument("--ignore-buildable", action="store_true", help="Ignore images that can be built")
    p.add_argument(
        "--ignore-pull-failures",
        action="store_true",
        help="Pull what it can and ignores images with pull failures",
    )
    p.add_argument("--include-deps", action="store_true", help="Also pull services declared as dependencies")
    p.add_argument("--policy", default="", help='Apply pull policy ("missing"|"always")')
    p.add_argument("-q", "--quiet", action="store_true", help="Pull without printing progress information")
    p.add_argument("services", nargs="*", metavar="SERVICE")
    p.set_defaults(handler=cmd_pull)

    p = cs.add_parser("push", help="Push service images")
    p.add_argument(
        "--ignore-push-failures",
        action="store_true",
        help="Push what it can and ignores images with push failures",
    )
    p.add_argument(
        "--include-deps", action="store_true", help="Also push images of services declared as dependencies"
    )
    p.add_argument("-q", "--quiet", action="store_true", help="Push without printing progress information")
    p.add_argument("services", nargs="*", metavar="SERVICE")
    p.set_defaults(handler=cmd_push)

    p = cs.add_parser("cp", help="Copy files/folders between a service container and the local filesystem")
    p.add_argument("-a", "--archive", action="store_true", help="Archive mode (copy all uid/gid information)")
    p.add_argument("-L", "--follow-link", action="store_true", help="Always follow symbol link in SRC_PATH")
    p.add_argument(
        "--index", type=int, default=0, help="Index of the container if service has multiple replicas"
    )
    p.add_argument(
        "--all", action="store_true", help="Include containers created by the run command (refused)"
    )
    p.add_argument("src", metavar="SRC")
    p.add_argument("dest", metavar="DEST")
    p.set_defaults(handler=cmd_cp)

    p = cs.add_parser(
        "attach",
        help="Attach local standard input, output, and error streams to a service's running container",
    )
    p.add_argument(
        "--index", type=int, default=0, help="index of the container if service has multiple replicas."
    )
    p.add_argument("--no-stdin", action="store_true", help="Do not attach STDIN")
    p.add_argument(
        "--sig-proxy", action="store_true", default=True, help="Proxy all received signals to the process"
    )
    p.add_argument(
        "--detach-keys", default="", help="Override the key sequence for detaching from a container."
    )
    p.add_argument("service", metavar="SERVICE")
    p.set_defaults(handler=cmd_attach)

    p = cs.add_parser("commit", help="Create a new image from a service container's changes")
    p.add_argument(
        "-a", "--author", default="", help='Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")'
    )
    p.add_argument("-m", "--message", default="", help="Commit message")
    p.add_argument(
        "-c",
        "--change",
        action="append",
        default=[],
        help="Apply Dockerfile instruction to the created image",
    )
    p.add_argument("-p", "--pause", action="store_true", default=True, help="Pause container during commit")
    p.add_argument(
        "--index", type=int, default=0, help="index of the container if service has multiple replicas."
    )
    p.add_argument("service", metavar="SERVICE")
    p.add_argument("repository", nargs="?", metavar="REPOSITORY[:TAG]")
    p.set_defaults(handler=cmd_commit)

    p = cs.add_parser("export", help="Export a service container's filesystem as a tar archive")
    p.add_argument("-o", "--output", default="", help="Write to a file, instead of STDOUT")
    p.add_argument(
        "--index", type=int, default=0, help="index of the container if service has multiple replicas."
    )
    p.add_argument("service", metavar="SERVICE")
    p.set_defaults(handler=cmd_export)

    for name, why in REFUSED.items():
        p = cs.add_parser(name, help=f"Refused: {why}", add_help=False)
        p.add_argument("args", nargs=flags.REMAINDER)
        p.set_defaults(handler=_refuser(name, why))


def _refuser(name: str, why: str) -> Callable[[flags.Namespace], int]:
    def handler(_a: flags.Namespace) -> int:
        sys.stderr.write(f"dockyard: 'compose {name}' is not supported: {why}\n")
        return 125

    return handler


def cmd_version(a: flags.Namespace) -> int:
    """Docker Compose's version, as the one whose behaviour and labels dockyard follows."""
    from engine import Compose, InvalidArgument

    if a.short:
        print(Compose.VERSION)
    elif a.format == "json":
        from .. import output

        output.print_json({"version": f"v{Compose.VERSION}"})
    elif a.format in ("", "pretty"):
        print(f"Docker Compose version v{Compose.VERSION} (dockyard compose)")
    else:
        raise InvalidArgument(f"format value {a.format!r} could not be parsed: pretty or json")
    return 0


def cmd_events(a: flags.Namespace) -> int:
    """The project's container events as they happen: Compose's lines
    (``2026-01-02 10:00:00.123456 container start ID (image=..., name=...)``) or ``--json`` objects."""
    import json
    import time

    from engine.units import parse_time_arg

    cp = load(a, need_file=False)
    cp.check_services(a.services)
    filters = {"type": ["container"], "label": [f"com.docker.compose.project={cp.name}"]}
    since = parse_time_arg(a.since) if a.since else None
    until = parse_time_arg(a.until) if a.until else None
    wanted = set(a.services)
    for e in cp.engine.events(filters=filters, since=since, until=until):
        attrs = {k: str(v) for k, v in e.attributes.items()}
        service = attrs.get("com.docker.compose.service", "")
        if wanted and service not in wanted:
            continue
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(e.time)) + f".{int(e.time % 1 * 1e6):06d}"
        if a.json:
            record = {
                "action": e.action, "attributes": {k: v for k, v in attrs.items() if k in ("image", "name")},
                "id": e.id, "service": service, "time": stamp, "type": e.type,
            }  # fmt: skip
            print(json.dumps(record, separators=(",", ":")), flush=True)
        else:
            shown = ", ".join(f"{k}={attrs[k]}" for k in ("image", "name") if k in attrs)
            print(f"{stamp} container {e.action} {e.id} ({shown})", flush=True)
    return 0


def cmd_stats(a: flags.Namespace) -> int:
    """docker stats over the project's containers (running ones unless ``-a``)."""
    from ..cmd_inspect import cmd_stats as docker_stats

    cp = load(a, need_file=False)
    cp.check_services(a.services)
    names = [c.name for c in cp.containers(a.services or None, all=a.all)]
    if not names:
        return 0
    return docker_stats(
        flags.Namespace(
            containers=names, all=a.all, no_stream=a.no_stream, no_trunc=a.no_trunc, format=a.format or None
        )
    )


def cmd_wait(a: flags.Namespace) -> int:
    """Wait for the services' containers to stop; the exit code of the first one that does."""
    import threading

    cp = load(a, need_file=False)
    cp.check_services(a.services)
    containers = cp.containers(a.services)
    codes: list[int] = []
    done = threading.Event()

    def wait(cid: str) -> None:
        code = cp.engine.containers.wait(cid)
        codes.append(code)
        done.set()

    for c in containers:
        threading.Thread(target=wait, args=(c.id,), daemon=True).start()
    if not containers:
        return 0
    while not done.wait(0.2):
        pass
    if a.down_project:
        cp.down()
    return codes[0]


def cmd_scale(a: flags.Namespace) -> int:
    from engine import InvalidArgument

    scale = {}
    for s in a.scales:
        name, eq, num = s.partition("=")
        if not eq or not num.isdigit():
            raise InvalidArgument(f"invalid scale specifier: {s}")
        scale[name] = int(num)
    cp = load(a)
    cp.up(list(scale), no_recreate=True, no_deps=a.no_deps, scale=scale)
    return 0


def cmd_pull(a: flags.Namespace) -> int:
    from engine import DockyardError, InvalidArgument

    if a.policy not in ("", "missing", "always"):
        raise InvalidArgument(f'invalid pull policy "{a.policy}": "missing" or "always"')
    cp = load(a)
    names = cp.check_services(a.services) or cp.services
    if a.include_deps:
        names = cp.project.with_dependencies(names)
    failed = 0
    for svc in names:
        spec = cp.project.services[svc]
        if spec.get("build") and (a.ignore_buildable or not spec.get("image")):
            continue
        ref = cp.project.image_name(svc)
        if a.policy == "missing":
            try:
                cp.engine.images.resolve(ref)
                continue
            except DockyardError:
                pass
        cp.progress("Image", ref, "Pulling")
        try:
            cp.engine.images.pull(ref)
        except DockyardError as e:
            if not a.ignore_pull_failures:
                raise
            sys.stderr.write(f"WARN[0000] {svc}: {e}\n")
            failed += 1
            continue
        cp.progress("Image", ref, "Pulled")
    return 0


def cmd_push(a: flags.Namespace) -> int:
    """Push the image of each service that names one (``image:``) to its registry."""
    from engine import DockyardError

    cp = load(a)
    names = cp.check_services(a.services) or cp.services
    if a.include_deps:
        names = cp.project.with_dependencies(names)
    for svc in names:
        ref = cp.project.services[svc].get("image")
        if not ref:
            continue
        cp.progress("Image", ref, "Pushing")
        try:
            cp.engine.images.push(ref)
        except DockyardError as e:
            if not a.ignore_push_failures:
                raise
            sys.stderr.write(f"WARN[0000] {svc}: {e}\n")
            continue
        cp.progress("Image", ref, "Pushed")
    return 0


def _split(arg: str) -> tuple[str | None, str]:
    service, colon, path = arg.partition(":")
    if colon and "/" not in service and service:
        return service, path
    return None, arg


def cmd_cp(a: flags.Namespace) -> int:
    from engine import InvalidArgument

    if a.all:
        refuse("--all", "copy to or from one container at a time (--index)")
    src_service, src = _split(a.src)
    dest_service, dest = _split(a.dest)
    if (src_service is None) == (dest_service is None):
        raise InvalidArgument(
            "copying between services or between local paths is not supported: name one SERVICE:PATH"
        )
    cp = load(a, need_file=False)
    containers = cp.engine.containers
    if src_service is not None:
        c = cp.container(src_service, a.index or 1)
        containers.copy_from(c.id, src, dest, follow_link=a.follow_link)
    else:
        assert dest_service is not None
        c = cp.container(dest_service, a.index or 1)
        containers.copy_to(c.id, src, dest, archive=a.archive, follow_link=a.follow_link)
    return 0


def cmd_attach(a: flags.Namespace) -> int:
    from ..terminal import DETACH_KEYS, relay_session

    cp = load(a, need_file=False)
    c = cp.container(a.service, a.index or 1)
    cfg = cp.engine.containers.config(c.id)
    keys = DETACH_KEYS
    if a.detach_keys:
        from ..cmd_inspect import _detach_keys

        keys = _detach_keys(a.detach_keys)
    with cp.engine.containers.attach(c.id) as session:
        code = relay_session(session, cfg.open_stdin and not a.no_stdin, cfg.tty, keys)
    return code or 0


def cmd_commit(a: flags.Namespace) -> int:
    from ..cmd_images import parse_changes

    cp = load(a, need_file=False)
    c = cp.container(a.service, a.index or 1)
    image_id = cp.engine.containers.commit(
        c.id, a.repository, message=a.message, author=a.author, changes=parse_changes(a.change), pause=a.pause
    )
    print(image_id)
    return 0


def cmd_export(a: flags.Namespace) -> int:
    from .. import output

    cp = load(a, need_file=False)
    c = cp.container(a.service, a.index or 1)
    output.write_archive(a.output or None, lambda out: cp.engine.containers.export(c.id, out))
    return 0
