"""Seeing inside containers: inspect, logs, attach, exec, top, diff, stats, port, commit, export, cp."""

from __future__ import annotations

import sys

from . import flags, output
from .commands import engine

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .commands import Null

    Table = flags.Commands | Null  # Null: the commands of a group that is not being run


_FORMAT = "Format output using a Go template, or 'json'"


def register(sub: Table, cs: Table | None = None) -> None:
    """The top-level commands into ``sub``; the same under ``dockyard container`` into ``cs`` (given when
    that group is being built: cmd_containers owns it)."""
    if cs is None:
        from .commands import Null

        cs = Null()
    register_files(sub, cs)
    p = sub.add_parser("inspect", help="Return low-level information on containers or images")
    p.add_argument("-f", "--format", help=_FORMAT)
    p.add_argument("--type", choices=["container", "image"], help="Only inspect objects of the given type")
    p.add_argument("names", nargs="+", metavar="NAME|ID")
    p.set_defaults(handler=cmd_inspect)
    p = cs.add_parser("inspect", help="Display detailed information on one or more containers")
    p.add_argument("-f", "--format", help=_FORMAT)
    p.add_argument("names", nargs="+", metavar="CONTAINER")
    p.set_defaults(handler=cmd_inspect, type="container")

    for parent, name in ((sub, "logs"), (cs, "logs")):
        p = parent.add_parser(name, help="Fetch the logs of a container")
        p.add_argument("-f", "--follow", action="store_true", help="Follow log output")
        p.add_argument("-n", "--tail", default="all", help="Number of lines to show from the end of the logs")
        p.add_argument("-t", "--timestamps", action="store_true", help="Show timestamps")
        p.add_argument(
            "--since", help='Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m")'
        )
        p.add_argument(
            "--until",
            help='Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m")',
        )
        p.add_argument("--details", action="store_true", help="Show extra details provided to logs")
        p.add_argument("container")
        p.set_defaults(handler=cmd_logs)
    for parent, name in ((sub, "attach"), (cs, "attach")):
        p = parent.add_parser(name, help="Attach to a running container's input and output")
        p.add_argument("--no-stdin", action="store_true", help="Do not attach STDIN")
        p.add_argument(
            "--detach-keys",
            default="ctrl-p,ctrl-q",
            help="Override the key sequence for detaching a container",
        )
        p.add_argument("container")
        p.set_defaults(handler=cmd_attach)
    for parent, name in ((sub, "exec"), (cs, "exec")):
        p = parent.add_parser(name, help="Execute a command in a running container")
        p.add_argument(
            "-d", "--detach", action="store_true", help="Detached mode: run command in the background"
        )
        p.add_argument(
            "-i", "--interactive", action="store_true", help="Keep STDIN open even if not attached"
        )
        p.add_argument("-t", "--tty", action="store_true", help="Allocate a pseudo-TTY")
        p.add_argument("-e", "--env", action="append", default=[], help="Set environment variables")
        p.add_argument("-w", "--workdir", default="", help="Working directory inside the container")
        p.add_argument("-u", "--user", default="", help="Username or UID (format: <name|uid>[:<group|gid>])")
        p.add_argument("--privileged", action="store_true", help="Give extended privileges to the command")
        p.add_argument("container")
        p.add_argument("command", nargs=flags.REMAINDER)
        p.set_defaults(handler=cmd_exec, docker_exit_codes=True)
    for parent, name in ((sub, "top"), (cs, "top")):
        p = parent.add_parser(name, help="Display the running processes of a container")
        p.add_argument("container")
        p.add_argument("ps_args", nargs=flags.REMAINDER, metavar="ps OPTIONS")
        p.set_defaults(handler=cmd_top)
    for parent, name in ((sub, "diff"), (cs, "diff")):
        p = parent.add_parser(name, help="Inspect changes to files in a container's writable layer")
        p.add_argument("container")
        p.set_defaults(handler=cmd_diff)
    for parent, name in ((sub, "stats"), (cs, "stats")):
        p = parent.add_parser(name, help="Display a live stream of container resource usage")
        p.add_argument(
            "-a", "--all", action="store_true", help="Show all containers (default shows just running)"
        )
        p.add_argument(
            "--no-stream", action="store_true", help="Disable streaming stats and only pull the first result"
        )
        p.add_argument("--no-trunc", action="store_true", help="Do not truncate output")
        p.add_argument("--format", help="Format output: 'table', 'json' or a Go template")
        p.add_argument("containers", nargs="*", metavar="CONTAINER")
        p.set_defaults(handler=cmd_stats)
    for parent, name in ((sub, "port"), (cs, "port")):
        p = parent.add_parser(name, help="List port mappings for the container")
        p.add_argument("container")
        p.add_argument("private_port", nargs="?", metavar="PRIVATE_PORT[/PROTO]")
        p.set_defaults(handler=cmd_port)


def register_files(sub: Table, cs: Table) -> None:
    for parent, name in ((sub, "commit"), (cs, "commit")):
        p = parent.add_parser(name, help="Create a new image from a container's changes")
        p.add_argument("-m", "--message", default="", help="Commit message")
        p.add_argument(
            "-a", "--author", default="", help='Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")'
        )
        p.add_argument(
            "-c",
            "--change",
            action="append",
            default=[],
            help="Apply Dockerfile instruction to the created image",
        )
        p.add_argument(
            "-p", "--pause", action="store_true", default=True, help="Pause container during commit"
        )
        p.add_argument("container")
        p.add_argument("repository", nargs="?", metavar="REPOSITORY[:TAG]")
        p.set_defaults(handler=cmd_commit)
    for parent, name in ((sub, "export"), (cs, "export")):
        p = parent.add_parser(name, help="Export a container's filesystem as a tar archive")
        p.add_argument("-o", "--output", help="Write to a file, instead of STDOUT")
        p.add_argument("container")
        p.set_defaults(handler=cmd_export)
    for parent, name in ((sub, "cp"), (cs, "cp")):
        p = parent.add_parser(name, help="Copy files between a container and the host")
        p.add_argument(
            "-a", "--archive", action="store_true", help="Archive mode (copy all uid/gid information)"
        )
        p.add_argument(
            "-L", "--follow-link", action="store_true", help="Always follow symbol link in SRC_PATH"
        )
        p.add_argument("src", metavar="SRC_PATH")
        p.add_argument("dest", metavar="DEST_PATH")
        p.set_defaults(handler=cmd_cp)


def cmd_commit(a: flags.Namespace) -> int:
    from .cmd_images import parse_changes

    image_id = engine().containers.commit(
        a.container, a.repository, a.message, a.author, parse_changes(a.change)
    )
    print(image_id)
    return 0


def cmd_export(a: flags.Namespace) -> int:
    eng = engine()
    eng.containers.resolve(a.container)
    output.write_archive(a.output, lambda f: eng.containers.export(a.container, f))
    return 0


def _split_cp(arg: str) -> tuple[str | None, str]:
    if arg.startswith(("/", ".")) or ":" not in arg:
        return None, arg
    c, _, p = arg.partition(":")
    return c, p


def cmd_cp(a: flags.Namespace) -> int:
    from engine import InvalidArgument

    sc, sp = _split_cp(a.src)
    dc, dp = _split_cp(a.dest)
    eng = engine()
    if sc and dc:
        raise InvalidArgument("copying between containers is not supported")
    if not sc and not dc:
        raise InvalidArgument("must specify at least one container source")
    if sc:
        eng.containers.copy_from(sc, sp, dp)
    elif dc:
        eng.containers.copy_to(dc, sp, dp)
    return 0


def cmd_inspect(a: flags.Namespace) -> int:
    from engine import NotFound

    eng = engine()

    def get(name: str) -> dict[str, Any]:
        try:
            if a.type != "image":
                try:
                    return eng.containers.inspect(name)
                except NotFound:
                    if a.type == "container":
                        raise
            return eng.images.inspect(name)
        except NotFound:
            raise NotFound(f"No such object: {name}") from None

    return output.inspect_each(a.names, get, a.format)


def cmd_logs(a: flags.Namespace) -> int:
    from engine import InvalidArgument
    from engine.units import parse_time_arg

    tail = None
    if a.tail != "all":
        try:
            tail = int(a.tail)
        except ValueError:
            raise InvalidArgument(f"invalid tail value: {a.tail}") from None
        if tail < 0:
            tail = None
    since = parse_time_arg(a.since) if a.since else None
    until = parse_time_arg(a.until) if a.until else None
    out, err = sys.stdout.buffer, sys.stderr.buffer
    for e in engine().containers.logs(a.container, a.follow, tail, since, until):
        data = e.data
        if a.timestamps:
            data = e.time.encode() + b" " + data
        (out if e.stream == "stdout" else err).write(data)
        if a.follow:
            (out if e.stream == "stdout" else err).flush()
    out.flush()
    return 0


def _detach_keys(spec: str) -> bytes:
    """Docker's ``--detach-keys``: a comma-separated list of single ASCII characters and ``ctrl-<key>``
    (a letter, or one of ``@ [ \\ ] ^ _``); the default ctrl-p,ctrl-q."""
    from engine import InvalidArgument

    keys = b""
    for k in spec.split(","):
        k = k.strip()
        if k.startswith("ctrl-") and len(k) == 6 and (k[5].isascii() and k[5].isalpha() or k[5] in "@[\\]^_"):
            keys += bytes([ord(k[5].upper()) - 64])
        elif len(k) == 1 and k.isascii():
            keys += k.encode()
        elif k:
            raise InvalidArgument(f"Invalid detach keys ({spec}) provided")
    return keys or b"\x10\x11"


def cmd_attach(a: flags.Namespace) -> int:
    from .terminal import relay_session

    eng = engine()
    cfg = eng.containers.config(a.container)
    with eng.containers.attach(a.container) as session:
        code = relay_session(session, cfg.open_stdin and not a.no_stdin, cfg.tty, _detach_keys(a.detach_keys))
    return code or 0


def cmd_exec(a: flags.Namespace) -> int:
    from engine import InvalidArgument

    if not a.command:
        raise InvalidArgument('"exec" requires at least 2 arguments')
    eng = engine()
    if a.detach:
        eng.containers.exec_run(
            a.container,
            a.command,
            env=a.env,
            workdir=a.workdir,
            user=a.user,
            privileged=a.privileged,
            detach=True,
        )
        return 0
    if a.tty:
        from .terminal import relay_pty

        pty = eng.containers.exec_pty(
            a.container, a.command, env=a.env, workdir=a.workdir, user=a.user, privileged=a.privileged
        )
        try:
            return relay_pty(pty.master, pty.wait)
        finally:
            pty.close()
    stdin = sys.stdin.fileno() if a.interactive else None
    proc = eng.containers.exec_run(
        a.container,
        a.command,
        env=a.env,
        workdir=a.workdir,
        user=a.user,
        privileged=a.privileged,
        stdin=stdin,
        stdout=sys.stdout.fileno(),
        stderr=sys.stderr.fileno(),
    )
    return proc.wait()


def cmd_top(a: flags.Namespace) -> int:
    top = engine().containers.top(a.container, " ".join(a.ps_args))
    output.table(top.titles, top.processes, minwidth=20)  # Docker's tabwriter for top: at least 20 wide
    return 0


def cmd_diff(a: flags.Namespace) -> int:
    for kind, path in engine().containers.diff(a.container):
        print(f"{kind} {path}")
    return 0


def cmd_stats(a: flags.Namespace) -> int:
    from engine import STATS_COLUMNS

    eng = engine()
    columns = ["ID", "Name", "CPUPerc", "MemUsage", "MemPerc", "NetIO", "BlockIO", "PIDs"]
    for recs in eng.containers.stats(list(a.containers) or None, interval=1.0, first=0.5):
        rows = []
        for r in recs:
            rows.append(dict(zip(columns, r.display(), strict=True)))
            if a.no_trunc:
                rows[-1]["ID"] = r.id
        if not a.no_stream and sys.stdout.isatty():
            sys.stdout.write("\x1b[2J\x1b[H")
        output.emit(a.format, list(STATS_COLUMNS), columns, rows)
        sys.stdout.flush()
        if a.no_stream:
            break
    return 0


def cmd_port(a: flags.Namespace) -> int:
    c = engine().containers.get(a.container)
    for p in c.ports:
        key = f"{p['container_port']}/{p.get('protocol', 'tcp')}"
        if a.private_port and a.private_port not in (key, str(p["container_port"])):
            continue
        if p.get("host_port"):
            print(f"{key} -> {p.get('host_ip') or '0.0.0.0'}:{p['host_port']}")
    return 0
