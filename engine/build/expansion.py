"""Expanding a Dockerfile instruction's arguments with the build's variables, part by part as Docker does
(the word rules are :mod:`engine.build.words`; the instruction's shape is :mod:`engine.build.parser`'s)."""

from __future__ import annotations

from collections.abc import Mapping

from engine.build.parser import Instruction, heredoc_marker
from engine.build.words import expand, expand_heredoc, expand_words
from engine.errors import BuildError
from engine.lean.record import replace

# Instructions whose arguments Docker expands with the build's variables. ONBUILD is not expanded where it
# is written: its trigger is stored verbatim and expanded when it runs in the child image's build.
EXPANDED_INSTRUCTIONS = frozenset(
    {"ADD", "ARG", "COPY", "ENV", "EXPOSE", "FROM", "LABEL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"}
)

_COPY_VALUE_FLAGS = ("chown", "chmod", "from", "checksum", "exclude")


def _expand_flags(flags: list[str], names: tuple[str, ...], env: Mapping[str, str], escape: str) -> list[str]:
    out = []
    for flag in flags:
        name, sep, value = flag[2:].partition("=")
        if sep and name in names:
            flag = f"--{name}={expand(value, env, escape)}"
        out.append(flag)
    return out


def expand_instruction(instr: Instruction, env: Mapping[str, str], escape: str = "\\") -> Instruction:
    """Return a copy of ``instr`` with variables expanded where Docker expands them.

    Expanded: ADD/COPY sources, destination and their --chown/--chmod/--from/--checksum/--exclude values
    (and the bodies of their unquoted here-documents), ARG names and defaults, ENV and LABEL keys and
    values, EXPOSE ports (re-split on white space), FROM's image and --platform, STOPSIGNAL, USER, VOLUME
    and WORKDIR. Every part sees ``env`` as it was before the instruction: ``ENV a=bye b=$a`` gives b the
    previous a. RUN, CMD, ENTRYPOINT, SHELL, HEALTHCHECK, MAINTAINER and ONBUILD are returned unchanged
    (their text is for the shell, or for the child build). Errors name the file and line.
    """
    kw = instr.keyword
    if kw not in EXPANDED_INSTRUCTIONS:
        return instr
    try:
        return _expand_instruction(instr, env, escape)
    except BuildError as exc:
        raise BuildError(f"{instr.filename}:{instr.start_line}: {exc.message}") from None


def _expand_instruction(instr: Instruction, env: Mapping[str, str], escape: str) -> Instruction:
    kw = instr.keyword
    args = list(instr.args)
    flags = list(instr.flags)
    heredocs = list(instr.heredocs)

    if kw in ("ENV", "LABEL"):
        args = [expand(a, env, escape) for a in args]
    elif kw == "ARG":
        new_args = []
        for word in args:
            key, sep, value = word.partition("=")
            key = expand(key, env, escape)
            new_args.append(key + sep + expand(value, env, escape) if sep else key)
        args = new_args
    elif kw in ("ADD", "COPY"):
        args = [a if heredoc_marker(a) else expand(a, env, escape) for a in args]
        flags = _expand_flags(flags, _COPY_VALUE_FLAGS, env, escape)
        heredocs = [replace(h, content=expand_heredoc(h.content, env)) if h.expand else h for h in heredocs]
    elif kw == "EXPOSE":
        args = [port for a in args for port in expand_words(a, env, escape)]
    elif kw == "FROM":
        if args:
            args[0] = expand(args[0], env, escape)
        flags = _expand_flags(flags, ("platform",), env, escape)
    elif kw in ("STOPSIGNAL", "USER", "WORKDIR", "VOLUME"):
        args = [expand(a, env, escape) for a in args]
        if kw == "VOLUME" and any(not a.strip() for a in args):
            raise BuildError("VOLUME specified can not be an empty string")
    return replace(instr, args=args, flags=flags, heredocs=heredocs)
