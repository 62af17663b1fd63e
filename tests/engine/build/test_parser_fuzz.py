"""Random and mutated input: the parser, the expander and the ignore matcher either succeed or raise
BuildError; they never crash with another exception and never hang."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.build.dockerignore import Matcher
from engine.build.expansion import expand_instruction
from engine.build.parser import dump, parse
from engine.build.words import expand, expand_words
from engine.errors import BuildError

CASES = Path(__file__).with_name("cases")
SAMPLES = [p.read_bytes().decode("utf-8") for p in sorted(CASES.glob("*/Dockerfile"))]

FAST = settings(max_examples=250, deadline=2000, database=None, suppress_health_check=[HealthCheck.too_slow])

# Characters that matter to the grammar, plus some ordinary and unusual ones.
SPECIAL = list("\\`'\"$#{}[]:-+?%/=<>!*\t \n\r,") + ["<<", "<<-", "EOF", "\\\n", "${", "--"]
KEYWORDS = [
    "FROM ",
    "RUN ",
    "COPY ",
    "ADD ",
    "ENV ",
    "ARG ",
    "LABEL ",
    "ONBUILD ",
    "HEALTHCHECK ",
    "CMD ",
    "SHELL ",
]
TOKENS = st.one_of(
    st.sampled_from(SPECIAL + KEYWORDS),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=3),
)
TEXT = st.lists(TOKENS, max_size=60).map("".join)


def _check_parse(text: str) -> None:
    for strict in (True, False):
        try:
            df = parse(text, strict=strict)
        except BuildError:
            continue
        out = dump(df)
        assert out.endswith("\n")
        for instr in df.instructions:
            assert 1 <= instr.start_line <= instr.end_line
            try:
                expand_instruction(instr, {"A": "x", "B": ""}, df.escape)
            except BuildError:
                pass


def _check_sources_reparse(text: str) -> None:
    """Re-parsing the instructions' own source lines gives the same instructions."""
    try:
        df = parse(text, strict=False)
    except BuildError:
        return
    sources = "".join(i.source if i.source.endswith("\n") else i.source + "\n" for i in df.instructions)
    if sources.startswith("\ufeff"):
        return  # a byte-order mark is only dropped at the very start of a file
    prefix = "# escape=`\n" if df.escape == "`" else ""
    assert dump(parse(prefix + sources, strict=False)) == dump(df)


@FAST
@given(TEXT)
def test_random_text(text: str) -> None:
    _check_parse(text)
    _check_sources_reparse(text)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(SAMPLES))
    for _ in range(draw(st.integers(1, 6))):
        if not text:
            break
        pos = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "replace", "dup-line", "drop-line", "swap"]))
        if action == "insert":
            text = text[:pos] + draw(TOKENS) + text[pos:]
        elif action == "delete":
            end = min(len(text), pos + draw(st.integers(1, 5)))
            text = text[:pos] + text[end:]
        elif action == "replace" and pos < len(text):
            text = text[:pos] + draw(TOKENS) + text[pos + 1 :]
        else:
            lines = text.split("\n")
            i = draw(st.integers(0, len(lines) - 1))
            j = draw(st.integers(0, len(lines) - 1))
            if action == "dup-line":
                lines.insert(i, lines[j])
            elif action == "drop-line":
                del lines[i]
            else:
                lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
    return text


@FAST
@given(mutated())
def test_mutated_dockerfiles(text: str) -> None:
    _check_parse(text)
    _check_sources_reparse(text)


WORD = st.lists(
    st.one_of(
        st.sampled_from(
            list("$\\'\"{}:-+?#%/*` ") + ["${A", "${B", "${C", "$A", "${A:-", "${A/", "${A//", "}"]
        ),
        st.text(max_size=2),
    ),
    max_size=30,
).map("".join)


@FAST
@given(WORD, st.sampled_from(["\\", "`"]))
def test_random_words(word: str, escape: str) -> None:
    env = {"A": "a*b/c", "B": "", "LONG": "x" * 50}
    for fn in (expand, expand_words):
        try:
            fn(word, env, escape)
        except BuildError:
            pass


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    deep = "${A:-" * 5000 + "x" + "}" * 5000
    try:
        assert expand(deep, {}) == "x"
    except BuildError as exc:
        assert "nested too deeply" in str(exc)
    with pytest.raises(BuildError):  # the line cannot be lexed, so "body" is read as an instruction
        parse(f"FROM a\nRUN <<EOF {deep}\nbody\nEOF\n")
    assert dump(parse("FROM a\nCMD " + "[" * 100000 + "\n")).endswith('(cmd "' + "[" * 100000 + '")\n')


def test_nested_onbuild_is_bounded() -> None:
    assert (
        dump(parse("ONBUILD " * 3 + "RUN x\n", strict=False)) == '(onbuild (onbuild (onbuild (run "x"))))\n'
    )
    with pytest.raises(BuildError, match="Dockerfile:2: ONBUILD nested too deeply"):
        parse("FROM a\n" + "ONBUILD " * 5000 + "RUN x\n", strict=False)


def test_patterns_do_not_backtrack_catastrophically() -> None:
    value = "a" * 2000
    env = {"V": value}
    assert expand("${V#" + "*a" * 30 + "b}", env) == value
    assert expand("${V//" + "*a" * 30 + "b/x}", {"V": "a" * 200}) == "a" * 200


PATTERN = st.lists(st.sampled_from(list("ab/*?![]^\\.-# \n") + ["**", "**/", "../", "./"]), max_size=25).map(
    "".join
)
PATH = st.lists(st.sampled_from(["a", "b", "/", ".", "..", "*", "ab"]), max_size=10).map("".join)


@FAST
@given(PATTERN, st.lists(PATH, max_size=5))
def test_random_ignore_patterns(text: str, paths: list[str]) -> None:
    try:
        matcher = Matcher.from_text(text)
    except BuildError:
        return
    for path in paths:
        assert isinstance(matcher.ignored(path), bool)
        assert isinstance(matcher.may_contain_exceptions(path), bool)
