"""engine.lean.jsonio encodes and decodes as the json package does, without loading it."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.lean import jsonio
from tests.modules import loaded_after

_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


@given(_values)
def test_same_text_as_json(value: object) -> None:
    for sort_keys in (False, True):
        for separators in ((", ", ": "), (",", ":")):
            assert jsonio.dumps(value, sort_keys=sort_keys, separators=separators) == json.dumps(
                value, sort_keys=sort_keys, separators=separators
            )


@given(_values)
def test_round_trip_from_text_and_bytes(value: object) -> None:
    text = json.dumps(value, indent=1)
    assert jsonio.loads(text) == value
    assert jsonio.loads(f" \n{text}\n".encode()) == value


@pytest.mark.parametrize("bad", ["", "{", "[1,]", "1 2", "nul", '{"a" 1}', b"\xff"])
def test_malformed_input_is_a_value_error(bad: str | bytes) -> None:
    with pytest.raises(ValueError):
        jsonio.loads(bad)


def test_what_json_refuses_is_refused() -> None:
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(ValueError, match="Circular"):
        jsonio.dumps(loop)
    with pytest.raises(TypeError, match="not JSON serializable"):
        jsonio.dumps({"x": object()})
    # a failed encoding leaves nothing behind for the next one
    assert jsonio.dumps([[], []]) == "[[], []]"


def test_constants_as_json_reads_them() -> None:
    assert math.isnan(jsonio.loads("NaN"))
    assert jsonio.loads("[Infinity, -Infinity]") == [math.inf, -math.inf]


def test_loads_no_regular_expressions() -> None:
    loaded = loaded_after("import engine.lean.jsonio as j; j.loads(j.dumps({'a': [1]}))")
    assert "engine.lean.jsonio" in loaded
    assert not {"re", "json"} & loaded


def test_constants_can_be_refused() -> None:
    assert math.isnan(jsonio.loads("[NaN]")[0])
    for text in ("[NaN]", '{"a": Infinity}', "-Infinity"):
        with pytest.raises(ValueError):
            jsonio.loads(text, constants=False)
    assert jsonio.loads('["a", 1.5]', constants=False) == ["a", 1.5]
