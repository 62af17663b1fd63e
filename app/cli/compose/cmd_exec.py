"""``compose exec`` (a command in a running service container) and ``compose run`` (a one-off container of
a service)."""

from __future__ import annotations

import os
import sys

from .common import load

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .. import flags


def register(cs: flags.Commands) -> None:
    p = cs.add_parser("exec", help="Execute a command in a running container")
    a = p.add_argument
    a("-d", "--detach", action="store_true", help="Detached mode: Run command in the background")
    a("-e", "--env", action="append", default=[], help="Set environment variables")
    a("--index", type=int, default=0, help="Index of the container if service has multiple replicas")
    a(
        "-T",
        "--no-TTY",
        action="store_true",
        dest="no_tty",
        help="Disable pseudo-TTY allocation. By default `docker compose exec` allocates a TTY.",
    )
    a("--privileged", action="store_true", help="Give extended privileges to the process")
    a("-u", "--user", default="", help="Run the command as this user")
    a("-w", "--workdir", default="", help="Path to workdir directory for this command")
    a("-i", "--interactive", action="store_true", default=True, help="Keep STDIN open even if not attached")
    a("-t", "--tty", action="store_true", default=True, help="Allocate a pseudo-TTY")
    a("service", metavar="SERVICE")
    a("command", nargs="...")
    p.set_defaults(handler=cmd_exec)

    p = cs.add_parser("run", help="Run a one-off command on a service")
    a = p.add_argument
    a("-d", "--detach", action="store_true", help="Run container in background and print container ID")
    a("--rm", action="store_true", help="Automatically remove the container when it exits")
    a("--name", default="", help="Assign a name to the container")
    a("-e", "--env", action="append", default=[], help="Set environment variables")
    a("-l", "--label", action="append", default=[], help="Add or override a label")
    a("-u", "--user", default=None, help="Run as specified username or uid")
    a("-w", "--workdir", default=None, help="Working directory inside the container")
    a("--entrypoint", default=None, help="Override the entrypoint of the image")
    a("-v", "--volume", action="append", default=[], help="Bind mount a volume")
    a("-p", "--publish", action="append", default=[], help="Publish a container's port(s) to the host")
    a(
        "-P",
        "--service-ports",
        action="store_true",
        help="Run command with all service's ports enabled and mapped to the host",
    )
    a(
        "--use-aliases",
        action="store_true",
        help="Use the service's network useAliases in the network(s) the container connects to",
    )
    a("--no-deps", action="store_true", help="Don't start linked services")
    a(
        "-T",
        "--no-TTY",
        action="store_true",
        dest="no_tty",
        help="Disable pseudo-TTY allocation (default: auto-detected)",
    )
    a("-i", "--interactive", action="store_true", default=True, help="Keep STDIN open even if not attached")
    a("-t", "--tty", action="store_true", default=True, help="Allocate a pseudo-TTY")
    a("--build", action="store_true", help="Build image before starting container")
    a("--cap-add", action="append", default=[], help="Add Linux capabilities")
    a("--cap-drop", action="append", default=[], help="Drop Linux capabilities")
    a(
        "--remove-orphans",
        action="store_true",
        help="Remove containers for services not defined in the Compose file",
    )
    a("--quiet-pull", action="store_true", help="Pull without printing progress information")
    a("--pull", default="policy", help='Pull image before running ("always"|"missing"|"never")')
    a("-q", "--quiet", action="store_true", help="Don't print anything to STDOUT")
    a("--env-from-file", action="append", default=[], help="Set environment variables from file")
    a("service", metavar="SERVICE")
    a("command", nargs="...")
    p.set_defaults(handler=cmd_run)


def _tty(a: flags.Namespace) -> bool:
    return not a.no_tty and sys.stdin.isatty() and sys.stdout.isatty()


def cmd_exec(a: flags.Namespace) -> int:
    from engine import CommandNotFound, CommandNotInvokable, InvalidArgument

    from ..envfiles import env_values

    if not a.command:
        raise InvalidArgument('"exec" requires at least 2 arguments')
    cp = load(a, need_file=False)
    c = cp.container(a.service, a.index or 1)
    if not c.running:
        raise InvalidArgument(f"container {c.name} is not running")
    containers = cp.engine.containers
    opts = {"env": env_values(a.env), "workdir": a.workdir, "user": a.user, "privileged": a.privileged}
    try:
        if a.detach:
            containers.exec_run(c.id, a.command, detach=True, **opts)
            return 0
        if _tty(a):
            from ..terminal import relay_pty, window_size

            rows, cols = window_size(sys.stdout.fileno())
            pty = containers.exec_pty(c.id, a.command, rows=rows, cols=cols, **opts)
            try:
                code = relay_pty(pty.master, pty.wait, stdin=True, detach_keys=b"\x10\x11")
                return 0 if code is None else code
            finally:
                pty.close()
        proc = containers.exec_run(
            c.id, a.command, stdin=None if sys.stdin.isatty() else sys.stdin.fileno(),
            stdout=sys.stdout.fileno(), stderr=sys.stderr.fileno(), **opts,
        )  # fmt: skip
    except (CommandNotFound, CommandNotInvokable) as e:
        sys.stderr.write(f"Error: {e}\n")
        return e.exit_code
    return proc.wait()


def cmd_run(a: flags.Namespace) -> int:
    from ..envfiles import env_values, read_env_files

    cp = load(a)
    tty = _tty(a) and not a.detach
    labels = dict(lab.partition("=")[::2] for lab in a.label)
    entrypoint = None
    if a.entrypoint is not None:
        import shlex

        entrypoint = shlex.split(a.entrypoint)
    if a.remove_orphans:
        cp.remove(cp.project.orphans(), stopping=True)
    c = cp.run_container(
        a.service, no_deps=a.no_deps, build=True if a.build else None, name=a.name or None,
        command=a.command or None, entrypoint=entrypoint,
        env=read_env_files(a.env_from_file) + env_values(a.env), labels=labels, user=a.user, workdir=a.workdir,
        volumes=a.volume, ports=a.publish, service_ports=a.service_ports, use_aliases=a.use_aliases, tty=tty,
        stdin_open=not a.detach and a.interactive, auto_remove=a.rm, cap_add=a.cap_add, cap_drop=a.cap_drop,
    )  # fmt: skip
    containers = cp.engine.containers
    if a.detach:
        containers.start(c.id)
        print(c.name)
        return 0
    from ..terminal import DETACH_KEYS, relay_session

    session, fd = containers.attach_socket()
    try:
        try:
            containers.start(c.id, attach_fd=fd)
        finally:
            os.close(fd)
        code = relay_session(session, a.interactive, tty, DETACH_KEYS)
    finally:
        session.close()
    if code is None:
        try:
            code = containers.wait(c.id)
        except Exception:
            code = 0
    if a.rm:
        from engine import NotFound

        try:
            containers.remove(c.id, force=True)
        except NotFound:
            pass
    return code
