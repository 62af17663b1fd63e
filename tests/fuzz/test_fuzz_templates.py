"""The --format template engine fed generated templates and data: compiling and executing either give text
or raise TemplateError (with Go's message), never another exception.

Templates are built from Go's template tokens (actions, keywords, functions, literals, trim markers,
variables) mixed with arbitrary text; data from JSON-like values with the odd callable. The number of
examples comes from the profile (tests/fuzz/conftest.py). Everything runs in memory.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.cli.gotemplate import TemplateError, compile
from tests.fuzz.conftest import fuzz_settings

FUZZ = settings(fuzz_settings, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

_TOKENS = [
    "{{", "}}", "{{- ", " -}}", "{{/*", "*/}}", "{{end}}", "{{else}}", "{{if ", "{{range ", "{{with ",
    "{{define \"a\"}}", "{{template \"a\" .}}", "{{block \"b\" .}}", "{{break}}", "{{continue}}",
    ".", ".A", ".B.C", ".L", ".M", ".F", "$", "$x", "$x := ", "$x = ", "$i, $e := ", " | ", "(", ")", " ",
    "\"s\"", "`r`", "'c'", "1", "-2", "0x1F", "1.5e3", "08", "1e", "true", "false", "nil", ",", "=", ":=",
    "and", "or", "not", "len", "index", "slice", "print", "printf", "println", "eq", "ne", "lt", "le",
    "gt", "ge", "call", "html", "js", "urlquery", "json", "join", "split", "title", "lower", "upper",
    "pad", "truncate", "\"%v %d %s %q %x %5.2f %-3s %*d %[2]s %!\"", "\n", "\t", "\\", "é", "\ud800",
]  # fmt: skip

TEMPLATES = st.lists(
    st.one_of(st.sampled_from(_TOKENS), st.sampled_from(_TOKENS), st.text(max_size=3)), max_size=14
).map("".join)

_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-1000, max_value=1000),  # a range over a huge number runs for ever, as in Go
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
    st.just({"k": "v"}.get),
)
DATA = st.recursive(
    _LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["A", "B", "C", "L", "M", "F", "k"]), inner, max_size=4),
    ),
    max_leaves=12,
)


def _runs(text: str, data: Any) -> None:
    try:
        t = compile(text)
    except TemplateError as e:
        assert str(e).startswith("template: "), str(e)
        return
    for header in (False, True):
        try:
            out = t.execute(data, header=header)
        except TemplateError as e:
            assert str(e).startswith("template: "), str(e)
        else:
            assert isinstance(out, str)


@FUZZ
@given(TEMPLATES, DATA)
def test_templates_give_text_or_a_template_error(text: str, data: Any) -> None:
    _runs(text, data)


@FUZZ
@given(st.text(max_size=40), DATA)
def test_arbitrary_text_gives_text_or_a_template_error(text: str, data: Any) -> None:
    _runs(text, data)
