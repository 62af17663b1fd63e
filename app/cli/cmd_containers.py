"""Container lifecycle commands: create, run, start, stop, kill, restart, pause, unpause, rename, rm, wait
(ps and container prune: cmd_ps)."""

from __future__ import annotations

import os
import sys

from . import flags, output
from .commands import engine

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from engine import CreateOptions, Engine


_TIME = "Seconds to wait before killing the container"


def add_create_flags(p: flags.Parser) -> None:
    a = p.add_argument
    a("-d", "--detach", action="store_true", help="Run container in background and print container ID")
    a("-i", "--interactive", action="store_true", help="Keep STDIN open even if not attached")
    a("-t", "--tty", action="store_true", help="Allocate a pseudo-TTY")
    a("--rm", action="store_true", help="Automatically remove the container when it exits")
    a("--name", help="Assign a name to the container")
    a("-e", "--env", action="append", default=[], help="Set environment variables")
    a("--env-file", action="append", default=[], help="Read in a file of environment variables")
    a("-w", "--workdir", default="", help="Working directory inside the container")
    a("-u", "--user", default="", help="Username or UID (format: <name|uid>[:<group|gid>])")
    a("--entrypoint", help="Overwrite the default ENTRYPOINT of the image")
    a("-h", "--hostname", default="", help="Container host name")
    a("-v", "--volume", action="append", default=[], help="Bind mount a volume")
    a("--tmpfs", action="append", default=[], help="Mount a tmpfs directory")
    a("--read-only", action="store_true", help="Mount the container's root filesystem as read only")
    a("-m", "--memory", metavar="bytes", help="Memory limit")
    a(
        "--memory-swap",
        metavar="bytes",
        help="Swap limit equal to memory plus swap: '-1' to enable unlimited swap",
    )
    a("--cpus", type=float, metavar="decimal", help="Number of CPUs")
    a("-c", "--cpu-shares", type=int, help="CPU shares (relative weight)")
    a("--pids-limit", type=int, help="Tune container pids limit (set -1 for unlimited)")
    a("--restart", default="no", help="Restart policy to apply when a container exits")
    a("--stop-signal", default="", help="Signal to stop the container")
    a("--stop-timeout", type=int, help="Timeout (in seconds) to stop a container")
    a("-l", "--label", action="append", default=[], help="Set meta data on a container")
    a("--network", "--net", default=None, help="Connect a container to a network")
    a("--ip", default="", help="IPv4 address (e.g., 172.30.100.104)")
    a("--network-alias", action="append", default=[], help="Add network-scoped alias for the container")
    a("-p", "--publish", action="append", default=[], help="Publish a container's port(s) to the host")
    a("-P", "--publish-all", action="store_true", help="Publish all exposed ports to random ports")
    a("--add-host", action="append", default=[], help="Add a custom host-to-IP mapping (host:ip)")
    a("--dns", action="append", default=[], help="Set custom DNS servers")
    a("--cap-add", action="append", default=[], help="Add Linux capabilities")
    a("--cap-drop", action="append", default=[], help="Drop Linux capabilities")
    a("--privileged", action="store_true", help="Give extended privileges to this container")
    a("--health-cmd", help="Command to run to check health")
    a("--health-interval", metavar="duration", help="Time between running the check (ms|s|m|h)")
    a("--health-timeout", metavar="duration", help="Maximum time to allow one check to run (ms|s|m|h)")
    a("--health-retries", type=int, help="Consecutive failures needed to report unhealthy")
    a("--no-healthcheck", action="store_true", help="Disable any container-specified HEALTHCHECK")
    a("--log-driver", default="", help="Logging driver for the container (json-file, none)")
    a("--log-opt", action="append", default=[], help="Log driver options (max-size, max-file, compress)")
    a("--replicas", type=int, default=0, help="Start N containers from the image, named NAME-1..NAME-N")
    a("image")
    a("command", nargs=flags.REMAINDER)


def register(sub: flags.Commands) -> None:
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
        p.add_argument("-a", "--attach", action="store_true", help="Attach STDOUT/STDERR and forward signals")
        p.add_argument("-i", "--interactive", action="store_true", help="Attach container's STDIN")
        p.add_argument("containers", nargs="+", metavar="CONTAINER")
        p.set_defaults(handler=cmd_start)
    for parent, name in ((sub, "stop"), (cs, "stop")):
        p = parent.add_parser(name, help="Stop one or more running containers")
        p.add_argument("-t", "--time", "--timeout", dest="time", type=int, help=_TIME)
        p.add_argument("-s", "--signal", help="Signal to send to the container")
        p.add_argument("containers", nargs="+", metavar="CONTAINER")
        p.set_defaults(handler=cmd_stop)
    for parent, name in ((sub, "restart"), (cs, "restart")):
        p = parent.add_parser(name, help="Restart one or more containers")
        p.add_argument("-t", "--time", "--timeout", dest="time", type=int, help=_TIME)
        p.add_argument("containers", nargs="+", metavar="CONTAINER")
        p.set_defaults(handler=cmd_restart)
    for parent, name in ((sub, "kill"), (cs, "kill")):
        p = parent.add_parser(name, help="Kill one or more running containers")
        p.add_argument("-s", "--signal", default="KILL", help="Signal to send to the container")
        p.add_argument("containers", nargs="+", metavar="CONTAINER")
        p.set_defaults(handler=cmd_kill)
    for parent, name in ((sub, "pause"), (cs, "pause")):
        p = parent.add_parser(name, help="Pause all processes within one or more containers")
        p.add_argument("containers", nargs="+", metavar="CONTAINER")
        p.set_defaults(handler=cmd_pause)
    for parent, name in ((sub, "unpause"), (cs, "unpause")):
        p = parent.add_parser(name, help="Unpause all processes within one or more containers")
        p.add_argument("containers", nargs="+", metavar="CONTAINER")
        p.set_defaults(handler=cmd_unpause)
    for parent, name in ((sub, "rename"), (cs, "rename")):
        p = parent.add_parser(name, help="Rename a container")
        p.add_argument("container")
        p.add_argument("new_name")
        p.set_defaults(handler=cmd_rename)
    for parent, name in ((sub, "rm"), (cs, "rm"), (cs, "remove")):
        p = parent.add_parser(name, help="Remove one or more containers")
        p.add_argument("-f", "--force", action="store_true", help="Force the removal of a running container")
        p.add_argument(
            "-v", "--volumes", action="store_true", help="Remove volumes associated with the container"
        )
        p.add_argument("containers", nargs="+", metavar="CONTAINER")
        p.set_defaults(handler=cmd_rm)
    for parent, name in ((sub, "wait"), (cs, "wait")):
        p = parent.add_parser(name, help="Block until containers stop, then print their exit codes")
        p.add_argument("containers", nargs="+", metavar="CONTAINER")
        p.set_defaults(handler=cmd_wait)
    if isinstance(group, flags.Parser):  # ``dockyard container ...``: more in cmd_ps and cmd_inspect
        from . import cmd_inspect, cmd_ps
        from .commands import Null

        cmd_ps.register_group(cs)
        cmd_inspect.register(Null(), cs)


def _read_env_files(paths: list[str]) -> list[str]:
    from engine import InvalidArgument

    out = []
    for path in paths:
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            raise InvalidArgument(f"open {path}: {(e.strerror or str(e)).lower()}") from None
        lines = []
        for n, raw in enumerate(data.splitlines(), 1):
            try:
                lines.append(raw.decode("utf-8"))
            except UnicodeDecodeError:
                raise InvalidArgument(f"env file {path} contains invalid utf8 bytes at line {n}") from None
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


def build_options(a: flags.Namespace, eng: Engine) -> CreateOptions:
    from engine import CreateOptions
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
    health: dict[str, Any] | None = None
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
        network = eng.default_network()  # $DOCKYARD_DEFAULT_NETWORK, else the root's setting
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
        log_driver=a.log_driver,
        log_opts={k: v for k, _, v in (o.partition("=") for o in a.log_opt)},
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


def _image_or_error(eng: Engine, image: str) -> None:
    from engine import ImageNotFound

    try:
        eng.images.resolve(image)
    except ImageNotFound:
        try:
            shown = eng.images.tagged_name(image)
        except Exception:
            shown = image
        sys.stderr.write(f"Unable to find image '{shown}' locally\n")
        raise


def cmd_create(a: flags.Namespace) -> int:
    eng = engine()
    opts = build_options(a, eng)
    _image_or_error(eng, a.image)
    c = eng.containers.create(a.image, opts)
    print(c.id)
    return 0


def cmd_run(a: flags.Namespace) -> int:
    eng = engine()
    if a.replicas:
        opts = build_options(a, eng)
        if a.replicas < 0:
            from engine import InvalidArgument

            raise InvalidArgument(f"invalid replicas value {a.replicas}: it must be at least 1")
        return _run_replicas(eng, a, opts)
    session, fd = (None, None) if a.detach else eng.containers.attach_socket()
    supervisor = eng.containers.supervisor(fd)  # gets ready while the options are read and checked
    try:
        try:
            opts = build_options(a, eng)
            _image_or_error(eng, a.image)
            c = eng.containers.run(a.image, opts, attach_fd=fd, supervisor=supervisor)
        except BaseException:
            supervisor.cancel()
            raise
        finally:
            if fd is not None:
                os.close(fd)
        if session is None:  # detached
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
                code = eng.containers.wait(c.id)
            except Exception:
                return 0
        else:
            return 0
    if code:
        _tell_supervisor_failure(eng, c.id)
    return code


def _tell_supervisor_failure(eng: Engine, cid: str) -> None:
    """A non-zero exit caused by the supervisor failing, not by the container: say so (one line)."""
    from engine import NotFound

    try:
        error = eng.containers.get(cid).error
    except NotFound:
        return
    if error.startswith("the supervisor failed"):
        sys.stderr.write(f"Error: {error}\n")


def _run_replicas(eng: Engine, a: flags.Namespace, opts: CreateOptions) -> int:
    """``run --replicas N``: N detached containers from one image, sharing its layers."""
    _image_or_error(eng, a.image)
    for c in eng.containers.run_replicas(a.image, a.replicas, opts):
        print(c.id)
    return 0


def _each(a: flags.Namespace, fn: Any) -> int:
    def do(ref: str) -> None:
        fn(ref)
        print(ref)

    return output.for_each(a.containers, do)


def cmd_start(a: flags.Namespace) -> int:
    eng = engine()
    if a.attach or a.interactive:
        from .terminal import relay_session

        ref = a.containers[0]
        cfg = eng.containers.config(ref)
        session, fd = eng.containers.attach_socket()
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


def cmd_stop(a: flags.Namespace) -> int:
    eng = engine()
    return _each(a, lambda r: eng.containers.stop(r, a.time, a.signal))


def cmd_restart(a: flags.Namespace) -> int:
    eng = engine()
    return _each(a, lambda r: eng.containers.restart(r, a.time))


def cmd_kill(a: flags.Namespace) -> int:
    eng = engine()
    return _each(a, lambda r: eng.containers.kill(r, a.signal))


def cmd_pause(a: flags.Namespace) -> int:
    eng = engine()
    return _each(a, lambda r: eng.containers.pause(r))


def cmd_unpause(a: flags.Namespace) -> int:
    eng = engine()
    return _each(a, lambda r: eng.containers.unpause(r))


def cmd_rename(a: flags.Namespace) -> int:
    engine().containers.rename(a.container, a.new_name)
    return 0


def cmd_rm(a: flags.Namespace) -> int:
    eng = engine()
    return _each(a, lambda r: eng.containers.remove(r, force=a.force, volumes=a.volumes))


def cmd_wait(a: flags.Namespace) -> int:
    eng = engine()
    return output.for_each(a.containers, lambda ref: print(eng.containers.wait(ref), flush=True))
