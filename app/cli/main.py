"""``dockyard``: the docker-compatible command line. With no command on a terminal, it opens the app.

Start-up is kept cheap: flags are read by our own parser (app/cli/flags.py, which imports only os and sys),
only the parser of the command being run is built, and its handler imports what it needs: rich only to draw
progress, Textual only to open the app.
"""

from __future__ import annotations

import os
import sys

from . import commands, flags

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

VERSION = "0.1.0"

# Commands that can run for long: the garbage collector is on for them (see ``entry``). Attached sessions
# (run, start -a, attach) turn it on when the session begins (terminal.relay_session).
LONG_RUNNING = {None, "logs", "events", "stats", "build", "wait", "top", "exec", "system", "compose"}


def _command_index(argv: list[str]) -> int | None:
    """Where the command word is in argv (after global options), or None."""
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("--root", "--config", "-l", "--log-level"):
            i += 2
            continue
        if a in (
            "-H",
            "--host",
            "--tlscacert",
            "--tlscert",
            "--tlskey",
            "-c",
            "--context",
        ) and not _is_command(argv[i + 1 : i + 2]):
            i += 2  # the service's flags (--host): their value (a command word there is no value)
            continue
        if a.startswith("-"):
            i += 1
            continue
        return i
    return None


def _is_command(words: list[str]) -> bool:
    return bool(words) and any(words[0] in names for names in commands.COMMANDS.values())


def _host_flags(p: flags.Parser) -> None:
    """Docker's global flags naming a service: the app (``dockyard --host unix:///PATH``) or a command
    (``dockyard -H unix:///PATH ps``) works on the Engine API service there (app/cli/remote.py)."""
    p.add_argument(
        "-H", "--host", help="Daemon socket to connect to (unix:///PATH, or tcp://HOST:PORT with TLS)"
    )
    p.add_argument(
        "-c",
        "--context",
        dest="use_context",
        help="Name of the context to use (overrides DOCKYARD_CONTEXT and 'context use')",
    )
    p.add_argument("--tls", action="store_true", help="Use TLS; implied by --tlsverify")
    p.add_argument("--tlsverify", action="store_true", help="Use TLS and verify the service")
    p.add_argument("--tlscacert", help="Trust certs signed only by this CA")
    p.add_argument("--tlscert", help="Path to TLS certificate file")
    p.add_argument("--tlskey", help="Path to TLS key file")


def build_parser(only: str | None = None) -> flags.Parser:
    p = flags.Parser(
        prog="dockyard",
        description="A terminal container manager with its own engine. Without a command, opens the app.",
    )
    p.add_argument("--root", help="Engine root directory (default $DOCKYARD_ROOT or /var/lib/dockyard)")
    p.add_argument("-v", "--version", action="store_true", help="Print version information and quit")
    p.add_argument("--config", help="Location of client config files (credentials)")
    p.add_argument("-D", "--debug", action="store_true", help="Enable debug mode")
    p.add_argument("-l", "--log-level", help="Set the logging level (debug, info, warn, error, fatal)")
    _host_flags(p)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    commands.register_all(sub, only)
    if only is not None and only not in sub.choices:
        return build_parser(None)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    at = _command_index(argv)
    name = None if at is None else argv[at]
    if name is not None and not any(name in names for names in commands.COMMANDS.values()):
        from .refused import refuse_unknown_command

        refuse_unknown_command(argv[: at or 0], name)  # refused on purpose: Docker's words, status 125
        sys.stderr.write(f"dockyard: '{name}' is not a dockyard command.\nSee 'dockyard --help'\n")
        return 1  # Docker's words and status for an unknown command
    wants_help = any(a in ("-h", "--help") for a in argv[:at])  # dockyard's own help lists every command
    if name in LONG_RUNNING:
        import gc

        gc.enable()
    parser = build_parser(None if wants_help or name is None else name)
    args = parser.parse_args(argv)
    if args.use_context:  # as $DOCKYARD_CONTEXT for this run (engine/context/: ContextStore.current)
        if args.host:
            sys.stderr.write("Error: conflicting options: cannot specify both --host and --context\n")
            return 125
        os.environ["DOCKYARD_CONTEXT"] = args.use_context
    if name is not None and name != "context" and _remote_wanted(args):
        from .remote import use_service

        refused = use_service(args, argv[at or 0 :])  # the engine is the service's from here on
        if refused:
            return refused
    if args.version:
        print(f"dockyard version {VERSION}")
        return 0
    if args.root:
        os.environ["DOCKYARD_ROOT"] = os.path.abspath(args.root)
    if args.config:  # Docker's client config directory: its config.json holds the registry credentials
        os.environ["DOCKYARD_AUTH_FILE"] = os.path.join(os.path.abspath(args.config), "config.json")
    if args.log_level and args.log_level.lower() not in _LOG_LEVELS:
        sys.stderr.write(f"Unable to parse logging level: {args.log_level}\n")
        return 1
    if args.debug or (args.log_level or "").lower() in ("debug", "trace"):
        os.environ["DOCKYARD_DEBUG"] = "1"
    handler: Callable[[flags.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        if getattr(args, "command", None) is None and sys.stdin.isatty() and sys.stdout.isatty():
            from app.tui.run import run_app

            return run_app(args.root, **_host_args(args))
        parser.parser_for(args).print_help()  # a group without its command: the group's help, as Docker
        return 0
    from engine import DockyardError

    try:
        return handler(args) or 0
    except DockyardError as e:
        sys.stderr.write(f"{getattr(e, 'prefix', 'Error: ')}{e}\n")  # a failed --format template: no prefix
        always = getattr(e, "status_always", False)  # a failed --format template: 125 for every command
        code = e.exit_code if always or getattr(args, "docker_exit_codes", False) else 1
        return code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except OSError as e:
        if e.errno not in _MACHINE_ERRORS:
            return _crashed(e, args.root, argv)
        # The machine refused (a full disk, a failing one, a read-only file system): not a bug, so no trace.
        where = f": {e.filename}" if e.filename else ""
        sys.stderr.write(f"Error: {(e.strerror or str(e)).lower()}{where}\n")
        return 125
    except Exception as e:
        return _crashed(e, args.root, argv)


def _remote_wanted(args: flags.Namespace) -> bool:
    """A command works on a service: -H, $DOCKYARD_HOST, or a context other than ``default`` (--context,
    $DOCKYARD_CONTEXT, or the one ``context use`` stored in the config directory's config.json, unless
    --root or $DOCKYARD_ROOT names the local engine)."""
    if args.host or os.environ.get("DOCKYARD_HOST"):
        return True
    chosen = os.environ.get("DOCKYARD_CONTEXT")
    if chosen:
        return chosen != "default"
    if args.root or os.environ.get("DOCKYARD_ROOT"):
        return False  # a root named for this command (or this shell) wins over a stored context
    env = os.environ.get("DOCKYARD_CONFIG")
    if env:
        directory = os.path.dirname(os.path.abspath(env))
    else:
        base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
        directory = os.path.join(base, "dockyard")
    try:
        with open(os.path.join(directory, "config.json"), "rb") as f:
            return b'"currentContext"' in f.read()  # parsed (engine/context) only when a context is named
    except OSError:
        return False


def _host_args(args: flags.Namespace) -> dict[str, Any]:
    names = ("host", "tls", "tlsverify", "tlscacert", "tlscert", "tlskey")
    given = {n: getattr(args, n) for n in names if getattr(args, n, None)}
    if getattr(args, "use_context", None):  # -c: its own name, as build's PATH is ``context``
        given["context"] = args.use_context
    return given


def _crashed(e: BaseException, root: str | None, argv: list[str]) -> int:
    """A bug: one line for the user, the whole trace in a file."""
    from engine import record_crash

    path = record_crash(e, root, ["dockyard", *argv])
    if os.environ.get("DOCKYARD_DEBUG"):  # -D: the trace on stderr too
        import traceback

        traceback.print_exception(e)
    where = f"; the full trace is in {path}" if path else ""
    sys.stderr.write(f"Error: unexpected {type(e).__name__}: {e}{where}\n")
    return 125


# Docker's logging levels (logrus's names): -l debug is -D; the others change nothing (dockyard's client keeps
# no log of its own: its warnings and errors are always written).
_LOG_LEVELS = ("trace", "debug", "info", "warn", "warning", "error", "fatal", "panic")


# What a machine refuses, as opposed to what a bug causes: said in one line, without a trace (errno numbers:
# EIO, ENOMEM, EACCES, EPERM, ENFILE, EMFILE, ENOSPC, EROFS, EDQUOT; the errno module is not loaded for them).
_MACHINE_ERRORS = {5, 12, 13, 1, 23, 24, 28, 30, 122}


def entry() -> None:
    """The ``dockyard`` command. Python's cyclic garbage collector is off for the life of a short command:
    what it frees is nothing a 10-ms process needs back, and its passes over the objects the engine's imports
    make cost about 0.8 ms of every call (``main`` turns it on again for the commands that can run long, and a
    container's supervisor once its container runs)."""
    import gc

    gc.disable()
    code = main()
    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() > 1:
        sys.exit(code)  # a thread is still at work: let the interpreter wait for it
    # Everything is written and closed by now: skip the interpreter's teardown of its modules and objects,
    # which costs 2-6 ms on every call (as much as stopping a container).
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        pass
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
