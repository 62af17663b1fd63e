"""Container lifecycle commands: create, run, start, stop, kill, restart, pause, unpause, rename, rm, wait,
ps, container prune."""

from __future__ import annotations

import argparse
import os
import sys

from . import output
from .commands import engine

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _multi(parent: argparse._SubParsersAction, names: list[str], help: str) -> list[argparse.ArgumentParser]:  # type: ignore[type-arg]
    return [parent.add_parser(n, help=help) for n in names]


def add_create_flags(p: argparse.ArgumentParser) -> None:
    a = p.add_argument
    a("-d", "--detach", action="store_true", help="run in the background and print the container ID")
    a("-i", "--interactive", action="store_true", help="keep STDIN open")
    a("-t", "--tty", action="store_true", help="allocate a pseudo-TTY")
    a("--rm", action="store_true", help="remove the container when it exits")
    a("--name")
    a("-e", "--env", action="append", default=[])
    a("--env-file", action="append", default=[])
    a("-w", "--workdir", default="")
    a("-u", "--user", default="")
    a("--entrypoint")
    a("-h", "--hostname", default="")
    a("-v", "--volume", action="append", default=[])
    a("--tmpfs", action="append", default=[])
    a("--read-only", action="store_true")
    a("-m", "--memory")
    a("--memory-swap")
    a("--cpus", type=float)
    a("-c", "--cpu-shares", type=int)
    a("--pids-limit", type=int)
    a("--restart", default="no")
    a("--stop-signal", default="")
    a("--stop-timeout", type=int)
    a("-l", "--label", action="append", default=[])
    a("--network", "--net", default=None)
    a("--ip", default="")
    a("--network-alias", action="append", default=[])
    a("-p", "--publish", action="append", default=[])
    a("-P", "--publish-all", action="store_true")
    a("--add-host", action="append", default=[])
    a("--dns", action="append", default=[])
    a("--cap-add", action="append", default=[])
    a("--cap-drop", action="append", default=[])
    a("--privileged", action="store_true")
    a("--health-cmd")
    a("--health-interval")
    a("--health-timeout")
    a("--health-retries", type=int)
    a("--no-healthcheck", action="store_true")
    a("--replicas", type=int, default=0, help="start N containers from the image, named NAME-1..NAME-N")
    a("image")
    a("command", nargs=argparse.REMAINDER)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    group = sub.add_parser("container", help="Manage containers")
    cs = group.add_subparsers(dest="container_command", metavar="COMMAND")

    for parent, name in ((sub, "create"), (cs, "create")):
        p = parent.add_parser(name, help="Create a new container", add_help=False)
        p.add_argument("--help", action="help")
        add_create_flags(p)
        p.set_defaults(handler=cmd_create, docker_exit_codes=True)
    for parent, name in ((sub, "run"), (cs, "run")):
        p = parent.add_parser(name, help="Create and run a new container from an image", add_help=False)
        p.add_argument("--help", action="help")
        add_create_flags(p)
        p.set_defaults(handler=cmd_run, docker_exit_codes=True)

    for parent, name in ((sub, "start"), (cs, "start")):
        p = parent.add_parser(name, help="Start one or more stopped containers")
        p.add_argument("-a", "--attach", action="store_true")
        p.add_argument("-i", "--interactive", action="store_true")
        p.add_argument("containers", nargs="+")
        p.set_defaults(handler=cmd_start)
    for parent, name in ((sub, "stop"), (cs, "stop")):
        p = parent.add_parser(name, help="Stop one or more running containers")
        p.add_argument("-t", "--time", "--timeout", dest="time", type=int)
        p.add_argument("-s", "--signal")
        p.add_argument("containers", nargs="+")
        p.set_defaults(handler=cmd_stop)
    for parent, name in ((sub, "restart"), (cs, "restart")):
        p = parent.add_parser(name, help="Restart one or more containers")
        p.add_argument("-t", "--time", "--timeout", dest="time", type=int)
        p.add_argument("containers", nargs="+")
        p.set_defaults(handler=cmd_restart)
    for parent, name in ((sub, "kill"), (cs, "kill")):
        p = parent.add_parser(name, help="Kill one or more running containers")
        p.add_argument("-s", "--signal", default="KILL")
        p.add_argument("containers", nargs="+")
        p.set_defaults(handler=cmd_kill)
    for parent, name in ((sub, "pause"), (cs, "pause")):
        p = parent.add_parser(name, help="Pause all processes within one or more containers")
        p.add_argument("containers", nargs="+")
        p.set_defaults(handler=cmd_pause)
    for parent, name in ((sub, "unpause"), (cs, "unpause")):
        p = parent.add_parser(name, help="Unpause all processes within one or more containers")
        p.add_argument("containers", nargs="+")
        p.set_defaults(handler=cmd_unpause)
    for parent, name in ((sub, "rename"), (cs, "rename")):
        p = parent.add_parser(name, help="Rename a container")
        p.add_argument("container")
        p.add_argument("new_name")
        p.set_defaults(handler=cmd_rename)
    for parent, name in ((sub, "rm"), (cs, "rm"), (cs, "remove")):
        p = parent.add_parser(name, help="Remove one or more containers")
        p.add_argument("-f", "--force", action="store_true")
        p.add_argument("-v", "--volumes", action="store_true")
        p.add_argument("containers", nargs="+")
        p.set_defaults(handler=cmd_rm)
    for parent, name in ((sub, "wait"), (cs, "wait")):
        p = parent.add_parser(name, help="Block until containers stop, then print their exit codes")
        p.add_argument("containers", nargs="+")
        p.set_defaults(handler=cmd_wait)
    for parent, name in ((sub, "ps"), (cs, "ls"), (cs, "list"), (cs, "ps")):
        p = parent.add_parser(name, help="List containers")
        p.add_argument("-a", "--all", action="store_true")
        p.add_argument("-q", "--quiet", action="store_true")
        p.add_argument("-n", "--last", type=int, default=-1)
        p.add_argument("-l", "--latest", action="store_true")
        p.add_argument("-s", "--size", action="store_true")
        p.add_argument("--no-trunc", action="store_true")
        p.add_argument("-f", "--filter", action="append", default=[])
        p.add_argument("--format")
        p.set_defaults(handler=cmd_ps)
    p = cs.add_parser("prune", help="Remove all stopped containers")
    p.add_argument("-f", "--force", action="store_true")
    p.set_defaults(handler=cmd_container_prune)
    from . import cmd_inspect

    cmd_inspect.register(sub, cs)


def _read_env_files(paths: list[str]) -> list[str]:
    from engine import InvalidArgument

    out = []
    for path in paths:
        try:
            with open(path) as f:
                lines = f.read().splitlines()
        except OSError as e:
            raise InvalidArgument(f"open {path}: {(e.strerror or str(e)).lower()}") from None
        for line in lines:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if "=" not in line:
                line = f"{line}={os.environ.get(line, '')}" if line in os.environ else ""
                if not line:
                    continue
            out.append(line)
    return out


def _env(values: list[str]) -> list[str]:
    out = []
    for v in values:
        if "=" not in v:
            if v in os.environ:
                out.append(f"{v}={os.environ[v]}")
            continue
        out.append(v)
    return out


def build_options(a: argparse.Namespace) -> Any:
    from engine.containers import CreateOptions
    from engine.units import parse_bytes, parse_duration

    entrypoint = None
    if a.entrypoint is not None:
        entrypoint = [a.entrypoint] if a.entrypoint else []
    memory = parse_bytes(a.memory) if a.memory else None
    swap = None
    if a.memory_swap:
        swap = -1 if a.memory_swap == "-1" else parse_bytes(a.memory_swap)
    labels = {}
    for lab in a.label:
        k, _, v = lab.partition("=")
        labels[k] = v
    health = None
    if a.no_healthcheck:
        health = {"Test": ["NONE"]}
    elif a.health_cmd:
        health = {"Test": ["CMD-SHELL", a.health_cmd]}
        if a.health_interval:
            health["Interval"] = int(parse_duration(a.health_interval) * 1e9)
        if a.health_timeout:
            health["Timeout"] = int(parse_duration(a.health_timeout) * 1e9)
        if a.health_retries:
            health["Retries"] = a.health_retries
    network = a.network
    if network is None:
        from engine.net.defaults import default_network

        network = default_network()  # $DOCKYARD_DEFAULT_NETWORK, else the root's setting
        if network == "none" and (a.publish or a.publish_all):
            network = "bridge"
    return CreateOptions(
        command=list(a.command) or None,
        entrypoint=entrypoint,
        name=a.name,
        env=_read_env_files(a.env_file) + _env(a.env),
        working_dir=a.workdir,
        user=a.user,
        hostname=a.hostname,
        tty=a.tty,
        console_size=_console_size() if a.tty else (0, 0),
        stdin_open=a.interactive,
        auto_remove=a.rm,
        labels=labels,
        stop_signal=a.stop_signal,
        stop_timeout=a.stop_timeout,
        restart=a.restart,
        network=network,
        volumes=a.volume,
        tmpfs=a.tmpfs,
        read_only=a.read_only,
        memory=memory,
        memory_swap=swap,
        cpus=a.cpus,
        cpu_shares=a.cpu_shares,
        pids_limit=a.pids_limit,
        cap_add=a.cap_add,
        cap_drop=a.cap_drop,
        privileged=a.privileged,
        ports=a.publish,
        publish_all=a.publish_all,
        ip=a.ip,
        aliases=a.network_alias,
        extra_hosts=a.add_host,
        dns=a.dns,
        healthcheck=health,
    )


def _console_size() -> tuple[int, int]:
    """Rows and columns of the terminal on stdin (or stdout), so that ``-t`` starts at that size."""
    for fd in (0, 1):
        try:
            size = os.get_terminal_size(fd)
            return size.lines, size.columns
        except OSError:
            continue
    return 0, 0


def _image_or_error(eng: Any, image: str) -> None:
    from engine import ImageNotFound

    try:
        eng.images.resolve(image)
    except ImageNotFound:
        from engine.store import reference

        try:
            shown = reference.parse(image).tagged
        except Exception:
            shown = image
        sys.stderr.write(f"Unable to find image '{shown}' locally\n")
        raise


def cmd_create(a: argparse.Namespace) -> int:
    eng = engine()
    opts = build_options(a)
    _image_or_error(eng, a.image)
    c = eng.containers.create(a.image, opts)
    print(c.id)
    return 0


def cmd_run(a: argparse.Namespace) -> int:
    from engine.runtime.attach import AttachSession

    eng = engine()
    if a.replicas:
        opts = build_options(a)
        if a.replicas < 0:
            from engine import InvalidArgument

            raise InvalidArgument(f"invalid replicas value {a.replicas}: it must be at least 1")
        return _run_replicas(eng, a, opts)
    session, fd = (None, None) if a.detach else AttachSession.pair()
    supervisor = eng.containers.supervisor(fd)  # gets ready while the options are read and checked
    try:
        try:
            opts = build_options(a)
            _image_or_error(eng, a.image)
            c = eng.containers.run(a.image, opts, attach_fd=fd, supervisor=supervisor)
        except BaseException:
            supervisor.cancel()
            raise
        finally:
            if fd is not None:
                os.close(fd)
        if a.detach:
            print(c.id)
            return 0
        from .terminal import relay_session

        code = relay_session(session, a.interactive, a.tty)
    finally:
        if session is not None:
            session.close()
    if code is None:
        if not a.tty:
            try:
                return eng.containers.wait(c.id)
            except Exception:
                return 0
        return 0
    return code


def _run_replicas(eng: Any, a: argparse.Namespace, opts: Any) -> int:
    """``run --replicas N``: N detached containers from one image, sharing its layers."""
    _image_or_error(eng, a.image)
    for c in eng.containers.run_replicas(a.image, a.replicas, opts):
        print(c.id)
    return 0


def _each(a: argparse.Namespace, fn: Any) -> int:
    def do(ref: str) -> None:
        fn(ref)
        print(ref)

    return output.for_each(a.containers, do)


def cmd_start(a: argparse.Namespace) -> int:
    eng = engine()
    if a.attach or a.interactive:
        from engine.runtime.attach import AttachSession

        from .terminal import relay_session

        ref = a.containers[0]
        cfg = eng.containers.config(ref)
        session, fd = AttachSession.pair()
        try:
            try:
                started = eng.containers.start(ref, attach_fd=fd)
            finally:
                os.close(fd)
            if not started:
                session.close()
                session = eng.containers.attach(ref)
            code = relay_session(session, a.interactive and cfg.open_stdin, cfg.tty)
        finally:
            session.close()
        return code or 0
    return _each(a, lambda r: eng.containers.start(r))


def cmd_stop(a: argparse.Namespace) -> int:
    eng = engine()
    return _each(a, lambda r: eng.containers.stop(r, a.time, a.signal))


def cmd_restart(a: argparse.Namespace) -> int:
    eng = engine()
    return _each(a, lambda r: eng.containers.restart(r, a.time))


def cmd_kill(a: argparse.Namespace) -> int:
    eng = engine()
    return _each(a, lambda r: eng.containers.kill(r, a.signal))


def cmd_pause(a: argparse.Namespace) -> int:
    eng = engine()
    return _each(a, lambda r: eng.containers.pause(r))


def cmd_unpause(a: argparse.Namespace) -> int:
    eng = engine()
    return _each(a, lambda r: eng.containers.unpause(r))


def cmd_rename(a: argparse.Namespace) -> int:
    engine().containers.rename(a.container, a.new_name)
    return 0


def cmd_rm(a: argparse.Namespace) -> int:
    eng = engine()
    return _each(a, lambda r: eng.containers.remove(r, force=a.force, volumes=a.volumes))


def cmd_wait(a: argparse.Namespace) -> int:
    eng = engine()
    return output.for_each(a.containers, lambda ref: print(eng.containers.wait(ref), flush=True))


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


def container_rows(containers: list[Any], no_trunc: bool = False) -> list[dict[str, Any]]:
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
                "Networks": ",".join(c.networks) or "",
            }
        )
    return rows


def cmd_ps(a: argparse.Namespace) -> int:
    from engine import InvalidArgument

    filters: dict[str, list[str]] = {}
    for f in a.filter:
        k, sep, v = f.partition("=")
        if not sep:
            raise InvalidArgument(f"bad format of filter (expected name=value): {f}")
        filters.setdefault(k, []).append(v)
    show_all = a.all or a.last > 0 or a.latest or bool(filters.get("status")) or bool(filters.get("exited"))
    cs = engine().containers.list(all=show_all, filters=filters)
    if a.latest:
        cs = cs[:1]
    elif a.last > 0:
        cs = cs[: a.last]
    rows = container_rows(cs, a.no_trunc)
    if a.quiet:
        for r in rows:
            print(r["ID"])
        return 0
    output.emit(
        a.format,
        ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"],
        ["ID", "Image", "Command", "RunningFor", "Status", "Ports", "Names"],
        rows,
    )
    return 0


def cmd_container_prune(a: argparse.Namespace) -> int:
    from engine.humanize import human_size

    if not output.confirmed(a.force, "This will remove all stopped containers."):
        return 0
    r = engine().containers.prune()
    if r.deleted:
        print("Deleted Containers:")
        print("\n".join(r.deleted) + "\n")
    print(f"Total reclaimed space: {human_size(r.reclaimed)}")
    return 0
