"""Docker's commands and flags against dockyard's: the reference in docs/CLI.md.

    python -m app.cli.reference                    write docs/CLI.md (``make docs``)
    python -m app.cli.reference --check            exit 1 when docs/CLI.md is not what the code makes now
    python -m app.cli.reference --capture [DOCKER] read every command's help from a Docker client into
                                                   tests/data/docker_cli/ (needs the docker binary, no daemon)

Docker's side is the help of a Docker client, captured into tests/data/docker_cli/ (one file per command, as
``docker COMMAND --help`` prints it, and the client's version in VERSION): everything else reads those files,
so no docker binary is needed. dockyard's side is what app/cli accepts (the parsers ``main.build_parser``
builds), what it refuses on purpose (app/cli/refused.py) and where an accepted command or flag differs from
Docker's (docs/cli_notes.toml).

Each Docker flag is *supported* (accepted, as Docker), *differs* (accepted, the difference said), *refused*
(on purpose: dockyard says why, status 125) or *missing* (neither: ``unknown flag``, status 125).
"""

from __future__ import annotations

import re
import sys
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from . import refused
from .flags import SUPPRESS, Parser
from .main import build_parser

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "docker_cli"
NOTES = REPO / "docs" / "cli_notes.toml"
OUTPUT = REPO / "docs" / "CLI.md"

SUPPORTED, DIFFERS, REFUSED, MISSING = "supported", "differs", "refused", "missing"
STATUSES = (SUPPORTED, DIFFERS, REFUSED, MISSING)

# -- Docker's side: its help text ----------------------------------------------------------------------------

# `  -a, --all            Show all`, `      --add-host list   Add a custom host-to-IP mapping`
_FLAG_LINE = re.compile(r"^  (?:(-\w), |    )(--[\w.-]+)(?: (\S+))?(?:\s{2,}(.*))?$")
_COMMAND_LINE = re.compile(r"^  ([a-z][\w-]*)\*?(?:\s{2,}.*)?$")
_WORD = re.compile(r"[a-z][a-z0-9-]*")


@dataclass(frozen=True)
class DockerFlag:
    """One row of a Docker command's Options: ``-a, --all`` with its value's kind and its text."""

    names: tuple[str, ...]  # ("-a", "--all") or ("--all",)
    kind: str  # "list", "string", ... ; "" for a boolean
    text: str

    @property
    def long(self) -> str:
        return self.names[-1]

    @property
    def label(self) -> str:
        """The flag as Docker's help shows it: ``-a, --all`` (``--add-host list``)."""
        return ", ".join(self.names) + (f" {self.kind}" if self.kind else "")


@dataclass
class DockerCommand:
    """A Docker command as its help describes it; ``path`` is its name after ``docker`` ("" for docker)."""

    path: str
    usage: str
    summary: str
    aliases: tuple[str, ...] = ()  # its other names ("run" for "container run"), without "docker "
    flags: list[DockerFlag] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)  # a group's commands, as named in its listing

    @property
    def forms(self) -> tuple[str, ...]:
        """Every name the command answers to, its own first."""
        return (self.path, *self.aliases)


def parse_help(text: str) -> DockerCommand:
    """A Docker command's ``--help`` text: its Usage, summary, Aliases, Options (and Global Options), and the
    commands a group lists. What precedes ``Usage:`` (a deprecation notice) and free text are skipped."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("Usage:")), None)
    if start is None:
        raise ValueError("no 'Usage:' line in the help text")
    usage = [lines[start].removeprefix("Usage:").strip()]
    i = start + 1
    while i < len(lines) and lines[i].strip():
        usage.append(lines[i].strip())
        i += 1
    words = usage[0].split()
    if not words or words[0] != "docker":
        raise ValueError(f"not a docker command's usage: {usage[0]!r}")
    path = []
    for w in words[1:]:
        if not _WORD.fullmatch(w):
            break
        path.append(w)
    cmd = DockerCommand(path=" ".join(path), usage="\n".join(usage), summary="")
    section = ""
    for line in lines[i:]:
        if not line.strip():
            continue
        if not line.startswith(" ") and line.endswith(":"):
            section = line[:-1]
            continue
        if not line.startswith(" "):
            if section == "" and not cmd.summary:
                cmd.summary = line.strip()
            section = section if section else "text"
            continue
        if section == "Aliases":
            forms = [f.strip().removeprefix("docker").strip() for f in line.split(",")]
            cmd.aliases = tuple(f for f in forms if f != cmd.path)
            if forms[0] != cmd.path:  # asked by another name: the first one listed is the command's own
                cmd.path = forms[0]
                cmd.aliases = tuple(forms[1:])
        elif section in ("Options", "Global Options"):
            m = _FLAG_LINE.match(line)
            if m:
                short, long, kind, text = m.groups()
                names = (short, long) if short else (long,)
                cmd.flags.append(DockerFlag(names, kind or "", (text or "").strip()))
            elif cmd.flags:  # the text goes on, indented to its column
                last = cmd.flags[-1]
                cmd.flags[-1] = DockerFlag(last.names, last.kind, f"{last.text} {line.strip()}".strip())
        elif section.endswith("Commands"):
            m = _COMMAND_LINE.match(line)
            if m:
                cmd.commands.append(m.group(1))
    return cmd


def file_name(path: str) -> str:
    """The data file of a command: docker.txt, docker_container_run.txt."""
    return "_".join(["docker", *path.split()]) + ".txt"


def load_docker(directory: Path = DATA) -> dict[str, DockerCommand]:
    """Every captured Docker command by its own name ("" for docker itself)."""
    out = {}
    for f in sorted(directory.glob("docker*.txt")):
        cmd = parse_help(f.read_text())
        if f.name != file_name(cmd.path):
            raise ValueError(f"{f}: holds the help of 'docker {cmd.path}'")
        out[cmd.path] = cmd
    if "" not in out:
        raise ValueError(f"{directory}: no docker.txt")
    return out


def docker_version(directory: Path = DATA) -> str:
    return (directory / "VERSION").read_text().strip()


def capture(docker: str, directory: Path = DATA) -> list[str]:
    """Write the help of every command of the Docker client ``docker`` into ``directory``, one file per
    command under its own name (an alias is captured once, as the command it names), and its version."""
    import subprocess

    def help_of(words: list[str]) -> str:
        import fcntl
        import os
        import pty
        import struct
        import termios

        # Docker wraps its help at the width of the terminal on standard input: a wide one keeps each flag's
        # text on one line (the parser joins wrapped lines anyway).
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 1000, 0, 0))
        env = {"PATH": "/usr/bin:/bin", "HOME": "/root", "LANG": "C.UTF-8"}
        try:
            done = subprocess.run(
                [docker, *words, "--help"], stdin=slave, capture_output=True, env=env, check=True
            )
        finally:
            os.close(slave)
            os.close(master)
        return done.stdout.decode()

    version = subprocess.run([docker, "--version"], capture_output=True, check=True, text=True).stdout
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("docker*.txt"):
        old.unlink()
    (directory / "VERSION").write_text(version.strip() + "\n")
    written: list[str] = []
    known: set[str] = set()  # every name of the commands captured
    todo: list[list[str]] = [[]]
    while todo:
        words = todo.pop(0)
        if " ".join(words) in known:
            continue
        text = help_of(words)
        cmd = parse_help(text)
        known.update(cmd.forms)
        if cmd.path != " ".join(words):  # an alias: capture the command under its own name
            words = cmd.path.split()
            text = help_of(words)
        (directory / file_name(cmd.path)).write_text(text)
        written.append(cmd.path)
        todo += [[*words, c] for c in cmd.commands]
    return written


# -- dockyard's side -----------------------------------------------------------------------------------------


def our_commands() -> dict[str, Parser]:
    """Every command dockyard's parsers accept, by its words after ``dockyard`` ("" for dockyard itself)."""
    out: dict[str, Parser] = {}

    def walk(p: Parser, path: str) -> None:
        out[path] = p
        if p._commands is not None:
            for name, child in p._commands.choices.items():
                walk(child, f"{path} {name}".strip())

    walk(build_parser(None), "")
    return out


def accepted(p: Parser) -> set[str]:
    """The flag names a parser accepts."""
    return set(p._by_name)


def load_notes(path: Path = NOTES) -> dict[str, dict[str, str]]:
    """docs/cli_notes.toml: per Docker command (its own name), per flag ("" for the command), the difference."""
    with path.open("rb") as f:
        data = tomllib.load(f)
    return {cmd: {flag: str(note) for flag, note in notes.items()} for cmd, notes in data.items()}


# -- the comparison ------------------------------------------------------------------------------------------


@dataclass
class Row:
    label: str  # "-a, --all"
    text: str  # Docker's text, or dockyard's for a flag of its own
    status: str  # one of STATUSES, or "dockyard" for a flag of dockyard's own
    why: str = ""


@dataclass
class Entry:
    """One Docker command compared: its status, its forms in dockyard, its flags' rows."""

    docker: DockerCommand
    status: str
    why: str
    ours: list[str]  # its forms that dockyard accepts
    rows: list[Row]
    own: list[Row]  # flags dockyard accepts that Docker's help does not list


def refused_flags(path: str) -> dict[str, str]:
    """The refused flags of the Docker command ``path``, by each of their names (``-H`` and ``--host``)."""
    out = {}
    for names, why in refused.FLAGS.get(path, {}).items():
        for n in names.split(", "):
            out[n] = why
    return out


def compare(
    docker: dict[str, DockerCommand], ours: dict[str, Parser], notes: dict[str, dict[str, str]]
) -> list[Entry]:
    """Each Docker command (in the order of their names) with what dockyard does with it and its flags."""
    entries = []
    for path in sorted(docker, key=str.split):
        d = docker[path]
        forms = [f for f in d.forms if f in ours]
        parsers = {f: ours[f] for f in forms}
        cmd_notes = notes.get(path, {})
        refusal = refused.command_reason(path)
        if refusal is not None:
            status, why = REFUSED, refusal
            rows = [Row(flag.label, flag.text, REFUSED) for flag in d.flags]
        else:
            if not forms:
                status, why = MISSING, ""
            else:
                lacking = ", ".join(f"`docker {f}`" for f in d.forms if f not in ours)
                why = "; ".join(filter(None, [cmd_notes.get("", ""), lacking and f"not as {lacking}"]))
                status = DIFFERS if why else SUPPORTED
            refusals = refused_flags(path)
            rows = [_flag_row(flag, parsers, cmd_notes, refusals) for flag in d.flags]
        entries.append(Entry(d, status, why, forms, rows, _own_rows(d, parsers.values(), cmd_notes)))
    return entries


def _flag_row(
    flag: DockerFlag, parsers: dict[str, Parser], notes: dict[str, str], refusals: dict[str, str]
) -> Row:
    takes = {form: accepted(p) for form, p in parsers.items()}
    if not any(n in names for names in takes.values() for n in flag.names):
        if flag.long in refusals:
            return Row(flag.label, flag.text, REFUSED, refusals[flag.long])
        return Row(flag.label, flag.text, MISSING)
    lacks = [notes.get(flag.long, "")]
    for form, names in takes.items():
        if not any(n in names for n in flag.names):
            lacks.append(f"not with `dockyard {form}`")
        else:  # a name dockyard does not take: -a of -a, --all
            lacks += [f"no `{n}`" for n in flag.names if n not in names and f"no `{n}`" not in lacks]
    why = "; ".join(filter(None, lacks))
    return Row(flag.label, flag.text, DIFFERS if why else SUPPORTED, why)


def _own_rows(d: DockerCommand, parsers: Iterable[Parser], notes: dict[str, str]) -> list[Row]:
    """The flags (or names of flags) dockyard takes that Docker's help does not list."""
    docker_names = {n for f in d.flags for n in f.names}
    rows = []
    seen: set[str] = set()
    for p in parsers:
        for f in p._flags:
            extra = [n for n in f.names if n not in docker_names]
            if f.action == "help" or not extra or f.dest in seen:
                continue
            seen.add(f.dest)
            text = f.help if f.help and f.help != SUPPRESS else ""
            also = [n for n in f.names if n in docker_names]
            if also:
                text = "; ".join(filter(None, [text, f"another name of `{also[-1]}`"]))
            kind = f.type_word()
            note = next((notes[n] for n in extra if n in notes), "")
            rows.append(Row(", ".join(extra) + (f" {kind}" if kind else ""), text, "dockyard only", note))
    return rows


def own_commands(docker: dict[str, DockerCommand], ours: dict[str, Parser]) -> list[str]:
    """dockyard's commands that are no Docker command's name (``image bootstrap``)."""
    forms = {f for d in docker.values() for f in d.forms}
    return sorted(p for p in ours if p not in forms)


# -- the document --------------------------------------------------------------------------------------------


def _cell(text: str) -> str:
    """Text made safe in a Markdown table's cell (Docker's texts hold ``|``, ``<name|uid>``, ``*``)."""
    for a, b in (("\\", "\\\\"), ("|", "\\|"), ("<", "&lt;"), (">", "&gt;"), ("*", "\\*")):
        text = text.replace(a, b)
    return text


def _status(status: str, why: str) -> str:
    return f"{status}: {why}" if why else status


def _group(path: str, docker: dict[str, DockerCommand]) -> str:
    """The summary's group of a command: its management command (``container``), else ``docker``."""
    first = path.split()[0] if path else ""
    return first if first and docker[first].commands else "docker"


def _tally(entries: list[Entry], docker: dict[str, DockerCommand]) -> dict[str, dict[str, dict[str, int]]]:
    """Per group, per status: its flags, the flags of its commands that are not refused, its commands."""
    out: dict[str, dict[str, dict[str, int]]] = {}
    for e in entries:
        g = out.setdefault(
            _group(e.docker.path, docker),
            {k: dict.fromkeys(STATUSES, 0) for k in ("flags", "commands", "taken")},
        )
        for r in e.rows:
            g["flags"][r.status] += 1
            if e.status != REFUSED:
                g["taken"][r.status] += 1
        if not e.docker.commands:  # a group (and docker itself) counts through its commands
            g["commands"][e.status] += 1
    return out


def _summary(entries: list[Entry], docker: dict[str, DockerCommand]) -> list[str]:
    tally = _tally(entries, docker)
    total = {
        k: {s: sum(g[k][s] for g in tally.values()) for s in STATUSES} for k in ("flags", "commands", "taken")
    }
    f, c, t = total["flags"], total["commands"], total["taken"]
    out = [
        "## Summary",
        "",
        f"**{f[SUPPORTED] + f[DIFFERS]} of {sum(f.values())} Docker flags are accepted** ({f[SUPPORTED]} as "
        f"Docker, {f[DIFFERS]} with a difference), {f[REFUSED]} are refused on purpose and {f[MISSING]} are "
        f"missing. Of the {sum(t.values())} flags of the commands dockyard does not refuse, "
        f"{t[SUPPORTED] + t[DIFFERS]} are accepted, {t[REFUSED]} refused and {t[MISSING]} missing. "
        f"{c[SUPPORTED] + c[DIFFERS]} of Docker's {sum(c.values())} commands are accepted, {c[REFUSED]} refused "
        f"and {c[MISSING]} missing.",
        "",
        "| group | commands accepted | flags | supported | differs | refused | missing |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in sorted(tally, key=lambda n: (n != "docker", n)):
        g = tally[name]
        fl, co = g["flags"], g["commands"]
        link = "[docker](#docker)" if name == "docker" else f"[{name}](#docker-{name})"
        out.append(
            f"| {link} | {co[SUPPORTED] + co[DIFFERS]} of {sum(co.values())} | {sum(fl.values())} "
            f"| {fl[SUPPORTED]} | {fl[DIFFERS]} | {fl[REFUSED]} | {fl[MISSING]} |"
        )
    out += [
        f"| **all** | {c[SUPPORTED] + c[DIFFERS]} of {sum(c.values())} | {sum(f.values())} | {f[SUPPORTED]} "
        f"| {f[DIFFERS]} | {f[REFUSED]} | {f[MISSING]} |",
        "",
        "The `docker` group is Docker's global options and the commands outside a management command "
        "(`docker inspect`, `docker login`, ...). `docker run` and the other short forms are counted once, "
        "under their management command (`docker container run`).",
        "",
    ]
    return out


def _section(e: Entry) -> list[str]:
    d = e.docker
    out = [f"{'##' if not d.path or d.commands else '###'} docker {d.path}".rstrip(), ""]
    if d.aliases:
        out += ["Also " + ", ".join(f"`docker {a}`" for a in d.aliases) + ".", ""]
    line = f"{d.summary.rstrip('.')}. **{_status(e.status, e.why)}**"
    if d.path and e.ours:
        line += " (" + ", ".join(f"`dockyard {f}`" for f in e.ours) + ")"
    out += [line, ""]
    if d.commands and d.path:
        out += ["Commands: " + ", ".join(f"`{c}`" for c in d.commands) + ".", ""]
    if e.status == REFUSED:
        if e.rows:
            out += ["Its flags, refused with it: " + ", ".join(f"`{r.label}`" for r in e.rows) + ".", ""]
        return out
    if e.rows or e.own:
        out += [f"| {'global option' if not d.path else 'flag'} | Docker | dockyard |", "|---|---|---|"]
        out += [f"| `{r.label}` | {_cell(r.text)} | {_cell(_status(r.status, r.why))} |" for r in e.rows]
        out += [
            f"| `{r.label}` | — | {_cell(_status(r.status, '; '.join(filter(None, [r.text, r.why]))))} |"
            for r in e.own
        ]
        out.append("")
    return out


def render(
    docker: dict[str, DockerCommand] | None = None,
    ours: dict[str, Parser] | None = None,
    notes: dict[str, dict[str, str]] | None = None,
    version: str | None = None,
) -> str:
    """docs/CLI.md."""
    docker = load_docker() if docker is None else docker
    ours = our_commands() if ours is None else ours
    notes = load_notes() if notes is None else notes
    version = docker_version() if version is None else version
    entries = compare(docker, ours, notes)
    out = [
        "# Docker's command line in dockyard",
        "",
        "<!-- Made by `make docs` (python -m app.cli.reference) from the code: do not edit by hand. -->",
        "",
        f"Every command and flag in the help of the Docker client ({version}; its text is kept in",
        "tests/data/docker_cli/), and what dockyard does with it:",
        "",
        "- **supported**: accepted, and it does what Docker's does;",
        "- **differs**: accepted, with the difference said;",
        "- **refused**: on purpose, for the reason given: dockyard answers",
        "  `dockyard: '--gpus' is not supported: REASON` and exits with status 125;",
        "- **missing**: not there yet: `unknown flag: --x` and status 125 (for a command:",
        "  `dockyard: 'x' is not a dockyard command.` and status 1).",
        "",
        "The tables are made from dockyard's own flag parsers (app/cli), its table of what it refuses",
        "(app/cli/refused.py) and its notes on differences (docs/cli_notes.toml).",
        "",
        *_summary(entries, docker),
    ]
    for e in entries:
        out += _section(e)
    extra = own_commands(docker, ours)
    if extra:
        out += ["## dockyard's own commands", "", "| command | what it does |", "|---|---|"]
        out += [f"| `dockyard {path}` | {_cell(ours[path].description)} |" for path in extra]
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--capture"]:
        written = capture(args[1] if len(args) > 1 else "/usr/local/bin/docker")
        print(f"{len(written)} commands captured into {DATA}")
        return 0
    text = render()
    if args[:1] == ["--check"]:
        if OUTPUT.read_text() != text:
            print(f"{OUTPUT} is stale: run make docs", file=sys.stderr)
            return 1
        return 0
    if args:
        print(__doc__, file=sys.stderr)
        return 2
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
