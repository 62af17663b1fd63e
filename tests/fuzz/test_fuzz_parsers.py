"""Every reader of text the engine and the CLI have, fed generated input: each either gives a value or
raises one of the engine's own errors (a DockyardError, with a message) and never another exception.

The inputs are built from each grammar's own tokens mixed with arbitrary text, so that they get past the
first check and reach the deep parts of the parser. The number of examples comes from the profile
(tests/fuzz/conftest.py): 10,000 per reader in "ci", 100,000 in "fuzz". Everything runs in memory: no
subprocess, no container, no engine root.
"""

from __future__ import annotations

import contextlib
import io
import math
import random
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.cli import cmd_build, cmd_containers, cmd_inspect, envfiles, flags, output
from app.cli.main import build_parser
from engine import humanize, units
from engine.build import context as build_context
from engine.build import dockerignore
from engine.build.expansion import expand_instruction
from engine.build.parser import (
    _FLAG_SPECS,
    INSTRUCTIONS,
    Dockerfile,
    healthcheck_config,
    heredoc_marker,
    parse,
)
from engine.build.plan import BuildPlan
from engine.build.state import ImageState
from engine.build.steps import copy as copy_step
from engine.build.steps import meta
from engine.build.steps.run import check_flags, command_for
from engine.build.words import expand, expand_heredoc, expand_words, process
from engine.errors import BuildError, DockyardError
from engine.net import ports
from engine.net.plan import _validate_hosts_and_dns
from engine.runtime import create, logfile, users
from engine.runtime.cgroups.resources import Limits
from engine.runtime.signals import parse_signal
from engine.store import reference
from tests.fuzz.conftest import fuzz_settings

T = TypeVar("T")

# The profile's number of examples; Hypothesis's own limits on how slow and how big an example may be do not
# fit generated Dockerfiles.
FUZZ = settings(fuzz_settings, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def survives(fn: Callable[..., T], *args: Any, **kw: Any) -> T | None:
    """``fn(*args, **kw)``, or None when it raised a DockyardError whose message says something."""
    try:
        return fn(*args, **kw)
    except DockyardError as exc:
        assert exc.message.strip(), f"{fn.__name__}{args!r}: an error without a message"
        return None


def mix(tokens: list[str], max_size: int = 12, random_size: int = 3) -> st.SearchStrategy[str]:
    """Text made of the grammar's tokens, with some arbitrary characters between them."""
    piece = st.one_of(
        st.sampled_from(tokens),
        st.sampled_from(tokens),
        st.text(max_size=random_size),
    )
    return st.lists(piece, max_size=max_size).map("".join)


# Characters that trip up hand-written checks: non-ASCII digits (str.isdigit accepts them, int() does not
# always), other white space, surrogates, NUL.
ODD = ["\u00b2", "\u0663", "\uff11", "\u2028", "\x85", "\xa0", "\ud800", "\x00", "\u00b5", "\u0130", "\ufb01"]


# -- the Dockerfile --------------------------------------------------------------------------------------------

_FLAG_NAMES = sorted({name for spec in _FLAG_SPECS.values() for name in spec}) + ["bogus", ""]
_FLAG_VALUES = [
    "", "=", "=true", "=false", "=1s", "=0", "=-1", "=1ms", "=1ns", "=10", "=1.5h", "=abc", "=none", "=host",
    "=1000:1000", "=root", "=0755", "=7777", "=8", "=-0", "=$A", "=${A}", "=build", "=1", "=99999999999999999999",
    "=\u00b2", "=\u0663:\u0663", "=type=cache,target=/x", "=linux/amd64", "=*.txt", "=[", "=1e400h",
]  # fmt: skip
_WORDS = [
    "busybox", "scratch", "build", "AS", "as", "0", "1", "5", "\u00b2", "a", "/src", "./", ".", "..", "/",
    "*.txt", "dir/", "x=1", "A=b", "=x", "'q w'", '"q w"', "$A", "${A}", "${A:-busybox}", "${B:+x}", "${C?}",
    "${A/a/b}", "${A#*}", "$", "\\", "`", "<<EOF", "<<-EOF", "<<'EOF'", '<<"EOF"', "3<<EOF", "<<", "CMD",
    "NONE", "cmd", "[]", '["a", "b"]', "[1]", '["\\ud800"]', "[", '["sh", "-c"]', "80", "80/udp", "1-3/tcp",
    "0-70000", "SIGKILL", "KILL", "RTMIN+1", "9", "1000", "root:root", "#", "--", "-", "&&", "|", "\t",
]  # fmt: skip
_KEYWORDS = [*INSTRUCTIONS, "run", "From", "ONBUILD RUN", "ONBUILD COPY", "ONBUILD ONBUILD", "FOO", "#"]
_ENDINGS = ["\n", "\n", "\n", "\\\n", " \\\n", "\r\n", "`\n", "\\\n#c\n", "\\\n\n", ""]
_BODIES = ["EOF\n", "\tEOF\n", "body $A\n", "#!/bin/sh\n", "echo hi\n"]
_NAMES = ["A", "B", "PATH", "x1", "\u00e9", "A.b", "1"]
_HEREDOCS = ["<<EOF", "<<-EOF", "<<'EOF'", '<<"EOF"', "3<<EOF"]
_BODY_LINES = ["", "echo $A\n", "#!/bin/sh\necho hi\n", "\tx\n"]
_PORT_WORDS = ["80", "80/udp", "1-3", "0", "70000", "\u00b2", "$A", "x/sctp"]
_SIGNAL_WORDS = ["KILL", "SIGTERM", "9", "RTMIN+2", "\u00b2", "$A", "NOPE"]
_FROM_IMAGES = [
    "busybox",
    "scratch",
    "${A:-busybox}",
    "$A",
    "0",
    "1",
    "build",
    "stage-0",
    "\u00b2",
    "Bad:Ref",
]
_FROM_NAMES = ["", "", "", "", " AS build", " AS stage-1", " as Build", " AS s2", " AS s3"]


class _Lines:
    """Dockerfile lines made by a seeded random generator: well formed for their keyword (their own flags,
    enough arguments of the right shape) or noisy (any keyword, any flag, any words). Hypothesis then only
    picks lines and puts them together: a few draws an example instead of a hundred, so that 10,000
    Dockerfiles take seconds, not minutes."""

    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)

    def odd_text(self) -> str:
        r = self.r
        return "".join(
            r.choice([*ODD, chr(r.randrange(32, 0x3000)), r.choice("$\\'\"{}[]:=-# \t")])
            for _ in range(r.randint(1, 3))
        )

    def word(self) -> str:
        r = self.r
        pick = r.random()
        if pick < 0.6:
            w = r.choice(_WORDS)
        elif pick < 0.8:
            w = "".join(r.choice("ab$:-{}/*?.0") for _ in range(r.randint(1, 4)))
        else:
            w = self.odd_text()
        # one word, and no here-document marker (a clean line brings its here-document's body with it)
        return w.replace(" ", "").replace("\n", "").replace("<<", "<") or "w"

    def flags(self, keyword: str, noisy: bool) -> list[str]:
        r = self.r
        spec = sorted(_FLAG_SPECS.get(keyword, {}))
        names = _FLAG_NAMES if noisy else spec
        if not names:
            return []
        return [f"--{r.choice(names)}{r.choice(_FLAG_VALUES)}" for _ in range(r.choice([0, 0, 1, 1, 2]))]

    def json(self) -> str:
        return "[" + ", ".join(f'"{self.word()}"' for _ in range(self.r.randint(1, 3))) + "]"

    def command(self) -> str:
        return (
            self.json()
            if self.r.random() < 0.4
            else " ".join(self.word() for _ in range(self.r.randint(1, 4)))
        )

    def body(self) -> str:
        r = self.r
        return r.choice(_BODY_LINES) + r.choice(["", "\t"]) + "EOF\n"

    def clean(self, onbuild: bool = False) -> str:
        r = self.r
        keyword = r.choice([k for k in INSTRUCTIONS if k != "FROM" and not (onbuild and k == "ONBUILD")])
        flags_ = self.flags(keyword, noisy=False)
        body = ""
        if keyword in ("RUN", "CMD", "ENTRYPOINT"):
            if keyword == "RUN" and r.random() < 0.25:
                rest, body = r.choice(_HEREDOCS) + " " + self.word(), self.body()
            else:
                rest = self.command()
        elif keyword == "SHELL":
            rest = self.json()
        elif keyword in ("COPY", "ADD"):
            sources = [self.word() for _ in range(r.randint(1, 2))]
            if r.random() < 0.25:
                sources, body = [r.choice(_HEREDOCS)], self.body()
            rest = " ".join([*sources, self.word()])
        elif keyword in ("ENV", "LABEL"):
            rest = " ".join(f"{r.choice(_NAMES)}={self.word()}" for _ in range(r.randint(1, 3)))
        elif keyword == "ARG":
            rest = " ".join(
                r.choice([r.choice(_NAMES), f"{r.choice(_NAMES)}={self.word()}"])
                for _ in range(r.randint(1, 2))
            )
        elif keyword == "EXPOSE":
            rest = " ".join(r.choice(_PORT_WORDS) for _ in range(r.randint(1, 3)))
        elif keyword == "HEALTHCHECK":
            rest = r.choice(["NONE", "CMD " + self.command()])
        elif keyword == "ONBUILD":
            return "ONBUILD " + self.clean(onbuild=True)
        elif keyword == "STOPSIGNAL":
            rest = r.choice(_SIGNAL_WORDS)
        else:  # MAINTAINER, USER, VOLUME, WORKDIR
            rest = self.word()
        if rest.startswith("-"):
            rest = "x" + rest  # not a flag
        return " ".join([keyword, *flags_, rest]) + (
            body and "\n" + body or r.choice(["\n"] * 8 + ["\\\n", "\r\n"])
        )

    def noisy(self) -> str:
        r = self.r
        keyword = r.choice(_KEYWORDS)
        flags_ = self.flags(keyword.split()[-1].upper(), noisy=r.random() < 0.3)
        words = [r.choice(["CMD", "NONE", "cmd", "X"])] if keyword.upper() == "HEALTHCHECK" else []
        words += [self.word() for _ in range(r.randint(1, 4))]
        return " ".join([keyword, *flags_, *words]) + r.choice(_ENDINGS)

    def from_line(self) -> str:
        return f"FROM {self.r.choice(_FROM_IMAGES)}{self.r.choice(_FROM_NAMES)}\n"

    def bad_from_line(self) -> str:
        r = self.r
        return f"FROM {r.choice(['', 'a b', 'a AS 1x', 'a AS', self.word()])}{r.choice(_ENDINGS)}"


def _pool(make: Callable[[], str], size: int) -> list[str]:
    """``size`` lines from ``make``, shortest first (Hypothesis shrinks towards the first ones)."""
    return sorted({make() for _ in range(size)}, key=lambda line: (len(line), line))


# The more examples the profile asks for, the more lines to choose from.
_POOL_SIZE = min(40_000, max(2_000, fuzz_settings.max_examples // 3))
_GEN = _Lines(20_261_205)
CLEAN_LINES = _pool(_GEN.clean, _POOL_SIZE)
NOISY_LINES = _pool(_GEN.noisy, _POOL_SIZE)
FROM_LINES = _pool(_GEN.from_line, 200)
BAD_FROM_LINES = _pool(_GEN.bad_from_line, 200)

_CLEAN_LINE = st.sampled_from(CLEAN_LINES)
_LINE = st.sampled_from(NOISY_LINES)
_FROM = st.sampled_from(FROM_LINES)


def _unique_stages(lines: list[str]) -> str:
    """The lines, with a stage name that is taken already made unique (``AS build`` -> ``AS build2``)."""
    seen: set[str] = set()
    out = []
    for line in lines:
        head, sep, name = line.rstrip("\n").rpartition(" AS ")
        if not sep:
            head, sep, name = line.rstrip("\n").rpartition(" as ")
        if sep and line.startswith("FROM ") and name.lower() in seen:
            line = f"{head}{sep}{name}{len(seen)}\n"
        if sep and line.startswith("FROM "):
            seen.add(line.rstrip("\n").rpartition(sep)[2].lower())
        out.append(line)
    return "".join(out)


CLEAN_DOCKERFILES = st.builds(
    lambda directives, lines: directives + "FROM busybox\n" + _unique_stages(lines),
    st.sampled_from(["", "", "# escape=`\n", "# syntax=docker/dockerfile:1\n", "ARG A=busybox\n"]),
    st.lists(st.one_of(_FROM, *[_CLEAN_LINE] * 8), max_size=10),
)
NOISY_DOCKERFILES = st.builds(
    lambda directives, lines: directives + "".join(lines),
    st.sampled_from(["", "", "# escape=`\n", "# escape=\\\n", "# syntax=x\n", "# escape=x\n", "\ufeff"]),
    st.lists(
        st.one_of(
            _LINE, _LINE, _CLEAN_LINE, _FROM, st.sampled_from(BAD_FROM_LINES + _BODIES), st.text(max_size=4)
        ),
        max_size=8,
    ),
)
DOCKERFILES = st.one_of(CLEAN_DOCKERFILES, CLEAN_DOCKERFILES, NOISY_DOCKERFILES)

CASES = Path(__file__).parent.parent / "engine" / "build" / "cases"
SAMPLES = [p.read_bytes().decode("utf-8") for p in sorted(CASES.glob("*/Dockerfile"))]


@st.composite
def mutated_samples(draw: st.DrawFn) -> str:
    """One of the parser's test Dockerfiles with a few tokens inserted, replaced or lines moved."""
    text = draw(st.sampled_from(SAMPLES))
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "replace", "delete", "line"]))
        token = draw(st.one_of(st.sampled_from(_WORDS + _ENDINGS + ODD), _LINE, _CLEAN_LINE))
        if action == "insert":
            text = text[:pos] + token + text[pos:]
        elif action == "replace":
            text = text[:pos] + token + text[pos + len(token) :]
        elif action == "delete":
            text = text[:pos] + text[pos + draw(st.integers(1, 8)) :]
        else:
            lines = text.split("\n")
            lines.insert(draw(st.integers(0, len(lines))), draw(_LINE).rstrip("\n"))
            text = "\n".join(lines)
    return text


class _FakeView:
    """An image without files: --chown names are unknown in it."""

    def resolve_user(self, user: str) -> tuple[int, int]:
        raise BuildError(f"unable to find user {user}: no matching entries in passwd file")


def _image_layers(name: str, instr: object) -> tuple[int, list[str]]:
    """What the builder would find in the store for a base image: a few layers and maybe a trigger (the
    builder has refused a name that is no image before it asks)."""
    return (len(name) % 4, ["RUN echo from the base"] if "box" in name else [])


def _walk_build(df: Dockerfile) -> None:
    """Everything a build does with a Dockerfile before and around its steps, without running any."""
    plan = BuildPlan(df, {"A": "busybox", "B": None}, None)
    for name, _instr in plan.images():
        survives(reference.parse, name)
    plan.check_depth(_image_layers)
    for stage in plan.needed:
        plan.base_name(stage)
        state = ImageState.scratch("fuzz")
        env: dict[str, str] = {"A": "busybox", "B": ""}
        for instr in stage.instructions:
            expanded = expand_instruction(instr, env, df.escape)
            kw = expanded.keyword
            if kw == "RUN":
                check_flags(expanded)
                command_for(expanded, state)
            elif kw in ("COPY", "ADD"):
                copy_step.parse_chmod(expanded.flag("chmod"))
                copy_step.resolve_chown(expanded.flag("chown"), _FakeView())  # type: ignore[arg-type]
                dockerignore.Matcher(expanded.flag_values("exclude"), source="--exclude")
                origin = expanded.flag("from")
                if origin:
                    plan.stage_ref(stage, origin, expanded)
                for source in expanded.args[:-1]:
                    if not heredoc_marker(source):
                        build_context.match_component(source, "name.txt")
            elif kw in meta.META_INSTRUCTIONS:
                if kw == "HEALTHCHECK":
                    healthcheck_config(expanded)
                meta.apply(expanded, state, meta.StageFlags())
                if kw == "ENV":
                    env.update(expanded.pairs())


def check_dockerfile(text: str) -> None:
    for strict in (True, False):
        df = survives(parse, text, "Dockerfile", strict=strict)
        if df is not None and strict:
            survives(_walk_build, df)


@FUZZ
@given(st.one_of(DOCKERFILES, DOCKERFILES, DOCKERFILES, mutated_samples()))
def test_dockerfile_parser(text: str) -> None:
    check_dockerfile(text)


# -- word expansion --------------------------------------------------------------------------------------------

_EXPANSION_TOKENS = [
    "$", "$A", "$B", "$LONG", "$1", "$@", "$$", "${", "}", "${A}", "${A:-", "${A-", "${A:+", "${A+", "${A:?",
    "${A?", "${A#", "${A##", "${A%", "${A%%", "${A/", "${A//", "${A:", "${:", "${}", "${#A}", "/", ":", "-",
    "+", "?", "#", "%", "*", "\\", "\\*", "\\?", "\\\\", "'", '"', "`", " ", "\t", "\n", "<<", "<< EOF", "a",
    "b*", "\u00b2", "\u0663",
]  # fmt: skip
EXPANSION_TEXT = mix(_EXPANSION_TOKENS, max_size=16)
ENV = {"A": "a*b/c", "B": "", "LONG": "x" * 40, "\u00b2": "sq"}


@FUZZ
@given(EXPANSION_TEXT, st.sampled_from(["\\", "`"]), st.booleans(), st.booleans())
def test_word_expansion(text: str, escape: str, raw: bool, skip_unset: bool) -> None:
    survives(expand, text, ENV, escape)
    survives(expand_words, text, ENV, escape)
    survives(expand_heredoc, text, ENV)
    survives(
        lambda: process(
            text, ENV, escape, raw_quotes=raw, raw_escapes=raw, skip_unset=skip_unset, heredoc_words=True
        )
    )
    survives(heredoc_marker, text)


# -- .dockerignore and COPY sources ------------------------------------------------------------------------

_IGNORE_TOKENS = [
    "*", "**", "**/", "/**", "?", "[", "]", "[a-z]", "[^a]", "[!a]", "[]", "[\\]", "[a-]", "[z-a]", "\\", "\\*",
    "!", "#", "/", "./", "../", ".", "..", "a", "b", "node_modules", ".git", " ", "\t", "\n", "\r\n",
]  # fmt: skip
IGNORE_TEXT = mix(_IGNORE_TOKENS, max_size=16, random_size=2)
CONTEXT_PATH = mix(
    ["a", "b", "/", ".", "..", "*", "[", "\\", "ab", "node_modules", "x.go"], max_size=8, random_size=1
)


@FUZZ
@given(IGNORE_TEXT, st.lists(CONTEXT_PATH, max_size=3))
def test_dockerignore(text: str, paths: list[str]) -> None:
    matcher = survives(dockerignore.Matcher.from_text, text)
    for path in paths:
        if matcher is not None:
            assert isinstance(matcher.ignored(path), bool)
            assert isinstance(matcher.may_contain_exceptions(path), bool)
        for pattern in text.split("\n")[:3]:
            assert isinstance(survives(build_context.match_component, pattern, path), bool | None)
            assert isinstance(build_context.has_glob(pattern), bool)


# -- image references ------------------------------------------------------------------------------------------

_HEX64 = "a" * 64
_REF_TOKENS = [
    "busybox", "Busybox", "library/", "docker.io/", "index.docker.io/library/", "localhost", "localhost:5000/",
    "example.com/", "a-b.c/", "-x/", "x-/", ":", ":latest", ":1.36", ":-x", ":" + "t" * 129, "@", "@sha256:",
    "@sha256:" + _HEX64, "@sha512:" + _HEX64, "sha256:", _HEX64, "abc", "/", "//", ".", "..", "_", "__", "---",
    "a" * 256, " ", "\u00b2", "\u0663", "[::1]:5000/",
]  # fmt: skip
REFERENCES = mix(_REF_TOKENS, max_size=6, random_size=2)


@FUZZ
@given(REFERENCES, st.booleans())
def test_image_reference(text: str, default_tag: bool) -> None:
    ref = survives(reference.parse, text, default_tag)
    if ref is not None:
        # What is accepted reads back (as itself, but for Docker's own ambiguity: "docker.io/docker.io/x"
        # is shown as "docker.io/x", which reads as "x").
        again = reference.parse(str(ref), default_tag)
        assert again == ref or text.count("docker.io/") > 1
        assert ref.tagged and (ref.domain is None or isinstance(ref.domain, str))
    assert isinstance(reference.looks_like_id(text), bool)


# -- sizes, durations, times -----------------------------------------------------------------------------

_NUMBER_TOKENS = [
    "0", "1", "9", "512", ".", "1.5", "-", "+", "e", "e400", "1e400", "9" * 30, "9" * 400, "inf", "nan",
    "Infinity", "_", " ", "\u00b2", "\u0663",
]  # fmt: skip
_SIZE_UNITS = [
    "b",
    "B",
    "k",
    "K",
    "m",
    "M",
    "g",
    "G",
    "t",
    "p",
    "P",
    "kb",
    "KiB",
    "mb",
    "MiB",
    "ib",
    "x",
    "e",
]
SIZES = mix(_NUMBER_TOKENS + _SIZE_UNITS, max_size=6, random_size=2)


@FUZZ
@given(SIZES)
def test_sizes(text: str) -> None:
    n = survives(units.parse_bytes, text)
    if n is not None:
        assert isinstance(n, int) and 0 <= n < 2**63
        survives(Limits(memory=n, memory_swap=n * 2).validate)


_DURATION_UNITS = ["ns", "us", "\u00b5s", "\u03bcs", "ms", "s", "m", "h", "d", "sm", "hms"]
DURATIONS = mix(_NUMBER_TOKENS + _DURATION_UNITS, max_size=8, random_size=2)


@FUZZ
@given(DURATIONS)
def test_durations(text: str) -> None:
    seconds = survives(units.parse_duration, text)
    if seconds is not None:
        assert isinstance(seconds, float) and math.isfinite(seconds)
        int(seconds * 1e9)  # what --health-interval stores
    # HEALTHCHECK's flags take Go durations through the Dockerfile parser
    df = survives(parse, f"FROM a\nHEALTHCHECK --interval={text.splitlines()[0] if text else ''} CMD true\n")
    if df is not None:
        survives(healthcheck_config, df.instructions[1])
    survives(cmd_build._parse_filters, [f"until={text}"])


_TIME_TOKENS = [
    "2024-01-02", "T", "10:20:30", ".", "123456789", "Z", "+01:00", "-14:00", "+99:99", "0001-01-01", "9999-12-31",
    "1700000000", "1700000000.5", "10m", "1h", "-", " ", "\u00b2", "\u0663", "nan", "1e400",
]  # fmt: skip
TIMES = mix(_TIME_TOKENS, max_size=6, random_size=2)


@FUZZ
@given(TIMES)
def test_times(text: str) -> None:
    t = survives(units.parse_time_arg, text, 1_700_000_000.0)
    if t is not None:
        assert isinstance(t, float) and math.isfinite(t)
    value = humanize.read_time(text)
    assert value is None or (isinstance(value, float) and math.isfinite(value))
    assert humanize.parse_time(text) == (value or 0.0)
    humanize.ago(text, 1_700_000_000.0)


# -- the options of create and run -----------------------------------------------------------------------------

_PORT_TOKENS = [
    "80", "8080", "0", "65535", "65536", "99999999999999999999", "-", "1-3", "3-1", ":", "/", "/tcp", "/udp",
    "/sctp", "/TCP", "/x", "127.0.0.1", "0.0.0.0", "::1", "[::1]", "[", "]", "1.2.3", "fe80::1%eth0", "\u00b2",
    "\u0663",
]  # fmt: skip
PORTS = mix(_PORT_TOKENS, max_size=7, random_size=2)


@FUZZ
@given(PORTS)
def test_published_ports(text: str) -> None:
    specs = survives(ports.parse_spec, text)
    if specs is not None:
        for spec in specs:
            assert 0 < spec["container_port"] <= 65535 and 0 <= spec["host_port"] <= 65535


_VOLUME_TOKENS = [
    "/", "/data", "./rel", ".", "..", "vol", "v", "a b", ":", "ro", "rw", "z", "Z", "rprivate", "nocopy", ",",
    "bad", "/x:/y", "\u00b2", "\x00",
]  # fmt: skip
VOLUMES = mix(_VOLUME_TOKENS, max_size=7, random_size=2)


@FUZZ
@given(VOLUMES)
def test_volumes_and_tmpfs(text: str) -> None:
    survives(create.parse_volume, text)
    survives(create.parse_tmpfs, text)


_RESTART_TOKENS = ["no", "always", "on-failure", "unless-stopped", ":", "3", "-1", "9" * 30, "9" * 5000, "x"]
RESTARTS = mix(_RESTART_TOKENS + ODD, max_size=4, random_size=2)


@FUZZ
@given(RESTARTS)
def test_restart_policies(text: str) -> None:
    policy = survives(create.parse_restart, text)
    if policy is not None:
        assert policy.name in create.RESTART_NAMES and 0 <= policy.max_retries < 2**63


_SIGNAL_TOKENS = [
    "SIG",
    "sig",
    "KILL",
    "TERM",
    "HUP",
    "USR1",
    "RTMIN",
    "RTMAX",
    "+",
    "-",
    "1",
    "9",
    "64",
    "65",
    "0",
]
SIGNALS = mix(_SIGNAL_TOKENS + ODD, max_size=4, random_size=2)


@FUZZ
@given(SIGNALS)
def test_stop_signals(text: str) -> None:
    survives(create.check_stop_signal, text)
    df = survives(parse, f"FROM a\nSTOPSIGNAL {text.splitlines()[0] if text else ''}\n")
    if df is not None and len(df.instructions) == 2:
        survives(meta.apply, df.instructions[1], ImageState.scratch("k"), meta.StageFlags())


_HOST_TOKENS = ["host", "name", ":", "1.2.3.4", "host-gateway", "::1", "256.1.1.1", "", "\u0663.1.1.1", " "]


@FUZZ
@given(
    st.lists(mix(_HOST_TOKENS, max_size=4), max_size=3), st.lists(mix(_HOST_TOKENS, max_size=2), max_size=2)
)
def test_add_host_and_dns(hosts: list[str], dns: list[str]) -> None:
    survives(_validate_hosts_and_dns, SimpleNamespace(extra_hosts=hosts, dns=dns))


_FILTER_TOKENS = ["name", "id", "driver", "label", "type", "until", "=", "builtin", "k=v", "10m", "x"]


@FUZZ
@given(st.lists(mix(_FILTER_TOKENS + ODD, max_size=4), max_size=3))
def test_filters(filters: list[str]) -> None:
    from engine import parse_filters
    from engine.filters import select_networks
    from engine.model.network import Network

    net = Network(name="bridge", id="abc", created="2024-01-01T00:00:00Z", labels={"k": "v"})
    parsed = survives(parse_filters, filters)
    if parsed is not None:
        found = survives(select_networks, [net], parsed, in_use=lambda _n: False)
        assert found is None or found in ([], [net])
    survives(cmd_build._parse_filters, filters)


_FORMAT_TOKENS = ["{{", "}}", "{{.ID}}", "{{ .Names }}", "{{json .}}", "{{json .State}}", ".", "json", "table ",
                  "\\t", "\\n", "{{.State.Pid}}", "{{.Missing.X}}", "{", "}", " "]  # fmt: skip
FORMATS = mix(_FORMAT_TOKENS, max_size=8, random_size=2)


@FUZZ
@given(FORMATS)
def test_format_templates(text: str) -> None:
    record = {"ID": "abc", "Names": "web", "State": {"Pid": 1, "Status": "up"}, "Labels": {}}
    rendered = survives(output.render_template, text, record)  # a bad template: Docker's message, status 125
    assert rendered is None or isinstance(rendered, str)
    out = io.StringIO()
    survives(output.emit, text, ["ID", "NAMES"], ["ID", "Names"], [record], out)


# The values of run's flags, and the flags themselves in every form pflag accepts.
_RUN_FLAGS = [
    "-d", "-i", "-t", "-it", "--rm", "--rm=false", "--rm=maybe", "--name", "-e", "--env", "--env-file", "-w",
    "-u", "--entrypoint", "-v", "--volume", "--tmpfs", "--read-only", "-m", "--memory", "--memory-swap",
    "--cpus", "-c", "--cpu-shares", "--pids-limit", "--restart", "--stop-signal", "--stop-timeout", "-l",
    "--label", "--network", "-p", "--publish", "-P", "--add-host", "--dns", "--cap-add", "--health-cmd",
    "--health-interval", "--health-timeout", "--health-retries", "--no-healthcheck", "--replicas", "--",
    "--log-opt", "--log-driver",
    "--bogus", "-Z", "---x", "-", "--help=false",
]  # fmt: skip
_RUN_VALUES = [
    "busybox", "sh", "1", "-1", "0", "1.5", "nan", "inf", "-inf", "1e400", "0x10", "010", "08", "1_000", " 5",
    "9" * 20, "9" * 5000, "512m", "1g", "-1", "80:80", "/a:/b:ro", "always", "on-failure:3", "KILL", "A=b", "k=v",
    "10s", "1m30s", "h:1.2.3.4", "NET_ADMIN", "\u00b2", "\u0663", "=", "", "max-size=10m", "max-file=x",
]  # fmt: skip
ARGV = st.lists(
    st.one_of(
        st.sampled_from(_RUN_FLAGS),
        st.sampled_from(_RUN_VALUES),
        st.builds("{}={}".format, st.sampled_from(_RUN_FLAGS), st.sampled_from(_RUN_VALUES)),
        st.builds(
            "{}{}".format,
            st.sampled_from(["-p", "-e", "-m", "-c", "-itp", "-dc"]),
            st.sampled_from(_RUN_VALUES),
        ),
        st.text(max_size=3),
    ),
    max_size=8,
)
_RUN_PARSER = build_parser("run")


_ENGINE = SimpleNamespace(default_network=lambda: "none")


def _run_options(a: flags.Namespace) -> None:
    """What ``run`` reads from its flags' values (cmd_containers.build_options) and what create checks of
    them before it writes anything, in memory."""
    opts = cmd_containers.build_options(a, _ENGINE)  # type: ignore[arg-type]
    for n in (opts.memory, opts.memory_swap):
        assert n is None or -1 <= n < 2**63
    if opts.name:
        survives(create.validate_name, opts.name)
    survives(create.check_stop_signal, opts.stop_signal)
    survives(create.parse_restart, opts.restart)
    for v in opts.volumes:
        survives(create.parse_volume, v)
    for t in opts.tmpfs:
        survives(create.parse_tmpfs, t)
    for p in opts.ports:
        survives(ports.parse_spec, p)
    survives(_validate_hosts_and_dns, opts)
    survives(logfile.rotation, opts.log_opts)
    survives(
        Limits(
            memory=opts.memory,
            memory_swap=opts.memory_swap,
            cpus=opts.cpus,
            cpu_shares=opts.cpu_shares,
            pids=opts.pids_limit,
        ).validate
    )
    for n in (a.cpu_shares, a.pids_limit, a.stop_timeout, a.health_retries, a.replicas):
        assert n is None or -(2**63) <= n < 2**63
    assert a.cpus is None or math.isfinite(a.cpus)


@FUZZ
@given(ARGV)
def test_run_flags(argv: list[str]) -> None:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            a = _RUN_PARSER.parse_args(["run", *argv])
        except SystemExit as exc:  # a usage error: Docker's words on standard error, status 125
            assert exc.code in (0, 125), exc.code
            assert exc.code == 0 or err.getvalue().strip()
            return
    survives(_run_options, a)


_LOG_OPT_TOKENS = ["max-size", "max-file", "compress", "=", "10m", "1k", "10MiB", "1.5g", "0", "-1", "3", "true",
                   "false", "1e400", " ", "b", "ib", "x"]  # fmt: skip


@FUZZ
@given(st.lists(mix(_LOG_OPT_TOKENS + ODD, max_size=4), max_size=3))
def test_log_options(opts: list[str]) -> None:
    rotation = survives(logfile.rotation, dict(o.partition("=")[::2] for o in opts))
    if rotation is not None:
        assert 0 <= rotation.max_size and 1 <= rotation.max_file


# --env-file: lines of KEY=VALUE, comments, names taken from the environment.
_ENV_TOKENS = ["A=b", "A", "PATH", "HOME", "=x", "#", "# c", " ", "\t", "\r", "=", "\x00", "\ufeff", "é=1"]
ENV_FILES = st.lists(mix(_ENV_TOKENS + ODD, max_size=4), max_size=6).map("\n".join)


@pytest.fixture(scope="module")
def env_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("env") / "env.list"


@FUZZ
@given(text=ENV_FILES)
def test_env_files(env_file: Path, text: str) -> None:
    env_file.write_bytes(
        text.encode("utf-8", "replace")
    )  # valid UTF-8: see test_an_env_file_that_is_not_utf8
    lines = survives(envfiles.read_env_files, [str(env_file)])
    for line in lines or []:
        assert "=" in line


# The whole command line of every command: the flags are read with pflag's rules, or refused in its words.
def _all_flags(parser: flags.Parser) -> list[str]:
    out = [name for f in parser._flags for name in f.names]
    for child in parser._commands.choices.values() if parser._commands else ():
        out += _all_flags(child)
    return out


_CLI = build_parser(None)
_COMMAND_WORDS = sorted(_CLI._commands.choices) if _CLI._commands else []
_SUBCOMMANDS = sorted(
    {
        w
        for p in (_CLI._commands.choices.values() if _CLI._commands else ())
        if p._commands
        for w in p._commands.choices
    }
)
_CLI_FLAGS = sorted(set(_all_flags(_CLI)) - {"-h", "--help"})
CLI_ARGV = st.tuples(
    st.sampled_from(_COMMAND_WORDS),
    st.lists(
        st.one_of(
            st.sampled_from(_SUBCOMMANDS),
            st.sampled_from(_CLI_FLAGS),
            st.sampled_from(_RUN_VALUES),
            st.builds("{}={}".format, st.sampled_from(_CLI_FLAGS), st.sampled_from(_RUN_VALUES)),
            st.text(max_size=3),
        ),
        max_size=6,
    ),
).map(lambda t: [t[0], *t[1]])


@FUZZ
@given(CLI_ARGV)
def test_command_lines(argv: list[str]) -> None:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            a = _CLI.parse_args(argv)
        except SystemExit as exc:  # usage error (125), unknown command (1), help (0)
            assert exc.code in (0, 1, 125), exc.code
            assert exc.code == 0 or err.getvalue().strip()
            return
    # the readers the commands apply to their flags' values before they ask the engine anything
    for name in ("since", "until"):
        value = getattr(a, name, None)
        if isinstance(value, str) and value:
            survives(units.parse_time_arg, value, 1_700_000_000.0)
    if a.command == "builder" and isinstance(getattr(a, "filter", None), list):
        survives(cmd_build._parse_filters, a.filter)
    for name in ("build_arg", "label"):
        value = getattr(a, name, None)
        if a.command == "build" and isinstance(value, list):
            survives(cmd_build._pairs, value, name, name == "build_arg")
    for tag in getattr(a, "tag", None) or [] if a.command == "build" else []:
        survives(reference.parse, tag)


# Readers the fuzzing found failing on some input with an exception that was not the engine's.
@pytest.mark.parametrize(
    "read",
    [
        pytest.param(lambda: parse_signal("\u00b2"), id="kill -s: engine/runtime/signals.py"),
        pytest.param(lambda: users._as_id("\u00b2"), id="run -u: engine/runtime/users.py"),
        pytest.param(
            lambda: cmd_inspect._detach_keys("ctrl-!"), id="attach --detach-keys: app/cli/cmd_inspect.py"
        ),
    ],
)
def test_readers_elsewhere(read: Callable[[], object]) -> None:
    survives(read)


def test_an_env_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "env.list"
    path.write_bytes(b"A=\xff\n")
    survives(envfiles.read_env_files, [str(path)])
