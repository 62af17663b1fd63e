"""Word expansion: the table in words_table.txt plus the instruction-level rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.build.expansion import expand_instruction
from engine.build.parser import parse
from engine.build.words import expand, expand_heredoc, expand_words, go_quote, process
from engine.errors import BuildError

TABLE = Path(__file__).with_name("words_table.txt")
ENV = {
    "PWD": "/home",
    "SHELL": "bash",
    "KOREAN": "한국어",
    "EMPTY": "",
    "FILE": "archive.tar.gz",
    "DIR": "/usr/local/bin",
    "STAR": "a*b",
    "SPACED": "a  b",
}


def _table_rows() -> list[tuple[int, str, str]]:
    rows = []
    for number, line in enumerate(TABLE.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("#") or not line.strip():
            continue
        fields = line.split("|")
        assert len(fields) == 3, f"{TABLE.name}:{number}: expected PLATFORM|input|expected"
        platform, source, expected = (f.strip() for f in fields)
        assert platform in ("A", "U", "W"), f"{TABLE.name}:{number}: bad platform {platform!r}"
        if platform != "W":
            rows.append((number, source, expected))
    return rows


ROWS = _table_rows()


def test_table_is_substantial() -> None:
    assert len(ROWS) >= 80


@pytest.mark.parametrize(("number", "source", "expected"), ROWS, ids=[f"line{r[0]}" for r in ROWS])
def test_table(number: int, source: str, expected: str) -> None:
    if expected == "error":
        with pytest.raises(BuildError):
            expand(source, ENV)
    else:
        assert expand(source, ENV) == expected, f"{TABLE.name}:{number}: {source}"


def test_error_messages_use_docker_wording() -> None:
    with pytest.raises(
        BuildError, match=r'failed to process "\$\{NAME:\?set NAME first\}": NAME: set NAME first'
    ):
        expand("${NAME:?set NAME first}", ENV)
    with pytest.raises(BuildError, match="NAME: is not allowed to be unset"):
        expand("${NAME?}", ENV)
    with pytest.raises(BuildError, match="EMPTY: is not allowed to be empty"):
        expand("${EMPTY:?}", ENV)
    with pytest.raises(BuildError, match="bad substitution"):
        expand("${}", ENV)
    with pytest.raises(BuildError, match="missing '}'"):
        expand("${PWD", ENV)
    with pytest.raises(BuildError, match="matching single-quote"):
        expand("'abc", ENV)
    with pytest.raises(BuildError, match=r"unsupported modifier \(:=\)"):
        expand("${A:=b}", ENV)


def test_expand_words_splits_outside_quotes() -> None:
    assert expand_words("80 443/tcp", ENV) == ["80", "443/tcp"]
    assert expand_words("a \"b c\" 'd e' f\\ g", ENV) == ["a", "b c", "d e", "f g"]
    assert expand_words("$SPACED x", ENV) == ["a", "b", "x"]
    assert expand_words('"$SPACED" x', ENV) == ["a  b", "x"]
    assert expand_words("${UNSET:-one two}", ENV) == ["one", "two"]
    assert expand_words("  ", ENV) == []
    assert expand_words('"" x', ENV) == ["x"]


def test_backtick_escape() -> None:
    assert expand("c:`\\windows", {}, "`") == "c:\\windows"
    assert expand("a`$PWD", ENV, "`") == "a$PWD"
    assert expand('"a`"b"', ENV, "`") == 'a"b'
    assert expand("a\\b", ENV, "`") == "a\\b"


def test_unicode_names_and_digits() -> None:
    assert expand("$héllo-x", {"héllo": "1"}) == "1-x"
    assert expand("$12x", {"12": "twelve"}) == "twelvex"


def test_raw_modes_used_by_the_parser() -> None:
    word, words = process(
        "<< EOF 'q' \\x $U", {}, raw_quotes=True, raw_escapes=True, skip_unset=True, heredoc_words=True
    )
    assert words == ["<< EOF", "'q'", "\\x", "$U"]
    assert word == "<< EOF 'q' \\x $U"
    assert process("${U:-x}", {}, skip_unset=True)[0] == "${U:-x}"


def test_heredoc_body_keeps_quotes() -> None:
    assert expand_heredoc("echo \"$SHELL\" '$PWD'\n", ENV) == "echo \"bash\" '/home'\n"
    assert expand_heredoc("it's ${UNSET:-fine}\n", ENV) == "it's fine\n"


def test_go_quote() -> None:
    assert go_quote('a"b\\c') == '"a\\"b\\\\c"'
    assert go_quote("\t\n\x01\x7f") == '"\\t\\n\\x01\\x7f"'
    assert go_quote("é한\u200b") == '"é한\\u200b"'
    assert go_quote("\U0001f600") == '"\U0001f600"'


# -- expand_instruction ------------------------------------------------------------------------------------


def _instr(text: str, index: int = 1):
    return parse(f"FROM scratch\n{text}\n").instructions[index]


def test_env_pairs_see_the_old_values() -> None:
    instr = _instr("ENV a=bye b=$a c=${a}-x")
    out = expand_instruction(instr, {"a": "hi"})
    assert out.pairs() == [("a", "bye"), ("b", "hi"), ("c", "hi-x")]
    assert instr.args == ["a", "bye", "b", "$a", "c", "${a}-x"], "the original is not modified"


def test_env_quotes_are_removed_by_expansion() -> None:
    out = expand_instruction(_instr("ENV msg=\"hello world\" other='$HOME' legacy=a\\ b"), {"HOME": "/root"})
    assert out.pairs() == [("msg", "hello world"), ("other", "$HOME"), ("legacy", "a b")]
    out = expand_instruction(_instr('ENV PATH /usr/bin:$PATH "x"'), {"PATH": "/bin"})
    assert out.pairs() == [("PATH", "/usr/bin:/bin x")]


def test_label_and_arg() -> None:
    out = expand_instruction(_instr('LABEL "com.example.$K"="v $K" x=1'), {"K": "k"})
    assert out.pairs() == [("com.example.k", "v k"), ("x", "1")]
    out = expand_instruction(_instr('ARG A B=$V C="x y" D='), {"V": "v"})
    assert out.arg_pairs() == [("A", None), ("B", "v"), ("C", "x y"), ("D", "")]


def test_shell_instructions_are_not_expanded() -> None:
    for text in (
        'RUN echo "$HOME"',
        'CMD ["$HOME"]',
        "ENTRYPOINT echo $HOME",
        'SHELL ["/bin/$X"]',
        "ONBUILD COPY $X /y",
    ):
        instr = _instr(text)
        assert expand_instruction(instr, {"HOME": "/root", "X": "x"}) is instr


def test_copy_expansion() -> None:
    env = {"SRC": "app", "DEST": "/opt", "U": "1000", "STAGE": "builder"}
    out = expand_instruction(_instr("COPY --from=$STAGE --chown=$U:$U --link ${SRC}/a.txt $DEST/"), env)
    assert out.args == ["app/a.txt", "/opt/"]
    assert out.flags == ["--from=builder", "--chown=1000:1000", "--link"]
    out = expand_instruction(_instr('COPY ["$SRC", "/x y/"]'), env)
    assert out.args == ["app", "/x y/"]


def test_copy_heredoc_bodies() -> None:
    df = parse("FROM scratch\nCOPY <<A <<'B' /dst/\n$X \"q\"\nA\n$X\nB\n")
    out = expand_instruction(df.instructions[1], {"X": "val"})
    assert out.args == ["<<A", "<<'B'", "/dst/"]
    assert [(h.name, h.content) for h in out.heredocs] == [("A", 'val "q"\n'), ("B", "$X\n")]


def test_run_heredoc_is_left_to_the_shell() -> None:
    instr = parse("FROM scratch\nRUN <<EOF\necho $X\nEOF\n").instructions[1]
    assert expand_instruction(instr, {"X": "1"}).heredocs[0].content == "echo $X\n"


def test_expose_volume_workdir_user_stopsignal_from() -> None:
    env = {
        "P": "80 443",
        "V": "/data",
        "W": "/srv/app",
        "U": "app",
        "S": "SIGTERM",
        "TAG": "3.19",
        "PLAT": "linux/amd64",
    }
    assert expand_instruction(_instr("EXPOSE $P 8080/udp"), env).args == ["80", "443", "8080/udp"]
    assert expand_instruction(_instr('VOLUME ["$V", "/b"]'), env).args == ["/data", "/b"]
    assert expand_instruction(_instr("WORKDIR $W/sub"), env).args == ["/srv/app/sub"]
    assert expand_instruction(_instr("USER ${U}:${U}"), env).args == ["app:app"]
    assert expand_instruction(_instr("STOPSIGNAL $S"), env).args == ["SIGTERM"]
    out = expand_instruction(
        parse("ARG TAG\nFROM --platform=$PLAT alpine:$TAG AS base\n").instructions[1], env
    )
    assert out.args == ["alpine:3.19", "AS", "base"]
    assert out.flags == ["--platform=linux/amd64"]


def test_expansion_errors_name_the_line() -> None:
    instr = parse("FROM scratch\n\nWORKDIR ${DIR:?set DIR}\n").instructions[1]
    with pytest.raises(BuildError, match=r"^Dockerfile:3: failed to process .*DIR: set DIR"):
        expand_instruction(instr, {})
    with pytest.raises(BuildError, match="VOLUME specified can not be an empty string"):
        expand_instruction(_instr("VOLUME $NOTHING"), {})
