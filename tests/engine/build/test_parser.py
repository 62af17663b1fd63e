"""Dockerfile parser: the case folders in cases/ (Dockerfile + expected dump) and inline checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.build.parser import (
    DockerfileError,
    Heredoc,
    dump,
    healthcheck_config,
    heredoc_marker,
    parse,
    parse_duration,
    parse_file,
)
from engine.errors import BuildError

CASES = Path(__file__).with_name("cases")
CASE_NAMES = sorted(p.name for p in CASES.iterdir() if (p / "Dockerfile").is_file())


def test_there_are_enough_cases() -> None:
    assert len(CASE_NAMES) >= 25


@pytest.mark.parametrize("name", CASE_NAMES)
def test_case(name: str) -> None:
    text = (CASES / name / "Dockerfile").read_bytes().decode("utf-8")
    expected = (CASES / name / "result").read_bytes().decode("utf-8")
    assert dump(parse(text)) == expected


# -- the dump format ------------------------------------------------------------------------------------


def test_dump_format_matches_buildkit() -> None:
    text = (
        "FROM debian\n"
        "ADD check.sh main.sh /app/\n"
        "HEALTHCHECK\n"
        "HEALTHCHECK --interval=5s --timeout=3s CMD /app/check.sh --quiet\n"
        "HEALTHCHECK CMD\n"
        "HEALTHCHECK CONNECT TCP 7000\n"
        "ONBUILD COPY --from=x a b\n"
        "BAR baz\n"
    )
    assert dump(parse(text, strict=False)) == (
        '(from "debian")\n'
        '(add "check.sh" "main.sh" "/app/")\n'
        "(healthcheck)\n"
        '(healthcheck ["--interval=5s" "--timeout=3s"] "CMD" "/app/check.sh --quiet")\n'
        '(healthcheck "CMD")\n'
        '(healthcheck "CONNECT" "TCP 7000")\n'
        '(onbuild (copy ["--from=x"] "a" "b"))\n'
        '(bar "")\n'
    )


def test_dump_quotes_like_go() -> None:
    df = parse('FROM a\nRUN echo "x"\tand \\\\ é \x01\n')
    assert dump(df).splitlines()[1] == '(run "echo \\"x\\"\\tand \\\\\\\\ é \\x01")'


# -- structure and API --------------------------------------------------------------------------------------


def test_instruction_fields_and_lines() -> None:
    text = "# syntax=docker/dockerfile:1\n\nFROM alpine AS base\nRUN echo a \\\n  # comment\n  b\nCOPY <<EOF /x\nhi\nEOF\n"
    df = parse(text, "app.Dockerfile")
    assert df.directives == {"syntax": "docker/dockerfile:1"}
    assert df.syntax == "docker/dockerfile:1"
    assert df.escape == "\\"
    frm, run, copy = df.instructions
    assert (frm.keyword, frm.args, frm.start_line, frm.end_line) == ("FROM", ["alpine", "AS", "base"], 3, 3)
    assert (run.start_line, run.end_line) == (4, 6)
    assert run.original == "RUN echo a   b"
    assert run.source == "RUN echo a \\\n  # comment\n  b\n"
    assert run.args == ["echo a   b"] and not run.json
    assert (copy.start_line, copy.end_line) == (7, 9)
    assert copy.heredocs == [Heredoc(name="EOF", content="hi\n")]
    assert copy.location == "app.Dockerfile:7"


def test_stages_and_meta_args() -> None:
    df = parse("ARG V=1\nARG W\nFROM --platform=linux/arm64 img:$V AS One\nRUN a\nFROM one\nRUN b\nRUN c\n")
    assert [i.args for i in df.meta_args()] == [["V=1"], ["W"]]
    stages = df.stages()
    assert [(s.index, s.name, s.base, s.platform) for s in stages] == [
        (0, "one", "img:$V", "linux/arm64"),
        (1, None, "one", None),
    ]
    assert [[i.args[0] for i in s.instructions] for s in stages] == [["a"], ["b", "c"]]


def test_helpers_for_the_builder() -> None:
    df = parse(
        "FROM a\nENV x=1 y=2\nARG p q=3\nCOPY --link --chown=1:2 --exclude=a --exclude=b s d\n"
        "ONBUILD RUN <<EOF\necho hi\nEOF\nENV legacy value here\n"
    )
    env, arg, copy, onbuild, legacy = df.instructions[1:]
    assert env.pairs() == [("x", "1"), ("y", "2")] and not env.legacy_form
    assert legacy.pairs() == [("legacy", "value here")] and legacy.legacy_form
    assert arg.arg_pairs() == [("p", None), ("q", "3")]
    assert copy.flag("chown") == "1:2" and copy.flag("from") is None
    assert copy.flag_values("exclude") == ["a", "b"]
    assert copy.bool_flag("link") and not copy.bool_flag("parents")
    assert onbuild.sub is not None and onbuild.sub.keyword == "RUN"
    assert onbuild.args == ["RUN", "<<EOF"]
    assert onbuild.onbuild_expression == "RUN <<EOF\necho hi\nEOF"


def test_escape_directive_changes_continuation_and_words() -> None:
    df = parse('# escape=`\nFROM a\nRUN echo \\\nENV A=x`"y B=\\z\nRUN one `\n two\n')
    assert df.escape == "`"
    assert [i.args for i in df.instructions[1:]] == [["echo \\"], ["A", 'x`"y', "B", "\\z"], ["one  two"]]


def test_directives_only_at_the_top() -> None:
    assert parse("FROM a\n# escape=`\nRUN x \\\n y\n").directives == {}
    assert parse("#!/bin/sh hashbang is a comment\n# escape=`\nFROM a\n").directives == {}
    assert parse("# ESCAPE = `\n# Syntax = x\nFROM a\n").directives == {"escape": "`", "syntax": "x"}
    assert parse("\ufeff# check=skip=all\nFROM a\n").directives == {"check": "skip=all"}
    assert parse("# unknown=1\n# escape=`\nFROM a\n").directives == {}


def test_crlf_and_bom() -> None:
    df = parse("\ufeffFROM a\r\nRUN b \\\r\n  c\r\n")
    assert [i.args for i in df.instructions] == [["a"], ["b   c"]]


def test_heredoc_markers() -> None:
    assert heredoc_marker("<<EOF") == Heredoc("EOF", "", expand=True)
    assert heredoc_marker("<<-'EOF'") == Heredoc("EOF", "", expand=False, chomp_tabs=True)
    assert heredoc_marker('<<EO"F"') == Heredoc("EOF", "", expand=False)
    assert heredoc_marker("<< EOF") == Heredoc("EOF", "")
    assert heredoc_marker("2<<X") == Heredoc("X", "", fd=2)
    for word in ("EOF", "<<", "<<-", "<EOF", "<<<EOF", "<<EOF sh", "<<'EOF", ""):
        assert heredoc_marker(word) is None, word


def test_heredoc_terminator_with_quotes_and_escapes() -> None:
    df = parse("FROM a\nRUN <<eo\\'f\nbody\neo'f\nRUN <<'one two'\nx\none two\nRUN <<$EOF\n$EOF\n")
    assert [(h.name, h.expand, h.content) for i in df.instructions[1:] for h in i.heredocs] == [
        ("eo'f", True, "body\n"),
        ("one two", False, "x\n"),
        ("$EOF", True, ""),
    ]


def test_heredoc_not_in_other_instructions() -> None:
    df = parse("FROM a\nUSER <<EOF\nWORKDIR /x\n")
    assert [i.keyword for i in df.instructions] == ["FROM", "USER", "WORKDIR"]
    assert df.instructions[1].heredocs == []


def test_healthcheck_config() -> None:
    df = parse(
        "FROM a\nHEALTHCHECK NONE\nHEALTHCHECK --interval=1m30s --timeout=500ms --retries=2 CMD curl x\n"
        'HEALTHCHECK --start-period=0s --start-interval=2s CMD ["/check"]\n'
    )
    none, shell, exec_ = (healthcheck_config(i) for i in df.instructions[1:])
    assert none.test == ["NONE"]
    assert shell.test == ["CMD-SHELL", "curl x"]
    assert (shell.interval, shell.timeout, shell.retries) == (90_000_000_000, 500_000_000, 2)
    assert (
        exec_.test == ["CMD", "/check"] and exec_.start_interval == 2_000_000_000 and exec_.start_period == 0
    )


def test_parse_duration() -> None:
    assert parse_duration("1h2m3.5s") == 3723_500_000_000
    assert parse_duration("250ms") == 250_000_000
    assert parse_duration("1.5us") == 1500
    assert parse_duration("0") == 0
    assert parse_duration("-2s") == -2_000_000_000
    for bad in ("", "5", "5x", "s", ".s", "1..2s", "--1s"):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_parse_file(tmp_path: Path) -> None:
    path = tmp_path / "Containerfile"
    path.write_bytes(b"FROM a\nRUN echo \xff\n")
    df = parse_file(path)
    assert df.filename == "Containerfile"
    assert df.instructions[1].args == ["echo \ufffd"]
    with pytest.raises(BuildError, match="failed to read"):
        parse_file(tmp_path / "missing")


# -- errors -------------------------------------------------------------------------------------------------

ERRORS = [
    ("FROM a\nRUN x\n\n\n\n\nFOOBAR baz\n", "Dockerfile:7: unknown instruction: FOOBAR"),
    ("FROM a\nRUNN x\n", "Dockerfile:2: unknown instruction: RUNN (did you mean RUN?)"),
    ("FROM a\nENV foo\n", "Dockerfile:2: ENV must have two arguments"),
    ("FROM a\nENV\n", "Dockerfile:2: ENV requires at least one argument"),
    (
        "FROM a\nENV a=b c\n",
        'Dockerfile:2: Syntax error - can\'t find = in "c". Must be of the form: name=value',
    ),
    ("FROM a\nENV =x\n", "Dockerfile:2: ENV names can not be blank"),
    ("FROM a\nLABEL\n", "Dockerfile:2: LABEL requires at least one argument"),
    (
        "FROM x AS Bad!\n",
        'Dockerfile:1: invalid name for build stage: "Bad!", name can\'t start with a number',
    ),
    ("FROM x AS 1st\n", "Dockerfile:1: invalid name for build stage"),
    ("FROM x y\n", "Dockerfile:1: FROM requires either one or three arguments"),
    ("FROM\n", "Dockerfile:1: FROM requires either one or three arguments"),
    ("FROM a AS b\nFROM c AS B\n", 'Dockerfile:2: duplicate stage name "b"'),
    ("FROM a\nRUN <<EOF\necho\n", "Dockerfile:2: unterminated heredoc"),
    ("FROM a\nRUN <<A <<B\na\nA\nb\n", "Dockerfile:2: unterminated heredoc"),
    ("FROM a\nSHELL /bin/sh -c\n", "Dockerfile:2: SHELL requires the arguments to be in JSON form"),
    ("FROM a\nSHELL []\n", "Dockerfile:2: SHELL requires at least one argument"),
    ("RUN echo\nFROM a\n", "Dockerfile:1: no build stage in current context"),
    ("ARG A\n# only args\nARG B\n", "Dockerfile: dockerfile contains no stages to build"),
    ("", "Dockerfile: file with no instructions"),
    ("# just a comment\n\n", "Dockerfile: file with no instructions"),
    (
        "FROM a\nCMD [1, 2]\n",
        "Dockerfile:2: when using JSON array syntax, arrays must be comprised of strings only",
    ),
    ('FROM a\nCOPY ["a", null]\n', "Dockerfile:2: when using JSON array syntax"),
    ("FROM a\nCOPY onlyone\n", "Dockerfile:2: COPY requires at least two arguments"),
    ("FROM a\nADD\n", "Dockerfile:2: ADD requires at least two arguments"),
    ("FROM a\nCOPY x <<EOF\nEOF\n", "Dockerfile:2: COPY cannot accept a heredoc as a destination"),
    ("FROM a\nCOPY --form=x a b\n", "Dockerfile:2: unknown flag: form (did you mean from?)"),
    ("FROM a\nCOPY --from a b\n", "Dockerfile:2: missing a value on flag: from"),
    ("FROM a\nCOPY --from=a --from=b c d\n", "Dockerfile:2: duplicate flag specified: from"),
    ("FROM a\nCOPY --link=maybe a b\n", "Dockerfile:2: expecting boolean value for flag link, not: maybe"),
    ("FROM a\nWORKDIR --x=1 /a\n", "Dockerfile:2: unknown flag: x"),
    ("FROM a\nMAINTAINER\n", "Dockerfile:2: MAINTAINER requires exactly one argument"),
    ("FROM a\nUSER\n", "Dockerfile:2: USER requires exactly one argument"),
    ("FROM a\nEXPOSE\n", "Dockerfile:2: EXPOSE requires at least one argument"),
    ("FROM a\nVOLUME []\n", "Dockerfile:2: VOLUME requires at least one argument"),
    ('FROM a\nVOLUME ["/a", " "]\n', "Dockerfile:2: VOLUME specified can not be an empty string"),
    ("FROM a\nARG\n", "Dockerfile:2: ARG requires at least one argument"),
    ("FROM a\nARG =x\n", "Dockerfile:2: ARG names can not be blank"),
    ("FROM a\nRUN\n", "Dockerfile:2: RUN requires at least one argument"),
    ("FROM a\nRUN []\n", "Dockerfile:2: RUN requires at least one argument"),
    ("FROM a\nONBUILD\n", "Dockerfile:2: ONBUILD requires at least one argument"),
    ("FROM a\nONBUILD ONBUILD RUN x\n", "Dockerfile:2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"),
    ("FROM a\nONBUILD FROM b\n", "Dockerfile:2: FROM isn't allowed as an ONBUILD trigger"),
    ("FROM a\nONBUILD MAINTAINER me\n", "Dockerfile:2: MAINTAINER isn't allowed as an ONBUILD trigger"),
    ("FROM a\nONBUILD BOGUS x\n", "Dockerfile:2: unknown instruction: BOGUS"),
    ("FROM a\nHEALTHCHECK\n", "Dockerfile:2: HEALTHCHECK requires at least one argument"),
    ("FROM a\nHEALTHCHECK CMD\n", "Dockerfile:2: Missing command after HEALTHCHECK CMD"),
    ("FROM a\nHEALTHCHECK NONE x\n", "Dockerfile:2: HEALTHCHECK NONE takes no arguments"),
    (
        "FROM a\nHEALTHCHECK CONNECT TCP 7000\n",
        'Dockerfile:2: Unknown type "CONNECT" in HEALTHCHECK (try CMD)',
    ),
    ("FROM a\nHEALTHCHECK --interval=5x CMD a\n", 'Dockerfile:2: time: unknown unit "x" in duration "5x"'),
    (
        "FROM a\nHEALTHCHECK --timeout=10us CMD a\n",
        'Dockerfile:2: Interval "timeout" cannot be less than 1ms',
    ),
    ("FROM a\nHEALTHCHECK --retries=-1 CMD a\n", "Dockerfile:2: --retries cannot be negative (-1)"),
    ("FROM a\nHEALTHCHECK --retries=x CMD a\n", "Dockerfile:2: strconv.ParseInt"),
    ("FROM a\nHEALTHCHECK --foo=1 CMD a\n", "Dockerfile:2: unknown flag: foo"),
    ("# escape=x\nFROM a\n", "Dockerfile:1: invalid escape token 'x' does not match ` or \\"),
    ("# escape=`\n# escape=\\\nFROM a\n", "Dockerfile:2: only one escape parser directive can be used"),
    # an unbalanced quote makes "<<EOF'" no here-document at all, so the next line is an instruction
    ("FROM a\nRUN <<EOF'\nEOF'\n", "Dockerfile:3: unknown instruction: EOF'"),
]


@pytest.mark.parametrize(("text", "message"), ERRORS)
def test_errors(text: str, message: str) -> None:
    with pytest.raises(DockerfileError) as info:
        parse(text)
    assert str(info.value).startswith(message), str(info.value)
    assert isinstance(info.value, BuildError)


def test_error_attributes() -> None:
    with pytest.raises(DockerfileError) as info:
        parse("FROM a\n\nBOGUS\n", "sub/Dockerfile.dev")
    err = info.value
    assert (err.filename, err.line, err.reason) == ("sub/Dockerfile.dev", 3, "unknown instruction: BOGUS")
    assert err.exit_code == 125


def test_non_strict_keeps_unknown_instructions() -> None:
    df = parse("bogus one two\nRUN\n", strict=False)
    assert [(i.keyword, i.known, i.args) for i in df.instructions] == [
        ("BOGUS", False, []),
        ("RUN", True, []),
    ]
    with pytest.raises(DockerfileError, match="unterminated heredoc"):
        parse("RUN <<EOF\n", strict=False)


def test_lone_continuation_at_eof_is_nothing() -> None:
    df = parse("FROM a\n\\\n")
    assert [i.keyword for i in df.instructions] == ["FROM"]
    df = parse("FROM a\nRUN echo x \\\n\n   \n")
    assert df.instructions[1].args == ["echo x"]
    assert df.warnings == ["Dockerfile:2: empty continuation line found in: RUN echo x "]
