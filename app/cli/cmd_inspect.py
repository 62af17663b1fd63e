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
    p.add_argument(
        "-s", "--size", action="store_true", help="Display total file sizes if the type is container"
    )
    p.add_argument("names", nargs="+", metavar="NAME|ID")
    p.set_defaults(handler=cmd_inspect)
    p = cs.add_parser("inspect", help="Display detailed information on one or more containers")
    p.add_argument("-f", "--format", help=_FORMAT)
    p.add_argument("-s", "--size", action="store_true", help="Display total file sizes")
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
            "--sig-proxy", action="store_true", default=True, help="Proxy all received signals to the process"
        )
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
        p.add_argument(
            "--env-file", action="append", default=[], help="Read in a file of environment variables"
        )
        p.add_argument("--detach-keys", help="Override the key sequence for detaching a container")
        p.add_argument("container")
        p.add_argument("command", nargs=flags.REMAINDER)
        p.set_defaults(handler=cmd_exec)
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
        p.add_argument(
            "-q",
            "--quiet",
            action="store_true",
            help="Suppress progress output during copy. Progress output is automatically suppressed if no "
            "terminal is attached",
        )
        p.add_argument("src", metavar="SRC_PATH")
        p.add_argument("dest", metavar="DEST_PATH")
        p.set_defaults(handler=cmd_cp)


def cmd_commit(a: flags.Namespace) -> int:
    from .cmd_images import parse_changes

    image_id = engine().containers.commit(
        a.container, a.repository, a.message, a.author, parse_changes(a.change), pause=a.pause
    )
    print(image_id)
    return 0


def cmd_export(a: flags.Namespace) -> int:
    eng = engine()
    eng.containers.resolve(a.container)
    output.write_archive(a.output, lambda f: eng.containers.export(a.container, f))
    return 0


def _split_cp(arg: str) -> tuple[str | None, str]:
    """Docker's reading of a ``cp`` argument: ``CONTAINER:PATH``, unless it is an absolute path or a relative
    one that says so (``./file:name``)."""
    if arg.startswith("/"):
        return None, arg
    c, sep, p = arg.partition(":")
    if not sep or c.startswith("."):
        return None, arg
    return c, p


def _local_path(path: str) -> str:
    """An absolute path that keeps a trailing ``/`` or ``/.`` (they mean something to ``cp``)."""
    import os

    absolute = os.path.abspath(path)
    if path.endswith(("/.", "/")) and absolute != "/":
        absolute += "/." if path.endswith("/.") else "/"
    return absolute


def _content_size(path: str) -> int:
    """The bytes of the regular files at ``path`` (a file, or a tree walked without following links)."""
    import os
    import stat

    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode):
        return st.st_size if stat.S_ISREG(st.st_mode) else 0
    total = 0
    for top, _, files in os.walk(path):
        for name in files:
            st = os.lstat(os.path.join(top, name))
            if stat.S_ISREG(st.st_mode):
                total += st.st_size
    return total


def cmd_cp(a: flags.Namespace) -> int:
    from engine import InvalidArgument
    from engine.humanize import format_bytes_decimal

    if a.src == "":
        raise InvalidArgument("source can not be empty")
    if a.dest == "":
        raise InvalidArgument("destination can not be empty")
    sc, sp = _split_cp(a.src)
    dc, dp = _split_cp(a.dest)
    if sc and dc:
        raise InvalidArgument("copying between containers is not supported")
    if not sc and not dc:
        raise InvalidArgument("must specify at least one container source")
    # Docker's summary on stderr, unless -q or standard output is no terminal
    quiet = a.quiet or not sys.stdout.isatty()
    eng = engine()
    if sc:
        if dp == "-":
            eng.containers.get_archive(sc, sp, sys.stdout.buffer, follow_link=a.follow_link)
            return 0
        import os

        dest = _local_path(dp)
        parent = os.path.dirname(os.path.normpath(dest))
        if not os.path.isdir(parent):
            raise InvalidArgument(f'invalid output path: directory "{parent}" does not exist')
        size, sent = eng.containers.copy_from(sc, sp, dest, follow_link=a.follow_link)
        where = dest
    else:
        assert dc is not None
        if sp == "-":
            sent = eng.containers.put_archive(dc, dp, sys.stdin.buffer, archive=a.archive)
            size = sent
        else:
            src = _local_path(sp)
            sent = eng.containers.copy_to(dc, src, dp, archive=a.archive, follow_link=a.follow_link)
            size = _content_size(src)
        where = f"{dc}:{dp}"
    if not quiet:
        moved = format_bytes_decimal(size)
        if size != sent:
            moved += f" (transferred {format_bytes_decimal(sent)})"
        sys.stderr.write(f"Successfully copied {moved} to {where}\n")
    return 0


def cmd_inspect(a: flags.Namespace) -> int:
    from engine import NotFound

    eng = engine()

    def get(name: str) -> dict[str, Any]:
        try:
            if a.type != "image":
                try:
                    return eng.containers.inspect(name, size=a.size)
                except NotFound:
                    if a.type == "container":
                        raise
            return eng.images.inspect(name)
        except NotFound:
            raise NotFound(f"No such object: {name}") from None

    return output.inspect_each(a.names, get, a.format)


def cmd_logs(a: flags.Namespace) -> int:
    from engine.units import parse_time_arg

    tail = None
    if a.tail != "all":
        try:
            tail = int(a.tail)
        except ValueError:
            tail = None  # Docker's daemon shows the whole log for a --tail it cannot read
        if tail is not None and tail < 0:
            tail = None
    since = parse_time_arg(a.since) if a.since else None
    until = parse_time_arg(a.until) if a.until else None
    out, err = sys.stdout.buffer, sys.stderr.buffer
    for e in engine().containers.logs(a.container, a.follow, tail, since, until):
        data = e.data
        if a.details:  # the log's extra attributes (none are kept: --log-opt labels/env are refused)
            data = b" " + data
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


# The signals ``attach`` passes on to the container (Docker's: all it can catch but those of its own terminal
# and children): HUP INT QUIT USR1 USR2 ALRM TERM.
_PROXIED = (1, 2, 3, 10, 12, 14, 15)


def cmd_attach(a: flags.Namespace) -> int:
    from .terminal import relay_session

    eng = engine()
    cfg = eng.containers.config(a.container)
    with eng.containers.attach(a.container) as session:
        restore = _proxy_signals(a.container) if a.sig_proxy and not cfg.tty else {}
        try:
            code = relay_session(
                session, cfg.open_stdin and not a.no_stdin, cfg.tty, _detach_keys(a.detach_keys)
            )
        finally:
            import signal

            for sig, handler in restore.items():
                signal.signal(sig, handler)
    return code or 0


def _proxy_signals(ref: str) -> dict[int, Any]:
    """``--sig-proxy`` (the default without a terminal): the signals this command receives are sent to the
    container instead. Returns the handlers they replaced."""
    import signal

    from engine import DockyardError

    def forward(signum: int, _frame: object) -> None:
        try:
            engine().containers.kill(ref, str(signum))
        except DockyardError:
            pass  # it stopped meanwhile: its end ends the session

    return {sig: signal.signal(sig, forward) for sig in _PROXIED}


def cmd_exec(a: flags.Namespace) -> int:
    """Docker's exit statuses: the command's own, 126 when it cannot be run, 127 when it is not found, and
    1 for any other error (``exec`` does not use ``run``'s 125)."""
    from engine import CommandNotFound, CommandNotInvokable, InvalidArgument

    from .envfiles import env_values, read_env_files

    if not a.command:
        raise InvalidArgument('"exec" requires at least 2 arguments')
    env = read_env_files(a.env_file) + env_values(a.env)
    keys = _detach_keys(a.detach_keys) if a.detach_keys else None
    eng = engine()
    eng.containers.resolve(a.container)  # "No such container" comes first, as in Docker
    if a.tty and a.interactive and not a.detach and not sys.stdin.isatty():
        raise InvalidArgument("the input device is not a TTY")
    opts: dict[str, Any] = {"env": env, "workdir": a.workdir, "user": a.user, "privileged": a.privileged}
    try:
        if a.detach:
            eng.containers.exec_run(a.container, a.command, detach=True, **opts)
            return 0
        if a.tty:
            return _exec_tty(a, opts, keys)
        proc = eng.containers.exec_run(
            a.container,
            a.command,
            stdin=sys.stdin.fileno() if a.interactive else None,
            stdout=sys.stdout.fileno(),
            stderr=sys.stderr.fileno(),
            **opts,
        )
        return proc.wait()  # over -H, what could not start is known here
    except (CommandNotFound, CommandNotInvokable) as e:
        sys.stderr.write(f"Error: {e}\n")
        return e.exit_code


def _exec_tty(a: flags.Namespace, opts: dict[str, Any], keys: bytes | None) -> int:
    """``exec -t``: the command on a new terminal relayed to ours; the detach keys (with -i) leave it
    running."""
    from .terminal import relay_pty, window_size

    rows, cols = window_size(sys.stdout.fileno())
    pty = engine().containers.exec_pty(a.container, a.command, rows=rows, cols=cols, **opts)
    try:
        code = relay_pty(pty.master, pty.wait, stdin=a.interactive, detach_keys=keys or b"\x10\x11")
        if code is None:
            pty.release()
            return 0
        return code
    finally:
        pty.close()


def cmd_top(a: flags.Namespace) -> int:
    top = engine().containers.top(a.container, " ".join(a.ps_args))
    output.table(top.titles, top.processes, minwidth=20)  # Docker's tabwriter for top: at least 20 wide
    return 0


def cmd_diff(a: flags.Namespace) -> int:
    for kind, path in engine().containers.diff(a.container):
        print(f"{kind} {path}")
    return 0


_STATS_FIELDS = ("ID", "Name", "CPUPerc", "MemUsage", "MemPerc", "NetIO", "BlockIO", "PIDs")


def cmd_stats(a: flags.Namespace) -> int:
    """Docker's ``stats``: the running containers (all with ``-a``; those named, running or not), every
    second until interrupted, or once with ``--no-stream``. A template sees Container (the name as given,
    else the short ID), Name, ID, CPUPerc, MemUsage, MemPerc, NetIO, BlockIO and PIDs."""
    from engine import STATS_COLUMNS, DockyardError, StatsRecord

    eng = engine()
    named: dict[str, str] = {}  # as given -> ID
    errors = []
    for ref in a.containers:
        try:
            named.setdefault(ref, eng.containers.resolve(ref))
        except DockyardError as e:
            errors.append(str(e))
    if errors:
        raise DockyardError("\n".join(errors))
    names = {c.id: c.name for c in eng.containers.list(all=True)} if named else {}
    table = not a.format or a.format == "table"
    headers = list(STATS_COLUMNS) if table else [*STATS_COLUMNS, "CONTAINER"]
    fields = list(_STATS_FIELDS) if table else [*_STATS_FIELDS, "Container"]
    for recs in eng.containers.stats(list(named) or None, interval=1.0, first=0.5):
        live = {r.id: r for r in recs}
        shown: list[tuple[str, StatsRecord]] = []
        if named:
            for ref, cid in named.items():
                shown.append((ref, live.get(cid) or StatsRecord.idle(cid, names.get(cid, ""))))
        elif a.all:
            for c in eng.containers.list(all=True):
                shown.append((c.id[:12], live.get(c.id) or StatsRecord.idle(c.id, c.name)))
        else:
            shown = [(r.id[:12], r) for r in recs]
        rows = []
        for container, r in shown:
            row = dict(zip(_STATS_FIELDS, r.display(), strict=True))
            row["Name"] = row["Name"] or "--"
            if a.no_trunc:
                row["ID"] = r.id
            row["Container"] = container
            rows.append(dict(sorted(row.items())))  # Docker's JSON has its keys in order
        if not a.no_stream and sys.stdout.isatty():
            sys.stdout.write("\x1b[2J\x1b[H")
        output.emit(None if table else a.format, headers, fields, rows)
        sys.stdout.flush()
        if a.no_stream:
            break
    return 0


def cmd_port(a: flags.Namespace) -> int:
    """Docker's ``port``: every published port as ``80/tcp -> 0.0.0.0:8080``, or the host addresses of one
    (``port CTR 80/tcp``); a container publishes nothing while it is not running."""
    from engine import InvalidArgument

    c = engine().containers.get(a.container)
    published = c.ports if c.status in ("running", "paused", "restarting") else []

    def host(p: dict[str, Any]) -> str:
        ip = p.get("host_ip") or "0.0.0.0"
        return f"[{ip}]:{p['host_port']}" if ":" in ip else f"{ip}:{p['host_port']}"

    out = []
    if a.private_port:
        port, _, proto = a.private_port.partition("/")
        if not (port.isascii() and port.isdigit() and int(port) < 65536):
            why = "value out of range" if port.isascii() and port.isdigit() else "invalid syntax"
            raise InvalidArgument(f'invalid port ({port}): strconv.ParseUint: parsing "{port}": {why}')
        key = f"{int(port)}/{proto or 'tcp'}"
        out = [host(p) for p in published if p.get("host_port") and _port_key(p) == key]
        if not out:
            raise InvalidArgument(f"No public port '{a.private_port}' published for {a.container}")
    else:
        out = [f"{_port_key(p)} -> {host(p)}" for p in published if p.get("host_port")]
    import re

    def natural(s: str) -> list[Any]:  # Docker sorts these as a person would: 80 before 443
        return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)]

    for line in sorted(out, key=natural):
        print(line)
    return 0


def _port_key(p: dict[str, Any]) -> str:
    return f"{p['container_port']}/{p.get('protocol', 'tcp')}"
