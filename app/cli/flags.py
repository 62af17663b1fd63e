"""Command-line flags read as Docker's CLI reads them, behind an interface shaped like argparse's.

Long flags (``--name value``, ``--name=value``), short ones (``-e value``, ``-evalue``, ``-e=value``) and
groups of short ones (``-it``, ``-dp 80:80``: the last may take a value). A flag that takes a value takes the
next argument whatever it looks like (``--stop-timeout -1``); a boolean takes a value only after ``=``
(``--rm=false``). ``--`` ends the flags. Flags and arguments may come in any order, except in a command whose
last argument is a command line (``run IMAGE [COMMAND] [ARG...]``): there, everything after the image is the
command's. Usage errors are Docker's words on standard error, with status 125.

Only ``os`` and ``sys`` are imported: every command is a new process, and argparse's imports alone take as
long as starting the interpreter.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from typing import Any, NoReturn

#: ``nargs`` of a last argument that takes everything after the arguments before it, flags included.
REMAINDER = "..."
#: ``help`` of a flag that works but is not listed.
SUPPRESS = "==SUPPRESS=="

_ACTIONS = ("store", "store_true", "append", "help")
_NARGS = (None, "?", "*", "+", REMAINDER)
# The words Go's strconv.ParseBool accepts.
_BOOLS = {
    **dict.fromkeys(("1", "t", "T", "true", "TRUE", "True"), True),
    **dict.fromkeys(("0", "f", "F", "false", "FALSE", "False"), False),
}
_GO_PARSERS: dict[Any, str] = {int: "strconv.ParseInt", float: "strconv.ParseFloat"}
_INT64 = 1 << 63


class _OutOfRange(ValueError):
    """A number that Go's parser reads but that does not fit (``value out of range``)."""


def go_int(text: str) -> int:
    """An int flag's value as pflag reads it (Go's ``strconv.ParseInt(text, 0, 64)``): ASCII digits with an
    optional sign, ``0x``/``0o``/``0b`` prefixes, a leading ``0`` for octal, ``_`` between digits; no
    spaces. ValueError on bad syntax, _OutOfRange beyond int64."""
    body = text[1:] if text[:1] in ("+", "-") else text
    if not body.isascii() or not body[:1].isdigit() or not body.replace("_", "").isalnum():
        raise ValueError(text)
    if len(body) > 1 and body[0] == "0" and body[1] not in "xXoObB":
        value = int(body, 8)  # Go's base 0: "010" is 8
    else:
        if len(body) > 80:  # int() refuses very long numbers with its own error; any such is out of range
            raise _OutOfRange(text) if body.replace("_", "").isdigit() else ValueError(text)
        value = int(body, 0)
    if text[:1] == "-":
        value = -value
    if not -_INT64 <= value < _INT64:
        raise _OutOfRange(text)
    return value


def go_float(text: str) -> float:
    """A float flag's value: decimal ASCII with an optional exponent (Go's ``strconv.ParseFloat``), finite (a
    number of CPUs is never NaN or infinite). ValueError on bad syntax, _OutOfRange when too big."""
    if not text.isascii() or "_" in text or text != text.strip() or not any(c.isdigit() for c in text):
        raise ValueError(text)
    value = float(text)  # "nan" and "inf" have no digit: refused above
    if value in (float("inf"), float("-inf")):
        raise _OutOfRange(text)
    return value


_GO_READERS: dict[Any, Callable[[str], Any]] = {int: go_int, float: go_float}


class Namespace:
    """The parsed values: one attribute per dest, and those given to ``set_defaults``."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)

    def __repr__(self) -> str:
        return "Namespace(" + ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items()) + ")"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Namespace) and self.__dict__ == other.__dict__

    def __contains__(self, name: str) -> bool:
        return name in self.__dict__

    if TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any: ...


class Argument:
    """A flag (``-t, --time``) or a positional argument (``CONTAINER``)."""

    __slots__ = (
        "names",
        "action",
        "dest",
        "type",
        "default",
        "nargs",
        "metavar",
        "help",
        "choices",
        "required",
    )

    def __init__(
        self,
        names: tuple[str, ...],
        action: str,
        dest: str,
        type: Callable[[str], Any] | None,
        default: Any,
        nargs: str | None,
        metavar: str | None,
        help: str | None,
        choices: Iterable[Any] | None,
        required: bool,
    ) -> None:
        self.names = names
        self.action = action
        self.dest = dest
        self.type = type
        self.default = default
        self.nargs = nargs
        self.metavar = metavar
        self.help = help
        self.choices = None if choices is None else tuple(choices)
        self.required = required

    @property
    def is_flag(self) -> bool:
        return self.names[0].startswith("-")

    @property
    def takes_value(self) -> bool:
        return self.action in ("store", "append")

    @property
    def label(self) -> str:
        """The flag as errors name it: ``-t, --time``."""
        if not self.is_flag:
            return self.metavar or self.dest.upper()
        short = [n for n in self.names if len(n) == 2]
        long = [n for n in self.names if len(n) > 2]
        return ", ".join(short[:1] + long[:1])

    def type_word(self) -> str:
        """The value's kind in help, as Docker prints it: string, int, float, list; nothing for a boolean."""
        if not self.takes_value:
            return ""
        if self.metavar:
            return self.metavar
        if self.action == "append":
            return "list"
        if self.type is int:
            return "int"
        return "float" if self.type is float else "string"

    def default_note(self) -> str:
        """`` (default "no")`` when the default is not the type's zero value, as Docker's help shows it."""
        d = self.default
        if not d:
            return ""
        if d is True:
            return " (default true)"
        if isinstance(d, str):
            return f' (default "{d}")'
        if isinstance(d, list | tuple):
            return f" (default [{','.join(map(str, d))}])"
        return f" (default {d})"

    def fresh_default(self) -> Any:
        """The default, with a list copied: values appended in one parse must not show up in the next."""
        d = self.default
        if isinstance(d, list):
            return list(d)
        if self.action == "store_true" and d is None:
            return False
        return d


class Parser:
    """A command's flags and arguments, or a group of commands (``dockyard``, ``dockyard container``)."""

    def __init__(self, prog: str | None = None, description: str = "", add_help: bool = True) -> None:
        self.prog = prog or os.path.basename(sys.argv[0])
        self.description = description
        self._flags: list[Argument] = []
        self._by_name: dict[str, Argument] = {}
        self._args: list[Argument] = []
        self._defaults: dict[str, Any] = {}
        self._commands: Commands | None = None
        if add_help:
            self.add_argument("-h", "--help", action="help")

    # -- building ------------------------------------------------------------------------------------------

    def add_argument(
        self,
        *names: str,
        action: str = "store",
        dest: str | None = None,
        type: Callable[[str], Any] | None = None,
        default: Any = None,
        nargs: str | None = None,
        metavar: str | None = None,
        help: str | None = None,
        choices: Iterable[Any] | None = None,
        required: bool = False,
    ) -> Argument:
        """A flag (``"-t", "--time"``) or, for a single name without dashes, a positional argument."""
        if not names:
            raise ValueError("an argument needs a name")
        if action not in _ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        if names[0].startswith("-"):
            if nargs is not None:
                raise ValueError(f"{names[0]}: a flag takes one value or none, nargs is for arguments")
            for n in names:
                if not (len(n) == 2 and n[0] == "-" and n[1] != "-") and not (
                    len(n) > 2 and n.startswith("--") and n[2] != "-"
                ):
                    raise ValueError(f"bad flag name {n!r}: -x or --name")
                if n in self._by_name:
                    raise ValueError(f"flag {n} is defined twice")
            long = [n for n in names if n.startswith("--")]
            dest = dest or (long[0] if long else names[0]).lstrip("-").replace("-", "_")
        else:
            if len(names) > 1 or dest is not None or action != "store":
                raise ValueError(f"{names[0]}: an argument has one name, its dest, and stores")
            if nargs not in _NARGS:
                raise ValueError(f"{names[0]}: nargs must be one of {_NARGS}")
            if self._args and self._args[-1].nargs == REMAINDER:
                raise ValueError(f"{names[0]}: nothing can follow a REMAINDER argument")
            if self._commands is not None:
                raise ValueError(f"{names[0]}: a parser with commands takes no arguments")
            dest = names[0]
        arg = Argument(names, action, dest, type, default, nargs, metavar, help, choices, required)
        if arg.is_flag:
            self._flags.append(arg)
            for n in names:
                self._by_name[n] = arg
        else:
            self._args.append(arg)
        return arg

    def add_subparsers(self, dest: str | None = None, metavar: str = "COMMAND") -> Commands:
        """The table of this parser's commands; the command word goes to ``dest``."""
        if self._commands is not None or self._args:
            raise ValueError(f"{self.prog}: commands and arguments do not mix")
        self._commands = Commands(self, dest, metavar)
        return self._commands

    def set_defaults(self, **values: Any) -> None:
        """Values set whenever this parser is used (``handler=...``); they win over the flags' defaults."""
        self._defaults.update(values)

    # -- parsing -------------------------------------------------------------------------------------------

    def parse_args(self, argv: Sequence[str] | None = None, namespace: Namespace | None = None) -> Namespace:
        """Parse argv (default: the process's arguments); a usage error exits with status 125."""
        ns = Namespace() if namespace is None else namespace
        self._parse(list(sys.argv[1:] if argv is None else argv), ns.__dict__)
        return ns

    def _parse(self, argv: list[str], values: dict[str, Any]) -> None:
        for flag in self._flags:
            if flag.action != "help":
                values[flag.dest] = flag.fresh_default()
        if self._commands is not None and self._commands.dest:
            values[self._commands.dest] = None
        values.update(self._defaults)
        # Flags stop after the command word, or after the arguments before a command line (run's IMAGE).
        stop = 1 if self._commands is not None else None
        if self._args and self._args[-1].nargs == REMAINDER:
            stop = len(self._args) - 1
        given: list[str] = []
        seen: set[str] = set()
        i = 0
        while i < len(argv):
            arg = argv[i]
            i += 1
            if arg == "--":
                given += argv[i:]
                break
            if arg.startswith("--"):
                i = self._long(arg, argv, i, values, seen)
            elif arg.startswith("-") and arg != "-":
                i = self._short(arg, argv, i, values, seen)
            else:
                given.append(arg)
                if stop is not None and len(given) >= stop:
                    given += argv[i:]
                    break
        missing = [f'"{_long_name(f).lstrip("-")}"' for f in self._flags if f.required and f.dest not in seen]
        if missing:
            self.error(f"required flag(s) {', '.join(missing)} not set")
        if self._commands is not None:
            self._commands.dispatch(given, values)
        else:
            self._assign(given, values)

    def _long(self, arg: str, argv: list[str], i: int, values: dict[str, Any], seen: set[str]) -> int:
        name, eq, value = arg.partition("=")
        if name == "--" or name.startswith("---"):
            self.error(f"bad flag syntax: {arg}")
        flag = self._by_name.get(name)
        if flag is None:
            self._unknown(name, f"unknown flag: {name}")
        if flag.takes_value:
            if not eq:
                if i >= len(argv):
                    self.error(f"flag needs an argument: {name}")
                value = argv[i]
                i += 1
            self._store(flag, value, values)
        else:
            self._switch(flag, value if eq else None, values)
        seen.add(flag.dest)
        return i

    def _short(self, arg: str, argv: list[str], i: int, values: dict[str, Any], seen: set[str]) -> int:
        j = 1
        while j < len(arg):
            letter, tail = arg[j], arg[j + 1 :]
            flag = self._by_name.get("-" + letter)
            if flag is None:
                self._unknown("-" + letter, f"unknown shorthand flag: '{letter}' in -{arg[j:]}")
            seen.add(flag.dest)
            if flag.takes_value:  # takes the rest of the group, else the next argument
                if tail:
                    value = tail[1:] if tail[0] == "=" else tail
                elif i < len(argv):
                    value = argv[i]
                    i += 1
                else:
                    self.error(f"flag needs an argument: '{letter}' in -{arg[j:]}")
                self._store(flag, value, values)
                return i
            if tail[:1] == "=":
                self._switch(flag, tail[1:], values)
                return i
            self._switch(flag, None, values)
            j += 1
        return i

    def _unknown(self, name: str, message: str) -> NoReturn:
        """A flag this command does not take: Docker's flag that dockyard refuses on purpose, with the reason
        (app/cli/refused.py, loaded only here), else ``message``."""
        from .refused import flag_reason, refuse

        why = flag_reason(self.prog, name)
        if why is not None:
            refuse(self.prog.partition(" ")[0], name, why, self.prog)
        self.error(message)

    def _store(self, arg: Argument, text: str, values: dict[str, Any]) -> None:
        value = self._convert(arg, text)
        if arg.action == "append":
            if values.get(arg.dest) is None:
                values[arg.dest] = []
            values[arg.dest].append(value)
        else:
            values[arg.dest] = value

    def _switch(self, flag: Argument, text: str | None, values: dict[str, Any]) -> None:
        on = True
        if text is not None:
            parsed = _BOOLS.get(text)
            if parsed is None:
                self.error(
                    f'invalid argument "{text}" for "{flag.label}" flag: '
                    f'strconv.ParseBool: parsing "{text}": invalid syntax'
                )
            on = parsed
        if flag.action == "help":
            if on:
                self.print_help()
                raise SystemExit(0)
            return
        values[flag.dest] = on

    def _convert(self, arg: Argument, text: str) -> Any:
        value: Any = text
        if arg.type is not None:
            convert: Callable[[str], Any] = _GO_READERS.get(arg.type, arg.type)
            try:
                value = convert(text)
            except (TypeError, ValueError) as e:
                go = _GO_PARSERS.get(arg.type)
                problem = "value out of range" if isinstance(e, _OutOfRange) else "invalid syntax"
                why = f'{go}: parsing "{text}": {problem}' if go else (str(e) or "invalid syntax")
                self.error(f'invalid argument "{text}" for "{arg.label}" flag: {why}')
        if arg.choices is not None and value not in arg.choices:
            self.error(f'invalid argument "{text}" for "{arg.label}" flag')
        return value

    def _assign(self, given: list[str], values: dict[str, Any]) -> None:
        """Share the positional arguments among the declared ones, in order."""
        specs = self._args
        least = [1 if a.nargs in (None, "+") else 0 for a in specs]
        most = [1 if a.nargs in (None, "?") else len(given) for a in specs]
        if len(given) < sum(least) or len(given) > sum(most):
            self.error(self._count_error(len(given) < sum(least)))
        k = 0
        for n, arg in enumerate(specs):
            take = min(most[n], len(given) - k - sum(least[n + 1 :]))
            chunk = given[k : k + take]
            k += take
            if arg.nargs == REMAINDER:
                values[arg.dest] = chunk
            elif arg.nargs in (None, "?"):
                values[arg.dest] = self._convert(arg, chunk[0]) if chunk else arg.fresh_default()
            else:
                values[arg.dest] = [self._convert(arg, v) for v in chunk]

    def _count_error(self, too_few: bool) -> str:
        """Docker's words for the wrong number of arguments."""
        specs = self._args
        if not specs:
            return f'"{self.prog}" accepts no arguments.'
        exact = all(a.nargs is None for a in specs)
        if too_few:
            count = sum(1 for a in specs if a.nargs in (None, "+"))
            how = "exactly" if exact else "at least"
        else:
            count = len(specs)
            how = "exactly" if exact else "at most"
        return f'"{self.prog}" requires {how} {count} argument{"" if count == 1 else "s"}.'

    def parser_for(self, args: Namespace) -> Parser:
        """The parser of the innermost command named in args: ``dockyard container``'s for that group."""
        p = self
        while p._commands is not None and p._commands.dest:
            word = getattr(args, p._commands.dest, None)
            if not isinstance(word, str) or word not in p._commands.choices:
                break
            p = p._commands.choices[word]
        return p

    def error(self, message: str) -> NoReturn:
        """A usage error: Docker's message and pointer to the help, status 125."""
        sys.stderr.write(f"{message}\nSee '{self.prog} --help'.\n")
        raise SystemExit(125)

    # -- help ----------------------------------------------------------------------------------------------

    def format_help(self) -> str:
        width = _width()
        flags = sorted(
            (f for f in self._flags if f.action != "help" and f.help != SUPPRESS),
            key=lambda f: _long_name(f).lstrip("-"),
        )
        usage = [self.prog]
        if flags:
            usage.append("[OPTIONS]")
        if self._commands is not None:
            usage.append(self._commands.metavar)
        usage += [_usage_word(a) for a in self._args]
        out = ["Usage:  " + " ".join(usage), ""]
        if self.description:
            out += [self.description, ""]
        if self._commands is not None:
            out += self._commands.listing()
        explained = [a for a in self._args if a.help and a.help != SUPPRESS]
        if explained:
            out += [
                "Arguments:",
                *_rows([f"  {a.metavar or a.dest.upper()}" for a in explained], explained, width),
                "",
            ]
        if flags:
            out += ["Options:", *_flag_rows(flags, width), ""]
        if self._commands is not None:
            out.append(
                f"Run '{self.prog} {self._commands.metavar} --help' for more information on a command."
            )
        return "\n".join(out).rstrip("\n") + "\n"

    def print_help(self, file: Any = None) -> None:
        (file or sys.stdout).write(self.format_help())


class Commands:
    """The commands of a parser: ``dockyard COMMAND``, ``dockyard container COMMAND``."""

    def __init__(self, parent: Parser, dest: str | None, metavar: str) -> None:
        self.parent = parent
        self.dest = dest
        self.metavar = metavar
        #: Every name and alias, with the parser it runs.
        self.choices: dict[str, Parser] = {}
        self._help: dict[str, str] = {}

    def add_parser(
        self,
        name: str,
        help: str | None = None,
        aliases: Sequence[str] = (),
        add_help: bool = True,
        description: str | None = None,
    ) -> Parser:
        """A new command's parser, whose help shows ``description`` (default: ``help``)."""
        p = Parser(f"{self.parent.prog} {name}", description or help or "", add_help=add_help)
        for n in (name, *aliases):
            if n in self.choices:
                raise ValueError(f"{self.parent.prog}: command {n} is defined twice")
            self.choices[n] = p
        if help != SUPPRESS:
            self._help[name] = help or ""
        return p

    def dispatch(self, given: list[str], values: dict[str, Any]) -> None:
        if not given:
            return
        word = given[0]
        child = self.choices.get(word)
        if child is None:
            top, _, path = self.parent.prog.partition(" ")
            from .refused import command_reason, refuse

            why = command_reason(f"{path} {word}")
            if why is not None:
                refuse(top, f"{path} {word}".strip(), why, self.parent.prog)
            sys.stderr.write(
                f"{top}: '{(path + ' ' + word).strip()}' is not a {top} command.\n"
                f"See '{self.parent.prog} --help'\n"
            )
            raise SystemExit(1)  # Docker's words and status for an unknown command
        if self.dest:
            values[self.dest] = word
        child._parse(given[1:], values)

    def listing(self) -> list[str]:
        """The help's list of commands: groups of commands first, as Docker's "Management Commands"."""
        names = sorted(self._help)
        pad = max([10, *map(len, names)]) + 2
        groups = [n for n in names if self.choices[n]._commands is not None]
        out: list[str] = []
        for title, section in (
            ("Management Commands:", groups),
            ("Commands:", [n for n in names if n not in groups]),
        ):
            if section:
                out += [title, *(f"  {n.ljust(pad)}{self._help[n]}".rstrip() for n in section), ""]
        return out


def _long_name(flag: Argument) -> str:
    """The flag's first long name, else its short one: what it is sorted and known by."""
    return next((n for n in flag.names if len(n) > 2), flag.names[0])


def _usage_word(arg: Argument) -> str:
    m = arg.metavar or arg.dest.upper()
    return {
        None: m,
        "?": f"[{m}]",
        "*": f"[{m}...]",
        "+": f"{m} [{m}...]",
        # a command line (COMMAND [ARG...]), or what a metavar names (top's [ps OPTIONS])
        REMAINDER: f"[{m}]" if arg.metavar else f"[{m}] [ARG...]",
    }[arg.nargs]


def _flag_rows(flags: list[Argument], width: int) -> list[str]:
    """Docker's flag table: ``  -t, --time int   help``."""
    heads = []
    for f in flags:
        short = [n for n in f.names if len(n) == 2]
        long = [n for n in f.names if len(n) > 2]
        head = (
            f"  {short[0]}, {long[0]}" if short and long else f"  {short[0]}" if short else f"      {long[0]}"
        )
        word = f.type_word()
        heads.append(f"{head} {word}" if word else head)
    return _rows(heads, flags, width)


def _rows(heads: list[str], args: list[Argument], width: int) -> list[str]:
    """Each head with its argument's help, the help column aligned and wrapped at ``width``."""
    column = max(map(len, heads)) + 3
    rows = []
    for head, arg in zip(heads, args, strict=True):
        text = (arg.help or "") + arg.default_note()
        lines = _wrap(text, width - column) if width - column >= 20 else [text]
        rows.append((head.ljust(column) + lines[0]).rstrip())
        rows += [" " * column + line for line in lines[1:]]
    return rows


def _wrap(text: str, width: int) -> list[str]:
    lines = [""]
    for word in text.split(" "):
        if lines[-1] and len(lines[-1]) + 1 + len(word) > width:
            lines.append(word)
        else:
            lines[-1] = f"{lines[-1]} {word}" if lines[-1] else word
    return lines


def _width() -> int:
    """The terminal's width for help ($COLUMNS, else the terminal's, else 80), less one column."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 80
    return columns - 1
