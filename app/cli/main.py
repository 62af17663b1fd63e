"""``dockyard``: the docker-compatible command line. With no command on a terminal, it opens the app.

Start-up is kept cheap: this module imports only argparse and the engine; rich is imported only to draw
progress, Textual only to open the app.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
from collections.abc import Callable

from . import commands

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

VERSION = "0.1.0"


@functools.cache
def _width() -> int:
    """The help text's width, found as shutil.get_terminal_size does (argparse would import shutil for it,
    each time it makes a formatter: once per argument added)."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 80
    return max(columns - 2, 20)


def _formatter(prog: str) -> argparse.HelpFormatter:
    return argparse.HelpFormatter(prog, width=_width())


class _Parser(argparse.ArgumentParser):
    #: The command being run, for errors the top-level parser reports about it (unknown flags).
    command: str | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # Docker's wording for usage errors, and its status 125
        prog = f"dockyard {self.command}" if self.prog == "dockyard" and self.command else self.prog
        sys.stderr.write(f"{_docker_wording(self, message, prog)}\nSee '{prog} --help'.\n")
        raise SystemExit(125)


def _docker_wording(parser: argparse.ArgumentParser, message: str, prog: str) -> str:
    """argparse's usage errors as Docker says them."""
    if message.startswith("unrecognized arguments: "):
        extra = message.split(": ", 1)[1].split()
        flag = next((a for a in extra if a.startswith("-")), None)
        return f"unknown flag: {flag.split('=')[0]}" if flag else f'"{prog}" accepts no arguments.'
    if message.startswith("the following arguments are required"):
        positionals = [a for a in parser._actions if not a.option_strings]
        needed = sum(1 for a in positionals if a.nargs in (None, "+"))
        exact = all(a.nargs is None for a in positionals)
        plural = "" if needed == 1 else "s"
        return f'"{prog}" requires {"exactly" if exact else "at least"} {needed} argument{plural}.'
    flags, _, problem = message.removeprefix("argument ").partition(": ")
    names = flags.split("/")
    if problem == "expected one argument":
        return f"flag needs an argument: {names[-1]}"
    if problem.startswith(("invalid int value: ", "invalid float value: ", "invalid choice: ")):
        value = problem.split(": ", 1)[1].split(" (")[0].strip("'")
        return f'invalid argument "{value}" for "{", ".join(names)}" flag'
    return f"{prog}: {message}"


# argparse asks gettext to translate every help string, which costs ~0.2 ms a call; nothing is translated.
argparse._ = str  # type: ignore[attr-defined]


def _command_name(argv: list[str]) -> str | None:
    """The command word in argv (after global options), or None."""
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--root":
            i += 2
            continue
        if a.startswith("-"):
            i += 1
            continue
        return a
    return None


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    p = _Parser(
        prog="dockyard",
        description="A terminal container manager with its own engine. Without a command, opens the app.",
    )
    p.add_argument("--root", help="engine root directory (default $DOCKYARD_ROOT or /var/lib/dockyard)")
    p.add_argument("-v", "--version", action="store_true", help="print the version and exit")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.register_all(sub, only)
    if only is not None and only not in sub.choices:
        return build_parser(None)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    name = _command_name(argv)
    if name is not None and not any(name in names for names in commands.COMMANDS.values()):
        sys.stderr.write(f"dockyard: '{name}' is not a dockyard command.\nSee 'dockyard --help'\n")
        return 1  # Docker's words and status for an unknown command
    wants_help = any(a in ("-h", "--help") for a in argv) and name is None
    parser = build_parser(None if wants_help or name is None else name)
    _Parser.command = name
    args = parser.parse_args(argv)
    if args.version:
        print(f"dockyard version {VERSION}")
        return 0
    if args.root:
        os.environ["DOCKYARD_ROOT"] = os.path.abspath(args.root)
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        if getattr(args, "command", None) is None and sys.stdin.isatty() and sys.stdout.isatty():
            from app.tui.run import run_app

            return run_app(args.root)
        parser.print_help()
        return 0
    from engine import DockyardError

    try:
        return handler(args) or 0
    except DockyardError as e:
        sys.stderr.write(f"Error: {e}\n")
        code = e.exit_code if getattr(args, "docker_exit_codes", False) else 1
        return code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


def entry() -> None:
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
