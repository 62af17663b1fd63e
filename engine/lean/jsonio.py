"""JSON for the start-up path: the C codec of the standard library, without the ``json`` package.

``import json`` loads ``re`` and through it ``enum``, ``functools`` and ``collections``: ~8 ms of every CLI
call, more than a whole ``stop``. The codec itself is the C module ``_json``, which costs nothing to load;
``loads`` and ``dumps`` here drive it the way ``json`` does for its defaults (UTF-8 text, ASCII-escaped output,
no NaN surprises hidden). Pretty-printed output (``indent``) is for people, not for state files: use ``json``
there.
"""

from __future__ import annotations

import _json

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_WHITESPACE = " \t\n\r"


class _Context:
    """The settings the C scanner reads from its context object (``json.JSONDecoder``'s defaults)."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    memo: dict[str, str] = {}

    @staticmethod
    def parse_constant(name: str) -> float:
        return {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}[name]


class _NoConstants(_Context):
    """As ``_Context``, but NaN, Infinity and -Infinity are not JSON (as Go's decoder has it)."""

    @staticmethod
    def parse_constant(name: str) -> float:
        raise ValueError(f"{name} is not a JSON value")


_scan = _json.make_scanner(_Context())  # type: ignore[arg-type]  # any object with these attributes
_scan_strict = _json.make_scanner(_NoConstants())  # type: ignore[arg-type]


def loads(text: str | bytes, constants: bool = True) -> Any:
    """Decode one JSON document; ``ValueError`` (``json.JSONDecodeError`` is one) when it is not one.
    ``constants=False`` refuses NaN, Infinity and -Infinity, which JSON itself does not have."""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8-sig" if text[:3] == b"\xef\xbb\xbf" else "utf-8")
    start = 0
    end = len(text)
    while start < end and text[start] in _WHITESPACE:
        start += 1
    try:
        value, pos = (_scan if constants else _scan_strict)(text, start)
    except StopIteration as e:
        raise ValueError(f"Expecting value: char {e.value}") from None
    except RecursionError:
        raise ValueError("nested too deeply") from None
    except SystemError:
        # The C scanner builds its error from json.decoder, which it cannot do before ``json`` is loaded: on
        # this (rare) path load it and decode again for the exact message.
        import json

        try:
            json.loads(text, parse_constant=None if constants else _NoConstants.parse_constant)
        except RecursionError:
            raise ValueError("nested too deeply") from None
        raise ValueError("malformed JSON") from None  # pragma: no cover (json refuses what _json refuses)
    while pos < end and text[pos] in _WHITESPACE:
        pos += 1
    if pos != end:
        raise ValueError(f"Extra data: char {pos}")
    return value


def _unserialisable(o: object) -> Any:
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


def dumps(obj: Any, sort_keys: bool = False, separators: tuple[str, str] = (", ", ": ")) -> str:
    """Encode ``obj`` as ``json.dumps(obj, sort_keys=..., separators=...)`` does (no indentation)."""
    encode = _json.make_encoder(
        {},  # markers: refuses circular structures, as json does
        _unserialisable,
        _json.encode_basestring_ascii,
        None,
        separators[1],
        separators[0],
        sort_keys,
        False,  # skipkeys
        True,  # allow_nan
    )
    return "".join(encode(obj, 0))
