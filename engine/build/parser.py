"""Dockerfile parser: turns Dockerfile text into a typed list of instructions, with Docker's syntax rules.

The rules are those of Docker's BuildKit frontend:

- Parser directives (``# syntax=``, ``# escape=``, ``# check=``) are recognised only in the comment lines at
  the very top of the file; the first other line (even an empty one) ends them.
- A line ending in the escape character (``\\`` by default, or `````` with ``# escape=```) continues on the
  next line; comment lines and empty lines inside a continuation are dropped.
- Keywords are case-insensitive. Words starting with ``--`` right after the keyword are flags.
- CMD, ENTRYPOINT, RUN, SHELL, ADD, COPY and VOLUME accept a JSON array of strings (exec form); anything
  that is not valid JSON falls back to the shell form, but a valid array holding non-strings is an error.
- RUN, COPY and ADD (also under ONBUILD) may carry here-documents (``<<EOF``, ``<<-EOF``, ``<<'EOF'``).

:func:`parse` returns a :class:`Dockerfile`; every problem raises :class:`DockerfileError` (a BuildError)
whose message names the file and line, e.g. ``Dockerfile:7: unknown instruction: FOOBAR``. :func:`dump`
prints the result in the s-expression format of BuildKit's parser test files.
"""

from __future__ import annotations

import os
import re

from engine.build.words import GO_SPACE_CHARS, go_quote, is_go_space, process
from engine.errors import BuildError
from engine.lean import jsonio
from engine.lean.record import field, record

__all__ = [
    "INSTRUCTIONS",
    "MAX_DOCKERFILE_BYTES",
    "MAX_LINE_BYTES",
    "Dockerfile",
    "DockerfileError",
    "Healthcheck",
    "Heredoc",
    "Instruction",
    "Stage",
    "dump",
    "healthcheck_config",
    "heredoc_marker",
    "parse",
    "parse_duration",
    "parse_file",
]

INSTRUCTIONS = (
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
)

MAX_DOCKERFILE_BYTES = 10 << 20
"""A Dockerfile bigger than this (10 MiB) is refused before it is parsed; real ones are a few KiB."""
MAX_LINE_BYTES = 1 << 20
"""A line longer than this (1 MiB) is refused (Docker's own parser stops at 64 KiB)."""

_DIRECTIVES = ("syntax", "escape", "check")
_HEREDOC_INSTRUCTIONS = frozenset({"ADD", "COPY", "RUN"})
_STAGE_NAME_RE = re.compile(r"[a-z][a-z0-9\-_.]*\Z")
_WS_RE = re.compile(r"[\t\v\f\r ]+")
_GO_S = r"[\t\n\f\r ]"  # Go's regexp \s
_DIRECTIVE_RE = re.compile(rf"([a-zA-Z][a-zA-Z0-9]*){_GO_S}*={_GO_S}*(.+?){_GO_S}*\Z")
_HEREDOC_RE = re.compile(rf"([0-9]*)<<(-?){_GO_S}*([^<]*)\Z")

_BOOL, _STRING, _STRINGS = "bool", "string", "strings"
_FLAG_SPECS: dict[str, dict[str, str]] = {
    "ADD": {
        "chown": _STRING,
        "chmod": _STRING,
        "link": _BOOL,
        "checksum": _STRING,
        "keep-git-dir": _BOOL,
        "exclude": _STRINGS,
        "unpack": _BOOL,
    },
    "COPY": {
        "chown": _STRING,
        "chmod": _STRING,
        "from": _STRING,
        "link": _BOOL,
        "parents": _BOOL,
        "exclude": _STRINGS,
    },
    "FROM": {"platform": _STRING},
    "RUN": {"mount": _STRINGS, "network": _STRING, "security": _STRING},
    "HEALTHCHECK": {
        "interval": _STRING,
        "timeout": _STRING,
        "start-period": _STRING,
        "start-interval": _STRING,
        "retries": _STRING,
    },
}


class DockerfileError(BuildError):
    """A Dockerfile that cannot be parsed; ``filename`` and ``line`` say where (line is None for the file)."""

    def __init__(self, filename: str, line: int | None, reason: str) -> None:
        where = f"{filename}:{line}" if line else filename
        super().__init__(f"{where}: {reason}")
        self.filename = filename
        self.line = line
        self.reason = reason


class _SyntaxError(Exception):
    """Raised inside the parser; turned into a DockerfileError once the line is known."""


@record(frozen=True)
class Heredoc:
    """A here-document attached to RUN, COPY or ADD.

    ``content`` is the body as the builder should use it: every line with its newline, and with leading
    tabs already removed when ``chomp_tabs`` (``<<-EOF``). ``expand`` is False when the delimiter was
    quoted (``<<'EOF'``, ``<<"EOF"``): then variables in the body must not be expanded. ``fd`` is the
    file descriptor written before ``<<`` (``3<<EOF``), 0 when none.
    """

    name: str
    content: str
    expand: bool = True
    chomp_tabs: bool = False
    fd: int = 0


@record
class Instruction:
    """One Dockerfile instruction.

    ``args`` depends on the instruction, as in Docker's AST:
    ENV/LABEL: ``[key1, value1, key2, value2, ...]`` (values still quoted as written; expansion removes the
    quotes); ARG: the words as written (``name`` or ``name=default``); exec form (``json``): the array's
    strings; shell form of RUN/CMD/ENTRYPOINT/SHELL: one string, the command line; ADD/COPY/VOLUME/EXPOSE/
    FROM: the words split on white space; HEALTHCHECK: ``[type, *command]``; MAINTAINER/STOPSIGNAL/USER/
    WORKDIR: the rest of the line as one string; ONBUILD: ``[trigger keyword, *trigger args]`` with the
    trigger itself in ``sub``.

    ``original`` is the logical line (continuations joined, comments dropped); ``source`` is the raw text
    of every line the instruction spans, here-document bodies included.
    """

    keyword: str
    args: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    json: bool = False
    heredocs: list[Heredoc] = field(default_factory=list)
    original: str = ""
    start_line: int = 0
    end_line: int = 0
    sub: Instruction | None = None
    source: str = ""
    filename: str = "Dockerfile"
    legacy_form: bool = False

    @property
    def known(self) -> bool:
        return self.keyword in INSTRUCTIONS

    @property
    def location(self) -> str:
        return f"{self.filename}:{self.start_line}"

    def error(self, reason: str) -> DockerfileError:
        """An error located at this instruction (for callers that find a problem later)."""
        return DockerfileError(self.filename, self.start_line, reason)

    def pairs(self) -> list[tuple[str, str]]:
        """ENV/LABEL: the (key, value) pairs in order."""
        return list(zip(self.args[0::2], self.args[1::2], strict=False))

    def arg_pairs(self) -> list[tuple[str, str | None]]:
        """ARG: (name, default) pairs; default is None when the ARG has none."""
        out: list[tuple[str, str | None]] = []
        for word in self.args:
            key, sep, value = word.partition("=")
            out.append((key, value if sep else None))
        return out

    def flag_values(self, name: str) -> list[str]:
        """Every value given to ``--name`` in order ("" for a bare ``--name``)."""
        out = []
        for flag in self.flags:
            key, _, value = flag[2:].partition("=")
            if key == name:
                out.append(value)
        return out

    def flag(self, name: str) -> str | None:
        """The value of ``--name=value`` (the last one), or None when the flag is absent."""
        values = self.flag_values(name)
        return values[-1] if values else None

    def bool_flag(self, name: str) -> bool:
        """Whether a boolean flag (``--link``, ``--link=true``) is on."""
        value = self.flag(name)
        return value is not None and value.lower() in ("", "true")

    @property
    def onbuild_expression(self) -> str:
        """ONBUILD: the trigger as it is stored in the image (``RUN echo hi``, here-documents included)."""
        text = re.sub(r"(?i)^\s*ONBUILD\s*", "", self.original)
        for heredoc in self.heredocs:
            text += "\n" + heredoc.content + heredoc.name
        return text


@record
class Stage:
    """A build stage: its FROM line and the instructions up to the next FROM."""

    index: int
    name: str | None
    base: str
    platform: str | None
    from_instruction: Instruction
    instructions: list[Instruction]


@record
class Dockerfile:
    """A parsed Dockerfile: its parser directives and its instructions in order."""

    instructions: list[Instruction]
    directives: dict[str, str] = field(default_factory=dict)
    filename: str = "Dockerfile"
    warnings: list[str] = field(default_factory=list)

    @property
    def escape(self) -> str:
        return self.directives.get("escape", "\\")

    @property
    def syntax(self) -> str | None:
        return self.directives.get("syntax")

    def meta_args(self) -> list[Instruction]:
        """The ARG instructions before the first FROM (usable in FROM lines only)."""
        out = []
        for instr in self.instructions:
            if instr.keyword == "FROM":
                break
            if instr.keyword == "ARG":
                out.append(instr)
        return out

    def stages(self) -> list[Stage]:
        """The build stages in order; stage names are lower-cased as Docker does."""
        stages: list[Stage] = []
        for instr in self.instructions:
            if instr.keyword == "FROM":
                name = instr.args[2].lower() if len(instr.args) == 3 else None
                stages.append(
                    Stage(
                        index=len(stages),
                        name=name,
                        base=instr.args[0] if instr.args else "",
                        platform=instr.flag("platform"),
                        from_instruction=instr,
                        instructions=[],
                    )
                )
            elif stages:
                stages[-1].instructions.append(instr)
        return stages


@record(frozen=True)
class Healthcheck:
    """HEALTHCHECK as it goes into an image config; durations in nanoseconds, 0 meaning "the default"."""

    test: list[str]
    interval: int = 0
    timeout: int = 0
    start_period: int = 0
    start_interval: int = 0
    retries: int = 0


# -- small helpers ---------------------------------------------------------------------------------------


def _trim_newline(line: str) -> str:
    return line.rstrip("\r\n")


def _is_comment(line: str) -> bool:
    return _trim_newline(line).lstrip(GO_SPACE_CHARS).startswith("#")


def _split_lines(text: str) -> list[str]:
    """Split like Go's line scanner, keeping each line's newline."""
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _continuation_re(escape: str) -> re.Pattern[str]:
    e = re.escape(escape)
    return re.compile(rf"([^{e}]){e}[ \t]*\Z|\A{e}[ \t]*\Z")


def _extract_flags(line: str) -> tuple[str, list[str]]:
    """Split the ``--flag=value`` words off the start of an instruction's arguments."""
    words: list[str] = []
    word: list[str] = []
    in_spaces, in_word, in_quote = 0, 1, 2
    phase = in_spaces
    quote = ""
    blank_ok = False
    pos, n = 0, len(line)
    while pos <= n:
        ch = line[pos] if pos < n else ""
        if phase == in_spaces:
            if pos == n:
                break
            if is_go_space(ch):
                pos += 1
                continue
            if not (ch == "-" and pos + 1 < n and line[pos + 1] == "-"):
                return line[pos:], words
            phase = in_word
        if pos == n:
            text = "".join(word)
            if text != "--" and (blank_ok or text):
                words.append(text)
            break
        if phase == in_word:
            if is_go_space(ch):
                phase = in_spaces
                text = "".join(word)
                if text == "--":
                    return line[pos:], words
                if blank_ok or text:
                    words.append(text)
                word = []
                blank_ok = False
                pos += 1
                continue
            if ch in "'\"":
                quote = ch
                blank_ok = True
                phase = in_quote
                pos += 1
                continue
            if ch == "\\":
                if pos + 1 == n:
                    pos += 1
                    continue
                pos += 1
                ch = line[pos]
            word.append(ch)
            pos += 1
            continue
        # in_quote
        if ch == quote:
            phase = in_word
            pos += 1
            continue
        if ch == "\\":
            if pos + 1 == n:
                phase = in_word
                pos += 1
                continue
            pos += 1
            ch = line[pos]
        word.append(ch)
        pos += 1
    return "", words


def _split_command(line: str) -> tuple[str, list[str], str]:
    parts = _WS_RE.split(line.strip(GO_SPACE_CHARS), maxsplit=1)
    flags: list[str] = []
    rest = ""
    if len(parts) == 2:
        rest, flags = _extract_flags(parts[1])
    return parts[0], flags, rest.strip(GO_SPACE_CHARS)


def _parse_words(rest: str, escape: str) -> list[str]:
    """Split on white space outside quotes, keeping quotes and escapes (expansion removes them later)."""
    words: list[str] = []
    word: list[str] = []
    in_spaces, in_word, in_quote = 0, 1, 2
    phase = in_spaces
    quote = ""
    blank_ok = False
    pos, n = 0, len(rest)
    while pos <= n:
        ch = rest[pos] if pos < n else ""
        if phase == in_spaces:
            if pos == n:
                break
            if is_go_space(ch):
                pos += 1
                continue
            phase = in_word
        if pos == n:
            if blank_ok or word:
                words.append("".join(word))
            break
        if phase == in_word:
            if is_go_space(ch):
                phase = in_spaces
                if blank_ok or word:
                    words.append("".join(word))
                word = []
                blank_ok = False
                pos += 1
                continue
            if ch in "'\"":
                quote = ch
                blank_ok = True
                phase = in_quote
            if ch == escape:
                if pos + 1 == n:
                    pos += 1
                    continue
                word.append(ch)
                pos += 1
                ch = rest[pos]
            word.append(ch)
            pos += 1
            continue
        # in_quote
        if ch == quote:
            phase = in_word
        if ch == escape and quote != "'":
            if pos + 1 == n:
                phase = in_word
                pos += 1
                continue
            word.append(ch)
            pos += 1
            ch = rest[pos]
        word.append(ch)
        pos += 1
    return words


def _parse_json(rest: str) -> list[str] | None:
    """The strings of a JSON array, None when ``rest`` is not a JSON array (fall back to shell form)."""
    rest = rest.lstrip(GO_SPACE_CHARS)
    if not rest.startswith("["):
        return None
    try:
        value = jsonio.loads(rest, constants=False)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, list):
        return None
    out = []
    for item in value:
        if not isinstance(item, str):
            raise _SyntaxError("when using JSON array syntax, arrays must be comprised of strings only")
        out.append(re.sub("[\ud800-\udfff]", "\ufffd", item))
    return out


def _whitespace_list(rest: str) -> list[str]:
    return _WS_RE.split(rest) if rest else []


def _maybe_json(rest: str) -> tuple[list[str], bool]:
    if not rest:
        return [], False
    parsed = _parse_json(rest)
    if parsed is not None:
        return parsed, True
    return [rest], False


def _maybe_json_to_list(rest: str) -> tuple[list[str], bool]:
    parsed = _parse_json(rest)
    if parsed is not None:
        return parsed, True
    return _whitespace_list(rest), False


def _name_val(rest: str, keyword: str, escape: str) -> tuple[list[str], bool]:
    words = _parse_words(rest, escape)
    if not words:
        return [], False
    if "=" not in words[0]:
        parts = _WS_RE.split(rest, maxsplit=1)
        if len(parts) < 2:
            raise _SyntaxError(f"{keyword} must have two arguments")
        return [parts[0], parts[1]], True
    args: list[str] = []
    for word in words:
        if "=" not in word:
            raise _SyntaxError(
                f"Syntax error - can't find = in {go_quote(word)}. Must be of the form: name=value"
            )
        key, _, value = word.partition("=")
        args += [key, value]
    return args, False


def _health(rest: str) -> tuple[list[str], bool]:
    sep = 0
    while sep < len(rest) and not is_go_space(rest[sep]):
        sep += 1
    if sep == 0:
        return [], False
    nxt = sep
    while nxt < len(rest) and is_go_space(rest[nxt]):
        nxt += 1
    cmd, is_json = _maybe_json(rest[nxt:])
    return [rest[:sep], *cmd], is_json


def _parse_heredoc(word: str) -> Heredoc | None:
    match = _HEREDOC_RE.match(word)
    if not match:
        return None
    rest = match.group(3)
    if not rest:
        return None
    words = process(rest, {}, "\\", skip_unset=True)[1]
    if len(words) != 1:
        return None
    raw_words = process(rest, {}, "\\", skip_unset=True, raw_quotes=True)[1]
    if len(raw_words) != 1:
        raise _SyntaxError(f"internal lexing of heredoc produced inconsistent results: {rest}")
    name = words[0]
    quotes = name.count("'") + name.count('"')
    raw_quotes = raw_words[0].count("'") + raw_words[0].count('"')
    return Heredoc(
        name=name,
        content="",
        expand=quotes == raw_quotes,
        chomp_tabs=match.group(2) == "-",
        fd=int(match.group(1) or 0),
    )


def heredoc_marker(word: str) -> Heredoc | None:
    """The here-document a word like ``<<EOF`` or ``<<-'EOF'`` introduces (empty content), or None."""
    try:
        return _parse_heredoc(word)
    except (BuildError, _SyntaxError):
        return None


def _heredocs_from_line(line: str) -> list[Heredoc]:
    try:
        words = process(
            line, {}, "\\", raw_quotes=True, raw_escapes=True, skip_unset=True, heredoc_words=True
        )[1]
    except BuildError:
        return []
    out = []
    for word in words:
        heredoc = _parse_heredoc(word)
        if heredoc is not None:
            out.append(heredoc)
    return out


def _chomp(content: str) -> str:
    return re.sub(r"(?m)^\t+", "", content)


# -- durations and HEALTHCHECK --------------------------------------------------------------------------

# A duration unit's nanoseconds (exact arithmetic with decimal, imported only when a duration is read: it
# costs ~1 ms to load, on every build otherwise).
_UNITS = {
    "ns": 1,
    "us": 1000,
    "\u00b5s": 1000,
    "\u03bcs": 1000,
    "ms": 1000_000,
    "s": 1000_000_000,
    "m": 60_000_000_000,
    "h": 3600_000_000_000,
}
_DURATION_PART_RE = re.compile(r"([0-9]*(?:\.[0-9]*)?)([^0-9.]*)")


def parse_duration(text: str) -> int:
    """Parse a Go duration (``30s``, ``1m30s``, ``1.5h``, ``250ms``, ``0``) into nanoseconds."""
    s = text
    negative = False
    if s[:1] in ("+", "-"):
        negative = s[0] == "-"
        s = s[1:]
    if s == "0":
        return 0
    if not s:
        raise ValueError(f"time: invalid duration {go_quote(text)}")
    from decimal import Decimal, InvalidOperation

    total = Decimal(0)
    pos = 0
    while pos < len(s):
        match = _DURATION_PART_RE.match(s, pos)
        if not match or match.group(1) in ("", ".") or match.end() == pos:
            raise ValueError(f"time: invalid duration {go_quote(text)}")
        number, unit = match.groups()
        if not unit:
            raise ValueError(f"time: missing unit in duration {go_quote(text)}")
        if unit not in _UNITS:
            raise ValueError(f"time: unknown unit {go_quote(unit)} in duration {go_quote(text)}")
        try:
            total += Decimal(number) * Decimal(_UNITS[unit])
        except InvalidOperation:
            raise ValueError(f"time: invalid duration {go_quote(text)}") from None
        pos = match.end()
    if total > 2**63 - 1:
        raise ValueError(f"time: invalid duration {go_quote(text)}")
    return int(-total if negative else total)


def healthcheck_config(instr: Instruction) -> Healthcheck:
    """The image-config health check a HEALTHCHECK instruction sets (raises DockerfileError when invalid)."""
    try:
        return _healthcheck(instr)
    except _SyntaxError as exc:
        raise instr.error(str(exc)) from None


def _healthcheck(instr: Instruction) -> Healthcheck:
    if not instr.args:
        raise _SyntaxError("HEALTHCHECK requires at least one argument")
    kind = instr.args[0].upper()
    command = instr.args[1:]
    if kind == "NONE":
        if command:
            raise _SyntaxError("HEALTHCHECK NONE takes no arguments")
        return Healthcheck(test=["NONE"])
    _check_flags(instr)
    if kind != "CMD":
        raise _SyntaxError(f"Unknown type {go_quote(kind)} in HEALTHCHECK (try CMD)")
    if not command:
        raise _SyntaxError("Missing command after HEALTHCHECK CMD")
    test = ["CMD", *command] if instr.json else ["CMD-SHELL", *command]

    def interval(name: str) -> int:
        value = instr.flag(name)
        if not value:
            return 0
        try:
            nanos = parse_duration(value)
        except ValueError as exc:
            raise _SyntaxError(str(exc)) from None
        if 0 < nanos < 1_000_000 or nanos < 0:
            raise _SyntaxError(f"Interval {go_quote(name)} cannot be less than 1ms")
        return nanos

    retries = 0
    value = instr.flag("retries")
    if value:
        try:
            retries = int(value, 10)
        except ValueError:
            raise _SyntaxError(f"strconv.ParseInt: parsing {go_quote(value)}: invalid syntax") from None
        if retries < 0:
            raise _SyntaxError(f"--retries cannot be negative ({retries})")
    return Healthcheck(
        test=test,
        interval=interval("interval"),
        timeout=interval("timeout"),
        start_period=interval("start-period"),
        start_interval=interval("start-interval"),
        retries=retries,
    )


# -- validation of one instruction (BuildKit's "instructions" layer) --------------------------------------


def _check_flags(instr: Instruction) -> None:
    spec = _FLAG_SPECS.get(instr.keyword, {})
    used: set[str] = set()
    for flag in instr.flags:
        if not flag.startswith("--"):
            raise _SyntaxError(f"arguments must start with -- : {flag}")
        name, sep, value = flag[2:].partition("=")
        kind = spec.get(name)
        if kind is None:
            hint = _suggest(name, list(spec))
            raise _SyntaxError(f"unknown flag: {name}{hint}")
        if name in used and kind != _STRINGS:
            raise _SyntaxError(f"duplicate flag specified: {name}")
        used.add(name)
        if kind == _BOOL:
            if sep and not value:
                raise _SyntaxError(f"missing a value on flag: {name}")
            if value.lower() not in ("", "true", "false"):
                raise _SyntaxError(f"expecting boolean value for flag {name}, not: {value}")
        elif not sep:
            raise _SyntaxError(f"missing a value on flag: {name}")


def _suggest(word: str, choices: list[str]) -> str:
    import difflib  # only on the way to an error

    by_lower = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    return f" (did you mean {by_lower[close[0]]}?)" if close else ""


def _exactly_one(instr: Instruction) -> None:
    if len(instr.args) != 1:
        raise _SyntaxError(f"{instr.keyword} requires exactly one argument")


def _at_least_one(instr: Instruction) -> None:
    if not instr.args:
        raise _SyntaxError(f"{instr.keyword} requires at least one argument")


def _validate(instr: Instruction) -> None:
    kw = instr.keyword
    if not instr.known:
        written = instr.original.strip(GO_SPACE_CHARS).split(maxsplit=1)
        shown = written[0] if written else kw
        raise _SyntaxError(f"unknown instruction: {shown}{_suggest(shown, list(INSTRUCTIONS))}")
    if kw == "HEALTHCHECK":
        _healthcheck(instr)
        return
    _check_flags(instr)
    if kw in ("ADD", "COPY"):
        if len(instr.args) < 2:
            raise _SyntaxError(
                f"{kw} requires at least two arguments, but only one was provided. "
                "Destination could not be determined"
            )
        if not instr.json and heredoc_marker(instr.args[-1]):
            raise _SyntaxError(f"{kw} cannot accept a heredoc as a destination")
    elif kw == "ARG":
        _at_least_one(instr)
        for word in instr.args:
            if word.startswith("="):
                raise _SyntaxError("ARG names can not be blank")
    elif kw in ("ENV", "LABEL"):
        _at_least_one(instr)
        if any(not key for key in instr.args[0::2]):
            raise _SyntaxError(f"{kw} names can not be blank")
    elif kw in ("EXPOSE", "VOLUME"):
        _at_least_one(instr)
        if kw == "VOLUME" and any(not v.strip(GO_SPACE_CHARS) for v in instr.args):
            raise _SyntaxError("VOLUME specified can not be an empty string")
    elif kw == "FROM":
        args = instr.args
        if len(args) == 3 and args[1].lower() == "as":
            if not _STAGE_NAME_RE.match(args[2].lower()):
                raise _SyntaxError(
                    f"invalid name for build stage: {go_quote(args[2])}, "
                    "name can't start with a number or contain symbols"
                )
        elif len(args) != 1:
            raise _SyntaxError("FROM requires either one or three arguments")
    elif kw in ("MAINTAINER", "STOPSIGNAL", "USER", "WORKDIR"):
        _exactly_one(instr)
    elif kw == "RUN":
        if not instr.args:
            raise _SyntaxError("RUN requires at least one argument")
    elif kw == "SHELL":
        _at_least_one(instr)
        if not instr.json:
            raise _SyntaxError("SHELL requires the arguments to be in JSON form")
    elif kw == "ONBUILD":
        if instr.sub is None:
            raise _SyntaxError("ONBUILD requires at least one argument")
        trigger = instr.sub.keyword
        if trigger == "ONBUILD":
            raise _SyntaxError("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
        if trigger in ("MAINTAINER", "FROM"):
            raise _SyntaxError(f"{trigger} isn't allowed as an ONBUILD trigger")
        _validate(instr.sub)


# -- the parser --------------------------------------------------------------------------------------------


def _size_text(n: int) -> str:
    return f"{n >> 20} MiB" if n % (1 << 20) == 0 else f"{n} bytes"


class _Parser:
    def __init__(self, text: str, filename: str, strict: bool) -> None:
        # Bounds in characters (the text is decoded; a file's bytes were bounded as it was read).
        if len(text) > MAX_DOCKERFILE_BYTES:
            raise DockerfileError(
                filename,
                None,
                f"the file is more than the {_size_text(MAX_DOCKERFILE_BYTES)} a Dockerfile may have",
            )
        if text.startswith("\ufeff"):
            text = text[1:]
        self.lines = _split_lines(text)
        if len(text) > MAX_LINE_BYTES:
            for lineno, line in enumerate(self.lines, 1):
                if len(line) > MAX_LINE_BYTES:
                    raise DockerfileError(
                        filename,
                        lineno,
                        f"dockerfile line greater than max allowed size of {_size_text(MAX_LINE_BYTES)}",
                    )
        self.filename = filename
        self.strict = strict
        self.escape = "\\"
        self.continuation = _continuation_re(self.escape)
        self.directives: dict[str, str] = {}
        self.directives_done = False
        self.warnings: list[str] = []

    def fail(self, line: int | None, reason: str) -> DockerfileError:
        return DockerfileError(self.filename, line, reason)

    # Parser directives are the comment lines "# key=value" at the very top of the file.
    def directive(self, token: str, lineno: int) -> None:
        if self.directives_done:
            return
        if not token.startswith("#"):
            self.directives_done = True
            return
        match = _DIRECTIVE_RE.match(token[1:].lstrip(GO_SPACE_CHARS))
        key = match.group(1).lower() if match else ""
        if not match or key not in _DIRECTIVES:
            self.directives_done = True
            return
        if key in self.directives:
            raise self.fail(lineno, f"only one {key} parser directive can be used")
        value = match.group(2)
        if key == "escape":
            if value not in ("`", "\\"):
                raise self.fail(lineno, f"invalid escape token '{value}' does not match ` or \\")
            self.escape = value
            self.continuation = _continuation_re(value)
        self.directives[key] = value

    def process_line(self, raw: str, lineno: int, strip_left: bool) -> str:
        token = _trim_newline(raw)
        if strip_left:
            token = token.lstrip(GO_SPACE_CHARS)
        self.directive(token, lineno)
        return "" if _is_comment(token) else token

    def trim_continuation(self, line: str) -> tuple[str, bool]:
        match = self.continuation.search(line)
        if match:
            return line[: match.start()] + (match.group(1) or ""), False
        return line, True

    def node_from_line(self, line: str, depth: int = 0) -> Instruction:
        cmd, flags, rest = _split_command(line)
        keyword = cmd.upper()
        instr = Instruction(keyword=keyword, flags=flags, original=line, filename=self.filename)
        if keyword in ("ADD", "COPY", "VOLUME"):
            instr.args, instr.json = _maybe_json_to_list(rest)
        elif keyword in ("CMD", "ENTRYPOINT", "RUN", "SHELL"):
            instr.args, instr.json = _maybe_json(rest)
        elif keyword == "ARG":
            instr.args = _parse_words(rest, self.escape)
        elif keyword in ("ENV", "LABEL"):
            instr.args, instr.legacy_form = _name_val(rest, keyword, self.escape)
        elif keyword in ("EXPOSE", "FROM"):
            instr.args = _whitespace_list(rest)
        elif keyword == "HEALTHCHECK":
            instr.args, instr.json = _health(rest)
        elif keyword in ("MAINTAINER", "STOPSIGNAL", "USER", "WORKDIR"):
            instr.args = [rest] if rest else []
        elif keyword == "ONBUILD" and rest:
            if depth >= 50:
                raise _SyntaxError("ONBUILD nested too deeply")
            instr.sub = self.node_from_line(rest, depth + 1)
            instr.args = [instr.sub.keyword, *instr.sub.args]
        return instr

    def parse(self) -> Dockerfile:
        lines = self.lines
        instructions: list[Instruction] = []
        i, current = 0, 0
        while i < len(lines):
            token = self.process_line(lines[i], current + 1, strip_left=True)
            i += 1
            current += 1
            start = current
            line, at_end = self.trim_continuation(token)
            if at_end and line == "":
                continue
            empty_continuation = False
            while not at_end and i < len(lines):
                raw = lines[i]
                token = self.process_line(raw, current + 1, strip_left=False)
                i += 1
                current += 1
                if _is_comment(raw):
                    continue
                if not token.lstrip(GO_SPACE_CHARS):
                    empty_continuation = True
                    continue
                more, at_end = self.trim_continuation(token)
                line += more
            if not line.strip(GO_SPACE_CHARS):
                continue  # a lone escape character continued into nothing
            if empty_continuation:
                self.warnings.append(f"{self.filename}:{start}: empty continuation line found in: {line}")
            try:
                instr = self.node_from_line(line)
                target = instr.sub if instr.keyword == "ONBUILD" and instr.sub else instr
                heredocs: list[Heredoc] = []
                if target.keyword in _HEREDOC_INSTRUCTIONS and not target.json and "<<" in line:
                    heredocs = _heredocs_from_line(line)
            except (_SyntaxError, BuildError) as exc:
                raise self.fail(start, exc.message if isinstance(exc, BuildError) else str(exc)) from None
            for index, heredoc in enumerate(heredocs):
                body: list[str] = []
                terminated = False
                while i < len(lines):
                    raw = lines[i]
                    i += 1
                    current += 1
                    candidate = _trim_newline(raw)
                    if heredoc.chomp_tabs:
                        candidate = candidate.lstrip("\t")
                    if candidate == heredoc.name:
                        terminated = True
                        break
                    body.append(raw)
                if not terminated:
                    raise self.fail(start, f"unterminated heredoc (no line {go_quote(heredoc.name)} ends it)")
                content = "".join(body)
                heredocs[index] = Heredoc(
                    name=heredoc.name,
                    content=_chomp(content) if heredoc.chomp_tabs else content,
                    expand=heredoc.expand,
                    chomp_tabs=heredoc.chomp_tabs,
                    fd=heredoc.fd,
                )
            instr.heredocs = heredocs
            if instr.sub is not None:
                instr.sub.heredocs = list(heredocs)
            for node in (instr, instr.sub):
                if node is not None:
                    node.start_line, node.end_line = start, current
                    node.source = "".join(lines[start - 1 : current])
            if self.strict:
                try:
                    _validate(instr)
                except _SyntaxError as exc:
                    raise self.fail(start, str(exc)) from None
            instructions.append(instr)

        if not instructions:
            raise self.fail(None, "file with no instructions")
        if self.strict:
            self.check_stages(instructions)
        return Dockerfile(
            instructions=instructions,
            directives=dict(self.directives),
            filename=self.filename,
            warnings=self.warnings,
        )

    def check_stages(self, instructions: list[Instruction]) -> None:
        names: set[str] = set()
        seen_from = False
        for instr in instructions:
            if instr.keyword == "FROM":
                seen_from = True
                if len(instr.args) == 3:
                    name = instr.args[2].lower()
                    if name in names:
                        raise self.fail(instr.start_line, f"duplicate stage name {go_quote(name)}")
                    names.add(name)
            elif not seen_from and instr.keyword != "ARG":
                raise self.fail(
                    instr.start_line,
                    f"no build stage in current context ({instr.keyword} before the first FROM)",
                )
        if not seen_from:
            raise self.fail(None, "dockerfile contains no stages to build (no FROM instruction)")


def parse(text: str, filename: str = "Dockerfile", *, strict: bool = True) -> Dockerfile:
    """Parse Dockerfile text.

    With ``strict`` (the default) every instruction is also checked the way Docker checks it before a
    build starts (known keyword, argument count, flags, stage names, JSON form for SHELL, FROM first...).
    ``strict=False`` keeps only the syntax rules, like BuildKit's bare parser: unknown instructions are
    kept (with no arguments). Raises DockerfileError (a BuildError) naming the file and line.
    """
    return _Parser(text, filename, strict).parse()


def parse_file(path: str | os.PathLike[str], *, strict: bool = True) -> Dockerfile:
    """Read and parse a Dockerfile from disk (undecodable bytes become U+FFFD)."""
    path = os.fspath(path)
    name = os.path.basename(path)
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_DOCKERFILE_BYTES + 1)  # a bigger file is refused without reading it all
    except OSError as exc:
        raise BuildError(f"failed to read {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_DOCKERFILE_BYTES:
        raise DockerfileError(
            name,
            None,
            f"the file is more than the {_size_text(MAX_DOCKERFILE_BYTES)} a Dockerfile may have",
        )
    return parse(data.decode("utf-8", errors="replace"), name, strict=strict)


# -- dump --------------------------------------------------------------------------------------------------


def _dump_node(instr: Instruction) -> str:
    text = instr.keyword.lower()
    if instr.flags:
        text += " [" + " ".join(go_quote(f) for f in instr.flags) + "]"
    if instr.sub is not None:
        text += " (" + _dump_node(instr.sub) + ")"
    elif not instr.known:
        text += ' ""'  # Docker's AST keeps one empty argument for an instruction it does not know
    else:
        for arg in instr.args:
            text += " " + go_quote(arg)
    return text.strip()


def _dump_heredoc(heredoc: Heredoc) -> str:
    marks = [m for m, on in (("chomp", heredoc.chomp_tabs), ("noexpand", not heredoc.expand)) if on]
    if heredoc.fd:
        marks.append(f"fd={heredoc.fd}")
    text = "(heredoc"
    if marks:
        text += " [" + " ".join(go_quote(m) for m in marks) + "]"
    return f"{text} {go_quote(heredoc.name)} {go_quote(heredoc.content)})"


def dump(dockerfile: Dockerfile) -> str:
    """Print the instructions as s-expressions, one per line, like BuildKit's parser ``result`` files:
    ``(from "ubuntu:14.04")``, ``(copy ["--from=build"] "/a" "/b")``, ``(onbuild (run "make"))``.

    Here-documents, which BuildKit's dump leaves out, follow their instruction on indented lines:
    ``  (heredoc ["chomp"] "EOF" "echo hi\\n")``.
    """
    out = []
    for instr in dockerfile.instructions:
        out.append("(" + _dump_node(instr) + ")")
        out.extend("  " + _dump_heredoc(h) for h in instr.heredocs)
    return "\n".join(out) + "\n"
